"""The lookup pages on the real data (../shared/data) over real HTTP: what a counsellor or a
terminologist would look up, checked against the store queried independently."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from pyoxigraph import NamedNode, Variable

from kll_graph import concepts
from kll_graph.labels.lookup import index_for
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer
from tests.web.test_pages import concept_path, page, uris_linked

pytestmark = pytest.mark.realdata

SKOS = "http://www.w3.org/2004/02/skos/core#"
ESCO_MODEL = "http://data.europa.eu/esco/model#"
DEVELOPER = "http://data.jobtechdev.se/taxonomy/concept/fg7B_yov_smw"
NURSE = "http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR"
ESCO_NURSE_ASSISTANT = "http://data.europa.eu/esco/occupation/87d0795a-d41f-47ee-979f-0ab7d73836e7"


def select(store: CurrentStore, query: str, **bindings: str) -> list[dict[str, str]]:
    rows = store.get().store.query(
        query,
        use_default_graph_as_union=True,
        substitutions={Variable(k): NamedNode(v) for k, v in bindings.items()},
    )
    return [{v.value: row[v].value for v in rows.variables if row[v] is not None} for row in rows]  # type: ignore[union-attr]


def test_jobtech_occupation_shows_its_ssyk_path(
    real_server: LiveServer, real_store: CurrentStore
) -> None:
    ancestors = select(real_store, f"SELECT ?c ?b WHERE {{ ?c <{SKOS}broader>+ ?b }}", c=DEVELOPER)
    index = index_for(real_store.get())
    kinds = {index.type_info(index.concept_number(a["b"]), "sv")["id"] for a in ancestors}
    assert {"ssyk-level-4", "ssyk-level-3", "ssyk-level-2", "ssyk-level-1"} <= kinds
    answer, p = page(real_server, concept_path(DEVELOPER))
    assert answer.status == 200
    assert p.by_id  # parsed
    path_links = uris_linked(p)
    for a in ancestors:
        assert a["b"] in path_links
    assert "Systemutvecklare/Programmerare" in p.text
    assert "Mjukvaru- och systemutvecklare m.fl." in p.text  # its SSYK 4 group


def test_jobtech_occupation_shows_substitutability_percentages(
    real_server: LiveServer, real_store: CurrentStore
) -> None:
    doc = concepts.concept(real_store.get(), DEVELOPER, "sv")
    items = doc["substitutability"]["can_substitute"]
    assert len(items) >= 5
    _, p = page(real_server, concept_path(DEVELOPER))
    table = re.search(r"Kan ersätta.*?Kan ersättas av", p.text)
    assert table
    for item in items:
        assert f"{item['label']} {item['percentage']} %" in table.group(0)


def test_esco_occupation_lists_all_its_essential_skills(
    real_server: LiveServer, real_store: CurrentStore
) -> None:
    skills = {
        r["s"]
        for r in select(
            real_store,
            f"SELECT ?c ?s WHERE {{ ?c <{ESCO_MODEL}relatedEssentialSkill> ?s }}",
            c=ESCO_NURSE_ASSISTANT,
        )
    }
    assert 10 < len(skills) <= 50
    _, p = page(real_server, concept_path(ESCO_NURSE_ASSISTANT), lang="en")
    assert p.by_id["h-essential_skills"] == f"Essential skills {len(skills)} ESCO · Skill"
    assert skills <= set(uris_linked(p))
    assert NURSE in uris_linked(p)  # mapped from JobTech, shown from the ESCO side


def test_skill_needed_by_many_occupations_is_paged(
    real_server: LiveServer, real_store: CurrentStore
) -> None:
    top = select(
        real_store,
        f"SELECT ?s (COUNT(?o) AS ?n) WHERE {{ ?o <{ESCO_MODEL}relatedEssentialSkill> ?s }} "
        "GROUP BY ?s ORDER BY DESC(?n) LIMIT 1",
    )[0]
    skill, total = top["s"], int(top["n"])
    assert total > 100
    occupations = {
        r["o"]
        for r in select(
            real_store,
            f"SELECT ?s ?o WHERE {{ ?o <{ESCO_MODEL}relatedEssentialSkill> ?s }}",
            s=skill,
        )
    }
    _, first = page(real_server, concept_path(skill))
    _, second = page(real_server, concept_path(skill) + "&essential_for_page=2")
    one = set(uris_linked(first)) & occupations
    two = set(uris_linked(second)) & occupations
    assert len(one) == 50 and len(two) == 50
    assert one.isdisjoint(two)
    assert f"Visar 1–50 av {total:,}".replace(",", " ") in first.text
    last = -(-total // 50)
    answer, _ = page(real_server, concept_path(skill) + f"&essential_for_page={last + 1}")
    assert answer.status == 404


def test_search_for_a_swedish_occupation(real_server: LiveServer) -> None:
    answer, p = page(real_server, "/search?q=" + quote("sjuksköterska"))
    assert answer.status == 200
    assert NURSE in uris_linked(p)[:10]
    assert "JobTech Taxonomy" in p.text and "ESCO" in p.text  # facets of both vocabularies


def test_about_names_sources_versions_and_esco_attribution(
    real_server: LiveServer, real_store: CurrentStore
) -> None:
    _, p = page(real_server, "/about", lang="en")
    assert "ESCO classification, © European Union" in p.text
    for graph in real_store.get().manifest.graphs:
        assert graph.iri in p.text
    assert "v1.1.1" in p.text


def test_mapping_set_coverage_matches_the_store(
    real_server: LiveServer, real_store: CurrentStore
) -> None:
    served = real_store.get()
    graph = next(g.iri for g in served.manifest.graphs if g.source == "se-skills-esco")
    rows = select(
        real_store,
        f"SELECT DISTINCT ?g ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
        f"FILTER(?p IN (<{SKOS}exactMatch>, <{SKOS}closeMatch>, <{SKOS}broadMatch>, "
        f"<{SKOS}narrowMatch>, <{SKOS}relatedMatch>)) }}",
        g=graph,
    )
    index = index_for(served)
    skills = {
        r["s"]
        for r in rows
        if index.concept_number(r["s"]) is not None
        and index.type_info(index.concept_number(r["s"]), "sv")["id"] == "skill"
    }
    total = index.types[index.type_by_id["skill"]].count
    assert skills
    answer, p = page(real_server, "/mappings/se-skills-esco")
    assert answer.status == 200
    shown = f"{len(skills):,} av {total:,}".replace(",", " ")
    assert re.search(rf"JobTech Taxonomy · Kompetensbegrepp [\d.]+ % {shown}", p.text), shown


def test_home_counts_the_real_vocabularies(
    real_server: LiveServer, real_store: CurrentStore
) -> None:
    index = index_for(real_store.get())
    _, p = page(real_server, "/", lang="en")
    assert f"{index.concept_count:,} concepts" in p.text
    assert "SAMPLE" not in p.text
