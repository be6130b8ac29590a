"""The loaded index (:class:`LabelIndex`): matching, ranking and presenting hits.

A query matches, best first:

=========  =====================================================================================
exact      the whole preferred label, or a code, id, legacy id or URI
exact      the whole alternative or hidden label (ranked after preferred labels)
prefix     the start of a label (or of a code: "251" finds SSYK 2511 ... 2519)
word       every query word starts a word of the label, in any order ("dev soft")
compound   a query word starts a part of a Swedish compound ("utvecklare" → "Systemutvecklare")
typo       a query word of 5+ letters one edit (insert, delete, change, swap) from a word, then
           from a compound part
=========  =====================================================================================

Ties are broken by label kind (preferred, alternative, hidden), concept type (occupations, then
skills, then groups; see :data:`kll_graph.labels.compile.TYPE_PRIORITY`), label length and the
label itself. Deprecated concepts are left out unless asked for; then each hit names its
replacement. Hidden labels match but are never the display label.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kll_graph.exceptions import BadRequestError
from kll_graph.labels.layout import (
    ALT,
    COMPOUND,
    EXACT,
    EXACT_ALT,
    FORMAT,
    ID,
    KINDS,
    LABEL_KINDS,
    NOTATION,
    PREFIX,
    TIER_SCORES,
    TIER_SHIFT,
    TIERS,
    TYPO,
    TYPO_PART,
    WORD,
    IndexData,
    key_range,
)
from kll_graph.labels.text import alnum, code_key, edits1, fold, local_name, lower, one_edit
from kll_graph.namespaces import PREFIXES

#: A query word that starts fewer entries than this is also matched with one typo.
TYPO_THRESHOLD = 50
#: In a query of several words, when the most selective word matches at most this many entries,
#: the other words are checked against those entries' labels instead of being looked up.
VERIFY_LIMIT = 300
#: ... unless that word itself starts at most this many entries: then the entries it starts are
#: intersected with those found so far (vectorised, cheaper than checking label by label).
SLICE_LIMIT = 500

#: The first bytes of an index file: what it is and its format (the pickled IndexData follows).
_HEADER = f"kll-graph label index, format {FORMAT}\n".encode()

_SYSTEM_CODE = re.compile(r"^([^\W\d_][\w\- ]*?)[\s:]*([^\W_]?\d[\w.\-]*)$")
_SCHEME_LIKE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:\S+$")


def _positions(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where `values` occur in the sorted, unique array `ids` (values not in it left out):
    a bisection per value, cheaper than :func:`numpy.isin` for the short arrays of a query."""
    at = np.searchsorted(ids, values)
    inside = at < len(ids)
    at = at[inside]
    found: np.ndarray = at[ids[at] == values[inside]]
    return found


def _words_by_entry(keys: list[str], ids: np.ndarray, entries: int) -> tuple[str, ...]:
    """Per entry, the keys that name it (sorted key list `keys` with their entry `ids`), joined
    as " k1 k2 ..."; "" for an entry no key names. A tuple of strings, which the garbage
    collector stops tracking, so its full collections do not walk it."""
    out = [""] * entries
    if len(ids):
        order = np.argsort(ids, kind="stable")
        grouped = ids[order]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]).tolist()
        ordered_keys = [keys[i] for i in order.tolist()]
        for entry, a, b in zip(
            grouped[starts].tolist(), starts, [*starts[1:], len(grouped)], strict=True
        ):
            out[entry] = " " + " ".join(ordered_keys[a:b])
    return tuple(out)


@dataclass(frozen=True)
class Filters:
    """Validated filters, as numbers the arrays use. Build them with :meth:`LabelIndex.filters`."""

    langs: tuple[int, ...] | None = None
    types: tuple[int, ...] = ()
    schemes: tuple[int, ...] = ()
    include_deprecated: bool = False
    display_lang: str | None = None


@dataclass
class Hit:
    """One concept found, with the entry (label or code) it was found by."""

    concept: int
    entry: int
    tier: int
    accent: int

    @property
    def score(self) -> int:
        return TIER_SCORES[self.tier] - 2 * self.accent


@dataclass
class SearchResult:
    """A page of hits, the number of concepts matched and the counts per scheme and type."""

    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[int, int]]]


class LabelIndex:
    """The loaded index. Thread-safe for reading; built by :func:`build_index` or loaded."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        # The stored tables, by name (what other modules read of an index).
        self.base_iri = data.base_iri
        self.uris = data.uris
        self.types = data.types
        self.schemes = data.schemes
        self.systems = data.systems
        self.languages = data.languages
        self.concept_type = data.concept_type
        self.concept_scheme = data.concept_scheme
        self.concept_schemes = data.concept_schemes
        self.concept_deprecated = data.concept_deprecated
        self.concept_not_current = data.concept_not_current
        self.last_seen = data.last_seen
        self.replaced_by = data.replaced_by
        self.concept_broader = data.concept_broader
        self.narrower_count = data.narrower_count
        self.pref = data.pref
        self.concept_start = data.concept_start
        self.entry_concept = data.entry_concept
        self.entry_kind = data.entry_kind
        self.entry_lang = data.entry_lang
        self.entry_system = data.entry_system
        self.entry_text = data.entry_text
        self.entry_static = data.entry_static
        self.short = data.short
        keys = data.keys
        self.full_keys, self.full_ids = keys.full_keys, keys.full_ids
        self.word_keys, self.word_ids = keys.word_keys, keys.word_ids
        self.part_keys, self.part_ids = keys.part_keys, keys.part_ids
        self.codes = keys.codes
        self.uri_entry = keys.uri_entry
        self.diacritics = keys.diacritics
        self.parts_of = keys.parts_of
        self.alphabet = keys.alphabet
        # Tables derived on loading (cheaper to rebuild than to store).
        self.position = {uri: i for i, uri in enumerate(self.uris)}
        self.type_by_id = {t.id: i for i, t in enumerate(self.types)}
        self.type_by_id.update({t.iri: i for i, t in enumerate(self.types) if t.iri})
        self.scheme_by_id = {s.id: i for i, s in enumerate(self.schemes)}
        self.scheme_by_id.update({s.uri: i for i, s in enumerate(self.schemes)})
        self.system_aliases: dict[str, set[int]] = defaultdict(set)
        for i, system in enumerate(self.systems):
            for alias in system.aliases:
                self.system_aliases[alias].add(i)
        self._members = self._scheme_members()
        self._words = set(self.word_keys)
        self._parts = set(self.part_keys)
        # Each label's words and compound parts, as " w1 w2 ..." (a leading space, so a word start
        # is a substring test): a query of several words checks its other words against the
        # labels its most selective word found, and folding those labels again per query was
        # most of a reconciliation batch's time.
        self._entry_word_text = _words_by_entry(self.word_keys, self.word_ids, len(self.entry_text))
        self._entry_part_text = _words_by_entry(self.part_keys, self.part_ids, len(self.entry_text))
        # What a hit shows of its concept besides the label depends only on the concept and the
        # display language, and building it is most of the cost of a result; popular concepts
        # come back in hit after hit, so it is kept (read-only: callers never change it).
        self._concept_part = functools.lru_cache(maxsize=16384)(self._describe_concept)
        self._typo_keys = functools.lru_cache(maxsize=65536)(self._near_keys)
        self._word_ranges = functools.lru_cache(maxsize=65536)(self._ranges)
        self._entry_deprecated: np.ndarray | None = (
            self.concept_deprecated[self.entry_concept] if self.concept_deprecated.any() else None
        )

    def _scheme_members(self) -> np.ndarray:
        members = np.zeros((len(self.schemes), len(self.uris)), dtype=bool)
        for c, schemes in enumerate(self.concept_schemes):
            for s in schemes:
                members[s, c] = True
        return members

    # -- persistence

    def save(self, path: Path) -> int:
        """Write the index atomically; returns its size in bytes."""
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as handle:
            handle.write(_HEADER)
            pickle.dump(self.data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return path.stat().st_size

    @classmethod
    def load(cls, path: Path) -> LabelIndex | None:
        """Read an index written by :meth:`save`; None when it is of another format.

        The format is checked on the file's first line, before anything is unpickled: a file of
        another format may name classes that no longer exist where it says.
        """
        with path.open("rb") as handle:
            if handle.read(len(_HEADER)) != _HEADER:
                return None
            data = pickle.load(handle)
        return cls(data) if isinstance(data, IndexData) else None

    # -- sizes

    @property
    def concept_count(self) -> int:
        return len(self.uris)

    @property
    def label_count(self) -> int:
        return int(np.isin(self.entry_kind, LABEL_KINDS).sum())

    # -- filters

    def filters(
        self,
        *,
        lang: str | None = None,
        schemes: Iterable[str] = (),
        types: Iterable[str] = (),
        include_deprecated: bool = False,
    ) -> Filters:
        """Validate user filters; an unknown language, scheme or type is a BadRequestError."""
        langs = None
        display = None
        if lang is not None:
            display = self.language(lang)
            langs = tuple(
                i
                for i, tag in enumerate(self.languages)
                if tag == "" or tag.split("-")[0] == display
            )
        return Filters(
            langs=langs,
            types=tuple(self._lookup(self.type_by_id, t, "type", self._type_names) for t in types),
            schemes=tuple(
                self._lookup(self.scheme_by_id, s, "scheme", self._scheme_names) for s in schemes
            ),
            include_deprecated=include_deprecated,
            display_lang=display,
        )

    def language(self, lang: str) -> str:
        """A language tag the index knows (its primary subtag), or a BadRequestError."""
        tag = lang.lower()
        known = sorted({t.split("-")[0] for t in self.languages if t})
        primary = tag.split("-")[0]
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", tag) or primary not in known:
            raise BadRequestError(
                f"unknown language {lang!r}; labels exist in: {', '.join(known) or 'none'}",
                parameter="lang",
            )
        return primary

    def _type_names(self) -> list[str]:
        return [t.id for t in self.types]

    def _scheme_names(self) -> list[str]:
        return [s.id for s in self.schemes]

    @staticmethod
    def _lookup(table: Mapping[str, int], value: str, parameter: str, names: Any) -> int:
        number = table.get(value)
        if number is None:
            known = sorted(names())
            shown = ", ".join(known[:80]) + (" ..." if len(known) > 80 else "")
            raise BadRequestError(
                f"unknown {parameter} {value[:100]!r}; use one of: {shown}", parameter=parameter
            )
        return number

    # -- matching

    def _code_entries(self, query: str) -> list[int]:
        text = query.strip()
        found = []
        if text in self.uri_entry:
            found.append(self.uri_entry[text])
        if _SCHEME_LIKE.match(text):
            prefix, _, rest = text.partition(":")
            namespace = PREFIXES.get(prefix.lower())
            if namespace and namespace + rest in self.uri_entry:
                found.append(self.uri_entry[namespace + rest])
        key = code_key(text)
        found.extend(self.codes.get(key, ()))
        match = _SYSTEM_CODE.match(text)
        if match:
            systems = self.system_aliases.get(alnum(match.group(1)))
            if systems:
                code = code_key(match.group(2))
                candidates = list(self.codes.get(code, ()))
                if code[:1] == "c" and code[1:].isdigit():
                    candidates += self.codes.get(code[1:], ())
                found.extend(
                    e
                    for e in candidates
                    if self.entry_kind[e] == NOTATION and int(self.entry_system[e]) in systems
                )
        if not found and key[:1] == "c" and key[1:].isdigit():
            isco = self.system_aliases.get("isco", set())
            found.extend(
                e for e in self.codes.get(key[1:], ()) if int(self.entry_system[e]) in isco
            )
        return found

    def _ranges(self, word: str) -> tuple[int, int, int, int]:
        """The slices of the word keys and (from 3 letters) the compound-part keys that start
        with a query word (kept per word by :attr:`_word_ranges`: four bisections of long lists,
        for words that job titles repeat)."""
        lo, hi = key_range(self.word_keys, word, prefix=True)
        p_lo, p_hi = key_range(self.part_keys, word, prefix=True) if len(word) >= 3 else (0, 0)
        return lo, hi, p_lo, p_hi

    def _word_count(self, word: str) -> int:
        """How many entries a query word starts (as a word or, from 3 letters, a compound part)."""
        lo, hi, p_lo, p_hi = self._word_ranges(word)
        return hi - lo + p_hi - p_lo

    def _word_tier(self, entry: int, word: str, typo: bool) -> int | None:
        """How one query word matches one label entry (its words and compound parts), as
        :meth:`_word_candidates` would find it; None when it does not."""
        needle = " " + word
        words = self._entry_word_text[entry]
        if needle in words:
            return WORD
        parts = self._entry_part_text[entry]
        if len(word) >= 3 and needle in parts:
            return COMPOUND
        if typo and len(word) >= 5:
            if any(one_edit(word, w) for w in words.split()):
                return TYPO
            if any(one_edit(word, p) for p in parts.split()):
                return TYPO_PART
        return None

    def _all_words(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Entries matching every query word, with the worst tier among the words.

        The most selective word is looked up; the others are checked against the labels it
        found (cheap), or looked up and intersected when it found too many.
        """
        counts = {w: self._word_count(w) for w in words}
        ordered = sorted(words, key=lambda w: (counts[w], w))
        ids, tier = self._best_per_id(*self._word_candidates(ordered[0]))
        for word in ordered[1:]:
            if counts[word] <= SLICE_LIMIT:
                ids, tier = self._narrow(ids, tier, word, counts[word] < TYPO_THRESHOLD)
            elif len(ids) <= VERIFY_LIMIT:
                kept: list[int] = []
                tiers: list[int] = []
                for i, e in enumerate(ids.tolist()):
                    found = self._word_tier(e, word, False)
                    if found is not None:
                        kept.append(i)
                        tiers.append(found)
                ids = ids[kept]
                tier = np.maximum(tier[kept], np.array(tiers, dtype=np.int64))
            else:
                o_ids, o_tier = self._best_per_id(*self._word_candidates(word))
                ids, ia, ib = np.intersect1d(ids, o_ids, assume_unique=True, return_indices=True)
                tier = np.maximum(tier[ia], o_tier[ib])
        return ids, tier

    def _narrow(
        self, ids: np.ndarray, tier: np.ndarray, word: str, typo: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep the entries (sorted, unique `ids` with their tiers so far) that one more query
        word matches, with the worse of the two tiers: by membership in the word's slices of the
        key lists (vectorised), and for the rest, when the word is rare, by one typo."""
        lo, hi, p_lo, p_hi = self._word_ranges(word)
        found = np.full(len(ids), -1, dtype=np.int64)
        found[_positions(ids, self.part_ids[p_lo:p_hi])] = COMPOUND
        found[_positions(ids, self.word_ids[lo:hi])] = WORD
        if typo and len(word) >= 5:
            missing = np.flatnonzero(found < 0)
            if len(missing) <= VERIFY_LIMIT:
                for i in missing.tolist():
                    t = self._word_tier(int(ids[i]), word, True)
                    if t is not None:
                        found[i] = t
            else:
                near_words, near_parts = self._typo_keys(word)
                for keys, key_ids, near, typo_tier in (
                    (self.part_keys, self.part_ids, near_parts, TYPO_PART),
                    (self.word_keys, self.word_ids, near_words, TYPO),
                ):
                    for candidate in near:
                        a, b = key_range(keys, candidate, prefix=False)
                        at = _positions(ids, key_ids[a:b])
                        at = at[(found[at] < 0) | (found[at] > typo_tier)]
                        found[at] = typo_tier
        keep = found >= 0
        return ids[keep], np.maximum(tier[keep], found[keep])

    def _near_keys(self, word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The label words and compound parts one edit from a query word, sorted. Making every
        edit of a word is the dearest step of a lookup, and the words of job titles come back
        query after query, so :attr:`_typo_keys` keeps the answers."""
        candidates = edits1(word, self.alphabet)
        return tuple(sorted(candidates & self._words)), tuple(sorted(candidates & self._parts))

    def _word_candidates(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        chunks: list[np.ndarray] = []
        tiers: list[int] = []
        lo, hi, p_lo, p_hi = self._word_ranges(word)
        chunks.append(self.word_ids[lo:hi])
        tiers.append(WORD)
        if len(word) >= 3:
            chunks.append(self.part_ids[p_lo:p_hi])
            tiers.append(COMPOUND)
        found = sum(len(c) for c in chunks)
        # A typo is looked for only where the word itself finds little: typo hits rank last,
        # so this changes no ranking, and it keeps long batches fast.
        if len(word) >= 5 and found < TYPO_THRESHOLD:
            typo_words, typo_parts = self._typo_keys(word)
            for keys, ids, near, typo_tier in (
                (self.word_keys, self.word_ids, typo_words, TYPO),
                (self.part_keys, self.part_ids, typo_parts, TYPO_PART),
            ):
                for candidate in near:
                    a, b = key_range(keys, candidate, prefix=False)
                    chunks.append(ids[a:b])
                    tiers.append(typo_tier)
        found_ids = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int32)
        found_tiers = np.repeat(np.array(tiers, dtype=np.int64), [len(c) for c in chunks])
        return found_ids, found_tiers

    @staticmethod
    def _best_per_id(ids: np.ndarray, tiers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.lexsort((tiers, ids))
        ids, tiers = ids[order], tiers[order]
        keep = np.ones(len(ids), dtype=bool)
        keep[1:] = ids[1:] != ids[:-1]
        return ids[keep], tiers[keep]

    def match(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """Every entry matching a query and the tier it matched in (duplicates possible)."""
        chunks: list[np.ndarray] = []
        tiers: list[np.ndarray] = []
        codes = self._code_entries(query)
        if codes:
            chunks.append(np.array(codes, dtype=np.int32))
            tiers.append(np.full(len(codes), EXACT, dtype=np.int64))
        key = fold(query)
        if key:
            lo, hi = key_range(self.full_keys, key, prefix=False)
            exact = self.full_ids[lo:hi]
            chunks.append(exact)
            tiers.append(np.where(self.entry_kind[exact] >= ALT, EXACT_ALT, EXACT).astype(np.int64))
            _, end = key_range(self.full_keys, key, prefix=True)
            chunks.append(self.full_ids[hi:end])
            tiers.append(np.full(end - hi, PREFIX, dtype=np.int64))
            words = list(dict.fromkeys(key.split()))
            if len(words) == 1:
                ids, tier = self._word_candidates(words[0])
            else:
                ids, tier = self._all_words(words)
            chunks.append(ids)
            tiers.append(tier)
        if not chunks:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
        return np.concatenate(chunks).astype(np.int32), np.concatenate(tiers)

    def _mask(self, ids: np.ndarray, filters: Filters) -> np.ndarray:
        # Short prefixes match tens of thousands of entries, so the common case (no filter
        # but "not deprecated") reads one precomputed per-entry array, or none at all.
        mask = np.ones(len(ids), dtype=bool)
        if not filters.include_deprecated and self._entry_deprecated is not None:
            mask &= ~self._entry_deprecated[ids]
        if filters.langs is None and not filters.types and not filters.schemes:
            return mask
        concepts = self.entry_concept[ids]
        if filters.langs is not None:
            allowed = np.zeros(len(self.languages), dtype=bool)
            allowed[list(filters.langs)] = True
            mask &= allowed[self.entry_lang[ids]]
        if filters.types:
            allowed = np.zeros(len(self.types), dtype=bool)
            allowed[list(filters.types)] = True
            mask &= allowed[self.concept_type[concepts]]
        if filters.schemes:
            members = np.asarray(self._members[list(filters.schemes)].any(axis=0))
            mask &= members[concepts]
        return mask

    def _scored(self, query: str, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
        ids, tiers = self.match(query)
        keep = self._mask(ids, filters)
        ids, tiers = ids[keep], tiers[keep]
        return ids, (tiers << TIER_SHIFT) | self.entry_static[ids]

    def _accent(self, entry: int, query_lower: str) -> int:
        text = self.diacritics.get(entry)
        if text is None:
            return 0 if query_lower.isascii() else 1
        return 0 if query_lower in text else 1

    def _hits(self, ids: np.ndarray, scores: np.ndarray, query: str) -> list[Hit]:
        query_lower = lower(query)
        hits = []
        for e, score in zip(ids.tolist(), scores.tolist(), strict=True):
            tier = score >> TIER_SHIFT
            if tier == EXACT and self.entry_kind[e] not in LABEL_KINDS:
                accent = 0
            else:
                accent = self._accent(e, query_lower)
            hits.append(Hit(int(self.entry_concept[e]), e, tier, accent))
        return hits

    @staticmethod
    def _rerank(hits: list[Hit], static: np.ndarray) -> list[Hit]:
        return sorted(hits, key=lambda h: (h.tier, h.accent, int(static[h.entry])))

    def _top_short(self, key: str, query: str, filters: Filters, limit: int) -> list[Hit]:
        """:meth:`top` for a one- or two-letter query, from its ranked list."""
        ids, scores = self.short.get(key, (np.empty(0, np.int32), np.empty(0, np.int64)))
        codes = np.array(self._code_entries(query), dtype=np.int32)
        if len(codes):  # single-letter codes exist (SNI sections A-U): merge them in by score
            code_scores = (np.int64(EXACT) << TIER_SHIFT) | self.entry_static[codes]
            at = np.searchsorted(scores, code_scores)
            ids, scores = np.insert(ids, at, codes), np.insert(scores, at, code_scores)
        best: dict[int, int] = {}
        start, chunk = 0, max(limit * 16, 256)
        while len(best) < limit * 2 and start < len(ids):
            window = slice(start, start + chunk)
            keep = np.flatnonzero(self._mask(ids[window], filters)) + start
            for p in keep.tolist():
                best.setdefault(int(self.entry_concept[ids[p]]), p)
            start, chunk = start + chunk, chunk * 4
        chosen = np.array(sorted(best.values()), dtype=np.int64)
        hits = self._hits(ids[chosen], scores[chosen], query)
        return self._rerank(hits, self.entry_static)[:limit]

    def top(self, query: str, filters: Filters, limit: int) -> list[Hit]:
        """The best `limit` concepts for a query (autocomplete, resolve)."""
        key = fold(query)
        if 0 < len(key) <= 2 and " " not in key and limit > 0:
            return self._top_short(key, query, filters, limit)
        ids, scores = self._scored(query, filters)
        if not len(ids) or limit <= 0:
            return []
        window = max(limit * 8, 64)
        while True:
            if window < len(ids):
                picked = np.argpartition(scores, window - 1)[:window]
            else:
                picked = np.arange(len(ids))
            picked = picked[np.argsort(scores[picked], kind="stable")]
            best: dict[int, int] = {}
            for p in picked.tolist():
                best.setdefault(int(self.entry_concept[ids[p]]), p)
            if len(best) >= limit * 2 or window >= len(ids):
                break
            window *= 4
        chosen = np.array(sorted(best.values()), dtype=np.int64)
        hits = self._hits(ids[chosen], scores[chosen], query)
        return self._rerank(hits, self.entry_static)[:limit]

    def search(self, query: str, filters: Filters, offset: int, limit: int) -> SearchResult:
        """A page of the concepts matching a query, their total and facet counts."""
        ids, scores = self._scored(query, filters)
        concepts = self.entry_concept[ids]
        order = np.lexsort((scores, concepts))
        concepts, ids, scores = concepts[order], ids[order], scores[order]
        first = np.ones(len(ids), dtype=bool)
        first[1:] = concepts[1:] != concepts[:-1]
        concepts, ids, scores = concepts[first], ids[first], scores[first]
        hits = self._rerank(self._hits(ids, scores, query), self.entry_static)
        facets = {
            "types": self._facet(
                np.bincount(self.concept_type[concepts], minlength=len(self.types))
            ),
            "schemes": self._facet(self._members[:, concepts].sum(axis=1)),
        }
        return SearchResult(hits[offset : offset + limit], len(hits), facets)

    @staticmethod
    def _facet(counts: np.ndarray) -> list[tuple[int, int]]:
        pairs = [(i, int(n)) for i, n in enumerate(counts.tolist()) if n]
        return sorted(pairs, key=lambda p: -p[1])

    # -- presenting

    def concept_number(self, uri: str) -> int | None:
        return self.position.get(uri)

    def entries_of(self, concept: int) -> range:
        """The entries of one concept (they are stored together, in concept order)."""
        return range(int(self.concept_start[concept]), int(self.concept_start[concept + 1]))

    def label(self, concept: int, lang: str | None = None, matched_lang: str | None = None) -> str:
        """The display label: a preferred label in the asked language, else a fallback.

        Fallback order: the language the query matched in, Swedish, English, any; a concept
        without preferred labels shows its first alternative label or code (never a hidden one).
        """
        labels = self.pref[concept]
        for tag in (lang, matched_lang, "sv", "en", ""):
            if tag is not None and tag in labels:
                return labels[tag]
        if labels:
            return next(iter(labels.values()))
        return self._fallback_label(concept)

    def _fallback_label(self, concept: int) -> str:
        entries = self.entries_of(concept)
        for kind in (ALT, NOTATION, ID):
            for e in entries:
                if self.entry_kind[e] == kind:
                    return self.entry_text[e]
        return local_name(self.uris[concept])

    def label_language(self, concept: int, label: str) -> str | None:
        for tag, text in self.pref[concept].items():
            if text == label:
                return tag or None
        return None

    @staticmethod
    def pick(labels: Mapping[str, str], lang: str | None) -> str:
        for tag in (lang, "sv", "en", ""):
            if tag is not None and tag in labels:
                return labels[tag]
        return next(iter(labels.values()), "")

    def type_info(self, concept: int, lang: str | None) -> dict[str, Any]:
        info = self.types[int(self.concept_type[concept])]
        return {"id": info.id, "label": self.pick(info.labels, lang), "uri": info.iri}

    def scheme_info(self, number: int, lang: str | None) -> dict[str, Any]:
        info = self.schemes[number]
        return {
            "id": info.id,
            "uri": info.uri,
            "label": self.pick(info.labels, lang),
            "vocabulary": info.vocabulary,
        }

    def notations(self, concept: int, lang: str | None = None) -> list[dict[str, Any]]:
        out = []
        for e in self.entries_of(concept):
            if self.entry_kind[e] == NOTATION:
                system = int(self.entry_system[e])
                out.append(
                    {
                        "value": self.entry_text[e],
                        "system": self.systems[system].id if system >= 0 else None,
                        "system_label": self.pick(self.systems[system].labels, lang)
                        if system >= 0
                        else None,
                    }
                )
        return out

    def successors(self, concept: int, max_hops: int = 5) -> list[int]:
        """The current concepts replacing a deprecated one, following replacements that were
        themselves replaced (at most `max_hops` steps; a cycle ends the walk). Shared by the
        reconciliation service and the concept pages, so both send a reader to the same place."""
        found: list[int] = []
        seen = {concept}
        step = [concept]
        for _ in range(max_hops):
            following: list[int] = []
            for old in step:
                for uri in self.replaced_by.get(old, []):
                    new = self.position.get(uri)
                    if new is None or new in seen:
                        continue
                    seen.add(new)
                    (following if self.concept_deprecated[new] else found).append(new)
            if not following:
                break
            step = following
        return found

    def brief(self, uri: str, lang: str | None) -> dict[str, Any]:
        """A linked concept as results show it: URI, label, type, scheme (None when unknown)."""
        concept = self.position.get(uri)
        if concept is None:
            return {
                "uri": uri,
                "label": None,
                "type": None,
                "scheme": None,
                "deprecated": False,
                "not_current": False,
            }
        scheme = int(self.concept_scheme[concept])
        return {
            "uri": uri,
            "label": self.label(concept, lang),
            "type": self.type_info(concept, lang),
            "scheme": self.scheme_info(scheme, lang) if scheme >= 0 else None,
            "deprecated": bool(self.concept_deprecated[concept]),
            "not_current": bool(self.concept_not_current[concept]),
        }

    def hit_dict(self, hit: Hit, lang: str | None) -> dict[str, Any]:
        """A hit as the API returns it."""
        c, e = hit.concept, hit.entry
        matched_lang = self.languages[int(self.entry_lang[e])] or None
        label = self.label(c, lang, matched_lang)
        return {
            "uri": self.uris[c],
            "label": label,
            "lang": self.label_language(c, label),
            "matched": {
                "text": self.entry_text[e],
                "kind": KINDS[int(self.entry_kind[e])],
                "lang": matched_lang,
                "how": TIERS[hit.tier],
            },
            "score": hit.score,
            **self._concept_part(c, lang),
        }

    def _describe_concept(self, c: int, lang: str | None) -> dict[str, Any]:
        """The part of a hit that is the same for every hit of concept `c` in language `lang`."""
        scheme = int(self.concept_scheme[c])
        broader = int(self.concept_broader[c])
        notations = self.notations(c, lang)
        return {
            "type": self.type_info(c, lang),
            "scheme": self.scheme_info(scheme, lang) if scheme >= 0 else None,
            "notation": notations[0]["value"] if notations else None,
            "notations": notations,
            "deprecated": bool(self.concept_deprecated[c]),
            "replaced_by": [self.brief(u, lang) for u in self.replaced_by.get(c, [])],
            "not_current": bool(self.concept_not_current[c]),
            "last_seen": self.release(self.last_seen[c]) if c in self.last_seen else None,
            "broader": (
                {"uri": self.uris[broader], "label": self.label(broader, lang)}
                if broader >= 0
                else None
            ),
        }

    def release(self, graph: str) -> dict[str, str | None]:
        """A release named by its graph: the source id and version read from the graph IRI
        (`{base}graph/{source}/{version}`), or None for a graph named otherwise."""
        prefix = f"{self.base_iri}graph/"
        source, _, version = graph.removeprefix(prefix).partition("/")
        if not graph.startswith(prefix) or not version:
            return {"graph": graph, "source": None, "version": None}
        return {"graph": graph, "source": source, "version": version}

    def facet_dicts(
        self, facets: dict[str, list[tuple[int, int]]], lang: str | None
    ) -> dict[str, Any]:
        return {
            "schemes": [{**self.scheme_info(i, lang), "count": n} for i, n in facets["schemes"]],
            "types": [
                {"id": self.types[i].id, "label": self.pick(self.types[i].labels, lang), "count": n}
                for i, n in facets["types"]
            ],
        }
