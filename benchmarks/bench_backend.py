"""Benchmark of the remote backend layer (#20 item 1): what `kll-graph serve --backend` costs in
front of the replicas, on light uncached SPARQL.

    python benchmarks/bench_backend.py [--store DIR] [--clients 8] [--seconds 10] [--rounds 3]

Side by side, in alternating rounds on the same build and the same query mix (every query text
unique, and the app's result and response caches off, so nothing is answered from a cache):

* `bare`: one `oxigraph serve-read-only` reached directly (its own `/query`, union default graph);
* `app x1`: `kll-graph serve --backend` over that one replica (guard, limits, forwarding);
* `app x2`: `kll-graph serve --backend` over two replicas of the build.

Printed per target: requests, errors, throughput, p50/p99, and the ratio of throughput to the
bare replica, per replica. Target (issue #20): at least 0.8x one bare replica per replica.
Everything shares this machine's cores (replicas, app processes and the load generator), so read
the ratios, not the absolute figures, and note the load average printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from kll_graph.replica.launch import serve_argv
from kll_graph.replica.traffic import Outcome, Traffic, failures, percentile, sparql_path
from kll_graph.store import OXIGRAPH_DIR, StoreLayout
from kll_graph.testing import clean_env, free_port, serving


@contextmanager
def replica(location: Path, timeout_s: int) -> Iterator[str]:
    """A bare replica on a free port: its query endpoint URL."""
    port = free_port()
    proc = subprocess.Popen(
        serve_argv(location, f"127.0.0.1:{port}", timeout_s, union_default_graph=True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        _wait(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def _wait(url: str) -> None:
    import urllib.request  # only the benchmark's readiness check

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within 60 s")


def measure(url: str, paths: Callable[[int], str], clients: int, seconds: float) -> list[Outcome]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    traffic = Traffic(parts.hostname, parts.port, clients, paths=paths)
    traffic.run_for(1.0)  # warm-up: connections, first queries
    traffic = Traffic(parts.hostname, parts.port, clients, paths=paths)
    return traffic.run_for(seconds)


def summary(outcomes: list[Outcome], seconds: float) -> tuple[int, int, float, float, float]:
    done = [o for o in outcomes if o.status == 200]
    times = [o.seconds for o in done]
    return (
        len(outcomes),
        len(failures(outcomes)) + len([o for o in outcomes if 300 <= o.status < 500]),
        len(done) / seconds,
        percentile(times, 0.5) * 1000,
        percentile(times, 0.99) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/real-store"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    build = StoreLayout(args.store).current_build()
    if build is None:
        raise SystemExit(f"no build in {args.store}; run `kll-graph build --store {args.store}`")
    location = build / OXIGRAPH_DIR
    with ExitStack() as stack:
        first = stack.enter_context(replica(location, 30))
        second = stack.enter_context(replica(location, 30))
        apps = {}
        for name, urls in (("app x1", first), ("app x2", f"{first},{second}")):
            env = clean_env(
                backend=urls,
                backend_dump=str(build),
                store=str(args.store),
                query_cache_mb="0",
                response_cache_mb="0",
            )
            _pid, app_url = stack.enter_context(serving("serve", "--port", "0", env=env))
            apps[name] = (app_url, 2 if "x2" in name else 1)
        targets: dict[str, tuple[str, Callable[[int], str], int]] = {
            "bare": (first, lambda n: sparql_path(n, "/query"), 1),
            **{
                name: (url, lambda n: sparql_path(n, "/sparql"), count)
                for name, (url, count) in apps.items()
            },
        }
        results: dict[str, list[tuple[int, int, float, float, float]]] = {t: [] for t in targets}
        for round_ in range(args.rounds):
            for name, (url, paths, _count) in targets.items():
                outcomes = measure(url, paths, args.clients, args.seconds)
                results[name].append(summary(outcomes, args.seconds))
                bad = Counter((o.status, o.error) for o in outcomes if o.status != 200)
                if bad:
                    print(f"  {name}: failed requests {bad.most_common(3)}")
            print(f"round {round_ + 1}/{args.rounds} done; load average {os.getloadavg()[0]:.1f}")
    print(
        f"\nbuild {build.name}; {args.clients} clients; {args.rounds} rounds of {args.seconds:g} s"
        " per target (medians over rounds); light uncached SPARQL (unique texts, caches off)"
    )
    bare_rps = statistics.median(r[2] for r in results["bare"]) or float("nan")
    print(
        f"{'target':<8} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'x bare':>7} {'x bare per replica':>19}"
    )
    for name, (_url, _paths, count) in targets.items():
        rows = results[name]
        requests = sum(r[0] for r in rows)
        errors = sum(r[1] for r in rows)
        rps = statistics.median(r[2] for r in rows)
        p50 = statistics.median(r[3] for r in rows)
        p99 = statistics.median(r[4] for r in rows)
        ratio = rps / bare_rps
        print(
            f"{name:<8} {requests:>9} {errors:>7} {rps:>8.1f} {p50:>8.1f} {p99:>8.1f}"
            f" {ratio:>7.2f} {ratio / count:>19.2f}"
        )
    print("target: >= 0.80 x one bare replica per replica")


if __name__ == "__main__":
    main()
