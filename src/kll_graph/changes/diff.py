"""What changed between two releases of one source, read from their named graphs.

Per concept: added, removed, deprecated, relabelled (per language and label kind), moved (its
broader concepts changed), notation changed, definition changed. Per mapping (a source that is a
mapping table or set): added, removed, relation changed.

A release whose package lacks a part another release has (the release records it, e.g. ESCO
v1.2.0 without `skills_en.csv`) cannot be compared on that part: the concepts of that kind are
left out of the comparison in both directions and the pair says so in `not_compared`, so an
absent file never reads as thousands of removed concepts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode

from kll_graph.changes.log import (
    CONCEPT_KINDS,
    MAPPING_KINDS,
    ConceptChange,
    MappingChange,
    ReleasePair,
)
from kll_graph.changes.releases import Release
from kll_graph.namespaces import DCT, ESCO, OWL, RDF, SKOS, compact
from kll_graph.store import GraphStore

#: The SKOS mapping predicates a mapping change is about.
MAPPING_PREDICATES = tuple(
    SKOS[name] for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
)
_LABELS = (
    (SKOS.prefLabel, "prefLabel"),
    (SKOS.altLabel, "altLabel"),
    (SKOS.hiddenLabel, "hiddenLabel"),
)
_DEFINITIONS = (SKOS.definition, DCT.description)
_ISO_THES_STATUS = NamedNode("http://purl.org/iso25964/skos-thes#status")
_DEPRECATED_STATUS = {"obsolete", "deprecated"}
#: Types that say what a concept is, not which kind (left out of `concept_type`).
_GENERIC_TYPES = {SKOS.Concept.value, ESCO.MemberConcept.value}
#: A package file a release can lack -> the concept type whose concepts it holds (ESCO's files).
LACKED_TYPES = {
    "skills": ESCO.Skill.value,
    "occupations": ESCO.Occupation.value,
    "ISCOGroups": ESCO.ISCOGroup.value,
    "skillGroups": ESCO.SkillGroup.value,
}
#: Separates the values of a label set or a set of broader concepts in `before`/`after`.
SEPARATOR = " | "


@dataclass
class Snapshot:
    """What one release states about its concepts, read once."""

    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    labels: dict[str, dict[tuple[str, str], set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    broader: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    notations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    definitions: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    deprecated: set[str] = field(default_factory=set)
    mappings: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def concepts(self) -> set[str]:
        return {c for c, types in self.types.items() if SKOS.Concept.value in types}

    def label(self, concept: str) -> str | None:
        labels = self.labels.get(concept, {})
        for key in (("prefLabel", "en"), ("prefLabel", "sv"), *sorted(labels)):
            if labels.get(key):
                return min(labels[key])
        return None

    def concept_type(self, concept: str) -> str | None:
        specific = sorted(self.types.get(concept, set()) - _GENERIC_TYPES)
        return compact(specific[0]) if specific else None


def _quads(
    store: GraphStore, predicate: NamedNode, graphs: Sequence[str]
) -> Iterable[tuple[str, object]]:
    for graph in graphs:
        for quad in store.quads_for_pattern(None, predicate, None, NamedNode(graph)):
            if isinstance(quad.subject, NamedNode):
                yield quad.subject.value, quad.object


def snapshot(store: GraphStore, graphs: Sequence[str], *, mappings: bool = False) -> Snapshot:
    """Read a release's concepts (and mappings, for a mapping source) from its graphs."""
    snap = Snapshot()
    if mappings:
        for predicate in MAPPING_PREDICATES:
            for s, o in _quads(store, predicate, graphs):
                if isinstance(o, NamedNode):
                    snap.mappings[(s, o.value)].add(compact(predicate.value))
        return snap
    for s, o in _quads(store, RDF.type, graphs):
        if isinstance(o, NamedNode):
            snap.types[s].add(o.value)
    for predicate, kind in _LABELS:
        for s, o in _quads(store, predicate, graphs):
            if isinstance(o, Literal):
                snap.labels[s][(kind, (o.language or "").lower())].add(o.value)
    for s, o in _quads(store, SKOS.broader, graphs):
        if isinstance(o, NamedNode):
            snap.broader[s].add(o.value)
    for s, o in _quads(store, SKOS.notation, graphs):
        if isinstance(o, Literal) and o.value.strip():
            snap.notations[s].add(o.value.strip())
    for predicate in _DEFINITIONS:
        for s, o in _quads(store, predicate, graphs):
            if isinstance(o, Literal):
                snap.definitions[s][(o.language or "").lower()].add(o.value)
    for s, o in _quads(store, OWL.deprecated, graphs):
        if isinstance(o, Literal) and o.value.strip().lower() in {"true", "1"}:
            snap.deprecated.add(s)
    for s, o in _quads(store, _ISO_THES_STATUS, graphs):
        if isinstance(o, Literal) and o.value.strip().lower() in _DEPRECATED_STATUS:
            snap.deprecated.add(s)
    return snap


def lacked_kind(lack: str) -> str:
    """The package part a `lacks` entry names: `skills_en.csv: skills (...)` -> `skills`."""
    name = lack.split(":", 1)[0].strip()
    for suffix in (".csv.gz", ".csv"):
        name = name.removesuffix(suffix)
    return name.split("_", 1)[0]


def not_compared(older: Release, newer: Release) -> tuple[list[str], set[str]]:
    """What cannot be compared between two releases (messages) and the concept types left out."""
    messages: list[str] = []
    types: set[str] = set()
    for release in (older, newer):
        for lack in release.lacks:
            kind = lacked_kind(lack)
            if kind in LACKED_TYPES:
                types.add(LACKED_TYPES[kind])
                messages.append(
                    f"{kind}: absent from the {release.version} package "
                    f"({compact(LACKED_TYPES[kind])} concepts not compared)"
                )
            else:
                messages.append(f"{kind}: absent from the {release.version} package")
    return messages, types


def _joined(values: Iterable[str]) -> str | None:
    found = sorted(values)
    return SEPARATOR.join(found) if found else None


def concept_changes(
    older: Release, newer: Release, a: Snapshot, b: Snapshot, skip: set[str]
) -> list[ConceptChange]:
    """Every concept change from snapshot `a` (older) to `b` (newer), kinds in CONCEPT_KINDS
    order, concepts sorted within a kind."""
    out: list[ConceptChange] = []
    before, after = a.concepts, b.concepts

    def compared(concept: str) -> bool:
        return not ((a.types.get(concept, set()) | b.types.get(concept, set())) & skip)

    def change(concept: str, kind: str, **rest: str | None) -> ConceptChange:
        return ConceptChange(
            source=newer.source,
            from_version=older.version,
            to_version=newer.version,
            concept=concept,
            kind=kind,
            concept_type=b.concept_type(concept) or a.concept_type(concept),
            label=b.label(concept) or a.label(concept),
            **rest,
        )

    for concept in sorted(after - before):
        if compared(concept):
            out.append(change(concept, "added"))
    for concept in sorted(before - after):
        if compared(concept):
            out.append(change(concept, "removed"))
    both = sorted(c for c in before & after if compared(c))
    for concept in both:
        if concept in b.deprecated and concept not in a.deprecated:
            out.append(change(concept, "deprecated"))
    for concept in both:
        la, lb = a.labels.get(concept, {}), b.labels.get(concept, {})
        for kind_lang in sorted(set(la) | set(lb)):
            old, new = la.get(kind_lang, set()), lb.get(kind_lang, set())
            if old != new:
                label_kind, lang = kind_lang
                out.append(
                    change(
                        concept,
                        "relabelled",
                        lang=lang or None,
                        label_kind=label_kind,
                        before=_joined(old),
                        after=_joined(new),
                    )
                )
    for concept in both:
        old, new = a.broader.get(concept, set()), b.broader.get(concept, set())
        if old != new:
            out.append(change(concept, "moved", before=_joined(old), after=_joined(new)))
    for concept in both:
        old, new = a.notations.get(concept, set()), b.notations.get(concept, set())
        if old != new:
            out.append(change(concept, "notation", before=_joined(old), after=_joined(new)))
    for concept in both:
        da, db = a.definitions.get(concept, {}), b.definitions.get(concept, {})
        for lang in sorted(set(da) | set(db)):
            old, new = da.get(lang, set()), db.get(lang, set())
            if old != new:
                out.append(
                    change(
                        concept,
                        "definition",
                        lang=lang or None,
                        before=_joined(old),
                        after=_joined(new),
                    )
                )
    return out


def mapping_changes(
    older: Release, newer: Release, a: Snapshot, b: Snapshot
) -> list[MappingChange]:
    """Every mapping (subject, object) added, removed or given another relation."""
    out: list[MappingChange] = []

    def change(pair: tuple[str, str], kind: str, old: set[str], new: set[str]) -> MappingChange:
        return MappingChange(
            source=newer.source,
            from_version=older.version,
            to_version=newer.version,
            subject=pair[0],
            object=pair[1],
            kind=kind,
            before=_joined(old),
            after=_joined(new),
        )

    for pair in sorted(set(b.mappings) - set(a.mappings)):
        out.append(change(pair, "added", set(), b.mappings[pair]))
    for pair in sorted(set(a.mappings) - set(b.mappings)):
        out.append(change(pair, "removed", a.mappings[pair], set()))
    for pair in sorted(set(a.mappings) & set(b.mappings)):
        if a.mappings[pair] != b.mappings[pair]:
            out.append(change(pair, "relation", a.mappings[pair], b.mappings[pair]))
    return out


def counts(concepts: Sequence[ConceptChange], mappings: Sequence[MappingChange]) -> dict[str, int]:
    """Changes per kind: concept kinds by name, mapping kinds as `mapping_<kind>`."""
    found = {kind: sum(1 for c in concepts if c.kind == kind) for kind in CONCEPT_KINDS}
    found.update(
        {f"mapping_{kind}": sum(1 for m in mappings if m.kind == kind) for kind in MAPPING_KINDS}
    )
    return {k: v for k, v in found.items() if v}


def compare(
    store: GraphStore, older: Release, newer: Release, *, mappings: bool = False
) -> tuple[ReleasePair, list[ConceptChange], list[MappingChange]]:
    """Compare two releases of one source in a store: the pair and its changes. `mappings`:
    the source is a mapping table or set (its mappings are compared, not its concepts)."""
    graphs_a, graphs_b = older.graphs or (older.graph,), newer.graphs or (newer.graph,)
    a = snapshot(store, graphs_a, mappings=mappings)
    b = snapshot(store, graphs_b, mappings=mappings)
    messages, skip = not_compared(older, newer)
    concepts = [] if mappings else concept_changes(older, newer, a, b, skip)
    mapped = mapping_changes(older, newer, a, b) if mappings else []
    pair = ReleasePair(
        source=newer.source,
        from_version=older.version,
        to_version=newer.version,
        counts=counts(concepts, mapped),
        not_compared=messages,
        computed=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    )
    return pair, concepts, mapped
