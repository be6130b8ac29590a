"""What the HTTP benchmarks share: `kll-graph serve` started as users run it, and the load
generator, client processes on keep-alive connections.

Each client is its own process with one `http.client` connection, so the clients do not share
a GIL with each other (a threaded Python client measures its own lock contention as server
latency) and the cost per request on the client side stays small and the same for every server
measured. A client either sends its share of a fixed list of request paths once (`seconds`
None) or picks paths at random for `seconds`.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path


def start_kll(store: Path, **settings: str) -> tuple[subprocess.Popen[str], str]:
    """`kll-graph serve` on a store root (all its server processes and query workers), with
    settings changed by `KLL_*` variables (e.g. `query_cache_mb="0"`); the process, in a
    session of its own, and the base URL it announced once it answered."""
    env = {**os.environ, **{f"KLL_{name.upper()}": value for name, value in settings.items()}}
    process = subprocess.Popen(
        [sys.executable, "-m", "kll_graph", "serve", "--store", str(store), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"(http://\S+)", line)
        if match:
            return process, match.group(1).rstrip("/")
    raise RuntimeError("the server did not say where it listens")


@dataclass
class Figures:
    """Throughput and latency percentiles of one load run."""

    requests: int
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted samples lie (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


Job = tuple[str, list[str], dict[str, str], float | None, int]


def _client(args: Job) -> tuple[list[float], int]:
    """One client: its latencies in seconds and its error count."""
    base, paths, headers, seconds, seed = args
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds if seconds else None
    queue = iter(paths)
    while True:
        if end is None:
            path = next(queue, None)
            if path is None:
                break
        elif time.perf_counter() >= end:
            break
        else:
            path = rng.choice(paths)
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
            continue
        latencies.append(time.perf_counter() - started)
    connection.close()
    return latencies, errors


def load(
    base: str,
    paths: list[str],
    clients: int,
    *,
    seconds: float | None = None,
    headers: dict[str, str] | None = None,
    rounds: int = 1,
) -> Figures:
    """Send GET requests for `paths` (relative to the server root `base`) from `clients`
    processes: each its share once, or at random for `seconds`; `rounds` times, each with new
    connections, the figures taken over all rounds.

    New connections per round matter when the server runs several processes on one port: the
    kernel hands each connection to one process, and a few keep-alive connections may fall
    unevenly (5 and 3 of 8, say), which one round would measure as the server's speed.
    """
    shares = [paths[i::clients] if seconds is None else paths for i in range(clients)]
    jobs = [(base, share, headers or {}, seconds, i) for i, share in enumerate(shares)]
    results = []
    elapsed = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(clients) as pool:
            results += pool.map(_client, jobs)
        elapsed += seconds or (time.perf_counter() - started)
    return summarize(results, elapsed)


def summarize(results: list[tuple[list[float], int]], elapsed: float) -> Figures:
    """Figures over the (latencies in seconds, error count) of every client."""
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    if not latencies:
        return Figures(0, 0.0, float("nan"), float("nan"), float("nan"), errors)
    return Figures(
        len(latencies),
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000,
        percentile(latencies, 0.95) * 1000,
        percentile(latencies, 0.99) * 1000,
        errors,
    )
