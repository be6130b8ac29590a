"""A reviewer's decision on a pair of concepts, as the row it writes into a mapping set.

The five relations are shown as sentences, because the direction of broad and narrow is the
error every mapping tool has made: ``jt:X skos:broadMatch ESCO:Y`` says that the ESCO concept
(the object) is the *broader* one, so the sentence reads "ESCO 'Y' is broader than JobTech 'X'".
``tests/review/test_decisions.py`` pins every choice to its predicate and sentence.

What each decision writes (SSSOM slots only, so any SSSOM tool reads the outcome, and the status
of :func:`kll_graph.mappings.status.row_status` follows from them):

- **accept** a candidate: the candidate's row with all its evidence (confidence, similarity,
  match fields and strings, preprocessing, tool and source versions, labels, author), the chosen
  predicate, ``semapv:MappingReview``, the reviewer and the review date -> *reviewed*;
  with no row to review it is a manual mapping: the user as author,
  ``semapv:ManualMappingCuration`` and today's date -> *curated*;
- **reject**: the same pair with ``predicate_modifier: Not`` (the matcher never proposes it
  again), the reviewer and the reason in the comment -> *rejected*;
- **unsure**: the row with the reviewer and ``reviewer_agreement: 0`` -> *unsure*;
- **no-term-found**: ``object_id: sssom:NoTermFound`` with ``skos:exactMatch`` (nothing in ESCO
  fits the JobTech concept).

A set holds one row per subject and object: a decision replaces the earlier row of its pair.
The author of a row may not review it (403).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from kll_graph.exceptions import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from kll_graph.mappings.sssom import (
    BROAD_MATCH,
    BUILTIN_PREFIXES,
    CLOSE_MATCH,
    ENTITY_REFERENCES,
    EXACT_MATCH,
    MULTIVALUED,
    NARROW_MATCH,
    NO_TERM_FOUND,
    RELATED_MATCH,
    Mapping,
    MappingSet,
    iri_of,
    split_curie,
    split_values,
)
from kll_graph.mappings.status import ASSERTED, row_status
from kll_graph.namespaces import ESCO_DATA, JOBTECH_CONCEPT, SKOS
from kll_graph.review.audit import UNDO, AuditEntry, Row, row_dict
from kll_graph.review.setfiles import (
    SET_PREFIXES,
    ChangeResult,
    SetFiles,
    check_set_name,
    with_user_prefix,
)

ACCEPT: Final = "accept"
REJECT: Final = "reject"
UNSURE: Final = "unsure"
NO_TERM: Final = "no-term-found"
DECISIONS: Final = (ACCEPT, REJECT, UNSURE, NO_TERM)
#: The longest comment (a reason, a note) a decision may carry, in characters.
COMMENT_LIMIT: Final = 2000
#: The longest label a decision may carry.
LABEL_LIMIT: Final = 500
REVIEW: Final = "semapv:MappingReview"
MANUAL: Final = "semapv:ManualMappingCuration"
LANGUAGES: Final = ("en", "sv")


@dataclass(frozen=True)
class Relation:
    """One relation a reviewer can choose: its keyboard key, SKOS predicate and sentences.

    The sentences name the ESCO concept (the object) first and say how it relates to the
    JobTech concept (the subject), which is what the predicate states from the subject.
    """

    name: str
    key: str
    predicate: str
    en: str
    sv: str

    def sentence(self, jobtech_label: str, esco_label: str, lang: str = "en") -> str:
        if lang not in LANGUAGES:
            raise BadRequestError(
                f"no sentences in {lang!r}; languages: {', '.join(LANGUAGES)}", parameter="lang"
            )
        template = self.sv if lang == "sv" else self.en
        return template.format(jobtech=jobtech_label, esco=esco_label)


#: The five SKOS mapping relations in the order the keys 1-5 choose them.
RELATIONS: Final = (
    Relation(
        "exact",
        "1",
        EXACT_MATCH,
        "ESCO '{esco}' is the same as JobTech '{jobtech}'",
        "ESCO '{esco}' är samma som JobTech '{jobtech}'",
    ),
    Relation(
        "close",
        "2",
        CLOSE_MATCH,
        "ESCO '{esco}' is close to JobTech '{jobtech}'",
        "ESCO '{esco}' ligger nära JobTech '{jobtech}'",
    ),
    Relation(
        "broad",
        "3",
        BROAD_MATCH,
        "ESCO '{esco}' is broader than JobTech '{jobtech}'",
        "ESCO '{esco}' är bredare än JobTech '{jobtech}'",
    ),
    Relation(
        "narrow",
        "4",
        NARROW_MATCH,
        "ESCO '{esco}' is narrower than JobTech '{jobtech}'",
        "ESCO '{esco}' är smalare än JobTech '{jobtech}'",
    ),
    Relation(
        "related",
        "5",
        RELATED_MATCH,
        "ESCO '{esco}' is related to JobTech '{jobtech}'",
        "ESCO '{esco}' är relaterat till JobTech '{jobtech}'",
    ),
)
PREDICATES: Final = tuple(r.predicate for r in RELATIONS)
_ALLOWED = ", ".join(PREDICATES)


def relation_for(value: str) -> Relation:
    """A relation by name (``broad``), key (``3``), CURIE (``skos:broadMatch``) or SKOS IRI."""
    for candidate in RELATIONS:
        if value in (
            candidate.name,
            candidate.key,
            candidate.predicate,
            SKOS.iri + candidate.predicate.removeprefix("skos:"),
        ):
            return candidate
    raise BadRequestError(
        f"{value!r} is not a SKOS mapping relation; use one of {_ALLOWED}", parameter="predicate_id"
    )


def sentence(relation: str, jobtech_label: str, esco_label: str, lang: str = "en") -> str:
    """The relation as a sentence about the two concepts, in English or Swedish.

    >>> sentence("broad", "Barnsjuksköterska", "sjuksköterska")
    "ESCO 'sjuksköterska' is broader than JobTech 'Barnsjuksköterska'"
    """
    return relation_for(relation).sentence(jobtech_label, esco_label, lang)


# --- the decision -------------------------------------------------------------------------------

_LOCAL = re.compile(r"[A-Za-z0-9_.\-/]+")
#: The concepts a decision is about: JobTech subjects, ESCO objects (prefix, namespace).
_SUBJECT = ("jt", JOBTECH_CONCEPT.iri)
_OBJECT = ("ESCO", ESCO_DATA.iri)


def _concept_iri(value: object, side: tuple[str, str], field_name: str, what: str) -> str:
    """The full IRI of a concept given as CURIE or IRI of its namespace; BadRequestError."""
    prefix, namespace = side
    text = value.strip() if isinstance(value, str) else ""
    if text.startswith(namespace):
        local = text[len(namespace) :]
    elif text.startswith(f"{prefix}:"):
        local = text[len(prefix) + 1 :]
    else:
        local = ""
    if not _LOCAL.fullmatch(local) or ".." in local.split("/"):
        raise BadRequestError(
            f"{str(value)[:100]!r} is not {what}: give {prefix}:<id> or {namespace}<id>",
            parameter=field_name,
        )
    return namespace + local


def _text(value: object, field_name: str, limit: int) -> str:
    """Free text with whitespace runs (line breaks, tabs) made single spaces; no control
    characters; at most `limit` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequestError(f"{field_name} must be text", parameter=field_name)
    text = " ".join(value.split())
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise BadRequestError(f"{field_name} holds control characters", parameter=field_name)
    if len(text) > limit:
        raise BadRequestError(
            f"{field_name} is {len(text)} characters long; at most {limit} are allowed",
            parameter=field_name,
        )
    return text


@dataclass(frozen=True)
class Decision:
    """What a reviewer decided about one pair, checked on construction (BadRequestError naming
    the field). Ids are kept as full IRIs (the object of "no term found" as
    ``sssom:NoTermFound``); the predicate as its CURIE (empty when a reject or unsure takes the
    candidate's)."""

    set: str
    subject_id: str
    object_id: str
    predicate_id: str
    decision: str
    comment: str = ""
    subject_label: str = ""
    object_label: str = ""

    def __post_init__(self) -> None:
        check_set_name(self.set)
        if self.decision not in DECISIONS:
            raise BadRequestError(
                f"{str(self.decision)[:40]!r} is not a decision; use one of {', '.join(DECISIONS)}",
                parameter="decision",
            )
        subject = _concept_iri(self.subject_id, _SUBJECT, "subject_id", "a JobTech concept")
        if self.decision == NO_TERM:
            obj, predicate = NO_TERM_FOUND, EXACT_MATCH
        else:
            obj = _concept_iri(self.object_id, _OBJECT, "object_id", "an ESCO concept")
            predicate = self._predicate()
        values = {
            "subject_id": subject,
            "object_id": obj,
            "predicate_id": predicate,
            "comment": _text(self.comment, "comment", COMMENT_LIMIT),
            "subject_label": _text(self.subject_label, "subject_label", LABEL_LIMIT),
            "object_label": _text(self.object_label, "object_label", LABEL_LIMIT),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _predicate(self) -> str:
        value = self.predicate_id
        if value in (None, ""):
            if self.decision in (REJECT, UNSURE):
                return ""  # the candidate's predicate
            raise BadRequestError(
                f"predicate_id is required to {self.decision}; use one of {_ALLOWED}",
                parameter="predicate_id",
            )
        if not isinstance(value, str):
            raise BadRequestError(
                f"predicate_id must be text, one of {_ALLOWED}", parameter="predicate_id"
            )
        return relation_for(value.strip()).predicate

    @classmethod
    def from_json(cls, data: MappingOf[str, Any]) -> Decision:
        """A decision from a request body (``set``, ``subject_id``, ``object_id``,
        ``predicate_id``, ``decision``, ``comment``; labels optional)."""
        unknown = sorted(set(data) - _JSON_FIELDS)
        if unknown:
            raise BadRequestError(
                f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(sorted(_JSON_FIELDS))}",
                parameter=unknown[0],
            )
        return cls(
            set=data.get("set") or "",  # checked in __post_init__
            subject_id=data.get("subject_id") or "",
            object_id=data.get("object_id") or "",
            predicate_id=data.get("predicate_id") or "",
            decision=data.get("decision") or "",
            comment=data.get("comment") or "",
            subject_label=data.get("subject_label") or "",
            object_label=data.get("object_label") or "",
        )


_JSON_FIELDS = frozenset(
    {
        "set",
        "subject_id",
        "object_id",
        "predicate_id",
        "decision",
        "comment",
        "subject_label",
        "object_label",
    }
)

# --- from decision to row -----------------------------------------------------------------------

#: Slots a decided row does not take over from the row under review: the pair and relation
#: (the decision's), the earlier decision (reviewer, agreement, modifier), and what would be
#: stale (the record id, the predicate's label, the cardinality within its old set).
_NOT_KEPT = frozenset(
    {
        "record_id",
        "subject_id",
        "object_id",
        "predicate_id",
        "predicate_label",
        "predicate_modifier",
        "mapping_justification",
        "reviewer_id",
        "reviewer_label",
        "reviewer_agreement",
        "review_date",
        "mapping_cardinality",
    }
)


def _expanded(value: str, prefixes: MappingOf[str, str]) -> str:
    """Ids compare as full IRIs; a value that is none stays as written."""
    return iri_of(value, prefixes) or value


def _pair(mapping: Mapping, prefixes: MappingOf[str, str]) -> tuple[str, str]:
    return (
        _expanded(mapping.get("subject_id"), prefixes),
        _expanded(mapping.get("object_id"), prefixes),
    )


def _curie(iri: str, curie_map: dict[str, str], fallback: tuple[str, str]) -> str:
    """A concept IRI as a CURIE of the set, declaring `fallback` (prefix, namespace) when no
    declared prefix covers it (a numbered name when the prefix name is taken)."""
    if iri == NO_TERM_FOUND:
        return iri
    best = ""
    for prefix, namespace in sorted(curie_map.items()):
        if iri.startswith(namespace) and len(namespace) > len(curie_map.get(best, "")):
            best = prefix
    if best and _LOCAL.fullmatch(iri[len(curie_map[best]) :]):
        return f"{best}:{iri[len(curie_map[best]) :]}"
    prefix, namespace = fallback
    name, number = prefix, 1
    while name in curie_map and curie_map[name] != namespace:
        number += 1
        name = f"{prefix}{number}"
    curie_map[name] = namespace
    return f"{name}:{iri[len(namespace) :]}"


def _authors(row: Mapping, prefixes: MappingOf[str, str]) -> set[str]:
    return {_expanded(value, prefixes) for value in split_values(row.get("author_id"))}


def _adopt(slots: dict[str, str], source: MappingOf[str, str], curie_map: dict[str, str]) -> None:
    """Declare in `curie_map` the prefixes the kept slots use, taken from the candidate's set
    (a prefix whose name means another namespace here is renamed)."""
    for slot in sorted(set(slots) & ENTITY_REFERENCES):
        values = split_values(slots[slot]) if slot in MULTIVALUED else [slots[slot]]
        out = []
        for value in values:
            parts = split_curie(value)
            if parts is None or parts[0] not in source or parts[0] in BUILTIN_PREFIXES:
                out.append(value)
                continue
            prefix, namespace = parts[0], source[parts[0]]
            out.append(_curie(namespace + parts[1], curie_map, (prefix, namespace)))
        slots[slot] = "|".join(out)


@dataclass(frozen=True)
class _Context:
    """What building one row needs besides the decision."""

    curie_map: dict[str, str]
    user: str  # the user's CURIE
    today: str
    subject: str  # CURIE in the set
    obj: str


def apply_decision(
    mset: MappingSet,
    decision: Decision,
    candidate: Mapping | None,
    user_iri: str,
    today: date,
    *,
    candidate_prefixes: MappingOf[str, str] | None = None,
) -> tuple[MappingSet, Mapping, list[Mapping]]:
    """The set with the decision written in: (new set, the decided row, the rows it replaced).

    `candidate` is the row under review (a matcher's row from any set, or a row of this set),
    with its set-level values propagated into it (:func:`~kll_graph.review.setfiles.propagate`);
    `candidate_prefixes` are its set's prefixes when that is another set (by default this set's,
    and ``jt``/``ESCO`` as every set of ours declares them). With no candidate,
    this set's row for the pair is the one under review; with none either, the decision makes
    a manual mapping. ForbiddenError when the user is the author of the row under review
    (the author's own unreviewed row in this set is replaced as their new manual mapping).
    """
    curie_map = dict(mset.curie_map)
    prefixes = mset.prefixes()
    source = {**SET_PREFIXES, **(candidate_prefixes or mset.curie_map), **BUILTIN_PREFIXES}
    curie_map, user = with_user_prefix(curie_map, user_iri)
    context = _Context(
        curie_map,
        user,
        today.isoformat(),
        _curie(decision.subject_id, curie_map, _SUBJECT),
        _curie(decision.object_id, curie_map, _OBJECT),
    )
    pair = (decision.subject_id, _expanded(decision.object_id, prefixes))
    earlier = [m for m in mset.mappings if _pair(m, prefixes) == pair]
    under_review = _under_review(decision, pair, candidate, earlier, source, prefixes, user_iri)
    if decision.decision == NO_TERM:
        _refuse_no_term_beside_mappings(mset, decision, prefixes)
    row = _row(decision, under_review, source, context, _labels(decision, candidate))
    removed = earlier + _no_term_rows(mset, decision, prefixes)
    kept = [m for m in mset.mappings if not any(m is r for r in removed)]
    new = MappingSet(
        curie_map,
        dict(mset.metadata),
        [*kept, row],
        mset.path,
        mset.columns,
        mset.metadata_lines,
        mset.header_line,
        mset.notes,
    )
    return new, row, removed


def _labels(decision: Decision, candidate: Mapping | None) -> dict[str, str]:
    """The labels a row gets from the decision, else from the candidate (also when the
    candidate is the pair "no term found" dismisses: its subject is the same)."""
    labels = {"subject_label": decision.subject_label, "object_label": decision.object_label}
    if candidate is not None:
        labels["subject_label"] = labels["subject_label"] or candidate.get("subject_label")
        if decision.decision != NO_TERM:
            labels["object_label"] = labels["object_label"] or candidate.get("object_label")
    return {k: v for k, v in labels.items() if v}


def _under_review(
    decision: Decision,
    pair: tuple[str, str],
    candidate: Mapping | None,
    earlier: list[Mapping],
    source: MappingOf[str, str],
    prefixes: MappingOf[str, str],
    user_iri: str,
) -> Mapping | None:
    """The row the decision reviews, or None for a manual mapping."""
    if candidate is not None:
        if decision.decision == NO_TERM and not candidate.no_term:
            candidate = None  # the dismissed candidate is another pair
        elif _pair(candidate, source) != pair:
            raise BadRequestError(
                "the candidate row is for another pair than the decision "
                f"({candidate.get('subject_id')} {candidate.get('object_id')})",
                parameter="object_id",
            )
        elif user_iri in _authors(candidate, source):
            raise ForbiddenError("the author of a mapping may not review it")
        else:
            return candidate
    if not earlier:
        return None
    row = earlier[0]
    if user_iri in _authors(row, prefixes):
        return None  # the author's own row: decided anew as their manual mapping
    return row


def _refuse_no_term_beside_mappings(
    mset: MappingSet, decision: Decision, prefixes: MappingOf[str, str]
) -> None:
    """ "Nothing fits" contradicts an accepted mapping of the same subject in the same set."""
    for m in mset.mappings:
        subject, _object = _pair(m, prefixes)
        if subject == decision.subject_id and not m.no_term and row_status(m) in ASSERTED:
            raise ConflictError(
                f"{m.get('subject_id')} has an accepted mapping to {m.get('object_id')} in this "
                "set; reject it before deciding that no ESCO concept fits"
            )


def _no_term_rows(
    mset: MappingSet, decision: Decision, prefixes: MappingOf[str, str]
) -> list[Mapping]:
    """An accepted mapping replaces the set's "nothing fits" row of its subject."""
    if decision.decision != ACCEPT:
        return []
    return [m for m in mset.mappings if m.no_term and _pair(m, prefixes)[0] == decision.subject_id]


def _row(
    decision: Decision,
    under_review: Mapping | None,
    source: MappingOf[str, str],
    context: _Context,
    labels: dict[str, str],
) -> Mapping:
    base = {"subject_id": context.subject, "object_id": context.obj, **labels}
    if under_review is None:
        return _manual(decision, base, context)
    kept = {k: v for k, v in under_review.slots.items() if k not in _NOT_KEPT and v}
    _adopt(kept, source, context.curie_map)
    slots = {**kept, **base}
    predicate = decision.predicate_id or under_review.get("predicate_id")
    if predicate not in PREDICATES:
        raise BadRequestError(
            f"the row under review has predicate {predicate!r}; choose one of {_ALLOWED}",
            parameter="predicate_id",
        )
    slots["predicate_id"] = predicate
    slots["reviewer_id"] = context.user
    slots["review_date"] = context.today
    if decision.comment:
        slots["comment"] = decision.comment
    if decision.decision == UNSURE:
        slots["mapping_justification"] = under_review.get("mapping_justification") or REVIEW
        slots["reviewer_agreement"] = "0"
    else:
        slots["mapping_justification"] = REVIEW
    if decision.decision == REJECT:
        slots["predicate_modifier"] = "Not"
    return Mapping(slots)


def _manual(decision: Decision, base: dict[str, str], context: _Context) -> Mapping:
    if decision.decision == UNSURE:
        raise BadRequestError(
            "there is no row to be unsure about: unsure marks a candidate or an existing "
            "mapping of the pair",
            parameter="decision",
        )
    if not decision.predicate_id:
        raise BadRequestError(
            f"predicate_id is required for a new mapping; use one of {_ALLOWED}",
            parameter="predicate_id",
        )
    slots = {
        **base,
        "predicate_id": decision.predicate_id,
        "mapping_justification": MANUAL,
        "author_id": context.user,
        "mapping_date": context.today,
    }
    if decision.comment:
        slots["comment"] = decision.comment
    if decision.decision == REJECT:
        slots["predicate_modifier"] = "Not"
    return Mapping(slots)


def apply_decisions(
    mset: MappingSet,
    items: Iterable[tuple[Decision, Mapping | None]],
    user_iri: str,
    today: date,
    *,
    candidate_prefixes: MappingOf[str, str] | None = None,
) -> tuple[MappingSet, list[Mapping]]:
    """Several decisions on one set, in order (a batch: one write, one audit entry)."""
    rows = []
    for decision, candidate in items:
        mset, row, _removed = apply_decision(
            mset, decision, candidate, user_iri, today, candidate_prefixes=candidate_prefixes
        )
        rows.append(row)
    return mset, rows


# --- undo ---------------------------------------------------------------------------------------


def _pair_key(row: Row) -> tuple[str, str]:
    return row.get("subject_id", ""), row.get("object_id", "")


def _count(rows: Iterable[Row]) -> Counter[tuple[tuple[str, str], ...]]:
    return Counter(tuple(sorted(r.items())) for r in rows)


def undo(mset: MappingSet, entry: AuditEntry) -> MappingSet:
    """The set with one change taken back: the entry's rows removed, the rows it replaced
    restored. ConflictError when the pairs it touched have changed since (someone decided on
    them again): undo never overwrites a later decision."""
    if entry.action in (UNDO, "create"):
        raise BadRequestError(f"a {entry.action!r} change cannot be undone", parameter="entry")
    pairs = {_pair_key(r) for r in [*entry.before, *entry.after]}
    current = [(m, row_dict(m.slots)) for m in mset.mappings]
    touched = [row for _m, row in current if _pair_key(row) in pairs]
    if _count(touched) != _count(entry.after):
        raise ConflictError(
            "the rows this change wrote have been changed since; undo would overwrite that",
            changes=[entry.to_json()],
        )
    kept = [m for m, row in current if _pair_key(row) not in pairs]
    restored = [Mapping(dict(row)) for row in entry.before]
    return MappingSet(
        dict(mset.curie_map),
        dict(mset.metadata),
        [*kept, *restored],
        mset.path,
        mset.columns,
        mset.metadata_lines,
        mset.header_line,
        mset.notes,
    )


# --- wired to the set files ---------------------------------------------------------------------


def decide(
    files: SetFiles,
    decision: Decision,
    candidate: Mapping | None,
    user_iri: str,
    if_match: str | None,
    *,
    today: date | None = None,
    request_id: str = "",
    candidate_prefixes: MappingOf[str, str] | None = None,
) -> tuple[ChangeResult, Mapping]:
    """Write one decision into its set (read-check-write, audited); returns the change and
    the row as written."""
    written: list[Mapping] = []

    def edit(mset: MappingSet) -> MappingSet:
        new, row, _removed = apply_decision(
            mset,
            decision,
            candidate,
            user_iri,
            today or date.today(),
            candidate_prefixes=candidate_prefixes,
        )
        written.append(row)
        return new

    result = files.change(
        decision.set,
        if_match,
        edit,
        who=user_iri,
        request_id=request_id,
        action=decision.decision,
    )
    return result, _as_written(result.mset, written[0])


def decide_batch(
    files: SetFiles,
    name: str,
    items: list[tuple[Decision, Mapping | None]],
    user_iri: str,
    if_match: str | None,
    *,
    today: date | None = None,
    request_id: str = "",
    candidate_prefixes: MappingOf[str, str] | None = None,
) -> tuple[ChangeResult, list[Mapping]]:
    """Write several decisions on one set as one change: one audit entry (with a batch id),
    so one undo takes them all back."""
    if any(d.set != name for d, _c in items):
        raise BadRequestError("every decision of a batch must be for the same set", parameter="set")
    written: list[Mapping] = []

    def edit(mset: MappingSet) -> MappingSet:
        new, rows = apply_decisions(
            mset, items, user_iri, today or date.today(), candidate_prefixes=candidate_prefixes
        )
        written.extend(rows)
        return new

    result = files.change(
        name,
        if_match,
        edit,
        who=user_iri,
        request_id=request_id,
        action="batch",
        batch=uuid.uuid4().hex,
    )
    return result, [_as_written(result.mset, row) for row in written]


def undo_last(
    files: SetFiles, name: str, user_iri: str, if_match: str | None, *, request_id: str = ""
) -> ChangeResult:
    """Take back the user's latest change of a set (NotFoundError when there is none)."""
    entry = files.audit.last_entry_by(check_set_name(name), user_iri)
    if entry is None:
        raise NotFoundError(f"nothing of yours to undo in mapping set {name!r}")
    return files.change(
        name,
        if_match,
        lambda mset: undo(mset, entry),
        who=user_iri,
        request_id=request_id,
        action=UNDO,
        undoes=entry.id,
    )


def _as_written(mset: MappingSet, row: Mapping) -> Mapping:
    """The written set's row of the same pair (numbers and lists as the file has them)."""
    wanted = (row.get("subject_id"), row.get("object_id"))
    for m in mset.mappings:
        if (m.get("subject_id"), m.get("object_id")) == wanted:
            return m
    return row


def row_json(mapping: Mapping) -> dict[str, str]:
    """A row for the JSON API: its slots and its review status."""
    return {**mapping.slots, "status": row_status(mapping)}
