"""Dereferenceable concept URIs over real HTTP: the 303 and content-negotiation matrix, the RDF
documents in four formats, ETags and 304, the negotiated 400/404/406 answers, and URI spaces
(the concept URI's own path answering when the service runs at the URI's host)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat, parse

from kll_graph.exceptions import ConfigError
from kll_graph.namespaces import SKOS
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer, make_settings
from kll_graph.web import create_app

NURSE = "http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR"
NURSE_LABEL = "Sjuksköterska, grundutbildad"
SSYK_NURSES = "http://data.jobtechdev.se/taxonomy/concept/Z8ci_bBE_tmx"
ESCO_NURSE = "http://data.europa.eu/esco/occupation/87d0795a-d41f-47ee-979f-0ab7d73836e7"
UNKNOWN = "http://data.jobtechdev.se/taxonomy/concept/no_such_one"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def vary(self) -> set[str]:
        return {v.strip().lower() for v in self.header("Vary").split(",") if v.strip()}


def get(base: str, path: str, **headers: str) -> Answer:
    """One GET with http.client: redirects are not followed, so 303s can be inspected."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        connection.request("GET", path, headers=sent)
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


def resource(uri: str) -> str:
    return "/resource?uri=" + quote(uri, safe="")


def target(answer: Answer) -> tuple[str, dict[str, list[str]]]:
    location = urlsplit(answer.header("Location"))
    return location.path, parse_qs(location.query)


# --- the 303 matrix ---------------------------------------------------------------------------

MATRIX = [
    (None, "/page"),
    ("*/*", "/page"),
    ("text/html", "/page"),
    (BROWSER_ACCEPT, "/page"),
    ("text/turtle", "/data.ttl"),
    ("application/ld+json", "/data.jsonld"),
    ("application/rdf+xml", "/data.rdf"),
    ("application/n-triples", "/data.nt"),
    ("application/json", "/api/v1/concepts"),
    ("text/turtle;q=0.5, application/rdf+xml", "/data.rdf"),
    ("application/ld+json;q=0.9, text/html;q=0.1", "/data.jsonld"),
    ("text/*;q=0.9, text/html;q=0", "/data.ttl"),
]


@pytest.mark.parametrize(("accept", "path"), MATRIX)
def test_resource_answers_303_by_accept(sample_server: LiveServer, accept: str, path: str) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    answer = get(sample_server.url, resource(NURSE), **headers)
    assert answer.status == 303
    where, query = target(answer)
    assert where == path
    assert query["uri"] == [NURSE]
    assert "accept" in answer.vary
    assert answer.body == b""


def test_concept_route_is_the_same_as_resource(sample_server: LiveServer) -> None:
    answer = get(sample_server.url, "/concept?uri=" + quote(NURSE, safe=""), Accept="text/turtle")
    assert answer.status == 303
    assert target(answer) == ("/data.ttl", {"uri": [NURSE]})


def test_scheme_uri_goes_to_the_scheme_page(sample_server: LiveServer) -> None:
    scheme = "https://w3id.org/kll-graph/scheme/jobtech/ssyk-level-1"
    answer = get(sample_server.url, resource(scheme), Accept="text/html")
    assert answer.status == 303
    assert target(answer) == ("/scheme", {"id": ["jobtech/ssyk-level-1"]})


def test_every_303_target_answers(sample_server: LiveServer) -> None:
    for accept, _ in MATRIX:
        headers = {"Accept": accept} if accept is not None else {}
        first = get(sample_server.url, resource(NURSE), **headers)
        second = get(sample_server.url, first.header("Location"), **headers)
        assert second.status == 200, (accept, first.header("Location"))


def test_nothing_acceptable_is_406_listing_the_types(sample_server: LiveServer) -> None:
    answer = get(sample_server.url, resource(NURSE), Accept="image/png")
    assert answer.status == 406
    assert "accept" in answer.vary
    error = json.loads(answer.body)["error"]
    assert error["code"] == "not_acceptable"
    for media_type in ("text/html", "text/turtle", "application/ld+json", "application/rdf+xml"):
        assert media_type in error["message"]


# --- unknown and malformed URIs ------------------------------------------------------------------


def test_unknown_uri_html_is_a_helpful_404_page(sample_server: LiveServer) -> None:
    answer = get(sample_server.url, resource(UNKNOWN), Accept=BROWSER_ACCEPT)
    assert answer.status == 404
    assert answer.header("Content-Type").startswith("text/html")
    text = answer.body.decode()
    assert UNKNOWN in text
    assert 'action="/search"' in text  # a search box to try instead
    assert "accept" in answer.vary


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", RdfFormat.TURTLE),
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", RdfFormat.JSON_LD),
    ],
)
def test_unknown_uri_rdf_is_a_404_empty_graph(
    sample_server: LiveServer, accept: str, fmt: RdfFormat
) -> None:
    answer = get(sample_server.url, resource(UNKNOWN), Accept=accept)
    assert answer.status == 404
    assert answer.header("Content-Type").startswith(accept)
    assert list(parse(answer.body, format=fmt)) == []


def test_unknown_uri_json_is_the_json_error_shape(sample_server: LiveServer) -> None:
    answer = get(sample_server.url, resource(UNKNOWN), Accept="application/json")
    assert answer.status == 404
    error = json.loads(answer.body)["error"]
    assert error["status"] == 404
    assert UNKNOWN in error["message"]


@pytest.mark.parametrize("value", ["not a uri", "relative/path", "", "x" * 3000])
def test_malformed_uri_is_400(sample_server: LiveServer, value: str) -> None:
    path = "/resource?uri=" + quote(value, safe="")
    html = get(sample_server.url, path, Accept="text/html")
    assert html.status == 400
    assert html.header("Content-Type").startswith("text/html")
    assert "uri" in html.body.decode()
    machine = get(sample_server.url, path, Accept="text/turtle")
    assert machine.status == 400
    assert json.loads(machine.body)["error"]["parameter"] == "uri"


# --- the documents ------------------------------------------------------------------------------

FORMATS = [
    ("ttl", "text/turtle", RdfFormat.TURTLE),
    ("jsonld", "application/ld+json", RdfFormat.JSON_LD),
    ("rdf", "application/rdf+xml", RdfFormat.RDF_XML),
    ("nt", "application/n-triples", RdfFormat.N_TRIPLES),
]


def _graph(body: bytes, fmt: RdfFormat) -> set[tuple[str, str, str]]:
    return {
        (str(t.subject), str(t.predicate), str(t.object))
        for t in parse(body, format=fmt)
        if not str(t.subject).startswith("_:") and not str(t.object).startswith("_:")
    }


@pytest.fixture(scope="module")
def documents(sample_server: LiveServer) -> dict[str, Answer]:
    return {
        ext: get(sample_server.url, f"/data.{ext}?uri=" + quote(NURSE, safe=""))
        for ext, _, _ in FORMATS
    }


@pytest.mark.parametrize(("ext", "media_type", "fmt"), FORMATS)
def test_document_describes_the_concept(
    documents: dict[str, Answer], ext: str, media_type: str, fmt: RdfFormat
) -> None:
    answer = documents[ext]
    assert answer.status == 200
    assert answer.header("Content-Type").startswith(media_type)
    triples = list(parse(answer.body, format=fmt))
    nurse = NamedNode(NURSE)
    assert any(
        t.subject == nurse
        and t.predicate == SKOS.prefLabel
        and t.object == Literal(NURSE_LABEL, language="sv")
        for t in triples
    )
    assert any(
        t.subject == nurse and t.predicate == SKOS.exactMatch and t.object == NamedNode(ESCO_NURSE)
        for t in triples
    )
    assert any(
        t.subject == nurse and t.predicate == SKOS.broader and t.object == NamedNode(SSYK_NURSES)
        for t in triples
    )
    assert answer.header("ETag")
    assert "/page?uri=" in answer.header("Link")


def test_the_four_formats_say_the_same(documents: dict[str, Answer]) -> None:
    graphs = [_graph(documents[ext].body, fmt) for ext, _, fmt in FORMATS]
    assert graphs[0]
    for other in graphs[1:]:
        assert other == graphs[0]


def test_document_holds_statements_made_by_others(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    """The narrower concepts of an SSYK group point at it with skos:broader: they are part of
    its description even where the group itself does not list them."""
    served = sample_store.get()
    pointing = {
        row["s"].value
        for row in served.store.query(
            f"SELECT ?s WHERE {{ ?s <{SKOS.broader.value}> <{SSYK_NURSES}> }}",
            use_default_graph_as_union=True,
        )
    }
    assert NURSE in pointing
    answer = get(sample_server.url, "/data.nt?uri=" + quote(SSYK_NURSES, safe=""))
    triples = _graph(answer.body, RdfFormat.N_TRIPLES)
    for uri in pointing:
        assert (f"<{uri}>", f"<{SKOS.broader.value}>", f"<{SSYK_NURSES}>") in triples


def test_document_etag_and_304(sample_server: LiveServer, documents: dict[str, Answer]) -> None:
    etag = documents["ttl"].header("ETag")
    again = get(sample_server.url, "/data.ttl?uri=" + quote(NURSE, safe=""), If_None_Match=etag)
    assert again.status == 304
    assert again.body == b""
    assert documents["nt"].header("ETag") != etag
    stale = get(sample_server.url, "/data.ttl?uri=" + quote(NURSE, safe=""), If_None_Match='"x"')
    assert stale.status == 200


def test_document_of_unknown_uri_is_404_in_its_format(sample_server: LiveServer) -> None:
    answer = get(sample_server.url, "/data.ttl?uri=" + quote(UNKNOWN, safe=""))
    assert answer.status == 404
    assert answer.header("Content-Type").startswith("text/turtle")
    assert list(parse(answer.body, format=RdfFormat.TURTLE)) == []


def test_unknown_document_format_is_404(sample_server: LiveServer) -> None:
    answer = get(sample_server.url, "/data.xyz?uri=" + quote(NURSE, safe=""), Accept="*/*")
    assert answer.status == 404
    assert "ttl" in json.loads(answer.body)["error"]["message"]


# --- URI spaces -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed(sample_store: CurrentStore) -> Iterator[LiveServer]:
    """The service as if deployed at data.jobtechdev.se: the concept path answers itself."""
    settings = make_settings(
        sample_store.layout.root, uri_spaces="http://data.jobtechdev.se/taxonomy/concept/"
    )
    server = LiveServer(settings, sample_store)
    yield server
    server.close()


@pytest.mark.parametrize(
    ("accept", "path"),
    [
        ("text/html", "/page"),
        ("text/turtle", "/data.ttl"),
        ("application/json", "/api/v1/concepts"),
    ],
)
def test_uri_path_answers_in_a_uri_space(deployed: LiveServer, accept: str, path: str) -> None:
    answer = get(deployed.url, urlsplit(NURSE).path, Accept=accept)
    assert answer.status == 303
    assert target(answer) == (path, {"uri": [NURSE]})
    assert "accept" in answer.vary


def test_unknown_id_in_a_uri_space_is_404(deployed: LiveServer) -> None:
    assert get(deployed.url, "/taxonomy/concept/no_such_one", Accept="text/html").status == 404
    turtle = get(deployed.url, "/taxonomy/concept/no_such_one", Accept="text/turtle")
    assert turtle.status == 404
    assert turtle.header("Content-Type").startswith("text/turtle")


def test_uri_space_leaves_other_routes_alone(deployed: LiveServer) -> None:
    assert get(deployed.url, "/about", Accept="text/html").status == 200
    outside = get(deployed.url, "/taxonomy/other/x", Accept="application/json")
    assert outside.status == 404
    assert json.loads(outside.body)["error"]["status"] == 404


def test_without_uri_spaces_the_path_is_not_found(sample_server: LiveServer) -> None:
    assert get(sample_server.url, urlsplit(NURSE).path, Accept="text/turtle").status == 404


def test_bad_uri_spaces_setting_fails_at_start(sample_store: CurrentStore) -> None:
    settings = make_settings(sample_store.layout.root, uri_spaces="data.jobtechdev.se/taxonomy")
    with pytest.raises(ConfigError, match="uri_spaces"):
        create_app(settings, store=sample_store)
