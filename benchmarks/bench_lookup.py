"""Benchmark of the label index and the lookup API on the full real data, side by side with the
same lookups done as a SPARQL label scan on the same store.

    python benchmarks/bench_lookup.py [--store DIR] [--data-dir DIR] [--queries N]

Builds the store first when DIR has no build (real data from --data-dir, default
../shared/data). Prints, in one run:

- index build time, its size in memory (RSS growth) and on disk, and load time;
- autocomplete p50/p95 in-process, and over HTTP (a `kll-graph serve` process) at 1 and 8
  concurrent clients; the queries are prefixes of real labels as a user types them
  (1, 2, 3, 5, 8 letters and the whole label);
- the same lookups as SPARQL `FILTER(STRSTARTS(LCASE(...)))` and `FILTER(CONTAINS(LCASE(...)))`
  over all labels, and the ratio;
- a 1,000-string resolve batch, in-process and over HTTP.

Targets (issue): autocomplete p95 <= 5 ms in-process and <= 15 ms over HTTP at 8 clients, at
least 100x faster than the SPARQL scan, a 1,000-string resolve under 1 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import urllib.parse
from pathlib import Path

import requests
from pyoxigraph import Literal, Variable

from http_load import load, start_kll
from kll_graph.build.pipeline import build
from kll_graph.labels.compile import build_index
from kll_graph.labels.index import LabelIndex
from kll_graph.labels.layout import INDEX_FILE
from kll_graph.labels.lookup import autocomplete, parse_resolve_request, resolve
from kll_graph.settings import REPO_ROOT, load_settings
from kll_graph.store import CurrentStore

SPARQL_STARTS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?c ?l ?q WHERE {
  { ?c skos:prefLabel ?l } UNION { ?c skos:altLabel ?l } UNION { ?c skos:hiddenLabel ?l }
  FILTER(STRSTARTS(LCASE(STR(?l)), ?q))
} LIMIT 10
"""
SPARQL_CONTAINS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?c ?l ?q WHERE {
  { ?c skos:prefLabel ?l } UNION { ?c skos:altLabel ?l } UNION { ?c skos:hiddenLabel ?l }
  FILTER(CONTAINS(LCASE(STR(?l)), ?q))
} ORDER BY STRLEN(?l) LIMIT 10
"""


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def ensure_store(store: Path, data_dir: Path) -> CurrentStore:
    current = CurrentStore(store)
    if current.layout.current_build() is None:
        print(f"building the real data from {data_dir} into {store} (once) ...", flush=True)
        settings = load_settings(config_file=REPO_ROOT / "kll-graph.toml", env={})
        build(settings.replace(store=store, data_dir=data_dir))
    return current


def typed_queries(index: LabelIndex, count: int) -> list[str]:
    """Prefixes of real preferred labels, as a user types them."""
    rng = random.Random(7)
    labels = sorted({text for pref in index.pref for text in pref.values()})
    queries = []
    for label in rng.sample(labels, min(count, len(labels))):
        for n in (1, 2, 3, 5, 8, len(label)):
            if n <= len(label):
                queries.append(label[:n])
    return queries


def bench_index(served: CurrentStore) -> LabelIndex:
    build_served = served.get()
    base = build_served.manifest.base_iri
    before = rss_mb()
    started = time.perf_counter()
    index = build_index(build_served.store, base)
    seconds = time.perf_counter() - started
    grown = rss_mb() - before
    print(
        f"index build: {seconds:.1f} s for {index.label_count:,} labels of "
        f"{index.concept_count:,} concepts ({len(index.entry_text):,} entries); "
        f"process memory +{grown:.0f} MB"
    )
    file = build_served.path / INDEX_FILE
    if file.is_file():
        started = time.perf_counter()
        loaded = LabelIndex.load(file)
        print(
            f"index file: {file.stat().st_size / 2**20:.1f} MB on disk, loaded in "
            f"{time.perf_counter() - started:.2f} s ({'ok' if loaded else 'other format'})"
        )
    return index


def bench_in_process(index: LabelIndex, queries: list[str]) -> dict[str, float]:
    for q in queries[:50]:
        autocomplete(index, q)  # warm up
    samples = []
    for q in queries:
        started = time.perf_counter()
        autocomplete(index, q, limit=10)
        samples.append((time.perf_counter() - started) * 1000)
    p50, p95 = percentiles(samples)
    print(
        f"autocomplete in-process: {len(samples)} queries, p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"max {max(samples):.1f} ms  [target p95 <= 5 ms: {'PASS' if p95 <= 5 else 'FAIL'}]"
    )
    return {"p50": p50, "p95": p95}


def bench_sparql(served: CurrentStore, index: LabelIndex, queries: list[str], ours: float) -> None:
    store = served.get().store
    sample = [q for q in queries if len(q) >= 3][:: max(1, len(queries) // 60)][:20]
    for name, text in (("STRSTARTS", SPARQL_STARTS), ("CONTAINS", SPARQL_CONTAINS)):
        samples = []
        for q in sample:
            started = time.perf_counter()
            list(
                store.query(
                    text,
                    use_default_graph_as_union=True,
                    substitutions={Variable("q"): Literal(q.lower())},
                )
            )
            samples.append((time.perf_counter() - started) * 1000)
        p50, p95 = percentiles(samples)
        ours_same = []
        for q in sample:
            started = time.perf_counter()
            autocomplete(index, q)
            ours_same.append((time.perf_counter() - started) * 1000)
        our_p50 = statistics.median(ours_same)
        ratio = p50 / our_p50
        print(
            f"SPARQL FILTER({name}(LCASE(...))): {len(sample)} queries, p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms; the index on the same queries p50 {our_p50:.2f} ms: "
            f"{ratio:,.0f}x faster  [target >= 100x: {'PASS' if ratio >= 100 else 'FAIL'}]"
        )


#: Rounds of the HTTP autocomplete run, each on new connections (see `http_load.load`).
ROUNDS = 5


def bench_http(store: Path, queries: list[str], batch: list[str]) -> None:
    """Autocomplete over HTTP with the response cache off (every request looked up) and on (as
    served: repeated requests, such as the short prefixes everyone types, answered from it)."""
    paths = [f"/api/v1/autocomplete?{urllib.parse.urlencode({'q': q})}" for q in queries]
    for response_cache in (False, True):
        process, url = start_kll(store, **({} if response_cache else {"response_cache_mb": "0"}))
        mode = "response cache on" if response_cache else "response cache off"
        try:
            requests.get(url + "/api/v1/autocomplete", params={"q": "warm"}, timeout=120)
            for clients in (1, 8):
                figures = load(url, paths, clients, rounds=ROUNDS)
                verdict = ""
                if clients == 8:
                    passed = figures.p95_ms <= 15
                    verdict = f"  [target p95 <= 15 ms: {'PASS' if passed else 'FAIL'}]"
                print(
                    f"autocomplete over HTTP ({mode}), {clients} client process(es): "
                    f"{figures.requests} requests, p50 {figures.p50_ms:.2f} ms, p95 "
                    f"{figures.p95_ms:.2f} ms, {figures.throughput:,.0f} req/s{verdict}"
                )
            if response_cache:
                continue
            started = time.perf_counter()
            response = requests.post(url + "/api/v1/resolve", json={"queries": batch}, timeout=120)
            response.raise_for_status()
            seconds = time.perf_counter() - started
            print(
                f"resolve over HTTP: {len(batch)} strings in {seconds:.2f} s "
                f"[target < 1 s: {'PASS' if seconds < 1 else 'FAIL'}]"
            )
        finally:
            process.terminate()
            process.wait(timeout=30)


def bench_resolve(index: LabelIndex, batch: list[str]) -> None:
    queries, options = parse_resolve_request({"queries": batch})
    started = time.perf_counter()
    result = resolve(index, queries, **options)
    seconds = time.perf_counter() - started
    print(
        f"resolve in-process: {len(batch)} strings in {seconds:.2f} s, "
        f"{result['matched']} matched  [target < 1 s: {'PASS' if seconds < 1 else 'FAIL'}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("var/bench-lookup-store"))
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--queries", type=int, default=300, help="labels to type (x6 prefixes)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    served = ensure_store(args.store, args.data_dir)
    index = bench_index(served)
    queries = typed_queries(index, args.queries)
    ours = bench_in_process(index, queries)
    bench_sparql(served, index, queries, ours["p50"])
    rng = random.Random(11)
    labels = sorted({text for pref in index.pref for text in pref.values()})
    batch = [rng.choice(labels) for _ in range(900)] + [f"no such thing {i}" for i in range(50)]
    batch += [
        rng.choice(["2512", "SSYK 2512", "ISCO C2512", "7239", "sjukskoterka"]) for _ in range(50)
    ]
    bench_resolve(index, batch)
    bench_http(args.store, queries, batch)


if __name__ == "__main__":
    main()
