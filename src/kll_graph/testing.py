"""Helpers for testing kll-graph against real parts: settings on a temporary store, the real data
beside the repository, a real HTTP server on a free port, and `kll-graph serve` as a process.

Shipped in the package (as Flask and Datasette ship theirs) so that the test suite, the benchmarks
and anyone extending kll-graph share one copy instead of importing from `tests.conftest`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from kll_graph.replica.cluster import free_port as free_port  # the tests' free ports too
from kll_graph.settings import REPO_ROOT, Settings, load_settings
from kll_graph.store import BuildSource
from kll_graph.web.app import create_app

#: The real data (JobTech, ESCO, the official mapping tables) lives beside the repository.
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()


class RealDataMissing(Exception):
    """The real data is not where SHARED_DATA says."""


def real_data() -> Path:
    """SHARED_DATA when it holds the JobTech and ESCO sources; RealDataMissing otherwise."""
    if (SHARED_DATA / "jobtech").is_dir() and (SHARED_DATA / "esco").is_dir():
        return SHARED_DATA
    raise RealDataMissing(f"real data not found at {SHARED_DATA}")


def make_settings(store: Path, data_dir: Path | None = None, **changes: object) -> Settings:
    """The repository's configuration with the store (and data dir) pointed elsewhere."""
    settings = load_settings(config_file=REPO_ROOT / "kll-graph.toml", env={})
    return settings.replace(store=store, data_dir=data_dir or store / "no-data", **changes)


class LiveServer:
    """A real waitress server on a free loopback port, in a thread."""

    def __init__(self, settings: Settings, store: BuildSource | None = None) -> None:
        from waitress.server import create_server  # a test dependency, not a runtime one

        self.app = create_app(settings, store=store)
        self.server = create_server(self.app, host="127.0.0.1", port=0, threads=8)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
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
