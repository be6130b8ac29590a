"""The SPARQL domain without HTTP: query inspection, dataset rules, result writers and limits."""

from __future__ import annotations

import csv
import io
import itertools
import json

import pytest
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
)

from kll_graph.exceptions import NotAcceptableError, QueryError, UpdateForbiddenError
from kll_graph.sparql import formats as sparql_formats
from kll_graph.sparql.formats import (
    NATIVE_SOLUTIONS,
    by_name,
    by_names,
    collect,
    count_rows,
    write,
    write_native,
)
from kll_graph.sparql.lexer import find_service, inspect_query
from kll_graph.sparql.query import (
    Dataset,
    current_releases,
    default_dataset,
    execute,
    select_named,
)

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"


# --- inspection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * { service silent <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * { ?x ?y ?z OPTIONAL { SERVICE ?endpoint { ?s ?p ?o } } }",
        "PREFIX s: <http://x/> ASK { SeRvIcE<http://127.0.0.1:9/>{?s ?p ?o} }",
        "SELECT * { ?s ?p ?o } # comment\nUNION { SERVICE <http://a/> {} }",
        # An IRI with a \\u escape and a # inside: not a comment, SERVICE after it is code.
        "SELECT * { ?s <http://x/\\u0041#p> ?o SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }",
        "SELECT * { ?s ?p '''it''s''' SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }",
        "SELECT * { ?a ?b ?c FILTER(?a<?b)SERVICE<http://127.0.0.1:9/>{} }",
        "CONSTRUCT { ?s ?p ?o } WHERE { { SELECT * { SERVICE <http://a/> { ?s ?p ?o } } } }",
    ],
)
def test_service_is_found_and_refused(query: str) -> None:
    assert find_service(query)
    with pytest.raises(QueryError, match="SERVICE is not allowed"):
        inspect_query(query)


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?service { ?service <http://ex/service> "SERVICE" }',
        "SELECT * { ?s a <http://example.org/Service> } # SERVICE <http://x/> {}",
        "PREFIX service: <http://x/> SELECT * { ?s service:p ?o }",
        'SELECT * { ?s ?p """multi\nline SERVICE <http://x/> { }""" }',
    ],
)
def test_the_word_service_elsewhere_is_allowed(query: str) -> None:
    assert not find_service(query)
    assert inspect_query(query).form == "SELECT"


@pytest.mark.parametrize(
    ("query", "form", "has_dataset"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT", False),
        ("BASE <http://x/> PREFIX a: <http://y/> ask { ?s ?p ?o }", "ASK", False),
        ("# leading comment\nCONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", False),
        ("DESCRIBE <http://x/a>", "DESCRIBE", False),
        ("SELECT * FROM <http://g/> { ?s ?p ?o }", "SELECT", True),
        ("SELECT * FROM NAMED <http://g/> { GRAPH ?g { ?s ?p ?o } }", "SELECT", True),
    ],
)
def test_form_and_dataset_clause(query: str, form: str, has_dataset: bool) -> None:
    info = inspect_query(query)
    assert (info.form, info.has_dataset) == (form, has_dataset)


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <http://a> <http://b> <http://c> }",
        "PREFIX x: <http://x/> DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://127.0.0.1:9/data.ttl>",
        "CLEAR ALL",
        "DROP GRAPH <http://g/>",
    ],
)
def test_updates_are_refused_with_an_explanation(update: str) -> None:
    with pytest.raises(UpdateForbiddenError, match=r"read-only.*kll-graph build"):
        inspect_query(update)


def test_empty_and_formless_queries() -> None:
    with pytest.raises(QueryError, match="empty"):
        inspect_query("  \n\t")
    with pytest.raises(QueryError, match="found none"):
        inspect_query("# only a comment\n")
    with pytest.raises(QueryError, match="expected SELECT, ASK, CONSTRUCT or DESCRIBE"):
        inspect_query("PREFIX a: <http://a/>")
    with pytest.raises(QueryError, match="found 'HELLO'"):
        inspect_query("hello world")


# --- dataset rules ----------------------------------------------------------------------------


@pytest.fixture
def two_graphs() -> Store:
    store = Store()
    for graph, value in (("g1", "one"), ("g2", "two")):
        store.add(
            Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal(value), NamedNode(EX + graph))
        )
    return store


def _values(result: object) -> set[str]:
    return {row["o"].value for row in result}  # type: ignore[attr-defined]


def test_default_graph_is_the_union(two_graphs: Store) -> None:
    assert _values(execute(two_graphs, "SELECT ?o { ?s ?p ?o }")) == {"one", "two"}


def test_from_in_the_query_holds(two_graphs: Store) -> None:
    query = f"SELECT ?o FROM <{EX}g1> {{ ?s ?p ?o }}"
    assert _values(execute(two_graphs, query)) == {"one"}


def test_protocol_dataset_overrides_the_query(two_graphs: Store) -> None:
    query = f"SELECT ?o FROM <{EX}g1> {{ ?s ?p ?o }}"
    assert _values(execute(two_graphs, query, Dataset(default_graphs=(EX + "g2",)))) == {"two"}


def test_named_graphs_only_leave_the_default_graph_empty(two_graphs: Store) -> None:
    dataset = Dataset(named_graphs=(EX + "g2",))
    assert _values(execute(two_graphs, "SELECT ?o { ?s ?p ?o }", dataset)) == set()
    rows = execute(two_graphs, "SELECT ?g ?o { GRAPH ?g { ?s ?p ?o } }", dataset)
    assert [(r["g"].value, r["o"].value) for r in rows] == [(EX + "g2", "two")]


def test_syntax_error_carries_the_parser_position(two_graphs: Store) -> None:
    with pytest.raises(QueryError, match=r"SPARQL syntax error: error at 1:\d+"):
        execute(two_graphs, "SELECT * { ?s ?p }")


# --- writers ---------------------------------------------------------------------------------


@pytest.fixture
def tricky() -> Store:
    """Values that break naive writers: tabs, line breaks, quotes, commas, languages, types."""
    store = Store()
    s = NamedNode(EX + "s")
    values = [
        Literal('tab\there, "quoted", comma'),
        Literal("line\nbreak\r\nand\\backslash", language="sv"),
        Literal("42", datatype=NamedNode(XSD + "integer")),
        Literal("åäö ✓ 𝄞"),
        NamedNode(EX + "o?x=1&y=%3C2%3E"),
        BlankNode("b0"),
    ]
    for i, value in enumerate(values):
        store.add(Quad(s, NamedNode(f"{EX}p{i}"), value, DefaultGraph()))
    store.add(
        Quad(NamedNode(EX + "t"), NamedNode(EX + "p0"), Literal("no optional"), DefaultGraph())
    )
    return store


TRICKY_QUERY = (
    "SELECT ?s ?p ?o ?extra { ?s ?p ?o OPTIONAL { ?s <http://example.org/none> ?extra } }"
)


def _rows(solutions: object, variables: list[str]) -> list[tuple[object, ...]]:
    return sorted(
        (
            tuple(str(row[v]) if row[v] is not None else None for v in variables)  # type: ignore[index]
            for row in solutions
        ),  # type: ignore[attr-defined]
        key=repr,
    )


def _ours(store: Store, query: str, name: str, limit: int = 1000) -> bytes:
    out = io.BytesIO()
    write(collect(execute(store, query), limit), by_name("solutions", name), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("json", QueryResultsFormat.JSON),
        ("xml", QueryResultsFormat.XML),
        ("tsv", QueryResultsFormat.TSV),
    ],
)
def test_solution_writers_round_trip_through_the_engines_parser(
    tricky: Store, name: str, fmt: QueryResultsFormat
) -> None:
    variables = ["s", "p", "o", "extra"]
    expected = _rows(execute(tricky, TRICKY_QUERY), variables)
    parsed = parse_query_results(_ours(tricky, TRICKY_QUERY, name), fmt)
    assert [v.value for v in parsed.variables] == variables  # type: ignore[union-attr]
    assert _rows(parsed, variables) == expected
    assert len(expected) == 7


def test_json_writer_matches_the_standard_shape(tricky: Store) -> None:
    document = json.loads(_ours(tricky, TRICKY_QUERY, "json"))
    assert document["head"]["vars"] == ["s", "p", "o", "extra"]
    by_p = {b["p"]["value"]: b for b in document["results"]["bindings"]}
    assert by_p[EX + "p1"]["o"] == {
        "type": "literal",
        "value": "line\nbreak\r\nand\\backslash",
        "xml:lang": "sv",
    }
    assert by_p[EX + "p2"]["o"]["datatype"] == XSD + "integer"
    assert "datatype" not in by_p[EX + "p3"]["o"]  # xsd:string is implied
    assert by_p[EX + "p5"]["o"] == {"type": "bnode", "value": "b0"}
    assert all("extra" not in b for b in document["results"]["bindings"])


def test_csv_writer_follows_rfc4180(tricky: Store) -> None:
    text = _ours(tricky, TRICKY_QUERY, "csv").decode("utf-8")
    assert text.startswith("s,p,o,extra\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 8
    values = {row[2] for row in rows[1:]}
    assert 'tab\there, "quoted", comma' in values
    assert "line\nbreak\r\nand\\backslash" in values
    assert "_:b0" in values and EX + "o?x=1&y=%3C2%3E" in values
    assert all(row[3] == "" for row in rows[1:])


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False)])
def test_ask_in_every_format(value: str, expected: bool) -> None:
    store = Store()
    store.add(Quad(NamedNode(EX + "a"), NamedNode(EX + "b"), Literal("c"), DefaultGraph()))
    query = "ASK { ?s ?p 'c' }" if expected else "ASK { ?s ?p 'nothing' }"
    assert json.loads(_ours(store, query, "json")) == {"head": {}, "boolean": expected}
    assert bool(parse_query_results(_ours(store, query, "xml"), QueryResultsFormat.XML)) is expected
    assert _ours(store, query, "csv").decode().strip() == value
    assert _ours(store, query, "tsv").decode().strip() == value


def test_row_limit_cuts_and_says_so(tricky: Store) -> None:
    collected = collect(execute(tricky, TRICKY_QUERY), 3)
    assert collected.truncated and collected.count == 3
    whole = collect(execute(tricky, TRICKY_QUERY), 7)
    assert not whole.truncated and whole.count == 7
    document = json.loads(_ours(tricky, TRICKY_QUERY, "json", limit=3))
    assert len(document["results"]["bindings"]) == 3


def _undef_rows(count: int) -> str:
    return "SELECT ?x { VALUES ?x { " + "UNDEF " * count + "} }"


@pytest.mark.parametrize("name", sorted(NATIVE_SOLUTIONS))
def test_every_row_adds_at_least_the_assumed_bytes(name: str) -> None:
    """write_native's proof rests on this: an empty row is the smallest a row can be."""
    native, row_bytes = NATIVE_SOLUTIONS[name]
    sizes = [len(Store().query(_undef_rows(n)).serialize(format=native)) for n in range(6)]
    steps = [after - before for before, after in itertools.pairwise(sizes)]
    assert min(steps) >= row_bytes
    # the minimum is tight: an empty row adds exactly it, plus at most a one-byte separator
    assert max(steps) <= row_bytes + 1


@pytest.mark.parametrize("name", sorted(NATIVE_SOLUTIONS))
def test_results_within_the_limit_are_the_engines_own_output(tricky: Store, name: str) -> None:
    native, _ = NATIVE_SOLUTIONS[name]
    fmt = by_name("solutions", name)
    body = write_native(execute(tricky, TRICKY_QUERY), fmt, 7)  # type: ignore[arg-type]
    assert body == execute(tricky, TRICKY_QUERY).serialize(format=native)  # type: ignore[union-attr]
    if name != "csv":  # CSV loses term kinds, so it cannot round trip
        variables = ["s", "p", "o", "extra"]
        assert _rows(parse_query_results(body, native), variables) == _rows(
            execute(tricky, TRICKY_QUERY), variables
        )
    # one row fewer allowed: the engine's output cannot be cut, so the caller must collect
    assert write_native(execute(tricky, TRICKY_QUERY), fmt, 6) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(NATIVE_SOLUTIONS))
@pytest.mark.parametrize("rows", [0, 1, 5, 9, 10, 11, 50, 400])
def test_write_native_never_passes_the_row_limit(name: str, rows: int) -> None:
    native, _ = NATIVE_SOLUTIONS[name]
    body = write_native(Store().query(_undef_rows(rows)), by_name("solutions", name), 10)  # type: ignore[arg-type]
    if rows > 10:
        assert body is None
    else:
        assert body == Store().query(_undef_rows(rows)).serialize(format=native)  # type: ignore[union-attr]


@pytest.mark.parametrize("name", sorted(NATIVE_SOLUTIONS))
def test_write_native_stops_at_its_byte_cap(
    tricky: Store, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    fmt = by_name("solutions", name)
    # all 7 rows are within the limit, but the output is larger than the cap
    monkeypatch.setattr(sparql_formats, "NATIVE_CAP", 100)
    assert write_native(execute(tricky, TRICKY_QUERY), fmt, 7) is None  # type: ignore[arg-type]
    monkeypatch.setattr(sparql_formats, "NATIVE_CAP", 100_000)
    assert write_native(execute(tricky, TRICKY_QUERY), fmt, 7) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(NATIVE_SOLUTIONS))
def test_rows_are_counted_in_the_engines_output(name: str) -> None:
    """Literals that look like row syntax in each format must not be counted as rows."""
    store = Store()
    nasty = [
        "<result></result>",
        '},{"x":{}},{',
        "line\nbreak\r\n",
        'comma, "quote"\r\nnext',
        "tab\there\n?x\n",
        "",
    ]
    for i, text in enumerate(nasty):
        store.add(Quad(NamedNode(f"{EX}s{i}"), NamedNode(EX + "p"), Literal(text), DefaultGraph()))
    query = "SELECT ?s ?o ?none { ?s ?p ?o OPTIONAL { ?s <http://example.org/q> ?none } }"
    native, _ = NATIVE_SOLUTIONS[name]
    body = store.query(query).serialize(format=native)  # type: ignore[union-attr]
    assert count_rows(body, name) == len(nasty)
    assert count_rows(Store().query(_undef_rows(0)).serialize(format=native), name) == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "rdf_format"),
    [
        ("ttl", RdfFormat.TURTLE),
        ("nt", RdfFormat.N_TRIPLES),
        ("rdfxml", RdfFormat.RDF_XML),
        ("jsonld", RdfFormat.JSON_LD),
        ("nq", RdfFormat.N_QUADS),
        ("trig", RdfFormat.TRIG),
    ],
)
def test_graph_writers_round_trip(tricky: Store, name: str, rdf_format: RdfFormat) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(!isBlank(?o)) }"
    expected = {str(t) for t in execute(tricky, query)}  # type: ignore[union-attr]
    out = io.BytesIO()
    write(collect(execute(tricky, query), 100), by_name("graph", name), out)
    parsed = {str(q.triple) for q in parse(out.getvalue(), rdf_format)}
    assert parsed == expected and len(expected) == 6


def test_format_names_are_checked_against_the_result_kind() -> None:
    assert by_name("solutions", "application/sparql-results+json").name == "json"
    with pytest.raises(
        NotAcceptableError, match="does not fit a SELECT/ASK result; use one of json"
    ):
        by_name("solutions", "ttl")
    with pytest.raises(NotAcceptableError, match="'yaml' is no format of a CONSTRUCT/DESCRIBE"):
        by_name("graph", "yaml")


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("solutions", "xml", "xml"),
        ("graph", "xml", "rdfxml"),
        ("solutions", "json", "json"),
        ("graph", "json", "jsonld"),
        ("graph", "json-ld", "jsonld"),
        ("graph", "rdf+xml", "rdfxml"),
        ("graph", "turtle", "ttl"),
        ("graph", "n3", "ttl"),
        ("graph", "ntriples", "nt"),
        ("solutions", "text/tab-separated-values", "tsv"),
        ("graph", "application/rdf+xml", "rdfxml"),
    ],
)
def test_format_names_read_as_fuseki_and_virtuoso_read_them(
    kind: str, name: str, expected: str
) -> None:
    assert by_name(kind, name).name == expected


def test_format_names_must_agree() -> None:
    assert by_names("graph", ["json-ld", "application/ld+json", "json"]).name == "jsonld"
    assert by_names("graph", []) is None
    with pytest.raises(QueryError, match=r"name different formats \(csv, json\)"):
        by_names("solutions", ["json", "csv"])


# --- the current releases of a served build -----------------------------------------------------


def _statements(rows: QuerySolutions) -> list[tuple[str, str]]:
    return sorted((str(row["p"]), str(row["o"])) for row in rows)


@pytest.mark.parametrize("which", ["sample_store", "real_store"])
def test_a_served_builds_current_releases_are_worked_out_once_per_build(
    which: str, request: pytest.FixtureRequest
) -> None:
    """Of a served build the dataset options are the store's, computed once (the real build has
    older releases, so working them out takes queries), and a named query reads the same rows
    whether it is given the build or its store."""
    served = request.getfixturevalue(which).get()
    options = current_releases(served)
    assert options == current_releases(served.store)
    # worked out once per build, where the work is: which graphs the default graph keeps
    assert default_dataset(served) is default_dataset(served)
    assert default_dataset(served) == default_dataset(served.store)
    if which == "real_store":
        assert "default_graph" in options  # older releases are left out of the default graph
    node = NamedNode("http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR")
    statements = _statements(select_named(served, "concept_outgoing", c=node))
    assert statements and statements == _statements(
        select_named(served.store, "concept_outgoing", c=node)
    )
