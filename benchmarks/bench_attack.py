"""Load check under attack: honest clients beside slow-body and deep-nesting attackers.

    .venv/bin/python benchmarks/bench_attack.py [--store DIR] [--data-dir DIR]
        [--clients 50] [--seconds 60]

Starts `kll-graph serve` as deployed (one server process per CPU) on the real data (built into
a temporary store first when no --store or $KLL_STORE holds a build), then runs `--clients`
honest client processes for `--seconds`, each sending a random mix of SPARQL queries, lookups
(search, autocomplete, resolve) and HTML pages, twice: alone, and while attackers run beside
them:

- slow bodies: 200 connections at a time, each declaring a 100 KB body and sending 6 bytes of
  it, reopened as the server closes them (408 after `body_timeout`);
- deep nesting: 3 clients sending, back to back, queries 3,000 braces deep and 10,000 UNIONs
  long (each refused with 400 before it reaches a worker).

Prints both runs side by side (requests, throughput, p50, p95, p99, honest errors) and the
ratios under attack / alone. The check passes when the honest clients saw no error under attack;
the exit status is 1 otherwise.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from http_load import Figures, load, start_kll
from kll_graph.build.pipeline import build
from kll_graph.settings import REPO_ROOT, load_settings

LOOKUPS = ["sjuksköterska", "lärare", "nurse", "teacher", "svets", "data", "2512", "kock"]
LIGHT_SPARQL = [
    "SELECT ?l WHERE { ?c skos:prefLabel ?l } LIMIT {n}",
    "SELECT ?c WHERE { ?c a skos:Concept } LIMIT {n}",
    "ASK { ?s skos:exactMatch ?o }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?c skos:inScheme ?s } GROUP BY ?s LIMIT {n}",
]


def honest_paths() -> list[str]:
    """The honest mix: a third SPARQL (some distinct, so not all from the cache), lookups,
    pages."""
    rng = random.Random(7)
    paths = []
    for i in range(300):
        query = rng.choice(LIGHT_SPARQL).replace("{n}", str(1 + i % 50))
        paths.append("/sparql?" + urllib.parse.urlencode({"query": query}))
    for word in LOOKUPS:
        quoted = urllib.parse.quote(word)
        paths += [
            f"/api/v1/search?q={quoted}",
            f"/api/v1/autocomplete?q={quoted[:3]}",
            f"/search?q={quoted}",
        ] * 12
    paths += ["/", "/sparql", "/-/health", "/schemes"] * 20
    return paths


class Attackers:
    """Slow-body and deep-nesting attackers in threads, until stopped; counts what they sent."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = str(parts.hostname), int(parts.port or 80)
        self.stop = threading.Event()
        self.slow_opened = 0
        self.deep_sent = 0
        self.deep_refused = 0
        self.threads = [threading.Thread(target=self._slow_bodies, daemon=True)]
        self.threads += [threading.Thread(target=self._deep, daemon=True) for _ in range(3)]

    def __enter__(self) -> Attackers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _slow_bodies(self) -> None:
        open_socks: list[socket.socket] = []
        head = (
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 100000\r\n\r\nSELECT"
        )
        while not self.stop.is_set():
            while len(open_socks) < 200 and not self.stop.is_set():
                try:
                    sock = socket.create_connection((self.host, self.port), timeout=5)
                    sock.sendall(head)
                    sock.setblocking(False)
                except OSError:
                    time.sleep(0.1)
                    continue
                open_socks.append(sock)
                self.slow_opened += 1
            time.sleep(0.2)
            still = []
            for sock in open_socks:  # the ones the server answered and closed are replaced
                try:
                    if sock.recv(65536) == b"":
                        sock.close()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    sock.close()
                    continue
                still.append(sock)
            open_socks = still
        for sock in open_socks:
            sock.close()

    def _deep(self) -> None:
        queries = [
            "SELECT * WHERE " + "{" * 3000 + "}" * 3000,
            "SELECT * WHERE { " + " UNION ".join(["{?s ?p ?o}"] * 10_000) + " }",
        ]
        headers = {"Content-Type": "application/sparql-query", "Accept": "text/csv"}
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        while not self.stop.is_set():
            try:
                connection.request("POST", "/sparql", body=random.choice(queries), headers=headers)
                response = connection.getresponse()
                response.read()
                self.deep_sent += 1
                self.deep_refused += response.status == 400
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        connection.close()


def row(name: str, figures: Figures) -> str:
    return (
        f"| {name} | {figures.requests:,} | {figures.throughput:,.0f} | {figures.p50_ms:.1f} | "
        f"{figures.p95_ms:.1f} | {figures.p99_ms:.1f} | {figures.errors} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    store_dir = args.store or (Path(os.environ["KLL_STORE"]) if "KLL_STORE" in os.environ else None)
    with tempfile.TemporaryDirectory() as tmp:
        if store_dir is None or not (store_dir / "current").exists():
            if not (args.data_dir / "jobtech").is_dir():
                sys.exit(f"no store given and no real data at {args.data_dir}")
            store_dir = Path(tmp) / "store"
            print(f"building the real data from {args.data_dir} into {store_dir} ...", flush=True)
            build(load_settings(env={}, store=str(store_dir), data_dir=str(args.data_dir)))
        server, base = start_kll(store_dir)
        try:
            paths = honest_paths()
            load(base, paths[:200], 8)  # warm the caches and workers
            alone = load(base, paths, args.clients, seconds=args.seconds)
            with Attackers(base) as attackers:
                time.sleep(2)  # the slow bodies are all open
                attacked = load(base, paths, args.clients, seconds=args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(f"\n{args.clients} honest clients, {args.seconds:g} s each run, {os.cpu_count()} CPUs")
    print(
        f"attackers: {attackers.slow_opened:,} slow-body connections opened, "
        f"{attackers.deep_sent:,} deep queries sent ({attackers.deep_refused:,} refused with 400)"
    )
    print("\n| run | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    print(row("alone", alone))
    print(row("under attack", attacked))
    print(
        f"\nunder attack / alone: throughput {attacked.throughput / alone.throughput:.2f}x, "
        f"p50 {attacked.p50_ms / alone.p50_ms:.2f}x, p99 {attacked.p99_ms / alone.p99_ms:.2f}x"
    )
    if attacked.errors or alone.errors:
        sys.exit(f"FAIL: the honest clients saw {attacked.errors + alone.errors} errors")
    print("PASS: no honest request failed")


if __name__ == "__main__":
    main()
