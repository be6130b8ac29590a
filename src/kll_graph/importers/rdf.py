"""The generic RDF importer: any SKOS (or other) RDF file, plain or gzipped, into its own graph.

Formats are chosen by file extension: Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD, each
optionally `.gz`. Plain files are bulk-loaded by oxigraph directly (no Python per triple); gzipped
ones are streamed through gzip. Quads in a file's own named graphs are moved into the source's
graph, so one source is always one graph. A directory loads every RDF file in it.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import io
import itertools
import os
import zlib
from pathlib import Path
from typing import Any

from pyoxigraph import Quad, RdfFormat, parse

from kll_graph.importers import ImportContext, iter_files

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
#: N-Triples files above this size are split at line ends and bulk-loaded on every core.
PARALLEL_MIN_BYTES = 32 << 20


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
        elif rdf_format == RdfFormat.N_TRIPLES and file.stat().st_size > PARALLEL_MIN_BYTES:
            _load_in_parallel(ctx, file)
        else:
            ctx.load_file(file, rdf_format)
        ctx.report.counts["files"] += 1


class _Slice(io.RawIOBase):
    """A read-only window [start, end) of a file, so one parser thread reads only its part."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self._file = path.open("rb")
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        read = self._file.readinto(view)
        self._left -= read
        return read

    def close(self) -> None:
        self._file.close()
        super().close()


def line_aligned_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """Split a file into about `parts` byte ranges that each end after a newline."""
    size = path.stat().st_size
    bounds = [0]
    with path.open("rb") as handle:
        for i in range(1, parts):
            handle.seek(max(size * i // parts, bounds[-1]))
            handle.readline()
            bounds.append(min(handle.tell(), size))
    bounds.append(size)
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _load_in_parallel(ctx: ImportContext, file: Path) -> None:
    """Bulk-load slices of a large N-Triples file concurrently (the parser releases the GIL).

    N-Triples is line-based, so slices cut at line ends parse independently; an error names the
    line counted from the start of its slice plus the lines before it.
    """
    ranges = line_aligned_ranges(file, os.cpu_count() or 1)

    def load(span: tuple[int, int]) -> None:
        with _Slice(file, *span) as stream:
            ctx.store.bulk_load(
                stream,  # type: ignore[arg-type]  # pyoxigraph reads any file object; stub: IO only
                format=RdfFormat.N_TRIPLES,
                to_graph=ctx.graph,
            )

    with concurrent.futures.ThreadPoolExecutor(len(ranges)) as pool:
        futures = {pool.submit(load, span): span for span in ranges}
        for future, span in futures.items():
            try:
                future.result()
            except SyntaxError as exc:
                before = _count_lines(file, span[0])
                line = exc.lineno + before if exc.lineno else None
                message = str(exc.msg or exc)
                raise ctx.fail(message, path=file, line=line, column=exc.offset) from exc


def _count_lines(path: Path, end: int) -> int:
    """Newlines in the first `end` bytes of a file, read in chunks."""
    lines = 0
    with path.open("rb") as handle:
        while end > 0 and (chunk := handle.read(min(end, 1 << 20))):
            lines += chunk.count(b"\n")
            end -= len(chunk)
    return lines


def _stream(ctx: ImportContext, file: Path, rdf_format: RdfFormat, gzipped: bool) -> None:
    """Parse in Python's loop: needed to gunzip and to fold named graphs into the source graph."""

    graph = ctx.graph
    try:
        with gzip.open(file, "rb") if gzipped else file.open("rb") as stream:
            quads = parse(
                stream,  # type: ignore[arg-type]  # pyoxigraph reads any file object; stub: IO only
                format=rdf_format,
                base_iri=ctx.base_for(file),
            )
            ctx.add(Quad(q.subject, q.predicate, q.object, graph) for q in quads)
    except SyntaxError as exc:
        raise ctx.fail(str(exc.msg or exc), path=file, line=exc.lineno, column=exc.offset) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise ctx.fail(f"cannot read: {exc}", path=file) from exc
