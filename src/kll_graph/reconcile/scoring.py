"""Scores from 0 to 100 built from named features, and the rule for `match: true`.

A candidate's features (the 1.0 `features` array returns them, 0.2 too):

=================  =================================================================================
name_exact         the query is the matched label, case aside (diacritics count)
name_norm_exact    the same once case, diacritics, punctuation and the inverted form ("X, Y") fold
name_part_exact    the query equals, once normalised, one "/"-separated part of the matched label
                   ("Systemutvecklare" in "Systemutvecklare/Programmerare")
label_sim          similarity of query and matched label, 0-1 (word order ignored)
label_kind         1 preferred label or identifier, 0.9 alternative, 0.7 hidden label
lang_match         the matched label is in the query's language
type_match         the candidate is of a requested type (or none was requested)
code_match         the query is the candidate's id, URI, code or legacy id
property_support   properties that agree minus those that disagree
ambiguity          how many candidates of the requested types share the matched label
deprecated         the query named a deprecated concept (by identifier or by label); the
                   candidate is its successor
=================  =================================================================================

The name score: an identifier 100 (90 when the same code names several concepts); an exact
preferred label 96, alternative 93, hidden 85; normalised exact 94, 91, 83; one "/"-separated
part of the label 90, 87, 80; anything else at most 85 by similarity; +1 for a label in the
query's language (so it wins ties); -2 per other concept sharing the label (at most -6); -6 for
a successor found through a deprecated concept's label. Another type at half. Properties add 4
each (at most 8) and take 5 for each that disagrees (at most 10), within 0-100.

`match: true` (see :func:`decide_match`) is set at most once per query, on the top candidate
only, of a requested type, with no property disagreeing, and only when (a) an identifier names
exactly one concept (a deprecated concept's identifier included, when it has one successor), or
(b) a preferred or alternative label of a non-deprecated concept equals the query once normalised
and no other candidate of the requested types shares it, or (c) its name score is at least 95 and
10 above the next concept's and it was not found through a deprecated concept. Properties never
lift a weak name to a match: (c) reads the name score without them. A label part alone never
auto-matches: it is not rule (b), and its name score stays below 95.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import Any

from kll_graph.labels.text import fold, lower

#: :func:`fold` and :func:`lower` kept per text: every candidate's label is folded for every
#: query that finds it, and the same labels and query texts come back batch after batch.
folded = functools.lru_cache(maxsize=131072)(fold)
lowered = functools.lru_cache(maxsize=131072)(lower)

#: Feature ids, their names (1.0 requires one) in English.
FEATURE_NAMES = {
    "name_exact": "exact label",
    "name_norm_exact": "normalised exact label",
    "name_part_exact": "exact part of a label split at /",
    "label_sim": "label similarity",
    "label_kind": "label kind",
    "lang_match": "label in the query's language",
    "type_match": "type agreement",
    "code_match": "identifier or code",
    "property_support": "property support",
    "ambiguity": "concepts sharing the label",
    "deprecated": "deprecated concept replaced",
}
KIND_WEIGHT = {"pref": 1.0, "alt": 0.9, "hidden": 0.7, "code": 1.0}
EXACT_SCORE = {"pref": 96, "alt": 93, "hidden": 85}
NORM_SCORE = {"pref": 94, "alt": 91, "hidden": 83}
PART_SCORE = {"pref": 90, "alt": 87, "hidden": 80}
MAX_FUZZY = 85
PROPERTY_BONUS, MAX_BONUS = 4, 8
PROPERTY_PENALTY, MAX_PENALTY = 5, 10
MATCH_SCORE, MATCH_GAP = 95, 10
#: Taken from a successor found through a deprecated concept's label, so the successor stays
#: below a current concept that has the label itself (and below the auto-match score).
DEPRECATED_LABEL_PENALTY = 6


@dataclass
class Scored:
    """One candidate concept with its features and scores."""

    concept: int
    label: str  # the matched label or identifier
    label_lang: str | None
    kind: str  # pref, alt, hidden or code
    name_exact: bool = False
    name_norm_exact: bool = False
    name_part_exact: bool = False
    label_sim: float = 0.0
    lang_match: bool = False
    type_match: bool = True
    code_match: bool = False
    code_unique: bool = False
    agree: int = 0
    disagree: int = 0
    ambiguity: int = 1
    deprecated: bool = False
    replaced: str | None = None
    name_score: float = 0.0
    score: float = 0.0
    match: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def features(self) -> list[tuple[str, bool | float]]:
        return [
            ("name_exact", self.name_exact),
            ("name_norm_exact", self.name_norm_exact),
            ("name_part_exact", self.name_part_exact),
            ("label_sim", round(self.label_sim, 3)),
            ("label_kind", KIND_WEIGHT[self.kind]),
            ("lang_match", self.lang_match),
            ("type_match", self.type_match),
            ("code_match", self.code_match),
            ("property_support", self.agree - self.disagree),
            ("ambiguity", self.ambiguity),
            ("deprecated", self.deprecated),
        ]


def inverted(key: str, original: str) -> str | None:
    """The folded uninverted form of "X, Y" ("Sjuksköterska, grundutbildad" → "grundutbildad
    sjukskoterska"), or None when the text has no single comma."""
    if original.count(",") != 1:
        return None
    head, tail = original.split(",")
    return folded(f"{tail} {head}") or None


def label_parts(label: str) -> set[str]:
    """The folded parts of a label that joins names with "/" ("Systemutvecklare/Programmerare"
    → {"systemutvecklare", "programmerare"}); empty when it has no "/"."""
    if "/" not in label:
        return set()
    return {key for part in label.split("/") if (key := folded(part))}


def similarity(a: str, b: str) -> float:
    """Token-sort similarity of two folded texts, 0-1."""
    if a == b:
        return 1.0
    x, y = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


def label_features(s: Scored, query: str, query_lang: str | None) -> None:
    """Fill the name features of a label candidate from the query text."""
    q_key, l_key = folded(query), folded(s.label)
    s.name_exact = lowered(query) == lowered(s.label)
    q_inv, l_inv = inverted(q_key, query), inverted(l_key, s.label)
    s.name_norm_exact = q_key == l_key or l_inv == q_key or q_inv == l_key
    s.name_part_exact = not s.name_norm_exact and q_key in label_parts(s.label)
    s.label_sim = 1.0 if s.name_norm_exact else similarity(q_key, l_key)
    s.lang_match = query_lang is not None and s.label_lang == query_lang


def name_score(s: Scored) -> float:
    if s.code_match:
        return 100.0 if s.code_unique else 90.0
    if s.name_exact:
        base = float(EXACT_SCORE[s.kind])
    elif s.name_norm_exact:
        base = float(NORM_SCORE[s.kind])
    elif s.name_part_exact:
        base = float(PART_SCORE[s.kind])
    else:
        base = round(MAX_FUZZY * s.label_sim * KIND_WEIGHT[s.kind], 1)
    if s.lang_match:
        base += 1
    if s.ambiguity > 1:
        base -= min(2 * (s.ambiguity - 1), 6)
    if s.deprecated and not s.code_match:
        base -= DEPRECATED_LABEL_PENALTY
    return base


def final_score(s: Scored) -> None:
    s.name_score = name_score(s)
    score = s.name_score if s.type_match else s.name_score / 2
    score += min(PROPERTY_BONUS * s.agree, MAX_BONUS) - min(
        PROPERTY_PENALTY * s.disagree, MAX_PENALTY
    )
    s.score = round(max(0.0, min(100.0, score)), 1)


def decide_match(ranked: list[Scored]) -> None:
    """Set `match` on the top candidate when the rule in the module docstring allows it."""
    for s in ranked:
        s.match = False
    if not ranked:
        return
    top = ranked[0]
    if not top.type_match or top.disagree:
        return
    by_id = top.code_match and top.code_unique
    by_label = (
        not top.code_match
        and top.name_norm_exact
        and top.kind in ("pref", "alt")
        and not top.deprecated
        and top.ambiguity == 1
    )
    nxt = next((s.name_score for s in ranked[1:] if s.concept != top.concept), 0.0)
    by_score = (
        not top.code_match
        and not top.deprecated
        and top.name_score >= MATCH_SCORE
        and top.name_score - nxt >= MATCH_GAP
    )
    top.match = bool(by_id or by_label or by_score)
