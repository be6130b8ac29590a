"""Fixtures: the sample build as a dump, loaded into a replica, served with its network closed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kll_graph.replica.dump import write_dump
from kll_graph.replica.launch import spawn_replica
from kll_graph.replica.load import load_dump
from kll_graph.store import CurrentStore
from kll_graph.testing import free_port

#: Seconds a query may run on the test replicas.
TIMEOUT_S = 1


@pytest.fixture(scope="session")
def sample_dump(sample_store: CurrentStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dump(sample_store.get().path, tmp_path_factory.mktemp("dumps")).path


@pytest.fixture(scope="session")
def replica_location(sample_dump: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_dump(sample_dump, tmp_path_factory.mktemp("replicas") / "a").location


@pytest.fixture(scope="session")
def replica_url(replica_location: Path) -> Iterator[str]:
    """A replica of the sample, started as `kll-graph replica serve` on a free port."""
    bind = f"127.0.0.1:{free_port()}"
    proc = spawn_replica(replica_location, bind, TIMEOUT_S)
    yield f"http://{bind}/query"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
