"""SizedLru counts whole entries, keys included, and keeps long keys as digests: what a client
chooses (query texts, query strings, headers) cannot hold more memory than the budget."""

from __future__ import annotations

import gc
import sys
import tracemalloc

import pytest

from kll_graph.lru import (
    ENTRY_BYTES,
    KEY_BYTES,
    Digest,
    SizedLru,
    compact_key,
    digest,
    key_bytes,
)


def test_a_key_counts_against_the_budget() -> None:
    lru: SizedLru[str] = SizedLru(1000)
    lru.put("k" * 200, "v", 100)
    assert lru.size == 300
    lru.put(("build", "k" * 100), "v", 100)
    assert lru.size == 300 + 100 + (5 + 8) + (100 + 8)


def test_a_key_counts_against_the_item_limit() -> None:
    lru: SizedLru[str] = SizedLru(1000, item_bytes=300)
    lru.put("k" * 250, "too big with its key", 100)
    assert lru.get("k" * 250) is None and len(lru) == 0
    lru.put("k" * 200, "fits", 100)
    assert lru.get("k" * 200) == "fits"


def test_entry_overhead_is_counted() -> None:
    lru: SizedLru[str] = SizedLru(10_000, entry_bytes=ENTRY_BYTES)
    lru.put("key", "v", 10)
    assert lru.size == 10 + 3 + ENTRY_BYTES


def test_non_ascii_text_counts_four_bytes_a_character() -> None:
    assert key_bytes("å" * 10) == 40
    assert key_bytes("a" * 10) == 10


def test_a_long_key_is_kept_as_its_digest_and_still_finds_its_value() -> None:
    lru: SizedLru[str] = SizedLru(10_000)
    long = "SELECT * {} # " + "x" * 100_000
    lru.put(long, "answer", 10)
    assert lru.size == 10 + 32  # the digest, not the 100 kB of text
    assert lru.get(long) == "answer"
    assert lru.get(long[:-1] + "y") is None  # same length, same prefix, other key
    assert lru.get(digest(long)) == "answer"  # a caller may hash up front


def test_replacing_a_key_does_not_count_it_twice() -> None:
    lru: SizedLru[str] = SizedLru(10_000)
    lru.put("k", "one", 10)
    lru.put("k", "two", 20)
    assert lru.size == 21 and len(lru) == 1 and lru.get("k") == "two"


def test_large_distinct_keys_do_not_outgrow_the_budget() -> None:
    """The finding: many large distinct keys with tiny values. The memory the cache holds after
    200 keys of 100 kB (20 MB if kept) stays within its budget of 256 kB, which holds all 200."""
    budget = 256 << 10
    gc.collect()
    tracemalloc.start()
    try:
        lru: SizedLru[bytes] = SizedLru(budget, entry_bytes=ENTRY_BYTES)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(200):
            key = ("build", f"{i:08d}" * 12_500, "json")  # 100 kB of query text
            value = b"%d" % i
            lru.put(key, value, sys.getsizeof(value))
            del key
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(lru) == 200
    assert lru.size <= budget
    assert held <= budget, f"the cache holds {held} bytes, its budget is {budget}"


def test_the_counted_size_covers_the_real_memory() -> None:
    """ENTRY_BYTES is honest: an LRU full of digest-keyed small entries, after churn (entries
    dropped and added, as in a server), holds no more memory than it counts."""
    gc.collect()
    tracemalloc.start()
    try:
        lru: SizedLru[tuple[bytes, bool]] = SizedLru(2 << 20, entry_bytes=ENTRY_BYTES)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(20_000):
            value = (b"%d" % i, False)
            lru.put(digest(("build", f"query {i}")), value, sys.getsizeof(value) + 40)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(lru) < 20_000, "the budget should have dropped entries"
    assert held <= lru.size, f"{len(lru)} entries hold {held} bytes but count {lru.size}"


def test_compact_keeps_small_keys_and_is_idempotent() -> None:
    small = ("build", "SELECT * {}")
    assert compact_key(small) is small
    large = ("build", "x" * (KEY_BYTES + 1))
    once = compact_key(large)
    assert isinstance(once, Digest) and compact_key(once) is once


def test_digests_tell_keys_apart_by_structure_and_type() -> None:
    assert digest(("ab", "c")) != digest(("a", "bc"))
    assert digest(("1",)) != digest((1,))
    assert digest((None,)) != digest(("",)) != digest(((),))
    assert digest(b"x") != digest("x")
    assert digest(("a", ("b",))) != digest(("a", "b"))


def test_a_digest_never_equals_a_plain_bytes_key() -> None:
    key = digest("x")
    assert key != key.value and hash(key) == hash(key.value)
    lru: SizedLru[str] = SizedLru(10_000)
    lru.put(key, "by digest", 1)
    assert lru.get(key.value) is None and lru.get(Digest(key.value)) == "by digest"


def test_keys_of_unknown_types_are_refused() -> None:
    """Only types whose size and encoding are known may be keys (a float's repr, an object's
    identity, would make a digest ambiguous or meaningless)."""
    with pytest.raises(TypeError):
        key_bytes(("a", 1.5))
    with pytest.raises(TypeError):
        digest(("a", object()))
