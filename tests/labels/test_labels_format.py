"""The label index file: saved and loaded whole, and an index file of another format (an older
build's) rebuilt in memory instead of being read."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

from kll_graph.labels.index import LabelIndex
from kll_graph.labels.layout import INDEX_FILE
from kll_graph.labels.lookup import autocomplete, index_for
from kll_graph.store import CurrentStore
from tests.labels.test_labels import SYSTEMUTVECKLARE, fixture_build


def _copy_of_fixture_build(tmp_path: Path) -> Path:
    """A copy of the fixture build under `tmp_path`/store, linked as current."""
    source = fixture_build()[1].get().path
    copy = tmp_path / "store" / "builds" / source.name
    shutil.copytree(source, copy)
    (tmp_path / "store" / "current").symlink_to(copy)
    return copy


def test_saved_index_loads_with_the_same_answers(tmp_path: Path) -> None:
    built = index_for(fixture_build()[1].get())
    file = tmp_path / INDEX_FILE
    assert built.save(file) == file.stat().st_size
    loaded = LabelIndex.load(file)
    assert loaded is not None
    assert loaded.concept_count == built.concept_count
    assert loaded.label_count == built.label_count
    for q in ("Systemutvecklare", "sys", "utvecklare", "2512"):
        assert autocomplete(loaded, q) == autocomplete(built, q)


def test_index_file_of_an_older_format_is_rebuilt_in_memory(tmp_path: Path) -> None:
    copy = _copy_of_fixture_build(tmp_path)
    # format 4 pickled a dict of the index's tables, "format" among them
    with (copy / INDEX_FILE).open("wb") as handle:
        pickle.dump({"format": 4, "uris": []}, handle)
    assert LabelIndex.load(copy / INDEX_FILE) is None
    index = index_for(CurrentStore(tmp_path / "store").get())
    assert autocomplete(index, "Systemutvecklare")["results"][0]["uri"] == SYSTEMUTVECKLARE


def test_index_file_of_another_format_is_not_unpickled(tmp_path: Path) -> None:
    file = tmp_path / INDEX_FILE
    file.write_bytes(b"kll-graph label index, format 999\n" + pickle.dumps(object()))
    assert LabelIndex.load(file) is None
