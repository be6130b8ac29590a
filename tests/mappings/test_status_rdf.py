"""Review status in the graph: every mapping node carries kll:reviewStatus, only curated and
reviewed rows assert their SKOS triple, and reading a set back leaves the status out."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, QuerySolutions, RdfFormat, Store

from kll_graph.mappings.rdf import read_set, set_quads, status_iris
from kll_graph.mappings.sssom import format_sssom, parse_sssom
from kll_graph.mappings.status import ASSERTED, STATUSES
from kll_graph.namespaces import catalog_iri
from kll_graph.settings import REPO_ROOT

BASE = "https://w3id.org/kll-graph/"
KLL = f"{BASE}ontology#"
GRAPH = NamedNode(f"{BASE}graph/mappings/working-copy/statuses")

#: One row per status, each to its own ESCO concept, so a triple names its row.
SET = """#curie_map:
#  ESCO: http://data.europa.eu/esco/
#  jt: http://data.jobtechdev.se/taxonomy/concept/
#  orcid: https://orcid.org/
#mapping_set_id: https://example.org/sets/statuses
#license: https://creativecommons.org/publicdomain/zero/1.0/
subject_id\tpredicate_id\tpredicate_modifier\tobject_id\tmapping_justification\tauthor_id\treviewer_id\treviewer_agreement
jt:aaaa_aaa_aa1\tskos:exactMatch\t\tESCO:occupation/candidate\tsemapv:LexicalMatching\t\t\t
jt:aaaa_aaa_aa1\tskos:exactMatch\t\tESCO:occupation/curated\tsemapv:ManualMappingCuration\torcid:0000-0001-0000-0001\t\t
jt:aaaa_aaa_aa1\tskos:broadMatch\t\tESCO:occupation/reviewed\tsemapv:LexicalMatching\t\torcid:0000-0002-0000-0002\t
jt:aaaa_aaa_aa1\tskos:exactMatch\t\tESCO:occupation/unsure\tsemapv:LexicalMatching\t\torcid:0000-0002-0000-0002\t0.0
jt:aaaa_aaa_aa1\tskos:exactMatch\tNot\tESCO:occupation/rejected\tsemapv:MappingReview\t\torcid:0000-0002-0000-0002\t
"""


def _compiled() -> Store:
    store = Store()
    mset = parse_sssom(SET)
    store.bulk_extend(set_quads(mset, GRAPH, catalog_iri(BASE), BASE))
    return store


def test_each_row_carries_its_status_and_only_curated_and_reviewed_assert() -> None:
    store = _compiled()
    rows = store.query(
        "PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX kll: <" + KLL + "> "
        "SELECT ?target ?status WHERE { GRAPH ?g { "
        "?m owl:annotatedTarget ?target ; kll:reviewStatus ?status } }"
    )
    assert isinstance(rows, QuerySolutions)
    statuses = {r["target"].value.rsplit("/", 1)[1]: r["status"].value for r in rows}
    assert statuses == {status: f"{KLL}{status.capitalize()}" for status in STATUSES}
    matches = {
        q.object.value.rsplit("/", 1)[1]
        for q in store.quads_for_pattern(None, None, None, GRAPH)
        if q.predicate.value.startswith("http://www.w3.org/2004/02/skos/core#")
        and isinstance(q.object, NamedNode)
    }
    assert matches == set(ASSERTED) == {"curated", "reviewed"}


def test_only_reviewed_exact_matches_is_one_filter() -> None:
    store = _compiled()
    query = (
        "PREFIX owl: <http://www.w3.org/2002/07/owl#> "
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX kll: <" + KLL + "> "
        "SELECT ?o WHERE { ?m owl:annotatedProperty skos:broadMatch ; owl:annotatedTarget ?o ; "
        "kll:reviewStatus kll:Reviewed }"
    )
    rows = store.query(query, use_default_graph_as_union=True)
    assert isinstance(rows, QuerySolutions)
    assert [r["o"].value for r in rows] == ["http://data.europa.eu/esco/occupation/reviewed"]


def test_reading_the_set_back_leaves_the_status_out() -> None:
    store = _compiled()
    back = read_set(store, "https://example.org/sets/statuses", BASE)
    assert format_sssom(back) == format_sssom(parse_sssom(SET))


def test_the_ontology_declares_the_property_and_each_status() -> None:
    store = Store()
    store.load(path=str(REPO_ROOT / "ontology" / "kll.ttl"), format=RdfFormat.TURTLE, base_iri=BASE)
    for iri in [f"{KLL}reviewStatus", *(n.value for n in status_iris(BASE).values())]:
        node = NamedNode(iri)
        languages = {
            q.object.language
            for q in store.quads_for_pattern(node, None, None)
            if q.predicate.value.endswith(("#label", "#definition"))
            and isinstance(q.object, Literal)
        }
        assert languages == {"sv", "en"}, iri
