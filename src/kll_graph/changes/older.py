"""Concepts of older releases, settled once every source is imported: the newest release that
holds a concept gives its label and is the one `kll:lastSeenIn` names.

Several sources may know a concept the current release lacks: the 2020 JobTech dump, and each
official mapping table (taxonomy v18, v21 ...). Each importer states what its release says in its
own graph, with `kll:lastSeenIn` that graph (:mod:`kll_graph.importers.older`). This step then,
for each such concept:

- ranks the graphs that hold it by the recency of their releases (:func:`ranking`);
- keeps, per language, the preferred label of the newest release that gives one; an older
  release's differing label becomes a `skos:hiddenLabel` in its own graph, so the concept is
  still found by it, and SKOS's one preferred label per language holds in any union of graphs;
- names the newest release in `kll:lastSeenIn`.

The default graph (the current releases, see :mod:`kll_graph.sparql.query`) must show each
such statement once, since the engine does not merge a triple that two of its graphs hold. The
label stays in one graph there: the oldest release that states that same label (where it was
first said, so `version=` on that release still shows it), else the newest graph there that holds
the concept, which is also where `kll:lastSeenIn` is stated. Each release the default graph
leaves out states both as well, so that a query naming it sees them. A concept only such
left-out releases hold is not in the default graph at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, Store

from kll_graph.namespaces import SKOS, kll


@dataclass(frozen=True)
class Ranking:
    """The graphs of a build's releases, newest release first, and those the default graph
    leaves out (releases that are not current)."""

    newest_first: tuple[str, ...]
    left_out: frozenset[str]

    def order(self, graphs: Iterable[NamedNode]) -> list[NamedNode]:
        """`graphs` newest first; a graph the ranking does not know ranks last."""
        rank = {g: i for i, g in enumerate(self.newest_first)}
        return sorted(graphs, key=lambda g: (rank.get(g.value, len(rank)), g.value))


def ranking(records: Sequence[Mapping[str, Any]]) -> Ranking:
    """The ranking of a build's releases (records of `build.json` `steps.releases`, in the order
    `kll-graph.toml` lists them).

    A release is as new as its `date`; one without a date counts as no older than any release
    listed before it (the configuration lists releases oldest first), and releases of equal date
    rank in listing order.
    """
    ranked: list[tuple[str, int, list[str]]] = []
    left_out: set[str] = set()
    carried = ""
    for position, record in enumerate(records):
        date = str(record.get("date") or "")
        carried = max(carried, date)
        graphs = [str(g) for g in record.get("graphs") or [record["graph"]]]
        ranked.append((date or carried, position, graphs))
        if not record.get("current", True):
            left_out.update(graphs)
    ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return Ranking(tuple(g for _, _, graphs in ranked for g in graphs), frozenset(left_out))


@dataclass
class Settled:
    """What settling changed, for the build summary."""

    concepts: int = 0
    #: concepts whose newest label is not the one of every release that held them
    relabelled: int = 0
    #: older labels kept as hidden labels
    hidden: int = 0
    #: concepts whose `kll:lastSeenIn` moved to a newer release than one graph said
    moved: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def _held(store: Store, last_seen: NamedNode) -> dict[NamedNode, set[NamedNode]]:
    """Each concept marked `kll:lastSeenIn` -> the graphs that mark it."""
    held: dict[NamedNode, set[NamedNode]] = defaultdict(set)
    for quad in store.quads_for_pattern(None, last_seen, None):
        if isinstance(quad.subject, NamedNode) and isinstance(quad.graph_name, NamedNode):
            held[quad.subject].add(quad.graph_name)
    return held


class _Concept:
    """One concept being settled: the graphs that hold it, newest first, and which of them the
    default graph shows."""

    def __init__(
        self, store: Store, node: NamedNode, graphs: list[NamedNode], left_out: frozenset[str]
    ):
        self.store, self.node, self.graphs = store, node, graphs
        self.hidden = [g for g in graphs if g.value in left_out]
        shown = [g for g in graphs if g.value not in left_out]
        #: the one graph of the default graph that keeps a settled statement
        self.home = shown[0] if shown else None

    def put(
        self, predicate: NamedNode, value: Literal | NamedNode, home: NamedNode | None = None
    ) -> None:
        """State (concept, predicate, value) once in the default graph (in `home`, else the
        concept's home) and in every left-out release that holds the concept."""
        for graph in [home or self.home, *self.hidden]:
            if graph is not None:
                self.store.add(Quad(self.node, predicate, value, graph))

    def drop(self, quads: Iterable[Quad]) -> None:
        for quad in list(quads):
            self.store.remove(quad)

    def labels(self) -> dict[str, list[Quad]]:
        """Its preferred labels per language tag, newest graph first."""
        found: dict[str, list[Quad]] = defaultdict(list)
        for graph in self.graphs:
            for quad in self.store.quads_for_pattern(self.node, SKOS.prefLabel, None, graph):
                assert isinstance(quad.object, Literal)
                found[quad.object.language or ""].append(quad)
        return found


def _settle_labels(concept: _Concept) -> int:
    """One preferred label per language, the newest release's; each older differing one becomes
    a hidden label where it was (once in the default graph). Returns how many were demoted."""
    demoted = 0
    for quads in concept.labels().values():
        newest = quads[0].object
        assert isinstance(newest, Literal)
        stating = [q.graph_name for q in quads if q.object == newest]
        shown = [g for g in stating if isinstance(g, NamedNode) and g not in concept.hidden]
        concept.drop(quads)
        # in the default graph: the oldest release that states the newest label (where it was
        # first said, so `version=` on that release still shows it), else the concept's home
        concept.put(SKOS.prefLabel, newest, shown[-1] if shown else None)
        older: dict[Literal, list[NamedNode]] = defaultdict(list)
        for quad in quads:
            label, graph = quad.object, quad.graph_name
            if label != newest and isinstance(label, Literal) and isinstance(graph, NamedNode):
                older[label].append(graph)
        for label, graphs in older.items():
            visible = [g for g in graphs if g not in concept.hidden][:1]
            for graph in visible + [g for g in graphs if g in concept.hidden]:
                concept.store.add(Quad(concept.node, SKOS.hiddenLabel, label, graph))
        demoted += len(older)
    return demoted


def _settle_last_seen(concept: _Concept, last_seen: NamedNode) -> bool:
    """`kll:lastSeenIn` the newest graph, once in the default graph; True if a graph said
    otherwise before."""
    newest = concept.graphs[0]
    marks = list(concept.store.quads_for_pattern(concept.node, last_seen, None))
    moved = any(q.object != newest for q in marks)
    concept.drop(marks)
    concept.put(last_seen, newest)
    return moved


def settle_older_concepts(store: Store, base_iri: str, ranked: Ranking) -> Settled:
    """Settle every concept of older releases in `store` (see the module)."""
    last_seen = kll(base_iri).lastSeenIn
    settled = Settled()
    for node, marked in sorted(_held(store, last_seen).items(), key=lambda kv: kv[0].value):
        concept = _Concept(store, node, ranked.order(marked), ranked.left_out)
        settled.concepts += 1
        demoted = _settle_labels(concept)
        settled.hidden += demoted
        settled.relabelled += demoted > 0
        settled.moved += _settle_last_seen(concept, last_seen)
    return settled
