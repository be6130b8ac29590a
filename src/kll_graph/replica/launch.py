"""Starting a replica: `oxigraph serve-read-only` on a loaded location, network closed.

`kll-graph replica serve` becomes the engine: it checks the location, installs the outbound
filter (:mod:`kll_graph.replica.sandbox`) in its own process and execs the server, so the server
is the process a supervisor (systemd, the cluster script) started and signals reach it directly.
A query that names no graph sees the union of all graphs (the app processes name the current
releases' graphs in each request, so the endpoint they serve matches the embedded one), and
`--timeout-s` stops a query that runs too long (the engine checks it as it reads quads).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from kll_graph.exceptions import ReplicaError
from kll_graph.replica.load import oxigraph_binary, replica_build
from kll_graph.replica.sandbox import deny_outbound


def serve_argv(
    location: Path, bind: str, timeout_s: float, *, union_default_graph: bool = False
) -> list[str]:
    """The engine's command line for a replica.

    A replica behind our layers runs without `--union-default-graph`: every query that reaches
    it names its dataset as Protocol parameters (the current releases, or the union with the
    `union-default-graph` parameter), and with the flag the engine would override a query's own
    FROM clauses and answer `{ ?s ?p ?o }` beside `GRAPH ?g` with every quad twice. A bare peer
    in the benchmarks, asked queries as written, runs with it (`union_default_graph`).
    """
    if timeout_s <= 0:
        raise ReplicaError(f"--timeout-s must be more than 0, not {timeout_s}")
    union = ["--union-default-graph"] if union_default_graph else []
    return [
        str(oxigraph_binary()),
        "serve-read-only",
        "--location",
        str(location),
        "--bind",
        bind,
        *union,
        "--timeout-s",
        str(max(1, round(timeout_s))),
    ]


def exec_replica(location: Path, bind: str, timeout_s: float) -> None:
    """Replace this process with the replica's engine, outbound network closed (never returns)."""
    replica_build(location)  # refuses a directory that is not a loaded replica
    argv = serve_argv(location, bind, timeout_s)
    deny_outbound()
    os.execv(argv[0], argv)


def spawn_replica(
    location: Path, bind: str, timeout_s: float, *, wait: float = 30.0, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`kll-graph replica serve` as a child process, returned once it answers SPARQL (for the
    cluster script and the tests; a supervisor such as systemd runs the command itself). Its
    output goes to `log` (default: a file beside `location`), never to a pipe nobody reads."""
    argv = [sys.executable, "-m", "kll_graph", "replica", "serve"]
    log = log or location.with_name(f"{location.name}.{bind.rsplit(':', 1)[-1]}.log")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*argv, "--location", str(location), "--bind", bind, "--timeout-s", str(timeout_s)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answering(f"http://{bind}/query", wait, proc, log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


#: Asked by readiness checks: the cheapest query that proves the store is open and answering.
READY_QUERY = "ASK {}"


def wait_until_answering(
    endpoint: str,
    wait: float,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Return when `endpoint` answers a SPARQL ASK; ReplicaError if `proc` exits or `wait`
    seconds pass first."""
    url = f"{endpoint}?{urllib.parse.urlencode({'query': READY_QUERY})}"
    wait_for_url(url, wait, proc, log, interval=0.05)


def wait_for_url(
    url: str,
    wait: float,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    *,
    interval: float = 0.1,
) -> None:
    """Return when GET `url` answers 200; ReplicaError (with the end of `log`) if `proc` exits,
    or when `wait` seconds pass first. Replicas, app processes and health checks all start this
    way, so a part that cannot start says why instead of hanging the cluster."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = log.read_text(errors="replace").strip()[-500:] if log else "see its log"
            raise ReplicaError(f"{url}: the process exited ({proc.returncode}): {err}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(interval)
    raise ReplicaError(f"{url} did not answer within {wait:g} s")
