"""Mapping sets as RDF: `skos:*Match` triples plus one provenance node per mapping, and back.

The shape follows the SSSOM/RDF specification so that SSSOM tools read it too:

- in the set's named graph, ``<jt:…> skos:narrowMatch <ESCO:…>`` for every mapping a person
  stands behind (review status curated or reviewed, :data:`kll_graph.mappings.status.ASSERTED`)
  that is neither negated (``predicate_modifier Not``) nor a "no match found" row
  (sssom:NoTermFound): a matcher's candidate is a proposal, not a statement;
- in the same graph, one node per mapping (every row, negated and no-match ones included), typed
  ``owl:Axiom``, with ``owl:annotatedSource`` / ``owl:annotatedProperty`` / ``owl:annotatedTarget``
  and one triple per slot (``sssom:mapping_justification``, ``pav:authoredBy``,
  ``sssom:reviewer_id``, ``sssom:confidence``, ``dcterms:created``, ``rdfs:comment``,
  ``sssom:predicate_modifier sssom:NegatedPredicate`` ...). Set-level values that hold for every
  mapping (e.g. the mapping date) are copied onto each node, so a filter needs no join. The node
  IRI is the row's ``record_id`` when it has one, else minted: ``{base}mapping/{hash}``;
- on every mapping node its review status, ``kll:reviewStatus kll:Candidate`` (``kll:Curated``,
  ``kll:Reviewed``, ``kll:Unsure``, ``kll:Rejected``), derived from its slots
  (:func:`kll_graph.mappings.status.row_status`), so "only reviewed exact matches" is one
  filter. It is derived, not a slot, so reading the set back leaves it out;
- ``<set> sssom:mappings <node>`` links each node to its set;
- in the catalog graph, the set itself: ``<mapping_set_id> a sssom:MappingSet`` with its metadata
  slots, its prefixes as ``sh:declare`` nodes, and ``<graph> prov:wasDerivedFrom <set>``.

:func:`read_set` reverses it, so SSSOM -> RDF -> SSSOM gives the same canonical file.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from kll_graph.mappings.sssom import (
    BUILTIN_PREFIXES,
    DATE_SLOTS,
    DOUBLE_SLOTS,
    ENTITY_REFERENCES,
    MAPPING_SLOTS,
    MULTIVALUED,
    NO_TERM_FOUND,
    SET_SLOTS,
    URI_SLOTS,
    Mapping,
    MappingSet,
    compress,
    expand,
    format_double,
    join_values,
    split_values,
)
from kll_graph.mappings.status import ASSERTED, STATUSES, row_status
from kll_graph.namespaces import (
    DCT,
    MATCH_PREDICATES,
    OWL,
    PAV,
    PROV,
    RDF,
    RDFS,
    SH,
    SKOS,
    SSSOM,
    XSD,
    kll,
)
from kll_graph.sparql.query import select_named
from kll_graph.store import GraphStore

#: Slots whose RDF property is not `sssom:{slot}` (from the SSSOM LinkML schema).
SLOT_URIS: dict[str, str] = {
    "subject_id": OWL.annotatedSource.value,
    "predicate_id": OWL.annotatedProperty.value,
    "object_id": OWL.annotatedTarget.value,
    "author_id": PAV.authoredBy.value,
    "creator_id": DCT.creator.value,
    "license": DCT.license.value,
    "mapping_date": DCT.created.value,
    "publication_date": DCT.issued.value,
    "see_also": RDFS.seeAlso.value,
    "comment": RDFS.comment.value,
    "mapping_set_version": OWL.versionInfo.value,
    "mapping_set_source": PROV.wasDerivedFrom.value,
    "mapping_set_title": DCT.title.value,
    "mapping_set_description": DCT.description.value,
}
#: Enumerations whose values have an IRI meaning in the schema.
ENUM_IRIS: dict[str, dict[str, str]] = {
    "predicate_modifier": {"Not": SSSOM.NegatedPredicate.value},
    "sssom_version": {"1.0": SSSOM["version1.0"].value, "1.1": SSSOM["version1.1"].value},
    **{
        slot: {
            "owl class": OWL.Class.value,
            "owl object property": OWL.ObjectProperty.value,
            "owl data property": OWL.DataProperty.value,
            "owl annotation property": OWL.AnnotationProperty.value,
            "owl named individual": OWL.NamedIndividual.value,
            "skos concept": SKOS.Concept.value,
            "rdfs resource": RDFS.Resource.value,
            "rdfs class": RDFS.Class.value,
            "rdfs literal": RDFS.Literal.value,
            "rdfs datatype": RDFS.Datatype.value,
            "rdf property": RDF.Property.value,
            "composed entity expression": SSSOM.ComposedEntityExpression.value,
        }
        for slot in ("subject_type", "object_type", "predicate_type")
    },
}
SKOS_MATCHES = frozenset(SKOS[name].value for name in MATCH_PREDICATES)


def status_iris(base_iri: str) -> dict[str, NamedNode]:
    """The individual of each review status in the ontology: ``candidate`` -> ``kll:Candidate``.

    >>> status_iris("https://example.org/kll/")["unsure"].value
    'https://example.org/kll/ontology#Unsure'
    """
    terms = kll(base_iri)
    return {status: terms[status.capitalize()] for status in STATUSES}


def review_status_property(base_iri: str) -> NamedNode:
    """``kll:reviewStatus``, the property that carries a mapping node's status."""
    return kll(base_iri).reviewStatus


def slot_property(slot: str) -> NamedNode:
    """The RDF property of a slot."""
    return NamedNode(SLOT_URIS.get(slot, f"{SSSOM.iri}{slot}"))


_PROPERTIES = {slot: slot_property(slot) for slot in (*MAPPING_SLOTS, *SET_SLOTS)}
_MAPPING_SLOT_OF = {prop.value: slot for slot, prop in _PROPERTIES.items() if slot in MAPPING_SLOTS}
_SET_SLOT_OF = {slot_property(slot).value: slot for slot in SET_SLOTS}


def _term(slot: str, value: str, prefixes: dict[str, str]) -> NamedNode | Literal:
    if slot in ENUM_IRIS and value in ENUM_IRIS[slot]:
        return NamedNode(ENUM_IRIS[slot][value])
    if slot in ENTITY_REFERENCES:
        return NamedNode(expand(value, prefixes))
    if slot in URI_SLOTS:
        return NamedNode(value)
    if slot in DATE_SLOTS:
        return Literal(value, datatype=XSD.date)
    if slot in DOUBLE_SLOTS:
        return Literal(format_double(value), datatype=XSD.double)
    return Literal(value)


def _values(slot: str, value: Any) -> list[str]:
    text = join_values(value)
    return split_values(text) if slot in MULTIVALUED else ([text] if text else [])


def mapping_node(
    base_iri: str, mset: MappingSet, mapping: Mapping, seen: dict[str, int]
) -> NamedNode:
    """The node of a mapping: its record_id, else a stable IRI minted from its content."""
    record = mapping.get("record_id")
    if record:
        return NamedNode(expand(record, mset.prefixes()))
    content = "\t".join(f"{k}={v}" for k, v in sorted(mapping.slots.items()))
    digest = hashlib.sha1(f"{mset.set_id}\n{content}".encode()).hexdigest()[:20]
    seen[digest] = seen.get(digest, 0) + 1
    suffix = "" if seen[digest] == 1 else f"-{seen[digest]}"
    return NamedNode(f"{base_iri}mapping/{digest}{suffix}")


#: Set-level slots copied onto every mapping node so that SPARQL can filter mappings on them
#: directly (the provenance a filter needs); the other set-level values stay on the set node.
PROPAGATED_TO_NODES = ("mapping_date",)


def _propagated(mset: MappingSet) -> dict[str, str]:
    """Set-level values to copy onto each mapping: those no mapping overrides."""
    out = {}
    for slot in PROPAGATED_TO_NODES:
        value = join_values(mset.metadata.get(slot, ""))
        if value and not any(m.get(slot) for m in mset.mappings):
            out[slot] = value
    return out


def set_quads(
    mset: MappingSet, graph: NamedNode, catalog: NamedNode, base_iri: str
) -> Iterator[Quad]:
    """All quads of a set: matches and mapping nodes in `graph`, its description in `catalog`."""
    prefixes = mset.prefixes()
    set_node = NamedNode(mset.set_id)
    propagated = _propagated(mset)
    seen: dict[str, int] = {}
    terms: dict[tuple[str, str], NamedNode | Literal] = {}  # repeated values built once

    def term(slot: str, value: str) -> NamedNode | Literal:
        key = (slot, value)
        found = terms.get(key)
        if found is None:
            found = terms[key] = _term(slot, value, prefixes)
        return found

    mappings_property, rdf_type, axiom = SSSOM.mappings, RDF.type, OWL.Axiom
    status_property, statuses = review_status_property(base_iri), status_iris(base_iri)
    for mapping in mset.mappings:
        node = mapping_node(base_iri, mset, mapping, seen)
        status = row_status(mapping)
        yield Quad(set_node, mappings_property, node, graph)
        yield Quad(node, rdf_type, axiom, graph)
        yield Quad(node, status_property, statuses[status], graph)
        for slot, value in ({**propagated, **mapping.slots}).items():
            if slot == "record_id":
                continue
            if slot in MULTIVALUED:
                for item in split_values(value):
                    yield Quad(node, _PROPERTIES[slot], term(slot, item), graph)
            elif value:
                yield Quad(node, _PROPERTIES[slot], term(slot, value), graph)
        if status not in ASSERTED or mapping.negated or mapping.no_term:
            continue
        predicate = term("predicate_id", mapping.get("predicate_id"))
        if predicate.value in SKOS_MATCHES:
            subject = term("subject_id", mapping.get("subject_id"))
            target = term("object_id", mapping.get("object_id"))
            yield Quad(
                subject,  # type: ignore[arg-type]  # entity reference, so _term gave a NamedNode
                predicate,  # type: ignore[arg-type]  # entity reference, so _term gave a NamedNode
                target,
                graph,
            )
    yield from _set_description(mset, set_node, graph, catalog)


def _set_description(
    mset: MappingSet, set_node: NamedNode, graph: NamedNode, catalog: NamedNode
) -> Iterator[Quad]:
    prefixes = mset.prefixes()
    yield Quad(set_node, RDF.type, SSSOM.MappingSet, catalog)
    yield Quad(graph, PROV.wasDerivedFrom, set_node, catalog)
    for slot, value in mset.metadata.items():
        if slot in ("mapping_set_id", "curie_map") or slot not in SET_SLOTS:
            continue
        if isinstance(value, dict):
            continue  # extension definitions are not compiled
        for item in _values(slot, value):
            yield Quad(set_node, slot_property(slot), _term(slot, item, prefixes), catalog)
    for prefix, namespace in sorted(mset.curie_map.items()):
        declaration = NamedNode(f"{mset.set_id}#prefix-{prefix}")
        yield Quad(set_node, SH.declare, declaration, catalog)
        yield Quad(declaration, SH.prefix, Literal(prefix), catalog)
        yield Quad(declaration, SH.namespace, Literal(namespace, datatype=XSD.anyURI), catalog)


# --- back from the store ------------------------------------------------------------------------

_REVERSE_ENUMS = {
    slot: {iri: text for text, iri in values.items()} for slot, values in ENUM_IRIS.items()
}


def _text(slot: str, term: Any, prefixes: dict[str, str]) -> str:
    if isinstance(term, NamedNode):
        if slot in _REVERSE_ENUMS and term.value in _REVERSE_ENUMS[slot]:
            return _REVERSE_ENUMS[slot][term.value]
        if slot in ENTITY_REFERENCES:
            if term.value == expand(NO_TERM_FOUND, BUILTIN_PREFIXES):
                return NO_TERM_FOUND
            return compress(term.value, prefixes)
        return term.value
    if slot in DOUBLE_SLOTS:
        return format_double(term.value)
    return str(term.value)


def read_set(store: GraphStore, set_id: str, base_iri: str) -> MappingSet:
    """Rebuild a mapping set from the store (union of graphs) by its mapping_set_id."""
    set_node = NamedNode(set_id)
    curie_map: dict[str, str] = {}
    raw: dict[str, list[str]] = defaultdict(list)
    rows = list(select_named(store, "mappings_set_metadata", set=set_node))
    for row in rows:
        if row["prefix"] is not None:
            curie_map[row["prefix"].value] = row["namespace"].value
    prefixes = {**curie_map, **BUILTIN_PREFIXES}
    for row in rows:
        if row["p"] is None:
            continue
        slot = _SET_SLOT_OF.get(row["p"].value)
        if slot and slot not in ("curie_map", "mapping_set_id"):
            raw[slot].append(_text(slot, row["o"], prefixes))
    metadata: dict[str, Any] = {"mapping_set_id": set_id}
    for slot, values in raw.items():
        metadata[slot] = sorted(values) if slot in MULTIVALUED else values[0]
    nodes: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    texts: dict[tuple[str, Any], str] = {}
    for row in select_named(store, "mappings_set_mappings", set=set_node):
        slot = _MAPPING_SLOT_OF.get(row["p"].value)
        if slot:  # the review status and rdf:type are derived, not slots: left out
            term = row["o"]
            text = texts.get((slot, term))
            if text is None:
                text = texts[(slot, term)] = _text(slot, term, prefixes)
            nodes[row["m"].value][slot].append(text)
    mappings = []
    minted = f"{base_iri}mapping/"
    for node, slots in nodes.items():
        fields = {slot: "|".join(sorted(v)) for slot, v in slots.items()}
        if not node.startswith(minted):
            fields["record_id"] = compress(node, prefixes)
        mappings.append(Mapping(fields))
    return MappingSet(curie_map, metadata, mappings)
