"""Mappings follow their concepts: which mappings need a person to look at them again.

A mapping set names the releases it was made against (SSSOM `subject_source_version`,
`object_source_version`). When one of its concepts was deprecated, removed, relabelled or moved
since that release, the mapping may no longer say what its author meant, so it is listed here:
for `kll-graph mappings recheck`, the mapping-set pages and the review queue's re-check kind.

Two kinds of evidence, per side of a mapping:

- the change log (:mod:`kll_graph.changes.log`), when the releases it compares lead from the
  release the set names to the current one of that concept's source: every change of the
  concept of a kind that matters (:data:`KINDS`) along that way;
- otherwise what the set itself records, read against the current release: a concept the
  current release lacks (absent, or known only from an older release) is `removed`; one it marks
  deprecated is `deprecated`; a label the set recorded for it (the official tables carry the
  labels of both sides at their release) that is none of its current labels is `relabelled`.
  A move cannot be seen this way (the set records no broader concept), so it is only reported
  from the change log.

Where the log covers the way, a concept the current release lacks or marks deprecated is still
listed on the set's own record when the log names no such change (a table may name a concept
its release never had).

No HTTP, no files: the callers pass the sets, the current state of the concepts and the log.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from pyoxigraph import Literal, NamedNode

from kll_graph.changes.served import served_log, served_releases
from kll_graph.changes.versions import mapping_graphs
from kll_graph.labels.lookup import index_for
from kll_graph.mappings.rdf import read_set
from kll_graph.mappings.sssom import MappingSet, iri_of
from kll_graph.mappings.status import ASSERTED, row_status
from kll_graph.namespaces import SKOS, SSSOM
from kll_graph.sparql.query import select_named
from kll_graph.store import ServedBuild

#: The changes of a concept that put its mappings up for re-check.
KINDS = ("deprecated", "removed", "relabelled", "moved")
NO_TERM = SSSOM.NoTermFound.value
#: Which side of a mapping a concept is on, and the set slots naming its release.
SIDES = (("subject", "subject_id", "subject_label", "subject_source_version"),
         ("object", "object_id", "object_label", "object_source_version"))  # fmt: skip


@dataclass(frozen=True)
class ConceptState:
    """What the current release says of one concept."""

    present: bool
    deprecated: bool
    #: Its current preferred labels (every language).
    labels: frozenset[str]
    #: The source whose releases hold it (None when unknown).
    source: str | None = None


class ReleaseLike(Protocol):
    """The fields of :class:`kll_graph.changes.releases.Release` this module reads."""

    @property
    def source(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def graph(self) -> str: ...
    @property
    def graphs(self) -> tuple[str, ...]: ...
    @property
    def current(self) -> bool: ...


class ChangeLike(Protocol):
    """The fields of :class:`kll_graph.changes.log.ConceptChange` this module reads."""

    @property
    def source(self) -> str: ...
    @property
    def from_version(self) -> str: ...
    @property
    def to_version(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def before(self) -> str | None: ...
    @property
    def after(self) -> str | None: ...


class LogLike(Protocol):
    """The method of :class:`kll_graph.changes.log.ChangeLog` this module reads."""

    def history(self, concept_iri: str) -> Sequence[ChangeLike]: ...


@dataclass(frozen=True)
class Recheck:
    """One reason to look at one mapping again."""

    set: str
    subject: str
    predicate: str
    object: str
    #: The side whose concept changed: `subject` or `object`.
    side: str
    concept: str
    kind: str
    #: The release the set names for that side ("" when it names none).
    since: str
    before: str | None
    after: str | None
    #: `change log <source> <from> → <to>` or `the set's own record`.
    evidence: str

    def json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.subject, self.object)


def version_key(text: str) -> str:
    """A release name reduced to what tells releases apart: `v1.1.1`, `1.1.1` and `ESCO 1.1.1`
    are one release; `18` and `v18` too.

    >>> version_key("v1.1.1") == version_key("ESCO 1.1.1") == version_key("1.1.1")
    True
    >>> version_key("taxonomy-v18")
    '18'
    """
    numbers = re.findall(r"\d+(?:\.\d+)*", text)
    return numbers[-1] if numbers else text.strip().casefold()


def _fold(label: str) -> str:
    return " ".join(label.split()).casefold()


def _chain(releases: Sequence[ReleaseLike], source: str, since: str) -> list[str] | None:
    """The versions of `source` from the one `since` names to the current one, in release
    order (the order of `releases`), or None when `since` names none of them."""
    versions = [r.version for r in releases if r.source == source]
    current = [r.version for r in releases if r.source == source and r.current]
    start = [i for i, v in enumerate(versions) if version_key(v) == version_key(since)]
    if not start or not current:
        return None
    end = versions.index(current[0])
    if start[0] > end:
        return None
    return versions[start[0] : end + 1]


def _from_log(
    log: LogLike, concept: str, source: str, chain: list[str]
) -> list[tuple[str, str | None, str | None, str]]:
    steps = set(itertools.pairwise(chain))
    found = []
    for change in log.history(concept):
        if change.source != source or change.kind not in KINDS:
            continue
        if (change.from_version, change.to_version) not in steps:
            continue
        evidence = f"change log {source} {change.from_version} → {change.to_version}"
        found.append((change.kind, change.before, change.after, evidence))
    return found


def _from_set(state: ConceptState, recorded: str) -> list[tuple[str, str | None, str | None, str]]:
    evidence = "the set's own record"
    if not state.present:
        return [("removed", recorded or None, None, evidence)]
    found: list[tuple[str, str | None, str | None, str]] = []
    if state.deprecated:
        found.append(("deprecated", None, None, evidence))
    if recorded and state.labels and _fold(recorded) not in {_fold(x) for x in state.labels}:
        current = sorted(state.labels, key=str.casefold)
        found.append(("relabelled", recorded, " | ".join(current[:3]), evidence))
    return found


def recheck(
    sets: Iterable[MappingSet],
    state: Callable[[str], ConceptState],
    releases: Sequence[ReleaseLike] = (),
    log: LogLike | None = None,
) -> list[Recheck]:
    """Every mapping of `sets` with a concept that changed since the release its set names.

    `state(iri)` says what the current release holds of a concept; `releases` (in release order
    per source) and `log` let the change log speak where it covers the set's release. Only rows a
    person stands behind (curated, reviewed) are read: candidates, rejected, negated and "no
    match found" rows state no mapping to re-check.
    """
    out: list[Recheck] = []
    for mset in sets:
        prefixes = mset.prefixes()
        for row in mset.mappings:
            if row_status(row) not in ASSERTED or row.negated:
                continue
            subject = iri_of(row.get("subject_id"), prefixes)
            target = iri_of(row.get("object_id"), prefixes)
            if subject is None or target is None or NO_TERM in (subject, target):
                continue
            for side, id_slot, label_slot, version_slot in SIDES:
                concept = subject if id_slot == "subject_id" else target
                since = str(mset.value(row, version_slot) or mset.metadata.get(version_slot, ""))
                now = state(concept)
                chain = _chain(releases, now.source, since) if now.source and since else None
                if log is not None and chain is not None and now.source is not None:
                    reasons = _from_log(log, concept, now.source, chain)
                    logged = {kind for kind, *_rest in reasons}
                    reasons += [  # gone or deprecated now, whatever the log compared
                        r for r in _from_set(now, "") if r[0] not in logged
                    ]
                else:
                    reasons = _from_set(now, row.get(label_slot))
                out += [
                    Recheck(
                        set=mset.name,
                        subject=subject,
                        predicate=row.get("predicate_id"),
                        object=target,
                        side=side,
                        concept=concept,
                        kind=kind,
                        since=since,
                        before=before,
                        after=after,
                        evidence=evidence,
                    )
                    for kind, before, after, evidence in reasons
                ]
    out.sort(key=lambda r: (r.set, r.subject, r.object, r.predicate, r.side, r.kind))
    return out


def counts(found: Iterable[Recheck]) -> dict[str, int]:
    """Mappings to re-check per kind (a mapping counted once per kind)."""
    seen: dict[str, set[tuple[str, str, str]]] = {}
    for item in found:
        seen.setdefault(item.kind, set()).add((item.set, item.subject, item.object))
    return {kind: len(seen[kind]) for kind in KINDS if kind in seen}


def as_text(found: Sequence[Recheck]) -> str:
    """The list for a terminal: a summary line, then one line per reason."""
    if not found:
        return "no mapping needs re-checking"
    summary = ", ".join(f"{kind} {n}" for kind, n in counts(found).items())
    lines = [f"{len({(r.set, r.pair) for r in found})} mappings to re-check ({summary})"]
    for r in found:
        change = f"{r.before!r} → {r.after!r}" if r.kind == "relabelled" else r.kind
        lines.append(
            f"{r.set}\t{r.subject} {r.predicate} {r.object}\t{r.side} {r.concept}: {change} "
            f"since {r.since or '?'} ({r.evidence})"
        )
    return "\n".join(lines)


# --- against a served build -------------------------------------------------------------------

_LABELS = (SKOS.prefLabel,)


class BuildState:
    """:class:`ConceptState` of concepts in a served build: present and deprecated from the label
    index (a concept only an older release holds is not present), labels from the current
    releases' graphs, the source from the graph that holds the concept."""

    def __init__(self, served: ServedBuild, graphs: dict[str, str]) -> None:
        """`graphs`: the current vocabulary graphs (not mapping sets), graph IRI → source."""
        self.served = served
        self.index = index_for(served)
        self.graphs = {NamedNode(g): source for g, source in graphs.items()}
        self._known: dict[str, ConceptState] = {}
        self._all: dict[str, tuple[frozenset[str], str]] | None = None

    def __call__(self, iri: str) -> ConceptState:
        known = self._known.get(iri)
        if known is None:
            known = self._known[iri] = self._state(iri)
        return known

    def _state(self, iri: str) -> ConceptState:
        number = self.index.concept_number(iri)
        present = number is not None and not bool(self.index.concept_not_current[number])
        deprecated = number is not None and bool(self.index.concept_deprecated[number])
        labels, source = self._labels().get(iri, (frozenset(), None))
        return ConceptState(present, deprecated, labels, source)

    def _labels(self) -> dict[str, tuple[frozenset[str], str]]:
        """Every concept's current labels and source, in one scan per graph and predicate
        (one lookup per concept and graph was ten times slower for the real sets)."""
        if self._all is None:
            found: dict[str, tuple[set[str], str]] = {}
            for graph, source in self.graphs.items():
                for predicate in _LABELS:
                    for quad in self.served.store.quads_for_pattern(None, predicate, None, graph):
                        if isinstance(quad.object, Literal) and isinstance(quad.subject, NamedNode):
                            entry = found.setdefault(quad.subject.value, (set(), source))
                            entry[0].add(quad.object.value)
            self._all = {iri: (frozenset(labels), src) for iri, (labels, src) in found.items()}
        return self._all


def served_sets(
    served: ServedBuild, releases: Sequence[ReleaseLike] = (), only: str | None = None
) -> list[MappingSet]:
    """The mapping sets of a served build (the one whose IRI is `only`, when given), read back
    from its graphs with the labels and releases their rows and metadata recorded."""
    found = select_named(served, "mapping_sets")
    by_set: dict[str, set[str]] = {}
    for row in found:
        by_set.setdefault(row["set"].value, set()).add(row["graph"].value)
    chosen = sorted(by_set) if only is None else [only] if only in by_set else []
    return [_served_set(served, iri, by_set[iri], releases) for iri in chosen]


def _served_set(
    served: ServedBuild, iri: str, graphs: set[str], releases: Sequence[ReleaseLike]
) -> MappingSet:
    """One set, with the releases it names settled: when several releases of a table share the
    set's IRI, the catalog holds each one's `subject_source_version` and `object_source_version`;
    the one kept is the one the current release's version names (`taxonomy-v18-esco-v1.1.1`
    names 18 and 1.1.1)."""
    mset = read_set(served.store, iri, served.manifest.base_iri)
    current = [r.version for r in releases if r.current and set(_graphs(r)) & graphs]
    named = set(re.findall(r"\d+(?:\.\d+)*", " ".join(current)))
    for _side, _id, _label, slot in SIDES:
        values = {
            q.object.value
            for q in served.store.quads_for_pattern(NamedNode(iri), SSSOM[slot], None, None)
            if isinstance(q.object, Literal)
        }
        if len(values) > 1:
            fitting = sorted(v for v in values if version_key(v) in named)
            mset.metadata[slot] = fitting[0] if len(fitting) == 1 else ""
    return mset


def _graphs(release: ReleaseLike) -> tuple[str, ...]:
    return release.graphs or (release.graph,)


def build_state(served: ServedBuild, releases: Sequence[ReleaseLike] = ()) -> BuildState:
    """The current state of the concepts of a served build. Without `releases`, every graph of
    the build counts as its source's current release."""
    skipped = mapping_graphs(served)
    if releases:
        current = {g: r.source for r in releases if r.current for g in _graphs(r)}
    else:
        current = {g.iri: g.source for g in served.manifest.graphs}
    graphs = {g: source for g, source in current.items() if g not in skipped}
    return BuildState(served, graphs)


def for_build(
    served: ServedBuild, releases: Sequence[ReleaseLike] = (), log: LogLike | None = None
) -> list[Recheck]:
    """The mappings of a served build's own sets to re-check."""
    return recheck(served_sets(served, releases), build_state(served, releases), releases, log)


def served_recheck(served: ServedBuild) -> list[Recheck]:
    """The re-check list of a served build, made once per build."""
    return served.memo(
        "changes.recheck",
        lambda: for_build(served, served_releases(served), served_log(served)),
    )


def _state(served: ServedBuild) -> BuildState:
    return served.memo(
        "changes.recheck-state", lambda: build_state(served, served_releases(served))
    )


def set_rechecks(served: ServedBuild, set_iri: str) -> list[Recheck]:
    """The mappings of one set of a served build to re-check (for its page), made once per
    build; from the whole list when that was made already."""
    return served.memo(
        f"changes.recheck-set {set_iri}",
        lambda: recheck(
            served_sets(served, served_releases(served), only=set_iri),
            _state(served),
            served_releases(served),
            served_log(served),
        ),
    )


def pairs_to_recheck(served: ServedBuild, sets: Iterable[MappingSet]) -> set[tuple[str, str]]:
    """The (subject, object) pairs of `sets` (the workbench's files) to re-check against a
    served build, both ways round (the review queue puts the JobTech concept first)."""
    found = recheck(sets, _state(served), served_releases(served), served_log(served))
    return {r.pair for r in found} | {(r.object, r.subject) for r in found}
