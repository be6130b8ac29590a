"""The releases a build holds: recorded in `build.json` (`steps.releases`, read by
:func:`kll_graph.changes.releases.releases`) and described in the catalog graph with DCAT 3.

Several `[[sources]]` entries with one id are releases of one source, each in its own named graph.
The catalog gives each such source a dataset series (`dcat:DatasetSeries`) listing every graph of
its releases (`dcat:hasVersion`) and those of the current one (`dcat:hasCurrentVersion`); the
SPARQL layer reads that to leave the other releases out of the default graph
(:func:`kll_graph.sparql.query.default_dataset`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from kll_graph.build.catalog import GraphEntry
from kll_graph.build.context import SourceResult
from kll_graph.namespaces import DCAT, DCT, RDF, catalog_iri, minted
from kll_graph.settings import SourceConfig


def _checksum(entries: Sequence[GraphEntry]) -> str | None:
    """SHA-256 over the (name, SHA-256) of every file a release was read from."""
    files = sorted({(f.relative, f.sha256) for e in entries for f in e.files})
    if not files:
        return None
    digest = hashlib.sha256()
    for name, sha in files:
        digest.update(f"{name}\t{sha}\n".encode())
    return digest.hexdigest()


def release_records(
    results: Sequence[SourceResult], entries: Sequence[GraphEntry]
) -> list[dict[str, Any]]:
    """One record per release (configured, built-in and derived sources), in build order."""
    records = []
    for result in results:
        source = result.source
        mine = [e for e in entries if (e.source_id, e.version) == (source.id, source.version)]
        graphs = [e.iri for e in mine] or [result.graphs[0].iri.value]
        records.append(
            {
                "source": source.id,
                "version": source.version,
                "graph": graphs[0],
                "graphs": graphs,
                "current": source.current,
                "date": source.date or None,
                "checksum": _checksum(mine),
                "lacks": list(result.lacks),
            }
        )
    return records


def source_key(source: SourceConfig) -> str:
    """The key of a source's record under `sources` in build.json: its id for the current
    release, `id@version` for the others (so releases of one source do not overwrite)."""
    return source.id if source.current else f"{source.id}@{source.version}"


def manifest_key(result: SourceResult) -> str:
    """:func:`source_key` of an imported source."""
    return source_key(result.source)


def series_iri(base_iri: str, source_id: str) -> NamedNode:
    """The dataset series of a source with several releases."""
    return minted(base_iri, "release", source_id)


def release_quads(base_iri: str, records: Sequence[dict[str, Any]]) -> Iterator[Quad]:
    """DCAT 3 version statements for every source with several releases, in the catalog."""
    g = catalog_iri(base_iri)
    by_source: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_source.setdefault(record["source"], []).append(record)
    for source_id, found in by_source.items():
        if len(found) < 2:
            continue
        series = series_iri(base_iri, source_id)
        yield Quad(series, RDF.type, DCAT.DatasetSeries, g)
        yield Quad(series, DCT.identifier, Literal(source_id), g)
        previous: NamedNode | None = None
        for record in found:
            main = NamedNode(record["graph"])
            yield Quad(main, DCAT.inSeries, series, g)
            for graph in record["graphs"]:
                yield Quad(series, DCAT.hasVersion, NamedNode(graph), g)
                if record["current"]:
                    yield Quad(series, DCAT.hasCurrentVersion, NamedNode(graph), g)
            if record["date"]:
                yield Quad(main, DCT.issued, Literal(record["date"]), g)
            if previous is not None:
                yield Quad(main, DCAT.previousVersion, previous, g)
            previous = main
