"""Shared fixtures: settings on temporary stores, one real-data build per session, live servers.

Real data lives in ../shared/data (next to the repository). Where it is absent the tests that
need it skip with that reason, unless KLL_REQUIRE_REAL_DATA=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kll_graph.build.pipeline import build
from kll_graph.settings import REPO_ROOT, Settings, load_settings
from kll_graph.store import CurrentStore

SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()
FIXTURES = Path(__file__).parent / "fixtures"


def _need_real_data() -> Path:
    if (SHARED_DATA / "jobtech").is_dir() and (SHARED_DATA / "esco").is_dir():
        return SHARED_DATA
    reason = f"real data not found at {SHARED_DATA}"
    if os.environ.get("KLL_REQUIRE_REAL_DATA") == "1":
        pytest.fail(reason + " (KLL_REQUIRE_REAL_DATA=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip (fail in CI) when it is absent."""
    return _need_real_data()


def make_settings(store: Path, data_dir: Path | None = None, **changes: object) -> Settings:
    """The repository's configuration with the store (and data dir) pointed elsewhere."""
    settings = load_settings(config_file=REPO_ROOT / "kll-graph.toml", env={})
    return settings.replace(store=store, data_dir=data_dir or store / "no-data", **changes)


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Repository configuration, empty data dir (so the sample is used), store under tmp."""
    return make_settings(tmp_path / "store")


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> CurrentStore:
    """One build of the bundled sample for the whole session."""
    settings = make_settings(tmp_path_factory.mktemp("sample") / "store")
    build(settings)
    return CurrentStore(settings.store)


@pytest.fixture(scope="session")
def real_settings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("real") / "store", data_dir=shared_data)


@pytest.fixture(scope="session")
def real_store(real_settings: Settings) -> CurrentStore:
    """One build of the real data (../shared/data) for the whole session: build once, read many."""
    build(real_settings)
    return CurrentStore(real_settings.store)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real waitress server on a free loopback port, in a thread."""

    def __init__(self, settings: Settings, store: CurrentStore | None = None) -> None:
        from waitress.server import create_server

        from kll_graph.web import create_app

        self.app = create_app(settings, store=store)
        self.server = create_server(self.app, host="127.0.0.1", port=0, threads=8)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"  # type: ignore[union-attr]
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            # close() from another thread can pull the socket out from under the loop's select
            if not self.closing:
                raise

    def close(self) -> None:
        """Stop listening and stop the SPARQL worker processes, as `kll-graph serve` does."""
        self.closing = True
        self.server.close()
        self.app.extensions["kll.sparql"].close()


@pytest.fixture(scope="session")
def real_server(real_settings: Settings, real_store: CurrentStore) -> Iterator[LiveServer]:
    """The real-data store served over real HTTP for the session."""
    server = LiveServer(real_settings, real_store)
    yield server
    server.close()


@pytest.fixture(scope="session")
def sample_server(sample_store: CurrentStore) -> Iterator[LiveServer]:
    settings = make_settings(sample_store.layout.root)
    server = LiveServer(settings, sample_store)
    yield server
    server.close()


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without its KLL_* variables, plus `settings` as KLL_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLL_")}
    return {**env, **{f"KLL_{name.upper()}": value for name, value in settings.items()}}


@contextlib.contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[int, str]]:
    """`python -m kll_graph ARGS` (a `serve` command) running: its pid and the URL it announced.
    Stopped with SIGTERM at the end, as a supervisor would stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kll_graph", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env or clean_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("kll-graph listening on http://"), line
        yield proc.pid, line.split(" on ", 1)[1].strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
