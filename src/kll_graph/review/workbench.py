"""The workbench: what the review views ask for, in one place, so that the HTML pages and the
JSON twin do exactly the same thing (no Flask here).

It ties the set files (:mod:`kll_graph.review.setfiles`), the decisions
(:mod:`kll_graph.review.decisions`) and the queue (:mod:`kll_graph.review.queue`) to the served
build: the label index says which concepts exist and of what type, the coverage which JobTech
concepts have no mapping at all. Parsed sets are kept until their file changes (by size, time
and inode), and the queue until a set or the build changes, so paging a queue of tens of
thousands of candidates costs a filter, not a parse.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from kll_graph.changes.recheck import pairs_to_recheck
from kll_graph.exceptions import BadRequestError, ConflictError, NotFoundError
from kll_graph.labels.index import LabelIndex
from kll_graph.labels.lookup import index_for
from kll_graph.mappings.sssom import Mapping, MappingSet, iri_of, split_curie
from kll_graph.mappings.status import CANDIDATE, CURATED, UNSURE, row_status
from kll_graph.namespaces import ESCO_DATA, JOBTECH_CONCEPT
from kll_graph.review.decisions import NO_TERM, Decision
from kll_graph.review.queue import Filters, Item, build_queue
from kll_graph.review.setfiles import SetFiles
from kll_graph.sparql.query import select_named
from kll_graph.store import ServedBuild

#: JobTech concept types the queue offers when nothing maps them yet (the matcher's types).
UNMAPPED_TYPES = ("occupation-name", "skill", "ssyk-level-4")


@dataclass(frozen=True)
class Page:
    """One view of the queue: the items kept by a filter, and the total before paging."""

    items: list[Item]
    total: int
    everything: list[Item]


class Workbench:
    """The review state of one mappings directory, as served by one process."""

    def __init__(self, files: SetFiles) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._sets: dict[str, tuple[tuple[int, int, int], MappingSet]] = {}
        self._queue: tuple[object, list[Item]] | None = None

    # --- sets --------------------------------------------------------------------------

    def _stat(self, name: str) -> tuple[int, int, int]:
        stat = self.files.path(name).stat()
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def sets(self) -> dict[str, MappingSet]:
        """Every set of the directory by name, parsed once per version of its file."""
        out: dict[str, MappingSet] = {}
        with self._lock:
            for name in self.files.names():
                try:
                    key = self._stat(name)
                except FileNotFoundError:
                    continue
                cached = self._sets.get(name)
                if cached is None or cached[0] != key:
                    mset, _etag = self.files.read(name)
                    cached = self._sets[name] = (key, mset)
                out[name] = cached[1]
            for gone in set(self._sets) - set(out):
                del self._sets[gone]
        return out

    # --- the queue -----------------------------------------------------------------------

    def queue(self, served: ServedBuild) -> list[Item]:
        """The whole open queue for the served build (kept until a file or the build changes)."""
        sets = self.sets()
        with self._lock:  # the file versions the sets were parsed from (size, time, inode)
            versions = tuple(
                (name, self._sets[name][0] if name in self._sets else None) for name in sorted(sets)
            )
        key = (served.build_id, versions)
        cached = self._queue
        if cached is not None and cached[0] == key:
            return cached[1]
        rechecks = pairs_to_recheck(served, sets.values())
        items = build_queue(sets, index_for(served), unmapped_concepts(served), rechecks)
        self._queue = (key, items)
        return items

    def page(self, served: ServedBuild, filters: Filters, offset: int, limit: int) -> Page:
        everything = self.queue(served)
        kept = [item for item in everything if filters.keep(item)]
        return Page(kept[offset : offset + limit], len(kept), everything)

    def candidate_row(self, subject: str, target: str) -> tuple[Mapping | None, dict[str, str]]:
        """The open row under review for a pair, from any set, with its set's prefixes: the
        tool's candidate with the highest confidence, else an unsure or curated row. Its
        evidence goes into the decided row."""
        best: tuple[tuple[int, float], Mapping, dict[str, str]] | None = None
        for mset in self.sets().values():
            prefixes = mset.prefixes()
            for row in mset.mappings:
                status = row_status(row)
                if status not in OPEN_STATUSES:
                    continue
                pair = (iri(row.get("subject_id"), prefixes), iri(row.get("object_id"), prefixes))
                if pair != (subject, target):
                    continue
                rank = (OPEN_STATUSES.index(status), _float(row.get("confidence")))
                if best is None or rank > best[0]:
                    best = (rank, row, prefixes)
        return (best[1], best[2]) if best else (None, {})

    def check_decision(self, served: ServedBuild, decision: Decision) -> None:
        """The decision's concepts exist in the served build (404 naming the one that does not)."""
        target = None if decision.decision == NO_TERM else decision.object_id
        check_pair(index_for(served), decision.subject_id, target)


#: Statuses a decision can review, least preferred first (a tool's candidate wins).
OPEN_STATUSES = (CURATED, UNSURE, CANDIDATE)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class BatchPlan:
    """What a batch would write: one decision per queue item kept by the filter."""

    keys: list[str]
    items: list[tuple[Decision, Mapping | None]]
    prefixes: dict[str, str]

    def preview_rows(self) -> list[dict[str, str]]:
        """What each decision would write, briefly, for the person to confirm."""
        return [
            {
                "subject_id": d.subject_id,
                "object_id": d.object_id,
                "predicate_id": d.predicate_id or (row.get("predicate_id") if row else ""),
                "decision": d.decision,
                "subject_label": row.get("subject_label") if row else "",
                "object_label": row.get("object_label") if row else "",
                "predicate_modifier": "Not" if d.decision == "reject" else "",
            }
            for d, row in self.items
        ]


#: Most rows one batch decision may write.
MAX_BATCH = 2000


def batch_decisions(
    bench: Workbench, served: ServedBuild, name: str, data: dict[str, Any]
) -> BatchPlan:
    """The decisions a batch request asks for: its filter over the queue's rows (unmapped
    concepts have no pair to decide), its decision and relation. When the request names the
    keys it previewed, the queue must still hold exactly those (409 otherwise), so what is
    applied is what was shown."""
    filters = Filters.parse({k: str(v) for k, v in dict(data.get("filters") or {}).items()})
    decision = str(data.get("decision") or "")
    predicate = data.get("predicate_id") or ""
    comment = data.get("comment") or ""
    items = [i for i in bench.queue(served) if filters.keep(i) and i.row is not None]
    if len(items) > MAX_BATCH:
        raise BadRequestError(
            f"the filter keeps {len(items):,} rows; a batch decides at most {MAX_BATCH:,}: "
            "narrow the filter (set, type, SSYK group, confidence band)"
        )
    keys = [i.key for i in items]
    wanted = data.get("keys")
    if wanted is not None and list(wanted) != keys:
        raise ConflictError(
            "the queue changed since the preview; preview again before applying",
            changes=[{"previewed": len(wanted), "now": len(keys)}],
        )
    plan: list[tuple[Decision, Mapping | None]] = []
    prefixes: dict[str, str] = {}
    for item in items:
        candidate, found = bench.candidate_row(item.subject, item.object or "")
        prefixes.update(found)
        plan.append(
            (
                Decision(
                    set=name,
                    subject_id=item.subject,
                    object_id=item.object or "",
                    predicate_id=predicate,
                    decision=decision,
                    comment=comment,
                ),
                candidate or item.row,
            )
        )
    return BatchPlan(keys, plan, prefixes)


def iri(value: str, prefixes: dict[str, str]) -> str:
    """A CURIE or IRI as a full IRI ("" when it cannot be expanded), for the views."""
    return iri_of(value, prefixes) or ""


def unmapped_concepts(served: ServedBuild) -> list[str]:
    """JobTech concepts of the matcher's types, not deprecated, with no SKOS mapping triple in
    any graph of the served build (one query and a pass over the label index, not the full
    coverage report, which takes seconds on the real data)."""

    def make() -> list[str]:
        mapped = {row[0].value for row in select_named(served, "review_mapped_concepts")}
        index = index_for(served)
        wanted = {index.type_by_id[t] for t in UNMAPPED_TYPES if t in index.type_by_id}
        return [
            uri
            for number, uri in enumerate(index.uris)
            if uri.startswith(JOBTECH_CONCEPT.iri)
            and int(index.concept_type[number]) in wanted
            and not index.concept_deprecated[number]
            and uri not in mapped
        ]

    return served.memo("review.unmapped", make)


def concept_iri(value: str | None, prefixes: dict[str, str], parameter: str) -> str:
    """A concept named by the client as a CURIE of the set's prefixes or as an IRI."""
    if not value:
        raise BadRequestError(f"{parameter} is required", parameter=parameter)
    if value.startswith(("http://", "https://")):
        return value
    parts = split_curie(value)
    known = {**prefixes, "jt": JOBTECH_CONCEPT.iri, "ESCO": ESCO_DATA.iri}
    if parts is None or parts[0] not in known:
        raise BadRequestError(
            f"{parameter} {value[:80]!r} is neither an IRI nor a CURIE of a known prefix "
            f"({', '.join(sorted(known))})",
            parameter=parameter,
        )
    return known[parts[0]] + parts[1]


def check_pair(index: LabelIndex, subject: str, target: str | None) -> None:
    """Both concepts exist in the served build, the subject in JobTech, the object in ESCO."""
    if not subject.startswith(JOBTECH_CONCEPT.iri) or index.concept_number(subject) is None:
        raise NotFoundError(f"subject {subject} is not a JobTech concept of the served build")
    if target is None:
        return
    if not target.startswith(ESCO_DATA.iri) or index.concept_number(target) is None:
        raise NotFoundError(f"object {target} is not an ESCO concept of the served build")
