"""Mapping coverage: of each mapped concept type, how many concepts have a mapping to the other
side, by predicate and by justification, and which have none.

The JobTech side groups concepts by ``kll:conceptType`` (occupation-name, skill ...) and counts
mappings to ESCO; the ESCO side groups ESCO concepts by their ESCO model class (Occupation, Skill
...; the IRI path when a concept has no such class) and counts mappings to JobTech. Only types
with at least one mapped concept are reported, deprecated concepts are left out, and a mapping
counts when it is neither negated nor a "no match found" row (those are counted apart as
``no_match``: reviewed, and nothing fits). Predicates are read from the side being counted: a
JobTech concept that an ESCO-first set maps with ``broadMatch`` counts under ``narrowMatch``.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Variable

from kll_graph.mappings.checks import namespace_scheme
from kll_graph.mappings.sssom import MappingSet, expand
from kll_graph.mappings.status import CANDIDATE, UNSURE, row_status
from kll_graph.namespaces import (
    ESCO,
    ESCO_DATA,
    INVERSE_MATCH,
    JOBTECH_CONCEPT,
    SEMAPV,
    SKOS,
    SSSOM,
    kll,
)
from kll_graph.sparql.query import current_releases, named_query, select_named
from kll_graph.store import GraphStore

#: The report over all sets, as the mapping-set overview shows it, written next to the store.
COVERAGE_FILE = "mapping-coverage.json"
NO_TERM = SSSOM.NoTermFound.value


@dataclass
class TypeCoverage:
    """Coverage of one concept type on one side."""

    side: str
    type: str
    total: int = 0
    mapped: int = 0
    no_match: int = 0
    by_predicate: dict[str, int] = field(default_factory=dict)
    by_justification: dict[str, int] = field(default_factory=dict)
    unmapped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return round(100.0 * self.mapped / self.total, 1) if self.total else 0.0

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        unmapped = self.unmapped if limit is None else self.unmapped[:limit]
        return {
            "side": self.side,
            "type": self.type,
            "total": self.total,
            "mapped": self.mapped,
            "percent": self.percent,
            "no_match": self.no_match,
            "unmapped_count": len(self.unmapped),
            "by_predicate": self.by_predicate,
            "by_justification": self.by_justification,
            "unmapped": [{"concept": iri, "label": label} for iri, label in unmapped],
        }


@dataclass
class _Concept:
    type: str
    labels: dict[str, str] = field(default_factory=dict)
    predicates: set[str] = field(default_factory=set)
    justifications: set[str] = field(default_factory=set)
    no_match: bool = False

    def label(self) -> str:
        return (
            self.labels.get("sv") or self.labels.get("en") or next(iter(self.labels.values()), "")
        )


def _report_name(iri: str) -> str:
    """How the report names a predicate or justification: a SKOS term by its local name (the
    keys of :data:`~kll_graph.namespaces.INVERSE_MATCH`), a semapv term as a CURIE, any other
    IRI in full.

    >>> _report_name(SKOS.broadMatch.value), _report_name(SEMAPV.LexicalMatching.value)
    ('broadMatch', 'semapv:LexicalMatching')
    """
    for namespace, prefix in ((SKOS.iri, ""), (SEMAPV.iri, "semapv:")):
        if iri.startswith(namespace):
            return prefix + iri[len(namespace) :]
    return iri


#: One concept row as read from the store: concept IRI, its type (or class), a preferred label
#: and that label's language ("" without one; the label None when the concept has none).
ConceptRow = tuple[str, str, str | None, str]


def _rows(solutions: Any) -> tuple[ConceptRow, ...]:
    """(concept, type or class, label) solutions as plain strings, to keep or to count; a
    concept comes once per class and label, so each IRI and type is kept once (a third of the
    memory on the real data)."""
    strings: dict[str, str] = {}
    out = []
    for row in solutions:
        label = row[2]
        concept, kind = row[0].value, row[1].value
        language = "" if label is None else label.language or ""
        out.append(
            (
                strings.setdefault(concept, concept),
                strings.setdefault(kind, kind),
                None if label is None else label.value,
                strings.setdefault(language, language),
            )
        )
    return tuple(out)


def _concepts(
    rows: Iterable[ConceptRow], deprecated: AbstractSet[str], type_of: Any
) -> dict[str, _Concept]:
    """The concepts of one side from (concept, type or class, label) rows, deprecated ones left
    out: the first specific type seen, and the first label in each language."""
    concepts: dict[str, _Concept] = {}
    for iri, kind, label, language in rows:
        if iri in deprecated:
            continue
        concept = concepts.get(iri)
        if concept is None:
            concept = concepts[iri] = _Concept("")
        if not concept.type:
            concept.type = type_of(kind)
        if label is not None:
            concept.labels.setdefault(language, label)
    return concepts


@dataclass(frozen=True)
class _Mapping:
    """One mapping node as :func:`_mappings` reads it."""

    source: str
    target: str
    predicate: str
    justification: str | None
    negated: bool


def set_mappings(sets: Iterable[MappingSet]) -> list[_Mapping]:
    """Every mapping row of the sets, as :func:`_mappings` reads their compiled nodes back from
    a store: the same coverage without the store (a mapping refresh has the sets in hand)."""
    out = []
    for mset in sets:
        prefixes = mset.prefixes()
        for mapping in mset.mappings:
            if row_status(mapping) in (CANDIDATE, UNSURE):
                continue  # not a mapping yet: a tool's proposal, or a reviewer's doubt
            justification = mapping.get("mapping_justification")
            try:
                out.append(
                    _Mapping(
                        expand(mapping.get("subject_id"), prefixes),
                        expand(mapping.get("object_id"), prefixes),
                        _report_name(expand(mapping.get("predicate_id"), prefixes)),
                        _report_name(expand(justification, prefixes)) if justification else None,
                        bool(mapping.get("predicate_modifier")),
                    )
                )
            except (KeyError, ValueError):
                continue  # a row the build refuses to compile is not in the store either
    return out


def _mappings(store: GraphStore, base_iri: str) -> list[_Mapping]:
    """Every mapping node of the store (a row per justification) but candidates and unsure rows."""
    k = kll(base_iri)
    rows = select_named(
        store,
        "mappings_coverage_axioms",
        statusProperty=k.reviewStatus,
        candidate=k.Candidate,
        unsure=k.Unsure,
    )
    return [
        _Mapping(
            row["source"].value,
            row["target"].value,
            _report_name(row["predicate"].value),
            None if row["justification"] is None else _report_name(row["justification"].value),
            row["negated"].value == "true",
        )
        for row in rows
    ]


def _count_mappings(concepts: dict[str, _Concept], mappings: list[_Mapping], other: str) -> None:
    """Note on each concept the mappings that reach the other side (as subject or as object;
    a predicate read from the object side is inverted), and the reviewed "no match" rows."""
    for mapping in mappings:
        for iri, far, as_subject in (
            (mapping.source, mapping.target, True),
            (mapping.target, mapping.source, False),
        ):
            concept = concepts.get(iri)
            if concept is None:
                continue
            if far == NO_TERM:
                concept.no_match = True
                continue
            if not far.startswith(other) or mapping.negated:
                continue
            predicate = mapping.predicate
            concept.predicates.add(
                predicate if as_subject else INVERSE_MATCH.get(predicate, predicate)
            )
            if mapping.justification is not None:
                concept.justifications.add(mapping.justification)


def _tally(side: str, concepts: dict[str, _Concept]) -> list[TypeCoverage]:
    by_type: dict[str, TypeCoverage] = {}
    for iri in sorted(concepts):
        concept = concepts[iri]
        cov = by_type.setdefault(concept.type, TypeCoverage(side, concept.type))
        cov.total += 1
        if concept.predicates:
            cov.mapped += 1
            for predicate in concept.predicates:
                cov.by_predicate[predicate] = cov.by_predicate.get(predicate, 0) + 1
            for justification in concept.justifications:
                cov.by_justification[justification] = cov.by_justification.get(justification, 0) + 1
        else:
            cov.no_match += concept.no_match
            cov.unmapped.append((iri, concept.label()))
    reported = [c for c in by_type.values() if c.mapped or c.no_match]
    for cov in reported:
        cov.by_predicate = dict(sorted(cov.by_predicate.items()))
        cov.by_justification = dict(sorted(cov.by_justification.items()))
    return sorted(reported, key=lambda c: c.type)


def _left_out(store: GraphStore, base_iri: str) -> set[str]:
    """Deprecated concepts, and those of older releases only (kll:lastSeenIn): coverage is
    measured on the current release."""
    rows = select_named(store, "mappings_coverage_deprecated")
    older = select_named(store, "check_older_release", lastSeenIn=kll(base_iri).lastSeenIn)
    return {row[0].value for row in rows} | {row[0].value for row in older}


def _jobtech_rows(store: GraphStore, base_iri: str) -> tuple[ConceptRow, ...]:
    return _rows(
        store.query(
            named_query("mappings_coverage_jobtech"),
            substitutions={Variable("conceptType"): kll(base_iri).conceptType},
            **current_releases(store),
        )
    )


def _esco_rows(store: GraphStore) -> tuple[ConceptRow, ...]:
    return _rows(store.query(named_query("mappings_coverage_esco"), **current_releases(store)))


def _jobtech_side(
    rows: Iterable[ConceptRow], mappings: list[_Mapping], deprecated: AbstractSet[str]
) -> list[TypeCoverage]:
    concepts = _concepts(rows, deprecated, lambda value: value)
    _count_mappings(concepts, mappings, ESCO_DATA.iri)
    return _tally("jobtech", concepts)


def _esco_side(
    rows: Iterable[ConceptRow], mappings: list[_Mapping], deprecated: AbstractSet[str]
) -> list[TypeCoverage]:
    concepts = _concepts(rows, deprecated, _esco_type)
    _count_mappings(concepts, mappings, JOBTECH_CONCEPT.iri)
    for iri, concept in concepts.items():
        if not concept.type:  # no ESCO model class: name the type by the IRI path
            concept.type = namespace_scheme(iri)
    return _tally("esco", concepts)


def jobtech_coverage(
    store: GraphStore, base_iri: str, mappings: list[_Mapping], deprecated: set[str]
) -> list[TypeCoverage]:
    """Coverage of the mapped JobTech concept types by mappings to ESCO."""
    return _jobtech_side(_jobtech_rows(store, base_iri), mappings, deprecated)


def _esco_type(cls: str) -> str:
    """The ESCO model class of a concept ("" for generic classes such as skos:Concept)."""
    if not cls.startswith(ESCO.iri) or cls == ESCO.MemberConcept.value:
        return ""
    return "esco:" + cls[len(ESCO.iri) :]


def esco_coverage(
    store: GraphStore, mappings: list[_Mapping], deprecated: set[str]
) -> list[TypeCoverage]:
    """Coverage of the mapped ESCO concept types by mappings to JobTech."""
    return _esco_side(_esco_rows(store), mappings, deprecated)


@dataclass(frozen=True)
class ConceptSides:
    """The concepts coverage counts on both sides, without the mappings: what only a change of
    the vocabularies changes. Reading it is most of the cost of coverage (seconds on the real
    data), so a mapping refresh keeps it and counts each new set of mappings against it."""

    jobtech: tuple[ConceptRow, ...]
    esco: tuple[ConceptRow, ...]
    deprecated: frozenset[str]


def concept_sides(store: GraphStore, base_iri: str) -> ConceptSides:
    """The concepts of both sides and the deprecated resources, read once."""
    return ConceptSides(
        _jobtech_rows(store, base_iri), _esco_rows(store), frozenset(_left_out(store, base_iri))
    )


def coverage_of(sides: ConceptSides, mappings: list[_Mapping]) -> dict[str, list[TypeCoverage]]:
    """Both sides counted against `mappings` (from :func:`set_mappings` or a store)."""
    return {
        "jobtech": _jobtech_side(sides.jobtech, mappings, sides.deprecated),
        "esco": _esco_side(sides.esco, mappings, sides.deprecated),
    }


def coverage(store: GraphStore, base_iri: str) -> dict[str, list[TypeCoverage]]:
    """Both sides, from one read of the mapping nodes and of the deprecated resources."""
    return coverage_of(concept_sides(store, base_iri), _mappings(store, base_iri))


def coverage_json(
    report: dict[str, list[TypeCoverage]], limit: int | None = None
) -> dict[str, Any]:
    return {side: [c.to_json(limit) for c in types] for side, types in report.items()}


def coverage_text(report: dict[str, list[TypeCoverage]], limit: int = 10) -> str:
    """The coverage report for the terminal."""
    lines = []
    titles = {
        "jobtech": "JobTech concepts mapped to ESCO",
        "esco": "ESCO concepts mapped to JobTech",
    }
    for side, types in report.items():
        lines.append(titles.get(side, side))
        if not types:
            lines.append("  (no mapped concept type)")
        for cov in types:
            lines.append(
                f"  {cov.type}: {cov.mapped:,} of {cov.total:,} mapped ({cov.percent}%), "
                f"{cov.no_match:,} reviewed with no match, {len(cov.unmapped):,} unmapped"
            )
            if cov.by_predicate:
                lines.append(
                    "    by predicate: "
                    + ", ".join(f"{k} {v:,}" for k, v in cov.by_predicate.items())
                )
            if cov.by_justification:
                lines.append(
                    "    by justification: "
                    + ", ".join(f"{k} {v:,}" for k, v in cov.by_justification.items())
                )
            for iri, label in cov.unmapped[:limit]:
                lines.append(f"    unmapped: {iri}  {label}")
            if len(cov.unmapped) > limit:
                lines.append(
                    f"    ... and {len(cov.unmapped) - limit:,} more (--limit, --format json)"
                )
    return "\n".join(lines)
