"""The change log file: saved next to a build, loaded back alike, asked by pair and concept."""

from __future__ import annotations

from pathlib import Path

import pytest

from kll_graph.changes.log import (
    CHANGES_FILE,
    ChangeLog,
    ConceptChange,
    MappingChange,
    ReleasePair,
)
from kll_graph.exceptions import StoreNotFoundError

A = "http://data.europa.eu/esco/occupation/a"


def _log() -> ChangeLog:
    log = ChangeLog()
    first = ReleasePair("esco", "v1", "v2", {"relabelled": 1}, [], "2026-12-03T00:00:00Z")
    second = ReleasePair(
        "esco", "v2", "v3", {"removed": 1}, ["skills: absent"], "2026-12-03T00:00:00Z"
    )
    log.extend(
        first,
        [ConceptChange("esco", "v1", "v2", A, "relabelled", "en", "prefLabel", "a", "A")],
        [
            MappingChange(
                "table", "v1", "v2", "s", "o", "relation", "skos:closeMatch", "skos:exactMatch"
            )
        ],
    )
    log.extend(
        second,
        [ConceptChange("esco", "v2", "v3", A, "removed", label="A")],
    )
    return log


def test_absent_file_is_an_empty_log(tmp_path: Path) -> None:
    log = ChangeLog.load(tmp_path)
    assert log.pairs() == [] and log.history(A) == []


def test_saved_log_loads_back_alike(tmp_path: Path) -> None:
    log = _log()
    log.save(tmp_path)
    loaded = ChangeLog.load(tmp_path)
    assert loaded.pairs() == log.pairs()
    assert loaded.concept_changes("esco", "v1", "v2") == log.concept_changes("esco", "v1", "v2")
    assert loaded.mapping_changes("table", "v1", "v2", "relation")[0].after == "skos:exactMatch"
    assert loaded.mapping_changes("table", "v1", "v2", "added") == []
    assert loaded.concept_changes("esco", "v1", "v2", "removed") == []


def test_history_follows_the_pair_order(tmp_path: Path) -> None:
    kinds = [c.kind for c in _log().history(A)]
    assert kinds == ["relabelled", "removed"]


def test_a_file_of_another_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / CHANGES_FILE).write_text('{"format": 99}', encoding="utf-8")
    with pytest.raises(StoreNotFoundError, match="rebuild"):
        ChangeLog.load(tmp_path)
