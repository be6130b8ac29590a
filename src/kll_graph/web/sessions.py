"""Sign-in sessions and failed sign-in attempts, kept server-side in one SQLite file beside the
users file (`<users_file>.sessions.sqlite`).

Why server-side: signing out, a removed user and an expired session must end the session at
once, which a signed cookie alone cannot do; and several server processes must agree, which is
what SQLite gives across processes (WAL mode: readers never wait for the writer).

What is stored is never the session id the browser holds, only a keyed hash of it
(:func:`session_key`, HMAC-SHA-256 with the installation's secret key): a copy of this file
does not let anyone take over a session. The same file counts failed sign-ins per name and per
client address, so that guessing passwords is slowed down across all server processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    account TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    csrf TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires);
CREATE TABLE IF NOT EXISTS failures (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_by_subject ON failures (scope, subject, at);
"""
#: How much of a client-chosen subject (a name typed at sign-in) is stored.
SUBJECT_CHARS = 100


def sessions_path(users_file: Path) -> Path:
    """Where the sessions of a users file live: beside it, so they share its protection."""
    return users_file.with_name(users_file.name + ".sessions.sqlite")


def session_key(secret: bytes, session_id: str) -> str:
    """What is stored for a session id: its HMAC under the installation's secret key."""
    return hmac.new(secret, b"session\0" + session_id.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    """One signed-in session as stored: whose, since and until when, and its CSRF token."""

    key: str
    name: str
    account: str
    created: float
    expires: float
    csrf: str


@dataclass(frozen=True)
class Limit:
    """At most `failures` failed attempts for one subject of a scope within `window` seconds."""

    scope: str
    subject: str
    failures: int
    window: float


class SessionStore:
    """The SQLite file of sessions and failures. A connection per call: calls come from many
    threads and processes, and opening one costs tens of microseconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._create()
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()

    def _create(self) -> None:
        """Create the file with mode 0600 (SQLite gives its WAL files the same mode), then the
        tables."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
        finally:
            connection.close()
        self._ready = True

    # sessions

    def create(self, session: Session, now: float) -> None:
        """Store a new session; expired ones are deleted on the way."""
        with self._connect() as db:
            db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            db.execute(
                "INSERT INTO sessions (key, name, account, created, expires, csrf) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session.key,
                    session.name,
                    session.account,
                    session.created,
                    session.expires,
                    session.csrf,
                ),
            )

    def get(self, key: str, now: float) -> Session | None:
        """The session stored under `key`, unless it has expired."""
        with self._connect() as db:
            row = db.execute(
                "SELECT key, name, account, created, expires, csrf FROM sessions "
                "WHERE key = ? AND expires > ?",
                (key, now),
            ).fetchone()
        return Session(*row) if row is not None else None

    def delete(self, key: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM sessions WHERE key = ?", (key,))

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])

    # failed attempts

    def record_failure(self, scope: str, subject: str, now: float, keep: float) -> None:
        """Count one failure; failures older than `keep` seconds are forgotten on the way."""
        with self._connect() as db:
            db.execute("DELETE FROM failures WHERE at <= ?", (now - keep,))
            db.execute(
                "INSERT INTO failures (scope, subject, at) VALUES (?, ?, ?)",
                (scope, subject[:SUBJECT_CHARS], now),
            )

    def clear_failures(self, scope: str, subject: str) -> None:
        with self._connect() as db:
            db.execute(
                "DELETE FROM failures WHERE scope = ? AND subject = ?",
                (scope, subject[:SUBJECT_CHARS]),
            )

    def retry_after(self, limits: Sequence[Limit], now: float) -> int:
        """Seconds until every limit allows another attempt; 0 when all do now. A limit of N
        allows an attempt once fewer than N failures are left in its window, that is when the
        N-th most recent one leaves it."""
        wait = 0.0
        with self._connect() as db:
            for limit in limits:
                times = [
                    at
                    for (at,) in db.execute(
                        "SELECT at FROM failures WHERE scope = ? AND subject = ? AND at > ? "
                        "ORDER BY at DESC LIMIT ?",
                        (
                            limit.scope,
                            limit.subject[:SUBJECT_CHARS],
                            now - limit.window,
                            limit.failures,
                        ),
                    )
                ]
                if len(times) >= limit.failures:
                    wait = max(wait, times[-1] + limit.window - now)
        return math.ceil(wait) if wait > 0 else 0
