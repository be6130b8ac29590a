"""A least-recently-used cache bounded in bytes, and a body wrapper that fills it as it streams.

Shared by the SPARQL result cache (:mod:`kll_graph.sparql_service`) and the response cache in
front of the app (:mod:`kll_graph.web.response_cache`): both keep bodies of repeated requests,
both must stay within a memory budget, and both learn a body only while it streams to a client.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")


class SizedLru(Generic[V]):
    """Values with a size in bytes, the least recently used dropped beyond `max_bytes`.

    Thread-safe: the server answers requests from several threads.
    """

    def __init__(self, max_bytes: int, item_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        #: Values larger than this are not kept (default: the whole budget).
        self.item_bytes = min(item_bytes or max_bytes, max_bytes)
        self._items: collections.OrderedDict[Hashable, tuple[V, int]] = collections.OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        if size > self.item_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, size)
            self._size += size
            while self._size > self.max_bytes and self._items:
                _key, (_value, dropped) = self._items.popitem(last=False)
                self._size -= dropped


class KeepingBody:
    """Pass a body's chunks through and hand the whole body to `keep` once it is complete,
    unless it grew past `max_bytes` (then it is only passed through).

    The last chunk is held back until the source is exhausted, so `keep` runs even when the
    consumer stops asking after the last chunk, as WSGI servers may. `close()` closes the source.
    """

    def __init__(
        self, source: Iterable[bytes], keep: Callable[[bytes], None], max_bytes: int
    ) -> None:
        self.source = source
        self.keep = keep
        self.max_bytes = max_bytes

    def __iter__(self) -> Iterator[bytes]:
        kept: list[bytes] | None = []
        size = 0
        pending: bytes | None = None
        for chunk in self.source:
            if pending is not None:
                yield pending
            pending = chunk
            if kept is not None:
                size += len(chunk)
                if size > self.max_bytes:
                    kept = None
                else:
                    kept.append(chunk)
        if kept is not None:
            self.keep(b"".join(kept))
        if pending is not None:
            yield pending

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()
