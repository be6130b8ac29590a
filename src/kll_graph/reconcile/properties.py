"""The properties a reconciliation query can match and a data extension can fetch.

Matching (`properties` in 0.2, `conditions` in 1.0): a value agrees with a candidate when it names
one of the concepts the property reaches from it (by URI, JobTech id, ESCO UUID, code or label),
or one of their codes. `ssyk` and `isco` look at the candidate's own code and those of the groups
above it (and, for `isco`, of the concepts it is mapped to); `esco` and `jobtech_id` at the
candidate and its mappings; `broader` and `occupation_field` at the groups above; `scheme` at its
schemes. Each check says agree, disagree (the candidate has values, none agrees) or unknown (it
has none), so a column with gaps never counts against a candidate.

A 1.0 condition's `matchQualifier` narrows how a value agrees: `ExactMatch` wants the value as
written to be a reached concept's URI, id, code or preferred label (no case folding, no "SSYK"
prefix dropped, no label lookup); `WildcardMatch` reads `*` (any run) and `?` (one character) in
the value and matches those same strings with case, diacritics and punctuation folded on both
sides as the label index folds them. The query reader refuses any other qualifier.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kll_graph.labels.index import LabelIndex
from kll_graph.labels.layout import ID, NOTATION
from kll_graph.labels.text import code_key, fold
from kll_graph.reconcile.graph import UUID, GraphTables
from kll_graph.reconcile.query import Condition, Value


@dataclass(frozen=True)
class PropertyInfo:
    """A property: id, names by language, what it says, whether it matches and/or extends."""

    id: str
    names: dict[str, str]
    description: str
    match: bool = True
    extend: bool = True

    def name(self, lang: str | None) -> str:
        return LabelIndex.pick(self.names, lang)


def _p(pid: str, sv: str, en: str, description: str, *, match: bool = True) -> PropertyInfo:
    return PropertyInfo(pid, {"sv": sv, "en": en}, description, match=match)


#: Every property, in the order they are proposed.
PROPERTIES: tuple[PropertyInfo, ...] = (
    _p("ssyk", "SSYK-kod", "SSYK code", "SSYK 2012 code of the concept or the group above it"),
    _p("isco", "ISCO-kod", "ISCO code", "ISCO-08 code of the concept, its groups or mappings"),
    _p("esco", "ESCO-begrepp", "ESCO concept", "the ESCO concept itself or the one it maps to"),
    _p("jobtech_id", "JobTech-id", "JobTech id", "the JobTech concept id, or a mapped one's"),
    _p("broader", "Överordnat begrepp", "Broader concept", "a concept above it in a hierarchy"),
    _p("occupation_field", "Yrkesområde", "Occupation field", "the JobTech occupation field"),
    _p("scheme", "Begreppsschema", "Concept scheme", "a scheme the concept is in"),
    _p("prefLabel", "Föredragen term", "Preferred label", "the preferred label", match=False),
    _p("altLabel", "Alternativa termer", "Alternative labels", "alternative labels", match=False),
    _p("definition", "Definition", "Definition", "the definition", match=False),
    _p("type", "Typ", "Type", "the concept type", match=False),
    _p("notation", "Kod", "Code", "every code with its code system", match=False),
    _p("legacy_id", "Äldre AMS-id", "Legacy AMS id", "JobTech legacy AMS ids", match=False),
    _p("mappings", "Mappningar", "Mappings", "mapped concepts (ESCO ↔ JobTech)", match=False),
    _p(
        "mapping_details",
        "Mappningar med härkomst",
        "Mappings with provenance",
        "each mapping: predicate, target, graph, justification, author, confidence",
        match=False,
    ),
    _p("essential_skills", "Väsentliga kompetenser", "Essential skills", "", match=False),
    _p("optional_skills", "Valfria kompetenser", "Optional skills", "", match=False),
    _p("deprecated", "Utgången", "Deprecated", "whether the concept is deprecated", match=False),
    _p("replaced_by", "Ersatt av", "Replaced by", "the concept replacing it", match=False),
)
BY_ID = {p.id: p for p in PROPERTIES}
_CODE_PREFIX = re.compile(r"^(?:ssyk|isco)[\s\-]*(?:2012|08)?[\s:]*c?(?=\d)", re.IGNORECASE)


def normalise_code(text: str) -> str:
    """A code as typed ("SSYK 2512", "isco-08 C2512", "2512") to its key ("2512")."""
    return code_key(_CODE_PREFIX.sub("", text.strip()))


class PropertyMatcher:
    """Checks property values against candidates of one index and its graph tables."""

    def __init__(self, index: LabelIndex, tables: GraphTables) -> None:
        self.index = index
        self.tables = tables
        self.systems = {
            "ssyk": {i for i, s in enumerate(index.systems) if s.id.upper().startswith("SSYK")},
            "isco": {i for i, s in enumerate(index.systems) if s.id.upper().startswith("ISCO")},
        }
        self.field_type = index.type_by_id.get("occupation-field", -1)
        self._codes = functools.lru_cache(maxsize=65536)(self._concept_codes)
        self._raw_codes = functools.lru_cache(maxsize=65536)(self._concept_raw_codes)

    def _concept_codes(self, concept: int) -> tuple[tuple[int, str], ...]:
        index = self.index
        return tuple(
            (
                int(index.entry_system[e]) if index.entry_kind[e] == NOTATION else -2,
                code_key(index.entry_text[e]),
            )
            for e in index.entries_of(concept)
            if index.entry_kind[e] in (NOTATION, ID)
        )

    def _concept_raw_codes(self, concept: int) -> tuple[tuple[int, str], ...]:
        """Like :meth:`_concept_codes`, with each code as written (for the qualifiers)."""
        index = self.index
        return tuple(
            (int(index.entry_system[e]) if index.entry_kind[e] == NOTATION else -2, text)
            for e in index.entries_of(concept)
            if index.entry_kind[e] in (NOTATION, ID)
            for text in (index.entry_text[e].strip(),)
        )

    def resolve_value(self, value: Value) -> int | None:
        """The concept an entity value (or a text that is an id) names, or None."""
        for raw in (value.id, value.text):
            if not raw:
                continue
            text = raw.strip()
            found = self.index.position.get(text)
            if found is None and UUID.match(text.rsplit("/", 1)[-1]):
                found = self.tables.uuids.get(text.rsplit("/", 1)[-1])
            if found is None:
                entries = self.index.codes.get(code_key(text), ())
                ids = {
                    int(self.index.entry_concept[e])
                    for e in entries
                    if self.index.entry_kind[e] == ID
                }
                found = next(iter(ids)) if len(ids) == 1 else None
            if found is not None:
                return found
        return None

    def targets(self, pid: str, concept: int, *, raw: bool = False) -> tuple[list[int], set[str]]:
        """The concepts a property reaches from a candidate, and the code keys it agrees with
        (the codes as written when `raw`)."""
        tables = self.tables
        codes_of = self._raw_codes if raw else self._codes
        if pid == "ssyk" or pid == "isco":
            reach = [concept, *tables.ancestors(concept)]
            if pid == "isco":
                mapped = [m for _, m in tables.mappings.get(concept, ())]
                reach += mapped + [a for m in mapped for a in tables.ancestors(m)]
            systems = self.systems[pid]
            codes = {k for c in reach for s, k in codes_of(c) if s in systems}
            return [c for c in reach if any(s in systems for s, _ in codes_of(c))], codes
        if pid in ("esco", "jobtech_id"):
            reach = [concept, *(m for _, m in tables.mappings.get(concept, ()))]
            if pid == "esco":
                reach = [c for c in reach if "europa.eu/esco" in self.index.uris[c]]
                codes = {self.index.uris[c].rsplit("/", 1)[-1] for c in reach}
                codes |= {k for c in reach for s, k in codes_of(c) if s >= 0}
            else:
                reach = [c for c in reach if any(s == -2 for s, _ in codes_of(c))]
                codes = {k for c in reach for s, k in codes_of(c) if s == -2}
            return reach, codes
        if pid == "broader":
            reach = tables.ancestors(concept)
            return reach, {k for c in reach for s, k in codes_of(c) if s >= 0}
        if pid == "occupation_field":
            reach = [
                c
                for c in tables.ancestors(concept)
                if int(self.index.concept_type[c]) == self.field_type
            ]
            return reach, set()
        return [], set()

    def check(self, condition: Condition, concept: int) -> bool | None:
        """True when the values agree with the candidate (as the quantifier asks), False when
        they do not, None when the property is unknown or the candidate has no value for it."""
        if condition.pid == "scheme":
            return self._check_scheme(condition, concept)
        info = BY_ID.get(condition.pid)
        if info is None or not info.match:
            return None
        qualified = condition.qualifier is not None
        reach, codes = self.targets(condition.pid, concept, raw=qualified)
        if not reach and not codes:
            return None
        if qualified:
            forms = codes | {self.index.uris[c] for c in reach}
            forms |= {label for c in reach for label in self.index.pref[c].values()}
            hits = [_qualified(v, forms, condition.qualifier) for v in condition.values]
            return _quantify(hits, condition.quantifier)
        labels = {fold(label) for c in reach for label in self.index.pref[c].values()}
        reach_set = set(reach)
        hits = [self._agrees(v, reach_set, codes, labels) for v in condition.values]
        return _quantify(hits, condition.quantifier)

    def _agrees(self, value: Value, reach: set[int], codes: set[str], labels: set[str]) -> bool:
        named = self.resolve_value(value)
        if named is not None and named in reach:
            return True
        for raw in (value.id, value.text):
            if raw and (normalise_code(raw) in codes or code_key(raw) in codes):
                return True
        return bool(value.text) and fold(value.text or "") in labels

    def _check_scheme(self, condition: Condition, concept: int) -> bool | None:
        schemes = [self.index.schemes[s] for s in self.index.concept_schemes[concept]]
        if not schemes:
            return None
        if condition.qualifier is not None:
            forms = {k for s in schemes for k in (s.id, s.uri, *s.labels.values())}
            found = [_qualified(v, forms, condition.qualifier) for v in condition.values]
            return _quantify(found, condition.quantifier)
        keys = {k for s in schemes for k in (s.id.casefold(), s.uri, *map(fold, s.labels.values()))}
        hits = [
            any(
                raw and (raw.casefold() in keys or raw in keys or fold(raw) in keys)
                for raw in (v.id, v.text)
            )
            for v in condition.values
        ]
        return _quantify(hits, condition.quantifier)


def _qualified(value: Value, forms: set[str], qualifier: str | None) -> bool:
    """Whether a value agrees with one of these strings as `ExactMatch` or `WildcardMatch` asks."""
    raws = [r.strip() for r in (value.id, value.text) if r and r.strip()]
    if qualifier == "WildcardMatch":
        folded = {fold(f) for f in forms}
        return any(any(_wildcard(r).fullmatch(f) for f in folded) for r in raws)
    return any(r in forms for r in raws)


def _fold_piece(piece: str) -> str:
    """A literal run of a wildcard pattern folded as :func:`fold` folds labels, keeping a space
    where the run starts or ends with a separator ("Sjuksköterska, " → "sjukskoterska "), so
    that pieces join up as the folded label's words do."""
    folded = fold(piece)
    if not folded:
        return " " if piece else ""
    head = " " if fold(piece[:1]) == "" else ""
    tail = " " if fold(piece[-1:]) == "" else ""
    return head + folded + tail


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """A `*`/`?` pattern as a regular expression over folded strings: case, diacritics and
    punctuation fold as in the label index ("sjukskoterska*" and "Sjuksköt*" both find
    "Sjuksköterska, grundutbildad"); everything else is literal."""
    parts = re.split(r"([*?])", pattern)
    return re.compile(
        "".join(
            ".*" if p == "*" else "." if p == "?" else re.escape(_fold_piece(p)) for p in parts
        ),
        re.DOTALL,
    )


def _quantify(hits: Iterable[bool], quantifier: str) -> bool:
    found = list(hits)
    if quantifier == "all":
        return all(found)
    if quantifier == "none":
        return not any(found)
    return any(found)


def as_dict(info: PropertyInfo, lang: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": info.id, "name": info.name(lang)}
    if info.description:
        out["description"] = info.description
    return out
