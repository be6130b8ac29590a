"""A decision made through the workbench's API of a real `kll-graph serve` (two processes, the
refresher on, as deployed) is visible in SPARQL, read with SPARQLWrapper, within 5 s, with its
review status, and `reviewed` is one filter away."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from SPARQLWrapper import JSON, SPARQLWrapper

from kll_graph.build.pipeline import build
from kll_graph.mappings.matcher import read_vocabularies, suggest
from kll_graph.mappings.suggestions import candidate_set, write_candidates
from kll_graph.review.setfiles import SetFiles
from kll_graph.review.users import Users
from kll_graph.store import CurrentStore
from kll_graph.testing import clean_env, make_settings, serving

PASSWORD = "a long passphrase for tests"
REVIEWED_EXACT = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX kll: <https://w3id.org/kll-graph/ontology#>
SELECT ?s ?o WHERE {
  ?m owl:annotatedSource ?s ; owl:annotatedProperty skos:exactMatch ; owl:annotatedTarget ?o ;
     kll:reviewStatus kll:Reviewed .
  ?s skos:exactMatch ?o .
}"""


def _post(url: str, body: dict[str, object], headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, str(response.headers.get("ETag"))


def _reviewed_pairs(url: str) -> set[tuple[str, str]]:
    client = SPARQLWrapper(url + "sparql")
    client.setQuery(REVIEWED_EXACT)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]  # type: ignore[index, call-overload]
    return {(r["s"]["value"], r["o"]["value"]) for r in rows}


def test_a_decision_over_http_is_in_sparql_within_five_seconds(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    settings = make_settings(tmp_path / "store", mappings_dir=mappings)
    build(settings)
    served = CurrentStore(settings.store).get()
    types = ("occupation-name",)
    result = suggest(read_vocabularies(served.store, settings.base_iri, types), types)
    write_candidates(candidate_set(result, served.manifest, types), mappings / "cands.sssom.tsv")
    users = Users(tmp_path / "users.json")
    users.add("rita", "reviewer", PASSWORD)
    token = users.issue_token("rita")
    etag = SetFiles(mappings, settings.base_iri).create(
        "nurses", "Nurses", "https://orcid.org/0000-0002-0000-0001"
    )
    env = clean_env(
        store=str(settings.store),
        mappings_dir=str(mappings),
        users_file=str(tmp_path / "users.json"),
        processes="2",
        query_workers="1",
    )
    with serving("serve", "--port", "0", env=env) as (_pid, url):
        auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        with urllib.request.urlopen(
            urllib.request.Request(url + "api/v1/review/queue?status=candidate", headers=auth),
            timeout=30,
        ) as response:
            item = json.load(response)["items"][0]
        pair = (item["subject"], item["object"])
        assert pair not in _reviewed_pairs(url)
        started = time.monotonic()
        status, new_etag = _post(
            url + "api/v1/review/decisions",
            {
                "set": "nurses",
                "subject_id": item["subject"],
                "object_id": item["object"],
                "predicate_id": "skos:exactMatch",
                "decision": "accept",
            },
            {**auth, "If-Match": etag},
        )
        assert status == 201 and new_etag not in (etag, "None")
        while pair not in _reviewed_pairs(url):
            assert time.monotonic() - started < 5, "the decision is not in SPARQL within 5 s"
            time.sleep(0.05)
        seconds = time.monotonic() - started
        for _ in range(4):  # every server process answers with the new build
            assert pair in _reviewed_pairs(url)
    print(f"decision visible in SPARQL after {seconds:.2f} s")
