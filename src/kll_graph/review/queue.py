"""The review queue: what is waiting for a terminologist's decision, in one ordered list.

Items come from the mapping sets of the mappings directory and from the served build:

- ``candidate``: a tool's row (the matcher's output) for a pair nobody has decided yet;
- ``unsure``: a row a reviewer marked unsure, back for another look;
- ``curated``: a row a person made and no second person has reviewed (author ≠ reviewer);
- ``recheck``: a reviewed or curated row whose JobTech or ESCO concept is deprecated or gone
  from the served build, or was changed since the release its set names (the pairs
  :mod:`kll_graph.changes.recheck` lists, passed in as `rechecks`);
- ``unmapped``: a JobTech concept of a mapped type with no mapping and no candidate at all.

A pair is decided when any set holds a reviewed, rejected or curated row for it (or a
"no ESCO concept fits" row for its subject): its candidates leave the queue, so a rejected pair
is never proposed again. The queue is a pure function of the sets and the label index; the web
layer keeps it per (files, build) and filters it per request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kll_graph.exceptions import BadRequestError
from kll_graph.labels.index import LabelIndex
from kll_graph.mappings.sssom import Mapping as Row
from kll_graph.mappings.sssom import MappingSet, iri_of
from kll_graph.mappings.status import CANDIDATE, CURATED, REJECTED, REVIEWED, UNSURE, row_status
from kll_graph.namespaces import ESCO_DATA, JOBTECH_CONCEPT, SSSOM

KINDS = ("candidate", "unsure", "curated", "recheck", "unmapped")
#: Confidence bands a filter can ask for: name -> [low, high).
BANDS: dict[str, tuple[float, float]] = {
    "0.9-1": (0.9, 1.01),
    "0.7-0.9": (0.7, 0.9),
    "0.5-0.7": (0.5, 0.7),
    "0-0.5": (0.0, 0.5),
}
NO_TERM = SSSOM.NoTermFound.value


@dataclass(frozen=True)
class Item:
    """One thing to decide: a row of a set (with its pair) or a JobTech concept alone."""

    key: str
    kind: str
    subject: str
    object: str | None = None
    set: str | None = None
    row: Row | None = None
    confidence: float | None = None
    concept_type: str | None = None
    ssyk: str | None = None
    label: str = ""

    def json(self) -> dict[str, Any]:
        """The item as the queue API returns it (the row's slots as written in its file)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "set": self.set,
            "subject": self.subject,
            "object": self.object,
            "subject_label": self.label,
            "concept_type": self.concept_type,
            "ssyk": self.ssyk,
            "confidence": self.confidence,
            "row": dict(self.row.slots) if self.row is not None else None,
        }


@dataclass(frozen=True)
class Filters:
    """What a queue view asks for; every field optional. `kinds` empty means the open kinds."""

    set: str | None = None
    concept_type: str | None = None
    ssyk: str | None = None
    band: str | None = None
    kinds: tuple[str, ...] = ()
    query: str | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """From query parameters, refusing unknown values with the list of allowed ones."""
        kinds = tuple(k for k in (args.get("status") or "").split(",") if k)
        for kind in kinds:
            if kind not in KINDS:
                raise BadRequestError(
                    f"status {kind!r} is not a queue status; allowed: {', '.join(KINDS)}"
                )
        band = args.get("band") or None
        if band is not None and band not in BANDS:
            raise BadRequestError(f"band {band!r} is unknown; allowed: {', '.join(BANDS)}")
        query = (args.get("q") or "").strip().casefold() or None
        return cls(
            set=args.get("set") or None,
            concept_type=args.get("type") or None,
            ssyk=args.get("ssyk") or None,
            band=band,
            kinds=kinds,
            query=query,
        )

    def args(self) -> dict[str, str]:
        """Back to query parameters (for links that keep the view)."""
        out = {
            "set": self.set,
            "type": self.concept_type,
            "ssyk": self.ssyk,
            "band": self.band,
            "status": ",".join(self.kinds) or None,
            "q": self.query,
        }
        return {k: v for k, v in out.items() if v}

    def keep(self, item: Item) -> bool:
        if self.kinds and item.kind not in self.kinds:
            return False
        if self.set and item.set != self.set:
            return False
        if self.concept_type and item.concept_type != self.concept_type:
            return False
        if self.ssyk and not (item.ssyk or "").startswith(self.ssyk):
            return False
        if self.band:
            low, high = BANDS[self.band]
            if item.confidence is None or not low <= item.confidence < high:
                return False
        return not self.query or self.query in item.label.casefold()


@dataclass
class _Pairs:
    """What the sets already say about each pair and subject."""

    decided: set[tuple[str, str]] = field(default_factory=set)
    reviewed: set[tuple[str, str]] = field(default_factory=set)
    unsure: set[tuple[str, str]] = field(default_factory=set)
    no_term: set[str] = field(default_factory=set)
    mapped: set[str] = field(default_factory=set)


def item_key(kind: str, subject: str, target: str | None, set_name: str | None) -> str:
    """A short stable key: the same pair in the same set keeps its key across requests."""
    text = "\t".join((kind, subject, target or "", set_name or ""))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _iris(mset: MappingSet, row: Row) -> tuple[str, str] | None:
    prefixes = mset.prefixes()
    subject = iri_of(row.get("subject_id"), prefixes)
    target = iri_of(row.get("object_id"), prefixes)
    if subject is None or target is None:
        return None
    if target.startswith(JOBTECH_CONCEPT.iri) and not subject.startswith(JOBTECH_CONCEPT.iri):
        subject, target = target, subject  # an ESCO-first row: the queue is JobTech-first
    return subject, target


def _pairs(sets: Mapping[str, MappingSet]) -> _Pairs:
    pairs = _Pairs()
    for mset in sets.values():
        for row in mset.mappings:
            status = row_status(row)
            iris = _iris(mset, row)
            if iris is None or status == CANDIDATE:
                continue
            subject, target = iris
            if status == UNSURE:
                pairs.unsure.add((subject, target))  # shown once, as the unsure row
                continue
            pairs.mapped.add(subject)
            if target == NO_TERM and status != REJECTED:
                pairs.no_term.add(subject)
            pairs.decided.add((subject, target))
            if status in (REVIEWED, REJECTED):
                pairs.reviewed.add((subject, target))
    return pairs


class _Describe:
    """Type, SSYK group and label of a JobTech concept from the label index."""

    def __init__(self, index: LabelIndex) -> None:
        self.index = index

    def __call__(self, iri: str) -> tuple[str | None, str | None, str]:
        number = self.index.concept_number(iri)
        if number is None:
            return None, None, ""
        type_id = self.index.type_info(number, None)["id"]
        return type_id, self._ssyk(number, type_id), self.index.label(number, "sv")

    def _ssyk(self, number: int, type_id: str) -> str | None:
        if type_id.startswith("ssyk-level"):
            codes = self.index.notations(number)
            return str(codes[0]["value"]) if codes else None
        broader = int(self.index.concept_broader[number])
        if broader < 0:
            return None
        codes = self.index.notations(broader)
        return str(codes[0]["value"]) if codes else None

    def gone(self, iri: str) -> bool:
        """Deprecated in, or absent from, the served build."""
        number = self.index.concept_number(iri)
        return number is None or bool(self.index.concept_deprecated[number])


def _confidence(row: Row) -> float | None:
    try:
        return float(row.get("confidence"))
    except ValueError:
        return None


def _row_items(
    name: str,
    mset: MappingSet,
    pairs: _Pairs,
    describe: _Describe,
    rechecks: Collection[tuple[str, str]] = (),
) -> Iterable[Item]:
    for row in mset.mappings:
        iris = _iris(mset, row)
        if iris is None:
            continue
        subject, target = iris
        status = row_status(row)
        kind = _kind(status, subject, target, pairs, describe, row, rechecks)
        if kind is None:
            continue
        concept_type, ssyk, label = describe(subject)
        yield Item(
            key=item_key(kind, subject, target, name),
            kind=kind,
            subject=subject,
            object=target,
            set=name,
            row=row,
            confidence=_confidence(row),
            concept_type=concept_type,
            ssyk=ssyk,
            label=label or row.get("subject_label"),
        )


def _kind(
    status: str,
    subject: str,
    target: str,
    pairs: _Pairs,
    describe: _Describe,
    row: Row,
    rechecks: Collection[tuple[str, str]] = (),
) -> str | None:
    pair = (subject, target)
    if status == CANDIDATE:
        hidden = pair in pairs.decided or pair in pairs.unsure or subject in pairs.no_term
        return None if hidden else "candidate"
    if status == UNSURE:
        return None if pair in pairs.decided else "unsure"
    if status not in (CURATED, REVIEWED) or target == NO_TERM:
        return None
    if describe.gone(subject) or (target.startswith(ESCO_DATA.iri) and describe.gone(target)):
        return "recheck"
    if pair in rechecks:
        return "recheck"
    if status == CURATED and row.get("author_id") and pair not in pairs.reviewed:
        return "curated"  # a person's row in a workbench set, waiting for a second person
    return None


def build_queue(
    sets: Mapping[str, MappingSet],
    index: LabelIndex,
    unmapped: Sequence[str] = (),
    rechecks: Collection[tuple[str, str]] = (),
) -> list[Item]:
    """Every open item, ordered: kind, then confidence (highest first), then label.

    `sets` are the sets of the mappings directory by name; `unmapped` the JobTech concepts the
    served build has no mapping for (from the coverage), in the order to show them;
    `rechecks` the pairs whose concepts changed since their set's release.
    """
    pairs = _pairs(sets)
    describe = _Describe(index)
    items = [
        item
        for name, mset in sorted(sets.items())
        for item in _row_items(name, mset, pairs, describe, rechecks)
    ]
    queued = {item.subject for item in items}
    for subject in unmapped:
        if subject in queued or subject in pairs.mapped:
            continue
        concept_type, ssyk, label = describe(subject)
        items.append(
            Item(
                key=item_key("unmapped", subject, None, None),
                kind="unmapped",
                subject=subject,
                concept_type=concept_type,
                ssyk=ssyk,
                label=label,
            )
        )
    rank = {kind: i for i, kind in enumerate(KINDS)}
    items.sort(key=lambda i: (rank[i.kind], -(i.confidence or 0.0), i.label, i.key))
    return items


def others_for(items: Sequence[Item], item: Item) -> list[Item]:
    """The other open rows for the same JobTech concept (rival candidates), best first."""
    return [o for o in items if o.subject == item.subject and o.key != item.key and o.row]
