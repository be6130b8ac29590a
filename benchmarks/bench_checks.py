"""Benchmark: the whole quality check on the real data, seconds per check.

Usage::

    .venv/bin/python benchmarks/bench_checks.py [--store DIR] [--data-dir DIR] [--repeat N]

Without --store it builds the real data (../shared/data) into a temporary store first (the build
itself is not timed here). It then runs every check on that store, each in a fresh context as
`kll-graph check --rerun` does, and prints seconds per check (wall and CPU), the shared lookups
the first check that needs them pays for, the total against the 30 s target, and how many
representatives pySHACL validated for how many focus nodes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from kll_graph.build.pipeline import build
from kll_graph.quality import CheckContext, registered_checks, run_check
from kll_graph.settings import REPO_ROOT, Settings, load_settings
from kll_graph.store import CurrentStore

TARGET_SECONDS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an already built store root")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole check")
    args = parser.parse_args()

    settings = load_settings(config_file=REPO_ROOT / "kll-graph.toml", env={})
    if args.store is not None:
        return measure(settings.replace(store=args.store), args.repeat)
    if not (args.data_dir / "jobtech").is_dir():
        print(f"real data not found at {args.data_dir}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-checks-") as root:
        settings = settings.replace(store=Path(root) / "store", data_dir=args.data_dir)
        started = time.perf_counter()
        result = build(settings)
        print(
            f"built {result.triples:,} triples in {time.perf_counter() - started:.1f} s "
            f"(not part of the figures below)"
        )
        return measure(settings, args.repeat)


def measure(settings: Settings, repeat: int) -> int:
    """Run every check `repeat` times on the current store of `settings`, printing figures."""
    served = CurrentStore(settings.store).get()
    print(f"store {served.path} ({served.manifest.triples:,} triples)")
    totals = []
    for run in range(1, repeat + 1):
        ctx = CheckContext(served.store, settings)
        wall_total = cpu_total = 0.0
        print(f"\nrun {run}: {'check':<34} {'wall s':>8} {'cpu s':>8} {'findings':>9}  status")
        for chk in registered_checks():
            wall, cpu = time.perf_counter(), time.process_time()
            result = run_check(ctx, chk, chk.severity)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall_total += wall
            cpu_total += cpu
            figures = f"{wall:>8.2f} {cpu:>8.2f} {result.count:>9}"
            print(f"       {chk.id:<34} {figures}  {result.status}")
        totals.append(wall_total)
        print(f"       {'total':<34} {wall_total:>8.2f} {cpu_total:>8.2f}")
        if "shacl_groups" in ctx.stats:
            focus, groups = ctx.stats["shacl_focus_nodes"], ctx.stats["shacl_groups"]
            print(
                f"       pySHACL validated {groups:,} representatives for {focus:,} focus nodes "
                f"({focus / max(groups, 1):.0f}x fewer)"
            )
    best = min(totals)
    verdict = "met" if best < TARGET_SECONDS else "MISSED"
    print(
        f"\nwhole check: best {best:.2f} s of {len(totals)} run(s); "
        f"target {TARGET_SECONDS:.0f} s; ratio to target {best / TARGET_SECONDS:.2f} ({verdict})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
