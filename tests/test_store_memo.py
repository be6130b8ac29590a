"""ServedBuild.memo: one value per served build and key, computed once, freed with the build."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Store

from kll_graph.store import (
    MANIFEST_LAYOUT,
    OXIGRAPH_DIR,
    CurrentStore,
    Manifest,
    ServedBuild,
    StoreLayout,
    switch_current,
    write_manifest,
)


def _manifest(build_id: str) -> dict[str, Any]:
    """A build.json of the current layout for an empty build."""
    return {
        "layout": MANIFEST_LAYOUT,
        "build_id": build_id,
        "kll_graph_version": "0",
        "started": "2024-01-01T00:00:00+00:00",
        "seconds": 1.0,
        "sample": True,
        "data_dir": "/nowhere",
        "base_iri": "https://w3id.org/kll-graph/",
        "catalog_graph": "https://w3id.org/kll-graph/graph/catalog",
        "triples": 0,
        "graphs": [],
        "sources": {},
        "skipped_sources": [],
        "steps": {},
        "warnings": [],
    }


def _served(tmp_path: Path, build_id: str = "b1") -> ServedBuild:
    return ServedBuild(tmp_path / build_id, Store(), Manifest.from_json(_manifest(build_id)))


def _fake_build(layout: StoreLayout, build_id: str) -> Path:
    """An empty finished build directory, switched in as `current`."""
    build_dir = layout.builds / build_id
    build_dir.mkdir(parents=True)
    store = Store(str(build_dir / OXIGRAPH_DIR))
    store.flush()
    del store
    write_manifest(build_dir, _manifest(build_id))
    switch_current(layout, build_dir)
    return build_dir


class _Value:
    """A weak-referenceable value, to see when the memo lets go of it."""


def test_memo_computes_once_per_key_under_concurrent_threads(tmp_path: Path) -> None:
    served = _served(tmp_path)
    calls: dict[str, int] = {"a": 0, "b": 0}
    calls_lock = threading.Lock()
    start = threading.Barrier(8)

    def make(key: str) -> object:
        with calls_lock:
            calls[key] += 1
        time.sleep(0.05)  # long enough that the other threads arrive while this one computes
        return object()

    results: list[tuple[str, object]] = []

    def worker(index: int) -> None:
        key = "ab"[index % 2]
        start.wait()
        results.append((key, served.memo(key, lambda: make(key))))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == {"a": 1, "b": 1}
    assert len(results) == 8
    assert len({id(value) for key, value in results if key == "a"}) == 1
    assert len({id(value) for key, value in results if key == "b"}) == 1
    assert served.memo("a", object) is dict(results)["a"]


def test_memo_differs_between_builds(tmp_path: Path) -> None:
    first, second = _served(tmp_path, "b1"), _served(tmp_path, "b2")
    assert first.memo("id", lambda: first.build_id) == "b1"
    assert second.memo("id", lambda: second.build_id) == "b2"
    assert first.memo("id", lambda: "again") == "b1"


def test_memo_does_not_cache_an_exception(tmp_path: Path) -> None:
    served = _served(tmp_path)
    attempts: list[int] = []

    def failing() -> int:
        attempts.append(1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        served.memo("k", failing)
    with pytest.raises(RuntimeError, match="boom"):
        served.memo("k", failing)
    assert len(attempts) == 2
    assert served.memo("k", lambda: 42) == 42
    assert served.memo("k", failing) == 42
    assert len(attempts) == 2


def test_memo_is_not_part_of_equality_or_repr(tmp_path: Path) -> None:
    served = _served(tmp_path)
    served.memo("k", lambda: "secret-value")
    assert "secret-value" not in repr(served)
    assert "_memo=" not in repr(served)


def test_old_build_memo_is_freed_after_a_switch(tmp_path: Path) -> None:
    current = CurrentStore(tmp_path / "store")
    _fake_build(current.layout, "20240101T000000Z-a")
    old = current.get()
    value = old.memo("v", _Value)
    old_ref, value_ref = weakref.ref(old), weakref.ref(value)
    assert current.get() is old
    del old, value

    _fake_build(current.layout, "20240102T000000Z-b")
    new = current.get()
    assert new.build_id == "20240102T000000Z-b"
    assert new.memo("v", _Value) is not None
    gc.collect()
    assert old_ref() is None
    assert value_ref() is None
