"""ESCO importers on small fixture packages: model, file shapes, options and bad input.

The real ESCO files are exercised in test_esco_real.py; here each test isolates one behaviour on
tests/fixtures/esco (a few rows in ESCO's own CSV shape), loaded into a real pyoxigraph store.
"""

from __future__ import annotations

import csv
import gzip
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Literal, NamedNode, QuerySolutions, Store

from kll_graph.build.importing import get_importer
from kll_graph.exceptions import SourceError
from kll_graph.importers import ImportContext, SourceReport
from kll_graph.namespaces import graph_iri
from kll_graph.settings import SAMPLE_DIR, Settings, SourceConfig, load_settings
from kll_graph.sparql.query import select_named
from tests import FIXTURES

MINI = FIXTURES / "esco" / "mini"
E = "http://data.europa.eu/esco/"
OCC1 = E + "occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"
OCC2 = E + "occupation/aaaa0000-0000-4000-8000-000000000002"
SK1 = E + "skill/21d2f96d-35f7-4e3f-9745-c533d2dd6e97"
SK2 = E + "skill/bbbb0000-0000-4000-8000-000000000002"
SK3 = E + "skill/bbbb0000-0000-4000-8000-000000000003"
PREFIXES = """
PREFIX esco: <http://data.europa.eu/esco/model#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX isothes: <http://purl.org/iso25964/skos-thes#>
"""


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(env={})


def run(
    settings: Settings,
    path: Path,
    *,
    importer: str = "esco",
    version: str = "v1.1.1",
    options: Mapping[str, Any] | None = None,
    store: Store | None = None,
    source_id: str = "esco",
) -> tuple[Store, SourceReport, NamedNode]:
    """Import one source into a store the way the build does, and hand back what it reported."""
    store = store if store is not None else Store()
    source = SourceConfig(
        id=source_id, importer=importer, path=str(path), version=version, options=options or {}
    )
    graph = graph_iri(settings.base_iri, source_id, version)
    ctx = ImportContext(source=source, path=path, graph=graph, settings=settings, store=store)
    get_importer(importer)(ctx)
    return store, ctx.report, graph


def select(store: Store, query: str, **bindings: Any) -> list[dict[str, str]]:
    result = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def values(store: Store, s: str, p: str) -> set[str]:
    rows = select(store, f"SELECT ?o WHERE {{ <{s}> {p} ?o }}")
    return {r["o"] for r in rows}


def langs(store: Store, s: str, p: str) -> set[tuple[str, str | None]]:
    result = store.query(
        PREFIXES + f"SELECT ?o WHERE {{ <{s}> {p} ?o }}", use_default_graph_as_union=True
    )
    assert isinstance(result, QuerySolutions)
    return {(row["o"].value, row["o"].language) for row in result}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def mini(settings: Settings) -> tuple[Store, SourceReport, NamedNode]:
    return run(settings, MINI)


# --- the model ---------------------------------------------------------------------------------


def test_occupation_is_typed_labelled_and_coded_like_esco(mini: Any) -> None:
    store, _, _ = mini
    assert values(store, OCC1, "a") == {
        "http://www.w3.org/2004/02/skos/core#Concept",
        "http://data.europa.eu/esco/model#Occupation",
        "http://data.europa.eu/esco/model#MemberConcept",
    }
    assert langs(store, OCC1, "skos:prefLabel") == {("software developer", "en")}
    assert langs(store, OCC1, "skos:hiddenLabel") == {("code monkey", "en")}
    assert values(store, OCC1, "skos:notation") == {"2512.4"}
    assert values(store, OCC1, "esco:memberOfISCOGroup") == {E + "isco/C2512"}
    assert values(store, OCC1, "esco:regulatedProfessionNote") == {
        E + "regulated-professions/unregulated"
    }
    assert values(store, OCC1, "isothes:status") == {"released"}
    assert values(store, OCC1, "skos:inScheme") == {
        E + "concept-scheme/occupations",
        E + "concept-scheme/member-occupations",
    }
    modified = select(
        store, f"SELECT ?d WHERE {{ <{OCC1}> dct:modified ?d FILTER(DATATYPE(?d) = xsd:dateTime) }}"
    )
    assert [r["d"] for r in modified] == ["2016-07-05T13:58:41Z"]
    assert langs(store, OCC2, "skos:scopeNote") == {("Only for senior roles.", "en")}
    assert langs(store, OCC2, "skos:definition") == {
        ("A software developer with years of experience.", "en")
    }


def test_multi_line_alt_labels_split_into_one_label_each(mini: Any) -> None:
    store, _, _ = mini
    # The cell holds CRLF-separated labels inside one quoted field.
    assert langs(store, OCC1, "skos:altLabel") == {
        ("programmer", "en"),
        ("software engineer", "en"),
        ("application developer", "en"),
    }
    assert langs(store, SK1, "skos:altLabel") == {("programming", "en"), ("coding", "en")}


def test_skill_facets_use_esco_iris(mini: Any) -> None:
    store, _, _ = mini
    assert values(store, SK1, "esco:skillType") == {E + "skill-type/knowledge"}
    assert values(store, SK2, "esco:skillType") == {E + "skill-type/skill"}
    assert values(store, SK1, "esco:skillReuseLevel") == {E + "skill-reuse-level/cross-sector"}
    assert values(store, SK1, "a") >= {
        "http://data.europa.eu/esco/model#Skill",
        "http://data.europa.eu/esco/model#MemberConcept",
    }


def test_isco_groups_carry_plain_and_isco08_typed_notations(mini: Any) -> None:
    store, _, _ = mini
    rows = select(
        store,
        f"SELECT ?n (DATATYPE(?n) AS ?dt) WHERE {{ <{E}isco/C25> skos:notation ?n }}",
    )
    assert {(r["n"], r["dt"]) for r in rows} == {
        ("25", "http://www.w3.org/2001/XMLSchema#string"),
        ("25", E + "Notation/ISCO08"),
    }
    assert values(store, E + "skill/cccc0000-0000-4000-8000-0000000000s1", "skos:notation") == {
        "S1"
    }


def test_schemes_have_top_concepts_both_ways(mini: Any) -> None:
    store, _, _ = mini
    scheme = E + "concept-scheme/6c930acd-c104-4ece-acf7-f44fd7333036"
    assert values(store, scheme, "skos:hasTopConcept") == {SK1, SK2}
    assert values(store, SK2, "skos:topConceptOf") == {scheme}
    assert values(store, scheme, "a") == {"http://www.w3.org/2004/02/skos/core#ConceptScheme"}


def test_collections_become_scheme_membership(mini: Any) -> None:
    store, report, _ = mini
    assert E + "concept-scheme/skill-transversal-groups" in values(store, SK3, "skos:inScheme")
    assert report.counts["transversalSkillsCollection"] == 1
    assert report.counts["digitalSkillsCollection"] == 2


def test_relations_in_both_directions(mini: Any) -> None:
    store, report, _ = mini
    assert values(store, OCC1, "esco:relatedEssentialSkill") == {SK1, SK2}
    assert values(store, OCC1, "esco:relatedOptionalSkill") == {SK3}
    assert values(store, SK1, "esco:isEssentialSkillFor") == {OCC1, OCC2, SK2}
    assert values(store, SK2, "esco:relatedEssentialSkill") == {SK1}
    assert values(store, OCC2, "skos:broader") == {OCC1}
    assert values(store, E + "isco/C2512", "skos:narrower") == {OCC1}
    assert report.counts["occupation_skill_relations_essential"] == 3
    assert report.counts["occupation_skill_relations_optional"] == 1
    assert report.counts["skill_skill_relations"] == 1


def test_everything_goes_into_the_version_graph(mini: Any, settings: Settings) -> None:
    store, _, graph = mini
    assert graph.value == f"{settings.base_iri}graph/esco/v1.1.1"
    graphs = {r["g"] for r in select(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert graphs == {graph.value}


def test_named_queries(mini: Any) -> None:
    store, _, _ = mini
    skills = select_named(
        store, "esco_essential_skills", occupation=NamedNode(OCC1), lang=Literal("en")
    )
    assert [(r["skill"].value, r["label"].value) for r in skills] == [  # type: ignore[union-attr]
        (SK1, "computer programming"),
        (SK2, "debug software"),
    ]
    needing = select_named(
        store, "esco_occupations_for_skill", skill=NamedNode(SK1), lang=Literal("en")
    )
    assert [(r["occupation"].value, r["relation"].value) for r in needing] == [  # type: ignore[union-attr]
        (OCC2, "essential"),
        (OCC1, "essential"),
    ]
    path = select_named(store, "esco_isco_path", occupation=NamedNode(OCC2), lang=Literal("en"))
    assert [(r["code"].value, int(r["steps"].value)) for r in path] == [  # type: ignore[union-attr]
        ("2512.4", 1),
        ("2512", 2),
        ("251", 3),
        ("25", 4),
        ("2", 5),
    ]


# --- file shapes -------------------------------------------------------------------------------


def test_zip_downloads_load_like_the_folder(settings: Settings, mini: Any, tmp_path: Path) -> None:
    for part in ("en", "relations"):
        with zipfile.ZipFile(tmp_path / f"ESCO dataset - v1.1.1 - {part} - csv.zip", "w") as z:
            for file in (MINI / part).iterdir():
                z.write(file, f"{part}/{file.name}")
    store, report, _ = run(settings, tmp_path)
    assert len(store) == len(mini[0])
    assert report.counts["files"] == 16
    assert not report.warnings


def test_a_zip_naming_another_version_is_reported(settings: Settings, tmp_path: Path) -> None:
    with zipfile.ZipFile(
        tmp_path / "ESCO dataset - v1.2.0 - classification - en - csv.zip", "w"
    ) as z:
        z.write(MINI / "en" / "occupations_en.csv", "occupations_en.csv")
    _, report, _ = run(settings, tmp_path, version="v1.1.1", options={"partial": True})
    assert any("says ESCO v1.2.0" in w for w in report.warnings)


def test_single_gzipped_file(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "occupationSkillRelations.csv.gz"
    target.write_bytes(gzip.compress((MINI / "relations" / target.name[:-3]).read_bytes()))
    store, report, _ = run(settings, target)
    assert report.counts["occupation_skill_relations"] == 4
    assert values(store, OCC2, "esco:relatedEssentialSkill") == {SK1}
    assert not report.warnings  # a single file is a deliberate choice, not a partial package


def test_two_language_packages_share_one_graph(settings: Settings, tmp_path: Path) -> None:
    shutil.copytree(MINI, tmp_path / "pkg")
    shutil.copy(FIXTURES / "esco" / "sv" / "occupations_sv.csv", tmp_path / "pkg" / "en")
    store, report, graph = run(settings, tmp_path / "pkg", options={"partial": True})
    assert langs(store, OCC1, "skos:prefLabel") == {
        ("software developer", "en"),
        ("mjukvaruutvecklare", "sv"),
    }
    assert ("systemutvecklare", "sv") in langs(store, OCC1, "skos:altLabel")
    graphs = {r["g"] for r in select(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert graphs == {graph.value}
    # the Swedish package lacks its other files: each is named with what it would provide
    assert any(w.startswith("missing skills_sv.csv: the skills") for w in report.warnings)
    assert not any("occupations_sv" in w for w in report.warnings)


def test_languages_option_keeps_only_those_languages(settings: Settings, tmp_path: Path) -> None:
    shutil.copytree(MINI, tmp_path / "pkg")
    shutil.copy(FIXTURES / "esco" / "sv" / "occupations_sv.csv", tmp_path / "pkg" / "en")
    store, report, _ = run(settings, tmp_path / "pkg", options={"languages": ["en"]})
    assert langs(store, OCC1, "skos:prefLabel") == {("software developer", "en")}
    assert any("occupations_sv.csv: language 'sv'" in n for n in report.notes)


def test_language_file_without_suffix_reads_as_english(settings: Settings, tmp_path: Path) -> None:
    shutil.copytree(MINI, tmp_path / "pkg")
    (tmp_path / "pkg" / "en" / "occupations_en.csv").rename(
        tmp_path / "pkg" / "en" / "occupations.csv"
    )
    store, report, _ = run(settings, tmp_path / "pkg", options={"languages": ["en"]})
    assert langs(store, OCC1, "skos:prefLabel") == {("software developer", "en")}
    assert not report.warnings


# --- missing files, partial packages -----------------------------------------------------------


def test_missing_files_are_named_with_what_they_provide(settings: Settings, tmp_path: Path) -> None:
    shutil.copytree(MINI, tmp_path / "pkg")
    (tmp_path / "pkg" / "en" / "skills_en.csv").unlink()
    (tmp_path / "pkg" / "relations" / "skillSkillRelations.csv").unlink()
    with pytest.raises(SourceError) as error:
        run(settings, tmp_path / "pkg")
    message = str(error.value)
    assert "skills_en.csv: the skills and knowledge concepts" in message
    assert (
        "skillSkillRelations.csv: the essential and optional skills related to each skill"
        in message
    )
    assert "partial = true" in message


def test_partial_package_loads_the_rest(settings: Settings, tmp_path: Path) -> None:
    shutil.copytree(MINI, tmp_path / "pkg")
    (tmp_path / "pkg" / "en" / "skills_en.csv").unlink()
    store, report, _ = run(settings, tmp_path / "pkg", options={"partial": True})
    assert [w for w in report.warnings if w.startswith("missing ")] == [
        "missing skills_en.csv: the skills and knowledge concepts with labels, skill type and "
        "reuse level (partial package: loaded the rest)"
    ]
    assert values(store, OCC1, "esco:relatedEssentialSkill") == {SK1, SK2}
    # the collections still describe the skills they list
    assert langs(store, SK2, "skos:prefLabel") == {("debug software", "en")}
    assert values(store, SK1, "esco:skillType") == {E + "skill-type/knowledge"}
    assert langs(store, SK1, "skos:altLabel") == {("programming", "en"), ("coding", "en")}
    assert report.counts["skills_from_collections"] == 3


def test_bad_option_values(settings: Settings) -> None:
    with pytest.raises(SourceError, match="option partial = 'yes': expected true or false"):
        run(settings, MINI, options={"partial": "yes"})
    with pytest.raises(SourceError, match="option languages"):
        run(settings, MINI, options={"languages": "en"})
    _, report, _ = run(settings, MINI, options={"partail": True})
    assert any("unknown option 'partail'" in w for w in report.warnings)


# --- bad input ---------------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, name: str, text: str) -> Path:
    shutil.copytree(MINI, tmp_path / "pkg")
    target = next((tmp_path / "pkg").rglob(name))
    target.write_text(text, encoding="utf-8", newline="")
    return target


def test_row_with_wrong_field_count_names_file_and_line(settings: Settings, tmp_path: Path) -> None:
    header = "occupationUri,relationType,skillType,skillUri\r\n"
    good = f"{OCC1},essential,knowledge,{SK1}\r\n"
    target = _broken_copy(
        tmp_path, "occupationSkillRelations.csv", header + good + f"{OCC1},essential\r\n"
    )
    with pytest.raises(SourceError) as error:
        run(settings, tmp_path / "pkg")
    assert error.value.path == target
    assert error.value.line == 3
    assert "the row has 2 fields, the header has 4" in str(error.value)


def test_row_after_multi_line_cells_reports_its_first_line(
    settings: Settings, tmp_path: Path
) -> None:
    text = (MINI / "en" / "skills_en.csv").read_text(encoding="utf-8")
    broken = text + 'KnowledgeSkillCompetence,not an iri,knowledge,,x,"a\r\nb",,released,,,,,\r\n'
    lines_before = text.count("\n")
    _broken_copy(tmp_path, "skills_en.csv", broken)
    with pytest.raises(SourceError) as error:
        run(settings, tmp_path / "pkg")
    assert error.value.line == lines_before + 1
    assert "not an IRI: 'not an iri'" in str(error.value)


def test_unparseable_quote_names_file_and_line(settings: Settings, tmp_path: Path) -> None:
    header = "originalSkillUri,originalSkillType,relationType,relatedSkillType,relatedSkillUri\r\n"
    target = _broken_copy(
        tmp_path,
        "skillSkillRelations.csv",
        header + f'{SK2},"skill"x,essential,knowledge,{SK1}\r\n',
    )
    with pytest.raises(SourceError) as error:
        run(settings, tmp_path / "pkg")
    assert error.value.path == target and error.value.line == 2


def test_unknown_relation_type_is_an_error(settings: Settings, tmp_path: Path) -> None:
    header = "occupationUri,relationType,skillType,skillUri\r\n"
    _broken_copy(
        tmp_path, "occupationSkillRelations.csv", header + f"{OCC1},vital,knowledge,{SK1}\r\n"
    )
    with pytest.raises(
        SourceError, match="relationType 'vital': expected 'essential' or 'optional'"
    ):
        run(settings, tmp_path / "pkg")


def test_unknown_column_is_reported_not_fatal(settings: Settings, tmp_path: Path) -> None:
    source = MINI / "en" / "ISCOGroups_en.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0].append("naceCode")
    for row in rows[1:]:
        row.append("62.01")
    shutil.copytree(MINI, tmp_path / "pkg")
    with (tmp_path / "pkg" / "en" / "ISCOGroups_en.csv").open(
        "w", encoding="utf-8", newline=""
    ) as f:
        csv.writer(f).writerows(rows)
    store, report, _ = run(settings, tmp_path / "pkg")
    assert any("unknown column 'naceCode' (ignored)" in w for w in report.warnings)
    assert values(store, E + "isco/C2", "skos:notation") == {"2"}


def test_v12_relation_label_columns_are_known(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "occupationSkillRelations_en.csv"
    target.write_text(
        "occupationUri,occupationLabel,relationType,skillType,skillUri,skillLabel\r\n"
        f"{OCC1},software developer,essential,knowledge,{SK1},computer programming\r\n",
        encoding="utf-8",
    )
    store, report, _ = run(settings, target, version="v1.2.0")
    assert values(store, OCC1, "esco:relatedEssentialSkill") == {SK1}
    assert not report.warnings


def test_missing_needed_column_is_an_error(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "skills_en.csv"
    target.write_text("conceptType,uri,preferredLabel\r\nx,y,z\r\n", encoding="utf-8")
    with pytest.raises(SourceError) as error:
        run(settings, target)
    assert "skills file without column(s) conceptUri" in str(error.value)
    assert error.value.line == 1


def test_folder_without_esco_files(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\r\n1,2\r\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no ESCO CSV here"):
        run(settings, tmp_path)


# --- Swedish labels ----------------------------------------------------------------------------


def test_swedish_labels_go_into_their_own_graph(settings: Settings) -> None:
    store, report, graph = run(
        settings,
        FIXTURES / "esco" / "sv_labels.csv",
        importer="esco-sv-labels",
        source_id="esco-sv",
    )
    assert graph.value.endswith("graph/esco-sv/v1.1.1")
    rows = select(
        store, f"SELECT ?s ?l WHERE {{ GRAPH <{graph.value}> {{ ?s skos:prefLabel ?l }} }}"
    )
    assert {(r["s"], r["l"]) for r in rows} == {
        (OCC1, "mjukvaruutvecklare"),
        (SK1, "datorprogrammering"),
    }
    assert langs(store, SK1, "skos:prefLabel") == {("datorprogrammering", "sv")}
    assert report.counts["labels_sv"] == 2
    assert report.counts["concepts_occupation"] == 1
    assert len(report.metadata) == 2  # the two mapping tables the labels come from


def test_swedish_label_table_needs_its_columns(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "labels.csv"
    target.write_text("uri,label\r\nx,y\r\n", encoding="utf-8")
    with pytest.raises(SourceError, match="expected columns conceptUri and prefLabel_<language>"):
        run(settings, target, importer="esco-sv-labels")


# --- the bundled sample ------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.skipif(not (SAMPLE_DIR / "esco").is_dir(), reason="no bundled ESCO sample")
def test_bundled_sample_loads(settings: Settings) -> None:
    config = {s.id: s for s in settings.sources if s.current}  # ESCO's current release
    esco, sv = config["esco"], config["esco-sv"]
    store, report, _ = run(settings, esco.resolve(SAMPLE_DIR), version=esco.version)
    package = esco.resolve(SAMPLE_DIR)
    assert report.counts["occupations"] == len(_rows(package / "en" / "occupations_en.csv"))
    assert report.counts["skills"] == len(_rows(package / "en" / "skills_en.csv"))
    relations = _rows(package / "relations" / "occupationSkillRelations.csv")
    assert report.counts["occupation_skill_relations"] == len(relations)
    assert not report.warnings
    occupation = relations[0]["occupationUri"]
    assert values(store, occupation, "a") >= {"http://data.europa.eu/esco/model#Occupation"}
    store, report, _ = run(
        settings,
        sv.resolve(SAMPLE_DIR),
        importer="esco-sv-labels",
        store=store,
        source_id="esco-sv",
    )
    assert report.counts["labels_sv"] > 0
    swedish = select(
        store,
        "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?o a esco:Occupation ; skos:prefLabel ?l "
        "FILTER(LANG(?l) = 'sv') }",
    )
    assert int(swedish[0]["n"]) > 0
