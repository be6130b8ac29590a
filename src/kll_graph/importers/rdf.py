"""The generic RDF importer: any SKOS (or other) RDF file, plain or gzipped, into its own graph.

Formats are chosen by file extension: Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD, each
optionally `.gz`. Plain files are bulk-loaded by oxigraph directly (no Python per triple); gzipped
ones are streamed through gzip. Quads in a file's own named graphs are moved into the source's
graph, so one source is always one graph. A directory loads every RDF file in it.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from pyoxigraph import RdfFormat, parse

from kll_graph.importers import ImportContext, iter_files, register

FORMATS: dict[str, RdfFormat] = {
    ".ttl": RdfFormat.TURTLE,
    ".turtle": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".ntriples": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".nquads": RdfFormat.N_QUADS,
    ".trig": RdfFormat.TRIG,
    ".rdf": RdfFormat.RDF_XML,
    ".owl": RdfFormat.RDF_XML,
    ".xml": RdfFormat.RDF_XML,
    ".jsonld": RdfFormat.JSON_LD,
    ".json": RdfFormat.JSON_LD,
}
QUAD_FORMATS = {RdfFormat.N_QUADS, RdfFormat.TRIG, RdfFormat.JSON_LD}


def format_of(path: Path) -> tuple[RdfFormat | None, bool]:
    """The RDF format of a file name and whether it is gzipped.

    >>> format_of(Path("esco.ttl.gz"))
    (<RdfFormat Turtle>, True)
    >>> format_of(Path("notes.txt"))
    (None, False)
    """
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    return (FORMATS.get(suffixes[-1]) if suffixes else None), gzipped


def _suffixes() -> list[str]:
    return [ext + gz for ext in FORMATS for gz in ("", ".gz")]


@register("rdf")
def import_rdf(ctx: ImportContext) -> None:
    """Load one RDF file, or every RDF file of a directory, into the source's graph."""
    if not ctx.path.exists():
        raise ctx.fail("file not found")
    files = list(iter_files(ctx.path, _suffixes()))
    if not files:
        raise ctx.fail("no RDF file here (expected .ttl, .nt, .nq, .trig, .rdf, .jsonld, or .gz)")
    for file in files:
        rdf_format, gzipped = format_of(file)
        if rdf_format is None:
            raise ctx.fail(
                "unknown RDF format; name the file .ttl, .nt, .nq, .trig, .rdf or .jsonld",
                path=file,
            )
        ctx.progress(f"loading {file.name}")
        if gzipped or rdf_format in QUAD_FORMATS:
            _stream(ctx, file, rdf_format, gzipped)
        else:
            ctx.load_file(file, rdf_format)
        ctx.report.counts["files"] += 1


def _stream(ctx: ImportContext, file: Path, rdf_format: RdfFormat, gzipped: bool) -> None:
    """Parse in Python's loop: needed to gunzip and to fold named graphs into the source graph."""
    from pyoxigraph import Quad

    graph = ctx.graph
    try:
        with gzip.open(file, "rb") if gzipped else file.open("rb") as stream:
            quads = parse(stream, format=rdf_format, base_iri=ctx.base_for(file))
            ctx.add(Quad(q.subject, q.predicate, q.object, graph) for q in quads)
    except SyntaxError as exc:
        raise ctx.fail(str(exc.msg or exc), path=file, line=exc.lineno, column=exc.offset) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise ctx.fail(f"cannot read: {exc}", path=file) from exc
