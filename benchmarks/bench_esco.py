"""Benchmark: the full ESCO v1.1.1 CSV import, against a 20 s target and against peers.

Prints, for the `esco` importer on ../shared/data/esco/v1.1.1 into a fresh on-disk store:
wall time, triples in the store, triples per second and the ratio to the 20 s target; then two
peers on the same machine and data:

- csv only: reading every row of the same files with Python's csv module and nothing else
  (the floor for any CSV importer written in Python);
- oxigraph N-Triples: the same triples as an N-Triples file bulk-loaded by oxigraph's own Rust
  parser (what loading ESCO's RDF instead of its CSV would cost, minus the much larger dump).

Run: .venv/bin/python benchmarks/bench_esco.py [--data-dir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path

from pyoxigraph import RdfFormat, Store

from kll_graph.build.importing import get_importer
from kll_graph.importers import ImportContext
from kll_graph.importers.esco import package_files
from kll_graph.namespaces import graph_iri
from kll_graph.settings import REPO_ROOT, SourceConfig, load_settings

TARGET_SECONDS = 20.0


def import_once(package: Path, workdir: Path) -> tuple[float, float, Store]:
    """One import of the package into a new on-disk store: wall seconds, CPU seconds (all
    threads of this process; less sensitive to a busy machine), and the store."""
    settings = load_settings(env={})
    store = Store(str(workdir))
    source = SourceConfig(id="esco", importer="esco", path=str(package), version="v1.1.1")
    ctx = ImportContext(
        source=source,
        path=package,
        graph=graph_iri(settings.base_iri, "esco", "v1.1.1"),
        settings=settings,
        store=store,
    )
    started, cpu = time.perf_counter(), time.process_time()
    get_importer("esco")(ctx)
    store.flush()
    return time.perf_counter() - started, time.process_time() - cpu, store


def csv_only(package: Path) -> tuple[float, int]:
    """Seconds to read every row of the package's CSVs, and the number of rows."""
    csv.field_size_limit(1 << 28)
    started = time.perf_counter()
    rows = 0
    for file in package_files(package):
        with file.open() as handle:
            rows += sum(1 for _ in csv.reader(handle))
    return time.perf_counter() - started, rows


def oxigraph_ntriples(store: Store, workdir: Path) -> float:
    """Seconds for oxigraph to bulk-load the same triples from an N-Triples file."""
    dump = workdir / "esco.nt"
    graph = next(iter(store.named_graphs()))
    store.dump(str(dump), format=RdfFormat.N_TRIPLES, from_graph=graph)
    peer = Store(str(workdir / "peer"))
    started = time.perf_counter()
    peer.bulk_load(path=str(dump), format=RdfFormat.N_TRIPLES, to_graph=graph)
    peer.flush()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    package = args.data_dir / "esco" / "v1.1.1"
    if not package.is_dir():
        raise SystemExit(f"ESCO v1.1.1 not found at {package}; pass --data-dir")

    times: list[float] = []
    cpu_times: list[float] = []
    triples = 0
    with tempfile.TemporaryDirectory() as tmp:
        last: Store | None = None
        for i in range(args.repeat):
            seconds, cpu, last = import_once(package, Path(tmp) / f"run{i}")
            times.append(seconds)
            cpu_times.append(cpu)
            triples = len(last)
        best, median = min(times), statistics.median(times)
        csv_seconds, rows = csv_only(package)
        assert last is not None
        nt_seconds = oxigraph_ntriples(last, Path(tmp))

    size = sum(
        len(gzip.decompress(p.read_bytes())) if p.suffix == ".gz" else p.stat().st_size
        for p in package.rglob("*.csv*")
    )
    print(f"ESCO v1.1.1 CSV import ({rows:,} CSV rows, {size / 1e6:.1f} MB uncompressed)")
    print(f"  runs            : {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"  median / best   : {median:.2f} s / {best:.2f} s")
    print(f"  CPU per run     : {statistics.median(cpu_times):.2f} s (median)")
    print(f"  load average    : {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  triples         : {triples:,}")
    print(f"  triples per sec : {triples / median:,.0f} (median run)")
    verdict = "meets" if median < TARGET_SECONDS else "MISSES"
    print(
        f"  target          : {TARGET_SECONDS:.0f} s -> {median / TARGET_SECONDS:.2f} of target "
        f"({verdict})"
    )
    print("peers on the same data")
    print(
        f"  csv module only : {csv_seconds:.2f} s   (import / csv-only = "
        f"{median / csv_seconds:.1f}x)"
    )
    print(
        f"  oxigraph N-Triples bulk load of the same triples: {nt_seconds:.2f} s   "
        f"(import / oxigraph = {median / nt_seconds:.1f}x)"
    )


if __name__ == "__main__":
    main()
