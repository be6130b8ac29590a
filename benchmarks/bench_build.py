"""Benchmark: `kll-graph build` of a 1M-triple N-Triples file against `oxigraph load`, side by side.

Both load the same generated SKOS-like file into a fresh directory; each is run REPEAT times,
alternating, and the best wall-clock time of each is compared. kll-graph's time includes what a
build adds (lock, catalog with sha256 of the source, triple counts, build steps, switch).
Target: kll-graph within 1.3x of oxigraph load.

    .venv/bin/python benchmarks/bench_build.py [--triples 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def write_ntriples(path: Path, triples: int) -> None:
    """Concepts with a type, a label, a notation and a broader link: 4 triples each."""
    ex = "http://example.org/bench/"
    skos = "http://www.w3.org/2004/02/skos/core#"
    with path.open("w", encoding="utf-8") as out:
        for i in range(triples // 4):
            s = f"<{ex}c{i}>"
            out.write(f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{skos}Concept> .\n")
            out.write(f'{s} <{skos}prefLabel> "begrepp {i}"@sv .\n')
            out.write(f'{s} <{skos}notation> "{i:07d}" .\n')
            out.write(f"{s} <{skos}broader> <{ex}c{i // 10}> .\n")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLL_")}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "bench.nt"
        write_ntriples(data, args.triples)
        config = tmp / "kll-graph.toml"
        config.write_text(
            f'[settings]\ndata_dir = "{tmp}"\nstore = "{tmp / "kll"}"\nkeep_builds = 1\n'
            '[[sources]]\nid = "bench"\nimporter = "rdf"\npath = "bench.nt"\n',
            encoding="utf-8",
        )
        kll_times, oxi_times = [], []
        for _ in range(args.repeat):
            shutil.rmtree(tmp / "kll", ignore_errors=True)
            kll_times.append(timed([str(BIN / "kll-graph"), "--config", str(config), "build"], env))
            shutil.rmtree(tmp / "oxi", ignore_errors=True)
            oxi_times.append(
                timed(
                    [
                        str(BIN / "oxigraph"),
                        "load",
                        "--location",
                        str(tmp / "oxi"),
                        "--file",
                        str(data),
                    ],
                    env,
                )
            )
    kll_best, oxi_best = min(kll_times), min(oxi_times)
    print(f"triples            {args.triples:,}")
    print(f"kll-graph build    best {kll_best:6.2f} s  ({args.triples / kll_best:,.0f} triples/s)")
    print(f"oxigraph load      best {oxi_best:6.2f} s  ({args.triples / oxi_best:,.0f} triples/s)")
    print(f"ratio kll/oxigraph {kll_best / oxi_best:.2f}x  (target <= 1.30x)")


if __name__ == "__main__":
    main()
