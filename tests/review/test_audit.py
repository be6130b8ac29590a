"""The audit log: one fsynced JSON line per change, read forwards and backwards alike; a torn
line is skipped and said so, and never swallows the entry appended after it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kll_graph.review.audit import RECENT_LIMIT, AuditEntry, AuditLog, row_dict
from kll_graph.review.decisions import Decision, decide, undo_last
from tests.review.sets_helpers import ANN, BO, TODAY, setup


def _entry(number: int, user: str = "ann", **changes: object) -> AuditEntry:
    values: dict[str, object] = {
        "time": f"2025-03-14T10:00:{number:02d}.000+00:00",
        "user": user,
        "set": "nurses",
        "action": "accept",
        "request_id": f"req-{number}",
        "etag_before": f'"{number}"',
        "etag_after": f'"{number + 1}"',
        "before": [],
        "after": [{"subject_id": f"jt:{number}", "object_id": "ESCO:x"}],
        **changes,
    }
    return AuditEntry(**values)  # type: ignore[arg-type]


def test_entries_round_trip_one_json_line_each(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    written = [_entry(1), _entry(2, batch="b1"), _entry(3, action="undo", undoes="x")]
    for entry in written:
        log.append(entry)
    lines = log.path("nurses").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[1])["batch"] == "b1"
    assert {"time", "user", "set", "action", "request_id", "etag_before", "etag_after"} <= set(
        json.loads(lines[0])
    )
    assert log.entries("nurses") == written
    assert list(log.backwards("nurses")) == written[::-1]
    assert log.entries("other") == []


def test_a_torn_last_line_is_skipped_and_does_not_swallow_the_next(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = AuditLog(tmp_path)
    log.append(_entry(1))
    log.append(_entry(2))
    whole = log.path("nurses").read_bytes()
    torn = json.dumps(_entry(3).to_json()).encode()[:57]
    log.path("nurses").write_bytes(whole + torn)  # a crash in the middle of an append
    with caplog.at_level(logging.WARNING):
        read = log.read("nurses")
    assert [e.request_id for e in read.entries] == ["req-1", "req-2"]
    assert len(read.notes) == 1 and "line 3 is not a whole audit entry" in read.notes[0]
    assert "skipped" in caplog.text
    log.append(_entry(4))
    read = log.read("nurses")
    assert [e.request_id for e in read.entries] == ["req-1", "req-2", "req-4"]
    assert len(read.notes) == 1
    assert log.path("nurses").read_bytes().startswith(whole + torn + b"\n")
    assert [e.request_id for e in log.backwards("nurses")] == ["req-4", "req-2", "req-1"]
    last = log.last_entry_by("nurses", "ann")
    assert last is not None and last.request_id == "req-4"


def test_reading_backwards_across_blocks(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    big = [{"subject_id": f"jt:{n}", "comment": "x" * 900} for n in range(20)]
    entries = [_entry(n % 60, after=big, request_id=f"r{n}") for n in range(40)]  # > 64 KiB
    for entry in entries:
        log.append(entry)
    assert log.path("nurses").stat().st_size > 3 * (1 << 16)
    assert list(log.backwards("nurses")) == entries[::-1]


def test_entries_since_an_etag(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    for n in range(1, 6):  # etags "1" -> "2" -> ... -> "6"
        log.append(_entry(n))
    assert [e.request_id for e in log.entries_since("nurses", '"3"')] == ["req-3", "req-4", "req-5"]
    assert log.entries_since("nurses", '"6"') == []
    assert [e.request_id for e in log.entries_since("nurses", '"1"')] == [
        f"req-{n}" for n in range(1, 6)
    ]


def test_entries_since_an_etag_the_log_never_saw_are_the_recent_ones(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    for n in range(1, RECENT_LIMIT + 11):
        log.append(_entry(n, etag_before=f'"b{n}"', etag_after=f'"a{n}"'))
    since = log.entries_since("nurses", '"edited by hand"')
    assert len(since) == RECENT_LIMIT
    assert since[-1].request_id == f"req-{RECENT_LIMIT + 10}"


def test_last_entry_by_skips_other_users_undos_and_what_was_undone(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    first, second = _entry(1), _entry(2)
    log.append(first)
    log.append(second)
    log.append(_entry(3, user="bo"))
    assert log.last_entry_by("nurses", "ann") == second
    log.append(_entry(4, action="undo", undoes=second.id))
    assert log.last_entry_by("nurses", "ann") == first
    assert log.last_entry_by("nurses", "cy") is None
    assert log.find("nurses", second.id) == second


def test_rows_are_kept_in_their_canonical_form() -> None:
    assert row_dict(
        {
            "confidence": "0.9500",
            "author_id": "orcid:2|orcid:1|orcid:2",
            "comment": "",
            "subject_id": " jt:a ",
        }
    ) == {"author_id": "orcid:1|orcid:2", "confidence": "0.95", "subject_id": "jt:a"}


def test_every_change_of_a_set_is_logged_with_its_rows(tmp_path: Path) -> None:
    files = setup(tmp_path)
    created = files.etag("nurses")
    decision = Decision("nurses", "jt:a", "ESCO:occupation/a", "1", "accept", "sure")
    first, row = decide(files, decision, None, ANN, created, today=TODAY, request_id="req-a")
    second = undo_last(files, "nurses", ANN, first.etag, request_id="req-z")
    create, accept, undone = files.audit.entries("nurses")
    assert create.action == "create" and create.etag_after == created
    assert (accept.user, accept.action, accept.request_id) == (ANN, "accept", "req-a")
    assert (accept.etag_before, accept.etag_after) == (created, first.etag)
    assert accept.before == [] and accept.after == [row_dict(row.slots)]
    assert (undone.action, undone.undoes, undone.request_id) == ("undo", accept.id, "req-z")
    assert undone.before == accept.after and undone.after == []
    assert undone.etag_after == second.etag == created
    assert files.audit.last_entry_by("nurses", BO) is None
