"""Benchmark: server time of the concept page and the search page on the real data, p50/p95.

Requests go through the whole Flask app (routing, data functions, template, ETag) with its test
client, so the figures are the server's own time without the network. Concept pages are drawn
at random (fixed seed) from JobTech occupations, ESCO occupations and ESCO skills; searches use
Swedish and English words, prefixes and codes. Each page is measured on its first request
(the store's data for it may still be on disk) and on later requests (the target applies to
these: a served store's working set is in memory). For the concept page the time spent in
the shared data function (`concepts.concept`, also behind `/api/v1/concepts`) is measured
apart, so a slow page can be told from a slow data function.
Target: concept page p95 under 30 ms.

    .venv/bin/python benchmarks/bench_pages.py [--store DIR] [--data-dir DIR] [--concepts 150]

Without --store (or $KLL_STORE holding a build) the real data in ../shared/data is built into a
temporary store first.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from kll_graph import concepts
from kll_graph.build.pipeline import build
from kll_graph.labels.lookup import index_for
from kll_graph.settings import REPO_ROOT, load_settings
from kll_graph.store import CurrentStore
from kll_graph.web import create_app

TARGET_MS = 30.0
QUERIES = [
    "sjuksköterska",
    "sjuksköt",
    "systemutvecklare",
    "systemutv",
    "lärare",
    "larare",
    "snickare",
    "software developer",
    "nurse",
    "python",
    "2512",
    "SSYK 2512",
    "projektledning",
    "svetsare",
    "kock",
    "ekonomi",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def pick_concepts(store: CurrentStore, count: int) -> list[str]:
    index = index_for(store.get())
    groups: dict[str, list[str]] = {"occupation-name": [], "esco:Occupation": [], "esco:Skill": []}
    for number, uri in enumerate(index.uris):
        type_id = index.types[int(index.concept_type[number])].id
        if type_id in groups:
            groups[type_id].append(uri)
    rng = random.Random(8)
    chosen: list[str] = []
    for uris in groups.values():
        chosen.extend(rng.sample(uris, min(len(uris), count // len(groups))))
    return chosen


def report(name: str, times: list[float]) -> tuple[float, float]:
    p50, p95 = statistics.median(times), percentile(times, 95)
    print(
        f"{name:<28} n={len(times):<4} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   "
        f"max {max(times):8.1f} ms"
    )
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--concepts", type=int, default=150)
    args = parser.parse_args()
    store_dir = args.store
    if store_dir is None and os.environ.get("KLL_STORE"):
        store_dir = Path(os.environ["KLL_STORE"])
    with tempfile.TemporaryDirectory() as tmp:
        if store_dir is None or not (store_dir / "current").exists():
            if not (args.data_dir / "jobtech").is_dir():
                sys.exit(f"no store given and no real data at {args.data_dir}")
            store_dir = Path(tmp) / "store"
            print(f"building the real data from {args.data_dir} into {store_dir} ...", flush=True)
            build(load_settings(env={}, store=str(store_dir), data_dir=str(args.data_dir)))
        settings = load_settings(env={}, store=str(store_dir))
        store = CurrentStore(settings.store)
        served = store.get()
        print(f"build {served.build_id}, {served.manifest.triples:,} triples")
        client = create_app(settings, store=store).test_client()
        headers = {"Accept": "text/html", "Accept-Language": "sv"}

        uris = pick_concepts(store, args.concepts)
        paths = ["/page?uri=" + quote(u, safe="") for u in uris]
        client.get("/", headers=headers)  # loads the label index once
        first = [timed(lambda p=path: client.get(p, headers=headers)) for path in paths]
        page_times, data_times = [], []
        for uri, path in zip(uris, paths, strict=True):
            page_times.append(timed(lambda p=path: client.get(p, headers=headers)))
            data_times.append(timed(lambda u=uri: concepts.concept(served, u, "sv")))
        searches = [f"/search?q={quote(q)}" for q in QUERIES]
        searches += [s + "&page=2" for s in searches[:4]]
        search_first = [timed(lambda p=path: client.get(p, headers=headers)) for path in searches]
        search_times = [
            timed(lambda p=path: client.get(p, headers=headers))
            for _ in range(3)
            for path in searches
        ]
        print()
        report("concept page, first request", first)
        _, page_p95 = report("concept page (/page)", page_times)
        report("  of which concepts.concept", data_times)
        rest = [max(0.0, p - d) for p, d in zip(page_times, data_times, strict=True)]
        report("  the page without it", rest)
        report("search page, first request", search_first)
        report("search page (/search)", search_times)
        print()
        print(
            f"concept page p95 {page_p95:.1f} ms = {page_p95 / TARGET_MS:.2f}x the "
            f"{TARGET_MS:.0f} ms target: {'met' if page_p95 < TARGET_MS else 'NOT met'} "
            "(repeated requests; the first request of a concept also reads the store from disk)"
        )


if __name__ == "__main__":
    main()
