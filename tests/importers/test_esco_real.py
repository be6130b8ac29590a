"""ESCO importers on the real files in ../shared/data/esco: counts, golden spot checks, Swedish
coverage, the partial v1.2.0 package, side-by-side versions and the named ESCO queries.

Expected figures are ESCO's own (see ../shared/data/esco/README.md) or are computed here from the
CSV files with the csv module, independently of the importer.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Literal, NamedNode, Store

from kll_graph.build.pipeline import build
from kll_graph.exceptions import SourceError
from kll_graph.settings import Settings, load_settings
from kll_graph.sparql.query import named_query, select_named
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings
from tests.importers.test_esco import langs, run, select, values

pytestmark = pytest.mark.realdata

E = "http://data.europa.eu/esco/"
TECHNICAL_DIRECTOR = E + "occupation/00030d09-2b3a-4efd-87cc-c4ea39d27c34"
ART_DIRECTOR = E + "occupation/cb93fd23-1f51-4495-867a-936c1967066b"
MANAGE_MUSICAL_STAFF = E + "skill/0005c151-5b5a-4a66-8aac-60e734beb1ab"


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        yield from csv.DictReader(handle)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(env={})


@pytest.fixture(scope="module")
def esco(
    shared_data: Path, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """ESCO v1.1.1 and the Swedish labels, imported once into an on-disk store."""
    csv.field_size_limit(1 << 28)
    store = Store(str(tmp_path_factory.mktemp("esco") / "store"))
    _, report, graph = run(settings, shared_data / "esco" / "v1.1.1", store=store)
    _, sv_report, sv_graph = run(
        settings,
        shared_data / "esco" / "derived" / "sv_preflabels_from_jobtech_mappings.csv.gz",
        importer="esco-sv-labels",
        source_id="esco-sv",
        store=store,
    )
    return {
        "store": store,
        "report": report,
        "graph": graph.value,
        "sv_report": sv_report,
        "sv_graph": sv_graph.value,
        "dir": shared_data / "esco" / "v1.1.1",
    }


def count(store: Store, query: str) -> int:
    rows = select(store, query)
    return int(rows[0]["n"])


# --- counts ------------------------------------------------------------------------------------


def test_concept_counts(esco: dict[str, Any]) -> None:
    store, g = esco["store"], esco["graph"]

    def in_graph(pattern: str) -> int:
        return count(
            store, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{g}> {{ {pattern} }} }}"
        )

    assert in_graph("?c a esco:Occupation") == 3007
    assert in_graph("?c a esco:Skill") == 13896
    assert in_graph("?c a esco:MemberConcept") == 3007 + 13896
    isco = "?c skos:notation ?n FILTER(DATATYPE(?n) = <http://data.europa.eu/esco/Notation/ISCO08>)"
    assert in_graph(isco) == 619
    groups = (
        "?c a skos:Concept FILTER NOT EXISTS { ?c a esco:Occupation } "
        "FILTER NOT EXISTS { ?c a esco:Skill } "
        "FILTER NOT EXISTS { ?c skos:inScheme <http://data.europa.eu/esco/concept-scheme/isco> }"
    )
    assert in_graph(groups) == 640
    assert in_graph("?c a skos:ConceptScheme") == 19
    report = esco["report"].counts
    assert (report["occupations"], report["skills"], report["isco_groups"]) == (3007, 13896, 619)
    assert (report["skill_groups"], report["schemes"]) == (640, 19)


def test_relation_counts(esco: dict[str, Any]) -> None:
    store, g = esco["store"], esco["graph"]

    def triples(pattern: str) -> int:
        return count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ {pattern} }} }}")

    occ = f"FILTER(STRSTARTS(STR(?s), '{E}occupation/'))"
    skill = f"FILTER(STRSTARTS(STR(?s), '{E}skill/'))"
    essential = triples(f"?s esco:relatedEssentialSkill ?o {occ}")
    optional = triples(f"?s esco:relatedOptionalSkill ?o {occ}")
    assert (essential, optional) == (64946, 58909)
    assert essential + optional == 123855
    skill_skill = triples(f"?s esco:relatedEssentialSkill|esco:relatedOptionalSkill ?o {skill}")
    assert skill_skill == 5899
    assert triples("?o esco:isEssentialSkillFor ?s") == 64946 + 191
    occ_pillar = f"FILTER(STRSTARTS(STR(?s), '{E}occupation/') || STRSTARTS(STR(?s), '{E}isco/'))"
    assert triples(f"?s skos:broader ?o {occ_pillar}") == 3617
    assert triples("?s skos:broader ?o") == 3617 + 20656
    assert triples("?s skos:narrower ?o") == 3617 + 20656
    report = esco["report"].counts
    assert report["occupation_skill_relations"] == 123855
    assert report["skill_skill_relations"] == 5899
    assert report["broader_occupation_pillar"] == 3617
    assert report["broader_skill_pillar"] == 20656


def test_relation_to_an_occupation_missing_from_the_package_is_reported(
    esco: dict[str, Any],
) -> None:
    # occupationSkillRelations names 3,008 occupations, occupations_en.csv defines 3,007
    warnings = esco["report"].warnings
    assert any(
        w.startswith("1 URI(s) in occupationSkillRelations occupations are not in the occupations")
        for w in warnings
    )


def test_swedish_label_coverage(esco: dict[str, Any]) -> None:
    store, g, sv = esco["store"], esco["graph"], esco["sv_graph"]

    def covered(cls: str) -> int:
        return count(
            store,
            f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{g}> {{ ?c a {cls} }} "
            f"GRAPH <{sv}> {{ ?c skos:prefLabel ?l FILTER(LANG(?l) = 'sv') }} }}",
        )

    assert covered("esco:Skill") == 13378
    assert covered("esco:Occupation") == 3002
    assert esco["sv_report"].counts["labels_sv"] == 16794
    assert (
        count(
            store,
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?c ?p ?l "
            "FILTER(LANG(?l) = 'sv') } }",
        )
        == 0
    )


# --- labels and spot checks --------------------------------------------------------------------


def test_multi_line_cells_split_right(esco: dict[str, Any]) -> None:
    store = esco["store"]
    rows = {r["conceptUri"]: r for r in read_csv(esco["dir"] / "en" / "occupations_en.csv.gz")}
    row = rows[TECHNICAL_DIRECTOR]
    cells = {line.strip() for line in row["altLabels"].split("\n")}
    assert len(cells) == 7
    # the preferred label repeated among the alternatives is dropped (SKOS S13)
    expected = cells - {row["preferredLabel"]}
    assert {v for v, _ in langs(store, TECHNICAL_DIRECTOR, "skos:altLabel")} == expected
    with_newline = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?c skos:prefLabel|skos:altLabel|skos:hiddenLabel ?l "
        "FILTER(CONTAINS(?l, '\\n') || CONTAINS(?l, '\\r')) }"
    )
    assert count(store, with_newline) == 0
    labels = count(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { ?c a esco:Occupation ; skos:altLabel ?l }",
    )
    from_csv = sum(
        len({x.strip() for x in r["altLabels"].split("\n") if x.strip()} - {r["preferredLabel"]})
        for r in rows.values()
    )
    assert labels == from_csv
    overlap = "SELECT (COUNT(*) AS ?n) WHERE { ?c skos:prefLabel ?l ; skos:altLabel ?l }"
    assert count(store, overlap) == 0


def test_golden_occupation(esco: dict[str, Any]) -> None:
    store = esco["store"]
    assert langs(store, TECHNICAL_DIRECTOR, "skos:prefLabel") >= {("technical director", "en")}
    assert values(store, TECHNICAL_DIRECTOR, "skos:notation") == {"2654.1.7"}
    assert values(store, TECHNICAL_DIRECTOR, "esco:memberOfISCOGroup") == {E + "isco/C2654"}
    assert values(store, TECHNICAL_DIRECTOR, "skos:broader") == {ART_DIRECTOR}
    assert values(store, ART_DIRECTOR, "skos:broader") == {E + "isco/C2654"}
    assert values(store, TECHNICAL_DIRECTOR, "dct:modified") == {"2016-07-05T13:58:41Z"}
    assert values(store, TECHNICAL_DIRECTOR, "esco:regulatedProfessionNote") == {
        E + "regulated-professions/unregulated"
    }
    description = values(store, TECHNICAL_DIRECTOR, "dct:description")
    assert len(description) == 1 and next(iter(description)).startswith("Technical directors")


def test_golden_skill_and_groups(esco: dict[str, Any]) -> None:
    store = esco["store"]
    assert langs(store, MANAGE_MUSICAL_STAFF, "skos:prefLabel") >= {("manage musical staff", "en")}
    assert values(store, MANAGE_MUSICAL_STAFF, "esco:skillType") == {E + "skill-type/skill"}
    assert values(store, MANAGE_MUSICAL_STAFF, "esco:skillReuseLevel") == {
        E + "skill-reuse-level/sector-specific"
    }
    assert langs(store, E + "isco/C0", "skos:prefLabel") == {("Armed forces occupations", "en")}
    occupations_scheme = E + "concept-scheme/occupations"
    assert len(values(store, occupations_scheme, "skos:hasTopConcept")) == 10
    digital = E + "concept-scheme/6c930acd-c104-4ece-acf7-f44fd7333036"
    members = count(
        store, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c skos:inScheme <{digital}> }}"
    )
    rows = list(read_csv(esco["dir"] / "en" / "digitalSkillsCollection_en.csv"))
    assert members == len({r["conceptUri"] for r in rows}) == 1201


# --- the named queries -------------------------------------------------------------------------


def _relations(esco: dict[str, Any]) -> list[dict[str, str]]:
    return list(read_csv(esco["dir"] / "relations" / "occupationSkillRelations.csv.gz"))


def test_essential_skills_of_an_occupation(esco: dict[str, Any]) -> None:
    expected = {
        r["skillUri"]
        for r in _relations(esco)
        if r["occupationUri"] == TECHNICAL_DIRECTOR and r["relationType"] == "essential"
    }
    rows = list(
        select_named(
            esco["store"],
            "esco_essential_skills",
            occupation=NamedNode(TECHNICAL_DIRECTOR),
            lang=Literal("sv"),
        )
    )
    assert {r["skill"].value for r in rows} == expected  # type: ignore[union-attr]
    assert sum(r["label"] is not None for r in rows) >= len(expected) - 2  # Swedish labels


def test_occupations_that_need_a_skill(esco: dict[str, Any]) -> None:
    skill = E + "skill/fed5b267-73fa-461d-9f69-827c78beb39d"
    expected = {
        (r["occupationUri"], r["relationType"]) for r in _relations(esco) if r["skillUri"] == skill
    }
    rows = list(
        select_named(
            esco["store"], "esco_occupations_for_skill", skill=NamedNode(skill), lang=Literal("en")
        )
    )
    got = {(r["occupation"].value, r["relation"].value) for r in rows}  # type: ignore[union-attr]
    assert got == expected and len(expected) > 1
    relations = [r["relation"].value for r in rows]  # type: ignore[union-attr]
    assert relations == sorted(relations)  # essential first


def test_path_up_to_isco_level_1(esco: dict[str, Any]) -> None:
    rows = list(
        select_named(
            esco["store"],
            "esco_isco_path",
            occupation=NamedNode(TECHNICAL_DIRECTOR),
            lang=Literal("en"),
        )
    )
    art_director = next(
        r
        for r in read_csv(esco["dir"] / "en" / "occupations_en.csv.gz")
        if r["conceptUri"] == ART_DIRECTOR
    )
    path = [(r["ancestor"].value, r["code"].value, int(r["steps"].value)) for r in rows]  # type: ignore[union-attr]
    assert path == [
        (ART_DIRECTOR, art_director["code"], 1),
        (E + "isco/C2654", "2654", 2),
        (E + "isco/C265", "265", 3),
        (E + "isco/C26", "26", 4),
        (E + "isco/C2", "2", 5),
    ]
    assert rows[-1]["label"].value == "Professionals"  # type: ignore[union-attr]


def test_named_queries_parse() -> None:
    for name in ("esco_essential_skills", "esco_occupations_for_skill", "esco_isco_path"):
        Store().query(named_query(name))


# --- v1.2.0 partial, versions side by side -----------------------------------------------------


def test_v120_partial_needs_the_option(shared_data: Path, settings: Settings) -> None:
    with pytest.raises(SourceError) as error:
        run(settings, shared_data / "esco" / "v1.2.0-partial", version="v1.2.0")
    message = str(error.value)
    assert "skills_en.csv: the skills and knowledge concepts" in message
    assert "occupationSkillRelations_en.csv: the essential and optional skills" in message


def test_v120_partial_loads_what_it_has(shared_data: Path, settings: Settings) -> None:
    package = shared_data / "esco" / "v1.2.0-partial"
    store, report, graph = run(settings, package, version="v1.2.0", options={"partial": True})
    assert graph.value.endswith("/graph/esco/v1.2.0")
    missing = sorted(w.split(":")[0] for w in report.warnings if w.startswith("missing "))
    assert missing == ["missing occupationSkillRelations_en.csv", "missing skills_en.csv"]
    occupations = list(read_csv(package / "en" / "occupations_en.csv.gz"))
    assert report.counts["occupations"] == len(occupations) == 3039
    assert report.counts["skill_skill_relations"] == len(
        list(read_csv(package / "en" / "skillSkillRelations_en.csv"))
    )
    assert (
        count(
            store,
            "SELECT (COUNT(*) AS ?n) WHERE "
            "{ ?o esco:relatedEssentialSkill ?s ; a esco:Occupation }",
        )
        == 0
    )
    assert report.counts["skills_from_collections"] > 0
    assert values(store, TECHNICAL_DIRECTOR, "dct:modified") == {"2024-01-25T11:28:50.295Z"}


def test_versions_side_by_side(shared_data: Path, settings: Settings, tmp_path: Path) -> None:
    """v1.1.1 and v1.2.0 in one store: two graphs, the version in each graph IRI."""
    store = Store(str(tmp_path / "store"))
    _, _, old = run(settings, shared_data / "esco" / "v1.1.1", store=store)
    _, _, new = run(
        settings,
        shared_data / "esco" / "v1.2.0-partial",
        version="v1.2.0",
        options={"partial": True},
        store=store,
    )
    assert (old.value, new.value) == (
        f"{settings.base_iri}graph/esco/v1.1.1",
        f"{settings.base_iri}graph/esco/v1.2.0",
    )

    def occupations(graph: NamedNode) -> int:
        return count(
            store,
            f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE "
            f"{{ GRAPH <{graph.value}> {{ ?c a esco:Occupation }} }}",
        )

    assert (occupations(old), occupations(new)) == (3007, 3039)
    modified = select(
        store,
        f"SELECT ?g ?d WHERE {{ GRAPH ?g {{ <{TECHNICAL_DIRECTOR}> dct:modified ?d }} }}",
    )
    assert {(r["g"], r["d"]) for r in modified} == {
        (old.value, "2016-07-05T13:58:41Z"),
        (new.value, "2024-01-25T11:28:50.295Z"),
    }


def test_swedish_labels_are_catalogued(shared_data: Path, tmp_path: Path) -> None:
    """A real build of the Swedish labels source: its graph, file and checksum in the catalog."""
    base = make_settings(tmp_path / "store", data_dir=shared_data)
    sv_source = next(s for s in base.sources if s.id == "esco-sv")
    result = build(base.replace(sources=(sv_source,)))
    store = CurrentStore(base.store).get().store
    graph = f"{base.base_iri}graph/esco-sv/{sv_source.version}"
    catalog = {r["graph"].value: r for r in select_named(store, "catalog_graphs")}  # type: ignore[union-attr]
    assert catalog[graph]["source"].value == "esco-sv"  # type: ignore[index]
    assert int(catalog[graph]["triples"].value) == 16794  # type: ignore[index]
    assert catalog[graph]["rights"].value == sv_source.attribution  # type: ignore[index]
    files = select(
        store,
        "PREFIX prov: <http://www.w3.org/ns/prov#> "
        "PREFIX spdx: <http://spdx.org/rdf/terms#> "
        f"SELECT ?id ?sum WHERE {{ GRAPH ?c {{ <{graph}> prov:wasDerivedFrom ?f . "
        "?f dct:identifier ?id ; spdx:checksum/spdx:checksumValue ?sum } }",
    )
    path = shared_data / "esco" / "derived" / "sv_preflabels_from_jobtech_mappings.csv.gz"
    assert [(r["id"], r["sum"]) for r in files] == [
        (
            "esco/derived/sv_preflabels_from_jobtech_mappings.csv.gz",
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
    ]
    assert result.manifest.sources["esco-sv"].counts["labels_sv"] == 16794
