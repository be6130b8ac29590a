"""A response body that fails before any of it was sent reaches the client in the JSON error
shape (granian itself would send an empty 500), with the header that names the build; the
front under real granian, on a free port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kll_graph.testing import free_port
from kll_graph.web.front import BATCH_BYTES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "granian", "--interface", "rsgi", "--factory"]
    argv += ["--port", str(port), "tests.web.failing_bodies:app"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _answers(base):
            assert proc.poll() is None and time.monotonic() < deadline, "granian did not start"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        requests.get(base + "/ok", timeout=1)
    except requests.ConnectionError:
        return False
    return True


def test_a_body_that_works_is_sent_whole(url: str) -> None:
    response = requests.get(url + "/ok", timeout=10)
    assert response.status_code == 200 and len(response.content) == 3 * BATCH_BYTES


def test_our_error_keeps_its_status_and_message(url: str) -> None:
    response = requests.get(url + "/timeout", timeout=10)
    assert response.status_code == 503
    assert response.json()["error"] == {
        "status": 503,
        "code": "timeout",
        "message": "the query ran past its limit",
    }
    assert response.headers["X-KLL-Build"] == "b1"


def test_a_bug_is_a_500_that_tells_nothing_of_it(url: str) -> None:
    response = requests.get(url + "/bug", timeout=10)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_server_error"
    assert "detail" not in error["message"]
