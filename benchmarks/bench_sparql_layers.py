"""What each layer of an uncached `/sparql` query costs, against `oxigraph serve-read-only`.

`bench_sparql.py` shows the endpoint at about 0.4x Oxigraph's throughput uncached. This script
takes the layers away one at a time, each as its own server on the same build and query mix,
so the cost of each shows as the step between two rows:

* `kll-graph serve`: the endpoint as shipped, result and response caches off;
* `no Flask`: a bare WSGI app under the same granian settings that plans the query and runs it in
  the same worker pool (`SparqlService`), with no Flask request handling around it;
* `no worker`: a bare WSGI app (so no Flask either) that runs the query in the server process
  and writes it with the engine's serializer. pyoxigraph cannot stop a query it is running, so a
  server built this way has no time limit that holds: this row is a bound, not a design.

Usage::

    python benchmarks/bench_sparql_layers.py [--store DIR] [--seconds 6] [--clients 1,4]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bench_sparql import free_port, measure, query_mix, sample_iris, start_oxigraph, stop, wait_for
from http_load import start_kll
from kll_graph.build.pipeline import ensure_built
from kll_graph.server import process_count
from kll_graph.settings import load_settings
from kll_graph.sparql.query import Dataset
from kll_graph.store import CurrentStore

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# --- the two reduced servers (granian factories) ----------------------------------------------


def without_flask() -> WsgiApp:
    """GET /sparql?query=... planned and run by SparqlService in its worker pool, no Flask."""
    from kll_graph.sparql.service import QueryRequest, SparqlService

    settings = load_settings()
    service = SparqlService(settings, CurrentStore(settings.store))
    service.pool.start()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))["query"]
        accept = environ.get("HTTP_ACCEPT")
        plan = service.plan(QueryRequest(query, Dataset(), accept, None))
        answer = service.answer(plan, use_cache=False)
        start_response("200 OK", [("Content-Type", plan.format.media_type), ("ETag", plan.etag)])
        return answer.body

    return app


def in_process() -> WsgiApp:
    """GET /sparql?query=... run in this process with the engine's JSON serializer."""
    from pyoxigraph import QueryResultsFormat

    current = CurrentStore(load_settings().store)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))["query"]
        result = current.get().store.query(query, use_default_graph_as_union=True)
        body = result.serialize(format=QueryResultsFormat.JSON)  # type: ignore[union-attr]
        start_response("200 OK", [("Content-Type", "application/sparql-results+json")])
        return [body]

    return app


def start_reduced(store: Path, factory: str, processes: int, threads: int) -> tuple[Any, str]:
    """One of the factories above under granian, as `kll-graph serve` runs its app."""
    port = free_port()
    here = Path(__file__).parent
    env = {**os.environ, "KLL_STORE": str(store.resolve()), "PYTHONPATH": str(here)}
    command = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--factory",
        "--workers", str(processes), "--blocking-threads", str(threads),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        f"bench_sparql_layers:{factory}",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=here,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(port, process)
    return process, f"http://127.0.0.1:{port}/sparql"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="store root (default: the configured one)")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per measurement")
    parser.add_argument("--clients", default="1,4", help="concurrency levels")
    args = parser.parse_args()
    settings = load_settings(store=args.store)
    ensure_built(settings, progress=lambda m: print(m, file=sys.stderr))
    build_dir = CurrentStore(settings.store).get().path
    queries = query_mix(sample_iris(settings.store, settings.base_iri))
    processes = process_count(settings)
    print(f"store {build_dir}; {processes} server processes of {settings.threads} threads\n")
    servers: list[tuple[str, Any, str]] = []
    try:
        servers.append(("oxigraph", *start_oxigraph(build_dir, 0)))
        kll, base = start_kll(settings.store, query_cache_mb="0", response_cache_mb="0")
        servers.append(("kll-graph serve", kll, f"{base}/sparql"))
        for name, factory in (("no Flask", "without_flask"), ("no worker", "in_process")):
            servers.append(
                (name, *start_reduced(settings.store, factory, processes, settings.threads))
            )
        for _name, _process, url in servers:
            measure(url, queries, 1, 2.0)  # warm
        print(f"{'server':<17}{'clients':>8}{'q/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>8}")
        for clients in (int(c) for c in args.clients.split(",")):
            figures = [
                (name, measure(url, queries, clients, args.seconds)) for name, _, url in servers
            ]
            theirs = figures[0][1].throughput
            for name, f in figures:
                ratio = f.throughput / theirs if theirs else float("nan")
                errors = f"  errors {f.errors}" if f.errors else ""
                print(
                    f"{name:<17}{clients:>8}{f.throughput:>9.0f}{f.p50_ms:>8.2f}{f.p99_ms:>8.2f}"
                    f"{ratio:>7.2f}x{errors}",
                    flush=True,
                )
    finally:
        for _name, process, _url in servers:
            stop(process)


if __name__ == "__main__":
    main()
