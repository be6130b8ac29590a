#!/usr/bin/env python3
"""`make cluster`: two engine replicas, two app processes and HAProxy on this machine.

    python deploy/cluster.py start [--store DIR] [--work DIR] [--direct-sparql]
                                                               runs until Ctrl-C or `stop`
    python deploy/cluster.py stop [--work DIR]                 stops a running cluster
    python deploy/cluster.py switch [--work DIR]               serve the store's new build

`switch` asks the running cluster (SIGHUP) to serve the store's current build with no failed
request: after `kll-graph build --store DIR`, run it to roll the new build out.

`--direct-sparql` (or KLL_DIRECT_SPARQL=1, as `make cluster` passes it on) sends public `/sparql`
queries from HAProxy straight to the replicas after the pre-filter deploy/sparql_prefilter.lua,
instead of through the apps (docs/deploy.md, "The direct path").
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from kll_graph.exceptions import KllError
from kll_graph.replica.cluster import Cluster
from kll_graph.settings import load_settings


def _start(args: argparse.Namespace) -> int:
    store = args.store or load_settings().store
    cluster = Cluster(
        args.work,
        store,
        timeout_s=args.timeout_s,
        port=args.port,
        use_backend=False if args.apps_on_store else None,
        direct_sparql=args.direct_sparql,
    )
    stopping = False
    switching = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    def hup(signum: int, frame: object) -> None:
        nonlocal switching
        switching = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, hup)
    cluster.start()
    mode = "replicas (--backend)" if cluster.use_backend else "the store (no --backend yet)"
    print(f"kll-graph cluster serving build {cluster.current.build_id} at {cluster.url}")
    print(f"  apps read from {mode}; state in {args.work / 'cluster.json'}; Ctrl-C stops")
    if cluster.direct_sparql:
        print("  /sparql goes straight to the replicas (direct path, pre-filter in HAProxy)")
    try:
        while not stopping:
            if switching:
                switching = False
                try:
                    changed = cluster.switch()
                    print(
                        f"build {cluster.current.build_id}"
                        + (" now served" if changed else " already served")
                    )
                except KllError as exc:
                    print(f"switch failed, the old build keeps serving: {exc}", file=sys.stderr)
            time.sleep(0.2)
    finally:
        cluster.stop()
        print("cluster stopped")
    return 0


def _signal(args: argparse.Namespace, signum: int) -> int:
    state_file = args.work / "cluster.json"
    try:
        state = json.loads(state_file.read_text())
    except FileNotFoundError:
        print(f"no cluster running ({state_file} not found)", file=sys.stderr)
        return 1
    os.kill(int(state["pid"]), signum)
    if signum == signal.SIGTERM:
        for _ in range(300):
            if not state_file.exists():
                break
            time.sleep(0.1)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "switch"])
    parser.add_argument("--store", type=Path, help="built store (default: the store setting)")
    parser.add_argument(
        "--work", type=Path, default=Path("var/cluster"), help="state, logs, replicas"
    )
    parser.add_argument("--port", type=int, default=8080, help="public port (0: a free one)")
    parser.add_argument("--timeout-s", type=float, default=10.0, help="per-query limit")
    parser.add_argument(
        "--apps-on-store",
        action="store_true",
        help="apps read the store, not the replicas (`serve` without --backend)",
    )
    parser.add_argument(
        "--direct-sparql",
        action="store_true",
        default=os.environ.get("KLL_DIRECT_SPARQL", "") not in {"", "0"},
        help="HAProxy sends /sparql straight to the replicas after its pre-filter "
        "(default: through the apps; KLL_DIRECT_SPARQL=1 turns it on)",
    )
    args = parser.parse_args()
    if args.command == "start":
        return _start(args)
    return _signal(args, signal.SIGTERM if args.command == "stop" else signal.SIGHUP)


if __name__ == "__main__":
    sys.exit(main())
