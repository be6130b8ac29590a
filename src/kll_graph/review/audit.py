"""The audit log of a mapping set: one JSON line per change, appended, never rewritten.

Git shows what a set file holds; the log says who changed it through the workbench, when, in
which request, and exactly which rows went and came. That is what a 409 answer lists ("what
changed since your copy") and what undo restores. It lives beside the set as
``<name>.audit.jsonl``; no web route writes or edits it.

Each line is written with one ``write`` on an ``O_APPEND`` descriptor and fsynced. A crash can
still leave a torn last line: the reader skips any line that is not a whole JSON object (and says
so), and the writer starts a fresh line first when the file does not end with one, so a torn line
never swallows the entry after it.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

from kll_graph.mappings.sssom import DOUBLE_SLOTS, MULTIVALUED, format_double, split_values

log = logging.getLogger(__name__)

#: What an audit file is called beside its set file.
AUDIT_SUFFIX = ".audit.jsonl"
#: Entries a 409 lists at most when the client's ETag is not in the log.
RECENT_LIMIT = 20
#: Bytes read at a time when the log is read from its end.
_BLOCK = 1 << 16
UNDO = "undo"

#: A row as the log holds it: slot -> canonical text.
Row = dict[str, str]


def _canonical(slot: str, value: str) -> str:
    value = value.strip()
    if slot in MULTIVALUED:
        return "|".join(sorted(set(split_values(value))))
    if slot in DOUBLE_SLOTS and value:
        try:
            return format_double(value)
        except InvalidOperation:
            return value
    return value


def row_dict(slots: Mapping[str, str]) -> Row:
    """A row's slots as the canonical file writes them (numbers rounded, multiple values
    sorted, empty slots left out), so rows compare equal before and after a write."""
    out = {slot: _canonical(slot, value) for slot, value in slots.items()}
    return {slot: value for slot, value in sorted(out.items()) if value}


@dataclass(frozen=True)
class AuditEntry:
    """One change of one set, as one line of its log."""

    time: str
    user: str
    set: str
    action: str
    request_id: str
    etag_before: str
    etag_after: str
    before: list[Row] = field(default_factory=list)
    after: list[Row] = field(default_factory=list)
    batch: str | None = None
    #: The id of the entry this one undid (action "undo").
    undoes: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "time": self.time,
            "user": self.user,
            "set": self.set,
            "action": self.action,
            "request_id": self.request_id,
            "etag_before": self.etag_before,
            "etag_after": self.etag_after,
            "before": self.before,
            "after": self.after,
        }
        if self.batch is not None:
            data["batch"] = self.batch
        if self.undoes is not None:
            data["undoes"] = self.undoes
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEntry:
        """The inverse of :meth:`to_json`; KeyError/TypeError for a line that is not one."""
        return cls(
            id=str(data["id"]),
            time=str(data["time"]),
            user=str(data["user"]),
            set=str(data["set"]),
            action=str(data["action"]),
            request_id=str(data.get("request_id") or ""),
            etag_before=str(data.get("etag_before") or ""),
            etag_after=str(data.get("etag_after") or ""),
            before=[_row(r) for r in data.get("before") or []],
            after=[_row(r) for r in data.get("after") or []],
            batch=data.get("batch"),
            undoes=data.get("undoes"),
        )


def _row(data: Any) -> Row:
    if not isinstance(data, dict):
        raise TypeError("a row must be a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def now_utc() -> str:
    """The time an entry is stamped with: UTC, ISO 8601, milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class AuditRead:
    """The entries of a log, oldest first, and notes on the lines that had to be skipped."""

    entries: list[AuditEntry]
    notes: list[str]


class AuditLog:
    """The audit logs of the sets in one mappings directory.

    Appending is the caller's to serialise (:class:`~kll_graph.review.setfiles.SetFiles` holds the
    set's lock), so the order of lines is the order of the file's versions.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        """The log file of a set (the name is checked by the caller)."""
        return self.directory / f"{name}{AUDIT_SUFFIX}"

    def append(self, entry: AuditEntry) -> None:
        """Add one entry as one line and fsync it before returning."""
        line = json.dumps(entry.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
        fd = os.open(self.path(entry.set), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            data = line.encode("utf-8")
            if not _ends_with_newline(fd):
                data = b"\n" + data
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, name: str) -> AuditRead:
        """Every entry, oldest first; lines that are not whole entries are skipped and noted."""
        path = self.path(name)
        entries: list[AuditEntry] = []
        notes: list[str] = []
        if not path.exists():
            return AuditRead(entries, notes)
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                entry = _parse(raw, path, number, notes)
                if entry is not None:
                    entries.append(entry)
        return AuditRead(entries, notes)

    def entries(self, name: str) -> list[AuditEntry]:
        """Every entry, oldest first (torn lines skipped, with a warning in the log)."""
        return self.read(name).entries

    def backwards(self, name: str) -> Iterator[AuditEntry]:
        """The entries newest first, reading only as much of the file's end as needed."""
        path = self.path(name)
        if not path.exists():
            return
        notes: list[str] = []
        for raw in _lines_backwards(path):
            entry = _parse(raw, path, None, notes)
            if entry is not None:
                yield entry

    def entries_since(self, name: str, etag: str) -> list[AuditEntry]:
        """The changes made after the set had this ETag, oldest first (what a stale client
        missed). When the log never saw that ETag (the file was edited outside the workbench,
        or the log is new), the last few entries, so a 409 still shows recent work."""
        newer: list[AuditEntry] = []
        for entry in self.backwards(name):
            if entry.etag_after == etag:
                return newer[::-1]
            newer.append(entry)
            if entry.etag_before == etag:
                return newer[::-1]
        return newer[:RECENT_LIMIT][::-1]

    def last_entry_by(self, name: str, user: str) -> AuditEntry | None:
        """The user's latest change that can still be undone: not an undo itself, and not one
        an undo already took back."""
        undone: set[str] = set()
        for entry in self.backwards(name):
            if entry.undoes:
                undone.add(entry.undoes)
            if entry.user != user or entry.action == UNDO or entry.id in undone:
                continue
            return entry
        return None

    def find(self, name: str, entry_id: str) -> AuditEntry | None:
        """One entry by its id (a client may ask to undo a given entry)."""
        return next((e for e in self.backwards(name) if e.id == entry_id), None)


def _parse(raw: bytes, path: Path, number: int | None, notes: list[str]) -> AuditEntry | None:
    if not raw.strip():
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return AuditEntry.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        where = f"line {number}" if number is not None else "a line"
        note = f"{path}: {where} is not a whole audit entry ({exc}); skipped"
        notes.append(note)
        log.warning(note)
        return None


def _ends_with_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size == 0 or os.pread(fd, 1, size - 1) == b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The lines of a file, last first, read in blocks from its end."""
    with path.open("rb") as handle:
        position = handle.seek(0, os.SEEK_END)
        tail = b""
        while position > 0:
            step = min(_BLOCK, position)
            position -= step
            handle.seek(position)
            tail = handle.read(step) + tail
            lines = tail.split(b"\n")
            tail = lines[0]
            yield from reversed(lines[1:])
        yield tail
