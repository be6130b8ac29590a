"""Benchmark: the RDF documents of large resources over HTTP, first request, repeats, and many
clients asking for the same new document at once.

Serves a built store with `kll-graph serve` (granian, one server process so every request meets
the same cache) and, for each document, times one request (cold), then REPEAT more (warm, the
median), then restarts nothing but asks CLIENTS threads for the same document in another format
(also cold) at once: the wall-clock time of that burst, and how the `X-KLL-Cache` header of its
answers says each was obtained (`miss` made it, `shared` waited for it, `hit` came from the cache;
`-` where the server does not say, as before the document cache existed).

    KLL_DATA_DIR=../shared/data .venv/bin/kll-graph build --store /tmp/realstore
    .venv/bin/python benchmarks/bench_documents.py --store /tmp/realstore

Run it with PYTHONPATH pointing at another checkout's `src` to measure that code the same way.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

DOCUMENTS = (
    "http://data.europa.eu/esco/concept-scheme/skills",
    "https://w3id.org/kll-graph/scheme/jobtech/skill",
    "http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR",
)


def fetch(url: str) -> tuple[float, str, int]:
    """Seconds, the X-KLL-Cache header ('-' when absent) and the body's size."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as response:
        body = response.read()
        source = response.headers.get("X-KLL-Cache", "-")
    return time.perf_counter() - started, source, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLL_")}
    env.update(KLL_PROCESSES="1", KLL_QUERY_WORKERS="1")
    command = [sys.executable, "-m", "kll_graph", "serve", "--store", args.store, "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        base = server.stdout.readline().split(" on ", 1)[1].strip().rstrip("/")
        print(f"{'document':58} {'cold s':>7} {'warm s':>7} {'MB':>5}  burst of {args.clients}")
        for uri in DOCUMENTS:
            url = f"{base}/data.ttl?uri={quote(uri, safe='')}"
            cold, _source, size = fetch(url)
            warm = statistics.median(fetch(url)[0] for _ in range(args.repeat))
            burst_url = f"{base}/data.nt?uri={quote(uri, safe='')}"
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                answers = list(pool.map(fetch, [burst_url] * args.clients))
            wall = time.perf_counter() - started
            sources = collections.Counter(source for _s, source, _n in answers)
            counted = ", ".join(f"{name} {n}" for name, n in sorted(sources.items()))
            print(
                f"{uri[-58:]:58} {cold:7.3f} {warm:7.3f} {size / 1e6:5.2f}  "
                f"{wall:6.2f} s ({counted})"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
