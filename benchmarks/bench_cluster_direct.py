"""Benchmark of the direct SPARQL path (#20 item 3) against a bare replica, side by side.

    python benchmarks/bench_cluster_direct.py [--store DIR] [--work DIR] [--clients 8]
                                              [--seconds 15] [--rounds 2]

Starts the cluster with `direct_sparql` (two replicas with no outbound network, two apps,
HAProxy with the pre-filter) and one bare `oxigraph serve-read-only` on the same loaded store,
then runs the same uncached SPARQL mix (replica.traffic's, every request a new query) with
`wrk` (Debian package; C, so the load generator leaves the cores to the targets) against, in turn:

* `bare`: the bare engine, the query as the client wrote it (union default graph);
* `bare+dataset`: the bare engine, asked what the direct path asks of a replica (our prefixes
  and, on a store with older releases, the current releases' graphs as the dataset): the engine's
  own cost of answering as the embedded store does, without HAProxy;
* `direct`: the cluster's public `/sparql`, through HAProxy's pre-filter to the two replicas;
* `via apps`: the same URL with `format=json`, which the pre-filter leaves to the apps (the path
  every query took before): guard, forwarding, replicas;
* `embedded`: one `kll-graph serve --store` on the same build (the default deployment: our own
  guard and query workers on the embedded store), its `/sparql`.

The targets take turns (`--rounds` times each, interleaved), so a build another user starts
on this shared machine falls on all of them alike; the load average is printed with each turn.
Figures are throughput, p50 and p99 per target (all turns together) and the ratios. The issue's
target is the direct path at 0.8x one bare replica per replica; on one machine the two replicas
share the cores the one bare engine has to itself, so read `direct/bare` (same cores) too.

`--pinned` stands in for replicas on machines of their own: the cluster gets one replica, and it
and the bare engine run on the last core only (every thread, see :func:`pin`), while HAProxy,
the apps and wrk share the other cores, the "load balancer machine". Each engine then has the
same one core, so `direct/bare` is what one replica behind the safety layer gives against the
same replica reached directly: the per-replica ratio, without the balancer's own work taking
the engine's CPU (as it would not on separate machines). Needs two cores or more.

Throughput on a shared machine moves with whatever else runs on it, so each turn also counts
the CPU time each part used (user + system, from /proc, the process and all its descendants)
and prints it per answered request: the engines', HAProxy's and the apps'. On separate machines
a replica's throughput is its core count over its CPU per request, so `bare engine CPU /
direct engine CPU` is the per-replica ratio the safety layer leaves when the balancer has
cores of its own, and HAProxy's CPU per request says how many requests one balancer core
passes. These figures hold however loaded the machine is (CPU time, not wall time).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from kll_graph.namespaces import PREFIXES, kll
from kll_graph.replica.cluster import Cluster, free_port, stop_process
from kll_graph.replica.launch import serve_argv, wait_until_answering
from kll_graph.replica.traffic import SPARQL
from kll_graph.settings import load_settings
from kll_graph.sparql.remote import request_prologue
from kll_graph.testing import clean_env, serving
from procs import cpu_seconds, pin


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


#: The wrk script that varies each request's path (Debian package `wrk`: a load generator in C,
#: so the generator does not take the CPU the targets need on a small machine).
WRK_SCRIPT = Path(__file__).with_name("wrk_paths.lua")
#: The engines' --timeout-s. Short because the engine starts a thread per query that lives the
#: whole limit (replica.cluster.DIRECT_QUERIES_PER_LIMIT): at the bare engine's full speed a
#: 10 s limit ran it out of memory mappings and it aborted. The mix has no slow query.
LIMIT_S = 2


def templates(prefix: str, prologue: str = "", suffix: str = "") -> list[str]:
    """The SPARQL mix as wrk path templates (see WRK_SCRIPT): `prefix` is the endpoint path,
    `prologue` PREFIX lines sent with each query, `suffix` more Protocol parameters."""
    paths = []
    for text in SPARQL:
        query = text.format(n="\x01", o="\x02", m="\x03")
        used = "".join(line + "\n" for line in prologue.splitlines() if line.split()[1] in query)
        paths.append(f"{prefix}?{urlencode({'query': used + query})}{suffix}")
    return paths


def run(
    url: str,
    paths: list[str],
    clients: int,
    seconds: float,
    work: Path,
    parts: dict[str, list[int]] | None = None,
) -> dict[str, float]:
    """One wrk run of `clients` connections for `seconds`: its figures, with the CPU seconds
    each of `parts` (name: process ids) used meanwhile as `cpu:NAME`."""
    parts = parts or {}
    before = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in parts.items()}
    listing = work / "paths.txt"
    listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
    threads = max(1, min(2, clients))
    argv = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds:g}s"]
    done = subprocess.run(
        [*argv, "--timeout", "30s", "-s", str(WRK_SCRIPT), url, "--", str(listing)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"wrk failed on {url}: {done.stderr or done.stdout}")
    found = next(line for line in done.stdout.splitlines() if line.startswith("WRK "))
    figures = {k: float(v) for k, v in (pair.split("=") for pair in found.split()[1:])}
    for name, pids in parts.items():
        figures[f"cpu:{name}"] = sum(cpu_seconds(pid) for pid in pids) - before[name]
    return figures


def line(name: str, runs: list[dict[str, float]]) -> tuple[float, dict[str, float]]:
    """Throughput over all runs of a target; p50/p99 are the medians of the runs' figures."""
    requests = sum(r["requests"] for r in runs)
    errors = sum(r["errors"] + r["non2xx"] for r in runs)
    rps = (requests - errors) / sum(r["seconds"] for r in runs)
    p50 = sorted(r["p50_ms"] for r in runs)[len(runs) // 2]
    p99 = sorted(r["p99_ms"] for r in runs)[len(runs) // 2]
    cpu = {
        key.split(":", 1)[1]: 1000 * sum(r[key] for r in runs) / max(1.0, requests - errors)
        for key in runs[0]
        if key.startswith("cpu:")
    }
    used = "  ".join(f"{part} {ms:.3f}" for part, ms in cpu.items() if ms > 0.0005)
    print(
        f"  {name:<14} {int(requests):>8} req  {int(errors):>4} errors  {rps:>7.1f} req/s  "
        f"p50 {p50:>7.1f} ms  p99 {p99:>7.1f} ms  CPU ms/request: {used}"
    )
    return rps, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--work", type=Path, help="cluster directory to keep and reuse")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--pinned",
        action="store_true",
        help="one replica and the bare engine on a core of their own",
    )
    args = parser.parse_args()
    engine_cpus: set[int] = set()
    if args.pinned:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("--pinned needs at least two cores")
        engine_cpus = {cpus[-1]}
        os.sched_setaffinity(0, set(cpus[:-1]))  # HAProxy, apps and wrk inherit it
    settings = load_settings()
    store = (args.store or settings.store).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-direct-") as temporary:
        cluster = Cluster(
            args.work or Path(temporary),
            store,
            timeout_s=LIMIT_S,
            direct_sparql=True,
            replicas=1 if args.pinned else 2,
        )
        cluster.start()
        location = cluster.work / "replicas" / cluster.current.build_id
        port = free_port()
        embedded = contextlib.ExitStack()
        bare = subprocess.Popen(
            serve_argv(location, f"127.0.0.1:{port}", LIMIT_S, union_default_graph=True),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_answering(f"http://127.0.0.1:{port}/query", 30, bare)
            serve = ("serve", "--store", str(store), "--port", "0")
            own_pid, own_url = embedded.enter_context(serving(*serve, env=clean_env()))
            if engine_cpus:  # the embedded server is a one-machine deployment: one core too
                engines = [bare.pid, own_pid, *(r.proc.pid for r in cluster.current.replicas)]
                threads = sum(pin(pid, engine_cpus) for pid in engines)
                print(
                    f"pinned: engines ({threads} threads) on cores {sorted(engine_cpus)}, "
                    f"the rest on {sorted(os.sched_getaffinity(0))}"
                )
            prologue = request_prologue(None, {**PREFIXES, "kll": kll(settings.base_iri).iri})
            dataset = "" if cluster.current.dataset == "-" else cluster.current.dataset
            bare_url = f"http://127.0.0.1:{port}"
            targets = {
                "bare": (bare_url, templates("/query")),
                "bare+dataset": (bare_url, templates("/query", prologue, dataset)),
                "direct": (cluster.url, templates("/sparql")),
                "via apps": (cluster.url, templates("/sparql", suffix="&format=json")),
                "embedded": (own_url.rstrip("/"), templates("/sparql")),
            }
            print(
                f"build {cluster.current.build_id}, {args.clients} connections (wrk), "
                f"{args.rounds} x {args.seconds:g} s per target, interleaved; "
                f"dataset parameters: {len(dataset)} bytes; load average {load_average()}"
            )
            assert cluster.haproxy is not None
            parts = {
                "engines": [bare.pid, *(r.proc.pid for r in cluster.current.replicas)],
                "haproxy": [cluster.haproxy.pid],
                "apps": [a.proc.pid for a in cluster.current.apps],
                "embedded": [own_pid],
            }
            for url, paths in targets.values():  # warm-up: page cache, worker processes
                run(url, paths, args.clients, 2, cluster.work)
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
            for round_number in range(args.rounds):
                for name, (url, paths) in targets.items():
                    before = load_average()
                    found = run(url, paths, args.clients, args.seconds, cluster.work, parts)
                    runs[name].append(found)
                    print(f"  round {round_number + 1} {name:<14} load average {before}")
            print("\nresults (all rounds):")
            results = {name: line(name, found) for name, found in runs.items()}
            rps = {name: result[0] for name, result in results.items()}
            cpu = {name: result[1] for name, result in results.items()}
            replicas = len(cluster.current.replicas)
            print(
                f"  ratios: direct/bare {rps['direct'] / rps['bare']:.2f}x, "
                f"direct per replica/bare {rps['direct'] / replicas / rps['bare']:.2f}x "
                f"(target >= 0.8x), "
                f"direct/bare+dataset {rps['direct'] / rps['bare+dataset']:.2f}x, "
                f"via apps/bare {rps['via apps'] / rps['bare']:.2f}x, "
                f"direct/via apps {rps['direct'] / rps['via apps']:.2f}x, "
                f"embedded/bare {rps['embedded'] / rps['bare']:.2f}x, "
                f"direct/embedded {rps['direct'] / rps['embedded']:.2f}x"
            )
            engine_bare, engine_direct = cpu["bare"]["engines"], cpu["direct"]["engines"]
            balancer = cpu["direct"]["haproxy"]
            print(
                f"  by CPU time: engine per request bare {engine_bare:.3f} ms, direct "
                f"{engine_direct:.3f} ms: a replica on its own cores behind the safety layer "
                f"gives {engine_bare / engine_direct:.2f}x a bare one (target >= 0.8x); HAProxy "
                f"with the pre-filter {balancer:.3f} ms per request, so one balancer core "
                f"passes about {1000 / balancer:,.0f} req/s"
            )
            print(f"  load average at the end: {load_average()}")
        finally:
            embedded.close()
            stop_process(bare)
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
