"""The attacker's findings, each replayed over real HTTP against `kll-graph serve` (granian, two
server processes, as deployed): SSRF through a glued SERVICE, slow request bodies, the guard
outside every limit, deep nesting, long URLs, and honest reports of a worker's death."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from kll_graph.exceptions import QueryCrashError
from kll_graph.sparql.workers import QueryJob, WorkerPool
from kll_graph.store import CurrentStore
from kll_graph.testing import clean_env, serving
from tests.sparql.support import build_fixture_store, current
from tests.sparql.test_sparql_guard import Listener
from tests.sparql.test_sparql_limits import ENDLESS

BODY_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def server(sample_store: CurrentStore) -> Iterator[tuple[int, str, int]]:
    """`kll-graph serve` on the sample build: (serve pid, host, port)."""
    env = clean_env(processes="2", body_timeout=str(BODY_TIMEOUT), query_timeout="10")
    store = str(sample_store.layout.root)
    with serving("serve", "--store", store, "--port", "0", env=env) as (pid, url):
        parts = urllib.parse.urlsplit(url)
        yield pid, str(parts.hostname), int(parts.port or 80)


def request(
    server: tuple[int, str, int],
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    _pid, host, port = server
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def sparql_get(server: tuple[int, str, int], query: str) -> tuple[int, dict[str, object]]:
    path = "/sparql?" + urllib.parse.urlencode({"query": query})
    status, body = request(server, "GET", path, headers={"Accept": "application/json"})
    return status, json.loads(body)


def sparql_post(server: tuple[int, str, int], query: str) -> tuple[int, bytes]:
    """POST a query as a form (the way long queries go), asking for CSV."""
    form = urllib.parse.urlencode({"query": query}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"}
    return request(server, "POST", "/sparql", form, headers)


# --- 1. SSRF ------------------------------------------------------------------------------------


def test_the_probes_ssrf_query_is_refused_and_nothing_connects(
    server: tuple[int, str, int],
) -> None:
    listener = Listener()
    try:
        target = f"<http://127.0.0.1:{listener.port}/x>"
        query = (
            f'SELECT * WHERE {{ BIND("\\u0022" AS ?a) SERVICESILENT{target}{{?x ?y ?z}} '
            'BIND("\\u0022" AS ?b) }'
        )
        status, body = sparql_get(server, query)
        assert status == 400
        assert "SERVICE is not allowed" in body["error"]["message"]  # type: ignore[index]
        for glued in ("falseSERVICE", "1e5SERVICE", "?s ?p ?o . sErViCeSiLeNt"):
            text = f"SELECT * {{ ?s ?p {glued} {target} {{ ?a ?b ?c }} }}"
            assert sparql_post(server, text)[0] == 400, glued
        time.sleep(0.5)
        assert listener.count() == 0
    finally:
        listener.close()


# --- 2. slow bodies -----------------------------------------------------------------------------


def test_slow_bodies_hold_no_request_thread(server: tuple[int, str, int]) -> None:
    """200 connections each send headers and 6 bytes of a declared 100 KB body, and stay open:
    health, the API and SPARQL still answer at once; the slow ones get 408 and are closed."""
    _pid, host, port = server
    slow: list[socket.socket] = []
    try:
        for _ in range(200):
            sock = socket.create_connection((host, port), timeout=30)
            sock.sendall(
                b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                b"Content-Length: 100000\r\n\r\nSELECT"
            )
            slow.append(sock)
        time.sleep(0.5)
        for path in ("/-/health", "/api/v1/search?q=sjuk", "/sparql?query=ASK%7B%7D"):
            started = time.monotonic()
            status, _ = request(server, "GET", path, timeout=BODY_TIMEOUT / 2)
            assert status == 200, path
            assert time.monotonic() - started < BODY_TIMEOUT / 2
        answer = _read_all(slow[0])
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert b'"code": "request_timeout"' in answer and b"body_timeout" in answer
    finally:
        for sock in slow:
            sock.close()


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (which it must)."""
    parts = []
    while True:
        part = sock.recv(65536)
        if not part:
            return b"".join(parts)
        parts.append(part)


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: tuple[int, str, int]) -> None:
    _pid, host, port = server
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 50000000\r\n\r\nSELECT"
        )
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"code": "request_too_large"' in answer


# --- 4. the guard runs inside the limits; 5. nesting ---------------------------------------------


def test_a_large_query_with_the_word_service_is_answered_at_once(
    server: tuple[int, str, int],
) -> None:
    """The guard is one linear pass: 589 KB with 'service' in a literal took 50 s when rdflib
    was asked for a second opinion, and 200 triple patterns with the word were refused (a
    RecursionError in rdflib). 60 patterns here: the engine's planner itself needs about 14 s
    for 200."""
    big = "SELECT * { ?s ?p 'service' } #" + "x" * 589_000
    patterns = " ".join(f"?s <http://x/p{i}> ?o{i} ." for i in range(60))
    group = f"SELECT * {{ {patterns} FILTER(?o1 = 'customer service') }}"
    results = []

    def run(query: str) -> None:
        started = time.monotonic()
        status, _ = sparql_post(server, query)
        results.append((status, time.monotonic() - started))

    threads = [threading.Thread(target=run, args=(q,)) for q in [big, group] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [200] * 8
    assert max(seconds for _, seconds in results) < 10  # the query time limit


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        ("SELECT * WHERE " + "{" * 3000 + "}" * 3000, "deeper than the limit of 100"),
        ("SELECT * WHERE { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }", "limit of 100"),
        ("SELECT * WHERE { " + " UNION ".join(["{?s ?p ?o}"] * 10_000) + " }", "limit of 2,000"),
        ("SELECT * WHERE { FILTER(" + "!" * 10_000 + "true) }", "limit of 2,000"),
        ("SELECT * WHERE { ?s <http://x/p> " + ",".join(["1"] * 10_000) + " }", "limit of 2,000"),
    ],
)
def test_deep_nesting_is_a_400_and_no_worker_dies(
    server: tuple[int, str, int], query: str, limit: str
) -> None:
    pid = server[0]
    workers = _workers(pid)
    status, body = sparql_post(server, query)
    assert status == 400
    error = json.loads(body)["error"]
    assert error["code"] == "query" and limit in error["message"]
    assert _workers(pid) >= workers  # none died (new ones may have started)


def _workers(pid: int) -> set[int]:
    """The live query worker processes under the serve process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"kll_graph.sparql.workers" in command and _below(int(entry.name), pid):
                found.add(int(entry.name))
    return found


def _below(child: int, ancestor: int) -> bool:
    while child > 1:
        try:
            stat = Path(f"/proc/{child}/stat").read_text()
        except OSError:
            return False
        child = int(stat.rsplit(")", 1)[1].split()[1])
        if child == ancestor:
            return True
    return False


# --- 5. long URLs -------------------------------------------------------------------------------


def test_over_long_urls_get_a_status_not_a_hang(server: tuple[int, str, int]) -> None:
    """The HTTP layer (hyper) takes request targets up to 64 KiB: a URL beyond it gets 414, as
    docs/sparql.md says, and the same query by POST is answered."""
    query = "ASK {} #" + "x" * 70_000
    status, _ = request(server, "GET", "/sparql?" + urllib.parse.urlencode({"query": query}))
    assert status == 414
    form = urllib.parse.urlencode({"query": query}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    status, body = request(server, "POST", "/sparql", form, headers)
    assert status == 200 and json.loads(body)["boolean"] is True


# --- 6. a worker's death, said as it was ----------------------------------------------------------


def test_a_crashed_worker_is_reported_as_a_crash(tmp_path: Path) -> None:
    """A worker killed by SIGSEGV mid-query is a crash (500 query_crashed), not a memory error."""
    settings = build_fixture_store(tmp_path)
    build = current(settings).get().path
    pool = WorkerPool(memory_mb=512, heavy_slots=1)
    try:
        outcome: list[BaseException] = []

        def run() -> None:
            try:
                pool.run(QueryJob(ENDLESS, str(build), "json", 10, 30.0)).read()
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 20
        while not pool.stats().busy_pids and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(pool.stats().busy_pids[0], signal.SIGSEGV)
        thread.join(timeout=30)
    finally:
        pool.close()
    assert len(outcome) == 1 and isinstance(outcome[0], QueryCrashError)
    assert "signal SIGSEGV" in str(outcome[0])
    assert outcome[0].status == 500 and outcome[0].code == "query_crashed"


def test_a_crash_reaches_the_client_as_a_crash(server: tuple[int, str, int]) -> None:
    """Over HTTP: the worker running a query dies of SIGSEGV; the client gets 500
    `query_crashed` naming the signal (it used to be told the query ran out of memory), and the
    next query is answered."""
    outcome: list[tuple[int, dict[str, object]]] = []
    thread = threading.Thread(target=lambda: outcome.append(sparql_get(server, ENDLESS)))
    thread.start()
    busy = _busy_worker(server[0])
    os.kill(busy, signal.SIGSEGV)
    thread.join(timeout=30)
    status, body = outcome[0]
    assert status == 500
    error = body["error"]
    assert error["code"] == "query_crashed" and "SIGSEGV" in error["message"]  # type: ignore[index]
    assert sparql_get(server, "ASK { ?s ?p ?o }")[0] == 200


def _busy_worker(pid: int, seconds: float = 20) -> int:
    """The query worker under `pid` that is using the CPU (the one running the query)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = {worker: _cpu(worker) for worker in _workers(pid)}
        time.sleep(0.3)
        spinning = [w for w, used in before.items() if _cpu(w) - used > 5]
        if len(spinning) == 1:
            return spinning[0]
    raise AssertionError("no single busy query worker found")


def _cpu(pid: int) -> int:
    """Clock ticks of CPU a process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])
