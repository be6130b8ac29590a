"""Compiling the index: a store's concepts (:mod:`kll_graph.labels.read`) turned into the arrays
and sorted key lists of :class:`~kll_graph.labels.layout.IndexData`, ranked once so a query only
slices and sorts.

Each concept gets one type (kll:conceptType, else its most telling rdf:type, else its smallest
scheme) and one primary scheme (its largest); each label, code, id and the URI an entry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

import numpy as np

from kll_graph.labels.index import LabelIndex
from kll_graph.labels.layout import (
    ALT,
    DEPRECATED_SHIFT,
    EXACT,
    EXACT_ALT,
    ID,
    KIND_SHIFT,
    LEGACY,
    LENGTH_SHIFT,
    MAX_ORDER,
    NOTATION,
    PREF,
    PREFIX,
    TIER_SHIFT,
    TYPE_SHIFT,
    URI,
    WORD,
    CodeSystem,
    IndexData,
    KeyLists,
    SchemeInfo,
    TypeInfo,
    key_range,
)
from kll_graph.labels.read import RawConcept, RawVocabulary, read_vocabulary
from kll_graph.labels.text import (
    code_key,
    compound_parts,
    fold,
    local_name,
    lower,
    scheme_id,
    system_aliases,
)
from kll_graph.namespaces import ESCO, OWL, PREFIXES, RDFS, SKOS, compact
from kll_graph.store import GraphStore

#: Concept types people look for first; other types follow, larger types first.
TYPE_PRIORITY = (
    "occupation-name",
    "esco:Occupation",
    "skill",
    "esco:Skill",
    "job-title",
    "keyword",
    "ssyk-level-4",
    "isco-level-4",
    "esco:ISCOGroup",
    "esco/isco",
    "occupation-field",
    "skill-headline",
    "ssyk-level-3",
    "ssyk-level-2",
    "ssyk-level-1",
)
#: rdf:types that say nothing about what kind of concept something is.
GENERIC_TYPES = frozenset(
    {
        SKOS.Concept.value,
        ESCO.MemberConcept.value,
        OWL.NamedIndividual.value,
        OWL.Thing.value,
        RDFS.Resource.value,
    }
)


def _choose_type(raw: RawConcept, prefixes: Mapping[str, str]) -> tuple[str, str | None]:
    """kll:conceptType (with the class of that type among the concept's rdf:types, e.g.
    kll:OccupationName for "occupation-name"), else the most telling rdf:type (None when there is
    only skos:Concept)."""
    specific = sorted(t for t in raw.types if t not in GENERIC_TYPES)
    if raw.concept_type:
        wanted = raw.concept_type.replace("-", "").casefold()
        classes = [t for t in specific if local_name(t).casefold() == wanted]
        return raw.concept_type, classes[0] if classes else None
    if not specific:
        return "", None
    ranked = sorted(
        specific,
        key=lambda t: (
            TYPE_PRIORITY.index(compact(t, prefixes))
            if compact(t, prefixes) in TYPE_PRIORITY
            else len(TYPE_PRIORITY),
            t,
        ),
    )
    return compact(ranked[0], prefixes), ranked[0]


#: One index entry while building: concept, kind, language number, text, code system, key.
Entry = tuple[int, int, int, str, int, str]


def _sorted_pairs(pairs: list[tuple[str, int]]) -> tuple[list[str], np.ndarray]:
    """Keys sorted, with the entry ids in the same order (sorting indices is faster than tuples)."""
    keys = [k for k, _ in pairs]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return [keys[i] for i in order], np.array([pairs[i][1] for i in order], dtype=np.int32)


class _Builder:
    """Turns a RawVocabulary into the arrays and key lists of a LabelIndex."""

    def __init__(self, raw: RawVocabulary) -> None:
        self.raw = raw
        self.prefixes = {**PREFIXES, "kll": f"{raw.base_iri}ontology#"}
        self.uris = sorted(raw.concepts)
        self.position = {uri: i for i, uri in enumerate(self.uris)}
        self.prefs = [self._pref(uri) for uri in self.uris]
        self.scheme_counts: Counter[str] = Counter()
        for concept in raw.concepts.values():
            self.scheme_counts.update(concept.schemes)
        self.scheme_ids: dict[str, str] = {}
        for iri in sorted(self.scheme_counts):
            sid = scheme_id(iri, raw.base_iri)
            self.scheme_ids[iri] = iri if sid in self.scheme_ids.values() else sid

    def build(self) -> IndexData:
        types, concept_type = self._types()
        schemes, concept_schemes, primary = self._schemes()
        systems, notation_system = self._code_systems()
        languages: list[str] = [""]
        entries = self._entries(languages, notation_system)
        deprecated = np.array([self.raw.concepts[u].deprecated for u in self.uris], dtype=bool)
        not_current = np.array(
            [bool(self.raw.concepts[u].last_seen) for u in self.uris], dtype=bool
        )
        entry_concept = np.array([e[0] for e in entries], dtype=np.int32)
        entry_kind = np.array([e[1] for e in entries], dtype=np.int8)
        entry_text = [e[3] for e in entries]
        type_rank = np.array(self._type_rank(types), dtype=np.int64)[concept_type]
        static = _static_scores(
            entry_concept, entry_kind, entry_text, type_rank, deprecated | not_current
        )
        keys = self._key_lists(entries)
        return IndexData(
            base_iri=self.raw.base_iri,
            uris=self.uris,
            types=types,
            schemes=schemes,
            systems=systems,
            languages=languages,
            concept_type=np.array(concept_type, dtype=np.int32),
            concept_scheme=np.array(primary, dtype=np.int32),
            concept_schemes=concept_schemes,
            concept_deprecated=deprecated,
            concept_not_current=not_current,
            last_seen={
                i: max(self.raw.concepts[u].last_seen)
                for i, u in enumerate(self.uris)
                if self.raw.concepts[u].last_seen
            },
            replaced_by={
                i: sorted(self.raw.concepts[u].replaced_by)
                for i, u in enumerate(self.uris)
                if self.raw.concepts[u].replaced_by
            },
            concept_broader=np.array(self._broader(), dtype=np.int32),
            narrower_count=np.array(
                [len(self.raw.concepts[u].narrower) for u in self.uris], dtype=np.int32
            ),
            pref=self.prefs,
            concept_start=np.searchsorted(entry_concept, np.arange(len(self.uris) + 1)).astype(
                np.int64
            ),
            entry_concept=entry_concept,
            entry_kind=entry_kind,
            entry_lang=np.array([e[2] for e in entries], dtype=np.int16),
            entry_system=np.array([e[4] for e in entries], dtype=np.int16),
            entry_text=entry_text,
            entry_static=static,
            keys=keys,
            short=_short_prefix_lists(keys, entry_kind, static),
        )

    def _types(self) -> tuple[list[TypeInfo], list[int]]:
        found: dict[str, TypeInfo] = {}
        concept_type: list[int] = []
        ids: dict[str, int] = {}
        scheme_votes: dict[str, Counter[str]] = defaultdict(Counter)
        for uri in self.uris:
            raw = self.raw.concepts[uri]
            type_id, iri = _choose_type(raw, self.prefixes)
            names_from = iri
            if not type_id:
                # only skos:Concept: the concept's most specific (smallest) scheme says what it is
                # (ESCO's ISCO groups: the ISCO scheme), else it is just a concept
                smallest = min(raw.schemes, key=lambda s: (self.scheme_counts[s], s), default="")
                type_id = self.scheme_ids.get(smallest, "skos:Concept")
                iri = None if smallest else SKOS.Concept.value
                names_from = smallest or iri
            if type_id not in ids:
                ids[type_id] = len(found)
                labels = self.raw.names.get(names_from, {}) if names_from else {}
                found[type_id] = TypeInfo(type_id, iri, dict(labels))
            found[type_id].count += 1
            concept_type.append(ids[type_id])
            scheme_votes[type_id].update(raw.schemes)
        for info in found.values():
            if not info.labels and not info.iri and scheme_votes[info.id]:
                scheme = scheme_votes[info.id].most_common(1)[0][0]
                info.labels = dict(self.raw.names.get(scheme, {}))
            if not info.labels:
                info.labels = {"": local_name(info.iri) if info.iri else info.id}
        return list(found.values()), concept_type

    def _schemes(self) -> tuple[list[SchemeInfo], list[tuple[int, ...]], list[int]]:
        counts = self.scheme_counts
        iris = sorted(counts)
        infos: list[SchemeInfo] = []
        for iri in iris:
            sid = self.scheme_ids[iri]
            vocabulary = self.raw.scheme_vocabulary.get(iri) or (
                sid.split("/")[0] if "/" in sid and not sid.startswith("http") else None
            )
            labels = dict(self.raw.names.get(iri, {})) or {"": sid}
            infos.append(SchemeInfo(iri, sid, labels, vocabulary, counts[iri]))
        number = {iri: i for i, iri in enumerate(iris)}
        memberships: list[tuple[int, ...]] = []
        primary: list[int] = []
        for uri in self.uris:
            schemes = sorted(self.raw.concepts[uri].schemes, key=lambda s: (-counts[s], s))
            memberships.append(tuple(number[s] for s in schemes))
            primary.append(number[schemes[0]] if schemes else -1)
        return infos, memberships, primary

    def _code_systems(self) -> tuple[list[CodeSystem], dict[str, int]]:
        datatypes = sorted({d for raw in self.raw.concepts.values() for _, d in raw.notations})
        systems: list[CodeSystem] = []
        number: dict[str, int] = {}
        for datatype in datatypes:
            if not datatype:
                continue
            labels = dict(self.raw.names.get(datatype, {}))
            name = local_name(datatype)
            english = labels.get("en") or next(iter(labels.values()), "")
            number[datatype] = len(systems)
            systems.append(CodeSystem(name, datatype, labels, system_aliases(name, english)))
        return systems, number

    def _type_rank(self, types: list[TypeInfo]) -> list[int]:
        by_size = sorted(types, key=lambda t: (-t.count, t.id))
        order = {t.id: i + len(TYPE_PRIORITY) for i, t in enumerate(by_size)}
        order.update({t: i for i, t in enumerate(TYPE_PRIORITY)})
        return [min(order[t.id], 1023) for t in types]

    def _pref(self, uri: str) -> dict[str, str]:
        labels: dict[str, str] = {}
        for kind, text, lang in self.raw.concepts[uri].labels:
            if kind == PREF and (lang not in labels or text < labels[lang]):
                labels[lang] = text
        return labels

    def _broader(self) -> list[int]:
        out = []
        for uri in self.uris:
            candidates = sorted(
                (b for b in self.raw.concepts[uri].broader if b in self.position),
                key=lambda b: (not self.prefs[self.position[b]], b),
            )
            out.append(self.position[candidates[0]] if candidates else -1)
        return out

    def _entries(self, languages: list[str], notation_system: dict[str, int]) -> list[Entry]:
        """(concept, kind, language number, text, code system or -1, matching key) for every
        label and code; labels folded to the same key in one language are kept once."""
        lang_number = {"": 0}
        entries: list[Entry] = []
        for c, uri in enumerate(self.uris):
            raw = self.raw.concepts[uri]
            entries.append((c, URI, 0, uri, -1, uri))
            seen: set[tuple[str, str]] = set()
            for kind, text, lang in sorted(raw.labels):
                key = fold(text)
                if not key or (key, lang) in seen:
                    continue
                seen.add((key, lang))
                if lang not in lang_number:
                    lang_number[lang] = len(languages)
                    languages.append(lang)
                entries.append((c, kind, lang_number[lang], text, -1, key))
            values: dict[str, int] = {}
            for value, datatype in sorted(raw.notations):
                system = notation_system.get(datatype, -1)
                if values.get(value, -1) < 0:
                    values[value] = system
            entries.extend((c, NOTATION, 0, v, s, code_key(v)) for v, s in sorted(values.items()))
            entries.extend((c, kind, 0, v, -1, code_key(v)) for kind, v in sorted(raw.ids))
        return entries

    def _key_lists(self, entries: list[Entry]) -> KeyLists:
        """The sorted keys of whole labels, words and compound parts, and the code tables."""
        full: list[tuple[str, int]] = []
        words: list[tuple[str, int]] = []
        codes: dict[str, list[int]] = defaultdict(list)
        uri_entry: dict[str, int] = {}
        diacritics: dict[int, str] = {}
        intern: dict[str, str] = {}
        for e, (_, k, _, text, _, key) in enumerate(entries):
            if k == URI:
                uri_entry[text] = e
                continue
            key = intern.setdefault(key, key)
            if k in (ID, LEGACY):
                codes[key].append(e)
                continue
            full.append((key, e))
            if k == NOTATION:
                codes[key].append(e)
                continue
            if not text.isascii():
                low = lower(text)
                if low != key:
                    diacritics[e] = low
            words.extend((intern.setdefault(w, w), e) for w in dict.fromkeys(key.split()))
        parts_of = compound_parts({w for w, _ in words})
        parts = [(p, e) for w, e in words for p in parts_of.get(w, ())]
        full_keys, full_ids = _sorted_pairs(full)
        word_keys, word_ids = _sorted_pairs(words)
        part_keys, part_ids = _sorted_pairs(parts)
        alphabet = Counter("".join(intern))
        return KeyLists(
            full_keys=full_keys,
            full_ids=full_ids,
            word_keys=word_keys,
            word_ids=word_ids,
            part_keys=part_keys,
            part_ids=part_ids,
            codes={k: tuple(v) for k, v in codes.items()},
            uri_entry=uri_entry,
            diacritics=diacritics,
            parts_of={w: tuple(sorted(p)) for w, p in parts_of.items()},
            alphabet="".join(ch for ch, n in alphabet.most_common() if n >= 5 and ch != " "),
        )


def _static_scores(
    concept: np.ndarray,
    kind: np.ndarray,
    texts: list[str],
    type_rank: np.ndarray,
    retired: np.ndarray,
) -> np.ndarray:
    """The part of each entry's ranking score that does not depend on the query: retired
    (deprecated, or of an older release only), kind, its concept's type rank (`type_rank` per
    concept), label length, alphabetic order."""
    sort_keys = [t.casefold() for t in texts]
    alpha = np.empty(len(texts), dtype=np.int64)
    alpha[sorted(range(len(texts)), key=sort_keys.__getitem__)] = np.arange(
        len(texts), dtype=np.int64
    )
    length = np.minimum(np.array([len(t) for t in texts], dtype=np.int64), 4095)
    static: np.ndarray = (
        (retired[concept].astype(np.int64) << DEPRECATED_SHIFT)
        | (kind.astype(np.int64) << KIND_SHIFT)
        | (type_rank[concept] << TYPE_SHIFT)
        | (length << LENGTH_SHIFT)
        | np.minimum(alpha, MAX_ORDER)
    )
    return static


def _short_prefix_lists(
    keys: KeyLists, kind: np.ndarray, static: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For every one- and two-letter prefix: its matching entries, best first, with scores.

    A one-letter query starts tens of thousands of labels; ranking them all per keystroke costs
    more than the 5 ms an autocomplete may take. Ranked once here, a query walks the list until
    it has enough concepts that pass its filters.
    """
    full_keys, word_keys = keys.full_keys, keys.word_keys
    prefixes = {k[:n] for ks in (full_keys, word_keys) for k in ks for n in (1, 2) if k[:n]}
    lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for prefix in prefixes:
        lo, hi = key_range(full_keys, prefix, prefix=False)
        _, end = key_range(full_keys, prefix, prefix=True)
        w_lo, w_hi = key_range(word_keys, prefix, prefix=True)
        exact = keys.full_ids[lo:hi]
        ids = np.concatenate([exact, keys.full_ids[hi:end], keys.word_ids[w_lo:w_hi]])
        tiers = np.concatenate(
            [
                np.where(kind[exact] >= ALT, EXACT_ALT, EXACT),
                np.full(end - hi, PREFIX),
                np.full(w_hi - w_lo, WORD),
            ]
        ).astype(np.int64)
        scores = (tiers << TIER_SHIFT) | static[ids]
        order = np.argsort(scores, kind="stable")
        lists[prefix] = (ids[order].astype(np.int32), scores[order])
    return lists


def build_index(
    store: GraphStore, base_iri: str, graph_sources: Mapping[str, str] | None = None
) -> LabelIndex:
    """Read a store and compile its label index (in memory)."""
    return LabelIndex(_Builder(read_vocabulary(store, base_iri, graph_sources)).build())
