"""Benchmark: what a second ESCO release and its delta cost a build, as ratios against a peer
build without it, run side by side on the same machine and data.

    .venv/bin/python benchmarks/bench_releases.py [--data-dir DIR] [--repeat N]

Two configurations of the repository's kll-graph.toml on the real data, built alternately
(one, two, one, two, ...) into fresh stores:

- one release: every configured source but ESCO v1.2.0;
- two releases: the same plus ESCO v1.2.0 (partial package), which adds its graph, the
  comparison with v1.1.1 (changes.json) and the pair's insertions and deletions graphs.

Prints per configuration the median wall time, CPU time of the build process (less sensitive
to a busy machine), triples and store size on disk; then the ratios two / one with the target
(at most 1.30 for build time), and what the second release's own steps took (its import, the
comparison and delta graphs) from the build manifest.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

from kll_graph.build.pipeline import build
from kll_graph.settings import REPO_ROOT, Settings, load_settings

TARGET = 1.30


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _settings(data_dir: Path, store: Path, second: bool) -> Settings:
    settings = load_settings(config_file=REPO_ROOT / "kll-graph.toml", env={})
    sources = tuple(
        s for s in settings.sources if second or not (s.id == "esco" and s.version == "v1.2.0")
    )
    if not second:
        sources = tuple(
            dataclasses.replace(s, current=True) if s.id == "esco" else s for s in sources
        )
    return settings.replace(data_dir=data_dir, store=store, sources=sources)


def build_once(settings: Settings) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = build(settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    steps = result.manifest.steps
    sources = result.manifest.sources
    second = sources.get("esco@v1.2.0")
    return {
        "wall": wall,
        "cpu": cpu,
        "triples": float(result.manifest.triples),
        "bytes": float(_size(result.path)),
        "import_second": second.seconds if second else 0.0,
        "changes": float(steps.get("changes", {}).get("seconds", 0.0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not (args.data_dir / "esco" / "v1.2.0-partial").is_dir():
        raise SystemExit(f"ESCO v1.2.0 not found under {args.data_dir}; pass --data-dir")
    runs: dict[str, list[dict[str, float]]] = {"one": [], "two": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for name in ("one", "two"):
                store = Path(tmp) / f"{name}{i}"
                figures = build_once(_settings(args.data_dir, store, name == "two"))
                runs[name].append(figures)
                print(
                    f"run {i + 1} {name:<3}: {figures['wall']:.1f} s wall, "
                    f"{figures['cpu']:.1f} s CPU",
                    flush=True,
                )

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.repeat} run(s) each"
    )
    print(f"{'':<22}{'one release':>14}{'two releases':>14}{'ratio':>8}")
    for key, label, unit in (
        ("wall", "build wall time", "s"),
        ("cpu", "build CPU time", "s"),
        ("triples", "triples", ""),
        ("bytes", "store size", "MB"),
    ):
        one, two = med("one", key), med("two", key)
        scale = 1e6 if unit == "MB" else 1.0
        shown = (
            (f"{one / scale:,.1f}", f"{two / scale:,.1f}")
            if unit
            else (f"{one:,.0f}", f"{two:,.0f}")
        )
        print(
            f"{label + (f' ({unit})' if unit else ''):<22}"
            f"{shown[0]:>14}{shown[1]:>14}{two / one:>8.2f}"
        )
    ratio = med("two", "wall") / med("one", "wall")
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"target: build time ratio at most {TARGET:.2f} -> {ratio:.2f} ({verdict})")
    print(
        f"second release's own steps (median): import {med('two', 'import_second'):.1f} s, "
        f"comparison and delta graphs {med('two', 'changes'):.1f} s"
    )


if __name__ == "__main__":
    main()
