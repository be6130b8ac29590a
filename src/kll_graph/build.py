"""The build pipeline: import every source into a NEW store, describe it, check it, switch to it.

import (one importer per source, one graph each) → ontology and mapping sets → catalog → build
steps (label index, checks, mapping checks, mapping coverage) → flush → rename → atomic switch →
prune. Anything that fails before the switch leaves the current store serving exactly as it was.
"""

from __future__ import annotations

import pkgutil
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Store

from kll_graph import __version__
from kll_graph.catalog import GraphEntry, catalog_quads, count_triples, describe_files
from kll_graph.exceptions import BuildError, KllError, SourceError
from kll_graph.importers import GraphInfo, ImportContext, get_importer
from kll_graph.namespaces import catalog_iri, graph_iri
from kll_graph.normalize import apply_source_option
from kll_graph.settings import SAMPLE_DIR, Settings, SourceConfig
from kll_graph.store import (
    OXIGRAPH_DIR,
    PARTIAL,
    StoreLayout,
    build_lock,
    prune,
    switch_current,
    write_manifest,
)

Progress = Callable[[str], None]

#: Steps run on the finished, still writable store before it is closed, as "module:function".
#: Each takes a BuildContext.
BUILD_STEPS: tuple[str, ...] = (
    "kll_graph.labels:build_step",
    "kll_graph.checks:build_step",
    "kll_graph.mapping_checks:build_step",
    "kll_graph.coverage:build_step",
)


@dataclass(frozen=True)
class DataPlan:
    """Which data directory a build reads and which sources it takes from there."""

    data_dir: Path
    sources: tuple[SourceConfig, ...]
    sample: bool
    skipped: tuple[SourceConfig, ...] = ()


def plan_sources(settings: Settings) -> DataPlan:
    """Decide where the sources come from.

    All required sources present: the data directory. None present: the bundled sample (with
    the sources it has), and callers say so plainly. Some present: an error naming the missing.
    """
    data_dir = settings.data_dir
    present = [s for s in settings.sources if s.resolve(data_dir).exists()]
    missing = [s for s in settings.sources if not s.resolve(data_dir).exists() and not s.optional]
    if settings.sources and not present:
        in_sample = tuple(s for s in settings.sources if s.resolve(SAMPLE_DIR).exists())
        skipped = tuple(s for s in settings.sources if s not in in_sample)
        return DataPlan(SAMPLE_DIR, in_sample, sample=True, skipped=skipped)
    if missing:
        first = missing[0]
        names = ", ".join(f"{s.id} ({s.resolve(data_dir)})" for s in missing)
        raise SourceError(
            first.id,
            f"missing in data directory {data_dir}: {names}. Fetch them, point --data-dir or "
            "$KLL_DATA_DIR at the folder that holds them, or mark them optional = true",
            path=first.resolve(data_dir),
        )
    skipped = tuple(s for s in settings.sources if s not in present)
    return DataPlan(data_dir, tuple(present), sample=False, skipped=skipped)


def builtin_sources(settings: Settings) -> tuple[SourceConfig, ...]:
    """What every build adds besides the configured sources: our ontology and mapping sets."""
    sources = [
        SourceConfig(
            id="ontology",
            importer="rdf",
            path=str(settings.ontology_dir.resolve()),
            version=__version__,
            license="https://creativecommons.org/publicdomain/zero/1.0/",
            options={"base_iri": settings.base_iri},
        )
    ]
    if any(settings.mappings_dir.glob("*.sssom.tsv")):
        sources.append(
            SourceConfig(
                id="mappings",
                importer="sssom",
                path=str(settings.mappings_dir.resolve()),
                version="working-copy",
            )
        )
    return tuple(sources)


@dataclass
class SourceResult:
    """What one source contributed."""

    source: SourceConfig
    graphs: list[GraphInfo]
    seconds: float
    counts: dict[str, int]
    notes: list[str]
    warnings: list[str]
    metadata: list[tuple[NamedNode, Literal | NamedNode]] = field(default_factory=list)


@dataclass
class BuildContext:
    """Handed to build steps: the open store and everything known about this build."""

    settings: Settings
    store: Store
    build_dir: Path
    build_id: str
    plan: DataPlan
    results: list[SourceResult]
    progress: Progress
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    """The summary a build ends with."""

    build_id: str
    path: Path
    manifest: dict[str, Any]

    @property
    def triples(self) -> int:
        return int(self.manifest["triples"])


def new_build_id() -> str:
    """A build id that sorts by time to the microsecond, so pruning can keep the newest.

    >>> len(new_build_id())
    23
    """
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _import_source(
    settings: Settings, store: Store, source: SourceConfig, data_dir: Path, progress: Progress
) -> SourceResult:
    importer = get_importer(source.importer)
    main = graph_iri(settings.base_iri, source.id, source.version)
    ctx = ImportContext(
        source=source,
        path=source.resolve(data_dir),
        graph=main,
        settings=settings,
        store=store,
        progress=lambda message: progress(f"  {source.id}: {message}"),
    )
    started = time.perf_counter()
    progress(f"importing {source.id} ({source.importer}, version {source.version})")
    try:
        importer(ctx)
        apply_source_option(ctx)  # Skosify, where the source's options ask for it
    except KllError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(source.id, str(exc), path=ctx.path) from exc
    graphs = [GraphInfo(main, f"{source.id} {source.version}"), *ctx.graphs]
    return SourceResult(
        source=source,
        graphs=graphs,
        seconds=time.perf_counter() - started,
        counts=dict(ctx.report.counts),
        notes=ctx.report.notes,
        warnings=ctx.report.warnings,
        metadata=ctx.report.metadata,
    )


def _catalog_entries(
    plan: DataPlan, results: list[SourceResult], counts: dict[str, int]
) -> list[GraphEntry]:
    entries = []
    for result in results:
        source = result.source
        path = source.resolve(plan.data_dir)
        files = describe_files(path, plan.data_dir if not Path(source.path).is_absolute() else path)
        for i, info in enumerate(result.graphs):
            triples = counts.get(info.iri.value, 0)
            if i == 0 and triples == 0 and len(result.graphs) > 1:
                continue  # the source wrote only into its extra graphs
            entries.append(
                GraphEntry(
                    iri=info.iri.value,
                    title=info.title,
                    source_id=source.id,
                    importer=source.importer,
                    version=source.version,
                    url=source.url,
                    license=source.license,
                    attribution=source.attribution,
                    triples=triples,
                    files=files,
                    extra=list(result.metadata),
                )
            )
    return entries


def _run_steps(ctx: BuildContext) -> None:
    """Each step is named, not imported here, so building does not load the web-facing modules
    until a build needs them."""
    for spec in BUILD_STEPS:
        pkgutil.resolve_name(spec)(ctx)


def build(settings: Settings, *, progress: Progress = lambda message: None) -> BuildResult:
    """Build a new store from the configured sources and make it current.

    Raises a KllError (SourceError, BuildLockedError, ...) with the current store untouched.
    """
    layout = StoreLayout(settings.store)
    plan = plan_sources(settings)
    if plan.sample:
        progress(
            f"NOTE: the configured sources are not in {settings.data_dir}; "
            "building the bundled SAMPLE instead (set --data-dir or $KLL_DATA_DIR to the real data)"
        )
    with build_lock(layout):
        prune(layout, settings.keep_builds)  # clears partials a killed build left
        started = _now()
        clock = time.perf_counter()
        build_id = new_build_id()
        work = layout.builds / f"{build_id}{PARTIAL}"
        work.mkdir(parents=True)
        try:
            result = _build_into(settings, plan, work, build_id, started, clock, progress)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        final = layout.builds / build_id
        work.rename(final)
        switch_current(layout, final)
        removed = prune(layout, settings.keep_builds)
        if removed:
            progress(f"removed {len(removed)} old build(s)")
        return BuildResult(build_id, final, result)


def _build_into(
    settings: Settings,
    plan: DataPlan,
    work: Path,
    build_id: str,
    started: datetime,
    clock: float,
    progress: Progress,
) -> dict[str, Any]:
    store = Store(str(work / OXIGRAPH_DIR))
    results = [
        _import_source(settings, store, source, plan.data_dir, progress) for source in plan.sources
    ]
    results += [
        _import_source(settings, store, source, Path("/"), progress)
        for source in builtin_sources(settings)
    ]
    progress("counting triples and writing the catalog")
    counts = count_triples(store)
    entries = _catalog_entries(plan, results, counts)
    finished = _now()
    store.bulk_extend(
        catalog_quads(
            settings.base_iri,
            build_id,
            started.isoformat().replace("+00:00", "Z"),
            finished.isoformat().replace("+00:00", "Z"),
            entries,
            plan.sample,
        )
    )
    ctx = BuildContext(settings, store, work, build_id, plan, results, progress)
    _run_steps(ctx)
    progress("flushing the store")
    store.flush()
    total = sum(counts.values())
    manifest: dict[str, Any] = {
        "build_id": build_id,
        "kll_graph_version": __version__,
        "started": started.isoformat(),
        "seconds": round(time.perf_counter() - clock, 2),
        "sample": plan.sample,
        "data_dir": str(plan.data_dir),
        "base_iri": settings.base_iri,
        "catalog_graph": catalog_iri(settings.base_iri).value,
        "triples": total,
        "graphs": [
            {
                "iri": e.iri,
                "title": e.title,
                "source": e.source_id,
                "version": e.version,
                "triples": e.triples,
            }
            for e in entries
        ],
        "sources": {
            r.source.id: {
                "seconds": round(r.seconds, 2),
                "counts": r.counts,
                "notes": r.notes,
                "warnings": r.warnings,
            }
            for r in results
        },
        "skipped_sources": [s.id for s in plan.skipped],
        "steps": ctx.summary,
        "warnings": ctx.warnings,
    }
    del store  # closes RocksDB before the directory is renamed
    write_manifest(work, manifest)
    return manifest


def ensure_built(settings: Settings, *, progress: Progress = lambda message: None) -> Path:
    """The current build, building first when there is none."""
    layout = StoreLayout(settings.store)
    current = layout.current_build()
    if current is not None:
        return current
    progress(f"no store in {settings.store}; building first")
    result = build(settings, progress=progress)
    if result.path.resolve() != layout.current_build():
        raise BuildError("the build finished but did not become current")
    return result.path
