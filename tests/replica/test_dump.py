"""Dumps: written whole with a manifest, verified file by file, loaded with the engine's loader."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from pyoxigraph import Store

from kll_graph.exceptions import DumpError, ReplicaError
from kll_graph.replica.dump import DUMP_MANIFEST, QUADS, graph_counts, verify_dump, write_dump
from kll_graph.replica.load import load_dump, replica_build
from kll_graph.store import CurrentStore


def test_dump_holds_every_quad_and_artifact(sample_store: CurrentStore, sample_dump: Path) -> None:
    served = sample_store.get()
    manifest = verify_dump(sample_dump)
    assert manifest.build_id == served.build_id == sample_dump.name
    assert {"graph.nq.gz", "build.json", "labels.idx", "quality.json"} <= set(manifest.files)
    for name in ("labels.idx", "build.json"):
        assert (sample_dump / name).read_bytes() == (served.path / name).read_bytes()
    with gzip.open(sample_dump / QUADS, "rt", encoding="utf-8") as handle:
        lines = sum(1 for line in handle if line.strip())
    assert lines == manifest.triples == sum(manifest.graphs.values())
    assert manifest.graphs == graph_counts(Store.read_only(str(served.path / "oxigraph")))


def test_dumping_twice_gives_the_same_dump(sample_store: CurrentStore, sample_dump: Path) -> None:
    again = write_dump(sample_store.get().path, sample_dump.parent)
    assert again.path == sample_dump
    assert not [p for p in sample_dump.parent.iterdir() if p.name.startswith(".")]


def _copy(dump: Path, tmp_path: Path) -> Path:
    copy = tmp_path / dump.name
    shutil.copytree(dump, copy)
    return copy


def test_a_tampered_file_is_refused_and_nothing_loaded(sample_dump: Path, tmp_path: Path) -> None:
    copy = _copy(sample_dump, tmp_path)
    data = bytearray((copy / "labels.idx").read_bytes())
    data[100] ^= 1
    (copy / "labels.idx").write_bytes(bytes(data))
    with pytest.raises(DumpError, match=r"labels\.idx: checksum .* differs from the manifest"):
        load_dump(copy, tmp_path / "replica")
    assert not (tmp_path / "replica").exists()
    assert not (tmp_path / "replica.partial").exists()


def test_a_missing_or_unlisted_file_is_refused(sample_dump: Path, tmp_path: Path) -> None:
    copy = _copy(sample_dump, tmp_path)
    (copy / "quality.json").unlink()
    with pytest.raises(DumpError, match=r"quality\.json: listed in the manifest but missing"):
        verify_dump(copy)
    copy = _copy(sample_dump, tmp_path / "b")
    (copy / "extra.txt").write_text("x")
    with pytest.raises(DumpError, match=r"files the manifest does not list: extra\.txt"):
        verify_dump(copy)


def test_a_manifest_whose_counts_disagree_is_refused_after_loading(
    sample_dump: Path, tmp_path: Path
) -> None:
    """The manifest itself edited (checksums of the other files still right): the smoke test
    of the loaded store catches the count, and the load leaves nothing behind."""
    copy = _copy(sample_dump, tmp_path)
    data = json.loads((copy / DUMP_MANIFEST).read_text())
    graph = next(iter(data["graphs"]))
    data["graphs"][graph] += 1
    data["triples"] += 1
    (copy / DUMP_MANIFEST).write_text(json.dumps(data))
    with pytest.raises(DumpError, match="the loaded store differs from the dump"):
        load_dump(copy, tmp_path / "replica")
    assert not (tmp_path / "replica").exists()
    assert not (tmp_path / "replica.partial").exists()


def test_a_dump_of_another_format_says_so(sample_dump: Path, tmp_path: Path) -> None:
    copy = _copy(sample_dump, tmp_path)
    data = json.loads((copy / DUMP_MANIFEST).read_text())
    data["format"] = 99
    (copy / DUMP_MANIFEST).write_text(json.dumps(data))
    with pytest.raises(DumpError, match="dump format 99, this kll-graph reads 1"):
        verify_dump(copy)


def test_loaded_replica_matches_and_is_never_overwritten(
    sample_dump: Path, replica_location: Path
) -> None:
    manifest = verify_dump(sample_dump)
    assert replica_build(replica_location) == manifest.build_id
    assert graph_counts(Store.read_only(str(replica_location))) == dict(manifest.graphs)
    with pytest.raises(ReplicaError, match="exists; load a new build into a new location"):
        load_dump(sample_dump, replica_location)
