"""Queries written for ESCO's own RDF, run unchanged over HTTP on the real data, answer what
ESCO's CSV files imply (the expected figures are computed here from those files)."""

from __future__ import annotations

import csv
import gzip
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kll_graph.importers.compat import ancestors
from kll_graph.testing import LiveServer

E = "http://data.europa.eu/esco/"
PREFIXES = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX esco: <http://data.europa.eu/esco/model#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
SOFTWARE_DEVELOPER = E + "occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"


def sparql(server: LiveServer, query: str) -> list[dict[str, str]]:
    response = requests.post(
        server.url + "/sparql",
        data={"query": PREFIXES + query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=120,
    )
    assert response.status_code == 200, response.text[:500]
    bindings = response.json()["results"]["bindings"]
    return [{name: cell["value"] for name, cell in row.items()} for row in bindings]


def _rows(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        yield from csv.DictReader(handle)


@pytest.fixture(scope="module")
def esco_dir(shared_data: Path) -> Path:
    return shared_data / "esco" / "v1.1.1"


def _closure(path: Path) -> dict[str, set[str]]:
    parents: dict[str, set[str]] = defaultdict(set)
    for row in _rows(path):
        parents[row["conceptUri"]].add(row["broaderUri"])
    return ancestors(parents)


@pytest.fixture(scope="module")
def occupation_ancestors(esco_dir: Path) -> dict[str, set[str]]:
    return _closure(esco_dir / "relations" / "broaderRelationsOccPillar.csv")


@pytest.fixture(scope="module")
def skill_ancestors(esco_dir: Path) -> dict[str, set[str]]:
    return _closure(esco_dir / "relations" / "broaderRelationsSkillPillar.csv.gz")


def test_ancestors_by_broader_transitive_plus(
    real_server: LiveServer, occupation_ancestors: dict[str, set[str]]
) -> None:
    rows = sparql(
        real_server, f"SELECT ?a WHERE {{ <{SOFTWARE_DEVELOPER}> skos:broaderTransitive+ ?a }}"
    )
    found = {row["a"] for row in rows}
    assert found == occupation_ancestors[SOFTWARE_DEVELOPER]
    assert {E + "isco/C2512", E + "isco/C25", E + "isco/C2"} <= found


def test_skills_under_an_isced_field_with_their_typed_and_labelled_skill_type(
    real_server: LiveServer, skill_ancestors: dict[str, set[str]], esco_dir: Path
) -> None:
    field = E + "isced-f/06"
    skill_types = {
        row["conceptUri"]: row["skillType"]
        for row in _rows(esco_dir / "en" / "skills_en.csv.gz")
        if row["skillType"]
    }
    expected = {s for s, found in skill_ancestors.items() if field in found and s in skill_types}
    rows = sparql(
        real_server,
        f"""SELECT DISTINCT ?s ?typeLabel WHERE {{
          ?s skos:broaderTransitive* <{field}> ; esco:skillType ?t .
          ?t skos:prefLabel ?typeLabel .
        }}""",
    )
    assert {row["s"] for row in rows} == expected
    assert len(expected) > 100
    assert {row["typeLabel"] for row in rows} <= {"knowledge", "skill", "competence"}


def test_ict_occupations_under_isco_c25_with_their_essential_skills(
    real_server: LiveServer, occupation_ancestors: dict[str, set[str]], esco_dir: Path
) -> None:
    group = E + "isco/C25"
    occupations = {
        o for o, found in occupation_ancestors.items() if group in found and "/occupation/" in o
    }
    essential = {
        (row["occupationUri"], row["skillUri"])
        for row in _rows(esco_dir / "relations" / "occupationSkillRelations.csv.gz")
        if row["relationType"] == "essential" and row["occupationUri"] in occupations
    }
    rows = sparql(
        real_server,
        f"""SELECT DISTINCT ?o ?skill WHERE {{
          ?o a esco:Occupation ; skos:broaderTransitive <{group}> ;
             esco:relatedEssentialSkill ?skill .
        }}""",
    )
    assert {(row["o"], row["skill"]) for row in rows} == essential
    assert len({row["o"] for row in rows}) == len(occupations) > 50


def test_english_descriptions_through_node_literals(
    real_server: LiveServer, esco_dir: Path
) -> None:
    described = {  # skill groups live under /skill/ too
        row["conceptUri"]
        for name in ("occupations_en.csv.gz", "skills_en.csv.gz", "skillGroups_en.csv")
        for row in _rows(esco_dir / "en" / name)
        if row["description"].strip()
        and ("/occupation/" in row["conceptUri"] or "/skill/" in row["conceptUri"])
    }
    rows = sparql(
        real_server,
        """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {
          ?s dct:description ?node .
          ?node esco:nodeLiteral ?text ; esco:language "en"^^xsd:language .
          FILTER(STRSTARTS(STR(?s), "http://data.europa.eu/esco/occupation/")
              || STRSTARTS(STR(?s), "http://data.europa.eu/esco/skill/"))
        }""",
    )
    assert int(rows[0]["n"]) == len(described) > 17_000
    one = sparql(
        real_server,
        f"""SELECT ?text WHERE {{
          <{SOFTWARE_DEVELOPER}> dct:description ?node .
          ?node esco:nodeLiteral ?text ; esco:language ?lang .
          FILTER(STR(?lang) = "en")
        }}""",
    )
    assert len(one) == 1 and "software" in one[0]["text"].lower()


def test_jobtech_occupation_names_reach_ssyk_level_1_by_broader_transitive(
    real_server: LiveServer,
) -> None:
    rows = sparql(
        real_server,
        """PREFIX kll: <https://w3id.org/kll-graph/ontology#>
        SELECT ?type (COUNT(DISTINCT ?a) AS ?n) WHERE {
          ?name kll:conceptType "occupation-name" ;
                skos:prefLabel "Systemutvecklare/Programmerare"@sv ;
                skos:broaderTransitive ?a .
          ?a kll:conceptType ?type .
        } GROUP BY ?type""",
    )
    types = {row["type"]: int(row["n"]) for row in rows}
    assert {"ssyk-level-4", "ssyk-level-3", "ssyk-level-2", "ssyk-level-1"} <= set(types)


def test_every_query_of_the_integrators_page_answers(real_server: LiveServer) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "integrators.md"
    queries = re.findall(r"```sparql\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert len(queries) == 4
    for query in queries:
        assert sparql(real_server, query), query
