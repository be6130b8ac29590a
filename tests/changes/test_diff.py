"""Each kind of change between two releases, on two small graphs in a real pyoxigraph store, and
the delta graphs (skos-history) asked by SPARQL."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions, Store, Variable

from kll_graph.changes.delta import write_delta
from kll_graph.changes.diff import compare, lacked_kind
from kll_graph.changes.releases import Release
from kll_graph.namespaces import DCAT, DCT, ESCO, OWL, RDF, SKOS, catalog_iri
from kll_graph.sparql.query import named_query

BASE = "https://example.org/kll/"
OLD, NEW = f"{BASE}graph/esco/v1", f"{BASE}graph/esco/v2"
OCC = "http://data.europa.eu/esco/occupation/"
SKILL = "http://data.europa.eu/esco/skill/"


def _release(version: str, graph: str, lacks: tuple[str, ...] = ()) -> Release:
    return Release("esco", version, graph, version == "v1", None, 0, None, lacks, (graph,))


def _concept(
    store: Store, graph: str, iri: str, label: str, kind: NamedNode = ESCO.Occupation
) -> None:
    g, s = NamedNode(graph), NamedNode(iri)
    store.add(Quad(s, RDF.type, SKOS.Concept, g))
    store.add(Quad(s, RDF.type, kind, g))
    store.add(Quad(s, SKOS.prefLabel, Literal(label, language="en"), g))


def _store() -> Store:
    store = Store()
    old, new = NamedNode(OLD), NamedNode(NEW)
    for graph in (OLD, NEW):
        _concept(store, graph, OCC + "same", "same")
        _concept(store, graph, OCC + "parent", "parent")
        _concept(store, graph, OCC + "other-parent", "other parent")
    _concept(store, OLD, OCC + "gone", "gone")
    _concept(store, NEW, OCC + "new", "new")
    _concept(store, OLD, OCC + "renamed", "old name")
    _concept(store, NEW, OCC + "renamed", "new name")
    _concept(store, OLD, OCC + "moved", "moved")
    _concept(store, NEW, OCC + "moved", "moved")
    store.add(Quad(NamedNode(OCC + "moved"), SKOS.broader, NamedNode(OCC + "parent"), old))
    store.add(Quad(NamedNode(OCC + "moved"), SKOS.broader, NamedNode(OCC + "other-parent"), new))
    store.add(Quad(NamedNode(OCC + "same"), SKOS.notation, Literal("1.1"), old))
    store.add(Quad(NamedNode(OCC + "same"), SKOS.notation, Literal("1.2"), new))
    store.add(Quad(NamedNode(OCC + "same"), SKOS.altLabel, Literal("alias", language="en"), new))
    store.add(Quad(NamedNode(OCC + "same"), DCT.description, Literal("a", language="en"), old))
    store.add(Quad(NamedNode(OCC + "same"), DCT.description, Literal("b", language="en"), new))
    store.add(Quad(NamedNode(OCC + "parent"), OWL.deprecated, Literal(True), new))
    # a skill only the older release describes: its file is absent from the newer package
    _concept(store, OLD, SKILL + "s1", "a skill", ESCO.Skill)
    return store


def test_every_kind_of_concept_change() -> None:
    store = _store()
    pair, concepts, mappings = compare(
        store, _release("v1", OLD), _release("v2", NEW, ("skills_en.csv: the skills",))
    )
    found = {
        (c.kind, c.concept.removeprefix(OCC), c.label_kind, c.before, c.after) for c in concepts
    }
    assert found == {
        ("added", "new", None, None, None),
        ("removed", "gone", None, None, None),
        ("deprecated", "parent", None, None, None),
        ("relabelled", "renamed", "prefLabel", "old name", "new name"),
        ("relabelled", "same", "altLabel", None, "alias"),
        ("moved", "moved", None, OCC + "parent", OCC + "other-parent"),
        ("notation", "same", None, "1.1", "1.2"),
        ("definition", "same", None, "a", "b"),
    }
    assert mappings == []
    assert pair.counts == {
        "added": 1,
        "removed": 1,
        "deprecated": 1,
        "relabelled": 2,
        "moved": 1,
        "notation": 1,
        "definition": 1,
    }
    relabelled = next(c for c in concepts if c.label_kind == "prefLabel")
    assert (relabelled.lang, relabelled.label, relabelled.concept_type) == (
        "en",
        "new name",
        "esco:Occupation",
    )


def test_a_part_absent_from_a_package_is_not_compared_never_removed() -> None:
    pair, concepts, _ = compare(
        _store(), _release("v1", OLD), _release("v2", NEW, ("skills_en.csv: the skills",))
    )
    assert not any(c.concept.startswith(SKILL) for c in concepts)
    assert pair.not_compared == [
        "skills: absent from the v2 package (esco:Skill concepts not compared)"
    ]
    # the same releases without the record of the gap: the skill reads as removed
    _, concepts, _ = compare(_store(), _release("v1", OLD), _release("v2", NEW))
    assert ("removed", SKILL + "s1") in {(c.kind, c.concept) for c in concepts}


def test_lacked_kind_reads_the_file_name() -> None:
    assert lacked_kind("skills_en.csv: skills (skill concepts)") == "skills"
    assert lacked_kind("occupationSkillRelations.csv: relations") == "occupationSkillRelations"


def test_mapping_changes() -> None:
    store = Store()
    old, new = NamedNode(OLD), NamedNode(NEW)
    a, b, c = (NamedNode(f"http://data.jobtechdev.se/taxonomy/concept/{x}") for x in "abc")
    x, y = NamedNode(OCC + "x"), NamedNode(OCC + "y")
    store.add(Quad(a, SKOS.exactMatch, x, old))
    store.add(Quad(a, SKOS.closeMatch, x, new))  # relation changed
    store.add(Quad(b, SKOS.exactMatch, y, old))  # removed
    store.add(Quad(c, SKOS.broadMatch, y, new))  # added
    pair, concepts, mappings = compare(
        store, _release("v1", OLD), _release("v2", NEW), mappings=True
    )
    assert concepts == []
    found = {(m.kind, m.subject[-1], m.before, m.after) for m in mappings}
    assert found == {
        ("relation", "a", "skos:exactMatch", "skos:closeMatch"),
        ("removed", "b", "skos:exactMatch", None),
        ("added", "c", None, "skos:broadMatch"),
    }
    assert pair.counts == {"mapping_added": 1, "mapping_removed": 1, "mapping_relation": 1}


def test_delta_graphs_answer_which_occupations_got_a_new_preferred_label() -> None:
    store = _store()
    catalog = catalog_iri(BASE)
    for graph, version in ((OLD, "v1"), (NEW, "v2")):
        store.add(Quad(NamedNode(graph), DCAT.version, Literal(version), catalog))
    older, newer = _release("v1", OLD), _release("v2", NEW, ("skills_en.csv: the skills",))
    inserted, deleted = write_delta(store, BASE, older, newer, skip={ESCO.Skill.value})
    # new: 3 statements, then a label, broader, notation, alt label, description, deprecation;
    # gone: 3, then a label, broader, notation, description
    assert (inserted, deleted) == (9, 7)
    rows = store.query(
        named_query("changes_new_preflabels"),
        substitutions={
            Variable("source"): Literal("esco"),
            Variable("from"): Literal("v1"),
            Variable("to"): Literal("v2"),
        },
    )
    assert isinstance(rows, QuerySolutions)
    found = [(r[0].value, r[1].value, r[2].value) for r in rows]
    assert found == [(OCC + "renamed", "old name", "new name")]
    # the skill the newer package lacks is in neither delta graph
    graphs = {q.graph_name for q in store.quads_for_pattern(NamedNode(SKILL + "s1"), None, None)}
    assert graphs == {NamedNode(OLD)}
