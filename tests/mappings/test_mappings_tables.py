"""ESCO mapping-tool exports to SSSOM: every quirk on small fixtures, then the real tables."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from kll_graph.exceptions import SssomError
from kll_graph.mappings.official_tables import convert_tables, excel_or_iso_date, read_esco_table
from kll_graph.mappings.sssom import NO_TERM_FOUND, format_sssom, parse_sssom, write_sssom
from kll_graph.settings import SAMPLE_DIR

TABLES = Path(__file__).parents[1] / "fixtures" / "sssom" / "tables"
SET_ID = "https://w3id.org/kll-graph/mappings/test"


def _by_line(paths: list[Path]) -> dict[int, dict[str, str]]:
    mset, _ = convert_tables(paths, SET_ID)
    return {m.line: m.slots for m in mset.mappings}


def test_semicolon_rows_bom_crlf_and_every_row_quirk() -> None:
    table = read_esco_table(TABLES / "semicolon-rows.csv")
    assert table.bom and table.semicolon_rows
    assert table.preamble["Classification 2 Version"] == "21"
    assert table.data_rows == 9
    assert table.relations == Counter(
        {"skos:broadMatch": 2, "skos:exactMatch": 1, "skos:narrowMatch": 1,
         "skos:closeMatch": 1, "no relation": 3, "": 1}
    )  # fmt: skip
    rows = _by_line([TABLES / "semicolon-rows.csv"])
    assert sorted(rows) == [18, 19, 20, 21, 22, 23, 25, 26]  # line 24 (blank relation) skipped
    assert any("line 24: blank mapping relation" in w for w in table.warnings)
    # direction: ESCO broadMatch JobTech  ->  JobTech narrowMatch ESCO
    assert rows[19]["subject_id"] == "jt:aaaa_aaa_aa2"
    assert rows[19]["predicate_id"] == "skos:narrowMatch"
    assert rows[19]["object_id"] == "ESCO:skill/s2"
    assert rows[19]["subject_label"] == "Abap, programmeringsspråk"
    assert rows[19]["comment"] == "checked"  # the editorial note
    # a label quoted twice: joined back, relation found, row says so
    assert rows[20]["subject_label"] == "Elitidrott, erfarenhet"
    assert rows[20]["predicate_id"] == "skos:narrowMatch"
    assert "line 20" in rows[20]["comment"] and "joined back" in rows[20]["comment"]
    # the relation swallowed into the URL cell
    assert rows[21]["predicate_id"] == "skos:broadMatch"
    assert "column 6 instead of 7" in rows[21]["comment"]
    # a row split over two spreadsheet cells
    assert rows[22]["subject_id"] == "jt:aaaa_aaa_aa5"
    assert rows[22]["predicate_id"] == "skos:closeMatch"
    # "no relation": the missing side is sssom:NoTermFound, never a match; both sides: negated
    assert rows[23]["subject_id"] == NO_TERM_FOUND and rows[23]["object_id"] == "ESCO:skill/s6"
    assert rows[25]["subject_id"] == "jt:aaaa_aaa_aa8" and rows[25]["object_id"] == NO_TERM_FOUND
    assert rows[26]["predicate_modifier"] == "Not"


def test_preamble_carried_into_the_set_metadata() -> None:
    mset, _ = convert_tables([TABLES / "semicolon-rows.csv"], SET_ID)
    meta = mset.metadata
    assert meta["mapping_set_title"] == "ESCO - TEST NSC"
    assert meta["subject_source_version"] == "21"
    assert meta["object_source_version"] == "1.0.9"
    assert meta["mapping_date"] == "2023-11-13"  # spreadsheet day 45243
    assert "Esco - kompetenser" in meta["mapping_set_description"]
    assert "Swedish skills" in meta["mapping_set_description"]
    assert meta["see_also"] == [
        "https://atlas.jobtechdev.se/",
        "https://ec.europa.eu/esco/portal/skill",
    ]
    assert "author_label" not in mset.mappings[0].slots  # "default-author" is no author


def test_bare_jobtech_ids_and_iso_date() -> None:
    rows = _by_line([TABLES / "bare-ids.csv"])
    assert [r["subject_id"] for r in rows.values()] == [
        "jt:SNvc_SeK_9aH", "jt:J9hX_byC_fkn", "jt:KZsj_HrG_iKS", "jt:NzUp_Gcr_4Hw",
    ]  # fmt: skip
    assert rows[19]["object_id"] == "ESCO:isco/C1343"
    assert rows[19]["object_source"] == "ESCO:concept-scheme/isco"
    assert rows[20]["predicate_id"] == "skos:narrowMatch"  # ESCO fotojournalist broad Fotograf
    mset, _ = convert_tables([TABLES / "bare-ids.csv"], SET_ID)
    assert mset.metadata["mapping_date"] == "2022-03-30"


@pytest.mark.parametrize(
    ("name", "line", "column", "expected"),
    [
        ("bad-relation.csv", 21, 7, "unknown mapping relation 'skos:sameMatch'"),
        ("bad-jobtech-id.csv", 21, 4, "neither a JobTech concept URI"),
        ("no-header.csv", None, None, "no header line starting with 'Classification 1 URI'"),
    ],
)
def test_bad_tables_are_refused_with_position(
    name: str, line: int | None, column: int | None, expected: str
) -> None:
    with pytest.raises(SssomError) as caught:
        read_esco_table(TABLES / name)
    assert caught.value.line == line
    assert caught.value.column == column
    assert expected in str(caught.value)


def test_tables_of_different_projects_are_not_merged() -> None:
    with pytest.raises(SssomError, match="convert them separately"):
        convert_tables([TABLES / "bare-ids.csv", TABLES / "semicolon-rows.csv"], SET_ID)


def test_excel_dates() -> None:
    assert excel_or_iso_date("45243") == "2023-11-13"
    assert excel_or_iso_date("2022-03-30") == "2022-03-30"
    assert excel_or_iso_date("csv_generator$today@1751f89f") is None


def test_bundled_sample_tables_convert(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = SAMPLE_DIR / "jobtech" / "esco-mappings"
    files = sorted(folder.glob("*.csv"))
    assert len(files) == 2
    for file in files:
        mset, (table,) = convert_tables([file], SET_ID)
        assert table.data_rows == len(mset.mappings) > 0
        out = tmp_path / (file.stem + ".sssom.tsv")
        write_sssom(mset, out)
        assert format_sssom(parse_sssom(out.read_text(encoding="utf-8"))) == out.read_text(
            encoding="utf-8"
        )


# --- the real tables -----------------------------------------------------------------------------


def _real(shared_data: Path, name: str) -> Path:
    return shared_data / "jobtech" / "esco-mappings" / name


OCCUPATIONS = "SE_occupations_ESCO-1.1.1_taxonomy-v18.csv"
SKILLS = "SE_skills_ESCO-1.0.9_taxonomy-v21_2023-11-30.csv"
OCCUPATIONS_108 = "SE_occupations_ESCO-1.0.8_2022-03-30.csv"


@pytest.mark.realdata
def test_real_occupations_table_counts(shared_data: Path) -> None:
    table = read_esco_table(_real(shared_data, OCCUPATIONS))
    assert table.data_rows == 5529
    assert table.relations == Counter(
        {"skos:narrowMatch": 1936, "skos:broadMatch": 1778, "skos:exactMatch": 1525,
         "skos:closeMatch": 285, "no relation": 5}
    )  # fmt: skip
    assert table.warnings == []
    mset, _ = convert_tables([_real(shared_data, OCCUPATIONS)], SET_ID)
    after = Counter(m.get("predicate_id") for m in mset.mappings if not m.no_term)
    # broad and narrow swap with the direction; exact and close stay
    assert after == Counter(
        {"skos:broadMatch": 1936, "skos:narrowMatch": 1778, "skos:exactMatch": 1525,
         "skos:closeMatch": 285}
    )  # fmt: skip
    assert sum(m.no_term for m in mset.mappings) == 5


@pytest.mark.realdata
def test_real_skills_table_counts(shared_data: Path) -> None:
    """20,365 rows, one per line after the header (the issue's 20,363 / 1,340 / 7 blank come
    from reading the file as one CSV stream after unwrapping lines: the stray quote on line
    10,487 then swallows lines 10,488 and 10,489 into one record, see the next test). The five
    rows whose relation stands in the wrong cell are recovered and flagged, so none is blank."""
    table = read_esco_table(_real(shared_data, SKILLS))
    assert table.bom and table.semicolon_rows
    assert table.data_rows == 20365
    assert table.relations == Counter(
        {"skos:broadMatch": 10912, "skos:narrowMatch": 4750, "skos:closeMatch": 2016,
         "skos:exactMatch": 1346, "no relation": 1341}
    )  # fmt: skip
    repaired = sorted(row.line for row in table.rows if row.repair)
    assert repaired == [2596, 5261, 7885, 13173, 15816]
    assert len(table.warnings) == 5


@pytest.mark.realdata
def test_real_skills_lines_are_not_merged(shared_data: Path) -> None:
    path = _real(shared_data, SKILLS)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    # the naive reading: strip ';', unwrap quotes, parse the whole text as one CSV stream
    unwrapped = []
    for line in lines[17:]:
        line = line.removesuffix(";")
        if line.startswith('"') and line.endswith('"'):
            line = line[1:-1].replace('""', '"')
        unwrapped.append(line)
    as_stream = [r for r in csv.reader(io.StringIO("\n".join(unwrapped))) if r]
    line_by_line = [next(csv.reader([line])) for line in unwrapped if line]
    assert (len(as_stream), len(line_by_line)) == (20363, 20365)
    rows = {row.line: row for row in read_esco_table(path).rows}
    assert rows[10487].jobtech == "JreR_sTo_p7Z" and rows[10487].relation == "skos:broadMatch"
    assert rows[10488].relation == "no relation" and rows[10488].jobtech == ""
    assert rows[10489].jobtech == "bwCe_tVQ_dZ3"


@pytest.mark.realdata
def test_real_bare_id_table_converts(shared_data: Path) -> None:
    mset, (table,) = convert_tables([_real(shared_data, OCCUPATIONS_108)], SET_ID)
    assert table.data_rows == 5503
    assert table.relations["no relation"] == 4
    assert all(m.get("subject_id").startswith(("jt:", NO_TERM_FOUND)) for m in mset.mappings)
    assert mset.metadata["mapping_date"] == "2022-03-30"


@pytest.mark.realdata
def test_direction_agrees_with_the_taxonomy_v30_excerpt(shared_data: Path) -> None:
    """The v30 excerpt states the relations from the JobTech side, like our sets. Of its 20
    pairs, 10 are in the v18 table: every broad/narrow pair agrees only after the swap, and the
    one difference (exact in v18, close in v30) is a change of content, not of direction."""
    mset, (table,) = convert_tables([_real(shared_data, OCCUPATIONS)], SET_ID)
    ours = {
        (m.get("subject_id").removeprefix("jt:"), m.get("object_id")): m.get("predicate_id")
        for m in mset.mappings
        if not m.no_term
    }
    as_written = {
        (row.jobtech, "ESCO:" + row.esco.split("/esco/", 1)[1]): row.relation for row in table.rows
    }
    names = {"exact-match": "skos:exactMatch", "close-match": "skos:closeMatch",
             "broad-match": "skos:broadMatch", "narrow-match": "skos:narrowMatch"}  # fmt: skip
    excerpt = _real(shared_data, "excerpt_v30_graphql_occupation_esco_first20.csv")
    with excerpt.open(encoding="utf-8") as handle:
        theirs = {
            (row["source_concept_id"], "ESCO:" + row["target_uri"].split("/esco/", 1)[1]):
            names[row["relation"]]
            for row in csv.DictReader(handle)
        }  # fmt: skip
    shared = sorted(set(theirs) & set(ours))
    assert len(shared) == 10
    differ = [key for key in shared if ours[key] != theirs[key]]
    assert [(k[0], ours[k], theirs[k]) for k in differ] == [
        ("1WpJ_Ho8_Ley", "skos:exactMatch", "skos:closeMatch")
    ]
    directed = [k for k in shared if theirs[k] in ("skos:broadMatch", "skos:narrowMatch")]
    assert len(directed) == 6
    assert all(ours[k] == theirs[k] for k in directed)
    assert all(as_written[k] != theirs[k] for k in directed)  # the table itself says the inverse


@pytest.mark.realdata
def test_real_converted_sets_validate_with_sssom_py(
    shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.mappings.test_sssom import _validate_with_sssom_py

    occupations, _ = convert_tables([_real(shared_data, OCCUPATIONS)], SET_ID)
    skills, _ = convert_tables([_real(shared_data, SKILLS)], SET_ID)
    # sssom-py validates about 100 rows a second: all occupations, and of the skills the
    # repaired rows, the no-match rows of both kinds and the first 200
    skills.mappings = [
        m for i, m in enumerate(skills.mappings) if i < 200 or m.no_term or m.get("comment")
    ]
    for name, mset in (("occupations", occupations), ("skills", skills)):
        out = tmp_path / f"{name}.sssom.tsv"
        write_sssom(mset, out)
        caplog.clear()
        assert _validate_with_sssom_py(out, caplog) == len(mset.mappings)
