"""Concepts of older releases: the statements that make a JobTech concept the loaded datasets
lack findable and typed, written by every importer that knows of such concepts (the 2020 dump,
the official mapping tables).

Each source states what it knows in its own graph, with `kll:lastSeenIn` that graph; after the
import, the build step :func:`kll_graph.changes.older.settle_older_concepts` keeps the label of the
newest of those releases and points every `kll:lastSeenIn` at it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad, Store

from kll_graph.importers.jobtech import CONCEPT_TYPES, scheme_iri, type_class_name
from kll_graph.namespaces import RDF, SKOS, kll


def typed_quads(
    base_iri: str, s: NamedNode, concept_id: str, concept_type: str, g: NamedNode
) -> list[Quad]:
    """A JobTech concept with its id, type, class and scheme, as a source states it in `g`."""
    k = kll(base_iri)
    quads = [
        Quad(s, RDF.type, SKOS.Concept, g),
        Quad(s, k.jobtechId, Literal(concept_id), g),
        Quad(s, k.conceptType, Literal(concept_type), g),
        Quad(s, k.sourceDataset, g, g),
    ]
    if concept_type in CONCEPT_TYPES:
        quads += [
            Quad(s, RDF.type, k[type_class_name(concept_type)], g),
            Quad(s, SKOS.inScheme, scheme_iri(base_iri, concept_type), g),
        ]
    return quads


def scheme_quads(base_iri: str, concept_type: str, g: NamedNode) -> list[Quad]:
    """The declaration of a JobTech type's scheme, for a source that brings its first concept."""
    k = kll(base_iri)
    scheme = scheme_iri(base_iri, concept_type)
    return [
        Quad(scheme, RDF.type, SKOS.ConceptScheme, g),
        Quad(scheme, RDF.type, k.ConceptType, g),
        Quad(scheme, SKOS.notation, Literal(concept_type), g),
        Quad(scheme, k.conceptClass, k[type_class_name(concept_type)], g),
    ]


def is_current(store: Store, base_iri: str, node: NamedNode, ignored: Iterable[str] = ()) -> bool:
    """Whether a concept is labelled by a release that holds it as current: some preferred
    label in a graph that neither marks it `kll:lastSeenIn` nor is an older release (`ignored`)."""
    marks = store.quads_for_pattern(node, kll(base_iri).lastSeenIn, None)
    older = {str(q.graph_name) for q in marks} | {f"<{g}>" for g in ignored}
    labels = store.quads_for_pattern(node, SKOS.prefLabel, None)
    return any(str(q.graph_name) not in older for q in labels)


def is_typed(store: Store, node: NamedNode) -> bool:
    """Whether any source loaded so far says the concept is a `skos:Concept`."""
    return next(store.quads_for_pattern(node, RDF.type, SKOS.Concept), None) is not None
