"""The build pipeline: import every source into a NEW store, describe it, check it, switch to it.

import (one importer per source, one graph each) → ontology and mapping sets → catalog → build
steps (label index, checks, mapping checks, mapping coverage) → flush → rename → atomic switch →
prune. Anything that fails before the switch leaves the current store serving exactly as it was.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import Store

from kll_graph import __version__
from kll_graph.build.catalog import GraphEntry, catalog_quads, count_triples, describe_files
from kll_graph.build.context import BuildContext, BuildResult, Progress, SourceResult
from kll_graph.build.importing import DERIVED, get_importer
from kll_graph.build.normalize import apply_source_option
from kll_graph.build.releases import manifest_key, release_quads, release_records
from kll_graph.build.steps import BUILD_STEPS
from kll_graph.changes.releases import RELEASES_STEP
from kll_graph.exceptions import BuildError, KllError, SourceError, StoreNotFoundError
from kll_graph.importers import GraphInfo, ImportContext, Importer
from kll_graph.namespaces import catalog_iri, graph_iri
from kll_graph.plan import DataPlan, builtin_sources, plan_sources
from kll_graph.settings import Settings, SourceConfig
from kll_graph.store import (
    MANIFEST_LAYOUT,
    OXIGRAPH_DIR,
    PARTIAL,
    Manifest,
    StoreLayout,
    build_lock,
    prune,
    prune_grace,
    read_manifest,
    switch_current,
    write_manifest,
)


def new_build_id() -> str:
    """A build id that sorts by time to the microsecond, so pruning can keep the newest.

    >>> len(new_build_id())
    23
    """
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _import_source(
    settings: Settings,
    store: Store,
    source: SourceConfig,
    data_dir: Path,
    progress: Progress,
    importer: Importer | None = None,
    ignore_graphs: frozenset[str] = frozenset(),
) -> SourceResult:
    importer = importer or get_importer(source.importer)
    main = graph_iri(settings.base_iri, source.id, source.version)
    ctx = ImportContext(
        source=source,
        path=source.resolve(data_dir),
        graph=main,
        settings=settings,
        store=store,
        progress=lambda message: progress(f"  {source.id}: {message}"),
        ignore_graphs=ignore_graphs,
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
        lacks=ctx.report.lacks,
    )


def _derive(
    settings: Settings, store: Store, results: list[SourceResult], progress: Progress
) -> list[SourceResult]:
    """The derived graphs (DERIVED) of the sources imported, after all of them are in: of the
    current releases only (a view of an older or newer release is not what readers ask for)."""
    derived = []
    ignore = frozenset(g.iri.value for r in results if not r.source.current for g in r.graphs)
    for result in results:
        if result.source.importer not in DERIVED or not result.source.current:
            continue
        source_id, function = DERIVED[result.source.importer]
        base = result.source
        source = SourceConfig(
            id=source_id,
            importer="derived",
            path="",
            version=base.version,
            license=base.license,
            attribution=base.attribution,
            current=base.current,
            date=base.date,
        )
        derived.append(
            _import_source(settings, store, source, Path("/"), progress, function, ignore)
        )
    return derived


def _catalog_entries(
    plan: DataPlan, results: list[SourceResult], counts: dict[str, int]
) -> list[GraphEntry]:
    entries = []
    for result in results:
        source = result.source
        path = source.resolve(plan.data_dir)
        base = plan.data_dir if not Path(source.path).is_absolute() else path
        files = describe_files(path, base) if source.path else []  # a derived source has none
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
    for step in BUILD_STEPS:
        step(ctx)


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
        prune(
            layout, settings.keep_builds, grace=prune_grace(settings.query_timeout)
        )  # clears partials a killed build left
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
        removed = prune(layout, settings.keep_builds, grace=prune_grace(settings.query_timeout))
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
) -> Manifest:
    store = Store(str(work / OXIGRAPH_DIR))
    results = [
        _import_source(settings, store, source, plan.data_dir, progress) for source in plan.sources
    ]
    results += [
        _import_source(settings, store, source, Path("/"), progress)
        for source in builtin_sources(settings)
    ]
    if settings.compat_graphs:
        results += _derive(settings, store, results, progress)
    progress("counting triples and writing the catalog")
    counts = count_triples(store)
    entries = _catalog_entries(plan, results, counts)
    releases = release_records(results, entries)
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
    store.bulk_extend(release_quads(settings.base_iri, releases))
    ctx = BuildContext(settings, store, work, build_id, plan, results, progress)
    ctx.summary[RELEASES_STEP] = releases
    _run_steps(ctx)
    progress("flushing the store")
    store.flush()
    total = sum(counts.values())
    manifest: dict[str, Any] = {
        "layout": MANIFEST_LAYOUT,
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
            manifest_key(r): {
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
    return Manifest.from_json(manifest)


def ensure_built(settings: Settings, *, progress: Progress = lambda message: None) -> Path:
    """The current build, building first when there is none or when it was made by an older
    layout this kll-graph refuses to serve (so `serve` after an upgrade rebuilds, not fails)."""
    layout = StoreLayout(settings.store)
    current = layout.current_build()
    if current is not None:
        try:
            read_manifest(current)
            return current
        except StoreNotFoundError as refused:
            progress(f"{refused}; building again")
    else:
        progress(f"no store in {settings.store}; building first")
    result = build(settings, progress=progress)
    if result.path.resolve() != layout.current_build():
        raise BuildError("the build finished but did not become current")
    return result.path
