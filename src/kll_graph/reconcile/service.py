"""Reconciling queries: candidates from the label index, scored, ranked and matched.

:func:`reconciler_for` gives the :class:`Reconciler` of a served build (made once per build).
:meth:`Reconciler.reconcile` answers version-neutral :class:`~kll_graph.reconcile.query.Query`
objects with ranked :class:`~kll_graph.reconcile.scoring.Scored` candidates; :func:`result_02`
and :func:`result_10` write them as each version's schema wants.

Candidates come from the label index in one lookup per query; with `type_strict: should` one
wider untyped lookup gives both the requested types and the others (at half score), and a second,
typed lookup runs only when the wide one may have cut off concepts of the type.

Identifiers come first: a concept URI or CURIE, a JobTech id, an ESCO UUID, a legacy AMS id or a
code (with a type, or a code system in front: "SSYK 2512") is an identifier hit; a deprecated
concept named that way gives its successor, saying so. A deprecated concept named by its label
(the normalised label equal to the query) gives its successor too, said the same way, scored below
a current concept with that label and never auto-matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kll_graph.labels.index import Filters, Hit, LabelIndex
from kll_graph.labels.layout import (
    ALT,
    HIDDEN,
    ID,
    KINDS,
    LEGACY,
    NOTATION,
    PREF,
    URI,
    key_range,
)
from kll_graph.labels.lookup import index_for
from kll_graph.labels.text import code_key, fold
from kll_graph.reconcile.graph import UUID, GraphTables, tables_for
from kll_graph.reconcile.properties import PropertyMatcher
from kll_graph.reconcile.query import Query, lookup_text
from kll_graph.reconcile.scoring import (
    FEATURE_NAMES,
    Scored,
    decide_match,
    final_score,
    folded,
    label_features,
)
from kll_graph.reconcile.types import ReconType, TypeCatalog
from kll_graph.store import ServedBuild

#: How many replacements in a row are followed from a deprecated concept to a current one.
MAX_HOPS = 5
#: The display language when a request names none.
DEFAULT_LANG = "sv"
_KIND_NAMES = {PREF: "pref", ALT: "alt", HIDDEN: "hidden"}
_CODE_KINDS = (URI, ID, NOTATION, LEGACY)
#: With `type_strict: should`, how many times `fetch` concepts one untyped lookup reads, so the
#: concepts of the requested type usually come from it without a second, typed lookup.
SHOULD_WIDTH = 4
_KIND_TEXT = {
    "pref": {"sv": "term", "en": "label"},
    "alt": {"sv": "alternativ term", "en": "alt label"},
    "hidden": {"sv": "dold term", "en": "hidden label"},
}
_CODE_TEXT = {
    "uri": "URI",
    "id": "JobTech id",
    "notation": "code",
    "legacyId": "legacy AMS id",
    "uuid": "ESCO UUID",
}


def _strength(s: Scored) -> tuple[bool, bool, bool, bool, float]:
    """How well a label or code names its concept: which of two hits of one concept to keep."""
    return (s.code_match, s.name_exact, s.name_norm_exact, s.name_part_exact, s.label_sim)


@dataclass(frozen=True)
class Candidates:
    """The ranked candidates of one query."""

    query: Query
    ranked: list[Scored]


class Reconciler:
    """Reconciliation over one build: its label index, types, graph tables and properties."""

    def __init__(self, served: ServedBuild) -> None:
        self.served = served
        self.index: LabelIndex = index_for(served)
        self.types = TypeCatalog(self.index)
        self._plain = self.index.filters()
        self._deprecated = self.index.filters(include_deprecated=True)
        self._languages = frozenset(t.split("-")[0] for t in self.index.languages if t)

    @property
    def tables(self) -> GraphTables:
        return tables_for(self.served)

    @property
    def properties(self) -> PropertyMatcher:
        return self.served.memo(
            "reconcile.properties", lambda: PropertyMatcher(self.index, self.tables)
        )

    def language(self, lang: str | None) -> str:
        """A display language the index has labels in, from a tag; Swedish when unknown."""
        if lang:
            for tag in (t.strip() for t in lang.split(",")):
                primary = tag.split(";")[0].split("-")[0].strip().lower()
                if primary and primary in self._languages:
                    return primary
        return DEFAULT_LANG

    def reconcile(self, queries: Sequence[Query], lang: str | None) -> list[Candidates]:
        return [
            self.one(q, self.language(q.lang) if q.lang else lang or DEFAULT_LANG) for q in queries
        ]

    def one(self, query: Query, lang: str) -> Candidates:
        covers, _ = self.types.covered(query.types)
        typed = bool(query.types)
        fallback = not typed or query.type_strict == "should"
        found: dict[int, Scored] = {}
        text = lookup_text(query)
        fetch = max(query.limit, 10)
        for raw in (*query.ids, text):
            if not raw:
                continue
            for s in self._lookup(raw, covers, typed, fallback, fetch, lang):
                old = found.get(s.concept)
                if old is None or _strength(s) > _strength(old):
                    found[s.concept] = s
        if not found and text is None and query.conditions and not query.ids:
            found = self._by_properties(query, covers, typed)
        ranked = self._score(query, list(found.values()))
        return Candidates(query, ranked[: query.limit])

    # -- lookup

    def filters_for(self, covers: frozenset[int]) -> Filters:
        """Index filters for these index types (none: every type); deprecated left out."""
        return Filters(types=tuple(sorted(covers)), display_lang=None)

    def _lookup(
        self,
        raw: str,
        covers: frozenset[int],
        typed: bool,
        fallback: bool,
        fetch: int,
        lang: str,
    ) -> list[Scored]:
        hits = self._index_hits(raw, covers, typed, fallback, fetch)
        out = [self._candidate(h, in_type, raw, lang) for h, in_type in hits]
        codes = [s for s in out if s.code_match]
        if not codes:
            codes = self._special_ids(raw, covers, typed, fallback)
            out = codes + out
        in_type = [s for s in codes if s.type_match]
        if typed and len({s.concept for s in in_type}) > 1:
            # with a type, a code names its concept even when a legacy id elsewhere reads alike
            notations = [s for s in in_type if s.extra.get("how") == "notation"]
            in_type = notations if len({s.concept for s in notations}) == 1 else in_type
        unique = len({s.concept for s in in_type}) == 1
        for s in in_type:
            s.code_unique = unique
        if not any(s.code_match for s in out):
            if " " not in raw.strip():
                out += self._deprecated_ids(raw, covers, typed)
            out += self._deprecated_labels(raw, covers, typed, fallback, lang)
        return out

    def _index_hits(
        self, raw: str, covers: frozenset[int], typed: bool, fallback: bool, fetch: int
    ) -> list[tuple[Hit, bool]]:
        """The index hits of a text, each with whether it is of a requested type.

        With `type_strict: should` one wider lookup without a type filter usually serves both
        lists (matching the text is most of a lookup's cost); the typed lookup runs only when
        the wide one holds fewer than `fetch` concepts of the type and may have cut some off."""
        index = self.index
        if not typed or (not covers and fallback):
            return [(h, not typed) for h in index.top(raw, self._plain, fetch)]
        if not covers:
            return []
        if not fallback:
            return [(h, True) for h in index.top(raw, self.filters_for(covers), fetch)]
        wide = fetch * SHOULD_WIDTH
        every = index.top(raw, self._plain, wide)
        inside = [h for h in every if int(index.concept_type[h.concept]) in covers][:fetch]
        if len(inside) < fetch and len(every) >= wide:
            inside = index.top(raw, self.filters_for(covers), fetch)
        seen = {h.concept for h in inside}
        others = [
            h
            for h in every[:fetch]
            if h.concept not in seen and int(index.concept_type[h.concept]) not in covers
        ]
        return [(h, True) for h in inside] + [(h, False) for h in others]

    def _candidate(self, hit: Hit, in_type: bool, raw: str, lang: str) -> Scored:
        index = self.index
        e = hit.entry
        kind_number = int(index.entry_kind[e])
        code = hit.tier == 0 and kind_number in _CODE_KINDS
        label_lang = index.languages[int(index.entry_lang[e])] or None
        s = Scored(
            concept=hit.concept,
            label=index.entry_text[e],
            label_lang=label_lang,
            kind="code" if code else _KIND_NAMES.get(kind_number, "pref"),
            type_match=in_type,
        )
        if code:
            s.code_match = True
            s.extra["how"] = KINDS[kind_number]
            s.label_sim = 1.0
        elif kind_number in _CODE_KINDS:  # a code that only starts with the query
            s.kind = "pref"
            s.label_sim = 0.5 * min(1.0, len(raw.strip()) / max(len(s.label), 1))
        else:
            label_features(s, raw, lang)
        return s

    def _special_ids(
        self, raw: str, covers: frozenset[int], typed: bool, fallback: bool
    ) -> list[Scored]:
        """An ESCO UUID (not in the label index) as an identifier."""
        text = raw.strip()
        if not UUID.match(text):
            return []
        concept = self.tables.uuids.get(text)
        if concept is None:
            return []
        in_type = not typed or int(self.index.concept_type[concept]) in covers
        if not in_type and not fallback:
            return []
        s = Scored(concept, text, None, "code", type_match=in_type, code_match=True, label_sim=1.0)
        s.extra["how"] = "uuid"
        return [s]

    def _deprecated_ids(self, raw: str, covers: frozenset[int], typed: bool) -> list[Scored]:
        """A deprecated concept named by an identifier: its successors, marked."""
        index = self.index
        if not index.replaced_by or not self._may_be_identifier(raw):
            return []
        out = []
        for hit in index.top(raw, self._deprecated, 5):
            if hit.tier != 0 or int(index.entry_kind[hit.entry]) not in _CODE_KINDS:
                continue
            if not index.concept_deprecated[hit.concept]:
                continue
            for successor in self.successors(hit.concept):
                in_type = not typed or int(index.concept_type[successor]) in covers
                s = Scored(
                    successor,
                    index.entry_text[hit.entry],
                    None,
                    "code",
                    type_match=in_type,
                    code_match=True,
                    label_sim=1.0,
                    deprecated=True,
                )
                s.replaced = index.uris[hit.concept]
                s.extra["how"] = KINDS[int(index.entry_kind[hit.entry])]
                out.append(s)
        unique = len({s.concept for s in out}) == 1
        for s in out:
            s.code_unique = unique and s.type_match
        return out

    def successors(self, concept: int) -> list[int]:
        """The current concepts replacing a deprecated one (at most :data:`MAX_HOPS` steps)."""
        return self.index.successors(concept, MAX_HOPS)

    def _deprecated_labels(
        self, raw: str, covers: frozenset[int], typed: bool, fallback: bool, lang: str
    ) -> list[Scored]:
        """A deprecated concept whose label equals the text once normalised: its successors,
        marked as found through it. One exact key lookup (no prefix, word or typo search), so
        label queries stay cheap; scoring keeps them below a current concept's own label and
        never auto-matches them."""
        index = self.index
        key = fold(raw)
        if not index.replaced_by or not key:
            return []
        lo, hi = key_range(index.full_keys, key, prefix=False)
        out = []
        for e in index.full_ids[lo:hi].tolist():
            old = int(index.entry_concept[e])
            kind = int(index.entry_kind[e])
            if kind not in _KIND_NAMES or not index.concept_deprecated[old]:
                continue
            for successor in self.successors(old):
                in_type = not typed or int(index.concept_type[successor]) in covers
                if not in_type and not fallback:
                    continue
                label_lang = index.languages[int(index.entry_lang[e])] or None
                s = Scored(
                    successor,
                    index.entry_text[e],
                    label_lang,
                    _KIND_NAMES[kind],
                    type_match=in_type,
                    deprecated=True,
                )
                label_features(s, raw, lang)
                s.replaced = index.uris[old]
                out.append(s)
        return out

    def _may_be_identifier(self, raw: str) -> bool:
        """Whether a text could be a URI, CURIE, id or code (of any concept, deprecated ones
        included): a cheap test that spares most label queries a third index lookup."""
        text = raw.strip()
        key = code_key(text)
        codes = self.index.codes
        return ":" in text or key in codes or (key[:1] == "c" and key[1:] in codes)

    def _by_properties(
        self, query: Query, covers: frozenset[int], typed: bool
    ) -> dict[int, Scored]:
        """A query without a name: concepts an identifying property value names."""
        found: dict[int, Scored] = {}
        for condition in query.conditions:
            if condition.pid not in ("jobtech_id", "esco", "ssyk", "isco"):
                continue
            for value in condition.values:
                raw = value.id or value.text or ""
                for s in self._lookup(raw, covers, typed, not typed, 10, DEFAULT_LANG):
                    if s.code_match:
                        found.setdefault(s.concept, s)
        return found

    # -- scoring

    def _score(self, query: Query, found: list[Scored]) -> list[Scored]:
        shared: dict[str, set[int]] = {}
        for s in found:
            if s.name_norm_exact and s.type_match:
                shared.setdefault(folded(s.label), set()).add(s.concept)
        matcher = self.properties if query.conditions else None
        kept = []
        for s in found:
            if s.name_norm_exact and s.type_match:
                s.ambiguity = len(shared[folded(s.label)])
            if matcher is not None and not self._apply_conditions(matcher, query, s):
                continue
            final_score(s)
            kept.append(s)
        kept.sort(key=lambda s: (-s.score, -s.lang_match, self.index.uris[s.concept]))
        decide_match(kept)
        return kept

    @staticmethod
    def _apply_conditions(matcher: PropertyMatcher, query: Query, s: Scored) -> bool:
        for condition in query.conditions:
            verdict = matcher.check(condition, s.concept)
            if verdict is True:
                s.agree += 1
            elif verdict is False:
                s.disagree += 1
            if condition.required and verdict is not True:
                return False
        return True

    # -- presenting

    def type_of(self, concept: int) -> ReconType:
        return self.types.of_concept(self.index, concept)

    def description(self, s: Scored, lang: str) -> str:
        """What matched, the concept's first code and its type: "alt label «…» @sv · SSYK 2221
        · JobTech occupation name"."""
        index = self.index
        parts = []
        if s.code_match:
            parts.append(f"{_CODE_TEXT.get(s.extra.get('how', ''), 'id')} «{s.label}»")
        else:
            kind = _KIND_TEXT.get(s.kind, _KIND_TEXT["pref"])
            tag = f" @{s.label_lang}" if s.label_lang else ""
            parts.append(f"{kind.get(lang, kind['en'])} «{s.label}»{tag}")
        if s.replaced:
            parts.append(self._replaced_text(s.replaced, lang))
        notations = index.notations(s.concept, lang)
        if notations:
            n = notations[0]
            system = n["system"] or ""
            parts.append(f"{system.rstrip('0123456789')} {n['value']}".strip())
        broader = int(index.concept_broader[s.concept])
        if broader >= 0:
            parts.append(f"↑ {index.label(broader, lang)}")
        parts.append(self.type_of(s.concept).name(lang))
        return " · ".join(parts)

    def _replaced_text(self, uri: str, lang: str) -> str:
        """Says that the query named a deprecated concept this candidate replaces, and which."""
        old = self.index.position.get(uri)
        label = self.index.label(old, lang) if old is not None else None
        named = f"«{label}» <{uri}>" if label else f"<{uri}>"
        return f"ersätter utgånget {named}" if lang == "sv" else f"replaces deprecated {named}"

    def candidate_dict(self, s: Scored, lang: str, version: str) -> dict[str, Any]:
        index = self.index
        recon_type = self.type_of(s.concept)
        name = index.label(s.concept, lang)
        out: dict[str, Any] = {
            "id": index.uris[s.concept],
            "name": name,
            "description": self.description(s, lang),
            "score": s.score,
            "match": s.match,
            "type": [{"id": recon_type.id, "name": recon_type.name(lang)}],
        }
        if version == "1.0":
            name_lang = index.label_language(s.concept, name)
            if name_lang:
                out["lang"] = name_lang
            out["features"] = [
                {"id": fid, "name": FEATURE_NAMES[fid], "value": value}
                for fid, value in s.features()
            ]
        else:
            out["features"] = [{"id": fid, "value": value} for fid, value in s.features()]
        return out


def reconciler_for(served: ServedBuild) -> Reconciler:
    """The reconciler of a served build, made once per build."""
    return served.memo("reconcile.reconciler", lambda: Reconciler(served))


def result_02(reconciler: Reconciler, answers: Sequence[Candidates], lang: str) -> dict[str, Any]:
    """A 0.2 result batch: {"q0": {"result": [...]}, ...}."""
    return {
        a.query.key: {"result": [reconciler.candidate_dict(s, lang, "0.2") for s in a.ranked]}
        for a in answers
    }


def result_10(reconciler: Reconciler, answers: Sequence[Candidates], lang: str) -> dict[str, Any]:
    """A 1.0-draft result batch: {"results": [{"candidates": [...]}, ...]} in query order."""
    return {
        "results": [
            {
                "candidates": [
                    reconciler.candidate_dict(
                        s, reconciler.language(a.query.lang) if a.query.lang else lang, "1.0"
                    )
                    for s in a.ranked
                ]
            }
            for a in answers
        ]
    }
