"""Bad and awkward JobTech input: each case is one tiny file written by the test.

Malformed JSON names the file, line and column; a wrong shape says what was expected; files that
disagree are merged and the disagreement reported; concepts without ids are matched by code or
reported. Also: the bundled sample loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kll_graph.exceptions import SourceError
from kll_graph.settings import SAMPLE_DIR
from tests.importers.test_jobtech_dump import JT, rows, run_importer, values


def write(folder: Path, name: str, concepts: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"data": {"concepts": concepts}}), encoding="utf-8")
    return path


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "skills.json"
    bad.write_text(
        '{"data": {"concepts": [\n  {"id": "a", "type": "skill",}\n]}}', encoding="utf-8"
    )
    with pytest.raises(SourceError) as caught:
        run_importer(tmp_path)
    error = caught.value
    assert error.path == bad
    assert (error.line, error.column) == (2, 31)
    assert "malformed JSON" in str(error)
    assert "skills.json at line 2, column 31" in str(error)


def test_wrong_shape_says_what_was_expected(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"concepts": []}', encoding="utf-8")
    with pytest.raises(SourceError, match=r'expected \{"data": \{"concepts": \[\.\.\.\]\}\}'):
        run_importer(tmp_path)


def test_relation_that_is_not_a_list_names_where(tmp_path: Path) -> None:
    write(tmp_path, "occ.json", [{"id": "a", "type": "occupation-name", "broader": "b"}])
    with pytest.raises(SourceError) as caught:
        run_importer(tmp_path)
    assert "occ.json concepts[0]: 'broader' must be a list, got str" in str(caught.value)


def test_bad_percentage_is_an_error(tmp_path: Path) -> None:
    item = {"id": "b", "type": "occupation-name", "substitutability_percentage": "hög"}
    write(tmp_path, "s.json", [{"id": "a", "type": "occupation-name", "substitutes": [item]}])
    with pytest.raises(SourceError, match=r"substitutes\[0\]: substitutability_percentage"):
        run_importer(tmp_path)


def test_no_dataset_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here", encoding="utf-8")
    with pytest.raises(SourceError, match=r"no JobTech dataset file"):
        run_importer(tmp_path)


def test_one_concept_in_two_files_is_merged_and_disagreements_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.json", [
        {"id": "c1", "type": "ssyk-level-4", "preferred_label": "Kockar", "ssyk_code_2012": "3451",
         "alternative_labels": ["Kock"]},
    ])  # fmt: skip
    write(tmp_path, "b.json", [
        {"id": "c1", "type": "ssyk-level-4", "preferred_label": "Kockar och kallskänkor",
         "ssyk_code_2012": "3451", "alternative_labels": ["Kock", "Kallskänka"]},
    ])  # fmt: skip
    ctx = run_importer(tmp_path)
    assert values(ctx, "c1", "skos:prefLabel") == {"Kockar"}  # the first file read wins
    assert values(ctx, "c1", "skos:altLabel") == {"Kock", "Kallskänka"}
    assert values(ctx, "c1", "skos:notation") == {"3451"}
    [warning] = ctx.report.warnings
    assert warning == "1 preferred-label disagreements: c1 'Kockar' vs 'Kockar och kallskänkor'"


def test_conflicting_codes_and_percentages_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.json", [
        {"id": "g", "type": "ssyk-level-4", "ssyk_code_2012": "1111"},
        {"id": "o", "type": "occupation-name", "substitutes": [
            {"id": "p", "type": "occupation-name", "substitutability_percentage": 75}]},
    ])  # fmt: skip
    write(tmp_path, "b.json", [
        {"id": "g", "type": "ssyk-level-4", "ssyk_code_2012": "1112"},
        {"id": "p", "type": "occupation-name", "substituted_by": [
            {"id": "o", "type": "occupation-name", "substitutability_percentage": 25}]},
    ])  # fmt: skip
    ctx = run_importer(tmp_path)
    warnings = "\n".join(ctx.report.warnings)
    assert "1 code disagreements: g ssyk_code_2012 '1111' vs '1112'" in warnings
    assert "1 substitutability disagreements: o→p 75 vs 25" in warnings
    assert values(ctx, "g", "skos:notation") == {"1111", "1112"}  # both kept, reported
    pct = rows(ctx, "SELECT ?p WHERE { ?n kll:substitutabilityPercentage ?p }")
    assert pct == [{"p": "75"}]


def test_concepts_without_id_are_matched_by_code_or_reported(tmp_path: Path) -> None:
    write(tmp_path, "sni-hierarchy.json", [
        {"id": "s1", "type": "sni-level-1", "preferred_label": "Jordbruk",
         "sni_level_code_2007": "A"},
    ])  # fmt: skip
    write(tmp_path, "sni-level-1.json", [
        {"type": "sni-level-1", "preferred_label": "Jordbruk", "sni_level_code_2007": "A"},
        {"type": "sni-level-1", "preferred_label": "Utvinning", "sni_level_code_2007": "B"},
    ])  # fmt: skip
    ctx = run_importer(tmp_path)
    assert ctx.report.counts["concepts without id matched by code"] == 1
    assert ctx.report.counts["concepts without id unmatched"] == 1
    assert any("sni-level-1.json concepts[1]" in w for w in ctx.report.warnings)
    concepts = rows(ctx, "SELECT ?c WHERE { ?c a skos:Concept }")
    assert concepts == [{"c": JT + "s1"}]


def test_legacy_file_that_is_not_an_object_of_entries(tmp_path: Path) -> None:
    bad = tmp_path / "concept-to-taxonomy.json"
    bad.write_text('{"abc_DEF_123": "3300"}', encoding="utf-8")
    with pytest.raises(SourceError, match=r"entry 'abc_DEF_123': expected an object"):
        run_importer(bad, importer="jobtech-legacy", version="2020-06-24")
    bad.write_text('{"abc_DEF_123": {"legacyAmsTaxonomyId": "1"}', encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        run_importer(bad, importer="jobtech-legacy", version="2020-06-24")
    assert caught.value.line == 1


def ids_in(node: object) -> set[str]:
    """Every concept id anywhere in a JobTech JSON document (concept-type ids left out)."""
    if isinstance(node, dict):
        own = {node["id"]} if isinstance(node.get("id"), str) and "label_en" not in node else set()
        return own.union(*(ids_in(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(ids_in(v) for v in node))
    return set()


# --- the bundled sample --------------------------------------------------------------------------
@pytest.mark.skipif(
    not (SAMPLE_DIR / "jobtech" / "taxonomy-datasets").is_dir(), reason="no bundled sample"
)
def test_the_bundled_sample_loads() -> None:
    ctx = run_importer(SAMPLE_DIR / "jobtech" / "taxonomy-datasets", version="unknown")
    counts = ctx.report.counts
    files = [p for p in (SAMPLE_DIR / "jobtech" / "taxonomy-datasets").glob("*.json")]
    assert counts["files"] == len(files) - 1  # concept-types.json holds types, not concepts
    assert counts["concepts"] == len(
        set().union(*(ids_in(json.loads(p.read_text())) for p in files))
    )
    assert counts["edges broader"] > 0 and counts["edges substitutes"] > 0
    assert ctx.report.warnings == []
    occupations = rows(
        ctx,
        """SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {
        ?o kll:conceptType "occupation-name" ; skos:broader ?g . ?g skos:notation ?code }""",
    )
    assert int(occupations[0]["n"]) > 10
    legacy = run_importer(
        SAMPLE_DIR / "jobtech" / "legacy-id-mapping" / "concept-to-taxonomy.json",
        importer="jobtech-legacy",
        version="2020-06-24",
    )
    assert legacy.report.counts["legacy ids"] > 0
