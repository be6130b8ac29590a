"""`kll-graph serve`: several server processes on one port, the settings they are given, and a
shutdown that leaves no process behind."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kll_graph.server import export_settings, import_settings, process_count
from kll_graph.settings import load_settings
from kll_graph.testing import clean_env, serving
from tests.sparql.support import build_fixture_store
from tests.sparql.test_sparql_limits import ENDLESS, LIGHT, alive, get

from .test_cli import config  # noqa: F401  (the config fixture)


def test_settings_reach_the_server_processes_unchanged(config: Path, tmp_path: Path) -> None:  # noqa: F811
    """Flags and variables given to `serve` win over the config file in the server processes
    too, because every effective value travels, not only the ones that were set."""
    settings = load_settings(
        config, env={}, store=tmp_path / "elsewhere", query_cache_mb=0, uri_spaces=""
    )
    again = import_settings(export_settings(settings))
    assert again == settings
    assert again.store == tmp_path / "elsewhere"
    assert again.query_cache_mb == 0
    assert again.config_file == config
    assert [s.id for s in again.sources] == ["voc"]


def test_process_count_defaults_to_one_per_cpu(config: Path) -> None:  # noqa: F811
    assert process_count(load_settings(config, env={})) == (os.cpu_count() or 1)
    assert process_count(load_settings(config, env={}, processes=3)) == 3


def refused(*args: str) -> str:
    """`python -m kll_graph ARGS` run to its end: it must fail with a message, not a traceback;
    its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "kll_graph", *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    return done.stderr


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(_parent(int(entry.name)), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_two_server_processes_share_the_port_and_stop_together(config: Path) -> None:  # noqa: F811
    env = {**clean_env(), "KLL_PROCESSES": "2", "KLL_QUERY_WORKERS": "1"}
    with serving("--config", str(config), "serve", "--port", "0", env=env) as (pid, url):
        assert url.startswith("http://127.0.0.1:")
        # The URL is announced once the server answers: the first request must succeed.
        for _ in range(20):  # new connections, spread over both processes by the kernel
            with urllib.request.urlopen(url + "-/health", timeout=10) as response:
                assert json.load(response)["status"] == "ok"
        query = url + "sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D"
        accept = {"Accept": "application/sparql-results+json"}
        request = urllib.request.Request(query, headers=accept)
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["boolean"] is True
        # Each process starts its query workers in the background, so give them time to show.
        deadline = time.monotonic() + 30
        while True:
            below = _descendants(pid)
            commands = {pid: Path(f"/proc/{pid}/cmdline").read_text() for pid in below}
            servers = {pid for pid, command in commands.items() if "spawn_main" in command}
            worker = "kll_graph.sparql.workers"
            workers = {pid for pid, command in commands.items() if worker in command}
            parents = {_parent(pid) for pid in workers}
            if parents == servers or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(servers) == 2, commands  # started by granian through multiprocessing.spawn
        assert parents == servers
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in below):
        time.sleep(0.1)
    assert not [pid for pid in below if alive(pid)], "processes left after the server stopped"


def test_a_taken_port_is_a_clear_error(config: Path) -> None:  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stderr = refused("--config", str(config), "serve", "--port", str(port))
    assert f"error: cannot listen on 127.0.0.1:{port}" in stderr


def test_lookups_answer_while_more_heavy_queries_than_cores_hold_requests(
    tmp_path: Path,
) -> None:
    """A heavy query holds its request thread until it ends; the threads of a server process
    must outnumber what the query pool lets wait (lanes, slots and paused queries), or light
    requests queue behind heavy ones however fair the pool is."""
    settings = build_fixture_store(tmp_path)
    env = {
        **clean_env(),
        "KLL_PROCESSES": "1",
        "KLL_QUERY_TIMEOUT": "6",
        "KLL_RESPONSE_CACHE_MB": "0",
        "KLL_QUERY_CACHE_MB": "0",
    }
    with serving("serve", "--store", str(settings.store), "--port", "0", env=env) as (_, url):
        url = url.rstrip("/")
        ended: list[float] = []  # when each heavy request got its answer (its time limit)

        def heavy_request() -> None:
            get(url, ENDLESS)
            ended.append(time.monotonic())

        heavy = [threading.Thread(target=heavy_request) for _ in range(6)]
        for thread in heavy:
            thread.start()
        time.sleep(1.5)  # all six are running or paused by now
        status, body, seconds = get(url, LIGHT)
        answered = time.monotonic()
        assert status == 200 and body["results"]["bindings"]  # type: ignore[index]
        for thread in heavy:
            thread.join(timeout=60)
        # queued behind a heavy query, the light one could only be answered after one ended;
        # an order, not a duration, so a slow machine does not fail it
        assert len(ended) == 6 and answered < min(ended), (
            f"a light query waited {seconds:.1f} s, until a heavy one ended"
        )


def test_a_host_name_is_resolved_and_a_bad_one_is_a_clear_error(config: Path) -> None:  # noqa: F811
    command = ["--config", str(config), "serve", "--port", "0"]
    with serving(*command, "--host", "localhost") as (_, url):
        assert url.startswith("http://localhost:")
        with urllib.request.urlopen(url + "-/health", timeout=10) as response:
            assert json.load(response)["status"] == "ok"
    stderr = refused(*command, "--host", "no-such-host.invalid")
    assert "error: cannot listen on host 'no-such-host.invalid'" in stderr


def test_a_chunked_body_past_the_limit_is_refused(config: Path) -> None:  # noqa: F811
    """A chunked body has no Content-Length to check up front; it is cut off while read."""
    env = {**clean_env(), "KLL_MAX_REQUEST_BYTES": "1000", "KLL_PROCESSES": "1"}
    with serving("--config", str(config), "serve", "--port", "0", env=env) as (_, url):
        parts = urllib.parse.urlsplit(url)

        def post(chunks: list[bytes]) -> tuple[int, bytes]:
            # the whole request in one write: the server may answer and close once it has read
            # past the limit, and a client still sending chunks then would fail on a broken
            # pipe before it reads the answer
            body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
            head = (
                f"POST /sparql HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: application/sparql-query\r\nAccept: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ).encode()
            with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
                sock.sendall(head + body)
                response = http.client.HTTPResponse(sock)
                response.begin()
                return response.status, response.read()

        status, body = post([b"ASK ", b"{ ?s ?p ?o }"])
        assert status == 200 and json.loads(body)["boolean"] is True
        status, body = post([b"ASK { ?s ?p ?o } #" + b"x" * 400] * 4)
        assert status == 413, body
