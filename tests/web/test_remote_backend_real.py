"""The remote backend on the real data (#20 item 1): the same answers from replicas of a real
build as from the embedded store: the example queries of the query page (SPARQLWrapper), the
lookup API, concept pages, RDF documents, reconciliation, and the domain reads behind them.

Skips without ../shared/data (fails in CI, where KLL_REQUIRE_REAL_DATA=1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from kll_graph.labels.read import read_vocabulary
from kll_graph.mappings.coverage import coverage
from kll_graph.settings import Settings
from kll_graph.sparql.service import example_query, examples
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer
from tests.web.test_remote_backend import Replica

#: Real concepts of each kind: a JobTech occupation name, skill and SSYK group, ESCO concepts.
CONCEPTS = [
    "http://data.jobtechdev.se/taxonomy/concept/rQds_YGd_quU",
    "http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR",
    "http://data.jobtechdev.se/taxonomy/concept/DJh5_yyF_hEM",
    "http://data.europa.eu/esco/skill/01faf296-e037-494c-bb1c-65bda5aed750",
    "http://data.europa.eu/esco/occupation/c2e6609d-0abe-4a38-b295-e06edbd52e82",
]


@pytest.fixture(scope="module")
def real_build(real_store: CurrentStore) -> Path:
    path = real_store.layout.current_build()
    assert path is not None
    return path


@pytest.fixture(scope="module")
def real_remote(real_settings: Settings, real_build: Path) -> Iterator[LiveServer]:
    replicas = [Replica(real_build / "oxigraph", timeout_s=600) for _ in range(2)]
    settings = real_settings.replace(
        backend=",".join(r.url for r in replicas), backend_dump=real_build
    )
    server = LiveServer(settings)
    yield server
    server.close()
    server.app.extensions["kll.store"].close()
    for replica in replicas:
        replica.stop()


def _rows(endpoint: str, query: str) -> list[str]:
    client = SPARQLWrapper(endpoint)
    client.setQuery(query)
    client.setReturnFormat(JSON)
    result = client.queryAndConvert()
    assert isinstance(result, dict)
    if "boolean" in result:
        return [str(result["boolean"])]
    return sorted(json.dumps(b, sort_keys=True) for b in result["results"]["bindings"])


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.id)
def test_example_queries_answer_as_embedded(
    real_server: LiveServer, real_remote: LiveServer, real_settings: Settings, example: object
) -> None:
    query = example_query(example, real_settings.base_iri)  # type: ignore[arg-type]
    here = _rows(real_server.url + "/sparql", query)
    there = _rows(real_remote.url + "/sparql", query)
    assert here and there == here


JSON_TYPE = "application/json"


def _paths() -> list[tuple[str, str]]:
    paths = [
        ("/api/v1/autocomplete?q=syst", "application/json"),
        ("/api/v1/search?q=sjuksk%C3%B6terska", "application/json"),
        ("/api/v1/schemes", "application/json"),
        (
            "/reconcile?queries=" + quote('{"q0": {"query": "systemutvecklare"}}'),
            "application/json",
        ),
    ]
    for uri in CONCEPTS:
        encoded = quote(uri, safe="")
        paths += [
            ("/api/v1/concepts?uri=" + encoded, "application/json"),
            ("/page?uri=" + encoded, "text/html"),
            ("/data.ttl?uri=" + encoded, "text/turtle"),
        ]
    return paths


@pytest.mark.parametrize(("path", "accept"), _paths())
def test_surfaces_answer_as_embedded(
    real_server: LiveServer, real_remote: LiveServer, path: str, accept: str
) -> None:
    here = requests.get(real_server.url + path, headers={"Accept": accept}, timeout=60)
    there = requests.get(real_remote.url + path, headers={"Accept": accept}, timeout=60)
    assert here.status_code == 200, here.text[:300]
    assert there.status_code == here.status_code, there.text[:300]
    assert there.content == here.content
    assert there.headers["X-KLL-Build"] == here.headers["X-KLL-Build"]


def test_domain_reads_are_the_same(
    real_store: CurrentStore, real_remote: LiveServer, real_settings: Settings
) -> None:
    """The label index's whole-vocabulary scan and mapping coverage, read over the Protocol from
    a replica, equal the embedded store's (the largest reads the app makes)."""
    here = real_store.get().store
    there = real_remote.app.extensions["kll.store"].store
    base = real_settings.base_iri
    assert read_vocabulary(there, base) == read_vocabulary(here, base)
    assert coverage(there, base) == coverage(here, base)
