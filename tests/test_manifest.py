"""The build manifest (`build.json`) read as a typed Manifest: a build of another layout is
refused with a message to rebuild, never served through fallbacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kll_graph.build.pipeline import build, ensure_built
from kll_graph.build.summary import build_summary
from kll_graph.exceptions import StoreNotFoundError
from kll_graph.store import (
    MANIFEST,
    MANIFEST_LAYOUT,
    CurrentStore,
    GraphRecord,
    Manifest,
    read_manifest,
    write_manifest,
)
from kll_graph.testing import make_settings

REBUILD = "rebuild with `kll-graph build`"


def _data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "layout": MANIFEST_LAYOUT,
        "build_id": "20240101T000000.000000Z",
        "kll_graph_version": "1.2.3",
        "started": "2024-01-01T10:00:00+00:00",
        "seconds": 61.6,
        "sample": False,
        "data_dir": "/data",
        "base_iri": "https://w3id.org/kll-graph/",
        "catalog_graph": "https://w3id.org/kll-graph/graph/catalog",
        "triples": 12,
        "graphs": [
            {"iri": "urn:g1", "title": "G 1", "source": "s1", "version": "v1", "triples": 10},
            {"iri": "urn:g2", "title": "G 2", "source": "s1", "version": "v1", "triples": 2},
        ],
        "sources": {
            "s1": {"seconds": 1.5, "counts": {"concepts": 3}, "notes": ["n"], "warnings": []}
        },
        "skipped_sources": ["s2"],
        "steps": {"labels": {"concepts": 3}},
        "warnings": ["w"],
    }
    data.update(changes)
    return data


def test_a_manifest_of_the_current_layout_reads_into_typed_fields() -> None:
    manifest = Manifest.from_json(_data())
    assert manifest.build_id == "20240101T000000.000000Z"
    assert manifest.started == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert manifest.finished == datetime(2024, 1, 1, 10, 1, 1, tzinfo=UTC)
    assert manifest.data_dir == Path("/data")
    assert manifest.graphs[1] == GraphRecord("urn:g2", "G 2", "s1", "v1", 2)
    assert manifest.sources["s1"].counts == {"concepts": 3}
    assert manifest.sources["s1"].notes == ("n",)
    assert manifest.skipped_sources == ("s2",)
    assert manifest.steps["labels"] == {"concepts": 3}
    assert manifest.triples == 12


def test_the_build_summary_reads_the_typed_manifest() -> None:
    text = build_summary(Manifest.from_json(_data()))
    assert text.splitlines() == [
        "build 20240101T000000.000000Z: 2 graphs, 12 triples in 61.6 s",
        "          10  urn:g1",
        "           2  urn:g2",
        "s1 (1.5 s): concepts 3",
        "  note: n",
        "skipped (not present): s2",
        "warning: w",
    ]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({k: v for k, v in _data().items() if k != "layout"}, "(no 'layout')"),
        (_data(layout=0), "(layout 0, this kll-graph reads"),
        ({k: v for k, v in _data().items() if k != "steps"}, "(no 'steps')"),
        (_data(graphs=[{"iri": "urn:g", "triples": 1}]), "(a graph has no 'title')"),
    ],
)
def test_an_older_layout_is_refused_with_a_message_to_rebuild(
    data: dict[str, Any], why: str
) -> None:
    with pytest.raises(StoreNotFoundError) as caught:
        Manifest.from_json(data)
    message = str(caught.value)
    assert "built by an older kll-graph layout" in message
    assert why in message
    assert message.endswith(REBUILD)


def test_a_newer_layout_and_wrong_types_are_refused() -> None:
    with pytest.raises(StoreNotFoundError, match="newer kll-graph layout"):
        Manifest.from_json(_data(layout=MANIFEST_LAYOUT + 1))
    with pytest.raises(StoreNotFoundError, match="'triples' is not int but bool"):
        Manifest.from_json(_data(triples=True))
    with pytest.raises(StoreNotFoundError, match="'started' has no time zone"):
        Manifest.from_json(_data(started="2024-01-01T10:00:00"))
    with pytest.raises(StoreNotFoundError, match="not a JSON object"):
        Manifest.from_json([])


def test_writing_adds_the_layout_and_keeps_the_rest(tmp_path: Path) -> None:
    data = {k: v for k, v in _data().items() if k != "layout"}
    write_manifest(tmp_path, data)
    written = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert written == {"layout": MANIFEST_LAYOUT, **data}
    assert read_manifest(tmp_path) == Manifest.from_json(written)


def test_an_unreadable_manifest_says_to_rebuild(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text("{", encoding="utf-8")
    with pytest.raises(StoreNotFoundError, match="unreadable build manifest") as caught:
        read_manifest(tmp_path)
    assert str(caught.value).endswith(REBUILD)


def test_serving_a_build_of_an_older_layout_says_to_rebuild(tmp_path: Path) -> None:
    current = CurrentStore(tmp_path / "store")
    build_dir = current.layout.builds / "20240101T000000.000000Z"
    (build_dir / "oxigraph").mkdir(parents=True)
    old = {k: v for k, v in _data().items() if k != "layout"}
    (build_dir / MANIFEST).write_text(json.dumps(old), encoding="utf-8")
    current.layout.current.symlink_to(build_dir)
    with pytest.raises(StoreNotFoundError) as caught:
        current.get()
    assert "built by an older kll-graph layout" in str(caught.value)
    assert str(caught.value).endswith(REBUILD)


def test_ensure_built_rebuilds_a_build_of_an_older_layout(tmp_path: Path) -> None:
    """`kll-graph serve` after an upgrade: the old build is replaced, not served or failed on."""
    settings = make_settings(tmp_path / "store")
    old = build(settings).path
    data = json.loads((old / MANIFEST).read_text(encoding="utf-8"))
    del data["layout"]
    (old / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    said: list[str] = []
    new = ensure_built(settings, progress=said.append)
    assert new != old
    assert read_manifest(new).layout == MANIFEST_LAYOUT
    assert any("older kll-graph layout" in line and "building again" in line for line in said)
    assert ensure_built(settings) == new  # a current build of this layout is kept
