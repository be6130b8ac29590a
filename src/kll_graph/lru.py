"""A least-recently-used cache bounded in bytes, and a body wrapper that fills it as it streams.

Shared by the SPARQL result cache (:mod:`kll_graph.sparql.service`) and the response cache in
front of the app (:mod:`kll_graph.web.response_cache`): both keep bodies of repeated requests,
both must stay within a memory budget, and both learn a body only while it streams to a client.

The budget covers whole entries, not only values. Keys come from requests (query texts, query
strings, `Accept` headers), so a client that sends large distinct requests with small answers
would otherwise fill memory with keys the budget never sees. So every key is counted, and a key
larger than :data:`KEY_BYTES` is kept as its SHA-256 :class:`Digest` instead; callers whose
keys are request data hash them up front with :func:`digest` (fixed-size keys, each hashed once).
"""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")

#: Keys with a larger payload (see :func:`key_bytes`) are kept as their :class:`Digest`.
KEY_BYTES = 256
#: What one entry of a cache keyed by a :class:`Digest` costs beyond the digest's 32 bytes and
#: its value: the ordered dict's slot and link node, the (value, size) pair, the Digest object.
#: tests/test_lru.py measures the real cost with tracemalloc and checks it stays below this.
ENTRY_BYTES = 512


class Digest:
    """The SHA-256 digest of a key, standing in for the key in a cache.

    Two different keys with one digest would let one request be answered with another's
    response. For SHA-256 no collision is known and finding one takes about 2**128 work, so
    that risk is accepted: it is far below that of a memory error flipping a key's bits.
    A Digest equals only another Digest, never a plain bytes key that happens to match.
    """

    __slots__ = ("value",)

    def __init__(self, value: bytes) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digest) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Digest({self.value.hex()[:16]}…)"


def digest(key: Hashable) -> Digest:
    """The :class:`Digest` of a key made of str, bytes, int, bool, None, Digest and tuples.

    The encoding fed to SHA-256 tags each part with its type and length, so different keys
    never encode alike (("ab", "c") and ("a", "bc") differ, "1" and 1 differ).

    >>> digest(("a", "bc")) == digest(("ab", "c"))
    False
    >>> digest(("x", 1)) == digest(("x", 1))
    True
    """
    pieces: list[bytes] = []
    _encode(key, pieces)
    return Digest(hashlib.sha256(b"".join(pieces)).digest())


def _encode(part: object, pieces: list[bytes]) -> None:
    """Append the tagged encoding of a key part (one join and one hash beat an update per part:
    request keys are hashed on every request)."""
    if isinstance(part, str):
        data = part.encode("utf-8", "surrogatepass")
        pieces.append(b"s%d:" % len(data))
        pieces.append(data)
    elif isinstance(part, tuple):
        pieces.append(b"t%d:" % len(part))
        for item in part:
            _encode(item, pieces)
    elif isinstance(part, bytes):
        pieces.append(b"b%d:" % len(part))
        pieces.append(part)
    elif part is None or isinstance(part, bool):
        pieces.append({None: b"N", True: b"T", False: b"F"}[part])
    elif isinstance(part, int):
        pieces.append(b"i%d;" % part)
    elif isinstance(part, Digest):
        pieces.append(b"d")
        pieces.append(part.value)
    else:
        raise TypeError(f"a cache key cannot hold {type(part).__name__}")


def key_bytes(key: Hashable) -> int:
    """The payload bytes a key holds: text (4 bytes a character unless ASCII), bytes, 8 per
    int and per tuple slot. Object headers are left to the entry overhead (:data:`ENTRY_BYTES`).

    >>> key_bytes(("build", "SELECT * {}", ("g",)))
    49
    """
    if isinstance(key, str):
        return len(key) if key.isascii() else 4 * len(key)
    if isinstance(key, bytes):
        return len(key)
    if key is None or isinstance(key, bool):
        return 0
    if isinstance(key, int):
        return 8
    if isinstance(key, Digest):
        return len(key.value)
    if isinstance(key, tuple):
        return sum(key_bytes(part) + 8 for part in key)
    raise TypeError(f"a cache key cannot hold {type(key).__name__}")


def compact_key(key: Hashable) -> Hashable:
    """The key as a cache keeps it: itself when small, else its :class:`Digest`.

    Idempotent, so a caller may compact (or :func:`digest`) a key before handing it over.

    >>> compact_key("short")
    'short'
    >>> isinstance(compact_key("x" * 1000), Digest)
    True
    """
    if isinstance(key, Digest) or key_bytes(key) <= KEY_BYTES:
        return key
    return digest(key)


class SizedLru(Generic[V]):
    """Values with a size in bytes, the least recently used dropped beyond `max_bytes`.

    An entry costs its value's `size` (as the caller measures it), its key's payload
    (:func:`key_bytes`, keys beyond :data:`KEY_BYTES` kept as digests) and `entry_bytes`, the
    bookkeeping of one entry. Caches holding real memory pass :data:`ENTRY_BYTES`; the default 0
    suits sizes in abstract units. Thread-safe: the server answers requests from several threads.
    """

    def __init__(self, max_bytes: int, item_bytes: int | None = None, *, entry_bytes: int = 0):
        self.max_bytes = max_bytes
        #: Entries costing more than this are not kept (default: the whole budget).
        self.item_bytes = min(item_bytes or max_bytes, max_bytes)
        self.entry_bytes = entry_bytes
        self._items: collections.OrderedDict[Hashable, tuple[V, int]] = collections.OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """The bytes the entries are counted as (never more than `max_bytes`)."""
        return self._size

    def get(self, key: Hashable) -> V | None:
        key = compact_key(key)
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Keep `value` (of `size` bytes) under `key`, unless the entry alone is too large."""
        key = compact_key(key)
        cost = size + key_bytes(key) + self.entry_bytes
        if cost > self.item_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, cost)
            self._size += cost
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
