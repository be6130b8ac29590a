"""Benchmark `/sparql` against `oxigraph serve-read-only` on the same store and query mix.

Both servers run as their own processes on the same build (Oxigraph opens the build's store
read-only, with the union default graph like ours and the same query timeout). Client processes
send the same realistic mix over keep-alive HTTP/1.1 at 1, 4 and 16 concurrent clients, for a
fixed time per level, and the script prints throughput, p50 and p99 for both and our ratio:

* uncached: our result cache switched off, so every request runs a query in a worker;
* cached: our caches on (the mix repeats, as real traffic does); Oxigraph has no cache;
* floor: `/-/health` of our server instead of a query, the cheapest request that goes through
  Flask: the most any uncached query could reach, whatever the engine and the workers did;
* engine: no HTTP at all, the client processes themselves open the store read-only and run the
  mix with the engine's own JSON serializer: the CPU the queries alone cost.

An uncached query pays for both floor and engine, so with the CPUs saturated its throughput can
be at most about ``1 / (1/floor + 1/engine)`` (in multiples of Oxigraph's, each ratio measured at
the same number of clients); the script prints that bound under each level.

Usage::

    python benchmarks/bench_sparql.py [--store DIR] [--seconds 8] [--clients 1,4,16]

`--store` defaults to the configured store (`$KLL_STORE`, `./var/store`); it is built from the
configured data (`$KLL_DATA_DIR`) when it does not exist yet. Targets: at least 0.8x Oxigraph's
throughput uncached, at least 1x with the cache.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from pyoxigraph import QueryResultsFormat

from http_load import Figures, load, start_kll, summarize
from kll_graph.build.pipeline import ensure_built
from kll_graph.server import process_count
from kll_graph.settings import load_settings
from kll_graph.store import CurrentStore, open_build

SKOS = "http://www.w3.org/2004/02/skos/core#"
ESCO = "http://data.europa.eu/esco/model#"
ACCEPT = "application/sparql-results+json"


# --- the query mix --------------------------------------------------------------------------


def sample_iris(store_root: Path, base_iri: str) -> dict[str, list[str]]:
    """IRIs the mix asks about, taken from the store itself (so every query has answers)."""
    store = CurrentStore(store_root).store
    kll = f"{base_iri}ontology#"

    def column(query: str) -> list[str]:
        rows = store.query(query, use_default_graph_as_union=True)
        return [row[0].value for row in rows]  # type: ignore[index, union-attr]

    return {
        "concepts": column(
            f'SELECT ?c {{ ?c <{kll}conceptType> "occupation-name" }} ORDER BY ?c LIMIT 40'
        ),
        "groups": column(
            f'SELECT DISTINCT ?g {{ ?g <{kll}conceptType> "ssyk-level-4" . '
            f"?c <{SKOS}broader> ?g }} ORDER BY ?g LIMIT 40"
        ),
        "occupations": column(
            f"SELECT DISTINCT ?o {{ ?o <{ESCO}relatedEssentialSkill> ?s }} ORDER BY ?o LIMIT 40"
        ),
        "mapped": column(
            f"SELECT DISTINCT ?c {{ ?c <{SKOS}exactMatch>|<{SKOS}closeMatch>|<{SKOS}broadMatch>"
            f"|<{SKOS}narrowMatch> ?e }} ORDER BY ?c LIMIT 40"
        ),
        "kll": [kll],
    }


def query_mix(iris: dict[str, list[str]]) -> list[str]:
    """The realistic mix: concept by URI, narrower of a group, essential skills of an
    occupation, mappings of a concept, counts by type (all with full IRIs, no prefixes)."""
    queries: list[str] = []
    for c in iris["concepts"]:
        queries.append(f"SELECT ?p ?o WHERE {{ <{c}> ?p ?o }}")
    for g in iris["groups"]:
        queries.append(
            f"SELECT ?c ?label WHERE {{ ?c <{SKOS}broader> <{g}> . "
            f"OPTIONAL {{ ?c <{SKOS}prefLabel> ?label }} }} ORDER BY ?label"
        )
    for o in iris["occupations"]:
        queries.append(
            f"SELECT ?skill ?label WHERE {{ <{o}> <{ESCO}relatedEssentialSkill> ?skill . "
            f'OPTIONAL {{ ?skill <{SKOS}prefLabel> ?label FILTER(LANG(?label) = "en") }} }}'
        )
    for m in iris["mapped"]:
        queries.append(
            f"SELECT ?relation ?target WHERE {{ <{m}> ?relation ?target . "
            f"FILTER(?relation IN (<{SKOS}exactMatch>, <{SKOS}closeMatch>, "
            f"<{SKOS}broadMatch>, <{SKOS}narrowMatch>)) }}"
        )
    counts = (
        f"SELECT ?type (COUNT(?c) AS ?n) WHERE {{ ?c <{iris['kll'][0]}conceptType> ?type }} "
        "GROUP BY ?type ORDER BY DESC(?n)"
    )
    queries += [counts] * max(1, len(queries) // 40)
    return queries


# --- the servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def start_ours(store_root: Path, cache: bool) -> tuple[subprocess.Popen[str], str]:
    """`kll-graph serve` with its caches on or off; the URL of its endpoint."""
    process, base = start_kll(store_root, **({} if cache else {"query_cache_mb": "0"}))
    return process, f"{base}/sparql"


def start_oxigraph(build_dir: Path, timeout: float | None) -> tuple[subprocess.Popen[bytes], str]:
    """Oxigraph's own server on the build; with a timeout it starts a watchdog thread per query,
    which on this machine fails under concurrency (EAGAIN), so `--peer-timeout 0` leaves it off."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    port = free_port()
    command = [
        binary,
        "serve-read-only",
        "--location",
        str(build_dir / "oxigraph"),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]
    if timeout:
        command += ["--timeout-s", str(int(timeout))]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    wait_for(port, process)
    return process, f"http://127.0.0.1:{port}/query"


def stop(process: subprocess.Popen[Any]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- the load -------------------------------------------------------------------------------


def measure(url: str, queries: list[str], clients: int, seconds: float) -> Figures:
    """`clients` client processes sending random queries of the mix to `url` for `seconds`."""
    parts = urllib.parse.urlsplit(url)
    paths = [f"{parts.path}?{urllib.parse.urlencode({'query': q})}" for q in queries]
    return load(
        f"{parts.scheme}://{parts.netloc}",
        paths,
        clients,
        seconds=seconds,
        headers={"Accept": ACCEPT},
    )


EngineJob = tuple[Path, list[str], float, int]


def _engine_client(args: EngineJob) -> tuple[list[float], int]:
    """One client without HTTP: random queries of the mix on its own read-only store."""
    build_dir, queries, seconds, seed = args
    store = open_build(build_dir)
    rng = random.Random(seed)
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        result = store.query(rng.choice(queries), use_default_graph_as_union=True)
        result.serialize(format=QueryResultsFormat.JSON)  # type: ignore[union-attr]
        latencies.append(time.perf_counter() - started)
    return latencies, 0


def measure_engine(build_dir: Path, queries: list[str], clients: int, seconds: float) -> Figures:
    """The mix run by `clients` processes straight on the store, as many queries as fit."""
    jobs = [(build_dir, queries, seconds, i) for i in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        return summarize(pool.map(_engine_client, jobs), seconds)


def warm(url: str, queries: list[str]) -> None:
    measure(url, queries, 1, 2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="store root (default: the configured one)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per level")
    parser.add_argument("--clients", default="1,4,16", help="concurrency levels")
    parser.add_argument(
        "--peer-timeout",
        type=float,
        help="Oxigraph's --timeout-s (default: ours; 0 runs it without a timeout)",
    )
    args = parser.parse_args()
    settings = load_settings(store=args.store)
    ensure_built(settings, progress=lambda m: print(m, file=sys.stderr))
    build_dir = CurrentStore(settings.store).get().path
    queries = query_mix(sample_iris(settings.store, settings.base_iri))
    levels = [int(x) for x in args.clients.split(",")]
    print(f"store {build_dir}")
    print(
        f"{len(queries)} queries in the mix, {args.seconds:g} s per level, "
        f"{os.cpu_count()} CPUs; kll-graph: {process_count(settings)} server processes of "
        f"{settings.threads} threads, {settings.query_workers} heavy slots each\n"
    )
    print(
        f"{'mode':<9}{'clients':>8}  {'oxigraph q/s':>12} {'p50 ms':>7} {'p99 ms':>7}"
        f"  {'kll q/s':>9} {'p50 ms':>7} {'p99 ms':>7}  {'ratio':>6}"
    )
    # All three servers are up at once (idle ones cost nothing); each level measures them back
    # to back, so load from elsewhere on the machine hits them alike.
    peer_timeout = settings.query_timeout if args.peer_timeout is None else args.peer_timeout
    servers = [start_oxigraph(build_dir, peer_timeout)]
    try:
        servers.append(start_ours(settings.store, cache=False))
        servers.append(start_ours(settings.store, cache=True))
        urls = [url for _process, url in servers]
        for url in urls:
            warm(url, queries)
        health = urls[1].replace("/sparql", "")
        for c in levels:
            theirs, uncached, cached = (measure(url, queries, c, args.seconds) for url in urls)
            floor = load(health, ["/-/health"], c, seconds=args.seconds)
            engine = measure_engine(build_dir, queries, c, args.seconds)
            modes = (
                ("uncached", uncached),
                ("cached", cached),
                ("floor", floor),
                ("engine", engine),
            )
            for mode, mine in modes:
                print(row(mode, c, theirs, mine), flush=True)
            bound = 1 / (
                theirs.throughput / floor.throughput + theirs.throughput / engine.throughput
            )
            print(f"{'':9}{'':8}  at most about {bound:.2f}x uncached (floor and engine together)")
    finally:
        for process, _url in servers:
            stop(process)


def row(mode: str, clients: int, theirs: Figures, mine: Figures) -> str:
    ratio = mine.throughput / theirs.throughput if theirs.throughput else float("nan")
    errors = ""
    if mine.errors or theirs.errors:
        errors = f"  errors: oxigraph {theirs.errors}, kll {mine.errors}"
    return (
        f"{mode:<9}{clients:>8}  {theirs.throughput:>12.1f} {theirs.p50_ms:>7.2f} "
        f"{theirs.p99_ms:>7.2f}  {mine.throughput:>9.1f} {mine.p50_ms:>7.2f} "
        f"{mine.p99_ms:>7.2f}  {ratio:>5.2f}x{errors}"
    )


if __name__ == "__main__":
    main()
