"""The surfaces of releases and changes on the pages, over real HTTP on the bundled sample: a
mapping set's page lists the mappings to re-check (#19, item 5), as many as the domain counts."""

from __future__ import annotations

import re

import requests

from kll_graph.changes import recheck
from kll_graph.mappings.sets import mapping_sets
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer

OLDER = "http://data.jobtechdev.se/taxonomy/concept/6TQs_8i6_per"


def test_a_mapping_set_page_lists_its_mappings_to_recheck(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    response = requests.get(
        f"{sample_server.url}/mappings/se-occupations-esco", params={"lang": "en"}, timeout=30
    )
    assert response.status_code == 200
    heading = re.search(r'<h2 id="h-recheck">To re-check \((\d+)\)</h2>', response.text)
    assert heading, response.text[:500]
    served = sample_store.get()
    iri = next(s["iri"] for s in mapping_sets(served) if s["slug"] == "se-occupations-esco")
    expected = recheck.set_rechecks(served, iri)
    assert int(heading.group(1)) == len(expected) > 0
    assert "6TQs_8i6_per" in response.text  # the concept only the 2020 dump holds
    assert ">removed</span>" in response.text
    assert "<del>" in response.text  # a relabelled one shows the label it had
