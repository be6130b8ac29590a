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

from kll_graph.mapping_checks import namespace_scheme
from kll_graph.namespaces import ESCO, SKOS, SSSOM, kll
from kll_graph.sparql import named_query

ESCO_CONCEPTS = "http://data.europa.eu/esco/"
JOBTECH_CONCEPTS = "http://data.jobtechdev.se/taxonomy/concept/"
NO_TERM = SSSOM.NoTermFound.value
_INVERSE = {
    "broadMatch": "narrowMatch",
    "narrowMatch": "broadMatch",
}


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


def _short(iri: str) -> str:
    for namespace, prefix in ((SKOS.iri, ""), ("https://w3id.org/semapv/vocab/", "semapv:")):
        if iri.startswith(namespace):
            return prefix + iri[len(namespace) :]
    return iri


def _collect(rows: Any, concepts: dict[str, _Concept], other_side: str, type_of: Any) -> None:
    for row in rows:
        iri = row["concept"].value
        concept = concepts.get(iri)
        if concept is None:
            concept = concepts[iri] = _Concept("")
        if not concept.type:
            concept.type = type_of(row)  # the first specific type seen
        label = row["label"]
        if label is not None:
            concept.labels.setdefault(getattr(label, "language", None) or "", label.value)
        other = row["other"]
        if other is None:
            continue
        if other.value == NO_TERM:
            concept.no_match = True
            continue
        if not other.value.startswith(other_side) or row["negated"].value == "true":
            continue
        predicate = _short(row["predicate"].value)
        if row["asSubject"].value != "true":
            predicate = _INVERSE.get(predicate, predicate)
        concept.predicates.add(predicate)
        if row["justification"] is not None:
            concept.justifications.add(_short(row["justification"].value))


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


def jobtech_coverage(store: Store, base_iri: str) -> list[TypeCoverage]:
    """Coverage of the mapped JobTech concept types by mappings to ESCO."""
    rows = store.query(
        named_query("mappings_coverage_jobtech"),
        substitutions={Variable("conceptType"): kll(base_iri).conceptType},
        use_default_graph_as_union=True,
    )
    concepts: dict[str, _Concept] = {}
    _collect(rows, concepts, ESCO_CONCEPTS, lambda row: row["type"].value)
    return _tally("jobtech", concepts)


def _esco_type(row: Any) -> str:
    """The ESCO model class of a row ("" for generic classes such as skos:Concept)."""
    cls = row["class"].value
    if not cls.startswith(ESCO.iri) or cls == ESCO.MemberConcept.value:
        return ""
    return "esco:" + cls[len(ESCO.iri) :]


def esco_coverage(store: Store) -> list[TypeCoverage]:
    """Coverage of the mapped ESCO concept types by mappings to JobTech."""
    rows = store.query(named_query("mappings_coverage_esco"), use_default_graph_as_union=True)
    concepts: dict[str, _Concept] = {}
    _collect(rows, concepts, JOBTECH_CONCEPTS, _esco_type)
    for iri, concept in concepts.items():
        if not concept.type:  # no ESCO model class: name the type by the IRI path
            concept.type = namespace_scheme(iri)
    return _tally("esco", concepts)


def coverage(store: Store, base_iri: str) -> dict[str, list[TypeCoverage]]:
    """Both sides."""
    return {"jobtech": jobtech_coverage(store, base_iri), "esco": esco_coverage(store)}


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
