"""Real clients against the real server: SPARQLWrapper, rdflib, curl-like raw HTTP; SERVICE makes
no outbound connection; end-to-end on the real data.

The server is `kll-graph serve` itself, as users run it (granian, two server processes and their
query workers), so these tests cover the HTTP layer that production has."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from kll_graph.settings import Settings
from kll_graph.sparql.service import example_query, examples
from kll_graph.testing import clean_env, serving
from tests.sparql.support import JT, build_fixture_store

OCCUPATIONS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX kll: <https://w3id.org/kll-graph/ontology#>
SELECT ?o ?label WHERE { ?o kll:conceptType "occupation-name" ; skos:prefLabel ?label }
ORDER BY ?label
"""
LABELS = ["Mjukvaruutvecklare", "Sjuksköterska, grundutbildad", "Systemutvecklare"]


class Served(NamedTuple):
    """A running `kll-graph serve`: where it listens, and the base IRI it mints under."""

    url: str
    base_iri: str


@contextlib.contextmanager
def served(settings: Settings) -> Iterator[Served]:
    """`kll-graph serve` on a store, with two server processes whatever the CPUs."""
    command = ["serve", "--store", str(settings.store), "--port", "0"]
    with serving(*command, env=clean_env(processes="2")) as (_pid, url):
        yield Served(url.rstrip("/"), settings.base_iri)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(build_fixture_store(tmp_path_factory.mktemp("sparql-clients"))) as running:
        yield running


@pytest.fixture(scope="module")
def real_served(real_store: object, real_settings: Settings) -> Iterator[Served]:
    """The real-data build of the session, served by `kll-graph serve`."""
    with served(real_settings) as running:
        yield running


def wrapper(server: Served, fmt: str, method: str = "GET") -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(OCCUPATIONS)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    return client


def test_sparqlwrapper_json(server: Served) -> None:
    result = wrapper(server, JSON).queryAndConvert()
    assert [b["label"]["value"] for b in result["results"]["bindings"]] == LABELS  # type: ignore[index]


def test_sparqlwrapper_xml_by_post(server: Served) -> None:
    document = wrapper(server, XML, method="POST").queryAndConvert()
    literals = [n.firstChild.data for n in document.getElementsByTagName("literal")]  # type: ignore[union-attr]
    assert literals == LABELS


def test_sparqlwrapper_csv(server: Served) -> None:
    text = wrapper(server, CSV).queryAndConvert()
    rows = list(csv.reader(io.StringIO(text.decode("utf-8"), newline="")))  # type: ignore[union-attr]
    assert rows[0] == ["o", "label"] and [r[1] for r in rows[1:]] == LABELS


def test_sparqlwrapper_sees_a_bad_query_as_bad(server: Served) -> None:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery("SELECT * WHERE { ?s ?p }")
    client.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed, match="syntax error"):
        client.queryAndConvert()


def test_rdflib_sparqlstore(server: Served) -> None:
    graph = Graph(SPARQLStore(f"{server.url}/sparql", returnFormat="json"))
    rows = list(graph.query(OCCUPATIONS))
    assert [str(r.label) for r in rows] == LABELS  # type: ignore[union-attr]
    assert (URIRef(JT + "O1"), None, None) in graph


def test_rdflib_construct(server: Served) -> None:
    graph = Graph(SPARQLStore(f"{server.url}/sparql"))
    result = graph.query(f"CONSTRUCT {{ <{JT}O1> ?p ?o }} WHERE {{ <{JT}O1> ?p ?o }}")
    assert len(result.graph) >= 5  # type: ignore[union-attr]


CONSTRUCT_O1 = f"CONSTRUCT {{ <{JT}O1> ?p ?o }} WHERE {{ <{JT}O1> ?p ?o }}"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("fmt", "parse_as"),
    [
        ("xml", "xml"),  # SPARQLWrapper's default: RDF/XML for a graph, as Fuseki answers it
        ("rdf+xml", "xml"),
        ("rdf", "xml"),
        ("turtle", "turtle"),
        ("n3", "turtle"),
        ("json-ld", "json-ld"),
        ("json", "json-ld"),
    ],
)
def test_sparqlwrapper_construct_in_every_format_it_asks_for(
    server: Served, fmt: str, parse_as: str, method: str
) -> None:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(CONSTRUCT_O1)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    response = client.query().response
    graph = Graph().parse(data=response.read(), format=parse_as)
    assert len(graph) >= 5
    assert all(str(s) == JT + "O1" for s in graph.subjects())


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, "tsv"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_in_every_format_by_get_and_post(
    server: Served, fmt: str, method: str
) -> None:
    client = wrapper(server, fmt, method)
    text = client.query().response.read().decode("utf-8")
    assert all(label in text for label in LABELS)


def test_rdflib_sparqlstore_with_its_default_xml_runs_every_query_form(server: Served) -> None:
    """rdflib asks with `format=xml` (and `output=xml`, `results=xml`) for every form."""
    graph = Graph(SPARQLStore(f"{server.url}/sparql"))
    assert [str(r.label) for r in graph.query(OCCUPATIONS)] == LABELS  # type: ignore[union-attr]
    assert graph.query(f"ASK {{ <{JT}O1> ?p ?o }}").askAnswer is True
    assert len(graph.query(CONSTRUCT_O1).graph) >= 5  # type: ignore[union-attr]
    described = graph.query(f"DESCRIBE <{JT}O1>").graph
    assert described is not None and (URIRef(JT + "O1"), None, None) in described
    assert len(list(graph.triples((URIRef(JT + "O1"), None, None)))) >= 5


def test_example_queries_over_real_http(server: Served) -> None:
    base = server.base_iri
    for example in examples():
        body = urllib.parse.urlencode({"query": example_query(example, base)}).encode()
        with urllib.request.urlopen(f"{server.url}/sparql", data=body) as response:
            assert response.status == 200
            assert json.loads(response.read())["results"]["bindings"], example.id


def test_service_makes_no_connection(server: Served) -> None:
    """A listening loopback socket sees no connection however the query names it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    accepted.append(connection.recv(4096))
                except TimeoutError:
                    accepted.append(b"")

    thread = threading.Thread(target=accept)
    thread.start()
    endpoint = f"http://127.0.0.1:{port}/sparql"
    queries = [
        f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ service silent <{endpoint}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ VALUES ?e {{ <{endpoint}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * {{ ?x ?y ?z OPTIONAL {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"ASK {{ SeRvIcE <{endpoint}> {{ ?s ?p ?o }} }}",
    ]
    try:
        for query in queries:
            for method in ("GET", "POST"):
                if method == "GET":
                    request = urllib.request.Request(
                        f"{server.url}/sparql?{urllib.parse.urlencode({'query': query})}"
                    )
                else:
                    request = urllib.request.Request(
                        f"{server.url}/sparql",
                        data=query.encode(),
                        headers={"Content-Type": "application/sparql-query"},
                    )
                with pytest.raises(urllib.error.HTTPError) as caught:
                    urllib.request.urlopen(request)
                assert caught.value.code == 400
                assert (
                    "SERVICE is not allowed" in json.loads(caught.value.read())["error"]["message"]
                )
        # Give a connection that a worker might have started time to arrive, then show the
        # listener does see connections: only this direct probe may be in the list.
        stop.wait(1.0)
        with socket.create_connection(("127.0.0.1", port)) as probe:
            probe.sendall(b"probe")
        stop.wait(0.5)
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert accepted == [b"probe"]


@pytest.mark.realdata
def test_real_data_end_to_end(real_served: Served) -> None:
    base = real_served.base_iri
    found = {e.id: e for e in examples()}
    results = {}
    for example_id, example in found.items():
        body = urllib.parse.urlencode({"query": example_query(example, base)}).encode()
        request = urllib.request.Request(
            f"{real_served.url}/sparql",
            data=body,
            headers={"Accept": "application/sparql-results+json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            results[example_id] = json.loads(response.read())["results"]["bindings"]
    # SSYK 2512 holds several occupation names, among them the software developer.
    labels = {r["label"]["value"] for r in results["1_ssyk_occupations"] if "label" in r}
    assert "Mjukvaruutvecklare" in labels and len(labels) >= 3
    # The software developer maps exactly to an ESCO occupation with essential skills.
    assert len(results["2_essential_skills"]) >= 5
    assert all(
        r["skill"]["value"].startswith("http://data.europa.eu/esco/skill/")
        for r in results["2_essential_skills"]
    )
    assert results["3_unmapped_skills"]
    assert any("sjuksköterska" in r["label"]["value"].lower() for r in results["4_by_label"])
    client = SPARQLWrapper(f"{real_served.url}/sparql")
    client.setQuery(
        "SELECT (COUNT(*) AS ?n) { ?s a <http://data.europa.eu/esco/model#Occupation> }"
    )
    client.setReturnFormat(JSON)
    count = int(client.queryAndConvert()["results"]["bindings"][0]["n"]["value"])  # type: ignore[index]
    assert count > 2000


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_construct_as_n_triples_by_accept(server: Served, method: str) -> None:
    """SPARQLWrapper has no N-Triples format name: clients ask for it by Accept."""
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(CONSTRUCT_O1)
    client.setMethod(method)
    client.setOnlyConneg(True)
    client.addCustomHttpHeader("Accept", "application/n-triples")
    response = client.query().response
    assert response.headers["Content-Type"].startswith("application/n-triples")
    assert len(Graph().parse(data=response.read(), format="nt")) >= 5


@pytest.mark.parametrize(
    ("query", "accept", "mimetype"),
    [
        (
            OCCUPATIONS,
            "application/sparql-results+json,*/*;q=0.9",
            "application/sparql-results+json",
        ),
        (CONSTRUCT_O1, "text/turtle,*/*;q=0.9", "text/turtle"),
    ],
)
def test_yasgui_requests(server: Served, query: str, accept: str, mimetype: str) -> None:
    """As YASGUI asks: a form POST with its Accept list and no format parameter."""
    request = urllib.request.Request(
        f"{server.url}/sparql",
        data=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].split(";")[0] == mimetype
        assert response.read()
