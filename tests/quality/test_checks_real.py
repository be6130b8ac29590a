"""The quality checks on the real data: a printed summary, and counts that independent SPARQL
questions of the same facts must reproduce."""

from __future__ import annotations

import pytest
from pyoxigraph import QuerySolutions

from kll_graph.quality import QualityReport, format_text, read_report, registered_checks
from kll_graph.sparql.query import current_releases
from kll_graph.store import CurrentStore, ServedBuild

pytestmark = pytest.mark.realdata

JOBTECH = "http://data.jobtechdev.se/taxonomy/concept/"
MAPPING = (
    "skos:exactMatch",
    "skos:closeMatch",
    "skos:broadMatch",
    "skos:narrowMatch",
    "skos:relatedMatch",
)


@pytest.fixture(scope="module")
def checked(real_store: CurrentStore) -> tuple[ServedBuild, QualityReport]:
    served = real_store.get()
    report = read_report(served.path)
    assert report is not None, "the build wrote no quality.json"
    return served, report


def count(served: ServedBuild, query: str) -> int:
    """A count over what the checks read: the current releases (older releases loaded beside
    them, and the change graphs, are history, not the vocabulary checked)."""
    result = served.store.query(query, **current_releases(served.store))
    assert isinstance(result, QuerySolutions)
    return int(next(iter(result))["n"].value)


def test_summary_of_the_real_data(checked: tuple[ServedBuild, QualityReport]) -> None:
    served, report = checked
    print()
    print(format_text(report, limit=3))
    assert [r.id for r in report.failed] == []
    assert [r.id for r in report.results] == [c.id for c in registered_checks()]
    assert served.manifest.steps["checks"]["findings"] == len(report.findings)
    assert {"jobtech", "esco"} <= set(report.vocabularies)


def test_label_overlap_matches_an_independent_query(
    checked: tuple[ServedBuild, QualityReport],
) -> None:
    served, report = checked
    expected = count(
        served,
        """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?r ?l WHERE {
          { ?r skos:prefLabel ?l . ?r skos:altLabel ?l }
          UNION { ?r skos:prefLabel ?l . ?r skos:hiddenLabel ?l }
          UNION { ?r skos:altLabel ?l . ?r skos:hiddenLabel ?l } } }""",
    )
    found = [f for f in report.findings if f.check == "label-overlap"]
    assert len(found) == expected


def test_jobtech_concepts_without_swedish_label_match_an_independent_query(
    checked: tuple[ServedBuild, QualityReport],
) -> None:
    served, report = checked
    expected = count(
        served,
        f"""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{
          ?c a skos:Concept . FILTER(STRSTARTS(STR(?c), "{JOBTECH}"))
          FILTER NOT EXISTS {{ ?c skos:prefLabel ?l FILTER(LANGMATCHES(LANG(?l), "sv")) }} }}""",
    )
    found = [
        f
        for f in report.findings
        if f.check == "missing-preflabel-main-language" and f.concept.startswith(JOBTECH)
    ]
    assert len(found) == expected


def test_dangling_hierarchy_and_replacement_links_match_an_independent_query(
    checked: tuple[ServedBuild, QualityReport],
) -> None:
    served, report = checked
    expected = count(
        served,
        """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX dct: <http://purl.org/dc/terms/>
        SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o ?g WHERE {
          VALUES ?p { skos:broader skos:narrower skos:related skos:broaderTransitive
                      skos:narrowerTransitive skos:hasTopConcept skos:topConceptOf skos:inScheme
                      skos:member dct:isReplacedBy dct:replaces }
          GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?o))
          FILTER NOT EXISTS { ?o a ?type } } }""",
    )
    found = [
        f
        for f in report.findings
        if f.check == "dangling-link" and not f.message.startswith(MAPPING)
    ]
    assert len(found) == expected


def test_deprecated_without_replacement_matches_an_independent_query(
    checked: tuple[ServedBuild, QualityReport],
) -> None:
    served, report = checked
    expected = count(
        served,
        """PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX dct: <http://purl.org/dc/terms/>
        SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
          ?c owl:deprecated true .
          FILTER NOT EXISTS { ?c dct:isReplacedBy ?r }
          FILTER NOT EXISTS { ?r2 dct:replaces ?c } }""",
    )
    found = [f for f in report.findings if f.check == "deprecated-without-replacement"]
    assert len(found) == expected
