"""Mapping candidates: for each JobTech concept, the ESCO concepts that most likely match it.

Reads the vocabularies of a store (labels, codes, hierarchy: :mod:`kll_graph.labels.read`, the
same bulk scans the label index makes). The mapping sets in it reach it only as the reviewed
mappings the caller passes (:func:`suggest`'s `reviewed`), so what it proposes from the
vocabularies alone can be measured against Sweden's official tables
(:mod:`kll_graph.mappings.evaluation`), and with one half of them as the reviewed mappings.

How it works, per subject type (:data:`TYPES`):

1. Candidates: the ESCO concepts of the fitting kind whose labels share most character trigrams
   with the subject's labels (TF-IDF cosine over folded labels with word boundaries; trigrams
   find Swedish compounds in any order: "mjukvaruutvecklare" ~ "utvecklare, mjukvara"), plus
   every concept with an equal label at any tier, plus the occupations of the subject's ISCO
   unit group when it is small.
2. Evidence per candidate (:class:`Evidence`, `fitted.FEATURES`): equal labels at three tiers
   (diacritics kept, so å, ä and ö stay distinct letters; then folded; then the words in any
   order, which catches inverted forms "sjuksköterska, grundutbildad"), one edit apart, one label
   the other's with a compound prefix or more words (which also gives broad or narrow), the
   cosine with the Swedish and with the English labels, whether the equal label is preferred,
   the hierarchy (the occupation name's SSYK group, the ISCO codes JobTech relates to it, against
   the ESCO occupation's ISCO unit group; for an SSYK group also the unit groups its occupation
   names point at by equal labels), the JobTech keywords pointing at the subject, and
   ambiguity both ways (how many ESCO concepts share the equal label; whether another JobTech
   concept has an equal label for this one).
3. A logistic model per type (:class:`Model`; its weights order each subject's candidates as a
   conditional logit fitted to the tables would) turns the evidence into a probability, and a
   monotone calibration (isotonic or steps) turns that into the confidence. Weights
   (`fitted.WEIGHTS`) and calibration (`fitted.KNOTS`) were fitted on one half of the official
   tables' subjects (split by a stable hash of the subject IRI) with `kll-graph mappings
   evaluate --fit`; the other half reports how good and how well calibrated they are.
   Candidates rank by confidence.
4. For a type with a model fitted with reviewed neighbours (skills: `fitted.WEIGHTS`), the
   objects of other subjects' reviewed mappings are evidence too (:class:`Neighbours`): that
   model ranks the list after the plain model's best :data:`LEAD` (:attr:`Model.lead`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from pyoxigraph import NamedNode

from kll_graph.exceptions import MatcherError
from kll_graph.labels.layout import ALT, HIDDEN, PREF
from kll_graph.labels.read import RawConcept, RawVocabulary, read_vocabulary
from kll_graph.labels.text import fold, lower, one_edit
from kll_graph.mappings.fitted import KNOTS, WEIGHTS
from kll_graph.mappings.sssom import (
    BROAD_MATCH,
    CLOSE_MATCH,
    EXACT_MATCH,
    NARROW_MATCH,
)
from kll_graph.namespaces import (
    ESCO,
    ESCO_DATA,
    ESCO_ISCO,
    ESCO_SCHEME,
    JOBTECH_CONCEPT,
    SKOS,
    kll,
)
from kll_graph.sparql.query import select_named
from kll_graph.store import GraphStore

Progress = Callable[[str], None]

#: What each subject type is matched against.
OCCUPATION, SKILL, ISCO = "occupation", "skill", "isco"


@dataclass(frozen=True)
class MatchType:
    """A JobTech concept type and the kind of ESCO concept it is matched against."""

    name: str
    target: str
    description: str


TYPES: dict[str, MatchType] = {
    t.name: t
    for t in (
        MatchType("occupation-name", OCCUPATION, "occupation name -> ESCO occupation"),
        MatchType("skill", SKILL, "skill -> ESCO skill or knowledge"),
        MatchType("ssyk-level-4", ISCO, "SSYK level 4 group -> ISCO-08 unit group"),
    )
}
DEFAULT_TYPES = ("occupation-name", "skill", "ssyk-level-4")

#: The suffix of a type's model for stores where other subjects of the type have reviewed
#: mappings: their objects are then evidence (:class:`Neighbours`) and the weights differ.
REVIEWED = " (reviewed neighbours)"
#: Candidates kept per subject from the trigram search before the evidence is weighed.
SHORTLIST = 25
#: How many of a subject's best candidates get a predicate other than the default.
PREDICATES_FOR = 10
#: An ISCO unit group of the subject with at most this many ESCO concepts joins the shortlist.
GROUP_SHORTLIST = 40
#: Labels below this trigram cosine do not make a concept a candidate.
MIN_COSINE = 0.05
#: Reviewed subjects closest by label whose objects become candidates, and how many of those
#: objects (best first) join the shortlist.
NEIGHBOURS, NEIGHBOUR_OBJECTS = 10, 10
#: With reviewed neighbours, how many of the plain model's best candidates lead the list.
LEAD = 2


# --- concepts as the matcher sees them ------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Label:
    """One label of a concept: its text, language, kind (pref/alt/hidden), whether it comes from
    a JobTech keyword, and its matching keys (computed once)."""

    text: str
    lang: str
    kind: int
    keyword: bool = False
    exact: str = field(default="", compare=False)
    folded: str = field(default="", compare=False)
    words: str = field(default="", compare=False)
    head: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        folded = fold(self.text)
        object.__setattr__(self, "exact", lower(self.text))
        object.__setattr__(self, "folded", folded)
        object.__setattr__(self, "words", " ".join(sorted(folded.split())))
        object.__setattr__(self, "head", head(self.text))


@dataclass
class Concept:
    """A concept to match: IRI, preferred label, labels, and the ISCO codes its hierarchy gives."""

    iri: str
    pref: str
    labels: list[Label]
    isco: frozenset[str] = frozenset()
    #: SSYK groups: ISCO code -> the share of the group's occupation names with a label equal to
    #: one of an ESCO occupation in that unit group (:func:`name_votes`).
    votes: dict[str, float] = field(default_factory=dict)
    #: Occupation names: the other occupation names that can substitute it or that it can
    #: substitute (JobTech's substitutability relation).
    substitutes: frozenset[str] = frozenset()
    #: (tier, key) -> the best label with that key (preferred first, then Swedish).
    keys: dict[tuple[int, str], Label] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        ranked = sorted(self.labels, key=lambda t: (t.kind != PREF, t.lang != "sv", t.text))
        for label in reversed(ranked):
            for tier, key in enumerate(_keys(label)):
                self.keys[(tier, key)] = label


@dataclass
class Vocabularies:
    """The subjects per type and the ESCO concepts per target kind, read from one store."""

    subjects: dict[str, list[Concept]]
    targets: dict[str, list[Concept]]
    #: Occupation name IRI -> its SSYK level 4 groups (the evaluation of ssyk-level-4 reads the
    #: official occupation table through them).
    groups: dict[str, frozenset[str]] = field(default_factory=dict)


def _labels(raw: RawConcept, languages: Iterable[str], split: bool = False) -> list[Label]:
    """The labels of the wanted languages; with `split`, "A/B" labels also give "A" and "B"."""
    wanted = set(languages)
    kinds = {PREF, ALT, HIDDEN}
    out = {
        Label(text, lang, kind)
        for kind, text, lang in raw.labels
        if kind in kinds and lang in wanted and text.strip()
    }
    if split:
        out |= {
            Label(part.strip(), label.lang, ALT)
            for label in list(out)
            if "/" in label.text
            for part in label.text.split("/")
            if len(part.strip()) >= 3
        }
    return sorted(out)


def _pref(raw: RawConcept) -> str:
    by_lang = {lang: text for kind, text, lang in sorted(raw.labels) if kind == PREF}
    return by_lang.get("sv") or by_lang.get("en") or next(iter(by_lang.values()), "")


def _isco_code(raw: RawConcept) -> str | None:
    for value, _datatype in sorted(raw.notations):
        if len(value) == 4 and value.isdigit():
            return value
    return None


def _esco_isco(iri: str, concepts: Mapping[str, RawConcept]) -> frozenset[str]:
    """The ISCO unit group of an ESCO occupation: up its broader links to an ISCO group."""
    seen: set[str] = set()
    todo = [iri]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for parent in sorted(concepts[current].broader if current in concepts else ()):
            if parent.startswith(ESCO_ISCO.iri) and parent in concepts:
                code = _isco_code(concepts[parent])
                if code:
                    return frozenset({code})
            todo.append(parent)
    return frozenset()


def _targets(vocabulary: RawVocabulary) -> dict[str, list[Concept]]:
    concepts = vocabulary.concepts
    occupation, skill = ESCO.Occupation.value, ESCO.Skill.value
    member_skills, isco_scheme = ESCO_SCHEME["member-skills"].value, ESCO_SCHEME.isco.value
    out: dict[str, list[Concept]] = {OCCUPATION: [], SKILL: [], ISCO: []}
    for iri in sorted(concepts):
        raw = concepts[iri]
        if not iri.startswith(ESCO_DATA.iri) or raw.deprecated or raw.last_seen:
            continue
        labels = _labels(raw, ("sv", "en"))
        if not labels:
            continue
        if occupation in raw.types:
            out[OCCUPATION].append(Concept(iri, _pref(raw), labels, _esco_isco(iri, concepts)))
        elif skill in raw.types and member_skills in raw.schemes:
            out[SKILL].append(Concept(iri, _pref(raw), labels))
        elif isco_scheme in raw.schemes:
            code = _isco_code(raw)
            if code:
                out[ISCO].append(Concept(iri, _pref(raw), labels, frozenset({code})))
    return out


def _related(store: GraphStore) -> dict[str, set[str]]:
    related: dict[str, set[str]] = defaultdict(set)
    for row in select_named(store, "label_pairs", p=SKOS.related):
        s, o = row[0], row[2]
        if isinstance(s, NamedNode) and isinstance(o, NamedNode):
            related[s.value].add(o.value)
            related[o.value].add(s.value)
    return related


def _substitutes(store: GraphStore, base_iri: str) -> dict[str, set[str]]:
    """JobTech's substitutability between occupation names, both ways (who can stand in for
    whom): the plain `substitutes` pairs the importer writes beside the qualified nodes."""
    pairs: dict[str, set[str]] = defaultdict(set)
    for row in select_named(store, "label_pairs", p=kll(base_iri).substitutes):
        s, o = row[0], row[2]
        if isinstance(s, NamedNode) and isinstance(o, NamedNode):
            pairs[s.value].add(o.value)
            pairs[o.value].add(s.value)
    return pairs


def _jobtech_isco(
    iri: str, concepts: Mapping[str, RawConcept], related: Mapping[str, set[str]]
) -> frozenset[str]:
    """ISCO codes of an SSYK group (its related isco-level-4 concepts) or of an occupation name
    (those of its broader SSYK group)."""
    raw = concepts[iri]
    groups = [iri] if raw.concept_type == "ssyk-level-4" else []
    groups += [b for b in sorted(raw.broader) if b in concepts and _is_ssyk4(concepts[b])]
    codes = {
        code
        for group in groups
        for other in sorted(related.get(group, ()))
        if other in concepts
        and concepts[other].concept_type == "isco-level-4"
        and (code := _isco_code(concepts[other]))
    }
    return frozenset(codes)


def _is_ssyk4(raw: RawConcept) -> bool:
    return raw.concept_type == "ssyk-level-4"


def _subjects(
    vocabulary: RawVocabulary,
    related: Mapping[str, set[str]],
    types: Sequence[str],
    substitutes: Mapping[str, set[str]] | None = None,
) -> dict[str, list[Concept]]:
    concepts = vocabulary.concepts
    keywords: dict[str, list[Label]] = defaultdict(list)
    for iri, raw in concepts.items():
        if raw.concept_type == "keyword":
            for label in _labels(raw, ("sv", "en", "")):
                for target in related.get(iri, ()):
                    keywords[target].append(Label(label.text, label.lang, ALT, keyword=True))
    out: dict[str, list[Concept]] = {name: [] for name in types}
    for iri in sorted(concepts):
        raw = concepts[iri]
        # concepts of older releases only (raw.last_seen) are not matched: nobody maps them anew
        retired = raw.deprecated or bool(raw.last_seen)
        if raw.concept_type not in out or retired or not iri.startswith(JOBTECH_CONCEPT.iri):
            continue
        labels = _labels(raw, ("sv", "en", ""), split=True) + sorted(set(keywords.get(iri, ())))
        if labels:
            isco = _jobtech_isco(iri, concepts, related)
            others = frozenset((substitutes or {}).get(iri, ()))
            out[raw.concept_type].append(Concept(iri, _pref(raw), labels, isco, substitutes=others))
    return out


def read_vocabularies(
    store: GraphStore, base_iri: str, types: Sequence[str], progress: Progress = lambda m: None
) -> Vocabularies:
    """The subjects of `types` and the ESCO targets, read from a store's vocabularies only."""
    progress("reading the vocabularies")
    vocabulary = read_vocabulary(store, base_iri)
    related = _related(store)
    subjects = _subjects(vocabulary, related, types, _substitutes(store, base_iri))
    targets = _targets(vocabulary)
    if not any(subjects.values()):
        raise MatcherError(
            "the store holds no JobTech concepts of the types "
            f"{', '.join(types)}; build it with the JobTech source (kll-graph build)"
        )
    needed = {TYPES[t].target for t in types}
    if not all(targets[kind] for kind in needed):
        raise MatcherError(
            "the store holds no ESCO concepts to match against; build it with the ESCO source "
            "(kll-graph build)"
        )
    groups = _groups(vocabulary)
    if "ssyk-level-4" in types:
        names = (
            subjects.get("occupation-name")
            or _subjects(vocabulary, related, ("occupation-name",))["occupation-name"]
        )
        name_votes(subjects["ssyk-level-4"], names, groups, targets[OCCUPATION])
    return Vocabularies(subjects, targets, groups)


def name_votes(
    ssyk: Iterable[Concept],
    names: Iterable[Concept],
    groups: Mapping[str, frozenset[str]],
    occupations: Sequence[Concept],
) -> None:
    """Set the votes of each SSYK group: which ISCO unit groups its occupation names point at.

    An occupation name with a label equal (at any tier) to one of an ESCO occupation points at
    that occupation's unit group; a group's vote for a code is the share of its names that do,
    among those that point anywhere. This is the matcher's own evidence from labels and the
    JobTech hierarchy, apart from JobTech's SSYK -> ISCO relation."""
    by_key: dict[tuple[int, str], set[str]] = defaultdict(set)
    for occupation in occupations:
        for key in occupation.keys:
            by_key[key] |= occupation.isco
    pointed: dict[str, list[set[str]]] = defaultdict(list)
    for name in names:
        codes = {
            code
            for label in name.labels
            if not label.keyword
            for tier, key in enumerate(_keys(label))
            for code in by_key.get((tier, key), ())
        }
        for group in groups.get(name.iri, ()):
            if codes:
                pointed[group].append(codes)
    for concept in ssyk:
        found = pointed.get(concept.iri, [])
        counts = Counter(code for codes in found for code in codes)
        concept.votes = {code: n / len(found) for code, n in sorted(counts.items())}


def _groups(vocabulary: RawVocabulary) -> dict[str, frozenset[str]]:
    """The SSYK level 4 groups of every occupation name."""
    concepts = vocabulary.concepts
    return {
        iri: frozenset(b for b in raw.broader if b in concepts and _is_ssyk4(concepts[b]))
        for iri, raw in concepts.items()
        if raw.concept_type == "occupation-name"
    }


# --- candidate search: character trigrams -------------------------------------------------------


def trigrams(text: str) -> list[str]:
    """The character trigrams of a label's folded form, with `#` at word boundaries.

    >>> trigrams("Kock, à la carte")[:4]
    ['#ko', 'koc', 'ock', 'ck#']
    """
    return folded_trigrams(fold(text))


def folded_trigrams(folded: str) -> list[str]:
    """The trigrams of an already folded label (see :func:`trigrams`)."""
    padded = "#" + folded.replace(" ", "#") + "#"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


@dataclass
class TrigramIndex:
    """TF-IDF weighted trigram vectors of every label of the targets, searchable by cosine."""

    labels: list[Label]
    label_concept: np.ndarray  # int32: the target concept of each label
    concept_start: np.ndarray  # int64: the first label of each concept, and the count last
    label_lang_en: np.ndarray  # bool: the label is English
    postings: dict[str, tuple[np.ndarray, np.ndarray]]  # gram -> (label ids, weights)
    idf: dict[str, float]
    size: int

    @classmethod
    def build(cls, targets: Sequence[Concept]) -> TrigramIndex:
        vectors: list[Counter[str]] = []
        concept_of: list[int] = []
        english: list[bool] = []
        labels: list[Label] = []
        for number, concept in enumerate(targets):
            for label in concept.labels:
                labels.append(label)
                vectors.append(Counter(folded_trigrams(label.folded)))
                concept_of.append(number)
                english.append(label.lang == "en")
        df: Counter[str] = Counter()
        for vector in vectors:
            df.update(vector.keys())
        n = len(vectors)
        idf = {gram: math.log((1 + n) / (1 + count)) + 1.0 for gram, count in df.items()}
        idf[""] = math.log((1 + n) / 2) + 1.0
        ids: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, list[float]] = defaultdict(list)
        for number, vector in enumerate(vectors):
            weighted = _weigh(vector, idf)
            for gram, weight in weighted.items():
                ids[gram].append(number)
                weights[gram].append(weight)
        postings = {
            gram: (np.asarray(ids[gram], dtype=np.int32), np.asarray(weights[gram]))
            for gram in sorted(ids)
        }
        starts = np.searchsorted(np.asarray(concept_of), np.arange(len(targets) + 1))
        return cls(
            labels,
            np.asarray(concept_of, dtype=np.int32),
            starts.astype(np.int64),
            np.asarray(english, dtype=bool),
            postings,
            idf,
            n,
        )

    def scores(self, folded: str) -> np.ndarray:
        """The cosine of a folded label with every label (zeros where no trigram is shared)."""
        query = _weigh(Counter(folded_trigrams(folded)), self.idf)
        found = [(self.postings[g], w) for g, w in sorted(query.items()) if g in self.postings]
        if not found:
            return np.zeros(self.size)
        ids = np.concatenate([ids for (ids, _), _ in found])
        weights = np.concatenate([weights * w for (_, weights), w in found])
        return np.bincount(ids, weights=weights, minlength=self.size)


def _weigh(vector: Counter[str], idf: Mapping[str, float]) -> dict[str, float]:
    """TF-IDF weights (sublinear tf) normalised to unit length; unknown grams get the idf of a
    gram seen once (`idf[""]`)."""
    top = idf.get("", 1.0)
    raw = {g: (1 + math.log(c)) * idf.get(g, top) for g, c in vector.items()}
    norm = math.sqrt(sum(w * w for w in raw.values())) or 1.0
    return {g: w / norm for g, w in raw.items()}


# --- reviewed neighbours ------------------------------------------------------------------------


#: Reviewed mappings: subject IRI -> object IRI -> predicate (a ``skos:`` CURIE).
Reviewed = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Near:
    """What a subject's reviewed neighbours say of one object: the best label cosine of a
    neighbour mapped to it, of one mapped to it with exactMatch, the first one's label, and
    the sum of the cosines of all the neighbours mapped to it."""

    cosine: float = 0.0
    exact: float = 0.0
    label: str = ""
    votes: float = 0.0


NOT_NEAR = Near()


@dataclass
class Neighbours:
    """The subjects of a type that already have reviewed mappings, searchable by label.

    Terminologists map like concepts alike: the skills "Java EE" and "Java SE" go to the same
    ESCO skill, and a subject whose label is close to a reviewed one's is often mapped where
    that one is, even when its own label shares nothing with the object's. A subject's
    :meth:`objects` are the objects of its closest reviewed subjects (never itself), each
    scored by the best label cosine of a reviewed subject mapped to it, apart from that by the
    best of those mapped to it with exactMatch (an object a neighbour matches exactly is seldom
    the exact match of another concept: it is taken), and by the sum of their cosines (how
    many close subjects agree)."""

    subjects: list[Concept]
    #: Per subject: object IRI -> the reviewed predicate (a ``skos:`` CURIE).
    objects_of: list[dict[str, str]]
    index: TrigramIndex

    @classmethod
    def build(cls, subjects: Iterable[Concept], reviewed: Reviewed) -> Neighbours:
        """Index the `subjects` that have objects in `reviewed`."""
        kept = [
            Concept(s.iri, s.pref, [label for label in s.labels if not label.keyword])
            for s in subjects
            if reviewed.get(s.iri)
        ]
        kept = [s for s in kept if s.labels]
        objects = [dict(reviewed[s.iri]) for s in kept]
        return cls(kept, objects, TrigramIndex.build(kept))

    def __len__(self) -> int:
        return len(self.subjects)

    def objects(self, subject: Concept) -> dict[str, Near]:
        """Object IRI -> its evidence, from the :data:`NEIGHBOURS` reviewed subjects closest
        to `subject` by label (the subject itself left out)."""
        own = [label for label in subject.labels if not label.keyword]
        if not own or not self.subjects:
            return {}
        cosines = closest_labels(self.index, own)
        found = [(max(cosines.get(n)[:2]), n) for n in cosines.top(NEIGHBOURS + 1)]
        closest = sorted((-c, n) for c, n in found if self.subjects[n].iri != subject.iri)
        out: dict[str, Near] = {}
        for negative, number in closest[:NEIGHBOURS]:
            cosine = -negative
            for iri, predicate in sorted(self.objects_of[number].items()):
                was = out.get(iri, NOT_NEAR)
                exact = cosine if predicate == EXACT_MATCH else 0.0
                label = self.subjects[number].pref if cosine > was.cosine else was.label
                votes = was.votes + cosine
                out[iri] = Near(max(cosine, was.cosine), max(exact, was.exact), label, votes)
        return out


# --- evidence -------------------------------------------------------------------------------------

#: Equality tiers, best first: diacritics kept, folded, words in any order.
TIERS = ("exact", "folded", "words")


def _keys(label: Label) -> tuple[str, str, str]:
    return label.exact, label.folded, label.words


def head(text: str) -> str:
    """The head word of a label: the last word, or before a comma the last word of that part.

    >>> head("Sjuksköterska, grundutbildad"), head("Mjukvaruutvecklare"), head("kock à la carte")
    ('sjukskoterska', 'mjukvaruutvecklare', 'carte')
    """
    words = fold(text.split(",", 1)[0]).split()
    return words[-1] if words else ""


def _heads_agree(a: str, b: str) -> bool:
    """One head is the other or ends the other as a compound's last part ("utvecklare")."""
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return long_ == short or (len(short) >= 4 and long_.endswith(short))


@dataclass
class Evidence:
    """What speaks for one candidate; `vector` turns it into the model's features."""

    tier: int | None = None  # best equality tier (index in TIERS), None when no label is equal
    equal_pref: bool = False
    equal_en: bool = False
    cos_sv: float = 0.0
    cos_en: float = 0.0
    cos_gap: float = 0.0
    head: bool = False
    isco: str = "unknown"  # agree, minor, disagree, unknown
    ambiguity: int = 1
    keyword: float = 0.0
    rank1: bool = False
    typo: bool = False
    narrower: bool = False
    broader: bool = False
    group_only: float = 0.0
    claimed: bool = False
    isco_share: float = 0.0
    names: float = 0.0
    substitute: bool = False
    neighbour: float = 0.0
    neighbour_exact: float = 0.0
    neighbour_votes: float = 0.0
    neighbour_label: str = ""
    match_string: str = ""
    subject_field: str = ""
    object_field: str = ""
    object_label: str = ""

    def vector(self) -> list[float]:
        return [
            1.0,
            float(self.tier == 0),
            float(self.tier == 1),
            float(self.tier == 2),
            float(self.tier is not None and self.equal_pref),
            float(self.tier is not None and self.equal_en),
            self.cos_sv,
            self.cos_en,
            self.cos_gap,
            float(self.head),
            float(self.isco == "agree"),
            float(self.isco == "minor"),
            float(self.isco == "disagree"),
            math.log2(self.ambiguity) if self.tier is not None else 0.0,
            self.keyword,
            float(self.rank1),
            float(self.typo and self.tier is None),
            float(self.narrower),
            float(self.broader),
            self.group_only,
            float(self.claimed),
            self.isco_share,
            self.names,
            float(self.substitute),
            self.neighbour,
            self.neighbour_exact,
            self.neighbour_votes,
        ]


_FIELDS = {PREF: "skos:prefLabel", ALT: "skos:altLabel", HIDDEN: "skos:hiddenLabel"}


def _isco_evidence(subject: Concept, target: Concept) -> str:
    if not subject.isco or not target.isco:
        return "unknown"
    if subject.isco & target.isco:
        return "agree"
    if {c[:3] for c in subject.isco} & {c[:3] for c in target.isco}:
        return "minor"
    return "disagree"


@dataclass
class Candidate:
    """One proposed mapping: subject, object, confidence, predicate and the evidence."""

    subject: Concept
    target: Concept
    evidence: Evidence
    confidence: float = 0.0
    predicate: str = CLOSE_MATCH
    #: The logistic model's probability before calibration (ranks ties of the calibration).
    raw: float = 0.0

    @property
    def similarity(self) -> float:
        return max(self.evidence.cos_sv, self.evidence.cos_en)

    @property
    def compared(self) -> bool:
        """Whether the labels have anything in common (equal, or a trigram shared): a candidate
        that reviewed neighbours or the hierarchy put on the list may have none."""
        return self.evidence.tier is not None or self.similarity > 0.0


@dataclass
class TargetKind:
    """The ESCO concepts of one kind, with their trigram index and equal-label tables."""

    concepts: list[Concept]
    index: TrigramIndex
    by_key: tuple[dict[str, set[int]], ...]
    #: ISCO unit group code -> the concepts in it.
    by_isco: dict[str, set[int]]
    #: Concept number -> the subjects with an equal label (exact or folded), see :meth:`claim`.
    claims: dict[int, set[str]] = field(default_factory=dict)
    #: Subject IRI -> the concept numbers it has an equal label for (the inverse of `claims`).
    named: dict[str, set[int]] = field(default_factory=dict)
    #: The subjects of the type with reviewed mappings (see :meth:`learn`); None: none.
    neighbours: Neighbours | None = None

    def learn(self, subjects: Iterable[Concept], reviewed: Reviewed) -> None:
        """Take the reviewed mappings of `subjects` whose objects are of this kind as evidence
        for the other subjects (:class:`Neighbours`)."""
        mine = self.numbers
        kept = {s: {o: p for o, p in found.items() if o in mine} for s, found in reviewed.items()}
        neighbours = Neighbours.build(subjects, kept)
        self.neighbours = neighbours if len(neighbours) else None

    @cached_property
    def numbers(self) -> dict[str, int]:
        """Concept IRI -> concept number (the neighbours' objects are IRIs)."""
        return {c.iri: n for n, c in enumerate(self.concepts)}

    def claim(self, subjects: Iterable[Concept]) -> None:
        """Note which subjects have an equal label for which concepts: a concept that another
        subject names exactly is less likely this subject's match (ambiguity seen from ESCO)."""
        claims: dict[int, set[str]] = defaultdict(set)
        for subject in subjects:
            for label in subject.labels:
                if label.keyword:
                    continue
                for tier, key in enumerate(_keys(label)[:2]):
                    for number in self.by_key[tier].get(key, ()):
                        claims[number].add(subject.iri)
        self.claims = dict(claims)
        named: dict[str, set[int]] = defaultdict(set)
        for number, iris in claims.items():
            for iri in iris:
                named[iri].add(number)
        self.named = dict(named)

    @classmethod
    def build(cls, concepts: list[Concept]) -> TargetKind:
        by_key: tuple[dict[str, set[int]], ...] = tuple(defaultdict(set) for _ in TIERS)
        by_isco: dict[str, set[int]] = defaultdict(set)
        for number, concept in enumerate(concepts):
            for label in concept.labels:
                for tier, key in enumerate(_keys(label)):
                    by_key[tier][key].add(number)
            for code in concept.isco:
                by_isco[code].add(number)
        return cls(concepts, TrigramIndex.build(concepts), by_key, dict(by_isco))

    def shortlist(self, subject: Concept, size: int) -> dict[int, Shortlisted]:
        """Candidate numbers with their cosines and the closest label pair."""
        own = [label for label in subject.labels if not label.keyword]
        keyword = [label for label in subject.labels if label.keyword]
        best = closest_labels(self.index, own)
        kw = closest_labels(self.index, keyword) if keyword else None
        numbers = best.top(size) | (kw.top(max(3, size // 5)) if kw else set())
        for label in own:
            for tier, key in enumerate(_keys(label)):
                numbers |= self.by_key[tier].get(key, set())
        for code in subject.isco | set(subject.votes):
            group = self.by_isco.get(code, set())
            if len(group) <= GROUP_SHORTLIST:
                numbers |= group
        near = self._near(subject)
        numbers |= set(sorted(near, key=lambda n: (-near[n].cosine, n))[:NEIGHBOUR_OBJECTS])
        out = {}
        for number in sorted(numbers):
            sv, en, pair = best.get(number)
            ksv, ken, _ = kw.get(number) if kw else (0.0, 0.0, None)
            out[number] = Shortlisted(sv, en, max(ksv, ken), pair, near.get(number, NOT_NEAR))
        return out

    def _near(self, subject: Concept) -> dict[int, Near]:
        """Concept number -> what the subject's reviewed neighbours say of it (nothing without
        reviewed mappings)."""
        if self.neighbours is None:
            return {}
        numbers = self.numbers
        found = self.neighbours.objects(subject)
        return {numbers[iri]: value for iri, value in found.items() if iri in numbers}


def closest_labels(index: TrigramIndex, labels: Sequence[Label]) -> _Cosines:
    """The cosine of every label of `index` with the closest of `labels`."""
    if not labels:
        return _Cosines(index, np.zeros(index.size), np.zeros(index.size, int))
    if len(labels) == 1:
        scores = index.scores(labels[0].folded)
        return _Cosines(index, scores, np.zeros(len(scores), dtype=int))
    stack = np.stack([index.scores(label.folded) for label in labels])
    return _Cosines(index, stack.max(axis=0), stack.argmax(axis=0))


@dataclass(frozen=True)
class _Cosines:
    """The cosine of every index label with a subject's closest label (and which label)."""

    index: TrigramIndex
    scores: np.ndarray
    which: np.ndarray

    def top(self, size: int) -> set[int]:
        """The `size` concepts with the best label cosine (ties by concept number).

        Only the labels above :data:`MIN_COSINE` are looked at (for a JobTech skill's label a
        median of about 5,600 of the 113,000 labels of ESCO's skills), and of those the best
        ``6 * size`` with every label tied with the last of them, so the answer does not depend
        on how a partition splits ties."""
        best = np.flatnonzero(self.scores > MIN_COSINE)
        k = size * 6
        if len(best) > k:
            values = self.scores[best]
            cut = np.partition(values, len(values) - k)[len(values) - k]
            best = best[values >= cut]
        concepts = self.index.label_concept[best]
        order = np.lexsort((concepts, -self.scores[best]))
        found: list[int] = []
        for number in concepts[order].tolist():
            if number not in found:
                found.append(number)
                if len(found) == size:
                    break
        return set(found)

    def get(self, number: int) -> tuple[float, float, tuple[int, int] | None]:
        """Best cosine with the concept's Swedish and English labels, and the closest pair."""
        start, end = (
            int(self.index.concept_start[number]),
            int(self.index.concept_start[number + 1]),
        )
        segment = self.scores[start:end]
        english = self.index.label_lang_en[start:end]
        sv = float(segment[~english].max()) if (~english).any() else 0.0
        en = float(segment[english].max()) if english.any() else 0.0
        if max(sv, en) <= 0.0:
            return 0.0, 0.0, None
        i = int(np.argmax(segment))
        return sv, en, (int(self.which[start + i]), start + i)


@dataclass(frozen=True)
class Shortlisted:
    """A shortlisted candidate: cosine with its Swedish and English labels, with the subject's
    keywords, and the closest pair (subject label number, index label number) when any."""

    cos_sv: float
    cos_en: float
    keyword: float
    pair: tuple[int, int] | None
    #: What the subject's reviewed neighbours say of the candidate.
    neighbour: Near = NOT_NEAR


def _shape(subject: Concept, target: Concept, evidence: Evidence) -> None:
    """One edit apart, or one label the other's with a compound prefix or more words."""
    own = [s.folded for s in subject.labels if not s.keyword]
    prefs = [t.folded for t in target.labels if t.kind == PREF]
    for a in own:
        for b in prefs:
            if len(a) >= 6 and len(b) >= 6 and one_edit(a, b):
                evidence.typo = True
            if a != b and _extends(b, a):
                evidence.narrower = True
            if a != b and _extends(a, b):
                evidence.broader = True


def _extends(longer: str, shorter: str) -> bool:
    """`longer` is `shorter` with a compound prefix ("flygmeteorolog") or more words.

    >>> _extends("flygmeteorolog", "meteorolog"), _extends("svarvare metall", "svarvare")
    (True, True)
    """
    if len(shorter) < 4 or len(longer) <= len(shorter):
        return False
    words = longer.split()
    return longer.endswith(shorter) or shorter in words or longer.startswith(shorter + " ")


def _equality(subject: Concept, target: Concept, evidence: Evidence) -> None:
    """The best equal label pair: tier, whether preferred and English, the match fields."""
    best: tuple[int, int, int, str, Label, Label] | None = None
    for s in subject.labels:
        if s.keyword:
            continue
        for tier, key in enumerate(_keys(s)):
            t = target.keys.get((tier, key))
            if t is not None:
                rank = (tier, 0 if t.kind == PREF else 1, 0 if t.lang == "sv" else 1)
                if best is None or rank < best[:3]:
                    best = (*rank, key, s, t)
                break
    if best is None:
        return
    tier, _, _, key, s, t = best
    evidence.tier = tier
    evidence.equal_pref = t.kind == PREF
    evidence.equal_en = t.lang == "en"
    evidence.match_string = key
    evidence.subject_field = _FIELDS[s.kind]
    evidence.object_field = _FIELDS[t.kind]
    evidence.object_label = t.text


def _closest(
    subject: Concept, kind: TargetKind, pair: tuple[int, int] | None, evidence: Evidence
) -> None:
    """Without an equal label: the closest pair by trigram cosine names the match fields."""
    if pair is None:
        return
    own = [label for label in subject.labels if not label.keyword]
    s, t = own[pair[0]], kind.index.labels[pair[1]]
    evidence.match_string = s.folded
    evidence.subject_field = _FIELDS[s.kind]
    evidence.object_field = _FIELDS[t.kind]
    evidence.object_label = t.text


# --- weighing and ranking -------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """The confidence model of one type: logistic weights over `fitted.FEATURES`, then an
    isotonic calibration (knots of raw probability -> share right, interpolated)."""

    weights: tuple[float, ...]
    knots: tuple[tuple[float, float], ...] = ()
    #: A model whose :data:`LEAD` best candidates come first, the rest in this model's order.
    #: The model fitted with reviewed neighbours trades the top candidate for the ones after
    #: it (skills: P@1 0.50 -> 0.41, R@5 0.45 -> 0.54); led by the plain model's best two it
    #: keeps both (0.50, 0.56; 0.59 with neighbour_votes). See docs/mappings.md.
    lead: Model | None = None

    def raw_all(self, vectors: np.ndarray) -> np.ndarray:
        """The logistic probabilities of the rows of `vectors` (one feature vector per row)."""
        weights = np.asarray(self.weights, dtype=float)
        if vectors.shape[1] != len(weights):
            raise ValueError(f"{vectors.shape[1]} features for {len(weights)} weights")
        # summed row by row in one order (not a matrix product, whose blocking can give equal
        # rows different last bits): equal evidence, equal score, and the IRI breaks the tie
        logits = (vectors * weights).sum(axis=1)
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0))), dtype=float)

    def calibrate_all(self, raw: np.ndarray) -> np.ndarray:
        """The confidences of many raw probabilities (interpolated between the knots)."""
        if not self.knots:
            return raw
        xs, ys = zip(*self.knots, strict=True)
        return np.asarray(np.interp(raw, xs, ys), dtype=float)


def models(
    weights: Mapping[str, Sequence[float]] | None = None,
    knots: Mapping[str, Sequence[tuple[float, float]]] | None = None,
) -> dict[str, Model]:
    """The model of every type: the fitted constants unless others are given."""
    weights = weights if weights is not None else WEIGHTS
    knots = knots if knots is not None else KNOTS
    return {
        name: Model(tuple(values), tuple(knots.get(name, ()))) for name, values in weights.items()
    }


def model_for(name: str, kind: TargetKind, model: Mapping[str, Model]) -> Model:
    """The type's model for this kind: when the kind has reviewed neighbours
    (:meth:`TargetKind.learn`) and a model was fitted with them, that one, led by the plain
    one (:attr:`Model.lead`); else the plain one."""
    if kind.neighbours is not None and name + REVIEWED in model:
        return replace(model[name + REVIEWED], lead=model[name])
    return model[name]


def _predicate(candidate: Candidate) -> str:
    """Equal labels make an exact match; a preferred label that is the other's with a compound
    prefix or more words makes the shorter one broader ("Meteorolog" -> "flygmeteorolog" is a
    narrow match: the ESCO concept is narrower); anything else is a close match (similar, not
    shown to be the same)."""
    evidence = candidate.evidence
    if evidence.tier is not None:
        return EXACT_MATCH
    if evidence.narrower and not evidence.broader:
        return NARROW_MATCH
    if evidence.broader and not evidence.narrower:
        return BROAD_MATCH
    return CLOSE_MATCH


def candidates_for(
    subject: Concept,
    kind: TargetKind,
    model: Model,
    shortlist: int = SHORTLIST,
) -> list[Candidate]:
    """Every shortlisted candidate of one subject with its evidence and confidence, best first
    (the lead model's best first where `model` has one: see :attr:`Model.lead`)."""
    found = _evidence(subject, kind, shortlist)
    out = _ranked(subject, found, model)
    if model.lead is not None:
        first = _ranked(subject, found, model.lead)[:LEAD]
        taken = {c.target.iri for c in first}
        out = first + [c for c in out if c.target.iri not in taken]
    for candidate in out[:PREDICATES_FOR]:
        candidate.predicate = _predicate(candidate)
    return out


def _ranked(
    subject: Concept, found: Sequence[tuple[Concept, Evidence]], model: Model
) -> list[Candidate]:
    """The candidates scored by one model, best first (ties by raw score, then IRI)."""
    if not found:
        return []
    raw = model.raw_all(np.asarray([evidence.vector() for _, evidence in found], dtype=float))
    confidence = model.calibrate_all(raw)
    out = [
        Candidate(subject, target, evidence, float(c), raw=float(r))
        for (target, evidence), r, c in zip(found, raw, confidence, strict=True)
    ]
    out.sort(key=lambda c: (-c.confidence, -c.raw, c.target.iri))
    return out


def _evidence(subject: Concept, kind: TargetKind, shortlist: int) -> list[tuple[Concept, Evidence]]:
    """The evidence of every shortlisted candidate of one subject."""
    found = kind.shortlist(subject, shortlist)
    if not found:
        return []
    top = max(max(f.cos_sv, f.cos_en) for f in found.values())
    rank1 = max(found, key=lambda n: (max(found[n].cos_sv, found[n].cos_en), -n))
    out = []
    for number, item in found.items():
        target = kind.concepts[number]
        evidence = Evidence(cos_sv=item.cos_sv, cos_en=item.cos_en, keyword=item.keyword)
        evidence.neighbour = item.neighbour.cosine
        evidence.neighbour_exact = item.neighbour.exact
        evidence.neighbour_votes = item.neighbour.votes
        evidence.neighbour_label = item.neighbour.label
        evidence.cos_gap = top - max(item.cos_sv, item.cos_en)
        evidence.rank1 = number == rank1 and top > 0.0
        _equality(subject, target, evidence)
        if evidence.tier is None:
            _closest(subject, kind, item.pair, evidence)
        if evidence.tier is not None:
            evidence.ambiguity = len(kind.by_key[evidence.tier].get(evidence.match_string, ()))
        evidence.head = any(
            _heads_agree(s.head, t.head)
            for s in subject.labels
            if not s.keyword
            for t in target.labels
            if t.kind == PREF
        )
        evidence.isco = _isco_evidence(subject, target)
        evidence.names = max((subject.votes.get(code, 0.0) for code in target.isco), default=0.0)
        if evidence.isco == "agree":
            sizes = [len(kind.by_isco.get(c, ())) for c in subject.isco & target.isco]
            evidence.group_only = 1.0 / max(1, min(sizes))
            evidence.isco_share = 1.0 / len(subject.isco)
        _shape(subject, target, evidence)
        evidence.claimed = bool(kind.claims.get(number, set()) - {subject.iri})
        evidence.substitute = any(number in kind.named.get(o, ()) for o in subject.substitutes)
        out.append((target, evidence))
    return out


@dataclass
class Suggestions:
    """The candidates per type, and what was skipped."""

    by_type: dict[str, list[list[Candidate]]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def suggest(
    vocabularies: Vocabularies,
    types: Sequence[str],
    *,
    per_subject: int = 5,
    min_confidence: float = 0.0,
    skip: Iterable[str] = (),
    reviewed: Reviewed | None = None,
    model: Mapping[str, Model] | None = None,
    progress: Progress = lambda message: None,
) -> Suggestions:
    """The best `per_subject` candidates of every subject of `types` not in `skip`; the
    `reviewed` mappings of other subjects are evidence too."""
    skipped = set(skip)
    model = model or models()
    result = Suggestions()
    kinds: dict[str, TargetKind] = {}
    for name in types:
        match_type = TYPES[name]
        if match_type.target not in kinds:
            progress(f"indexing ESCO {match_type.target} labels")
            kinds[match_type.target] = TargetKind.build(vocabularies.targets[match_type.target])
        kind = kinds[match_type.target]
        subjects = vocabularies.subjects.get(name, [])
        kind.claim(subjects)
        # reviewed mappings are evidence only for a type with a model fitted with them
        usable = reviewed if reviewed and name + REVIEWED in model else {}
        kind.learn(subjects, usable)
        chosen = model_for(name, kind, model)
        if kind.neighbours is not None:
            progress(
                f"  {len(kind.neighbours):,} {name} concepts with reviewed mappings as evidence"
            )
        todo = [s for s in subjects if s.iri not in skipped]
        result.skipped[name] = len(subjects) - len(todo)
        progress(f"matching {len(todo):,} {name} concepts ({match_type.description})")
        rows = []
        for number, subject in enumerate(todo, 1):
            ranked = candidates_for(subject, kind, chosen)
            rows.append([c for c in ranked[:per_subject] if c.confidence >= min_confidence])
            if number % 1000 == 0:
                progress(f"  {number:,} of {len(todo):,}")
        result.by_type[name] = rows
    return result
