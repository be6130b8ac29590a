"""Benchmark: importing the whole JobTech Taxonomy (all 33 dataset files) into a fresh store.

Runs the `jobtech` importer as the build does (on-disk store, one bulk call) REPEAT times and
reports the best wall-clock time with its phases (read and merge the JSON, build the quads, bulk
load), triples per second, and the ratio to the 10 s target. As a floor it also times oxigraph's
native bulk load of the very same triples from an N-Triples file (no JSON, no Python per triple),
so the ratio shows what turning JSON into RDF costs on top of loading RDF. The legacy-id import
(`jobtech-legacy`, 14,329 entries) is timed after it.

    .venv/bin/python benchmarks/bench_jobtech.py [--data-dir ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from pyoxigraph import RdfFormat, Store

from kll_graph.build.importing import get_importer
from kll_graph.importers import ImportContext
from kll_graph.importers.jobtech import load_taxonomy, taxonomy_quads
from kll_graph.namespaces import graph_iri
from kll_graph.settings import REPO_ROOT, Settings, SourceConfig, load_settings

TARGET_SECONDS = 10.0


def context(
    settings: Settings, source: SourceConfig, data_dir: Path, store: Store
) -> ImportContext:
    return ImportContext(
        source=source,
        path=source.resolve(data_dir),
        graph=graph_iri(settings.base_iri, source.id, source.version),
        settings=settings,
        store=store,
    )


def run_once(settings: Settings, source: SourceConfig, data_dir: Path, work: Path) -> dict:
    """One import into a new on-disk store, timed by phase."""
    store = Store(str(work))
    ctx = context(settings, source, data_dir, store)
    t0 = time.perf_counter()
    taxonomy, types = load_taxonomy(ctx)
    t1 = time.perf_counter()
    quads = taxonomy_quads(ctx, taxonomy, types)
    t2 = time.perf_counter()
    ctx.add(quads)
    store.flush()
    t3 = time.perf_counter()
    return {
        "read": t1 - t0,
        "quads": t2 - t1,
        "load": t3 - t2,
        "total": t3 - t0,
        "triples": len(store),
        "concepts": len(taxonomy.concepts),
        "store": store,
    }


def native_floor(store: Store, work: Path, repeat: int) -> float:
    """Best time of oxigraph bulk-loading the same triples from N-Triples into a new store."""
    nt = work / "jobtech.nt"
    store.dump(str(nt), format=RdfFormat.N_QUADS)
    best = float("inf")
    for i in range(repeat):
        target = work / f"native-{i}"
        started = time.perf_counter()
        fresh = Store(str(target))
        fresh.bulk_load(path=str(nt), format=RdfFormat.N_QUADS)
        fresh.flush()
        best = min(best, time.perf_counter() - started)
        del fresh
        shutil.rmtree(target)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(env={})
    sources = {s.id: s for s in settings.sources}
    jobtech, legacy = sources["jobtech"], sources["jobtech-legacy"]
    files = sorted(jobtech.resolve(args.data_dir).glob("*.json"))
    size = sum(f.stat().st_size for f in files)
    print(f"JobTech import: {len(files)} files, {size / 1e6:.1f} MB, from {args.data_dir}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = []
        for i in range(args.repeat):
            run = run_once(settings, jobtech, args.data_dir, work / f"run-{i}")
            print(
                f"  run {i + 1}: {run['total']:.2f} s (read+merge {run['read']:.2f}, "
                f"quads {run['quads']:.2f}, bulk load {run['load']:.2f})"
            )
            runs.append(run)
        best = min(runs, key=lambda r: r["total"])
        floor = native_floor(best["store"], work, args.repeat)
        started = time.perf_counter()
        legacy_ctx = context(settings, legacy, args.data_dir, best["store"])
        get_importer("jobtech-legacy")(legacy_ctx)
        legacy_seconds = time.perf_counter() - started
    rate = best["triples"] / best["total"]
    print(f"concepts: {best['concepts']:,}   triples: {best['triples']:,}")
    print(f"best import: {best['total']:.2f} s  = {rate:,.0f} triples/s")
    print(f"target {TARGET_SECONDS:.0f} s: {best['total'] / TARGET_SECONDS:.2f} of the target "
          f"({'met' if best['total'] < TARGET_SECONDS else 'MISSED'})")  # fmt: skip
    print(f"oxigraph native bulk load of the same triples: {floor:.2f} s; "
          f"importer / native = {best['total'] / floor:.1f}x")  # fmt: skip
    print(f"legacy ids (jobtech-legacy): {legacy_seconds:.2f} s")


if __name__ == "__main__":
    main()
