"""The releases of a build: each `[[sources]]` entry (a source at one version) and the graphs it
filled, which one of a source's releases is current, its date, size and checksum.

The build records them in `build.json` (`steps.releases`, see
the build pipeline), so the web surfaces and the change log name
releases the same way without reading the catalog graph. A manifest of a build made before that
record existed still yields releases: one per source and version among its graphs, the only (or
last listed) release of a source being current.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kll_graph.store import Manifest

#: The key under `steps` in build.json where the build records its releases.
RELEASES_STEP = "releases"


@dataclass(frozen=True)
class Release:
    """One release of one source in a build."""

    source: str
    version: str
    #: The release's main named graph (today's scheme: `<base>graph/<source>/<version>`).
    graph: str
    #: The release the SPARQL default graph, the API and the pages show for its source.
    current: bool
    #: The release's publication date (ISO 8601) when the configuration gives it.
    date: str | None
    #: Triples in the release's graphs.
    triples: int
    #: SHA-256 over the checksums of the files it was read from (None for a derived source).
    checksum: str | None
    #: What the release's package lacks that other releases of the source have (e.g. `skills`).
    lacks: tuple[str, ...] = ()
    #: Every graph the release filled (the main one first).
    graphs: tuple[str, ...] = ()


def _from_record(item: Mapping[str, Any], triples: Mapping[str, int]) -> Release:
    graphs = tuple(str(g) for g in item.get("graphs") or [item["graph"]])
    return Release(
        source=str(item["source"]),
        version=str(item["version"]),
        graph=str(item["graph"]),
        current=bool(item.get("current", True)),
        date=str(item["date"]) if item.get("date") else None,
        triples=sum(triples.get(g, 0) for g in graphs),
        checksum=str(item["checksum"]) if item.get("checksum") else None,
        lacks=tuple(str(x) for x in item.get("lacks") or ()),
        graphs=graphs,
    )


def _from_graphs(manifest: Manifest) -> list[Release]:
    """Releases of an older manifest: one per (source, version) among its graphs."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for graph in manifest.graphs:
        grouped.setdefault((graph.source, graph.version), []).append(graph.iri)
    last = {source: version for source, version in grouped}
    triples = {g.iri: g.triples for g in manifest.graphs}
    return [
        Release(
            source=source,
            version=version,
            graph=graphs[0],
            current=last[source] == version,
            date=None,
            triples=sum(triples.get(g, 0) for g in graphs),
            checksum=None,
            graphs=tuple(graphs),
        )
        for (source, version), graphs in grouped.items()
    ]


def releases(manifest: Manifest) -> list[Release]:
    """Every release of a build, sources in configuration order and each source's releases
    oldest first (the order `kll-graph.toml` lists them)."""
    recorded = manifest.steps.get(RELEASES_STEP)
    if not isinstance(recorded, list):
        return _from_graphs(manifest)
    triples = {g.iri: g.triples for g in manifest.graphs}
    return [_from_record(item, triples) for item in recorded if isinstance(item, dict)]


def current_graphs(manifest: Manifest) -> set[str]:
    """The graphs of the current releases (and of the sources with one release)."""
    return {g for r in releases(manifest) if r.current for g in r.graphs}


def non_current_graphs(manifest: Manifest) -> set[str]:
    """The graphs of releases that are not current: left out of the default graph."""
    return {g for r in releases(manifest) if not r.current for g in r.graphs}
