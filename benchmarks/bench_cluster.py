"""Benchmark of the local cluster (#20): load, latency, memory, and the cost of the safety layer.

    python benchmarks/bench_cluster.py [--store DIR] [--clients 50] [--seconds 60]
                                       [--compare-seconds 20] [--compare-clients 8]

1. The cluster (two replicas with no outbound network, two app processes, HAProxy) under
   `--clients` concurrent clients for `--seconds` of mixed SPARQL and lookups: requests,
   errors, throughput, p50/p99, and the memory (RSS, with child processes) of every process
   after warm-up and at the end, and the anonymous part (RssAnon) every sixth of the run
   (flat means no growth under steady load).
2. Side by side, one after the other on the same build and the same SPARQL mix (varied
   queries, so mostly uncached): one bare `oxigraph serve-read-only`, the cluster's /sparql
   through HAProxy and our safety layer (guard, limits, forwarding to the replicas), and the
   embedded `kll-graph serve`. Throughput, p50/p99 and the ratios.

Target (issue #20): the cluster through the safety layer at least 0.8x one bare replica per
replica, uncached. Every process here shares one machine, so the cluster's replicas and apps
compete for the same cores: read the figures as ratios on this machine, not as capacity.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from kll_graph.replica.cluster import Cluster, free_port, stop_process
from kll_graph.replica.launch import serve_argv, wait_until_answering
from kll_graph.replica.traffic import (
    Outcome,
    Traffic,
    failures,
    mixed_path,
    percentile,
    sparql_path,
)
from kll_graph.settings import load_settings
from kll_graph.testing import clean_env, serving
from procs import rss_kib


def summary(name: str, outcomes: list[Outcome], seconds: float) -> dict[str, float]:
    times = [o.seconds for o in outcomes if o.status and o.status < 500]
    figures = {
        "requests": len(outcomes),
        "errors": len(failures(outcomes)),
        "rps": len(times) / seconds,
        "p50_ms": 1000 * percentile(times, 0.5),
        "p99_ms": 1000 * percentile(times, 0.99),
    }
    print(
        f"  {name:<34} {figures['requests']:>7} req  {figures['errors']:>3} errors  "
        f"{figures['rps']:>7.1f} req/s  p50 {figures['p50_ms']:>7.1f} ms  "
        f"p99 {figures['p99_ms']:>7.1f} ms"
    )
    return figures


def load(
    url: str, clients: int, seconds: float, path: Callable[[int], str], warm: float = 0.0
) -> tuple[list[Outcome], float]:
    """Outcomes of `clients` clients asking `path(n)` for `seconds`, after `warm` seconds of
    the same load whose outcomes are dropped (worker processes started, pages cached)."""
    address = urlsplit(url)
    assert address.hostname is not None and address.port is not None
    if warm:
        Traffic(address.hostname, address.port, clients, paths=path).run_for(warm)
    traffic = Traffic(address.hostname, address.port, clients, paths=path)
    started = time.monotonic()
    outcomes = traffic.run_for(seconds)
    return outcomes, time.monotonic() - started


def memory(cluster: Cluster, field: str = "VmRSS") -> dict[str, int]:
    parts = [*cluster.current.replicas, *cluster.current.apps]
    out = {p.name.split("_")[0]: rss_kib(p.proc.pid, field) for p in parts}
    if cluster.haproxy is not None:
        out["haproxy"] = rss_kib(cluster.haproxy.pid, field)
    return out


def sample_memory(cluster: Cluster, every: float, stop: threading.Event) -> list[dict[str, int]]:
    """Anonymous memory of every part, every `every` seconds until `stop` is set (in a thread;
    the list fills as it goes)."""
    samples: list[dict[str, int]] = []

    def run() -> None:
        while not stop.wait(every):
            samples.append(memory(cluster, "RssAnon"))

    threading.Thread(target=run, daemon=True).start()
    return samples


def run_cluster_load(cluster: Cluster, clients: int, seconds: float) -> None:
    print(f"\n1. cluster under {clients} clients for {seconds:g} s (mixed SPARQL + lookups)")
    load(cluster.url, clients, min(10.0, seconds / 6), mixed_path)  # warm-up
    before = memory(cluster)
    stop = threading.Event()
    samples = sample_memory(cluster, seconds / 6, stop)
    outcomes, took = load(cluster.url, clients, seconds, mixed_path)
    stop.set()
    after = memory(cluster)
    summary("cluster, mixed", outcomes, took)
    for kind, prefix in (("SPARQL", "/sparql"), ("lookups", "/api/")):
        summary(f"  of which {kind}", [o for o in outcomes if o.path.startswith(prefix)], took)
    builds = {o.build for o in outcomes}
    print(f"  builds named in responses: {sorted(b or '-' for b in builds)}")
    print("  memory (RSS incl. children, MiB) after warm-up -> end:")
    for name in before:
        print(f"    {name:<10} {before[name] / 1024:8.1f} -> {after[name] / 1024:8.1f}")
    print(f"  anonymous memory (RssAnon incl. children, MiB) every {seconds / 6:g} s under load:")
    for name in before:
        print(f"    {name:<10} " + " ".join(f"{s[name] / 1024:7.1f}" for s in samples))


def compare(cluster: Cluster, store: Path, clients: int, seconds: float) -> None:
    print(f"\n2. side by side: the same SPARQL mix, {clients} clients, {seconds:g} s each")
    results: dict[str, dict[str, float]] = {}
    location = cluster.work / "replicas" / cluster.current.build_id
    port = free_port()
    bare = subprocess.Popen(
        serve_argv(location, f"127.0.0.1:{port}", 10, union_default_graph=True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/query", 30, None)
        outcomes, took = load(
            f"http://127.0.0.1:{port}", clients, seconds, lambda n: sparql_path(n, "/query"), 3
        )
        results["bare"] = summary("one bare oxigraph serve-read-only", outcomes, took)
    finally:
        stop_process(bare)
    outcomes, took = load(cluster.url, clients, seconds, sparql_path, 3)
    via = "2 apps via 2 replicas" if cluster.use_backend else "2 apps on the store"
    results["cluster"] = summary(f"cluster /sparql ({via})", outcomes, took)
    env = clean_env(query_timeout="10")
    with serving("serve", "--store", str(store), "--port", "0", env=env) as (_, url):
        outcomes, took = load(url, clients, seconds, sparql_path, 5)
        results["embedded"] = summary("embedded kll-graph serve", outcomes, took)
    bare_rps = results["bare"]["rps"]
    replicas = len(cluster.current.replicas)
    print(
        f"  ratios: cluster/bare {results['cluster']['rps'] / bare_rps:.2f}x, "
        f"cluster per replica/bare {results['cluster']['rps'] / replicas / bare_rps:.2f}x "
        f"(target >= 0.8x), embedded/bare {results['embedded']['rps'] / bare_rps:.2f}x, "
        f"cluster/embedded {results['cluster']['rps'] / results['embedded']['rps']:.2f}x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--compare-clients", type=int, default=8)
    parser.add_argument("--compare-seconds", type=float, default=20.0)
    parser.add_argument(
        "--work",
        type=Path,
        help="cluster directory to keep (its dumps/ and replicas/ are reused; default: temporary)",
    )
    parser.add_argument(
        "--direct-sparql",
        action="store_true",
        help="the cluster's /sparql goes straight to the replicas (HAProxy's pre-filter)",
    )
    parser.add_argument(
        "--skip-compare", action="store_true", help="only the load run (part 1), not part 2"
    )
    parser.add_argument(
        "--apps-on-store",
        action="store_true",
        help="run the apps on the store, not through the replicas (`serve` without --backend)",
    )
    args = parser.parse_args()
    store = (args.store or load_settings().store).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as temporary:
        cluster = Cluster(
            args.work or Path(temporary),
            store,
            timeout_s=10,
            use_backend=False if args.apps_on_store else None,
            direct_sparql=args.direct_sparql,
        )
        started = time.monotonic()
        cluster.start()
        print(
            f"cluster of build {cluster.current.build_id} up in {time.monotonic() - started:.0f} s "
            f"at {cluster.url} (apps via {'replicas' if cluster.use_backend else 'the store'}"
            f"{'; /sparql direct to the replicas' if cluster.direct_sparql else ''}); "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        try:
            run_cluster_load(cluster, args.clients, args.seconds)
            if not args.skip_compare:
                compare(cluster, store, args.compare_clients, args.compare_seconds)
            print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
