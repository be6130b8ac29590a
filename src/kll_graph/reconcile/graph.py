"""What reconciliation reads of a build besides the label index, as tables made once per build
(kept with it by `served.memo`): every concept's broader concepts, every SKOS mapping, and ESCO
UUIDs. Property matching climbs the hierarchy ("broader", "occupation_field", an SSYK code of
the group above) and follows mappings ("esco" on a JobTech concept) many times per batch, so a
SPARQL query per candidate would cost more than the whole label lookup.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kll_graph.labels.index import LabelIndex
from kll_graph.labels.lookup import index_for
from kll_graph.sparql.query import select_named
from kll_graph.store import ServedBuild

#: An ESCO UUID, the last segment of ESCO's concept URIs.
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: How far up the hierarchy property matching looks.
MAX_ANCESTRY = 6


@dataclass(frozen=True, eq=False)
class GraphTables:
    """Broader concepts and mappings by concept number, and ESCO UUIDs to concept numbers."""

    broader: dict[int, tuple[int, ...]]
    mappings: dict[int, tuple[tuple[str, int], ...]]
    uuids: dict[str, int]

    def ancestors(self, concept: int) -> list[int]:
        """Every concept above `concept` (nearest first), at most MAX_ANCESTRY levels up."""
        seen: dict[int, None] = {}
        level = [concept]
        for _ in range(MAX_ANCESTRY):
            level = [b for c in level for b in self.broader.get(c, ()) if b not in seen]
            if not level:
                break
            seen.update(dict.fromkeys(level))
        seen.pop(concept, None)
        return list(seen)


def tables_for(served: ServedBuild) -> GraphTables:
    """The tables of a served build, made on first use."""
    return served.memo("reconcile.graph", lambda: build_tables(served, index_for(served)))


def build_tables(served: ServedBuild, index: LabelIndex) -> GraphTables:
    position = index.position
    broader: dict[int, set[int]] = defaultdict(set)
    for row in select_named(served, "concept_ancestry"):
        c, b = position.get(row["c"].value), position.get(row["b"].value)
        if c is not None and b is not None and c != b:
            broader[c].add(b)
    mappings: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for row in select_named(served, "reconcile_matches"):
        c, other = position.get(row["c"].value), position.get(row["other"].value)
        if c is not None and other is not None:
            predicate = row["p"].value.rsplit("#", 1)[-1]
            mappings[c].add((predicate, other))
            mappings[other].add((predicate, c))
    uuids = {}
    for number, uri in enumerate(index.uris):
        tail = uri.rsplit("/", 1)[-1]
        if "europa.eu/esco" in uri and UUID.match(tail):
            uuids[tail] = number
    return GraphTables(
        {c: tuple(sorted(b)) for c, b in broader.items()},
        {c: tuple(sorted(m)) for c, m in mappings.items()},
        uuids,
    )
