"""Limits that hold: time, memory, fairness between heavy and light queries, store switches.

These run real worker processes and, where concurrency matters, a real waitress server.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kll_graph.build.pipeline import build
from kll_graph.exceptions import QueryBusyError, QueryMemoryError, QueryTimeoutError
from kll_graph.settings import Settings
from kll_graph.sparql.service import QueryRequest, SparqlService
from kll_graph.sparql.workers import QueryJob, WorkerPool
from kll_graph.testing import LiveServer
from tests.sparql.support import JT, build_fixture_store, copy_fixtures, current, fixture_settings

#: Four-way cross product of every triple: never finishes on any store.
ENDLESS = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
#: Sorting the three-way cross product: needs far more memory than the test limit.
HUNGRY = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
LIGHT = f"SELECT ?label {{ <{JT}O1> skos:prefLabel ?label }}"
TIMEOUT = 5.0


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        # ProcessLookupError: the process was reaped between opening its stat file and reading it
        return False
    return state != "Z"


def process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def get(url: str, query: str, timeout: float = 30) -> tuple[int, dict[str, object], float]:
    """GET a query; (status, JSON body, seconds)."""
    started = time.perf_counter()
    target = f"{url}/sparql?{urllib.parse.urlencode({'query': query})}"
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            status, body = response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        status, body = exc.code, json.loads(exc.read())
    return status, body, time.perf_counter() - started


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, LiveServer]]:
    settings = build_fixture_store(
        tmp_path_factory.mktemp("sparql-limits"),
        query_timeout=TIMEOUT,
        query_workers=2,
        query_memory_mb=300,
    )
    server = LiveServer(settings, current(settings))
    yield settings, server
    server.close()


def test_heavy_queries_stop_at_the_limit_while_light_ones_answer(
    limited: tuple[Settings, LiveServer],
) -> None:
    _settings, server = limited
    pool: WorkerPool = server.app.extensions["kll.sparql"].pool
    baseline = [get(server.url, LIGHT)[2] for _ in range(5)]
    assert all(get(server.url, LIGHT)[0] == 200 for _ in range(2))

    heavy: list[tuple[int, dict[str, object], float]] = []
    threads = [
        threading.Thread(target=lambda: heavy.append(get(server.url, ENDLESS))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    # After 1 s two are heavy and free their lanes; the third gets a lane, and is heavy after
    # another second, with both heavy slots taken: it waits paused.
    time.sleep(2.5)
    stats = pool.stats()
    assert len(stats.busy_pids) == 3
    assert (stats.heavy, stats.parked) == (2, 1)  # two run, one waits paused
    heavy_pids = stats.busy_pids
    beside = [get(server.url, LIGHT) for _ in range(10)]
    assert all(status == 200 for status, _, _ in beside)
    assert all(
        b["results"]["bindings"][0]["label"]["value"] == "Mjukvaruutvecklare"  # type: ignore[index]
        for _, b, _ in beside
    )
    usual = statistics.median(baseline)
    assert max(seconds for _, _, seconds in beside) < max(0.5, 20 * usual)

    for thread in threads:
        thread.join(timeout=TIMEOUT + 5)
    assert len(heavy) == 3
    for status, body, seconds in heavy:
        assert status == 503
        assert body["error"]["code"] == "timeout"  # type: ignore[index]
        assert "limit of 5 s" in body["error"]["message"]  # type: ignore[index]
        assert TIMEOUT - 0.2 <= seconds < TIMEOUT + 1.5
    # Their processes are gone (killed, not left spinning), and the service still answers.
    deadline = time.monotonic() + 1.0
    while any(alive(pid) for pid in heavy_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in heavy_pids)
    assert get(server.url, LIGHT)[0] == 200


def test_memory_hungry_query_is_stopped_and_the_service_goes_on(
    limited: tuple[Settings, LiveServer],
) -> None:
    _settings, server = limited
    status, body, seconds = get(server.url, HUNGRY)
    assert status == 503
    assert body["error"]["code"] == "query_memory"  # type: ignore[index]
    assert "300 MiB" in body["error"]["message"]  # type: ignore[index]
    assert seconds < TIMEOUT
    assert get(server.url, LIGHT)[0] == 200


def rename_occupation(data: Path) -> None:
    """Change O2's label in the fixture data, so the next build differs visibly."""
    jobtech = data / "jobtech.ttl"
    text = jobtech.read_text(encoding="utf-8")
    renamed = text.replace('"Systemutvecklare"@sv', '"Systemarkitekt"@sv')
    jobtech.write_text(renamed, encoding="utf-8")


def test_new_build_is_seen_without_restart(tmp_path: Path) -> None:
    data = copy_fixtures(tmp_path / "data")
    settings = fixture_settings(tmp_path, data_dir=data)
    build(settings)
    server = LiveServer(settings, current(settings))
    try:
        query = f"SELECT ?label {{ <{JT}O2> skos:prefLabel ?label }}"
        status, body, _ = get(server.url, query)
        assert body["results"]["bindings"][0]["label"]["value"] == "Systemutvecklare"  # type: ignore[index]
        first_build = current(settings).get().build_id
        rename_occupation(data)
        build(settings)
        status, body, _ = get(server.url, query)
        assert status == 200
        assert body["results"]["bindings"][0]["label"]["value"] == "Systemarkitekt"  # type: ignore[index]
        with urllib.request.urlopen(f"{server.url}/sparql?query=ASK%7B%7D") as response:
            assert response.headers["X-KLL-Build"] != first_build
    finally:
        server.close()


def test_a_query_finishes_on_the_build_it_started_on(tmp_path: Path) -> None:
    data = copy_fixtures(tmp_path / "data")
    settings = fixture_settings(tmp_path, data_dir=data)
    build(settings)
    service = SparqlService(settings, current(settings))
    try:
        query = f"SELECT ?label {{ <{JT}O2> skos:prefLabel ?label }}"
        started = service.plan(QueryRequest(query, accept="text/csv"))
        rename_occupation(data)
        build(settings)
        assert b"Systemutvecklare" in b"".join(service.answer(started).body)
        fresh = service.plan(QueryRequest(query, accept="text/csv"))
        assert fresh.served.build_id != started.served.build_id
        assert b"Systemarkitekt" in b"".join(service.answer(fresh).body)
    finally:
        service.close()


@pytest.fixture
def fixture_build(tmp_path: Path) -> str:
    settings = build_fixture_store(tmp_path)
    return str(current(settings).get().path)


def job(path: str, query: str, timeout: float = 10.0) -> QueryJob:
    return QueryJob(
        query=query, build_path=path, format_name="json", max_results=100, timeout=timeout
    )


def test_heavy_queries_beyond_the_waiting_room_are_refused(fixture_build: str) -> None:
    pool = WorkerPool(memory_mb=512, heavy_slots=1, max_parked=1, heavy_after=0.3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pool.run(job(fixture_build, ENDLESS, timeout=4.0)).read()
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
            time.sleep(0.1)
        time.sleep(0.8)
        stats = pool.stats()
        assert (stats.heavy, stats.parked) == (1, 1)
        paused = [pid for pid in stats.busy_pids if process_state(pid) == "T"]
        assert len(paused) == 1  # the waiting one is really stopped, using no CPU
        for thread in threads:
            thread.join(timeout=10)
        kinds = sorted(type(e).__name__ for e in errors)
        assert kinds == ["QueryBusyError", "QueryTimeoutError", "QueryTimeoutError"]
        busy = next(e for e in errors if isinstance(e, QueryBusyError))
        assert "too many long-running queries" in str(busy)
    finally:
        pool.close()


def test_closing_a_stream_early_stops_its_worker(fixture_build: str) -> None:
    pool = WorkerPool(memory_mb=512, heavy_slots=1)
    try:
        # a result far larger than the pipe holds, so the worker is still writing when we close
        big = QueryJob(
            query="SELECT * { ?a ?b ?c . ?d ?e ?f } LIMIT 50000",
            build_path=fixture_build,
            format_name="json",
            max_results=10_000_000,
            timeout=30.0,
        )
        stream = pool.run(big)
        pid = stream.worker_pid
        assert alive(pid)
        stream.close()
        assert not alive(pid)
        assert pool.stats().busy_pids == []
        light = LIGHT.replace("skos:prefLabel", "<http://www.w3.org/2004/02/skos/core#prefLabel>")
        answer = json.loads(pool.run(job(fixture_build, light)).read())
        assert len(answer["results"]["bindings"]) == 1
    finally:
        pool.close()


def test_worker_errors_come_back_as_their_own_kind(fixture_build: str) -> None:
    pool = WorkerPool(memory_mb=256, heavy_slots=1)
    try:
        with pytest.raises(QueryTimeoutError):
            pool.run(job(fixture_build, ENDLESS, timeout=1.0))
        with pytest.raises(QueryMemoryError, match="256 MiB"):
            pool.run(job(fixture_build, HUNGRY))
        assert os.getpid() not in pool.stats().idle_pids
    finally:
        pool.close()
