"""Benchmark: convert Sweden's official ESCO skills mapping table (20,365 rows) to SSSOM and
compile it into an on-disk Oxigraph store, as the build does. Target: under 3 s in total.

Prints seconds and rows per second for each stage, the ratio to the target, and for comparison
how long the reference implementation (sssom-py) takes only to *read* the SSSOM file we wrote.

    .venv/bin/python benchmarks/bench_mappings.py [--data-dir ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import Store

from kll_graph.mappings.official_tables import convert_tables, default_set_id
from kll_graph.mappings.rdf import set_quads
from kll_graph.mappings.sssom import format_sssom, parse_sssom
from kll_graph.namespaces import catalog_iri, graph_iri
from kll_graph.settings import REPO_ROOT

TABLE = Path("jobtech/esco-mappings/SE_skills_ESCO-1.0.9_taxonomy-v21_2023-11-30.csv")
BASE = "https://w3id.org/kll-graph/"
TARGET_SECONDS = 3.0


def run_once(path: Path) -> dict[str, float]:
    """One conversion and compilation; seconds per stage."""
    times: dict[str, float] = {}
    started = time.perf_counter()
    mset, (table,) = convert_tables([path], default_set_id(BASE, "se-skills-esco"))
    times["convert"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        clock = time.perf_counter()
        graph = graph_iri(BASE, "se-skills-esco", "bench")
        store.bulk_extend(set_quads(mset, graph, catalog_iri(BASE), BASE))
        store.flush()
        times["compile"] = time.perf_counter() - clock
        times["quads"] = len(store)
        del store
    clock = time.perf_counter()
    memory = Store()  # the same quads into an in-memory store: Python's share of the work
    memory.bulk_extend(set_quads(mset, graph, catalog_iri(BASE), BASE))
    times["in-memory"] = time.perf_counter() - clock
    del memory
    times["total"] = times["convert"] + times["compile"]
    times["rows"] = table.data_rows
    clock = time.perf_counter()
    text = format_sssom(mset)
    times["write"] = time.perf_counter() - clock
    clock = time.perf_counter()
    parse_sssom(text)
    times["read"] = time.perf_counter() - clock
    times["_text"] = text  # type: ignore[assignment]
    return times


def sssom_py_read(text: str) -> float | None:
    """Seconds sssom-py needs to parse the same SSSOM file (None when it is not installed)."""
    try:
        from sssom.parsers import parse_sssom_table
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "skills.sssom.tsv"
        path.write_text(text, encoding="utf-8")
        clock = time.perf_counter()
        parse_sssom_table(path)
        return time.perf_counter() - clock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    path = args.data_dir / TABLE
    if not path.is_file():
        print(f"table not found: {path} (give --data-dir)", file=sys.stderr)
        return 2
    runs = [run_once(path) for _ in range(args.repeat)]
    rows = int(runs[0]["rows"])
    print(f"{path.name}: {rows:,} rows -> {int(runs[0]['quads']):,} quads; median of {args.repeat}")
    print("  (compile = into an on-disk store as the build does; in-memory = same quads, no disk)")
    for stage in ("convert", "compile", "in-memory", "total", "write", "read"):
        seconds = statistics.median(r[stage] for r in runs)  # type: ignore[misc]
        print(f"  {stage:<8} {seconds:6.2f} s  {rows / seconds:>10,.0f} rows/s")
    total = statistics.median(r["total"] for r in runs)  # type: ignore[misc]
    verdict = "meets" if total < TARGET_SECONDS else "MISSES"
    ratio = total / TARGET_SECONDS
    print(
        f"  convert+compile {total:.2f} s = {ratio:.2f} x the {TARGET_SECONDS:.0f} s target "
        f"({verdict} it)"
    )
    peer = sssom_py_read(str(runs[0]["_text"]))
    if peer is not None:
        read = statistics.median(r["read"] for r in runs)  # type: ignore[misc]
        print(f"  sssom-py parse_sssom_table of the same file: {peer:.2f} s "
              f"({peer / read:.1f} x our reader)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
