"""The JobTech importer on a small file in the shape of the per-version dump
`concepts-and-common-relations.json` (relation lists as id strings, alternative and hidden
labels, deprecated flags, replaced-by, ESCO matches), imported into a real pyoxigraph store.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, QuerySolutions, Store

from kll_graph.build.importing import get_importer
from kll_graph.importers import ImportContext
from kll_graph.namespaces import PREFIXES, graph_iri
from kll_graph.settings import Settings, SourceConfig, load_settings
from kll_graph.sparql.query import select_named

FIXTURES = Path(__file__).parents[1] / "fixtures" / "jobtech"
DUMP = FIXTURES / "dump" / "concepts-and-common-relations.json"
JT = "http://data.jobtechdev.se/taxonomy/concept/"
ESCO_DEV = "http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"
ESCO_ICT = "http://data.europa.eu/esco/occupation/5ec8f8a6-2e8c-4d2f-bd3c-4b1d4e1b7d5f"


def run_importer(path: Path, importer: str = "jobtech", version: str = "31") -> ImportContext:
    """Run a registered importer on `path` into a fresh in-memory store."""
    settings: Settings = load_settings(env={})
    source = SourceConfig(id=importer, importer=importer, path=str(path), version=version)
    ctx = ImportContext(
        source=source,
        path=path,
        graph=graph_iri(settings.base_iri, importer, version),
        settings=settings,
        store=Store(),
    )
    get_importer(importer)(ctx)
    return ctx


@pytest.fixture(scope="module")
def dump() -> ImportContext:
    return run_importer(DUMP)


def rows(ctx: ImportContext, query: str, **bindings: NamedNode) -> list[dict[str, str]]:
    for name, term in bindings.items():
        query = re.sub(rf"\?{name}\b", str(term), query)
    prefixes = {**PREFIXES, "kll": f"{ctx.base_iri}ontology#"}
    result = ctx.store.query(query, prefixes=prefixes, use_default_graph_as_union=True)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: r[n].value for n in names if r[n] is not None} for r in result]


def values(ctx: ImportContext, subject: str, predicate: str) -> set[str]:
    query = f"SELECT ?o WHERE {{ <{JT}{subject}> {predicate} ?o }}"
    return {r["o"] for r in rows(ctx, query)}


def test_alternative_and_hidden_labels_are_kept_without_duplicates(dump: ImportContext) -> None:
    assert values(dump, "rQds_YGd_quU", "skos:altLabel") == {
        "Programutvecklare",
        "Mjukvaruingenjör",
    }
    assert values(dump, "rQds_YGd_quU", "skos:hiddenLabel") == {
        "mjukvaruutveklare",
        "Programutvecklare",
    }
    langs = rows(
        dump, "SELECT DISTINCT (LANG(?l) AS ?lang) WHERE { ?c skos:altLabel|skos:hiddenLabel ?l }"
    )
    assert langs == [{"lang": "sv"}]


def test_deprecated_and_replaced_by(
    dump: ImportContext,
) -> None:
    old = NamedNode(JT + "old1_OCC_001")
    assert values(dump, "old1_OCC_001", "owl:deprecated") == {"true"}
    assert values(dump, "old1_OCC_001", "dct:isReplacedBy") == {JT + "rQds_YGd_quU"}
    assert values(dump, "rQds_YGd_quU", "dct:replaces") == {JT + "old1_OCC_001"}
    assert values(dump, "old2_OCC_002", "owl:deprecated") == {"true"}
    assert values(dump, "rQds_YGd_quU", "owl:deprecated") == set()
    found = [(r["replacement"].value, r["current"].value) for r in select_named(
        dump.store, "jobtech_replaced_by", concept=old)]  # fmt: skip
    assert found == [(JT + "rQds_YGd_quU", "true")]
    # a deprecated concept is never a top concept of its scheme
    assert values(dump, "old2_OCC_002", "skos:topConceptOf") == set()
    assert dump.report.counts["deprecated"] == 2


def test_relation_lists_of_ids_become_skos_relations(dump: ImportContext) -> None:
    assert values(dump, "DJh5_yyF_hEM", "skos:narrower") == {
        JT + "rQds_YGd_quU", JT + "fg7B_yov_smw", JT + "old1_OCC_001"
    }  # fmt: skip
    assert values(dump, "rQds_YGd_quU", "skos:broader") == {
        JT + "DJh5_yyF_hEM",
        JT + "Ctc9_BXf_HGq",
    }
    assert values(dump, "Ctc9_BXf_HGq", "skos:narrower") == {JT + "rQds_YGd_quU"}
    assert values(dump, "jt01_TTL_001", "skos:related") == {JT + "rQds_YGd_quU"}
    assert JT + "jt01_TTL_001" in values(dump, "rQds_YGd_quU", "skos:related")
    assert values(dump, "rQds_YGd_quU", "kll:substitutes") == {JT + "fg7B_yov_smw"}
    assert values(dump, "fg7B_yov_smw", "kll:substitutes") == {JT + "rQds_YGd_quU"}
    assert values(dump, "rQds_YGd_quU", "kll:essentialSkill") == {JT + "skl1_ABC_001"}
    assert values(dump, "rQds_YGd_quU", "kll:optionalSkill") == {JT + "skl1_ABC_002"}
    assert values(dump, "rQds_YGd_quU", "kll:possibleCombination") == {JT + "fg7B_yov_smw"}


def test_substitution_without_percentage_has_a_node_without_one(dump: ImportContext) -> None:
    found = rows(
        dump,
        """SELECT ?node ?pct WHERE {
        ?node a kll:Substitutability ; kll:substitute ?a ; kll:substituted ?b .
        OPTIONAL { ?node kll:substitutabilityPercentage ?pct } }""",
    )
    assert len(found) == 2
    assert all("pct" not in r for r in found)


def test_esco_matches_point_at_esco_uris(dump: ImportContext) -> None:
    assert values(dump, "rQds_YGd_quU", "skos:exactMatch") == {JT + "esc1_OCC_001", ESCO_DEV}
    assert values(dump, "rQds_YGd_quU", "skos:closeMatch") == {JT + "esc1_OCC_002", ESCO_ICT}
    assert values(dump, "esc1_OCC_001", "skos:exactMatch") == {ESCO_DEV}
    assert values(dump, "fg7B_yov_smw", "skos:broadMatch") == {ESCO_DEV}


def test_codes_of_the_dump_types(dump: ImportContext) -> None:
    k = f"{dump.base_iri}ontology#"
    found = rows(
        dump,
        """SELECT ?c ?code (DATATYPE(?code) AS ?dt) WHERE {
           ?c a skos:Concept ; skos:notation ?code }""",
    )
    by = {(r["c"].removeprefix(JT), r["code"]): r["dt"].removeprefix(k) for r in found}
    assert by == {
        ("DJh5_yyF_hEM", "2512"): "SSYK2012",
        ("Ctc9_BXf_HGq", "2512"): "ISCO08",
        ("mun1_STH_180", "0180"): "LAU2Code2015",
        ("reg1_STH_001", "01"): "NationalNUTS3Code2019",
        ("reg1_STH_001", "SE110"): "NUTS3Code2013",
        ("drv1_LIC_00B", "B"): "DrivingLicenceCode2013",
    }


def test_unknown_type_is_a_generic_concept_listed_in_the_summary(dump: ImportContext) -> None:
    types = values(dump, "fut1_TYP_001", "rdf:type")
    assert types == {PREFIXES["skos"] + "Concept"}
    assert values(dump, "fut1_TYP_001", "kll:conceptType") == {"future-concept-type"}
    assert values(dump, "fut1_TYP_001", "skos:inScheme") == set()
    assert any("future-concept-type (1)" in w for w in dump.report.warnings)
    assert any("quality_level (1)" in n for n in dump.report.notes)


def test_relation_to_an_absent_id_is_kept_and_counted(dump: ImportContext) -> None:
    assert values(dump, "rQds_YGd_quU", "kll:unlikelyCombination") == {JT + "zzzz_NOT_THERE"}
    assert dump.report.counts["relations to ids not in the data"] == 1
    assert any("not in the data" in n for n in dump.report.notes)


def test_dump_without_concept_types_still_has_typed_schemes(dump: ImportContext) -> None:
    scheme = f"{dump.base_iri}scheme/jobtech/occupation-name"
    assert values(dump, "rQds_YGd_quU", "skos:inScheme") == {scheme}
    assert values(dump, "rQds_YGd_quU", "kll:conceptType") == {"occupation-name"}
    assert PREFIXES["skos"] + "Concept" in values(dump, "rQds_YGd_quU", "rdf:type")
    assert f"{dump.base_iri}ontology#OccupationName" in values(dump, "rQds_YGd_quU", "rdf:type")
    assert any("concept-types.json not found" in n for n in dump.report.notes)
    tops = rows(dump, f"SELECT ?c WHERE {{ <{scheme}> skos:hasTopConcept ?c }}")
    assert {r["c"] for r in tops} == {JT + "rQds_YGd_quU", JT + "fg7B_yov_smw"}


def test_no_uri_is_minted_for_a_jobtech_concept(dump: ImportContext) -> None:
    concepts = rows(dump, "SELECT DISTINCT ?c WHERE { ?c a skos:Concept }")
    assert len(concepts) == 16
    assert all(r["c"].startswith(JT) for r in concepts)
