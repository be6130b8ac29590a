"""SSSOM/TSV: reading, refusing malformed files, canonical writing, RDF round trip, and the
reference implementation (sssom-py) accepting what we write."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, QuerySolutions, Store

from kll_graph.exceptions import SssomError
from kll_graph.mappings.rdf import read_set, set_quads
from kll_graph.mappings.sssom import format_sssom, parse_sssom, read_sssom, write_sssom
from kll_graph.namespaces import catalog_iri

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sssom"
BASE = "https://w3id.org/kll-graph/"


def test_reads_metadata_columns_and_rows_with_their_lines() -> None:
    mset = read_sssom(FIXTURES / "valid.sssom.tsv")
    assert mset.set_id == "https://example.org/sets/valid"
    assert mset.curie_map["jt"] == "http://data.jobtechdev.se/taxonomy/concept/"
    assert mset.metadata["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert mset.header_line == 7
    assert [m.line for m in mset.mappings] == [8, 9, 10, 11]
    negated = mset.mappings[2]
    assert negated.negated and negated.get("object_id") == "ESCO:occupation/occ-3"
    assert mset.mappings[3].no_term
    assert mset.mappings[0].get("comment") == 'the "paediatric" one'


def test_canonical_form_orders_sorts_condenses_and_quotes() -> None:
    text = format_sssom(read_sssom(FIXTURES / "valid.sssom.tsv"))
    lines = text.split("\n")
    # curie_map first, only used non-built-in prefixes, sorted; then slots in spec order
    assert lines[:4] == [
        "#curie_map:",
        "#  ESCO: http://data.europa.eu/esco/",
        "#  jt: http://data.jobtechdev.se/taxonomy/concept/",
        "#  orcid: https://orcid.org/",
    ]
    header = next(line for line in lines if not line.startswith("#")).split("\t")
    assert header == [
        "subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id",
        "object_label", "mapping_justification", "author_id", "reviewer_id", "mapping_date",
        "confidence", "comment",
    ]  # fmt: skip
    rows = [line for line in lines[lines.index("\t".join(header)) + 1 :] if line]
    assert rows == sorted(rows)
    assert rows[0].startswith("jt:aaaa_aaa_aa1\tSjuksköterska\tskos:exactMatch\t\t")
    assert '"the ""paediatric"" one"' in text  # quoted only because it holds quotes
    assert "\r" not in text and text.endswith("\n")
    assert format_sssom(parse_sssom(text)) == text  # idempotent


def test_condensation_moves_a_shared_value_to_the_set_and_back() -> None:
    text = (FIXTURES / "valid.sssom.tsv").read_text(encoding="utf-8")
    same_date = text.replace("2024-05-02", "2024-05-01")
    canonical = format_sssom(parse_sssom(same_date))
    assert "#mapping_date:" in canonical
    assert "mapping_date" not in canonical.split("\n")[-4]  # not a column any more
    mset = parse_sssom(canonical)
    assert all(mset.value(m, "mapping_date") == "2024-05-01" for m in mset.mappings)


@pytest.mark.parametrize(
    ("name", "line", "column", "expected"),
    [
        ("malformed-yaml.sssom.tsv", 3, None, "not valid YAML"),
        ("malformed-cells.sssom.tsv", 9, 88, "7 cells but the header has 6 columns"),  # at "extra"
        ("malformed-no-table.sssom.tsv", 7, 1, "no mappings table"),
    ],
)
def test_malformed_files_are_refused_with_line_column_and_expectation(
    name: str, line: int, column: int | None, expected: str
) -> None:
    with pytest.raises(SssomError) as caught:
        read_sssom(FIXTURES / name)
    error = caught.value
    assert error.path == FIXTURES / name
    assert error.line == line
    if column is not None:
        assert error.column == column
    assert expected in str(error)
    assert f"{name}:{line}" in str(error)


def test_not_utf8_is_refused_with_position(tmp_path: Path) -> None:
    path = tmp_path / "latin1.sssom.tsv"
    path.write_bytes((FIXTURES / "valid.sssom.tsv").read_bytes().replace("ö".encode(), b"\xf6"))
    with pytest.raises(SssomError, match="not UTF-8") as caught:
        read_sssom(path)
    assert caught.value.line == 8


def test_bom_and_crlf_are_read_and_noted(tmp_path: Path) -> None:
    text = (FIXTURES / "valid.sssom.tsv").read_text(encoding="utf-8")
    path = tmp_path / "excel.sssom.tsv"
    path.write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode())
    mset = read_sssom(path)
    assert len(mset.mappings) == 4
    assert [note for _, note in mset.notes] == [
        "the file starts with a byte order mark; SSSOM files must not",
        "the file has CR line ends; canonical SSSOM uses LF only",
    ]
    assert format_sssom(mset) == format_sssom(read_sssom(FIXTURES / "valid.sssom.tsv"))


def _compile(mset_path: Path) -> tuple[Store, str]:
    mset = read_sssom(mset_path)
    store = Store()
    graph = NamedNode(BASE + "graph/mappings/working-copy/valid")
    store.bulk_extend(set_quads(mset, graph, catalog_iri(BASE), BASE))
    return store, mset.set_id


def test_sssom_to_rdf_to_sssom_gives_the_same_file() -> None:
    original = format_sssom(read_sssom(FIXTURES / "valid.sssom.tsv"))
    store, set_id = _compile(FIXTURES / "valid.sssom.tsv")
    assert format_sssom(read_set(store, set_id, BASE)) == original


def test_rdf_has_matches_only_for_positive_rows_and_filterable_provenance() -> None:
    store, _ = _compile(FIXTURES / "valid.sssom.tsv")
    matches = {
        (q.subject.value[-3:], q.predicate.value.rsplit("#", 1)[1], q.object.value[-5:])
        for q in store.quads_for_pattern(None, None, None, None)
        if q.predicate.value.startswith("http://www.w3.org/2004/02/skos/core#")
        and isinstance(q.subject, NamedNode)
        and isinstance(q.object, NamedNode)
    }
    # the negated row (occ-3) and the NoTermFound row (aa3) give no skos triple
    assert matches == {("aa1", "exactMatch", "occ-1"), ("aa2", "broadMatch", "occ-2")}
    reviewed_exact = """
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX sssom: <https://w3id.org/sssom/>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?s ?o WHERE {
          ?m owl:annotatedSource ?s ; owl:annotatedProperty skos:exactMatch ;
             owl:annotatedTarget ?o ; sssom:reviewer_id ?reviewer ;
             sssom:confidence ?c ; dcterms:created ?date .
          FILTER NOT EXISTS { ?m sssom:predicate_modifier sssom:NegatedPredicate }
          FILTER(?c >= 0.9 && ?date >= "2024-01-01"^^<http://www.w3.org/2001/XMLSchema#date>)
        }"""
    rows = store.query(reviewed_exact, use_default_graph_as_union=True)
    assert isinstance(rows, QuerySolutions)
    assert [(r["s"].value[-3:], r["o"].value[-5:]) for r in rows] == [("aa1", "occ-1")]
    negated = """
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX sssom: <https://w3id.org/sssom/>
        SELECT ?o WHERE { ?m sssom:predicate_modifier sssom:NegatedPredicate ;
                              owl:annotatedTarget ?o }"""
    solutions = store.query(negated, use_default_graph_as_union=True)
    assert isinstance(solutions, QuerySolutions)
    assert [r["o"].value for r in solutions] == ["http://data.europa.eu/esco/occupation/occ-3"]


def test_set_metadata_is_in_the_catalog_graph() -> None:
    store, set_id = _compile(FIXTURES / "valid.sssom.tsv")
    catalog = catalog_iri(BASE)
    types = list(store.quads_for_pattern(NamedNode(set_id), None, None, catalog))
    predicates = {q.predicate.value for q in types}
    assert "http://purl.org/dc/terms/license" in predicates
    assert "http://www.w3.org/ns/shacl#declare" in predicates


def _validate_with_sssom_py(path: Path, caplog: pytest.LogCaptureFixture) -> int:
    from sssom.constants import SchemaValidationType
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(path)
    # sssom-py warns about every non-standard metadata key or undeclared prefix it meets
    assert not [r for r in caplog.records if "not a standard SSSOM" in r.getMessage()]
    reports = validate(
        msdf,
        [
            SchemaValidationType.JsonSchema,
            SchemaValidationType.PrefixMapCompleteness,
            SchemaValidationType.StrictCurieFormat,
        ],
        fail_on_error=False,
    )
    for kind, report in reports.items():
        assert report.results == [], (kind, [r.message for r in report.results[:5]])
    return len(msdf.df)


def test_reference_implementation_validates_our_canonical_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "valid.sssom.tsv"
    write_sssom(read_sssom(FIXTURES / "valid.sssom.tsv"), out)
    assert _validate_with_sssom_py(out, caplog) == 4
