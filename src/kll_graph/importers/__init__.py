"""Importers: one function per source format that turns a source into quads in its named graph.

An importer is a function named in :data:`kll_graph.build.importing.IMPORTERS` (by the `importer`
key of a `[[sources]]` entry) and called with an :class:`ImportContext`. It writes through
``ctx.add`` (Python-built quads) or ``ctx.load_file`` (an RDF file oxigraph parses natively, the
fastest path), records what it saw in ``ctx.report`` and raises
:class:`~kll_graph.exceptions.SourceError` for bad input. The build pipeline does the rest (store,
catalog, checksums, switch), so a new format never touches it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Store, Triple

from kll_graph.exceptions import SourceError
from kll_graph.settings import Settings, SourceConfig

#: The terms pyoxigraph takes as a triple's subject and object.
Subject = NamedNode | BlankNode | Triple
Object = NamedNode | BlankNode | Literal | Triple


@dataclass
class SourceReport:
    """What an importer tells the build summary and the catalog about one source."""

    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Extra facts for the catalog, as (predicate, literal) pairs on the source's graph.
    metadata: list[tuple[NamedNode, Literal | NamedNode]] = field(default_factory=list)
    #: What the source's package lacks that a complete one holds ("file: what it provides"),
    #: recorded with the release so comparisons say what they could not compare.
    lacks: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)


@dataclass
class GraphInfo:
    """A named graph a source fills, with a human title for the catalog."""

    iri: NamedNode
    title: str


@dataclass
class ImportContext:
    """Everything an importer needs, and the only way it writes to the store being built."""

    source: SourceConfig
    path: Path
    graph: NamedNode
    settings: Settings
    store: Store
    report: SourceReport = field(default_factory=SourceReport)
    graphs: list[GraphInfo] = field(default_factory=list)
    progress: Callable[[str], None] = lambda message: None
    #: Graphs of releases that are not current (their IRIs): an importer deriving from what is
    #: already in the store leaves them out.
    ignore_graphs: frozenset[str] = frozenset()

    @property
    def base_iri(self) -> str:
        return self.settings.base_iri

    def extra_graph(self, name: str, title: str) -> NamedNode:
        """Register another graph of this source (e.g. ESCO's Swedish labels) for the catalog."""
        iri = NamedNode(f"{self.graph.value}/{name}")
        self.graphs.append(GraphInfo(iri, title))
        return iri

    def add(self, quads: Iterable[Quad]) -> None:
        """Bulk-add quads built in Python (each already carries its graph)."""
        self.store.bulk_extend(quads)

    def add_triples(self, triples: Iterable[tuple[Subject, NamedNode, Object]]) -> None:
        """Bulk-add (s, p, o) triples into the source's own graph."""
        graph = self.graph
        self.store.bulk_extend(Quad(s, p, o, graph) for s, p, o in triples)

    def load_file(
        self,
        path: Path,
        rdf_format: RdfFormat,
        graph: NamedNode | None = None,
        base_iri: str | None = None,
    ) -> None:
        """Bulk-load an RDF file parsed by oxigraph itself; syntax errors name line and column."""
        try:
            self.store.bulk_load(
                path=str(path),
                format=rdf_format,
                to_graph=graph or self.graph,
                base_iri=base_iri or self.base_for(path),
            )
        except SyntaxError as exc:
            raise SourceError(
                self.source.id, _parser_message(exc), path=path, line=exc.lineno, column=exc.offset
            ) from exc
        except OSError as exc:
            raise SourceError(self.source.id, f"cannot read: {exc}", path=path) from exc

    def base_for(self, path: Path) -> str:
        """Base IRI for relative IRIs in a file: the `base_iri` option, else the file's URI."""
        return str(self.source.options.get("base_iri") or path.resolve().as_uri())

    def fail(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> SourceError:
        """An error about this source, to raise."""
        return SourceError(
            self.source.id, message, path=path or self.path, line=line, column=column
        )


def _parser_message(exc: SyntaxError) -> str:
    return str(exc.msg if exc.msg else exc)


#: An importer: reads its source and writes quads through the context.
Importer = Callable[[ImportContext], None]


def iter_files(path: Path, suffixes: Iterable[str]) -> Iterator[Path]:
    """Files below `path` (or `path` itself) whose name ends in one of `suffixes`, sorted."""
    ends = tuple(suffixes)
    if path.is_file():
        yield path
        return
    yield from sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(ends))
