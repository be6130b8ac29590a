"""Reading the store: everything the index needs, in one bulk SPARQL scan per predicate.

Oxigraph has no text index, and reading concept by concept would take minutes; so the labels,
codes, types, schemes and relations of all concepts are read with one `label_pairs` query per
predicate. Concept type and scheme are read generically (kll:conceptType, rdf:type,
skos:inScheme), so any SKOS vocabulary the generic importer loads works.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode

from kll_graph.labels.layout import ALT, HIDDEN, ID, LEGACY, PREF
from kll_graph.labels.text import local_name
from kll_graph.namespaces import DCT, OWL, RDF, RDFS, SKOS, XSD, kll
from kll_graph.sparql.query import select_named
from kll_graph.store import GraphStore


@dataclass
class RawConcept:
    """Everything the index needs about one concept, as read from the store."""

    types: set[str] = field(default_factory=set)
    schemes: set[str] = field(default_factory=set)
    concept_type: str | None = None
    deprecated: bool = False
    last_seen: set[str] = field(default_factory=set)  # graphs of releases (kll:lastSeenIn)
    replaced_by: set[str] = field(default_factory=set)
    broader: set[str] = field(default_factory=set)
    narrower: set[str] = field(default_factory=set)
    labels: set[tuple[int, str, str]] = field(default_factory=set)  # (kind, text, lang)
    notations: set[tuple[str, str]] = field(default_factory=set)  # (value, datatype or "")
    ids: set[tuple[int, str]] = field(default_factory=set)  # (ID or LEGACY, value)


@dataclass
class RawVocabulary:
    """The store's concepts and the names of the schemes, types and code systems they use."""

    concepts: dict[str, RawConcept]
    names: dict[str, dict[str, str]]  # IRI -> {lang: label} for non-concepts
    scheme_vocabulary: dict[str, str]  # scheme IRI -> source id
    base_iri: str


def _pairs(store: GraphStore, predicate: NamedNode) -> Iterator[tuple[Any, Any]]:
    for row in select_named(store, "label_pairs", p=predicate):
        yield row[0], row[2]


def _is_true(term: Any) -> bool:
    return isinstance(term, Literal) and term.value.strip().lower() in {"true", "1"}


def read_vocabulary(
    store: GraphStore, base_iri: str, graph_sources: Mapping[str, str] | None = None
) -> RawVocabulary:
    """Read what the index needs from a store in one bulk scan per predicate."""
    k = kll(base_iri)
    types: dict[str, set[str]] = defaultdict(set)
    for s, o in _pairs(store, RDF.type):
        if isinstance(s, NamedNode) and isinstance(o, NamedNode):
            types[s.value].add(o.value)
    concept_iris = {s for s, t in types.items() if SKOS.Concept.value in t}
    by_predicate: dict[str, list[tuple[str, Any]]] = {}
    # a concept of an older release that only a mapping table names has no type: kll:lastSeenIn
    # makes it a concept here, so that it can be found (flagged) by its label
    for predicate in (SKOS.inScheme, k.conceptType, k.lastSeenIn):
        rows = [(s.value, o) for s, o in _pairs(store, predicate) if isinstance(s, NamedNode)]
        by_predicate[predicate.value] = rows
        concept_iris.update(s for s, _ in rows)
    concept_iris -= {s for s, t in types.items() if SKOS.ConceptScheme.value in t}
    concepts = {iri: RawConcept(types=types.get(iri, set())) for iri in concept_iris}

    for s, o in by_predicate[SKOS.inScheme.value]:
        if s in concepts and isinstance(o, NamedNode):
            concepts[s].schemes.add(o.value)
    for s, o in by_predicate[k.lastSeenIn.value]:
        if s in concepts and isinstance(o, NamedNode):
            concepts[s].last_seen.add(o.value)
    for s, o in by_predicate[k.conceptType.value]:
        if s in concepts and isinstance(o, Literal):
            concepts[s].concept_type = o.value
    names: dict[str, dict[str, str]] = defaultdict(dict)
    label_kinds = ((SKOS.prefLabel, PREF), (SKOS.altLabel, ALT), (SKOS.hiddenLabel, HIDDEN))
    for predicate, kind in label_kinds:
        for s, o in _pairs(store, predicate):
            if not isinstance(o, Literal) or not isinstance(s, NamedNode):
                continue
            concept = concepts.get(s.value)
            if concept is not None:
                concept.labels.add((kind, o.value, (o.language or "").lower()))
            elif kind == PREF:
                names[s.value].setdefault((o.language or "").lower(), o.value)
    for predicate in (RDFS.label, DCT.title):
        for s, o in _pairs(store, predicate):
            if isinstance(s, NamedNode) and isinstance(o, Literal) and s.value not in concepts:
                names[s.value].setdefault((o.language or "").lower(), o.value)
    _read_relations(store, concepts, k)
    return RawVocabulary(
        concepts=concepts,
        names=dict(names),
        scheme_vocabulary=_scheme_vocabularies(store, graph_sources or {}),
        base_iri=base_iri,
    )


def _read_relations(store: GraphStore, concepts: dict[str, RawConcept], k: Any) -> None:
    for s, o in _pairs(store, SKOS.notation):
        concept = concepts.get(s.value) if isinstance(s, NamedNode) else None
        if concept is not None and isinstance(o, Literal) and o.value.strip():
            datatype = o.datatype.value if o.datatype else ""
            if datatype in {XSD.string.value, RDF.langString.value}:
                datatype = ""
            concept.notations.add((o.value.strip(), datatype))
    for predicate, kind in ((k.jobtechId, ID), (k.legacyAmsId, LEGACY)):
        for s, o in _pairs(store, predicate):
            concept = concepts.get(s.value) if isinstance(s, NamedNode) else None
            if concept is not None and isinstance(o, Literal) and o.value.strip():
                concept.ids.add((kind, o.value.strip()))
    for s, o in _pairs(store, OWL.deprecated):
        if isinstance(s, NamedNode) and s.value in concepts and _is_true(o):
            concepts[s.value].deprecated = True
    relations = (
        (DCT.isReplacedBy, "replaced_by", False),
        (SKOS.broader, "broader", False),
        (SKOS.narrower, "broader", True),
    )
    for predicate, attribute, inverse in relations:
        for s, o in _pairs(store, predicate):
            if not (isinstance(s, NamedNode) and isinstance(o, NamedNode)):
                continue
            child, parent = (o.value, s.value) if inverse else (s.value, o.value)
            if child in concepts:
                getattr(concepts[child], attribute).add(parent)
            if attribute == "broader" and parent in concepts:
                concepts[parent].narrower.add(child)


def _scheme_vocabularies(store: GraphStore, graph_sources: Mapping[str, str]) -> dict[str, str]:
    """The source id whose graph holds most of each scheme's membership statements."""
    best: dict[str, tuple[int, str]] = {}
    for row in select_named(store, "label_scheme_graphs"):
        scheme, graph, count = row["scheme"], row["g"], int(row["n"].value)
        if not isinstance(scheme, NamedNode) or not isinstance(graph, NamedNode):
            continue
        source = graph_sources.get(graph.value) or _source_of_graph(graph.value)
        if count > best.get(scheme.value, (0, ""))[0]:
            best[scheme.value] = (count, source)
    return {scheme: source for scheme, (_, source) in best.items()}


def _source_of_graph(graph: str) -> str:
    """The source id inside a graph IRI `{base}graph/{source}/{version}` (or the IRI's name)."""
    parts = graph.rstrip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "graph":
        return parts[-2]
    return local_name(graph)
