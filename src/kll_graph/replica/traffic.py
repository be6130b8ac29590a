"""Client load for the cluster's tests and benchmark: threads asking a mix of SPARQL and lookups
over keep-alive connections, recording every answer's status, time and build.

Stdlib only (http.client), so the load generator adds no dependency and no retry of its own: a
request that fails here failed for a real client. A connection the server closed between
requests (keep-alive ended) is reopened and the request sent once more, as every HTTP client
does for an idle connection; an answer that was started and broken is a failure.
"""

from __future__ import annotations

import http.client
import itertools
import math
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

#: SPARQL the mix asks. Each text is unique (a filter on a value no label has, or a counter), so
#: no answer comes from a cache: the engine's work is measured, not our response cache.
SPARQL = (
    "SELECT ?c ?l WHERE {{ ?c <http://www.w3.org/2004/02/skos/core#prefLabel> ?l "
    'FILTER(?l != "#{n}") }} LIMIT 10 OFFSET {o}',
    "SELECT ?c ?b ?l WHERE {{ ?c <http://www.w3.org/2004/02/skos/core#broader> ?b ; "
    "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l "
    'FILTER(?l != "#{n}") }} LIMIT 20 OFFSET {o}',
    'ASK {{ ?c <http://www.w3.org/2004/02/skos/core#notation> "{n}" }}',
)


#: Lookups (the API reads the label index and the graph).
WORDS = ("data", "lärare", "sjuk", "chef", "engineer", "svets", "kock", "ekonom", "nurse", "bygg")


def sparql_path(n: int, endpoint: str = "/sparql") -> str:
    text = SPARQL[n % len(SPARQL)].format(n=n, o=n % 200, m=n % 40)
    return f"{endpoint}?{urllib.parse.urlencode({'query': text})}"


def lookup_path(n: int) -> str:
    """An autocomplete of a word's first two to four letters. (Full search is left out: on the
    real data some words take tens of seconds today, which would measure that, not the cluster.)"""
    word = WORDS[n % len(WORDS)]
    return f"/api/v1/autocomplete?{urllib.parse.urlencode({'q': word[: 2 + n % 3]})}"


def mixed_path(n: int) -> str:
    """Half SPARQL, half lookups."""
    return sparql_path(n) if n % 2 == 0 else lookup_path(n)


@dataclass
class Outcome:
    """One request: when it ended (monotonic), seconds taken, status (0: no answer), build, and
    the path asked (so a mixed run can be told apart by kind)."""

    ended: float
    seconds: float
    status: int
    build: str | None
    error: str | None = None
    path: str = ""


@dataclass
class Traffic:
    """`clients` threads asking `paths(n)` of `host:port` until stopped."""

    host: str
    port: int
    clients: int
    paths: Callable[[int], str] = mixed_path
    accept: str = "application/sparql-results+json, application/json;q=0.9"
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Traffic:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._client, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        return self.outcomes

    def run_for(self, seconds: float) -> list[Outcome]:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def _client(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        while not self._stop.is_set():
            with self._lock:
                n = next(self._counter)
            path = self.paths(n)
            outcome, connection = self._ask(connection, path)
            outcome.path = path
            with self._lock:
                self.outcomes.append(outcome)
        connection.close()

    def _ask(
        self, connection: http.client.HTTPConnection, path: str
    ) -> tuple[Outcome, http.client.HTTPConnection]:
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                connection.request("GET", path, headers={"Accept": self.accept})
                response = connection.getresponse()
                response.read()
                build = response.getheader("X-KLL-Build")
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                ended = time.monotonic()
                return Outcome(ended, ended - started, response.status, build), connection
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2 or not _idle_close(exc):
                    ended = time.monotonic()
                    return Outcome(ended, ended - started, 0, None, repr(exc)), connection
            except OSError as exc:
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                ended = time.monotonic()
                return Outcome(ended, ended - started, 0, None, repr(exc)), connection
        raise AssertionError("unreachable")


def _idle_close(exc: Exception) -> bool:
    """A keep-alive connection the server closed while idle: the request never reached it."""
    return isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    """Requests with no answer or an error status."""
    return [o for o in outcomes if o.status == 0 or o.status >= 500]


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.0
    """
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]
