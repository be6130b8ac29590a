"""The label index: every label, code and id of every concept, searchable in milliseconds.

Oxigraph has no text index, and a SPARQL `FILTER(CONTAINS(...))` reads every label. So the build
reads all labels once, in a few bulk SPARQL scans (one per predicate), and writes this index next
to the store (`labels.idx`); lookup, autocomplete, resolve and reconciliation all read it.

What is indexed, per concept: skos:prefLabel, altLabel and hiddenLabel in every language, every
skos:notation with its code system (the literal's datatype), the JobTech id, legacy AMS ids and
the concept URI itself. Concept type and scheme are derived generically (kll:conceptType, else the
most telling rdf:type; skos:inScheme), so any SKOS vocabulary the generic importer loads works.

Matching (see :func:`fold`): case, Unicode form and diacritics are folded for matching ("lakare"
finds "Läkare"), and the exact spelling ranks higher. A query matches, best first:

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
skills, then groups; see :data:`TYPE_PRIORITY`), label length and the label itself. Deprecated
concepts are left out unless asked for; then each hit names its replacement. Hidden labels match
but are never the display label.

Layout: one record per label ("entry") in numpy arrays, and three sorted key lists (whole labels
and codes, words, compound parts) whose ranges for a prefix are found by bisection. A range is a
slice of entry ids, so a prefix of any length costs two bisections plus vectorised ranking.
"""

from __future__ import annotations

import bisect
import functools
import os
import pickle
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pyoxigraph import Literal, NamedNode, Store

from kll_graph.exceptions import BadRequestError
from kll_graph.namespaces import DCT, ESCO, OWL, PREFIXES, RDF, RDFS, SKOS, XSD, kll
from kll_graph.sparql.query import select_named

if TYPE_CHECKING:
    from kll_graph.store import ServedBuild

INDEX_FILE = "labels.idx"
#: Bumped whenever the pickled layout changes; an index of another format is rebuilt in memory.
FORMAT = 4
#: A query word that starts fewer entries than this is also matched with one typo.
TYPO_THRESHOLD = 50
#: In a query of several words, when the most selective word matches at most this many entries,
#: the other words are checked against those entries' labels instead of being looked up.
VERIFY_LIMIT = 300
#: Longest query text accepted (characters).
MAX_QUERY_LENGTH = 200

# Kinds of entries, in the order they rank within one tier.
KINDS = ("uri", "id", "notation", "prefLabel", "legacyId", "altLabel", "hiddenLabel")
URI, ID, NOTATION, PREF, LEGACY, ALT, HIDDEN = range(len(KINDS))
LABEL_KINDS = (PREF, ALT, HIDDEN)

# Tiers: how a query matched, best first, with the score (0-100) reported for each.
TIERS = ("exact", "exact", "prefix", "word", "compound", "typo", "typo")
EXACT, EXACT_ALT, PREFIX, WORD, COMPOUND, TYPO, TYPO_PART = range(len(TIERS))
TIER_SCORES = (100, 95, 80, 70, 60, 50, 45)

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
#: Known scheme IRI namespaces and the id prefix their schemes get.
SCHEME_NAMESPACES = {"http://data.europa.eu/esco/concept-scheme/": "esco/"}

# Bit layout of the int64 ranking score (smaller is better).
_TIER_SHIFT = 59
_DEPRECATED_SHIFT = 58
_KIND_SHIFT = 55
_TYPE_SHIFT = 45
_LENGTH_SHIFT = 33
_MAX_ORDER = (1 << 33) - 1

_SPECIAL_LETTERS = str.maketrans(
    {"æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ß": "ss"}
)
_NON_WORD = re.compile(r"(?:[^\w+#]|_)+")
_SYSTEM_CODE = re.compile(r"^([^\W\d_][\w\- ]*?)[\s:]*([^\W_]?\d[\w.\-]*)$")
_SCHEME_LIKE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:\S+$")


# --- normalisation --------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text).split())


def lower(text: str) -> str:
    """Case and Unicode form normalised, punctuation to spaces, diacritics kept.

    >>> lower("  Läkare, ÖNH ")
    'läkare önh'
    """
    return _clean(unicodedata.normalize("NFC", text).casefold())


def fold(text: str) -> str:
    """The matching form of a label: :func:`lower` with diacritics and special letters folded.

    Swedish å, ä, ö fold to a, a, o, so "lakare" finds "Läkare"; '+' and '#' are kept for C++
    and C#; other punctuation separates words.

    >>> fold("Läkare")
    'lakare'
    >>> fold("Sjuksköterska, grundutbildad")
    'sjukskoterska grundutbildad'
    >>> fold("C++ (programmering)")
    'c++ programmering'
    >>> fold("Æbleskiver-Straße")
    'aebleskiver strasse'
    """
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_SPECIAL_LETTERS)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _clean(text)


def code_key(text: str) -> str:
    """The matching form of a code or id: case folded, whitespace removed.

    >>> code_key(" C 2512 ")
    'c2512'
    >>> code_key("iugg_Qq9_QHH")
    'iugg_qq9_qhh'
    """
    return "".join(text.split()).casefold()


def _alnum(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def system_aliases(local_name: str, label: str = "") -> set[str]:
    """Names a user may type before a code of a code system: "SSYK 2512", "isco-08 2512".

    >>> sorted(system_aliases("SSYK2012", "SSYK 2012 code"))
    ['ssyk', 'ssyk2012']
    >>> sorted(system_aliases("ISCO08"))
    ['isco', 'isco08']
    """
    aliases = {_alnum(local_name)}
    leading = re.match(r"[^\W\d_]+", local_name)
    if leading:
        aliases.add(leading.group(0).casefold())
    if label:
        words = [w for w in fold(label).split() if w not in {"code", "kod"}]
        aliases.add("".join(words))
    return {a for a in aliases if len(a) >= 3}


def edits1(word: str, alphabet: str) -> set[str]:
    """Every string one insertion, deletion, substitution or transposition away from `word`.

    >>> sorted(edits1("ab", "ab"))
    ['a', 'aa', 'aab', 'ab', 'aba', 'abb', 'b', 'ba', 'bab', 'bb']
    """
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    out |= {a + c + b for a, b in splits for c in alphabet}
    return out


def one_edit(a: str, b: str) -> bool:
    """True when b is exactly one insertion, deletion, substitution or swap away from a.

    >>> [one_edit("kock", w) for w in ("kock", "kok", "kocks", "kick", "okck", "kcko")]
    [False, True, True, True, True, False]
    """
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:
        return True
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]


def local_name(iri: str) -> str:
    """The last segment of an IRI.

    >>> local_name("https://w3id.org/kll-graph/ontology#SSYK2012")
    'SSYK2012'
    >>> local_name("http://data.europa.eu/esco/concept-scheme/isco/")
    'isco'
    """
    stripped = iri.rstrip("/#")
    return re.split(r"[/#]", stripped)[-1] or stripped


def compact(iri: str, prefixes: Mapping[str, str] = PREFIXES) -> str:
    """A CURIE for an IRI under a known prefix, else the IRI itself.

    >>> compact("http://data.europa.eu/esco/model#Occupation")
    'esco:Occupation'
    >>> compact("http://example.org/x")
    'http://example.org/x'
    """
    best = ""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(prefixes.get(best, "")):
            best = prefix
    if best and re.fullmatch(r"[\w.\-]+", iri[len(prefixes[best]) :]):
        return f"{best}:{iri[len(prefixes[best]) :]}"
    return iri


def scheme_id(iri: str, base_iri: str) -> str:
    """A short, readable id for a concept scheme, used in filters and results.

    >>> scheme_id("https://w3id.org/kll-graph/scheme/jobtech/skill", "https://w3id.org/kll-graph/")
    'jobtech/skill'
    >>> scheme_id("http://data.europa.eu/esco/concept-scheme/isco", "https://w3id.org/kll-graph/")
    'esco/isco'
    """
    namespaces = {f"{base_iri}scheme/": "", **SCHEME_NAMESPACES}
    for namespace, prefix in namespaces.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return prefix + iri[len(namespace) :].strip("/")
    return local_name(iri)


# --- compound parts -------------------------------------------------------------------------------


def compound_parts(
    words: Iterable[str], min_part: int = 4, min_head: int = 3
) -> dict[str, set[str]]:
    """The tails of Swedish compounds among `words`, found from the vocabulary itself.

    A tail counts as a part when it is a word of its own, or when it ends at least two words that
    differ in the letter before it (a branching point: "sköterska" follows "sjuk", "under",
    "distrikts"; "ksköterska" always follows "u", so it is no part).

    >>> parts = compound_parts(["systemutvecklare", "spelutvecklare", "utvecklare", "webbdesign"])
    >>> sorted(parts["systemutvecklare"])
    ['utvecklare']
    >>> "webbdesign" in parts
    False
    """
    vocabulary = {w for w in words if w.isalpha()}
    tails: dict[str, set[str]] = defaultdict(set)
    for word in vocabulary:
        for i in range(min_head, len(word) - min_part + 1):
            tails[word[i:]].add(word[i - 1])
    accepted = {
        t for t, before in tails.items() if t in vocabulary or (len(before) >= 2 and len(t) >= 5)
    }
    parts: dict[str, set[str]] = {}
    for word in vocabulary:
        found = {
            word[i:] for i in range(min_head, len(word) - min_part + 1) if word[i:] in accepted
        }
        if found:
            parts[word] = found
    return parts


# --- reading the store ----------------------------------------------------------------------------


@dataclass
class RawConcept:
    """Everything the index needs about one concept, as read from the store."""

    types: set[str] = field(default_factory=set)
    schemes: set[str] = field(default_factory=set)
    concept_type: str | None = None
    deprecated: bool = False
    replaced_by: set[str] = field(default_factory=set)
    broader: set[str] = field(default_factory=set)
    narrower: set[str] = field(default_factory=set)
    labels: set[tuple[int, str, str]] = field(default_factory=set)  # (kind, text, lang)
    notations: set[tuple[str, str]] = field(default_factory=set)  # (value, datatype or "")
    ids: set[tuple[int, str]] = field(default_factory=set)  # (ID or LEGACY, value)


@dataclass
class RawVocabulary:
    """The store's concepts and the names of the schemes, types and code systems they use."""

    concepts: dict[str, RawConcept]
    names: dict[str, dict[str, str]]  # IRI -> {lang: label} for non-concepts
    scheme_vocabulary: dict[str, str]  # scheme IRI -> source id
    base_iri: str


def _pairs(store: Store, predicate: NamedNode) -> Iterator[tuple[Any, Any]]:
    for row in select_named(store, "label_pairs", p=predicate):
        yield row[0], row[2]


def _is_true(term: Any) -> bool:
    return isinstance(term, Literal) and term.value.strip().lower() in {"true", "1"}


def read_vocabulary(
    store: Store, base_iri: str, graph_sources: Mapping[str, str] | None = None
) -> RawVocabulary:
    """Read what the index needs from a store in one bulk scan per predicate."""
    k = kll(base_iri)
    types: dict[str, set[str]] = defaultdict(set)
    for s, o in _pairs(store, RDF.type):
        if isinstance(s, NamedNode) and isinstance(o, NamedNode):
            types[s.value].add(o.value)
    concept_iris = {s for s, t in types.items() if SKOS.Concept.value in t}
    by_predicate: dict[str, list[tuple[str, Any]]] = {}
    for predicate in (SKOS.inScheme, k.conceptType):
        rows = [(s.value, o) for s, o in _pairs(store, predicate) if isinstance(s, NamedNode)]
        by_predicate[predicate.value] = rows
        concept_iris.update(s for s, _ in rows)
    concept_iris -= {s for s, t in types.items() if SKOS.ConceptScheme.value in t}
    concepts = {iri: RawConcept(types=types.get(iri, set())) for iri in concept_iris}

    for s, o in by_predicate[SKOS.inScheme.value]:
        if s in concepts and isinstance(o, NamedNode):
            concepts[s].schemes.add(o.value)
    for s, o in by_predicate[k.conceptType.value]:
        if s in concepts and isinstance(o, Literal):
            concepts[s].concept_type = o.value
    names: dict[str, dict[str, str]] = defaultdict(dict)
    label_kinds = ((SKOS.prefLabel, PREF), (SKOS.altLabel, ALT), (SKOS.hiddenLabel, HIDDEN))
    for predicate, kind in label_kinds:
        for s, o in _pairs(store, predicate):
            if not isinstance(o, Literal) or not isinstance(s, NamedNode):
                continue
            concept = concepts.get(s.value)
            if concept is not None:
                concept.labels.add((kind, o.value, (o.language or "").lower()))
            elif kind == PREF:
                names[s.value].setdefault((o.language or "").lower(), o.value)
    for predicate in (RDFS.label, DCT.title):
        for s, o in _pairs(store, predicate):
            if isinstance(s, NamedNode) and isinstance(o, Literal) and s.value not in concepts:
                names[s.value].setdefault((o.language or "").lower(), o.value)
    _read_relations(store, concepts, k)
    return RawVocabulary(
        concepts=concepts,
        names=dict(names),
        scheme_vocabulary=_scheme_vocabularies(store, graph_sources or {}),
        base_iri=base_iri,
    )


def _read_relations(store: Store, concepts: dict[str, RawConcept], k: Any) -> None:
    for s, o in _pairs(store, SKOS.notation):
        concept = concepts.get(s.value) if isinstance(s, NamedNode) else None
        if concept is not None and isinstance(o, Literal) and o.value.strip():
            datatype = o.datatype.value if o.datatype else ""
            if datatype in {XSD.string.value, RDF.langString.value}:
                datatype = ""
            concept.notations.add((o.value.strip(), datatype))
    for predicate, kind in ((k.jobtechId, ID), (k.legacyAmsId, LEGACY)):
        for s, o in _pairs(store, predicate):
            concept = concepts.get(s.value) if isinstance(s, NamedNode) else None
            if concept is not None and isinstance(o, Literal) and o.value.strip():
                concept.ids.add((kind, o.value.strip()))
    for s, o in _pairs(store, OWL.deprecated):
        if isinstance(s, NamedNode) and s.value in concepts and _is_true(o):
            concepts[s.value].deprecated = True
    relations = (
        (DCT.isReplacedBy, "replaced_by", False),
        (SKOS.broader, "broader", False),
        (SKOS.narrower, "broader", True),
    )
    for predicate, attribute, inverse in relations:
        for s, o in _pairs(store, predicate):
            if not (isinstance(s, NamedNode) and isinstance(o, NamedNode)):
                continue
            child, parent = (o.value, s.value) if inverse else (s.value, o.value)
            if child in concepts:
                getattr(concepts[child], attribute).add(parent)
            if attribute == "broader" and parent in concepts:
                concepts[parent].narrower.add(child)


def _scheme_vocabularies(store: Store, graph_sources: Mapping[str, str]) -> dict[str, str]:
    """The source id whose graph holds most of each scheme's membership statements."""
    best: dict[str, tuple[int, str]] = {}
    for row in select_named(store, "label_scheme_graphs"):
        scheme, graph, count = row["scheme"], row["g"], int(row["n"].value)
        if not isinstance(scheme, NamedNode) or not isinstance(graph, NamedNode):
            continue
        source = graph_sources.get(graph.value) or _source_of_graph(graph.value)
        if count > best.get(scheme.value, (0, ""))[0]:
            best[scheme.value] = (count, source)
    return {scheme: source for scheme, (_, source) in best.items()}


def _source_of_graph(graph: str) -> str:
    """The source id inside a graph IRI `{base}graph/{source}/{version}` (or the IRI's name)."""
    parts = graph.rstrip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "graph":
        return parts[-2]
    return local_name(graph)


# --- compiling the index --------------------------------------------------------------------------


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


def _choose_type(raw: RawConcept, prefixes: Mapping[str, str]) -> tuple[str, str | None]:
    """kll:conceptType, else the most telling rdf:type (None when there is only skos:Concept)."""
    if raw.concept_type:
        return raw.concept_type, None
    specific = sorted(t for t in raw.types if t not in GENERIC_TYPES)
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

    def build(self) -> dict[str, Any]:
        types, concept_type = self._types()
        schemes, concept_schemes, primary = self._schemes()
        systems, notation_system = self._code_systems()
        languages: list[str] = [""]
        entries = self._entries(languages, notation_system)
        type_rank = self._type_rank(types)
        state: dict[str, Any] = {
            "format": FORMAT,
            "base_iri": self.raw.base_iri,
            "uris": self.uris,
            "types": types,
            "schemes": schemes,
            "systems": systems,
            "languages": languages,
            "concept_type": np.array(concept_type, dtype=np.int32),
            "concept_scheme": np.array(primary, dtype=np.int32),
            "concept_schemes": concept_schemes,
            "concept_deprecated": np.array(
                [self.raw.concepts[u].deprecated for u in self.uris], dtype=bool
            ),
            "replaced_by": {
                i: sorted(self.raw.concepts[u].replaced_by)
                for i, u in enumerate(self.uris)
                if self.raw.concepts[u].replaced_by
            },
            "concept_broader": np.array(self._broader(), dtype=np.int32),
            "narrower_count": np.array(
                [len(self.raw.concepts[u].narrower) for u in self.uris], dtype=np.int32
            ),
            "pref": self.prefs,
        }
        state.update(self._arrays(entries, concept_type, type_rank, state["concept_deprecated"]))
        return state

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

    def _arrays(
        self,
        entries: list[Entry],
        concept_type: list[int],
        type_rank: list[int],
        deprecated: np.ndarray,
    ) -> dict[str, Any]:
        concept = np.array([e[0] for e in entries], dtype=np.int32)
        kind = np.array([e[1] for e in entries], dtype=np.int8)
        texts = [e[3] for e in entries]
        sort_keys = [t.casefold() for t in texts]
        alpha = np.empty(len(entries), dtype=np.int64)
        alpha[sorted(range(len(entries)), key=sort_keys.__getitem__)] = np.arange(
            len(entries), dtype=np.int64
        )
        concept_type_arr = np.array(concept_type, dtype=np.int64)
        rank = np.array(type_rank, dtype=np.int64)
        length = np.minimum(np.array([len(t) for t in texts], dtype=np.int64), 4095)
        static = (
            (deprecated[concept].astype(np.int64) << _DEPRECATED_SHIFT)
            | (kind.astype(np.int64) << _KIND_SHIFT)
            | (rank[concept_type_arr[concept]] << _TYPE_SHIFT)
            | (length << _LENGTH_SHIFT)
            | np.minimum(alpha, _MAX_ORDER)
        )
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
        return {
            "concept_start": np.searchsorted(concept, np.arange(len(self.uris) + 1)).astype(
                np.int64
            ),
            "entry_concept": concept,
            "entry_kind": kind,
            "entry_lang": np.array([e[2] for e in entries], dtype=np.int16),
            "entry_system": np.array([e[4] for e in entries], dtype=np.int16),
            "entry_text": texts,
            "entry_static": static,
            "diacritics": diacritics,
            "full_keys": full_keys,
            "full_ids": full_ids,
            "word_keys": word_keys,
            "word_ids": word_ids,
            "part_keys": part_keys,
            "part_ids": part_ids,
            "codes": {k: tuple(v) for k, v in codes.items()},
            "uri_entry": uri_entry,
            "parts_of": {w: tuple(sorted(p)) for w, p in parts_of.items()},
            "alphabet": "".join(ch for ch, n in alphabet.most_common() if n >= 5 and ch != " "),
        }


def _short_prefix_lists(state: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For every one- and two-letter prefix: its matching entries, best first, with scores.

    A one-letter query starts tens of thousands of labels; ranking them all per keystroke costs
    more than the 5 ms an autocomplete may take. Ranked once here, a query walks the list until
    it has enough concepts that pass its filters.
    """
    full_keys, word_keys = state["full_keys"], state["word_keys"]
    kind, static = state["entry_kind"], state["entry_static"]
    prefixes = {k[:n] for keys in (full_keys, word_keys) for k in keys for n in (1, 2) if k[:n]}
    lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for prefix in prefixes:
        lo, hi = _range(full_keys, prefix, prefix=False)
        _, end = _range(full_keys, prefix, prefix=True)
        w_lo, w_hi = _range(word_keys, prefix, prefix=True)
        exact = state["full_ids"][lo:hi]
        ids = np.concatenate([exact, state["full_ids"][hi:end], state["word_ids"][w_lo:w_hi]])
        tiers = np.concatenate(
            [
                np.where(kind[exact] >= ALT, EXACT_ALT, EXACT),
                np.full(end - hi, PREFIX),
                np.full(w_hi - w_lo, WORD),
            ]
        ).astype(np.int64)
        scores = (tiers << _TIER_SHIFT) | static[ids]
        order = np.argsort(scores, kind="stable")
        lists[prefix] = (ids[order].astype(np.int32), scores[order])
    return lists


def build_index(
    store: Store, base_iri: str, graph_sources: Mapping[str, str] | None = None
) -> LabelIndex:
    """Read a store and compile its label index (in memory)."""
    state = _Builder(read_vocabulary(store, base_iri, graph_sources)).build()
    state["short"] = _short_prefix_lists(state)
    return LabelIndex(state)


# --- querying -------------------------------------------------------------------------------------


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


def _range(keys: Sequence[str], key: str, prefix: bool) -> tuple[int, int]:
    lo = bisect.bisect_left(keys, key)
    hi = bisect.bisect_left(keys, key + "\U0010ffff") if prefix else bisect.bisect_right(keys, key)
    return lo, hi


class LabelIndex:
    """The loaded index. Thread-safe for reading; built by :func:`build_index` or loaded."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.base_iri: str = state["base_iri"]
        self.uris: list[str] = state["uris"]
        self.types: list[TypeInfo] = state["types"]
        self.schemes: list[SchemeInfo] = state["schemes"]
        self.systems: list[CodeSystem] = state["systems"]
        self.languages: list[str] = state["languages"]
        self.concept_type: np.ndarray = state["concept_type"]
        self.concept_scheme: np.ndarray = state["concept_scheme"]
        self.concept_schemes: list[tuple[int, ...]] = state["concept_schemes"]
        self.concept_deprecated: np.ndarray = state["concept_deprecated"]
        self.replaced_by: dict[int, list[str]] = state["replaced_by"]
        self.concept_broader: np.ndarray = state["concept_broader"]
        self.narrower_count: np.ndarray = state["narrower_count"]
        self.pref: list[dict[str, str]] = state["pref"]
        self.concept_start: np.ndarray = state["concept_start"]
        self.entry_concept: np.ndarray = state["entry_concept"]
        self.entry_kind: np.ndarray = state["entry_kind"]
        self.entry_lang: np.ndarray = state["entry_lang"]
        self.entry_system: np.ndarray = state["entry_system"]
        self.entry_text: list[str] = state["entry_text"]
        self.entry_static: np.ndarray = state["entry_static"]
        self.diacritics: dict[int, str] = state["diacritics"]
        self.full_keys: list[str] = state["full_keys"]
        self.full_ids: np.ndarray = state["full_ids"]
        self.word_keys: list[str] = state["word_keys"]
        self.word_ids: np.ndarray = state["word_ids"]
        self.part_keys: list[str] = state["part_keys"]
        self.part_ids: np.ndarray = state["part_ids"]
        self.codes: dict[str, tuple[int, ...]] = state["codes"]
        self.uri_entry: dict[str, int] = state["uri_entry"]
        self.alphabet: str = state["alphabet"]
        self.short: dict[str, tuple[np.ndarray, np.ndarray]] = state["short"]
        self.parts_of: dict[str, tuple[str, ...]] = state["parts_of"]
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
        # What a hit shows of its concept besides the label depends only on the concept and the
        # display language, and building it is most of the cost of a result; popular concepts
        # come back in hit after hit, so it is kept (read-only: callers never change it).
        self._concept_part = functools.lru_cache(maxsize=16384)(self._describe_concept)
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
            pickle.dump(self.state, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return path.stat().st_size

    @classmethod
    def load(cls, path: Path) -> LabelIndex | None:
        """Read an index written by :meth:`save`; None when it is of another format."""
        with path.open("rb") as handle:
            state = pickle.load(handle)
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            return None
        return cls(state)

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
            systems = self.system_aliases.get(_alnum(match.group(1)))
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

    def _word_count(self, word: str) -> int:
        """How many entries a query word starts (as a word or, from 3 letters, a compound part)."""
        lo, hi = _range(self.word_keys, word, prefix=True)
        count = hi - lo
        if len(word) >= 3:
            lo, hi = _range(self.part_keys, word, prefix=True)
            count += hi - lo
        return count

    def _entry_words(self, entry: int) -> tuple[list[str], list[str]]:
        """An entry's label words and their compound parts, as the index holds them."""
        words = fold(self.entry_text[entry]).split()
        return words, [p for w in words for p in self.parts_of.get(w, ())]

    @staticmethod
    def _word_tier(words: list[str], parts: list[str], word: str, typo: bool) -> int | None:
        """How one query word matches one label (its words and parts), as
        :meth:`_word_candidates` would find it."""
        if any(w.startswith(word) for w in words):
            return WORD
        if len(word) >= 3 and any(p.startswith(word) for p in parts):
            return COMPOUND
        if typo and len(word) >= 5:
            if any(one_edit(word, w) for w in words):
                return TYPO
            if any(one_edit(word, p) for p in parts):
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
        labels: dict[int, tuple[list[str], list[str]]] = {}
        for word in ordered[1:]:
            if len(ids) <= VERIFY_LIMIT:
                typo = counts[word] < TYPO_THRESHOLD
                found = []
                for e in ids.tolist():
                    if e not in labels:
                        labels[e] = self._entry_words(e)
                    found.append(self._word_tier(*labels[e], word, typo))
                keep = np.array([t is not None for t in found], dtype=bool)
                other = np.array([t if t is not None else 0 for t in found], dtype=np.int64)
                ids, tier = ids[keep], np.maximum(tier[keep], other[keep])
            else:
                o_ids, o_tier = self._best_per_id(*self._word_candidates(word))
                ids, ia, ib = np.intersect1d(ids, o_ids, assume_unique=True, return_indices=True)
                tier = np.maximum(tier[ia], o_tier[ib])
        return ids, tier

    def _word_candidates(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        chunks: list[np.ndarray] = []
        tiers: list[int] = []
        lo, hi = _range(self.word_keys, word, prefix=True)
        chunks.append(self.word_ids[lo:hi])
        tiers.append(WORD)
        if len(word) >= 3:
            lo, hi = _range(self.part_keys, word, prefix=True)
            chunks.append(self.part_ids[lo:hi])
            tiers.append(COMPOUND)
        found = sum(len(c) for c in chunks)
        # A typo is looked for only where the word itself finds little: typo hits rank last,
        # so this changes no ranking, and it keeps long batches fast.
        if len(word) >= 5 and found < TYPO_THRESHOLD:
            candidates = edits1(word, self.alphabet)
            for keys, ids, known, typo_tier in (
                (self.word_keys, self.word_ids, self._words, TYPO),
                (self.part_keys, self.part_ids, self._parts, TYPO_PART),
            ):
                for candidate in sorted(candidates & known):
                    a, b = _range(keys, candidate, prefix=False)
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
            lo, hi = _range(self.full_keys, key, prefix=False)
            exact = self.full_ids[lo:hi]
            chunks.append(exact)
            tiers.append(np.where(self.entry_kind[exact] >= ALT, EXACT_ALT, EXACT).astype(np.int64))
            _, end = _range(self.full_keys, key, prefix=True)
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
        return ids, (tiers << _TIER_SHIFT) | self.entry_static[ids]

    def _accent(self, entry: int, query_lower: str) -> int:
        text = self.diacritics.get(entry)
        if text is None:
            return 0 if query_lower.isascii() else 1
        return 0 if query_lower in text else 1

    def _hits(self, ids: np.ndarray, scores: np.ndarray, query: str) -> list[Hit]:
        query_lower = lower(query)
        hits = []
        for e, score in zip(ids.tolist(), scores.tolist(), strict=True):
            tier = score >> _TIER_SHIFT
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
            code_scores = (np.int64(EXACT) << _TIER_SHIFT) | self.entry_static[codes]
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

    def brief(self, uri: str, lang: str | None) -> dict[str, Any]:
        """A linked concept as results show it: URI, label, type, scheme (None when unknown)."""
        concept = self.position.get(uri)
        if concept is None:
            return {"uri": uri, "label": None, "type": None, "scheme": None, "deprecated": False}
        scheme = int(self.concept_scheme[concept])
        return {
            "uri": uri,
            "label": self.label(concept, lang),
            "type": self.type_info(concept, lang),
            "scheme": self.scheme_info(scheme, lang) if scheme >= 0 else None,
            "deprecated": bool(self.concept_deprecated[concept]),
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
            "broader": (
                {"uri": self.uris[broader], "label": self.label(broader, lang)}
                if broader >= 0
                else None
            ),
        }

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


# --- the build step and loading -------------------------------------------------------------------


_CACHE: dict[Path, LabelIndex] = {}
_CACHE_LOCK = threading.Lock()
#: How many builds' indexes stay loaded (the current one and the one before it, and a spare).
CACHE_SIZE = 3


def index_for(served: ServedBuild) -> LabelIndex:
    """The label index of a served build, loaded once per build directory.

    A new build has a new directory, so its index is loaded together with its store. A build
    without an index file (made before the index existed) gets one built in memory.
    """
    index = _CACHE.get(served.path)
    if index is not None:
        return index
    with _CACHE_LOCK:
        index = _CACHE.get(served.path)
        if index is None:
            file = served.path / INDEX_FILE
            index = LabelIndex.load(file) if file.is_file() else None
            if index is None:
                base = str(served.manifest.get("base_iri") or "https://w3id.org/kll-graph/")
                sources = {g["iri"]: g["source"] for g in served.manifest.get("graphs", [])}
                index = build_index(served.store, base, sources)
            while len(_CACHE) >= CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[served.path] = index
    return index


# --- lookups as the API offers them (validated input, plain dicts out) ----------------------------

#: Most results one autocomplete or resolve candidate list, and one search page, holds.
MAX_AUTOCOMPLETE = 50
MAX_SEARCH_PAGE = 100
MAX_OFFSET = 10_000
MAX_BATCH = 1000
MAX_CANDIDATES = 10


def check_query(q: str | None, parameter: str = "q") -> str:
    """A query text as given, or a BadRequestError when it is missing, blank or too long."""
    if q is None or not q.strip():
        raise BadRequestError(
            f"'{parameter}' is required and must not be blank", parameter=parameter
        )
    if len(q) > MAX_QUERY_LENGTH:
        raise BadRequestError(
            f"'{parameter}' is {len(q)} characters long; at most {MAX_QUERY_LENGTH} are allowed",
            parameter=parameter,
        )
    return q


def check_range(value: int, parameter: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise BadRequestError(
            f"'{parameter}' must be between {low} and {high}, got {value}", parameter=parameter
        )
    return value


def autocomplete(
    index: LabelIndex,
    q: str | None,
    *,
    lang: str | None = None,
    schemes: Sequence[str] = (),
    types: Sequence[str] = (),
    limit: int = 10,
    include_deprecated: bool = False,
) -> dict[str, Any]:
    """The best concepts for what a user has typed so far: {"query", "results": [...]}."""
    query = check_query(q)
    check_range(limit, "limit", 1, MAX_AUTOCOMPLETE)
    filters = index.filters(
        lang=lang, schemes=schemes, types=types, include_deprecated=include_deprecated
    )
    hits = index.top(query, filters, limit)
    return {
        "query": query,
        "results": [index.hit_dict(h, filters.display_lang) for h in hits],
    }


def search(
    index: LabelIndex,
    q: str | None,
    *,
    lang: str | None = None,
    schemes: Sequence[str] = (),
    types: Sequence[str] = (),
    offset: int = 0,
    limit: int = 20,
    include_deprecated: bool = False,
) -> dict[str, Any]:
    """A page of matching concepts with the total and facet counts per scheme and type."""
    query = check_query(q)
    check_range(offset, "offset", 0, MAX_OFFSET)
    check_range(limit, "limit", 1, MAX_SEARCH_PAGE)
    filters = index.filters(
        lang=lang, schemes=schemes, types=types, include_deprecated=include_deprecated
    )
    result = index.search(query, filters, offset, limit)
    return {
        "query": query,
        "total": result.total,
        "offset": offset,
        "limit": limit,
        "results": [index.hit_dict(h, filters.display_lang) for h in result.hits],
        "facets": index.facet_dicts(result.facets, filters.display_lang),
    }


@dataclass(frozen=True)
class ResolveQuery:
    """One string to resolve, with its own optional filters."""

    q: str
    lang: str | None = None
    schemes: tuple[str, ...] = ()
    types: tuple[str, ...] = ()


def _as_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split(","))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise BadRequestError(f"'{where}' must be a string or a list of strings", parameter=where)


def _optional_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadRequestError(f"'{where}' must be a string", parameter=where)


def parse_resolve_request(body: Any) -> tuple[list[ResolveQuery], dict[str, Any]]:
    """Validate a resolve request body: {"queries": [...], "limit", "lang", "scheme", "type",
    "include_deprecated"}; each query a string or {"q", "lang", "scheme", "type"}."""
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object with 'queries'", parameter="body")
    allowed = {"queries", "limit", "lang", "scheme", "type", "include_deprecated"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequestError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}",
            parameter=unknown[0],
        )
    items = body.get("queries")
    if not isinstance(items, list) or not items:
        raise BadRequestError("'queries' must be a non-empty list", parameter="queries")
    if len(items) > MAX_BATCH:
        raise BadRequestError(
            f"'queries' holds {len(items)} items; at most {MAX_BATCH} per request",
            parameter="queries",
        )
    limit = body.get("limit", 3)
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)  # JSON Schema counts 3.0 as an integer
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise BadRequestError("'limit' must be a whole number", parameter="limit")
    check_range(limit, "limit", 1, MAX_CANDIDATES)
    deprecated = body.get("include_deprecated", False)
    if not isinstance(deprecated, bool):
        raise BadRequestError(
            "'include_deprecated' must be true or false", parameter="include_deprecated"
        )
    defaults = {
        "lang": _optional_str(body.get("lang"), "lang"),
        "schemes": _as_list(body.get("scheme"), "scheme"),
        "types": _as_list(body.get("type"), "type"),
    }
    queries = [_resolve_item(item, i, defaults) for i, item in enumerate(items)]
    return queries, {"limit": limit, "include_deprecated": deprecated}


def _resolve_item(item: Any, i: int, defaults: dict[str, Any]) -> ResolveQuery:
    where = f"queries[{i}]"
    if isinstance(item, str):
        return ResolveQuery(check_query(item, where), **defaults)
    if not isinstance(item, dict):
        raise BadRequestError(f"'{where}' must be a string or an object with 'q'", parameter=where)
    unknown = sorted(set(item) - {"q", "lang", "scheme", "type"})
    if unknown:
        raise BadRequestError(
            f"'{where}' has unknown key(s) {', '.join(map(repr, unknown))}; "
            "allowed: q, lang, scheme, type",
            parameter=where,
        )
    q = item.get("q")
    if not isinstance(q, str):
        raise BadRequestError(f"'{where}.q' must be a string", parameter=f"{where}.q")
    lang = _optional_str(item.get("lang"), f"{where}.lang")
    schemes = _as_list(item.get("scheme"), f"{where}.scheme")
    types = _as_list(item.get("type"), f"{where}.type")
    return ResolveQuery(
        q=check_query(q, f"{where}.q"),
        lang=defaults["lang"] if lang is None else lang,
        schemes=defaults["schemes"] if item.get("scheme") is None else schemes,
        types=defaults["types"] if item.get("type") is None else types,
    )


def resolve(
    index: LabelIndex,
    queries: Sequence[ResolveQuery],
    *,
    limit: int = 3,
    include_deprecated: bool = False,
) -> dict[str, Any]:
    """Resolve many strings (labels, codes, ids, legacy ids, URIs) to their best concepts.

    Every query gets an entry in order: its candidates with score and how they matched, and
    `matched: false` with a message when nothing matched. Filters are checked before any lookup,
    so one bad filter fails the whole request with the item named.
    """
    checked: list[Filters] = []
    for i, item in enumerate(queries):
        try:
            checked.append(
                index.filters(
                    lang=item.lang,
                    schemes=item.schemes,
                    types=item.types,
                    include_deprecated=include_deprecated,
                )
            )
        except BadRequestError as exc:
            raise BadRequestError(
                f"queries[{i}]: {exc}", parameter=f"queries[{i}].{exc.parameter}"
            ) from exc
    results = []
    for item, filters in zip(queries, checked, strict=True):
        hits = index.top(item.q, filters, limit)
        entry: dict[str, Any] = {
            "query": item.q,
            "matched": bool(hits),
            "candidates": [index.hit_dict(h, filters.display_lang) for h in hits],
        }
        if not hits:
            entry["message"] = f"nothing matched {item.q!r}"
        results.append(entry)
    return {
        "results": results,
        "matched": sum(1 for r in results if r["matched"]),
        "unmatched": sum(1 for r in results if not r["matched"]),
    }
