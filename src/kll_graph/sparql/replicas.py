"""Replicas of a SPARQL 1.1 endpoint, reached over HTTP: which one answers, and when one is out.

A remote backend is several identical read-only replicas (`oxigraph serve-read-only` on copies of
one build). The app reaches them through one :class:`ReplicaPool`:

* **One client, kept alive.** A urllib3 pool per replica keeps connections open between requests
  (a new TCP connection per query would cost more than a light query).
* **Timeouts.** A short connect timeout (a replica that does not accept in that time is taken as
  down) and a read timeout the caller gives (the query's time limit): a replica still silent
  after it is a :class:`~kll_graph.exceptions.QueryTimeoutError`, not retried (the query would
  only cost another replica the same time).
* **Retries elsewhere.** Queries are reads, so a request that failed before any answer came
  (connection refused, reset, closed) is sent to the next replica, and the failing one is taken
  out at once. Replicas are tried round-robin, those in service first, then those out of it (a
  replica marked out by a blip is better than no answer).
* **Health checks.** A thread probes every replica every :data:`HEALTH_INTERVAL` seconds; a probe
  asks the replica which build it serves, so one that answers but serves another build than the
  app's artifacts is out too, and one that answers right again is taken back in.

The pool is made per server process and its thread started on first use, so a process forked
after the pool was made (granian's workers) never shares a socket or a dead thread.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from kll_graph.exceptions import BackendUnavailableError, ConfigError, QueryTimeoutError

#: Seconds between two health probes of each replica.
HEALTH_INTERVAL = 1.0
#: Seconds a replica may take to accept a connection.
CONNECT_TIMEOUT = 2.0
#: Seconds a health probe may take in all.
PROBE_TIMEOUT = 5.0
#: Connections kept open to each replica (per server process).
CONNECTIONS = 32

#: A probe: asks one replica (by its pool and URL) which build it serves; raises when it cannot.
Probe = Callable[["ReplicaPool", str], str]


@dataclass
class ReplicaState:
    """What the app knows of one replica: in service or not, why, and the build it serves."""

    url: str
    healthy: bool = True
    build_id: str | None = None
    error: str | None = None
    failures: int = 0
    checked: float = 0.0


def endpoint_urls(text: str) -> tuple[str, ...]:
    """The comma-separated endpoint URLs of the `backend` setting, checked.

    >>> endpoint_urls("http://a:7878/query, http://b:7878/query")
    ('http://a:7878/query', 'http://b:7878/query')
    """
    urls = tuple(u.strip() for u in text.split(",") if u.strip())
    for url in urls:
        scheme, _, rest = url.partition("://")
        if scheme not in {"http", "https"} or not rest or "/" not in rest:
            raise ConfigError(
                f"backend URL {url!r} is not an http(s) SPARQL endpoint URL; give the query "
                "endpoint, e.g. http://127.0.0.1:7878/query"
            )
    if len(set(urls)) != len(urls):
        raise ConfigError(f"backend lists a URL twice: {', '.join(urls)}")
    return urls


class ReplicaPool:
    """Requests to a set of replicas: keep-alive, timeouts, failover and health checks."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        expected_build: str,
        probe: Probe,
        health_interval: float = HEALTH_INTERVAL,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        if not urls:
            raise ConfigError("a remote backend needs at least one endpoint URL")
        self.urls = tuple(urls)
        self.expected_build = expected_build
        self.probe = probe
        self.health_interval = health_interval
        self.connect_timeout = connect_timeout
        self.states = {url: ReplicaState(url) for url in self.urls}
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._pid: int | None = None
        self._http: urllib3.PoolManager | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the client of this process -------------------------------------------------------

    @property
    def http(self) -> urllib3.PoolManager:
        """This process's HTTP client (made again after a fork), with the health thread."""
        if self._pid != os.getpid() or self._http is None:
            with self._lock:
                if self._pid != os.getpid() or self._http is None:
                    self._http = urllib3.PoolManager(
                        num_pools=max(len(self.urls), 1), maxsize=CONNECTIONS, retries=False
                    )
                    self._pid = os.getpid()
                    self._stop = threading.Event()
                    self._thread = threading.Thread(
                        target=self._watch, name="kll-replica-health", daemon=True
                    )
                    self._thread.start()
        return self._http

    def close(self) -> None:
        """Stop the health thread and close the connections."""
        self._stop.set()
        if self._http is not None:
            self._http.clear()

    # --- requests ---------------------------------------------------------------------------

    def order(self) -> list[str]:
        """The replicas to try for one request: in service first, round-robin, then the rest."""
        start = next(self._turn)
        turned = [self.urls[(start + i) % len(self.urls)] for i in range(len(self.urls))]
        return [u for u in turned if self.states[u].healthy] + [
            u for u in turned if not self.states[u].healthy
        ]

    def post(
        self, body: bytes, headers: Mapping[str, str], *, read_timeout: float
    ) -> tuple[str, urllib3.BaseHTTPResponse]:
        """POST a Protocol request to one replica after another until one answers; the URL that
        answered and its response (not read yet: the caller streams or reads it, then releases
        it). A failure before any answer moves on; a read timeout is the query's timeout."""
        http = self.http
        errors: list[str] = []
        for url in self.order():
            try:
                response = http.request(
                    "POST",
                    url,
                    body=body,
                    headers=dict(headers),
                    timeout=urllib3.Timeout(connect=self.connect_timeout, read=read_timeout),
                    preload_content=False,
                    redirect=False,
                    retries=False,
                )
            except ReadTimeoutError:
                raise QueryTimeoutError(
                    f"the query ran longer than the limit of {read_timeout:g} s and was stopped; "
                    "narrow it (fewer patterns, a LIMIT) and try again"
                ) from None
            except (NewConnectionError, ConnectTimeoutError, ProtocolError, HTTPError) as exc:
                self.mark_down(url, _reason(exc))
                errors.append(f"{url}: {_reason(exc)}")
                continue
            return url, response
        raise BackendUnavailableError(
            "no SPARQL backend replica answered (" + "; ".join(errors) + "); try again shortly"
        )

    def mark_down(self, url: str, reason: str) -> None:
        """Take a replica out of service until a health probe finds it well."""
        state = self.states[url]
        state.healthy = False
        state.error = reason
        state.failures += 1

    # --- health -----------------------------------------------------------------------------

    def check(self, url: str) -> bool:
        """Probe one replica now: in service when it answers with the expected build."""
        state = self.states[url]
        try:
            build = self.probe(self, url)
        except Exception as exc:  # any failure of a probe means the replica is out
            state.healthy, state.error = False, _reason(exc)
        else:
            state.build_id = build
            if build == self.expected_build:
                state.healthy, state.error = True, None
            else:
                state.healthy = False
                state.error = (
                    f"serves build {build}, not {self.expected_build} (the app's artifacts)"
                )
        state.checked = time.time()
        return state.healthy

    def check_all(self) -> list[ReplicaState]:
        for url in self.urls:
            self.check(url)
        return [self.states[u] for u in self.urls]

    def _watch(self) -> None:
        while not self._stop.wait(self.health_interval):
            self.check_all()


def _reason(exc: BaseException) -> str:
    """A short, readable cause of a failed request."""
    cause = getattr(exc, "reason", None) or exc
    return f"{type(cause).__name__}: {cause}"[:300]
