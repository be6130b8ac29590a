"""Normalisation with Skosify, per source, at build time: never exits, logs into our report.

A source asks for it in `kll-graph.toml`::

    [sources.options]
    skosify = ["infer_inverse", "eliminate_redundancy", "break_cycles"]

A list names operations (below), applied in the order given; a table instead runs Skosify's whole
pipeline with those configuration values (e.g. ``skosify = { break_cycles = true }``).

Skosify works on an rdflib graph and reports through the root logger; its pipeline calls
``sys.exit(1)`` when it cannot find a namespace or parse its input. The wrapper copies the
source's graphs into rdflib, runs Skosify there with its log records captured (and kept out of
every other handler), turns ``SystemExit`` into a :class:`NormalizeError`, and writes back only
the difference: triples removed from the source's graphs, triples added to its main graph.
Skosify sorts what it walks, and the copy is made in a sorted order, so the same input gives the
same output and the same log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rdflib
import skosify
from pyoxigraph import NamedNode, Quad, Store
from skosify import check, infer
from skosify.config import Config
from skosify.skosify import setup_top_concepts

from kll_graph.exceptions import ConfigError, SourceError
from kll_graph.rdfterms import to_oxigraph, to_rdflib

if TYPE_CHECKING:
    import rdflib

    from kll_graph.importers import ImportContext

#: The source option that asks for normalisation.
OPTION = "skosify"
#: Log lines kept in a source's report (the counts always cover everything).
MAX_LOG_LINES = 50


def _infer_inverse(graph: rdflib.Graph) -> None:

    infer.skos_hierarchical(graph, narrower=True)
    infer.skos_topConcept(graph)


def _infer_related(graph: rdflib.Graph) -> None:

    infer.skos_related(graph)


def _infer_mappings(graph: rdflib.Graph) -> None:

    infer.skos_symmetric_mappings(graph, related=False)


def _infer_transitive(graph: rdflib.Graph) -> None:

    infer.skos_transitive(graph, narrower=True)


def _mark_top_concepts(graph: rdflib.Graph) -> None:

    setup_top_concepts(graph, True)


def _break_cycles(graph: rdflib.Graph) -> None:

    check.hierarchy_cycles(graph, fix=True)


def _eliminate_redundancy(graph: rdflib.Graph) -> None:

    check.hierarchical_redundancy(graph, fix=True)


def _remove_related_in_hierarchy(graph: rdflib.Graph) -> None:

    check.disjoint_relations(graph, fix=True)


def _fix_label_overlap(graph: rdflib.Graph) -> None:

    check.label_overlap(graph, fix=True)


def _preflabel_uniqueness(graph: rdflib.Graph) -> None:

    check.preflabel_uniqueness(graph, policy="shortest")


#: Named operations: Skosify functions, each with what it does (for docs and errors).
OPERATIONS: dict[str, tuple[Callable[[rdflib.Graph], None], str]] = {
    "infer_inverse": (
        _infer_inverse,
        "add skos:narrower for skos:broader (and back), "
        "skos:topConceptOf for skos:hasTopConcept (and back)",
    ),
    "infer_related": (_infer_related, "state skos:related in both directions"),
    "infer_mappings": (_infer_mappings, "state exact, close and related matches both ways"),
    "infer_transitive": (_infer_transitive, "add skos:broaderTransitive/narrowerTransitive"),
    "mark_top_concepts": (_mark_top_concepts, "mark concepts with no broader as top concepts"),
    "break_cycles": (_break_cycles, "remove the skos:broader link that closes a cycle"),
    "eliminate_redundancy": (
        _eliminate_redundancy,
        "remove skos:broader links implied by a longer chain",
    ),
    "remove_related_in_hierarchy": (
        _remove_related_in_hierarchy,
        "remove skos:related between concepts in one broader chain",
    ),
    "fix_label_overlap": (
        _fix_label_overlap,
        "remove alternative/hidden labels equal to the preferred label",
    ),
    "preflabel_uniqueness": (
        _preflabel_uniqueness,
        "keep the shortest preferred label per language, move the others to skos:altLabel",
    ),
}


class NormalizeError(SourceError):
    """Skosify gave up (it would have exited the process) or was configured wrongly."""

    code = "normalize"


@dataclass
class NormalizeReport:
    """What normalisation changed in one source: counts per step and Skosify's log lines."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    seconds: float = 0.0


# --- capturing Skosify's logging ----------------------------------------------------------------


def _skosify_dir() -> str:

    return str(Path(skosify.__file__).resolve().parent)


class _Capture(logging.Handler):
    """Collects Skosify's log records (and only those) as text lines."""

    def __init__(self, where: str) -> None:
        super().__init__(logging.INFO)
        self.where = where
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.pathname.startswith(self.where):
            self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


class _HideSkosify(logging.Filter):
    """Keeps Skosify's records away from the handlers that were there before, and the INFO
    records that the temporarily lowered root level lets through from loggers that had no
    level of their own."""

    def __init__(self, where: str, old_level: int) -> None:
        super().__init__()
        self.where = where
        self.old_level = old_level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.pathname.startswith(self.where):
            return False
        if record.levelno >= self.old_level:
            return True
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None and logger is not logging.root:
            if logger.level != logging.NOTSET:
                return record.levelno >= logger.level
            logger = logger.parent
        return False


@contextmanager
def captured_logging() -> Iterator[list[str]]:
    """Within the block, Skosify's log lines (INFO and up) go into the yielded list and nowhere
    else; everyone else's logging behaves as before."""
    root = logging.getLogger()
    where = _skosify_dir()
    capture = _Capture(where)
    hide = _HideSkosify(where, root.level)
    others = list(root.handlers)
    for handler in others:
        handler.addFilter(hide)
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(min(old_level or logging.WARNING, logging.INFO))
    try:
        yield capture.lines
    finally:
        root.setLevel(old_level)
        root.removeHandler(capture)
        for handler in others:
            handler.removeFilter(hide)


def _sort_key(quad: Quad) -> tuple[str, str, str]:
    return (str(quad.subject), str(quad.predicate), str(quad.object))


def load_graphs(store: Store, graphs: Iterable[NamedNode]) -> rdflib.Graph:
    """The triples of some named graphs as one rdflib graph, added in sorted order."""

    graph = rdflib.Graph()
    quads = sorted(
        (q for g in graphs for q in store.quads_for_pattern(None, None, None, g)), key=_sort_key
    )
    graph.addN(
        (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), graph) for q in quads
    )
    return graph


# --- running -------------------------------------------------------------------------


def parse_option(value: Any, source_id: str) -> list[str] | dict[str, Any]:
    """Validate the `skosify` source option: a list of operation names or a Skosify config table."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        unknown = [v for v in value if v not in OPERATIONS]
        if unknown or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                f"source '{source_id}': unknown skosify operation(s) "
                f"{', '.join(map(str, unknown))}; known: {', '.join(OPERATIONS)}"
            )
        return list(value)
    if isinstance(value, dict):
        allowed = set(vars(Config()))
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ConfigError(
                f"source '{source_id}': unknown skosify setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(allowed))}"
            )
        return dict(value)
    raise ConfigError(
        f"source '{source_id}': option skosify must be a list of operations or a table of "
        f"Skosify settings, not {type(value).__name__}"
    )


def normalize_graph(
    graph: rdflib.Graph, operations: list[str] | Mapping[str, Any], source_id: str = "?"
) -> tuple[rdflib.Graph, NormalizeReport]:
    """Run Skosify on an rdflib graph; the result graph and what changed, never an exit."""
    report = NormalizeReport()
    started = time.perf_counter()
    with captured_logging() as lines:
        try:
            if isinstance(operations, Mapping):
                graph = _full_pipeline(graph, operations, report)
            else:
                for name in operations:
                    before = set(graph)
                    OPERATIONS[name][0](graph)
                    after = set(graph)
                    report.steps.append(
                        {
                            "operation": name,
                            "added": len(after - before),
                            "removed": len(before - after),
                        }
                    )
        except SystemExit as exc:
            detail = "; ".join(line for line in lines if line.startswith(("critical", "error")))
            raise NormalizeError(
                source_id,
                f"Skosify gave up (exit status {exc.code}): {detail or 'no reason logged'}. "
                "Check the source's skosify option (e.g. set namespace for the full pipeline)",
            ) from None
    report.log = list(lines)
    report.seconds = round(time.perf_counter() - started, 3)
    return graph, report


def _full_pipeline(
    graph: rdflib.Graph, config: Mapping[str, Any], report: NormalizeReport
) -> rdflib.Graph:

    result: rdflib.Graph = skosify.skosify(graph, **{"set_modified": False, **config})
    report.steps.append({"operation": "skosify", "config": dict(config)})
    return result


def apply_to_store(
    store: Store,
    graphs: list[NamedNode],
    operations: list[str] | Mapping[str, Any],
    source_id: str = "?",
) -> NormalizeReport:
    """Normalise the union of a source's graphs in place: removed triples leave every graph of
    the source, added ones go into the first (main) graph."""
    before = load_graphs(store, graphs)
    original = set(before)
    after, report = normalize_graph(before, operations, source_id)
    now = set(after)
    removed = sorted(original - now)
    added = sorted(now - original)
    for s, p, o in removed:
        triple = (to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))
        for g in graphs:
            store.remove(Quad(*triple, g))
    main = graphs[0]
    store.extend(Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), main) for s, p, o in added)
    report.added, report.removed = len(added), len(removed)
    return report


def apply_source_option(ctx: ImportContext) -> NormalizeReport | None:
    """The build's hook after a source is imported: normalise it when its options ask for it,
    and record what changed in the source's report (counts, one note per step, the log)."""
    if OPTION not in ctx.source.options:
        return None
    operations = parse_option(ctx.source.options[OPTION], ctx.source.id)
    graphs = [ctx.graph, *(info.iri for info in ctx.graphs)]
    ctx.progress("normalising with Skosify")
    report = apply_to_store(ctx.store, graphs, operations, ctx.source.id)
    ctx.report.counts["skosify added"] += report.added
    ctx.report.counts["skosify removed"] += report.removed
    for step in report.steps:
        if "config" in step:
            ctx.report.note(f"skosify pipeline with {step['config']}")
        else:
            ctx.report.note(
                f"skosify {step['operation']}: {step['added']} added, {step['removed']} removed"
            )
    for line in report.log[:MAX_LOG_LINES]:
        ctx.report.note(f"skosify {line}")
    if len(report.log) > MAX_LOG_LINES:
        ctx.report.note(f"skosify: {len(report.log) - MAX_LOG_LINES} more log line(s) not shown")
    return report
