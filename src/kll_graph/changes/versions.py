"""A concept as one release has it (`version=` on the API and pages, like ESCO's selectedVersion).

Each release of a source is its own named graph, and the graphs derived from it or published with
it (ESCO's Swedish labels, ESCO's compatibility graph) carry the same version. So "concept C in
release V" is C's statements in the graphs of C's sources whose version is V. An app holding a
CV coded against ESCO v1.1.1 asks for that and sees the labels, definition, broader concepts and
deprecation it coded against, while mappings and linked concepts stay those of the served build.

A version the concept's sources do not have is a NotFoundError that lists the ones they have.
Mapping-set graphs are not releases of a concept (they only name it), so they are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, serialize

from kll_graph.concepts import lookup, rdfdoc
from kll_graph.exceptions import NotFoundError
from kll_graph.labels.lookup import index_for
from kll_graph.namespaces import DCT, OWL, RDF, SKOS
from kll_graph.sparql.query import select_named
from kll_graph.store import GraphRecord, ServedBuild

_LABELS = {
    SKOS.prefLabel.value: "prefLabel",
    SKOS.altLabel.value: "altLabel",
    SKOS.hiddenLabel.value: "hiddenLabel",
}


def mapping_graphs(served: ServedBuild) -> frozenset[str]:
    """The graphs mapping sets were compiled into (one light query, once per build; the
    mapping-set pages' listing also counts every set's mappings, which takes seconds)."""
    return served.memo(
        "changes.mapping-graphs",
        lambda: frozenset(row["graph"].value for row in select_named(served, "mapping_sets")),
    )


def concept_graphs(served: ServedBuild, uri: str) -> list[GraphRecord]:
    """The release graphs (not mapping sets) with statements about a concept, in manifest order."""
    skipped = mapping_graphs(served)
    node = NamedNode(uri)
    return [
        g
        for g in served.manifest.graphs
        if g.iri not in skipped
        and next(iter(served.store.quads_for_pattern(node, None, None, NamedNode(g.iri))), None)
        is not None
    ]


def release_graphs(served: ServedBuild, uri: str, version: str) -> list[GraphRecord]:
    """The graphs of a concept's sources at `version` (NotFoundError listing the versions there
    are for it, or saying it is in no release)."""
    holding = concept_graphs(served, uri)
    if not holding:
        raise NotFoundError(f"no concept {uri} in any release of the served build")
    held = {h.iri for h in holding}
    graphs = [g for g in holding if g.version == version]
    if not any(_declared(served, uri, g.iri) for g in graphs):
        known = sorted({g.version for g in holding if _declared(served, uri, g.iri)})
        raise NotFoundError(
            f"concept {uri} is in no release {version!r}; it is in: {', '.join(known)}"
        )
    return [g for g in graphs if g.iri in held]


def _declared(served: ServedBuild, uri: str, graph: str) -> bool:
    """Whether a graph says what the concept is (a type or a preferred label), not only points
    from it (a release that dropped an occupation may keep a relation naming it)."""
    node, where = NamedNode(uri), NamedNode(graph)
    return any(
        next(iter(served.store.quads_for_pattern(node, p, None, where)), None) is not None
        for p in (RDF.type, SKOS.prefLabel)
    )


def release_quads(served: ServedBuild, uri: str, graphs: Sequence[GraphRecord]) -> list[Quad]:
    """The concept's own statements in those graphs, and the statements there pointing at it."""
    node = NamedNode(uri)
    found: list[Quad] = []
    for graph in graphs:
        where = NamedNode(graph.iri)
        found += served.store.quads_for_pattern(node, None, None, where)
        found += served.store.quads_for_pattern(None, None, node, where)
    return found


def concept_as_of(
    served: ServedBuild, uri: str, version: str, lang: str | None = None
) -> dict[str, Any]:
    """The concept document of :func:`kll_graph.concepts.lookup.concept` with what the release
    states in place of the served build's union: labels, definition, broader, deprecation and
    replacement; `version` says which release and which graphs, `versions` the others."""
    graphs = release_graphs(served, uri, version)
    doc = lookup.concept(served, uri, lang)
    index = index_for(served)
    node = NamedNode(uri)
    texts: dict[str, Any] = {"prefLabel": {}, "altLabel": {}, "hiddenLabel": {}, "definition": {}}
    broader: set[str] = set()
    replaced_by: set[str] = set()
    deprecated = False
    for quad in release_quads(served, uri, graphs):
        if quad.subject != node:
            continue
        p, o = quad.predicate.value, quad.object
        if p in _LABELS and isinstance(o, Literal):
            key = _LABELS[p]
            if key == "prefLabel":
                texts[key].setdefault(o.language or "", o.value)
            else:
                texts[key].setdefault(o.language or "", []).append(o.value)
        elif p == SKOS.definition.value and isinstance(o, Literal):
            texts["definition"].setdefault(o.language or "", o.value)
        elif p == SKOS.broader.value and isinstance(o, NamedNode):
            broader.add(o.value)
        elif p == DCT.isReplacedBy.value and isinstance(o, NamedNode):
            replaced_by.add(o.value)
        elif p == OWL.deprecated.value and isinstance(o, Literal):
            deprecated = o.value.strip().lower() in {"true", "1"}
    for values in (*texts["altLabel"].values(), *texts["hiddenLabel"].values()):
        values.sort(key=str.casefold)
    doc.update(texts)
    doc["label"] = index.pick(texts["prefLabel"], lang) if texts["prefLabel"] else doc["label"]
    doc["broader"] = sorted(
        (index.brief(b, lang) for b in broader), key=lambda b: ((b["label"] or ""), b["uri"])
    )
    doc["replaced_by"] = [index.brief(r, lang) for r in sorted(replaced_by)]
    doc["deprecated"] = deprecated
    doc["version"] = {
        "version": version,
        "sources": sorted({g.source for g in graphs}),
        "graphs": [g.iri for g in graphs],
    }
    doc["versions"] = sorted(
        {g.version for g in concept_graphs(served, uri) if _declared(served, uri, g.iri)}
    )
    return doc


def release_document(
    served: ServedBuild, uri: str, graphs: Sequence[GraphRecord], rdf_format: RdfFormat
) -> bytes:
    """The concept's statements in a release's graphs as an RDF document (sorted, so the same
    release gives the same bytes)."""
    triples = sorted({q.triple for q in release_quads(served, uri, graphs)}, key=str)
    body = serialize(
        triples,
        format=rdf_format,
        prefixes=rdfdoc.prefixes(served.manifest.base_iri)
        if rdf_format is not RdfFormat.N_TRIPLES
        else None,
    )
    assert isinstance(body, bytes)
    return body
