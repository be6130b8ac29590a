"""Documents that are costly to make, kept in memory and made once however many ask at once.

The RDF document of a large concept scheme takes the server process about half a second to
query, sort and serialize (see docs/security-documents.md). Made on every request, a client could
keep a core busy with a loop of GETs, and fifty clients asking for a document nobody asked for yet
would make it fifty times. :class:`DocumentCache` keeps made documents in a
:class:`~kll_graph.lru.SizedLru` bounded in bytes (which counts each entry's key and bookkeeping
too), and lets the first request for a missing key make it while the others asking for the same
key meanwhile wait for that result ("single flight"). Keys carry the build id, so a new build is
never answered from an old one; a key holding request data (a URI) is hashed once up front with
:func:`~kll_graph.lru.compact_key`, so a long one costs 32 bytes wherever it is kept.

No HTTP here: the web layer decides the key and reports how a document was obtained.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from enum import StrEnum
from typing import Generic, TypeVar

from kll_graph.lru import ENTRY_BYTES, SizedLru, compact_key

V = TypeVar("V")


class Source(StrEnum):
    """How a document was obtained, as reported to clients in the `X-KLL-Cache` header."""

    #: Found in the cache.
    HIT = "hit"
    #: Made by this request.
    MISS = "miss"
    #: Made by another request for the same key that was under way; this one waited for it.
    SHARED = "shared"


class _Flight(Generic[V]):
    """One document being made; those asking for it meanwhile wait on `done`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: V | None = None
        self.error: BaseException | None = None


class DocumentCache(Generic[V]):
    """Values by key, each made once: the cache, or the request already making it, answers.

    `max_bytes` bounds the cache (0 keeps nothing, but requests arriving together still share one
    making); a value larger than `item_bytes` is made and shared but not kept.

    >>> cache = DocumentCache(1 << 20)
    >>> cache.get(("build-1", "http://example.org/s", "turtle"), lambda: b"<s> <p> <o> .", len)
    (b'<s> <p> <o> .', <Source.MISS: 'miss'>)
    >>> cache.get(("build-1", "http://example.org/s", "turtle"), lambda: b"made again", len)
    (b'<s> <p> <o> .', <Source.HIT: 'hit'>)
    """

    def __init__(self, max_bytes: int, item_bytes: int | None = None) -> None:
        self.values: SizedLru[V] | None = (
            SizedLru(max_bytes, item_bytes, entry_bytes=ENTRY_BYTES) if max_bytes else None
        )
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, make: Callable[[], V], size: Callable[[V], int]
    ) -> tuple[V, Source]:
        """The value for `key` and how it was obtained; `make()` runs only when neither the cache
        nor a request already making it has the value. An error of `make()` reaches every request
        that waited for it, and nothing is kept."""
        key = compact_key(key)
        found = self._cached(key)
        if found is not None:
            return found, Source.HIT
        with self._lock:
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leading:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.value is not None
            return flight.value, Source.SHARED
        try:
            found = self._cached(key)  # made and kept between the first look and the flight
            if found is not None:
                flight.value = found
                return found, Source.HIT
            flight.value = value = make()
            if self.values is not None:
                self.values.put(key, value, size(value))
            return value, Source.MISS
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def _cached(self, key: Hashable) -> V | None:
        return self.values.get(key) if self.values is not None else None
