"""Mapping sets in the build: one named graph per set, matches and provenance, set metadata in
the catalog, malformed sets refused with the current store still serving, checks and coverage
on the built store (sample and real data)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pyoxigraph import QuerySolutions

from kll_graph.build.context import BuildContext, SourceResult
from kll_graph.build.pipeline import build
from kll_graph.build.steps import mapping_checks as build_step
from kll_graph.cli import main
from kll_graph.exceptions import BuildError, SourceError, StoreNotFoundError
from kll_graph.mappings.checks import FINDINGS_FILE
from kll_graph.mappings.coverage import coverage
from kll_graph.plan import DataPlan, builtin_sources
from kll_graph.settings import Settings
from kll_graph.sparql.query import current_releases
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings
from tests.mappings.test_mappings_checks import vocabulary_store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sssom"
BASE = "https://w3id.org/kll-graph/"

COUNT_MATCHES = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?p (COUNT(*) AS ?n) WHERE {
  GRAPH ?g { ?s ?p ?o FILTER(?p IN (skos:exactMatch, skos:closeMatch, skos:broadMatch,
                                     skos:narrowMatch, skos:relatedMatch)) }
  FILTER(?g = ?graph)
} GROUP BY ?p"""


def _counts(store: object, graph: str) -> dict[str, int]:
    query = COUNT_MATCHES.replace("?graph", f"<{graph}>")
    return {
        row["p"].value.rsplit("#", 1)[1]: int(row["n"].value)
        for row in store.query(query)  # type: ignore[attr-defined]
    }


def test_sample_build_compiles_each_official_table_into_its_graph(
    sample_store: CurrentStore,
) -> None:
    served = sample_store.get()
    graph = f"{BASE}graph/se-occupations-esco/taxonomy-v18-esco-v1.1.1"
    counts = _counts(served.store, graph)
    source = served.manifest.sources["se-occupations-esco"].counts
    # every positive mapping of the table is one skos triple in the set's graph, swapped
    assert sum(counts.values()) == source["mappings"] == source["table_rows"]
    assert counts.get("broadMatch", 0) == source["table_narrowMatch"]
    assert counts.get("narrowMatch", 0) == source["table_broadMatch"]
    # the set's metadata is in the catalog and points at the graph
    ask = f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX sssom: <https://w3id.org/sssom/> PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?title WHERE {{ GRAPH <{BASE}graph/catalog> {{
          <{graph}> prov:wasDerivedFrom ?set . ?set a sssom:MappingSet ; dct:title ?title ;
          sssom:object_source_version "1.1.1" }} }}"""
    titles = served.store.query(ask)
    assert isinstance(titles, QuerySolutions)
    assert [r["title"].value for r in titles] == ["ESCO - SE NOC"]
    assert served.manifest.steps["mappings"]["findings_file"] == FINDINGS_FILE
    findings = json.loads((served.path / FINDINGS_FILE).read_text(encoding="utf-8"))
    assert served.manifest.steps["mappings"]["errors"] == sum(
        1 for f in findings if f["severity"] == "error"
    )


def _with_mappings(tmp_path: Path, *fixtures: str, **changes: object) -> Settings:
    mappings = tmp_path / "mappings"
    mappings.mkdir(exist_ok=True)
    for name in fixtures:
        shutil.copy(FIXTURES / name, mappings / name)
    return make_settings(tmp_path / "store", None, mappings_dir=mappings, **changes)


def test_sssom_files_are_compiled_one_graph_each(tmp_path: Path) -> None:
    settings = _with_mappings(tmp_path, "valid.sssom.tsv", "duplicate-row.sssom.tsv")
    result = build(settings)
    store = CurrentStore(settings.store).get().store
    graphs = {g.iri for g in result.manifest.graphs}
    valid = f"{BASE}graph/mappings/working-copy/valid"
    assert valid in graphs and f"{BASE}graph/mappings/working-copy/duplicate-row" in graphs
    assert _counts(store, valid) == {"exactMatch": 1, "broadMatch": 1}
    assert result.manifest.sources["mappings"].counts == {
        "sets": 2, "mappings": 4, "negated_rows": 1, "no_match_rows": 1,
    }  # fmt: skip
    # their concepts are not in the sample vocabularies: the build step says so
    steps = result.manifest.steps["mappings"]
    assert steps["by_check"]["not-in-vocabulary"] >= 6
    assert steps["by_check"]["duplicate-row"] == 1


@pytest.mark.parametrize(
    ("fixture", "line", "expected"),
    [
        ("malformed-cells.sssom.tsv", 9, "7 cells but the header has 6 columns"),
        ("unknown-predicate.sssom.tsv", 8, "unknown-predicate: predicate_id"),
    ],
)
def test_a_bad_set_stops_the_build_and_the_current_store_keeps_serving(
    tmp_path: Path, fixture: str, line: int, expected: str
) -> None:
    good = _with_mappings(tmp_path, "valid.sssom.tsv")
    first = build(good)
    shutil.copy(FIXTURES / fixture, tmp_path / "mappings" / fixture)
    with pytest.raises(SourceError) as caught:
        build(good)
    assert caught.value.source_id == "mappings"
    assert caught.value.path is not None and caught.value.path.name == fixture
    assert caught.value.line == line
    assert expected in str(caught.value)
    assert CurrentStore(good.store).get().build_id == first.build_id


def _step_context(tmp_path: Path, fixture: str, strict: bool) -> BuildContext:
    """The context the build hands its steps: a real store holding a small vocabulary and one
    compiled mapping source (the quality checks of other steps stay out of this test)."""
    settings = _with_mappings(tmp_path, fixture, strict=strict)
    source = builtin_sources(settings)[-1]
    assert source.importer == "sssom"
    result = SourceResult(source, [], 0.0, {}, [], [])
    plan = DataPlan(tmp_path, (), sample=False)
    return BuildContext(
        settings,
        vocabulary_store(),
        tmp_path,
        "test",
        plan,
        [result],
        lambda m: None,
    )


def test_strict_build_fails_on_mapping_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="mapping checks found 1 error"):
        build_step(_step_context(tmp_path, "contradicting-predicates.sssom.tsv", strict=True))


def test_without_strict_the_step_records_findings(tmp_path: Path) -> None:
    ctx = _step_context(tmp_path, "contradicting-predicates.sssom.tsv", strict=False)
    build_step(ctx)
    assert ctx.summary["mappings"]["by_check"] == {"contradicting-predicates": 1}
    assert ctx.warnings and "1 error(s)" in ctx.warnings[0]
    written = json.loads((tmp_path / FINDINGS_FILE).read_text(encoding="utf-8"))
    assert written[0]["check"] == "contradicting-predicates" and written[0]["line"] == 9


def test_coverage_on_the_sample(sample_store: CurrentStore) -> None:
    report = coverage(sample_store.get().store, BASE)
    jobtech = {c.type: c for c in report["jobtech"]}
    assert set(jobtech) == {"occupation-name", "skill"}
    occupations = jobtech["occupation-name"]
    assert occupations.mapped + len(occupations.unmapped) == occupations.total
    assert occupations.by_justification == {"semapv:ManualMappingCuration": occupations.mapped}
    assert all(v <= occupations.mapped for v in occupations.by_predicate.values())
    assert "esco:Occupation" in {c.type for c in report["esco"]}


def test_the_build_writes_coverage_and_the_server_reads_it(
    sample_store: CurrentStore, tmp_path: Path
) -> None:
    from kll_graph.mappings.coverage import COVERAGE_FILE, coverage_json
    from kll_graph.mappings.sets import overall_coverage
    from kll_graph.store import ServedBuild

    served = sample_store.get()
    written = json.loads((served.path / COVERAGE_FILE).read_text(encoding="utf-8"))
    assert written == coverage_json(coverage(served.store, BASE), limit=0)
    assert written["jobtech"] and written["esco"]
    # without the lists of unmapped concepts, which only the CLI shows, but with their counts
    assert all(t["unmapped"] == [] for t in written["jobtech"] + written["esco"])
    assert sum(t["unmapped_count"] for t in written["jobtech"]) > 0
    # a build with the file: it is read, not computed (so a changed file shows through)
    changed = {**written, "jobtech": [{**written["jobtech"][0], "total": 123456}]}
    (tmp_path / COVERAGE_FILE).write_text(json.dumps(changed), encoding="utf-8")
    assert overall_coverage(ServedBuild(tmp_path, served.store, served.manifest)) == changed
    # a build without the file is damaged (every build of the current layout writes it)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    with pytest.raises(StoreNotFoundError, match="rebuild with `kll-graph build`"):
        overall_coverage(ServedBuild(damaged, served.store, served.manifest))


def test_coverage_rules_on_a_made_store() -> None:
    """Deprecated concepts are left out, negated mappings do not count, "no term found" is a
    reviewed no-match, and a predicate read from the object's side is inverted."""
    from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store

    from kll_graph.namespaces import ESCO, OWL, RDF, SEMAPV, SKOS, SSSOM, XSD, kll

    jt = "http://data.jobtechdev.se/taxonomy/concept/"
    store = Store()
    graph = NamedNode(BASE + "graph/made")  # a mapping node lies in its set's graph

    def add(s: object, p: object, o: object) -> None:
        store.add(Quad(s, p, o, graph))  # type: ignore[arg-type]

    a, b, c, d = (NamedNode(jt + name) for name in "abcd")
    x = NamedNode("http://data.europa.eu/esco/occupation/x")
    for concept in (a, b, c, d):
        add(concept, kll(BASE).conceptType, Literal("occupation-name"))
        add(concept, SKOS.prefLabel, Literal(concept.value[-1].upper(), language="sv"))
    add(b, OWL.deprecated, Literal("true", datatype=XSD.boolean))
    add(x, RDF.type, ESCO.Occupation)

    def mapping(source: NamedNode, target: NamedNode, predicate: NamedNode, **extra: bool) -> None:
        node = BlankNode()
        add(node, RDF.type, OWL.Axiom)
        add(node, OWL.annotatedSource, source)
        add(node, OWL.annotatedTarget, target)
        add(node, OWL.annotatedProperty, predicate)
        add(node, SSSOM.mapping_justification, SEMAPV.ManualMappingCuration)
        if extra.get("negated"):
            add(node, SSSOM.predicate_modifier, Literal("Not"))

    mapping(x, a, SKOS.broadMatch)
    mapping(b, x, SKOS.exactMatch)
    mapping(c, x, SKOS.exactMatch, negated=True)
    mapping(d, SSSOM.NoTermFound, SKOS.exactMatch)

    report = coverage(store, BASE)
    [occupations] = report["jobtech"]
    assert (occupations.total, occupations.mapped, occupations.no_match) == (3, 1, 1)
    assert occupations.by_predicate == {"narrowMatch": 1}
    assert occupations.by_justification == {"semapv:ManualMappingCuration": 1}
    assert occupations.unmapped == [(c.value, "C"), (d.value, "D")]
    [esco] = report["esco"]
    assert (esco.type, esco.total, esco.mapped) == ("esco:Occupation", 1, 1)
    # the deprecated JobTech concept's mapping still counts for the ESCO concept it reaches
    assert esco.by_predicate == {"broadMatch": 1, "exactMatch": 1}


def test_cli_coverage_text_and_json(sample_store: CurrentStore) -> None:
    root = str(sample_store.layout.root)
    runner = CliRunner()
    text = runner.invoke(main, ["mappings", "coverage", "--store", root, "--limit", "1"])
    assert text.exit_code == 0, text.output
    assert "JobTech concepts mapped to ESCO" in text.output
    assert "occupation-name:" in text.output and "by predicate:" in text.output
    out = runner.invoke(main, ["mappings", "coverage", "--store", root, "--format", "json"])
    data = json.loads(out.output)
    types = {c["type"]: c for c in data["jobtech"]}
    assert types["occupation-name"]["unmapped_count"] == len(types["occupation-name"]["unmapped"])


def test_cli_check_against_the_built_sample(sample_store: CurrentStore) -> None:
    root = str(sample_store.layout.root)
    result = CliRunner().invoke(main, ["mappings", "check", "--store", root, "--format", "json"])
    report = json.loads(result.output)
    # one entry per table file: with the real data, both releases of the occupation table
    assert sorted({s["id"] for s in report["sets"]}) == [
        f"{BASE}mappings/se-occupations-esco",
        f"{BASE}mappings/se-skills-esco",
    ]
    files = [s["file"] for s in report["sets"]]
    assert len(set(files)) == len(files) and all(Path(f).is_file() for f in files)
    assert report["notes"][0].startswith("vocabulary checks against build ")
    assert result.exit_code == (1 if report["errors"] else 0)


# --- real data -----------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_store_mapping_graphs_and_provenance_filter(real_store: CurrentStore) -> None:
    store = real_store.get().store
    occupations = f"{BASE}graph/se-occupations-esco/taxonomy-v18-esco-v1.1.1"
    assert _counts(store, occupations) == {
        "broadMatch": 1936, "narrowMatch": 1778, "exactMatch": 1525, "closeMatch": 285,
    }  # fmt: skip
    skills = f"{BASE}graph/se-skills-esco/taxonomy-v21-esco-v1.0.9"
    assert _counts(store, skills) == {
        "narrowMatch": 10912, "broadMatch": 4750, "closeMatch": 2016, "exactMatch": 1346,
    }  # fmt: skip
    exact_manual = """
        PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX sssom: <https://w3id.org/sssom/>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX semapv: <https://w3id.org/semapv/vocab/>
        SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g {
          ?m owl:annotatedProperty skos:exactMatch ;
             sssom:mapping_justification semapv:ManualMappingCuration .
          FILTER NOT EXISTS { ?m sssom:predicate_modifier ?any } } }"""
    # over the current releases: the table's older release (ESCO 1.0.8) is its own graph
    current = current_releases(store)
    counted = store.query(exact_manual, **current)
    assert isinstance(counted, QuerySolutions)
    assert int(next(iter(counted))["n"].value) == 1525 + 1346


@pytest.mark.realdata
def test_real_store_coverage(real_store: CurrentStore, shared_data: Path) -> None:
    """Coverage counted from the store, and the same counts taken straight from the taxonomy
    files and the tables: the occupation names and skills of the datasets that the tables map
    with a relation are exactly the mapped ones."""
    from kll_graph.mappings.official_tables import read_esco_table

    report = coverage(real_store.get().store, BASE)
    jobtech = {c.type: c for c in report["jobtech"]}
    esco = {c.type: c for c in report["esco"]}
    tables = shared_data / "jobtech" / "esco-mappings"
    datasets = shared_data / "jobtech" / "taxonomy-datasets"

    def related(name: str) -> set[str]:
        rows = read_esco_table(tables / name).rows
        return {r.jobtech for r in rows if r.jobtech and r.relation != "no relation"}

    hierarchy = json.loads(
        (datasets / "the-ssyk-hierarchy-with-occupations.json").read_text(encoding="utf-8")
    )
    names: set[str] = set()

    def walk(concepts: list[dict[str, Any]]) -> None:
        for concept in concepts:
            if concept.get("type") == "occupation-name":
                names.add(concept["id"])
            walk(concept.get("narrower") or [])

    walk(hierarchy["data"]["concepts"])
    skills_file = json.loads((datasets / "skills.json").read_text(encoding="utf-8"))
    skills = {c["id"] for c in skills_file["data"]["concepts"] if c["type"] == "skill"}
    occupations, skill = jobtech["occupation-name"], jobtech["skill"]
    assert (occupations.total, occupations.mapped) == (len(names), len(names & related(
        "SE_occupations_ESCO-1.1.1_taxonomy-v18.csv")))  # fmt: skip
    assert (skill.total, skill.mapped) == (len(skills), len(skills & related(
        "SE_skills_ESCO-1.0.9_taxonomy-v21_2023-11-30.csv")))  # fmt: skip
    # the figures (taxonomy datasets as copied, ESCO v1.1.1)
    assert (occupations.total, occupations.mapped, occupations.no_match) == (2412, 1933, 0)
    assert (skill.total, skill.mapped, skill.no_match) == (6657, 5592, 27)
    assert occupations.by_predicate == {
        "broadMatch": 1136, "closeMatch": 163, "exactMatch": 842, "narrowMatch": 298,
    }  # fmt: skip
    assert occupations.by_justification == {"semapv:ManualMappingCuration": 1933}
    assert len(occupations.unmapped) == 479
    assert (esco["esco:Occupation"].total, esco["esco:Occupation"].mapped) == (3007, 2998)
    assert esco["esco:Occupation"].no_match == 4
    assert (esco["esco:Skill"].total, esco["esco:Skill"].mapped) == (13896, 12205)
    assert esco["esco:Skill"].no_match == 1174
    assert (esco["esco/isco"].total, esco["esco/isco"].mapped) == (619, 299)
