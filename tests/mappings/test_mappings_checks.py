"""Mapping checks: each check has a fixture that triggers exactly it, with file, line and the
concepts involved; vocabulary checks run against a real (in-memory) pyoxigraph store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode, Quad, Store

from kll_graph.cli import main
from kll_graph.mappings.checks import Vocabulary, check_sets
from kll_graph.mappings.sssom import read_sssom
from kll_graph.namespaces import ESCO, OWL, RDF, SKOS, kll
from kll_graph.quality import ERROR

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sssom"
BASE = "https://w3id.org/kll-graph/"
JT = "http://data.jobtechdev.se/taxonomy/concept/"
OCC = "http://data.europa.eu/esco/occupation/"


def vocabulary_store() -> Store:
    """A small loaded vocabulary: JobTech occupation names (one deprecated), ESCO occupations
    and an ISCO group, typed the way the importers type them."""
    store = Store()
    graph = NamedNode(BASE + "graph/test/1")
    k = kll(BASE)
    quads = []
    for concept_id in ("aaaa_aaa_aa1", "aaaa_aaa_aa2", "aaaa_aaa_aa3", "dddd_ddd_dd1"):
        node = NamedNode(JT + concept_id)
        quads += [
            Quad(node, RDF.type, SKOS.Concept, graph),
            Quad(node, k.conceptType, Literal("occupation-name"), graph),
        ]
    quads.append(Quad(NamedNode(JT + "dddd_ddd_dd1"), OWL.deprecated, Literal(True), graph))
    for occupation in ("occ-1", "occ-2", "occ-3"):
        node = NamedNode(OCC + occupation)
        quads += [
            Quad(node, RDF.type, SKOS.Concept, graph),
            Quad(node, RDF.type, ESCO.Occupation, graph),
            Quad(node, RDF.type, ESCO.MemberConcept, graph),
        ]
    isco = NamedNode("http://data.europa.eu/esco/isco/C2221")
    quads += [
        Quad(isco, RDF.type, SKOS.Concept, graph),
        Quad(isco, RDF.type, ESCO.MemberConcept, graph),
    ]
    store.extend(quads)
    return store


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.from_store(vocabulary_store(), BASE)


def test_vocabulary_from_store(vocabulary: Vocabulary) -> None:
    assert JT + "aaaa_aaa_aa1" in vocabulary.present
    assert vocabulary.deprecated == {JT + "dddd_ddd_dd1"}
    assert vocabulary.scheme_of(JT + "aaaa_aaa_aa1") == "occupation-name"
    assert vocabulary.scheme_of(OCC + "occ-1") == "esco:Occupation"  # not MemberConcept
    assert vocabulary.scheme_of("http://data.europa.eu/esco/isco/C2221") == "esco/isco"


def test_the_valid_set_has_no_finding(vocabulary: Vocabulary) -> None:
    assert check_sets([read_sssom(FIXTURES / "valid.sssom.tsv")], vocabulary) == []


A1 = JT + "aaaa_aaa_aa1"
ROW_1 = ("jt:aaaa_aaa_aa1", "ESCO:occupation/occ-1")
EXPECTED = {
    # check: (line, slot, concepts named)
    "missing-metadata": (1, "license", ()),
    "missing-column": (7, "mapping_justification", ()),
    "unknown-column": (7, "confidance", ()),
    "unknown-prefix": (8, "object_id", ("isco:C2221",)),
    "not-a-curie": (8, "subject_id", (JT + "aaaa_aaa_aa1",)),
    "unknown-predicate": (8, "predicate_id", ("jt:aaaa_aaa_aa1", "ESCO:occupation/occ-1")),
    "invalid-justification": (8, "mapping_justification", ROW_1),
    "invalid-value": (8, "confidence", ("jt:aaaa_aaa_aa1", "ESCO:occupation/occ-1")),
    "duplicate-row": (9, "", ("jt:aaaa_aaa_aa1", "ESCO:occupation/occ-1")),
    "contradicting-predicates": (9, "predicate_id", (JT + "aaaa_aaa_aa1", OCC + "occ-1")),
    "multiple-exact-matches": (8, "predicate_id", (A1, OCC + "occ-1", OCC + "occ-2")),
    "exact-match-cycle": (
        8, "predicate_id",
        (A1, OCC + "occ-1", "http://data.europa.eu/esco/isco/C2221", JT + "aaaa_aaa_aa2"),
    ),
    "not-in-vocabulary": (8, "subject_id", (JT + "zzzz_zzz_zz9",)),
    "deprecated-concept": (8, "subject_id", (JT + "dddd_ddd_dd1",)),
}  # fmt: skip


@pytest.mark.parametrize("check", sorted(EXPECTED))
def test_each_fixture_triggers_exactly_its_check(check: str, vocabulary: Vocabulary) -> None:
    path = FIXTURES / f"{check}.sssom.tsv"
    findings = check_sets([read_sssom(path)], vocabulary)
    assert [f.check for f in findings] == [check], [str(f) for f in findings]
    (finding,) = findings
    line, slot, concepts = EXPECTED[check]
    assert (finding.file, finding.line, finding.slot) == (str(path), line, slot)
    assert finding.related == concepts
    assert str(finding).startswith(f"{path}:{line}: {finding.severity} {check}:")


def test_sets_are_checked_together_for_contradictions() -> None:
    """A contradiction between two files is found and names both places."""
    first = read_sssom(FIXTURES / "multiple-exact-matches.sssom.tsv")
    second = read_sssom(FIXTURES / "contradicting-predicates.sssom.tsv")
    second.mappings = second.mappings[1:]  # only its broadMatch row
    findings = [f for f in check_sets([first, second]) if f.check == "contradicting-predicates"]
    assert len(findings) == 1
    assert "multiple-exact-matches.sssom.tsv:8" in findings[0].message
    assert "contradicting-predicates.sssom.tsv:9" in findings[0].message


def test_inverse_statements_are_compared_in_one_direction() -> None:
    """ESCO broadMatch JobTech is JobTech narrowMatch ESCO: no contradiction with that."""
    mset = read_sssom(FIXTURES / "valid.sssom.tsv")
    inverse = read_sssom(FIXTURES / "valid.sssom.tsv")
    for m in inverse.mappings:
        m.slots["subject_id"], m.slots["object_id"] = m.slots["object_id"], m.slots["subject_id"]
        m.slots["predicate_id"] = {"skos:broadMatch": "skos:narrowMatch"}.get(
            m.slots["predicate_id"], m.slots["predicate_id"]
        )
    assert [f.check for f in check_sets([mset, inverse]) if f.severity == ERROR] == []


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_cli_check_text_and_json(tmp_path: Path) -> None:
    code, text = _run(
        "mappings", "check", "--no-store", "--store", str(tmp_path),
        str(FIXTURES / "valid.sssom.tsv"), str(FIXTURES / "unknown-predicate.sssom.tsv"),
    )  # fmt: skip
    assert code == 1
    assert f"{FIXTURES / 'unknown-predicate.sssom.tsv'}:8: error unknown-predicate:" in text
    assert "2 set(s), 5 mappings: 1 error(s), 0 warning(s) (unknown-predicate 1)" in text
    code, out = _run(
        "mappings", "check", "--no-store", "--format", "json",
        str(FIXTURES / "duplicate-row.sssom.tsv"),
    )  # fmt: skip
    assert code == 0  # warnings only
    report = json.loads(out)
    assert report["errors"] == 0 and report["by_check"] == {"duplicate-row": 1}
    assert report["findings"][0]["line"] == 9
    assert report["findings"][0]["concepts"] == ["jt:aaaa_aaa_aa1", "ESCO:occupation/occ-1"]


def test_cli_check_reads_esco_tables_too() -> None:
    code, out = _run(
        "mappings", "check", "--no-store", "--format", "json",
        str(Path(__file__).parents[1] / "fixtures" / "sssom" / "tables" / "bare-ids.csv"),
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["sets"][0]["mappings"] == 4


def test_cli_import_esco_table_writes_a_canonical_set(tmp_path: Path) -> None:
    out = tmp_path / "se-test.sssom.tsv"
    code, text = _run(
        "mappings", "import-esco-table",
        str(FIXTURES / "tables" / "semicolon-rows.csv"), "-o", str(out),
    )  # fmt: skip
    assert code == 0, text
    assert "semicolon-rows.csv: 9 rows" in text
    assert "line 24: blank mapping relation; row skipped" in text
    written = read_sssom(out)
    assert written.set_id == "https://w3id.org/kll-graph/mappings/se-test"
    assert len(written.mappings) == 8
    assert check_sets([written]) == []


def test_cli_import_refuses_a_bad_table(tmp_path: Path) -> None:
    code, text = _run(
        "mappings", "import-esco-table",
        str(FIXTURES / "tables" / "bad-relation.csv"), "-o", str(tmp_path / "x.sssom.tsv"),
    )  # fmt: skip
    assert code == 1
    assert "bad-relation.csv:21:7: unknown mapping relation 'skos:sameMatch'" in text
    assert not (tmp_path / "x.sssom.tsv").exists()
