"""Shared fixtures: settings on temporary stores, one real-data build per session, live servers.

Real data lives in ../shared/data (next to the repository). Where it is absent the tests that
need it skip with that reason, unless KLL_REQUIRE_REAL_DATA=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kll_graph.build.pipeline import build
from kll_graph.settings import Settings
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer, RealDataMissing, make_settings, real_data


def _need_real_data() -> Path:
    try:
        return real_data()
    except RealDataMissing as missing:
        if os.environ.get("KLL_REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"{missing} (KLL_REQUIRE_REAL_DATA=1)")
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip (fail in CI) when it is absent."""
    return _need_real_data()


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
