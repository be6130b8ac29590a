"""Delta graphs between two releases, in the shape of ZBW's skos-history: per version pair an
insertions graph (statements the newer release has and the older lacks) and a deletions graph
(the reverse), described in the catalog, so SPARQL asks what changed without a diff service.

The deltas hold the statements the change log compares (types, labels, broader, notation,
definitions, deprecation and status, and mapping statements for a mapping source) about the
concepts compared: a part one release's package lacks (ESCO v1.2.0's skills) is in neither
graph, as it is in no comparison. Delta graphs are left out of the default graph
(:func:`kll_graph.sparql.query.default_dataset` reads `skoshist:usingNamedGraph`); a query
reaches them with `GRAPH`.
An example, asked over the real store in the tests: `queries/changes_new_preflabels.rq`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pyoxigraph import Literal, NamedNode, Quad, Store, Triple

from kll_graph.changes.diff import MAPPING_PREDICATES
from kll_graph.changes.releases import Release
from kll_graph.namespaces import (
    DCAT,
    DCT,
    OWL,
    RDF,
    SKOS,
    SKOS_HISTORY,
    VOID,
    XSD,
    catalog_iri,
    minted,
)

#: What a delta holds about a compared concept.
DELTA_PREDICATES = (
    RDF.type,
    SKOS.prefLabel,
    SKOS.altLabel,
    SKOS.hiddenLabel,
    SKOS.broader,
    SKOS.notation,
    SKOS.definition,
    DCT.description,
    OWL.deprecated,
    NamedNode("http://purl.org/iso25964/skos-thes#status"),
)


def delta_iri(base_iri: str, older: Release, newer: Release, part: str = "") -> NamedNode:
    """The delta of a pair (`part` ""), or its insertions or deletions graph."""
    parts = ["delta", newer.source, older.version, newer.version]
    return minted(base_iri, *parts, *([part] if part else []))


def _of_types(store: Store, release: Release, types: set[str]) -> set[str]:
    """The subjects a release types with one of `types` (as N-Triples terms)."""
    found: set[str] = set()
    if not types:
        return found
    for graph in release.graphs or (release.graph,):
        for quad in store.quads_for_pattern(None, RDF.type, None, NamedNode(graph)):
            if isinstance(quad.object, NamedNode) and quad.object.value in types:
                found.add(str(quad.subject))
    return found


def _statements(
    store: Store, release: Release, predicates: Sequence[NamedNode], skipped: set[str]
) -> set[Triple]:
    found: set[Triple] = set()
    for graph in release.graphs or (release.graph,):
        for predicate in predicates:
            for quad in store.quads_for_pattern(None, predicate, None, NamedNode(graph)):
                if isinstance(quad.subject, NamedNode) and str(quad.subject) not in skipped:
                    found.add(Triple(quad.subject, quad.predicate, quad.object))
    return found


def write_delta(
    store: Store,
    base_iri: str,
    older: Release,
    newer: Release,
    *,
    mappings: bool = False,
    skip: set[str] | None = None,
) -> tuple[int, int]:
    """Write a pair's insertions and deletions graphs and their catalog description; returns
    (insertions, deletions). `skip`: concept types not compared (see
    :func:`kll_graph.changes.diff.not_compared`)."""
    predicates = MAPPING_PREDICATES if mappings else DELTA_PREDICATES
    # a concept of a type not compared is left out of both sides, whichever release types it
    skipped = _of_types(store, older, skip or set()) | _of_types(store, newer, skip or set())
    a = _statements(store, older, predicates, skipped)
    b = _statements(store, newer, predicates, skipped)
    inserted, deleted = b - a, a - b
    ins_graph = delta_iri(base_iri, older, newer, "insertions")
    del_graph = delta_iri(base_iri, older, newer, "deletions")
    store.bulk_extend(Quad(t.subject, t.predicate, t.object, ins_graph) for t in inserted)
    store.bulk_extend(Quad(t.subject, t.predicate, t.object, del_graph) for t in deleted)
    store.bulk_extend(
        delta_description(base_iri, older, newer, ins_graph, del_graph, len(inserted), len(deleted))
    )
    return len(inserted), len(deleted)


def delta_description(
    base_iri: str,
    older: Release,
    newer: Release,
    insertions: NamedNode,
    deletions: NamedNode,
    inserted: int,
    deleted: int,
) -> Iterator[Quad]:
    """The catalog's statements about one delta (skos-history's SchemeDelta and its parts)."""
    g = catalog_iri(base_iri)
    delta = delta_iri(base_iri, older, newer)
    yield Quad(delta, RDF.type, SKOS_HISTORY.SchemeDelta, g)
    yield Quad(delta, DCT.identifier, Literal(newer.source), g)
    yield Quad(delta, SKOS_HISTORY.deltaFrom, NamedNode(older.graph), g)
    yield Quad(delta, SKOS_HISTORY.deltaTo, NamedNode(newer.graph), g)
    for part, kind, graph, count in (
        ("insertions", SKOS_HISTORY.SchemeDeltaInsertions, insertions, inserted),
        ("deletions", SKOS_HISTORY.SchemeDeltaDeletions, deletions, deleted),
    ):
        node = NamedNode(f"{delta.value}#{part}")
        yield Quad(delta, DCT.hasPart, node, g)
        yield Quad(node, RDF.type, kind, g)
        yield Quad(node, SKOS_HISTORY.usingNamedGraph, graph, g)
        title = f"{newer.source} {older.version} → {newer.version}: {part}"
        yield Quad(graph, DCT.title, Literal(title, language="en"), g)
        yield Quad(graph, DCAT.version, Literal(f"{older.version}..{newer.version}"), g)
        yield Quad(graph, VOID.triples, Literal(str(count), datatype=XSD.integer), g)
