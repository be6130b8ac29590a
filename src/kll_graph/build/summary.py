"""Plain-text reports for the terminal: the build summary and the graph list."""

from __future__ import annotations

from kll_graph.sparql.query import select_named
from kll_graph.store import Manifest, ServedBuild


def build_summary(manifest: Manifest) -> str:
    """The lines a build ends with: graphs, triples, seconds, and what each source reported."""
    lines = [
        f"build {manifest.build_id}: {len(manifest.graphs)} graphs, "
        f"{manifest.triples:,} triples in {manifest.seconds:.1f} s"
    ]
    if manifest.sample:
        lines.append("NOTE: built from the bundled SAMPLE, not the real data")
    for graph in manifest.graphs:
        lines.append(f"  {graph.triples:>10,}  {graph.iri}")
    for source_id, info in manifest.sources.items():
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(info.counts.items()))
        lines.append(f"{source_id} ({info.seconds:.1f} s){': ' + counts if counts else ''}")
        lines.extend(f"  note: {note}" for note in info.notes)
        lines.extend(f"  warning: {warning}" for warning in info.warnings)
    if manifest.skipped_sources:
        lines.append("skipped (not present): " + ", ".join(manifest.skipped_sources))
    lines.extend(f"warning: {warning}" for warning in manifest.warnings)
    return "\n".join(lines)


def graphs_table(served: ServedBuild) -> str:
    """The graphs the catalog lists, one line each."""
    lines = [f"build {served.build_id} ({served.path})"]
    if served.manifest.sample:
        lines.append("NOTE: this store holds the bundled SAMPLE, not the real data")
    for row in select_named(served, "catalog_graphs"):
        lines.append(
            f"  {int(row['triples'].value):>10,}  {row['source'].value:<24} "
            f"{row['version'].value:<14} {row['graph'].value}"
        )
    return "\n".join(lines)
