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

from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Store, Variable

from kll_graph.mappings.checks import namespace_scheme
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
from kll_graph.sparql.query import named_query, select_named

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


def _concepts(rows: Any, deprecated: set[str], type_of: Any) -> dict[str, _Concept]:
    """The concepts of one side from (concept, type or class, label) rows, deprecated ones left
    out: the first specific type seen, and the first label in each language."""
    concepts: dict[str, _Concept] = {}
    for row in rows:
        iri = row[0].value
        if iri in deprecated:
            continue
        concept = concepts.get(iri)
        if concept is None:
            concept = concepts[iri] = _Concept("")
        if not concept.type:
            concept.type = type_of(row[1].value)
        label = row[2]
        if label is not None:
            concept.labels.setdefault(label.language or "", label.value)
    return concepts


@dataclass(frozen=True)
class _Mapping:
    """One mapping node as :func:`_mappings` reads it."""

    source: str
    target: str
    predicate: str
    justification: str | None
    negated: bool


def _mappings(store: Store) -> list[_Mapping]:
    """Every mapping node of the store (a row per justification)."""
    rows = select_named(store, "mappings_coverage_axioms")
    return [
        _Mapping(
            source.value,
            target.value,
            _report_name(predicate.value),
            None if justification is None else _report_name(justification.value),
            negated.value == "true",
        )
        for source, target, predicate, justification, negated in rows
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


def _deprecated(store: Store) -> set[str]:
    rows = select_named(store, "mappings_coverage_deprecated")
    return {row[0].value for row in rows}


def jobtech_coverage(
    store: Store, base_iri: str, mappings: list[_Mapping], deprecated: set[str]
) -> list[TypeCoverage]:
    """Coverage of the mapped JobTech concept types by mappings to ESCO."""
    rows = store.query(
        named_query("mappings_coverage_jobtech"),
        substitutions={Variable("conceptType"): kll(base_iri).conceptType},
        use_default_graph_as_union=True,
    )
    concepts = _concepts(rows, deprecated, lambda value: value)
    _count_mappings(concepts, mappings, ESCO_DATA.iri)
    return _tally("jobtech", concepts)


def _esco_type(cls: str) -> str:
    """The ESCO model class of a concept ("" for generic classes such as skos:Concept)."""
    if not cls.startswith(ESCO.iri) or cls == ESCO.MemberConcept.value:
        return ""
    return "esco:" + cls[len(ESCO.iri) :]


def esco_coverage(
    store: Store, mappings: list[_Mapping], deprecated: set[str]
) -> list[TypeCoverage]:
    """Coverage of the mapped ESCO concept types by mappings to JobTech."""
    rows = store.query(named_query("mappings_coverage_esco"), use_default_graph_as_union=True)
    concepts = _concepts(rows, deprecated, _esco_type)
    _count_mappings(concepts, mappings, JOBTECH_CONCEPT.iri)
    for iri, concept in concepts.items():
        if not concept.type:  # no ESCO model class: name the type by the IRI path
            concept.type = namespace_scheme(iri)
    return _tally("esco", concepts)


def coverage(store: Store, base_iri: str) -> dict[str, list[TypeCoverage]]:
    """Both sides, from one read of the mapping nodes and of the deprecated resources."""
    mappings, deprecated = _mappings(store), _deprecated(store)
    return {
        "jobtech": jobtech_coverage(store, base_iri, mappings, deprecated),
        "esco": esco_coverage(store, mappings, deprecated),
    }


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
