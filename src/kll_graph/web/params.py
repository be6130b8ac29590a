"""Query parameters, read one way for every route.

Pages and API must agree: `/search?include_deprecated=…` and `/api/v1/search?include_deprecated=…`
take the same values and refuse the same ones, each refusal a 400 (:class:`BadRequestError`)
naming the parameter, the value given and what is accepted. So every view reads its parameters
through these small functions instead of parsing `request.args` itself:

- :func:`int_param` (`limit`, `offset`) and :func:`page_param` (`page`, `narrower_page` …): an
  absent parameter is the default; anything else must be a whole number in the range;
- :func:`bool_param` (`include_deprecated`): `true` or `false` (in any case), as OpenAPI writes a
  boolean in a query. There is no alias: `1`, `on`, `yes` or an empty value are refused on the
  pages as in the API, with a message saying to send `true` (the pages' forms send `true`);
- :func:`list_param` (`scheme`, `type`): repeated and/or comma-separated, values kept as given
  (an empty value is left for the lookup to refuse as unknown, not silently dropped);
- :func:`single_value` and :func:`values` for parameter pairs a view decoded itself (the
  SPARQL Protocol reads the URL and a form body together);
- :func:`ui_language` and :func:`safe_ui_language`: the interface language (`?lang=`, the
  cookie, `Accept-Language`), the same on the lookup pages, the sign-in page and the workbench;
- :func:`served_build`: the build this request is answered from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import overload

from flask import g, request

from kll_graph.concepts.browse import MAX_PAGE_NUMBER
from kll_graph.exceptions import BadRequestError
from kll_graph.store import ServedBuild
from kll_graph.web import i18n
from kll_graph.web.context import current_store

#: A whole number as a query may give it: ASCII digits, a leading minus (so that `-1` gets the
#: range in its message) and no more digits than any of our ranges needs.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")
#: How much of a refused value a message repeats.
_SHOWN = 50


def served_build() -> ServedBuild:
    """The build this request is answered from (StoreNotFoundError before the first build)."""
    return current_store().get()


@overload
def text_param(name: str) -> str | None: ...
@overload
def text_param(name: str, default: str) -> str: ...


def text_param(name: str, default: str | None = None) -> str | None:
    """A text parameter as given (the first when repeated), or `default` when absent."""
    return request.args.get(name, default)


def ui_language() -> str:
    """The interface language of this request, chosen once and kept on `g` (with whether it
    was explicit, so the pages remember it in a cookie); an unknown `?lang=` is a 400."""
    if "ui_lang" not in g:
        lang, explicit = i18n.choose_language(
            text_param("lang"),
            request.cookies.get(i18n.COOKIE),
            request.headers.get("Accept-Language"),
        )
        g.ui_lang, g.lang_explicit = lang, explicit
    return str(g.ui_lang)


def safe_ui_language() -> str:
    """The interface language for pages that must answer whatever `?lang=` says (error pages,
    the sign-in page): an unknown value falls back to the browser's language, then Swedish."""
    try:
        return ui_language()
    except BadRequestError:
        lang = i18n.from_accept_language(request.headers.get("Accept-Language"))
        g.ui_lang, g.lang_explicit = lang or i18n.DEFAULT_LANGUAGE, False
        return str(g.ui_lang)


def int_param(name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    """A whole-number parameter from `minimum` to `maximum` (no upper bound when None).

    Absent is `default`; present, it must be a whole number in the range (surrounding spaces
    allowed): an empty value, `ten`, `2.5` or one out of range is a BadRequestError.
    """
    raw = request.args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if _WHOLE_NUMBER.fullmatch(text):
        value = int(text)
        if value >= minimum and (maximum is None or value <= maximum):
            return value
    accepted = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
    raise BadRequestError(
        f"'{name}' must be a whole number {accepted}, got {raw[:_SHOWN]!r}", parameter=name
    )


def page_param(name: str = "page") -> int:
    """A page number a pager links to: 1 when absent, else from 1 to `MAX_PAGE_NUMBER`."""
    return int_param(name, 1, minimum=1, maximum=MAX_PAGE_NUMBER)


def bool_param(name: str, default: bool = False) -> bool:
    """A boolean parameter: `true` or `false` in any case (absent is `default`); anything else,
    `1`, `on` and an empty value included, is a BadRequestError saying what is accepted."""
    raw = request.args.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in {"true", "false"}:
        return value == "true"
    raise BadRequestError(
        f"'{name}' must be true or false, got {raw[:_SHOWN]!r}; send {name}=true or leave it out",
        parameter=name,
    )


def list_param(name: str) -> list[str]:
    """A repeatable parameter, also accepting comma-separated values: `type=a&type=b,c` is
    `["a", "b", "c"]`. Values are kept as given; an empty one (`type=`) stays in the list for
    the caller to report, not a filter silently dropped."""
    return [value for raw in request.args.getlist(name) for value in raw.split(",")]


def values(pairs: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Every value of `name` among decoded parameter pairs, in order."""
    return [value for key, value in pairs if key == name]


def single_value(pairs: Sequence[tuple[str, str]], name: str) -> str | None:
    """The one value of `name` among decoded parameter pairs (None when absent); given more
    than once, a BadRequestError."""
    found = values(pairs, name)
    if len(found) > 1:
        raise BadRequestError(
            f"the '{name}' parameter was given {len(found)} times; give it once",
            parameter=name,
        )
    return found[0] if found else None
