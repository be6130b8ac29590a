"""Reconciliation queries as both versions send them, read into one shape (:class:`Query`).

Version 0.2 sends an object of queries keyed by id (`{"q0": {"query", "type", "type_strict",
"limit", "properties": [{"pid", "v"}]}}`); the 1.0 draft sends `{"queries": [{"type", "limit",
"lang", "conditions": [{"matchType", "propertyId", "propertyValue", "required",
"matchQuantifier", "matchQualifier"}]}]}`. Each is checked against its version's schema as the
official JSON schemas state it: what a schema forbids (a misspelt key in a query, a missing query
text and properties, an empty `conditions`, a type list in 1.0) is a 400 naming the place; what a
schema leaves open (keys beside a condition, keys beside `queries`) is ignored, but a
`matchQualifier` we do not support (see :data:`QUALIFIERS`) is a 400 rather than ignored. A query
string that is blank or absurdly long is not an error: it gets an empty candidate list, so one bad
cell never fails a batch of a thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kll_graph.exceptions import BadRequestError, RequestTooLargeError

#: The most queries one batch may hold (announced as `batchSize`; more is a 413).
MAX_BATCH = 1000
#: The most candidates one query may ask for, and how many it gets when it does not say.
MAX_LIMIT = 50
DEFAULT_LIMIT = 10
#: Longest query text that is looked up; a longer one matches nothing.
MAX_TEXT = 200
#: Values of one property condition.
MAX_VALUES = 50

_QUERY_KEYS_02 = frozenset({"query", "type", "limit", "properties", "type_strict"})
_QUERY_KEYS_10 = frozenset({"type", "limit", "lang", "dir", "conditions"})
_STRICT = ("any", "should", "all")
#: The 1.0 draft's `matchQualifier` values we support (the ones its examples use). ExactMatch: a
#: value equals an id, URI, code or preferred label as written; WildcardMatch: `*` and `?` in the
#: value, case aside. Any other qualifier is a 400, never silently ignored.
QUALIFIERS = ("ExactMatch", "WildcardMatch")


@dataclass(frozen=True)
class Value:
    """One property value: an entity id (an already reconciled cell) and/or a text."""

    id: str | None
    text: str | None


@dataclass(frozen=True)
class Condition:
    """A property to agree with: its id, values, and how they must agree (1.0 semantics)."""

    pid: str
    values: tuple[Value, ...]
    required: bool = False
    quantifier: str = "any"
    qualifier: str | None = None


@dataclass(frozen=True)
class Query:
    """One reconciliation query, version-neutral."""

    key: str
    text: str | None
    types: tuple[str, ...] = ()
    type_strict: str | None = None
    limit: int = DEFAULT_LIMIT
    lang: str | None = None
    ids: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = field(default_factory=tuple)


def _bad(message: str, where: str) -> BadRequestError:
    return BadRequestError(message, parameter=where)


def _check_size(count: int) -> None:
    if count > MAX_BATCH:
        raise RequestTooLargeError(
            f"the batch holds {count:,} queries; at most {MAX_BATCH:,} per request (batchSize)"
        )


def _limit(value: Any, where: str) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"'{where}' must be a number", where)
    if value != int(value) or not 1 <= value <= MAX_LIMIT:
        raise _bad(f"'{where}' must be a whole number from 1 to {MAX_LIMIT}, got {value}", where)
    return int(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"'{where}' must be a string", where)
    return value


def _value(item: Any, where: str) -> Value:
    if isinstance(item, bool):
        return Value(None, "true" if item else "false")
    if isinstance(item, int | float):
        return Value(None, str(int(item)) if item == int(item) else str(item))
    if isinstance(item, str):
        return Value(None, item)
    if isinstance(item, dict):
        entity = item.get("id")
        if not isinstance(entity, str):
            raise _bad(f"'{where}.id' must be a string", f"{where}.id")
        name = item.get("name")
        return Value(entity, name if isinstance(name, str) else None)
    raise _bad(f"'{where}' must be a string, number, boolean or {{id, name}}", where)


def _values(raw: Any, where: str) -> tuple[Value, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if len(items) > MAX_VALUES:
        raise _bad(f"'{where}' holds {len(items)} values; at most {MAX_VALUES}", where)
    return tuple(_value(item, f"{where}[{i}]") for i, item in enumerate(items))


def _qualifier(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if raw not in QUALIFIERS:
        raise _bad(
            f"'{where}' {raw!r} is not supported; supported: {', '.join(QUALIFIERS)} "
            "(or none, for the default matching of ids, codes and labels)",
            where,
        )
    return str(raw)


def parse_batch_02(batch: Any) -> list[Query]:
    """A 0.2 query batch ({"q0": {...}, ...}); a BadRequestError names what is wrong."""
    if not isinstance(batch, dict):
        raise _bad("the queries must be a JSON object of queries keyed by id", "queries")
    _check_size(len(batch))
    return [_query_02(str(key), item) for key, item in batch.items()]


def _query_02(key: str, item: Any) -> Query:
    if not isinstance(item, dict):
        raise _bad(f"query '{key}' must be an object", key)
    unknown = sorted(set(item) - _QUERY_KEYS_02)
    if unknown:
        raise _bad(
            f"query '{key}' has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(_QUERY_KEYS_02))}",
            f"{key}.{unknown[0]}",
        )
    properties = item.get("properties")
    if "query" not in item and not (isinstance(properties, list) and properties):
        raise _bad(f"query '{key}' needs 'query' or a non-empty 'properties'", key)
    text = _text(item["query"], f"{key}.query") if "query" in item else None
    raw_type = item.get("type")
    if raw_type is None:
        types: tuple[str, ...] = ()
    elif isinstance(raw_type, str):
        types = (raw_type,)
    elif isinstance(raw_type, list) and all(isinstance(t, str) for t in raw_type):
        types = tuple(raw_type)
    else:
        raise _bad(f"'{key}.type' must be a string or a list of strings", f"{key}.type")
    strict = item.get("type_strict")
    if strict is not None and strict not in _STRICT:
        raise _bad(f"'{key}.type_strict' must be one of {', '.join(_STRICT)}", f"{key}.type_strict")
    conditions: list[Condition] = []
    if properties is not None:
        if not isinstance(properties, list):
            raise _bad(f"'{key}.properties' must be a list", f"{key}.properties")
        for i, prop in enumerate(properties):
            where = f"{key}.properties[{i}]"
            if not isinstance(prop, dict) or "pid" not in prop or "v" not in prop:
                raise _bad(f"'{where}' must be an object with 'pid' and 'v'", where)
            conditions.append(
                Condition(_text(prop["pid"], f"{where}.pid"), _values(prop["v"], f"{where}.v"))
            )
    return Query(
        key=key,
        text=text,
        types=types,
        type_strict=strict,
        limit=_limit(item.get("limit"), f"{key}.limit"),
        conditions=tuple(conditions),
    )


def parse_batch_10(body: Any) -> list[Query]:
    """A 1.0-draft query batch ({"queries": [...]}); a BadRequestError names what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise _bad("the body must be a JSON object with a 'queries' list", "queries")
    items = body["queries"]
    _check_size(len(items))
    return [_query_10(i, item) for i, item in enumerate(items)]


def _query_10(i: int, item: Any) -> Query:
    where = f"queries[{i}]"
    if not isinstance(item, dict):
        raise _bad(f"'{where}' must be an object", where)
    unknown = sorted(set(item) - _QUERY_KEYS_10)
    if unknown:
        raise _bad(
            f"'{where}' has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(_QUERY_KEYS_10))}",
            f"{where}.{unknown[0]}",
        )
    raw = item.get("conditions")
    if not isinstance(raw, list) or not raw:
        raise _bad(f"'{where}.conditions' must be a non-empty list", f"{where}.conditions")
    raw_type = item.get("type")
    if raw_type is not None and not isinstance(raw_type, str):
        raise _bad(f"'{where}.type' must be one type id (a string)", f"{where}.type")
    lang = item.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise _bad(f"'{where}.lang' must be a language tag", f"{where}.lang")
    names: list[str] = []
    ids: list[str] = []
    conditions: list[Condition] = []
    for n, cond in enumerate(raw):
        at = f"{where}.conditions[{n}]"
        if not isinstance(cond, dict) or "matchType" not in cond or "propertyValue" not in cond:
            raise _bad(f"'{at}' must be an object with 'matchType' and 'propertyValue'", at)
        kind = cond["matchType"]
        values = _values(cond["propertyValue"], f"{at}.propertyValue")
        required = cond.get("required", False)
        quantifier = cond.get("matchQuantifier", "any")
        if not isinstance(required, bool):
            raise _bad(f"'{at}.required' must be true or false", f"{at}.required")
        if quantifier not in ("any", "all", "none"):
            raise _bad(f"'{at}.matchQuantifier' must be any, all or none", f"{at}.matchQuantifier")
        if kind == "name":
            names.extend(v.text or v.id or "" for v in values)
        elif kind == "id":
            ids.extend(v.id or v.text or "" for v in values)
        elif kind == "property":
            pid = cond.get("propertyId")
            if not isinstance(pid, str):
                raise _bad(f"'{at}.propertyId' is required for matchType property", at)
            qualifier = _qualifier(cond.get("matchQualifier"), f"{at}.matchQualifier")
            conditions.append(Condition(pid, values, required, quantifier, qualifier))
        else:
            raise _bad(f"'{at}.matchType' must be name, id or property", f"{at}.matchType")
    return Query(
        key=str(i),
        text=" ".join(names) if names else None,
        types=(raw_type,) if raw_type else (),
        limit=_limit(item.get("limit"), f"{where}.limit"),
        lang=lang,
        ids=tuple(ids),
        conditions=tuple(conditions),
    )


def lookup_text(query: Query) -> str | None:
    """The text to look up, or None when it is blank or longer than MAX_TEXT."""
    text = (query.text or "").strip()
    return text if text and len(text) <= MAX_TEXT else None


def all_texts(queries: Sequence[Query]) -> list[str | None]:
    return [lookup_text(q) for q in queries]
