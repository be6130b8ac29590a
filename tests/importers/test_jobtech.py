"""The JobTech importer on the real dataset files in ../shared/data/jobtech (one build per module).

The expected figures are the ones the data folder's README states for these files; they are
asked of the built store with SPARQL, the way an integrator would ask them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, QuerySolutions, Store

from kll_graph.build import pipeline as build_module
from kll_graph.build.pipeline import build
from kll_graph.importers.jobtech import CODE_SYSTEMS, CONCEPT_TYPES, type_class_name
from kll_graph.namespaces import PREFIXES, graph_iri, kll
from kll_graph.settings import Settings
from kll_graph.sparql.query import select_named
from kll_graph.store import CurrentStore, Manifest
from kll_graph.testing import make_settings

pytestmark = pytest.mark.realdata

JT = "http://data.jobtechdev.se/taxonomy/concept/"


@pytest.fixture(scope="module")
def jt_settings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The repository configuration with only the two JobTech sources, on the real data."""
    settings = make_settings(tmp_path_factory.mktemp("jobtech") / "store", data_dir=shared_data)
    keep = {"jobtech", "jobtech-legacy"}
    return settings.replace(sources=tuple(s for s in settings.sources if s.id in keep))


@pytest.fixture(scope="module")
def built(jt_settings: Settings) -> Iterator[Manifest]:
    """The manifest of one real build of the JobTech sources.

    The build steps (label index, quality checks) are other areas with their own tests; they are
    left out here so this module measures the import, not them.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_module, "BUILD_STEPS", ())
        yield build(jt_settings).manifest


@pytest.fixture(scope="module")
def store(built: Manifest, jt_settings: Settings) -> Store:
    return CurrentStore(jt_settings.store).get().store


@pytest.fixture(scope="module")
def k(jt_settings: Settings):
    return kll(jt_settings.base_iri)


@pytest.fixture(scope="module")
def graph(jt_settings: Settings) -> NamedNode:
    return graph_iri(jt_settings.base_iri, "jobtech", "unknown")


class Ask:
    """SELECTs over the union graph of the built store, values as plain strings."""

    def __init__(self, store: Store, base_iri: str) -> None:
        self.store = store
        self.prefixes = {**PREFIXES, "kll": f"{base_iri}ontology#"}

    def rows(self, query: str, **bindings: object) -> list[dict[str, str]]:
        """Bindings are written into the query text as N-Triples terms (test-owned values)."""
        for name, term in bindings.items():
            query = re.sub(rf"\?{name}\b", str(term), query)
        result = self.store.query(query, prefixes=self.prefixes, use_default_graph_as_union=True)
        assert isinstance(result, QuerySolutions)
        names = [v.value for v in result.variables]
        return [{n: row[n].value for n in names if row[n] is not None} for row in result]

    def one(self, query: str, **bindings: object) -> int:
        rows = self.rows(query, **bindings)
        assert len(rows) == 1, rows
        return int(next(iter(rows[0].values())))


@pytest.fixture(scope="module")
def q(store: Store, jt_settings: Settings) -> Ask:
    return Ask(store, jt_settings.base_iri)


def type_counts(store: Store, k, graph: NamedNode) -> dict[str, int]:
    rows = select_named(store, "jobtech_type_counts", graph=graph, kll_conceptType=k.conceptType)
    return {r["type"].value: int(r["concepts"].value) for r in rows}


# --- counts -------------------------------------------------------------------------------------
def test_counts_per_type_match_the_readme(q: Ask, store: Store, k, graph: NamedNode) -> None:
    counts = type_counts(store, k, graph)
    expected = {
        "occupation-name": 2412,
        "ssyk-level-4": 400,
        "ssyk-level-3": 147,
        "ssyk-level-2": 46,
        "ssyk-level-1": 10,
        "isco-level-4": 436,
        "skill": 6657,
        "keyword": 1484,
        "language": 470,
        "country": 250,
        "region": 1519,
        "sni-level-1": 21,
        "sni-level-2": 88,
        "sni-level-3": 272,
        "sni-level-4": 615,
        "sni-level-5": 821,
        "sun-education-field-1": 10,
        "sun-education-field-2": 26,
        "sun-education-field-3": 118,
        "sun-education-field-4": 377,
        "sun-education-level-1": 7,
        "sun-education-level-2": 14,
        "sun-education-level-3": 50,
        "wage-type": 3,
        "occupation-experience-year": 5,
        "occupation-collection": 1,
    }
    assert {t: counts.get(t) for t in expected} == expected
    assert sum(counts.values()) == 16268


def test_distinct_concepts_in_the_jobtech_graph(
    q: Ask, store: Store, graph: NamedNode, built
) -> None:
    query = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?c a skos:Concept } }"
    assert q.one(query, g=graph) == 16268
    assert built.sources["jobtech"].counts["concepts"] == 16268


def test_occupation_names_sit_under_400_ssyk4_groups(q: Ask, store: Store, built) -> None:
    query = """
    SELECT (COUNT(DISTINCT ?occ) AS ?occupations) (COUNT(DISTINCT ?group) AS ?groups)
           (SUM(?n) AS ?links) WHERE {
      { SELECT ?occ (COUNT(DISTINCT ?group) AS ?n) (SAMPLE(?group) AS ?group) WHERE {
          ?occ kll:conceptType "occupation-name" ; skos:broader ?group .
          ?group kll:conceptType "ssyk-level-4" .
        } GROUP BY ?occ }
    }"""
    [row] = q.rows(query)
    assert (row["occupations"], row["groups"], row["links"]) == ("2412", "400", "2412")


@pytest.mark.parametrize(
    ("level", "count", "digits"),
    [("ssyk-level-1", 10, 1), ("ssyk-level-2", 46, 2), ("ssyk-level-3", 147, 3),
     ("ssyk-level-4", 400, 4)],
)  # fmt: skip
def test_ssyk_levels_carry_ssyk_codes(q: Ask, store: Store, built, k, level, count, digits) -> None:
    query = """
    SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
      ?c kll:conceptType ?level ; skos:notation ?code .
      FILTER(DATATYPE(?code) = ?ssyk && STRLEN(STR(?code)) = ?digits)
    }"""
    n = q.one(query, level=Literal(level), ssyk=k.SSYK2012, digits=Literal(digits),
    )  # fmt: skip
    assert n == count


def test_ssyk4_to_isco4_links(q: Ask, store: Store, built) -> None:
    query = """
    SELECT (COUNT(*) AS ?links) (COUNT(DISTINCT ?isco) AS ?iscos) WHERE {
      ?ssyk kll:conceptType "ssyk-level-4" ; skos:related ?isco .
      ?isco kll:conceptType "isco-level-4" .
    }"""
    [row] = q.rows(query)
    assert (row["links"], row["iscos"]) == ("565", "412")


def test_substitutability_edges_and_percentages(q: Ask, store: Store, built) -> None:
    simple = "SELECT (COUNT(*) AS ?n) WHERE { ?a kll:substitutes ?b }"
    assert q.one(simple) == 8324
    qualified = """
    SELECT ?pct (COUNT(DISTINCT ?node) AS ?n) WHERE {
      ?node a kll:Substitutability ; kll:substitute ?a ; kll:substituted ?b ;
            kll:substitutabilityPercentage ?pct .
      ?a kll:substitutes ?b .
    } GROUP BY ?pct ORDER BY ?pct"""
    rows = q.rows(qualified)
    assert [(r["pct"], r["n"]) for r in rows] == [("25", "3223"), ("75", "5101")]


def test_keywords_and_their_related_links(q: Ask, store: Store, built) -> None:
    query = """
    SELECT (COUNT(*) AS ?links) WHERE { ?kw kll:conceptType "keyword" ; skos:related ?other }"""
    assert q.one(query) == 1630


def test_broader_and_narrower_are_both_materialised(q: Ask, store: Store, built) -> None:
    broader = q.one("SELECT (COUNT(*) AS ?n) WHERE { ?a skos:broader ?b }")
    missing = """SELECT (COUNT(*) AS ?n) WHERE {
      ?a skos:broader ?b FILTER NOT EXISTS { ?b skos:narrower ?a } }"""
    assert broader == q.one("SELECT (COUNT(*) AS ?n) WHERE { ?a skos:narrower ?b }")
    assert broader > 5000
    assert q.one(missing) == 0


def test_ssyk_and_isco_codes_never_collide(q: Ask, store: Store, k) -> None:
    ssyk = select_named(
        store, "jobtech_narrower_by_code", code=Literal("2512", datatype=k.SSYK2012)
    )
    isco = select_named(store, "jobtech_narrower_by_code", code=Literal("2512", datatype=k.ISCO08))
    groups = {r["group"].value for r in ssyk}
    assert groups == {JT + "DJh5_yyF_hEM"}
    assert list(isco) == []  # ISCO groups have no narrower concepts in these files
    plain = """SELECT ?c (DATATYPE(?code) AS ?system) WHERE {
      ?c skos:notation ?code FILTER(STR(?code) = '2512') }"""
    systems = {r["system"]: r["c"] for r in q.rows(plain)}
    # the same four digits in three code systems: three concepts, told apart by the datatype
    assert sorted(systems) == sorted(k[n].value for n in ("SSYK2012", "ISCO08", "SNI2007"))
    assert systems[k.SSYK2012.value] == JT + "DJh5_yyF_hEM"
    assert len(set(systems.values())) == 3


def test_every_concept_has_exactly_one_swedish_preflabel(
    q: Ask, store: Store, graph, built
) -> None:
    query = """
    SELECT (COUNT(*) AS ?n) WHERE {
      { SELECT ?c (COUNT(?l) AS ?labels) WHERE {
          GRAPH ?g { ?c a skos:Concept OPTIONAL { ?c skos:prefLabel ?l FILTER(LANG(?l) = "sv") } }
        } GROUP BY ?c }
      FILTER(?labels != 1)
    }"""
    assert q.one(query, g=graph) == 0


def test_sni_files_without_ids_are_matched_by_code(q: Ask, built, store: Store) -> None:
    counts = built.sources["jobtech"].counts
    assert counts["concepts without id matched by code"] == 21 + 88 + 272 + 615 + 821
    assert "concepts without id unmatched" not in counts
    query = """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
      ?c kll:conceptType ?t ; skos:notation ?code FILTER(STRSTARTS(?t, "sni-level-")) }"""
    assert q.one(query) == 1817
    minted = (
        f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c a skos:Concept FILTER(!STRSTARTS(STR(?c), '{JT}')) }}"
    )
    assert q.one(minted) == 0


# --- golden spot checks -------------------------------------------------------------------------
def test_golden_ssyk_2512(q: Ask, store: Store, built, k, jt_settings: Settings) -> None:
    group = NamedNode(JT + "DJh5_yyF_hEM")
    query = """SELECT ?p ?o WHERE { ?s ?p ?o }"""
    facts = {(r["p"], r["o"]) for r in q.rows(query, s=group)}
    skos = PREFIXES["skos"]
    assert (skos + "prefLabel", "Mjukvaru- och systemutvecklare m.fl.") in facts
    assert (skos + "notation", "2512") in facts
    assert (k.conceptType.value, "ssyk-level-4") in facts
    assert (k.jobtechId.value, "DJh5_yyF_hEM") in facts
    assert (PREFIXES["rdf"] + "type", k.SsykLevel4.value) in facts
    assert (skos + "inScheme", f"{jt_settings.base_iri}scheme/jobtech/ssyk-level-4") in facts
    assert any(p == skos + "definition" and o.startswith("Analyserar, designar") for p, o in facts)
    occupations = {
        r["label"].value
        for r in select_named(
            store, "jobtech_narrower_by_code", code=Literal("2512", datatype=k.SSYK2012)
        )
    }
    assert len(occupations) == 15
    assert {"Mjukvaruutvecklare", "Backend-utvecklare", "Projektledare, IT"} <= occupations
    path = (
        """SELECT ?code WHERE { ?g skos:broader+ ?up . ?up skos:notation ?code } ORDER BY ?code"""
    )
    assert [r["code"] for r in q.rows(path, g=group)] == ["2", "25", "251"]


def test_golden_isco_groups_of_ssyk_2512(q: Ask, store: Store, k) -> None:
    rows = select_named(
        store,
        "jobtech_related_by_code",
        code=Literal("2512", datatype=k.SSYK2012),
        codeSystem=k.ISCO08,
    )
    codes = [r["relatedCode"] for r in rows]
    assert all(c.datatype == k.ISCO08 for c in codes)
    assert "2512" in {c.value for c in codes}


def test_golden_substitutes_of_mjukvaruutvecklare(q: Ask, store: Store, k) -> None:
    rows = list(
        select_named(
            store,
            "jobtech_substitutes",
            occupation=NamedNode(JT + "rQds_YGd_quU"),
            kll_substitute=k.substitute,
            kll_substituted=k.substituted,
            kll_substitutabilityPercentage=k.substitutabilityPercentage,
        )
    )
    found = {r["label"].value: int(r["percentage"].value) for r in rows}
    assert found["Dataingenjör"] == 75
    assert found["Rymdingenjör"] == 75
    assert set(found.values()) <= {25, 75}
    assert [int(r["percentage"].value) for r in rows] == sorted(found.values(), reverse=True)


def test_golden_language_and_country_codes(q: Ask, store: Store, built, k) -> None:
    query = """SELECT ?c ?label WHERE { ?c skos:notation ?code ; skos:prefLabel ?label }"""
    [sv] = q.rows(query, code=Literal("SV", datatype=k["ISO639-1"]))
    assert sv["label"] == "Svenska"
    [se] = q.rows(query, code=Literal("SWE", datatype=k["ISO3166-1-alpha3"]))
    assert se["label"] == "Sverige"


# --- schemes, classes, ontology -----------------------------------------------------------------
def test_53_schemes_with_swedish_and_english_labels(q: Ask, store: Store, built) -> None:
    query = """
    SELECT ?scheme ?sv ?en WHERE {
      ?scheme a skos:ConceptScheme , kll:ConceptType ; skos:notation ?type .
      OPTIONAL { ?scheme skos:prefLabel ?sv FILTER(LANG(?sv) = "sv") }
      OPTIONAL { ?scheme skos:prefLabel ?en FILTER(LANG(?en) = "en") }
    }"""
    rows = q.rows(query)
    assert len(rows) == 53
    assert all("sv" in r and "en" in r for r in rows)
    by_scheme = {r["scheme"].rsplit("/", 1)[1]: r for r in rows}
    assert by_scheme["occupation-name"]["sv"] == "Yrkesbenämning"
    assert by_scheme["occupation-name"]["en"] == "Occupation name"


def test_top_concepts_have_no_broader_in_their_own_scheme(q: Ask, jt_settings: Settings) -> None:
    query = """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
      ?s skos:hasTopConcept ?c . ?c skos:topConceptOf ?s }"""
    expected = {"ssyk-level-1": 10, "ssyk-level-4": 400, "occupation-name": 2412,
                "sni-level-1": 21, "skill": 6657}  # fmt: skip
    for concept_type, count in expected.items():
        scheme = NamedNode(f"{jt_settings.base_iri}scheme/jobtech/{concept_type}")
        assert q.one(query, s=scheme) == count, concept_type
    wrong = """SELECT (COUNT(*) AS ?n) WHERE {
      ?c skos:topConceptOf ?s ; skos:broader ?b . ?b skos:inScheme ?s }"""
    assert q.one(wrong) == 0


def test_classes_and_datatypes_are_defined_in_the_ontology(q: Ask, k, built) -> None:
    query = """
    SELECT ?term ?sv ?en ?def WHERE {
      GRAPH ?catalog { ?g dct:identifier "ontology" }
      GRAPH ?g {
      ?term rdfs:label ?sv , ?en ; skos:definition ?def .
      FILTER(LANG(?sv) = "sv" && LANG(?en) = "en" && LANG(?def) = "en")
    } }"""
    defined = {r["term"] for r in q.rows(query, catalog=NamedNode(built.catalog_graph))}
    classes = {k[type_class_name(t)].value for t in CONCEPT_TYPES}
    datatypes = {k[d].value for d in CODE_SYSTEMS.values()}
    extra = {k[t].value for t in ("conceptClass", "essentialSkill", "optionalSkill",
                                  "possibleCombination", "unlikelyCombination")}  # fmt: skip
    assert classes | datatypes | extra <= defined
    used = q.rows("SELECT DISTINCT ?c WHERE { ?x kll:conceptType ?t ; a ?c }")
    used_classes = {r["c"] for r in used} - {PREFIXES["skos"] + "Concept"}
    assert used_classes <= defined
    dts = q.rows("SELECT DISTINCT (DATATYPE(?n) AS ?d) WHERE { ?c skos:notation ?n }")
    assert {r["d"] for r in dts} <= defined | {PREFIXES["xsd"] + "string"}


# --- legacy ids -----------------------------------------------------------------------------------
def test_legacy_ids_resolve(q: Ask, store: Store, k) -> None:
    rows = list(
        select_named(
            store, "jobtech_by_legacy_id",
            legacyId=Literal("3300"), kll_legacyAmsId=k.legacyAmsId, kll_conceptType=k.conceptType,
        )
    )  # fmt: skip
    found = {(r["concept"].value, r["type"].value if r["type"] else None) for r in rows}
    assert (JT + "11L4_Q2Z_8tM", "skill") in found


def test_legacy_only_types_are_imported_and_marked(
    q: Ask, store: Store, built, jt_settings
) -> None:
    legacy_graph = graph_iri(jt_settings.base_iri, "jobtech-legacy", "2020-06-24")
    query = """
    SELECT ?t (COUNT(DISTINCT ?c) AS ?n) WHERE {
      ?c kll:sourceDataset ?g ; kll:conceptType ?t ; skos:inScheme ?s ; skos:prefLabel ?l .
      FILTER NOT EXISTS { ?c kll:lastSeenIn ?release }
    } GROUP BY ?t ORDER BY ?t"""
    rows = {r["t"]: int(r["n"]) for r in q.rows(query, g=legacy_graph)}
    assert rows == {
        "continent": 22, "driving-licence": 15, "employment-duration": 6, "language-level": 4,
        "municipality": 290, "occupation-field": 21, "skill-headline": 53,
        "unemployment-fund": 26, "unemployment-type": 56,
    }  # fmt: skip
    counts = built.sources["jobtech-legacy"].counts
    assert (counts["entries"], counts["legacy ids"]) == (14329, 14328)
    not_legacy = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?c kll:sourceDataset ?g ; kll:conceptType 'skill' "
        "FILTER NOT EXISTS { ?c kll:lastSeenIn ?release } }"
    )
    assert q.one(not_legacy, g=legacy_graph) == 0


def _dataset_ids(folder: Path) -> set[str]:
    """Every concept id the dataset files mention, read plainly from the JSON text."""
    found: set[str] = set()
    for path in folder.glob("*.json"):
        found |= set(re.findall(r'"id"\s*:\s*"([^"]+)"', path.read_text(encoding="utf-8")))
    return found


def test_concepts_of_older_releases_get_type_label_and_last_seen(
    q: Ask, built, jt_settings, shared_data: Path
) -> None:
    """A dump concept of a type the datasets have, absent from them, is of an older release:
    counted per type against a plain reading of the files, with its label in the dump's graph."""
    legacy_graph = graph_iri(jt_settings.base_iri, "jobtech-legacy", "2020-06-24")
    dump = json.loads(
        (shared_data / "jobtech/legacy-id-mapping/concept-to-taxonomy.json").read_text("utf-8")
    )
    current = _dataset_ids(shared_data / "jobtech/taxonomy-datasets")
    current_types = {dump[i]["type"] for i in current if i in dump}
    expected = Counter(
        e["type"] for i, e in dump.items() if i not in current and e["type"] in current_types
    )
    query = """
    SELECT ?t (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g {
      ?c kll:lastSeenIn ?g ; kll:conceptType ?t ; skos:prefLabel ?l ; skos:inScheme ?s .
    } } GROUP BY ?t"""
    assert {r["t"]: int(r["n"]) for r in q.rows(query, g=legacy_graph)} == dict(expected)
    assert expected["occupation-name"] > 1000
    label = "SELECT ?l WHERE { GRAPH ?g { <%s> skos:prefLabel ?l ; kll:lastSeenIn ?g } }"
    assert q.rows(label % (JT + "6TQs_8i6_per"), g=legacy_graph) == [
        {"l": "Enhetschef inom social omsorg/Föreståndare inom social omsorg"}
    ]
    counts = built.sources["jobtech-legacy"].counts
    assert counts["concepts of older releases"] == sum(expected.values())
    current_marked = "SELECT (COUNT(*) AS ?n) WHERE { ?c kll:lastSeenIn ?r ; kll:conceptType ?t }"
    assert q.one(current_marked) == sum(expected.values())


# --- build summary and catalog ------------------------------------------------------------------
def test_summary_says_the_version_is_unknown(q: Ask, built, store: Store, graph: NamedNode) -> None:
    notes = built.sources["jobtech"].notes
    assert any("version unknown" in n for n in notes)
    assert any(n.startswith("concepts per type: ") and "occupation-name 2,412" in n for n in notes)
    assert built.sources["jobtech"].warnings == ()
    query = "SELECT ?v WHERE { GRAPH ?cat { ?g owl:versionInfo ?v } }"
    cat = NamedNode(built.catalog_graph)
    assert [r["v"] for r in q.rows(query, g=graph, cat=cat)] == ["unknown"]
    said = "SELECT ?c WHERE { GRAPH ?cat { ?g rdfs:comment ?c } }"
    assert [r["c"] for r in q.rows(said, g=graph, cat=cat)] == [
        "taxonomy version unknown: these dataset files do not record it"
    ]
    assert graph.value.endswith("/graph/jobtech/unknown")


# --- the examples in docs/jobtech.md ------------------------------------------------------------
def doc_examples() -> list[str]:
    text = (Path(__file__).parents[2] / "docs" / "jobtech.md").read_text(encoding="utf-8")
    return re.findall(r"```sparql\n(.*?)```", text, flags=re.S)


def test_docs_examples_answer_on_the_real_store(store: Store) -> None:
    """Every SPARQL example of docs/jobtech.md runs as `kll-graph query` runs it, and answers."""
    from kll_graph.sparql.query import execute

    examples = doc_examples()
    assert len(examples) == 7
    answers = []
    for example in examples:
        rows = list(execute(store, example))  # type: ignore[arg-type]
        if "isReplacedBy" not in example:  # the dataset files have no replacements
            assert rows, example
        answers.append(rows)
    assert len(answers[0]) == 15  # occupations in SSYK 2512
    assert "2512" in {r["code"].value for r in answers[1]}
    assert {r["label"].value for r in answers[4]} >= {"Kylteknik"}
