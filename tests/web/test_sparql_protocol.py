"""`/sparql` over HTTP (Flask test client): every SPARQL 1.1 Protocol case, status and header."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from kll_graph.settings import Settings
from kll_graph.sparql.service import example_query, examples
from kll_graph.web import create_app
from tests.sparql.support import JT, build_fixture_store, current, esco_graph, jobtech_graph

OCCUPATIONS = (
    "SELECT ?o ?label WHERE { ?o kll:conceptType 'occupation-name' ; skos:prefLabel ?label } "
    "ORDER BY ?label"
)
OCCUPATION_LABELS = ["Mjukvaruutvecklare", "Sjuksköterska, grundutbildad", "Systemutvecklare"]
CONSTRUCT = (
    "CONSTRUCT { ?s skos:prefLabel ?l } WHERE { ?s kll:conceptType 'skill' ; skos:prefLabel ?l }"
)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_fixture_store(tmp_path_factory.mktemp("sparql-protocol"), max_request_bytes=20_000)


@pytest.fixture(scope="module")
def app_client(settings: Settings) -> Iterator[FlaskClient]:
    app = create_app(settings, store=current(settings))
    yield app.test_client()
    app.extensions["kll.sparql"].close()


@pytest.fixture
def client(app_client: FlaskClient) -> FlaskClient:
    return app_client


def labels(body: bytes) -> list[str]:
    return [b["label"]["value"] for b in json.loads(body)["results"]["bindings"]]


def error(response: object) -> dict[str, object]:
    body = json.loads(response.data)  # type: ignore[attr-defined]
    return body["error"]  # type: ignore[no-any-return]


# --- the three ways to send a query ----------------------------------------------------------


def test_get_query_defaults_to_sparql_json(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": OCCUPATIONS})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert labels(response.data) == OCCUPATION_LABELS


def test_post_form(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"query": OCCUPATIONS})
    assert response.status_code == 200
    assert labels(response.data) == OCCUPATION_LABELS


def test_post_direct(client: FlaskClient) -> None:
    response = client.post(
        "/sparql",
        data=OCCUPATIONS.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-8"},
    )
    assert response.status_code == 200
    assert labels(response.data) == OCCUPATION_LABELS


def test_post_direct_takes_the_dataset_from_the_url(
    client: FlaskClient, settings: Settings
) -> None:
    query = "SELECT (COUNT(*) AS ?n) { ?s a skos:Concept }"
    response = client.post(
        f"/sparql?default-graph-uri={quote(esco_graph(settings))}",
        data=query,
        headers={"Content-Type": "application/sparql-query"},
    )
    assert json.loads(response.data)["results"]["bindings"][0]["n"]["value"] == "4"


# --- results by Accept and format= -------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "mimetype", "fmt"),
    [
        (
            "application/sparql-results+json",
            "application/sparql-results+json",
            QueryResultsFormat.JSON,
        ),
        (
            "application/sparql-results+xml",
            "application/sparql-results+xml",
            QueryResultsFormat.XML,
        ),
        ("text/tab-separated-values", "text/tab-separated-values", QueryResultsFormat.TSV),
        ("application/json", "application/sparql-results+json", QueryResultsFormat.JSON),
        (
            "text/csv;q=0.2, application/sparql-results+xml;q=0.9",
            "application/sparql-results+xml",
            QueryResultsFormat.XML,
        ),
    ],
)
def test_select_results_by_accept(
    client: FlaskClient, accept: str, mimetype: str, fmt: QueryResultsFormat
) -> None:
    response = client.get(
        "/sparql", query_string={"query": OCCUPATIONS}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.headers["Vary"]
    rows = parse_query_results(response.data, fmt)
    assert [r["label"].value for r in rows] == OCCUPATION_LABELS  # type: ignore[union-attr]


def test_select_as_csv(client: FlaskClient) -> None:
    response = client.get(
        "/sparql", query_string={"query": OCCUPATIONS}, headers={"Accept": "text/csv"}
    )
    assert response.content_type == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8"), newline="")))
    assert rows[0] == ["o", "label"]
    assert [r[1] for r in rows[1:]] == OCCUPATION_LABELS


def test_format_parameter_overrides_accept(client: FlaskClient) -> None:
    response = client.get(
        "/sparql",
        query_string={"query": OCCUPATIONS, "format": "tsv"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert response.mimetype == "text/tab-separated-values"
    assert response.data.decode().splitlines()[0] == "?o\t?label"


@pytest.mark.parametrize(
    ("accept", "rdf_format"),
    [
        ("text/turtle", RdfFormat.TURTLE),
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("application/n-quads", RdfFormat.N_QUADS),
        ("application/trig", RdfFormat.TRIG),
    ],
)
def test_construct_results_by_accept(
    client: FlaskClient, accept: str, rdf_format: RdfFormat
) -> None:
    response = client.post("/sparql", data={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    triples = {(q.subject.value, q.object.value) for q in parse(response.data, rdf_format)}
    assert (JT + "S3", "Kundtjänst") in triples
    assert len(triples) == 4


def test_construct_defaults_to_turtle_and_describe_works(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": f"DESCRIBE <{JT}O1>"})
    assert response.mimetype == "text/turtle"
    objects = {q.object.value for q in parse(response.data, RdfFormat.TURTLE)}
    assert "Mjukvaruutvecklare" in objects and JT + "G2512" in objects


def test_ask(client: FlaskClient) -> None:
    query = f"ASK {{ <{JT}O1> skos:exactMatch ?esco }}"
    response = client.get("/sparql", query_string={"query": query})
    assert json.loads(response.data) == {"head": {}, "boolean": True}


# --- the dataset ------------------------------------------------------------------------------


def test_default_graph_is_the_union_of_all_graphs(client: FlaskClient) -> None:
    query = f"SELECT ?skill {{ <{JT}O1> skos:exactMatch/esco:relatedEssentialSkill ?skill }}"
    response = client.get("/sparql", query_string={"query": query})
    assert len(json.loads(response.data)["results"]["bindings"]) == 2


def test_default_graph_uri_restricts_the_default_graph(
    client: FlaskClient, settings: Settings
) -> None:
    query = f"SELECT ?skill {{ <{JT}O1> skos:exactMatch/esco:relatedEssentialSkill ?skill }}"
    only_jobtech = client.get(
        "/sparql", query_string={"query": query, "default-graph-uri": jobtech_graph(settings)}
    )
    assert json.loads(only_jobtech.data)["results"]["bindings"] == []
    both = client.get(
        "/sparql",
        query_string=[
            ("query", query),
            ("default-graph-uri", jobtech_graph(settings)),
            ("default-graph-uri", esco_graph(settings)),
        ],
    )
    assert len(json.loads(both.data)["results"]["bindings"]) == 2


def test_named_graph_uri_sets_the_named_graphs(client: FlaskClient, settings: Settings) -> None:
    query = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"
    response = client.get(
        "/sparql", query_string={"query": query, "named-graph-uri": esco_graph(settings)}
    )
    graphs = [b["g"]["value"] for b in json.loads(response.data)["results"]["bindings"]]
    assert graphs == [esco_graph(settings)]
    everything = client.get("/sparql", query_string={"query": query})
    assert len(json.loads(everything.data)["results"]["bindings"]) >= 4  # + ontology, catalog


# --- refusals and bad input ------------------------------------------------------------------


def test_syntax_error_is_400_with_the_parser_message(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert re.search(r"SPARQL syntax error: error at 1:\d+", str(error(response)["message"]))
    assert error(response)["code"] == "query"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(client: FlaskClient, method: str) -> None:
    response = client.open("/sparql", method=method, data="x")
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_nothing_acceptable_is_406(client: FlaskClient) -> None:
    response = client.get(
        "/sparql", query_string={"query": OCCUPATIONS}, headers={"Accept": "image/png"}
    )
    assert response.status_code == 406
    assert "application/sparql-results+json" in str(error(response)["message"])
    graph = client.get(
        "/sparql",
        query_string={"query": CONSTRUCT},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert graph.status_code == 406


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/json", None, "application/sparql-query; charset=latin-1"],
)
def test_wrong_request_content_type_is_415(client: FlaskClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/sparql", data=OCCUPATIONS.encode(), headers=headers)
    assert response.status_code == 415
    assert "application/sparql-query" in str(error(response)["message"]) or "UTF-8" in str(
        error(response)["message"]
    )


def test_oversized_requests_are_413(client: FlaskClient) -> None:
    padding = "#" + "x" * 25_000 + "\n"
    body = client.post("/sparql", data={"query": padding + OCCUPATIONS})
    assert body.status_code == 413
    url = client.get("/sparql", query_string={"query": padding + OCCUPATIONS})
    assert url.status_code == 413
    assert "POST" in str(error(url)["message"])


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"method": "GET", "query_string": {"update": "CLEAR ALL"}}, 403),
        ({"method": "POST", "data": {"update": "INSERT DATA { <a:a> <a:b> <a:c> }"}}, 403),
        (
            {
                "method": "POST",
                "data": "CLEAR ALL",
                "headers": {"Content-Type": "application/sparql-update"},
            },
            403,
        ),
        ({"method": "POST", "data": {"query": "LOAD <http://127.0.0.1:9/x.ttl>"}}, 403),
        ({"method": "POST", "data": {"query": "SELECT * {}", "update": "CLEAR ALL"}}, 400),
    ],
)
def test_updates_are_refused(client: FlaskClient, kwargs: dict[str, object], code: int) -> None:
    response = client.open("/sparql", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == code
    if code == 403:
        assert "read-only" in str(error(response)["message"])
        assert "mappings" in str(error(response)["message"])
    else:
        assert "both 'query' and 'update'" in str(error(response)["message"])


def test_service_is_refused_before_running(client: FlaskClient) -> None:
    query = "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    assert "SERVICE is not allowed" in str(error(response)["message"])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (
            {
                "method": "POST",
                "data": b"SELECT * { ?s ?p '\xff\xfe' }",
                "headers": {"Content-Type": "application/sparql-query"},
            },
            "not valid UTF-8",
        ),
        (
            {
                "method": "POST",
                "data": b"query=SELECT%20*%20%7B%7D%20%23%FF",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            "not valid UTF-8",
        ),
        ({"method": "GET", "path": "/sparql?query=SELECT%20*%20%7B%7D%23%C3"}, "not valid UTF-8"),
        (
            {"method": "GET", "query_string": [("query", "SELECT * {}"), ("query", "ASK {}")]},
            "'query' parameter was given 2 times",
        ),
        (
            {"method": "POST", "query_string": {"query": "ASK {}"}, "data": {"query": "ASK {}"}},
            "'query' parameter was given 2 times",
        ),
        (
            {
                "method": "POST",
                "query_string": {"query": "ASK {}"},
                "data": "ASK {}",
                "headers": {"Content-Type": "application/sparql-query"},
            },
            "also in the URL",
        ),
        ({"method": "GET", "query_string": {"query": ""}}, "the query is empty"),
        ({"method": "POST", "data": {"query": "   "}}, "the query is empty"),
        ({"method": "POST", "data": {"default-graph-uri": "http://g/"}}, "no 'query' parameter"),
        (
            {
                "method": "GET",
                "query_string": [("query", "ASK {}"), ("format", "json"), ("output", "xml")],
            },
            "the format parameters name different formats (json, xml)",
        ),
        (
            {
                "method": "GET",
                "query_string": {"query": "ASK {}", "default-graph-uri": "not an iri"},
            },
            "not an absolute IRI",
        ),
    ],
)
def test_bad_input_gets_a_precise_400(
    client: FlaskClient, kwargs: dict[str, object], needle: str
) -> None:
    kwargs = dict(kwargs)
    path = str(kwargs.pop("path", "/sparql"))
    response = client.open(path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 400, response.data
    assert needle in str(error(response)["message"])


@pytest.mark.parametrize(
    ("query", "fmt", "needle", "offered"),
    [
        ("SELECT * {}", "yaml", "'yaml' is no format of a SELECT/ASK result", "json, xml, csv"),
        ("SELECT * {}", "ttl", "'ttl' does not fit a SELECT/ASK result", "json, xml, csv"),
        ("CONSTRUCT WHERE {}", "csv", "'csv' does not fit a CONSTRUCT/DESCRIBE", "ttl, nt, rdfxml"),
    ],
)
def test_a_format_that_fits_no_reading_is_406_listing_those_that_would(
    client: FlaskClient, query: str, fmt: str, needle: str, offered: str
) -> None:
    response = client.get("/sparql", query_string={"query": query, "format": fmt})
    assert response.status_code == 406, response.data
    assert needle in str(error(response)["message"])
    assert f"use one of {offered}" in str(error(response)["message"])


@pytest.mark.parametrize(
    ("query", "params", "mimetype"),
    [
        ("SELECT * {}", [("format", "xml")], "application/sparql-results+xml"),
        ("CONSTRUCT WHERE {?s ?p ?o}", [("format", "xml")], "application/rdf+xml"),
        ("DESCRIBE <http://x/>", [("output", "json")], "application/ld+json"),
        ("ASK {}", [("results", "json")], "application/sparql-results+json"),
        ("CONSTRUCT WHERE {?s ?p ?o}", [("format", "turtle")], "text/turtle"),
        # SPARQLWrapper's GET: all three parameters, some twice (a name and a media type)
        (
            "CONSTRUCT WHERE {?s ?p ?o}",
            [
                (name, value)
                for name in ("format", "output", "results")
                for value in ("json-ld", "application/ld+json")
            ],
            "application/ld+json",
        ),
        (
            "SELECT * {}",
            [(n, v) for n in ("format", "output", "results") for v in ("tsv", "")],
            "text/tab-separated-values",
        ),
    ],
)
def test_format_parameters_read_as_fuseki_and_virtuoso_read_them(
    client: FlaskClient, query: str, params: list[tuple[str, str]], mimetype: str
) -> None:
    response = client.get(
        "/sparql",
        query_string=[("query", query), *params],
        headers={"Accept": "text/csv"},  # the parameter wins over Accept, as in Fuseki
    )
    assert response.status_code == 200, response.data
    assert response.mimetype == mimetype


# --- CORS, validators, cache -----------------------------------------------------------------


def test_cors_on_get_post_and_preflight(client: FlaskClient) -> None:
    origin = {"Origin": "https://example.org"}
    get = client.get("/sparql", query_string={"query": "ASK {}"}, headers=origin)
    post = client.post("/sparql", data={"query": "ASK {}"}, headers=origin)
    preflight = client.options(
        "/sparql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    for response in (get, post, preflight):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert "ETag" in get.headers["Access-Control-Expose-Headers"]
    bad = client.get("/sparql", query_string={"query": "SELEC"}, headers=origin)
    assert bad.status_code == 400 and bad.headers["Access-Control-Allow-Origin"] == "*"


def test_etag_and_304(client: FlaskClient, settings: Settings) -> None:
    first = client.get("/sparql", query_string={"query": OCCUPATIONS})
    etag = first.headers["ETag"]
    build_id = current(settings).get().build_id
    assert etag.startswith(f'"{build_id}-')
    assert first.headers["Last-Modified"].endswith("GMT")
    again = client.get(
        "/sparql", query_string={"query": OCCUPATIONS}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get(
        "/sparql",
        query_string={"query": OCCUPATIONS},
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert since.status_code == 304
    other = client.get(
        "/sparql",
        query_string={"query": OCCUPATIONS},
        headers={"If-None-Match": '"something-else"'},
    )
    assert other.status_code == 200 and labels(other.data) == OCCUPATION_LABELS
    as_xml = client.get(
        "/sparql",
        query_string={"query": OCCUPATIONS},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert as_xml.headers["ETag"] != etag


def test_repeated_queries_come_from_the_cache(client: FlaskClient) -> None:
    cache = client.application.extensions["kll.sparql"].cache
    query = OCCUPATIONS + " # cache test"
    hits = cache.hits
    first = client.post("/sparql", data={"query": query})
    second = client.post("/sparql", data={"query": query})
    assert cache.hits == hits + 1
    assert first.data == second.data and labels(second.data) == OCCUPATION_LABELS
    csv_version = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert cache.hits == hits + 1 and csv_version.mimetype == "text/csv"


def test_result_limit_cuts_and_says_so(settings: Settings) -> None:
    app = create_app(settings.replace(max_results=2), store=current(settings))
    try:
        response = app.test_client().get("/sparql", query_string={"query": OCCUPATIONS})
        assert response.headers["X-SPARQL-MaxRows"] == "2"
        assert labels(response.data) == OCCUPATION_LABELS[:2]
    finally:
        app.extensions["kll.sparql"].close()


def test_a_result_exactly_at_the_limit_is_whole(settings: Settings) -> None:
    """Every row comes back, and nothing says it was cut (one more row would be, as above)."""
    app = create_app(settings.replace(max_results=len(OCCUPATION_LABELS)), store=current(settings))
    try:
        response = app.test_client().get("/sparql", query_string={"query": OCCUPATIONS})
        assert "X-SPARQL-MaxRows" not in response.headers
        assert labels(response.data) == OCCUPATION_LABELS
    finally:
        app.extensions["kll.sparql"].close()


# --- without a query: description and page -----------------------------------------------------


def test_service_description_in_rdf(client: FlaskClient, settings: Settings) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert "Accept" in response.headers["Vary"]
    quads = list(parse(response.data, RdfFormat.TURTLE))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoint = [q.subject.value for q in quads if q.predicate.value == sd + "endpoint"]
    assert endpoint == ["http://localhost/sparql"]
    names = {q.object.value for q in quads if q.predicate.value == sd + "name"}
    assert {jobtech_graph(settings), esco_graph(settings)} <= names
    features = {q.object.value for q in quads if q.predicate.value == sd + "feature"}
    assert sd + "UnionDefaultGraph" in features
    as_jsonld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert len(list(parse(as_jsonld.data, RdfFormat.JSON_LD))) == len(quads)


def test_query_page_is_html_with_examples_and_no_external_resources(
    client: FlaskClient, settings: Settings
) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    # the UI language follows Accept-Language as on every page (Swedish when none is given)
    response = client.get("/sparql", headers={"Accept": browser, "Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = html.unescape(response.data.decode("utf-8"))
    assert f"PREFIX kll: <{settings.base_iri}ontology#>" in page
    for example in examples():
        assert example.title("en") in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for path in ("/static/sparql.js", "/static/sparql.css"):
        assert client.get(path).status_code == 200
    swedish = client.get("/sparql", headers={"Accept": "text/html", "Accept-Language": "sv"})
    assert "Exempelfrågor" in swedish.data.decode("utf-8")


EXPECTED_EXAMPLES = {
    "1_ssyk_occupations": {(JT + "O1",), (JT + "O2",)},
    "2_essential_skills": {
        ("http://data.europa.eu/esco/skill/ccd0a1d9",),
        ("http://data.europa.eu/esco/skill/e1f2a3b4",),
    },
    "3_unmapped_skills": {(JT + "S3",), (JT + "S4",)},
    "4_by_label": {(JT + "O3",), ("http://data.europa.eu/esco/skill/a1b2c3d4",)},
}


def test_example_queries_answer_on_the_model(client: FlaskClient, settings: Settings) -> None:
    found = {e.id: e for e in examples()}
    assert set(found) == set(EXPECTED_EXAMPLES)
    column = {
        "1_ssyk_occupations": "occupation",
        "2_essential_skills": "skill",
        "3_unmapped_skills": "skill",
        "4_by_label": "concept",
    }
    for example_id, expected in EXPECTED_EXAMPLES.items():
        query = example_query(found[example_id], settings.base_iri)
        assert query.startswith("PREFIX ")
        response = client.post("/sparql", data={"query": query})
        assert response.status_code == 200, response.data
        rows = json.loads(response.data)["results"]["bindings"]
        assert {(r[column[example_id]]["value"],) for r in rows} == expected, example_id


def test_static_files_exist() -> None:
    static = Path(__file__).resolve().parents[2] / "src" / "kll_graph" / "web" / "static"
    script = (static / "sparql.js").read_text(encoding="utf-8")
    assert "http://" not in script and "https://" not in script


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_browser_following_a_query_link_gets_the_page_with_the_query(client: FlaskClient) -> None:
    query = "SELECT ?label WHERE { ?c skos:prefLabel ?label } LIMIT 3"
    response = client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": BROWSER_ACCEPT}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'data-autorun="true"' in page
    assert "SELECT ?label WHERE { ?c skos:prefLabel ?label } LIMIT 3</textarea>" in page
    # clients that ask for results (or anything) still get results for the same URL
    for accept in ("*/*", "application/sparql-results+json", None):
        headers = {"Accept": accept} if accept else {}
        answer = client.get("/sparql", query_string={"query": query}, headers=headers)
        assert answer.mimetype == "application/sparql-results+json", accept
    explicit = client.get(
        "/sparql",
        query_string={"query": query, "format": "csv"},
        headers={"Accept": BROWSER_ACCEPT},
    )
    assert explicit.mimetype == "text/csv"


def test_query_page_follows_the_language_cookie(client: FlaskClient) -> None:
    client.set_cookie("kll_lang", "sv")
    page = client.get("/sparql", headers={"Accept": "text/html", "Accept-Language": "en"})
    client.delete_cookie("kll_lang")
    assert 'lang="sv"' in page.get_data(as_text=True)
