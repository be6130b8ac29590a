"""What a label index holds: entry kinds, match tiers, the ranking score's bits, and the record
(:class:`IndexData`) the build compiles and `labels.idx` stores.

Layout: one record per label ("entry") in numpy arrays, and three sorted key lists (whole labels
and codes, words, compound parts) whose ranges for a prefix are found by bisection
(:func:`key_range`). A range is a slice of entry ids, so a prefix of any length costs two
bisections plus vectorised ranking.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

INDEX_FILE = "labels.idx"
#: Bumped whenever the pickled layout changes; an index of another format is rebuilt in memory.
FORMAT = 7

# Kinds of entries, in the order they rank within one tier.
KINDS = ("uri", "id", "notation", "prefLabel", "legacyId", "altLabel", "hiddenLabel")
URI, ID, NOTATION, PREF, LEGACY, ALT, HIDDEN = range(len(KINDS))
LABEL_KINDS = (PREF, ALT, HIDDEN)

# Tiers: how a query matched, best first, with the score (0-100) reported for each.
TIERS = ("exact", "exact", "prefix", "word", "compound", "typo", "typo")
EXACT, EXACT_ALT, PREFIX, WORD, COMPOUND, TYPO, TYPO_PART = range(len(TIERS))
TIER_SCORES = (100, 95, 80, 70, 60, 50, 45)

# Bit layout of the int64 ranking score (smaller is better): the tier a query matched in, then
# the entry's static part (deprecated or of an older release only, kind, concept type rank, label
# length, alphabetic order): within one tier, current concepts come first.
TIER_SHIFT = 59
DEPRECATED_SHIFT = 58
KIND_SHIFT = 55
TYPE_SHIFT = 45
LENGTH_SHIFT = 33
MAX_ORDER = (1 << 33) - 1


@dataclass
class TypeInfo:
    """A concept type: its id (used in filters), its IRI when it is a class, its labels."""

    id: str
    iri: str | None
    labels: dict[str, str]
    count: int = 0


@dataclass
class SchemeInfo:
    """A concept scheme: IRI, short id, labels, the vocabulary it belongs to, member count."""

    uri: str
    id: str
    labels: dict[str, str]
    vocabulary: str | None
    count: int = 0


@dataclass
class CodeSystem:
    """A code system of notations (the notation literal's datatype), with the names typed for it."""

    id: str
    iri: str
    labels: dict[str, str]
    aliases: set[str]


@dataclass(frozen=True, eq=False)
class KeyLists:
    """How entries are found: sorted keys with the entry of each, and tables by exact key."""

    #: Whole labels (folded) and notations, sorted, with their entries in the same order.
    full_keys: list[str]
    full_ids: np.ndarray
    #: Every word of every label, sorted, with its entry.
    word_keys: list[str]
    word_ids: np.ndarray
    #: Every compound part of a label word, sorted, with its entry.
    part_keys: list[str]
    part_ids: np.ndarray
    #: Code key (notation, id, legacy id) -> its entries.
    codes: dict[str, tuple[int, ...]]
    #: Concept URI -> its "uri" entry.
    uri_entry: dict[str, int]
    #: Entry -> its label lowered with diacritics kept, for labels whose folding removed some.
    diacritics: dict[int, str]
    #: Label word -> its compound parts.
    parts_of: dict[str, tuple[str, ...]]
    #: The letters typo candidates are made of, most frequent first.
    alphabet: str


@dataclass(frozen=True, eq=False)
class IndexData:
    """A compiled label index, as `labels.idx` stores it. Concepts are numbered in URI order;
    entries are numbered concept by concept. Arrays are never changed once built."""

    base_iri: str
    # -- concepts (one item per concept)
    uris: list[str]
    types: list[TypeInfo]
    schemes: list[SchemeInfo]
    systems: list[CodeSystem]
    #: Language tags of labels; "" (no tag) is number 0.
    languages: list[str]
    concept_type: np.ndarray  # int32: number in `types`
    concept_scheme: np.ndarray  # int32: the largest scheme, or -1
    concept_schemes: list[tuple[int, ...]]  # every scheme, largest first
    concept_deprecated: np.ndarray  # bool
    #: bool: absent from the current release of its vocabulary (it has kll:lastSeenIn)
    concept_not_current: np.ndarray
    #: concept -> the graph of the newest release that still held it (its kll:lastSeenIn)
    last_seen: dict[int, str]
    replaced_by: dict[int, list[str]]
    concept_broader: np.ndarray  # int32: one broader concept, or -1
    narrower_count: np.ndarray  # int32
    pref: list[dict[str, str]]  # preferred label per language
    # -- entries (one item per label, code, id and URI)
    concept_start: np.ndarray  # int64: first entry of each concept, and the entry count last
    entry_concept: np.ndarray  # int32
    entry_kind: np.ndarray  # int8: number in KINDS
    entry_lang: np.ndarray  # int16: number in `languages`
    entry_system: np.ndarray  # int16: number in `systems`, or -1
    entry_text: list[str]
    entry_static: np.ndarray  # int64: the static part of the ranking score
    # -- matching
    keys: KeyLists
    #: One- and two-letter prefix -> its entries, best first, and their scores.
    short: dict[str, tuple[np.ndarray, np.ndarray]]


def key_range(keys: Sequence[str], key: str, prefix: bool) -> tuple[int, int]:
    """The slice of sorted `keys` equal to `key`, or starting with it when `prefix`.

    >>> key_range(["a", "ab", "abc", "b"], "ab", prefix=True)
    (1, 3)
    >>> key_range(["a", "ab", "abc", "b"], "ab", prefix=False)
    (1, 2)
    """
    lo = bisect.bisect_left(keys, key)
    hi = bisect.bisect_left(keys, key + "\U0010ffff") if prefix else bisect.bisect_right(keys, key)
    return lo, hi
