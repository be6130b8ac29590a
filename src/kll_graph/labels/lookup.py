"""Lookups as the API offers them: validated input, plain dicts out; and the index of a build.

:func:`index_for` gives the index of a served build, loaded (or, for a build without an index
file, compiled) once per build. :func:`autocomplete`, :func:`search` and :func:`resolve` check
what a user sent against the limits below, ask the index and return JSON-ready dicts; a bad
parameter is a BadRequestError naming it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kll_graph.exceptions import BadRequestError
from kll_graph.labels.compile import build_index
from kll_graph.labels.index import Filters, LabelIndex
from kll_graph.labels.layout import INDEX_FILE

if TYPE_CHECKING:
    from kll_graph.store import ServedBuild

#: Longest query text accepted (characters).
MAX_QUERY_LENGTH = 200
#: Most results one autocomplete or resolve candidate list, and one search page, holds.
MAX_AUTOCOMPLETE = 50
MAX_SEARCH_PAGE = 100
MAX_OFFSET = 10_000
MAX_BATCH = 1000
MAX_CANDIDATES = 10


# --- the index of a build -------------------------------------------------------------------------


def index_for(served: ServedBuild) -> LabelIndex:
    """The label index of a served build, loaded once per build (kept with it by
    :meth:`~kll_graph.store.ServedBuild.memo`).

    A new build has a new directory, so its index is loaded together with its store. A build
    without an index file (made before the index existed) or with one of another format gets one
    built in memory.
    """
    return served.memo("labels.index", lambda: _load_or_build(served))


def _load_or_build(served: ServedBuild) -> LabelIndex:
    file = served.path / INDEX_FILE
    index = LabelIndex.load(file) if file.is_file() else None
    if index is None:
        base = served.manifest.base_iri
        sources = {g.iri: g.source for g in served.manifest.graphs}
        index = build_index(served.store, base, sources)
    return index


# --- lookups --------------------------------------------------------------------------------------


#: A character that makes a query text not blank. The same pattern is the `pattern` of the query
#: parameters in the OpenAPI description, where JSON Schema reads it as an ECMA-262 regex: each
#: dialect's `\s` misses spaces the other counts (Python: U+FEFF; ECMA-262: U+001C to U+001F,
#: U+0085), so naming them makes both read the same set and a schema-valid query is never blank.
NONBLANK_PATTERN = r"[^\s\x1c-\x1f\x85\ufeff]"
_NONBLANK = re.compile(NONBLANK_PATTERN)


def check_query(q: str | None, parameter: str = "q") -> str:
    """A query text as given, or a BadRequestError when it is missing, blank or too long."""
    if q is None or not _NONBLANK.search(q):
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
