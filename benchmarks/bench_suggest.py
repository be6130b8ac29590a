"""Benchmark: `kll-graph mappings suggest --all` on the full real data, stage by stage.
Target (issue #15): every type in about a minute or less.

    python benchmarks/bench_suggest.py [--store DIR] [--data-dir DIR] [--repeat 2]

Builds the store first (with the official tables: their rows are the reviewed mappings the
skills' model reads) when DIR has no build. Prints, per stage, wall and CPU seconds (median of
the repeats): reading the vocabularies, reading the reviewed mappings, matching each type,
writing the set; the total against the target; the process's peak memory; and, as a peer run
side by side, the seconds sssom-py needs only to read the set we wrote against our writer's.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bench_mappings import sssom_py_read
from bench_reconcile import ensure_store
from kll_graph.mappings.matcher import DEFAULT_TYPES, Suggestions, read_vocabularies, suggest
from kll_graph.mappings.suggestions import candidate_set, reviewed_pairs, write_candidates
from kll_graph.settings import REPO_ROOT, Settings
from kll_graph.store import CurrentStore, embedded_store

TARGET_SECONDS = 60.0
T = TypeVar("T")


def timed(times: dict[str, tuple[float, float]], stage: str, work: Callable[[], T]) -> T:
    """Run `work`, noting its wall and CPU seconds under `stage`."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    times[stage] = (time.perf_counter() - wall, time.process_time() - cpu)
    return result


def run_once(store: CurrentStore, base_iri: str, out: Path) -> dict[str, tuple[float, float]]:
    """One `suggest --all` of every type, as the command runs it."""
    times: dict[str, tuple[float, float]] = {}
    served = store.get()
    graph = embedded_store(served)
    vocabularies = timed(
        times, "read vocabularies", lambda: read_vocabularies(graph, base_iri, DEFAULT_TYPES)
    )
    reviewed = timed(times, "read reviewed", lambda: reviewed_pairs(served.store))
    result = Suggestions()
    for name in DEFAULT_TYPES:
        found = timed(
            times, f"match {name}", lambda n=name: suggest(vocabularies, [n], reviewed=reviewed)
        )
        result.by_type.update(found.by_type)
        result.skipped.update(found.skipped)
        times[f"_rows {name}"] = (sum(len(rows) for rows in found.by_type[name]), 0.0)
    mset = candidate_set(result, served.manifest, DEFAULT_TYPES)
    timed(times, "write", lambda: write_candidates(mset, out))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/bench-store"))
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    store = ensure_store(args.store, args.data_dir)
    base_iri = Settings().base_iri
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "candidates.sssom.tsv"
        runs = [run_once(store, base_iri, out) for _ in range(args.repeat)]
        text = out.read_text(encoding="utf-8")
    stages = [s for s in runs[0] if not s.startswith("_")]
    print(f"suggest --all on {args.store}, median of {args.repeat} runs (wall s / CPU s)")
    for stage in stages:
        wall = statistics.median(r[stage][0] for r in runs)
        cpu = statistics.median(r[stage][1] for r in runs)
        rows = runs[0].get(f"_rows {stage.removeprefix('match ')}")
        extra = f"  {int(rows[0]):,} candidates" if rows and stage.startswith("match") else ""
        print(f"  {stage:<24} {wall:6.1f} {cpu:6.1f}{extra}")
    total = statistics.median(sum(r[s][0] for s in stages) for r in runs)
    verdict = "meets" if total <= TARGET_SECONDS else "MISSES"
    ratio = total / TARGET_SECONDS
    print(f"  total {total:.1f} s = {ratio:.2f} x the {TARGET_SECONDS:.0f} s target ({verdict} it)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"  peak memory of this process {peak:.2f} GiB")
    ours = statistics.median(r["write"][0] for r in runs)
    peer = sssom_py_read(text)
    if peer is not None:
        print(f"  sssom-py parse_sssom_table of the written set: {peer:.1f} s "
              f"({peer / ours:.1f} x our writing it)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
