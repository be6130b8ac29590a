"""The releases and the change log of a served build, read once per build, and what the web
surfaces ask of them: a source's releases (404 listing the known ones), a release pair's changes
(paged, filtered by kind), a concept's history and the date it last changed.

No HTTP here; :mod:`kll_graph.web.changes` adapts these to the API, the feed and the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from kll_graph.changes.log import (
    ChangeLog,
    ConceptChange,
    MappingChange,
    ReleasePair,
)
from kll_graph.changes.releases import Release, releases
from kll_graph.changes.report import find_pair, select
from kll_graph.changes.versions import concept_graphs
from kll_graph.exceptions import NotFoundError
from kll_graph.store import ServedBuild


def served_releases(served: ServedBuild) -> list[Release]:
    """Every release of the served build (from its manifest), once per build."""
    return served.memo("changes.releases", lambda: releases(served.manifest))


def served_log(served: ServedBuild) -> ChangeLog:
    """The change log the build computed (empty when it computed none), once per build."""
    return served.memo("changes.log", lambda: ChangeLog.load(served.path))


def sources(served: ServedBuild) -> dict[str, list[Release]]:
    """Releases by source, in manifest order."""
    out: dict[str, list[Release]] = {}
    for release in served_releases(served):
        out.setdefault(release.source, []).append(release)
    return out


def source_releases(served: ServedBuild, source: str) -> list[Release]:
    """A source's releases (NotFoundError listing the sources there are)."""
    known = sources(served)
    if source not in known:
        raise NotFoundError(
            f"no source {source[:80]!r}; the sources are: {', '.join(sorted(known)) or 'none'}"
        )
    return known[source]


def release(served: ServedBuild, source: str, version: str) -> Release:
    """One release (NotFoundError listing the source's versions)."""
    found = source_releases(served, source)
    for item in found:
        if item.version == version:
            return item
    raise NotFoundError(
        f"source {source!r} has no release {version[:80]!r}; its releases are: "
        + ", ".join(r.version for r in found)
    )


def pairs(served: ServedBuild, source: str | None = None) -> list[ReleasePair]:
    """The release pairs the log compared (of one source when given, which must exist)."""
    if source is not None:
        source_releases(served, source)
    return [p for p in served_log(served).pairs() if source is None or p.source == source]


def pair(
    served: ServedBuild, source: str, from_version: str | None, to_version: str | None
) -> ReleasePair:
    """The compared pair asked for; without versions, the source's newest. Unknown source or
    version, or a pair not compared: NotFoundError listing what there is."""
    return find_pair(served_releases(served), served_log(served), source, from_version, to_version)


def changes(
    served: ServedBuild, found: ReleasePair, kind: str | None
) -> tuple[list[ConceptChange], list[MappingChange]]:
    """The concept and mapping changes of a pair, of one kind when given."""
    return select(served_log(served), found, kind)


def change_page(
    served: ServedBuild,
    found: ReleasePair,
    kind: str | None,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    """A page of a pair's changes, concepts first, then mappings, each item saying which."""
    concept_changes, mapping_changes = changes(served, found, kind)
    items: list[dict[str, Any]] = [{"about": "concept", **asdict(c)} for c in concept_changes]
    items += [{"about": "mapping", **asdict(m)} for m in mapping_changes]
    return {
        "source": found.source,
        "from": found.from_version,
        "to": found.to_version,
        "kind": kind,
        "counts": dict(found.counts),
        "not_compared": list(found.not_compared),
        "computed": found.computed,
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "items": items[offset : offset + limit],
    }


def history(served: ServedBuild, uri: str) -> list[ConceptChange]:
    """A concept's changes over every compared pair, oldest first."""
    return list(served_log(served).history(uri))


def release_time(item: Release) -> datetime | None:
    """A release's date as a time in UTC (midnight for a bare date), None when unknown."""
    if not item.date:
        return None
    try:
        when = datetime.fromisoformat(item.date)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def last_changed(served: ServedBuild, uri: str) -> datetime | None:
    """When a concept's description last changed, as the releases tell: the date of the release
    that brought its newest change, else of the oldest release holding it (None when unknown,
    e.g. the release of its newest change has no date)."""
    by_key = {(r.source, r.version): r for r in served_releases(served)}
    changes = history(served, uri)
    if changes:  # the newest change's release; undated, nothing can be said
        brought = by_key.get((changes[-1].source, changes[-1].to_version))
        return release_time(brought) if brought is not None else None
    by_graph = {g: r for r in served_releases(served) for g in (r.graphs or (r.graph,))}
    dates = [
        when
        for graph in concept_graphs(served, uri)
        if (held := by_graph.get(graph.iri)) is not None and (when := release_time(held))
    ]
    return min(dates) if dates else None


def release_json(item: Release) -> dict[str, Any]:
    return asdict(item)


def releases_json(served: ServedBuild) -> list[dict[str, Any]]:
    """Every source with its releases, the current one named."""
    out = []
    for source, found in sorted(sources(served).items()):
        current: Sequence[Release] = [r for r in found if r.current]
        out.append(
            {
                "source": source,
                "current": current[0].version if current else None,
                "releases": [release_json(r) for r in found],
                "compared": [
                    {"from": p.from_version, "to": p.to_version, "counts": dict(p.counts)}
                    for p in pairs(served, source)
                ],
            }
        )
    return out
