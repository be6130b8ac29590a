"""JSON request bodies, parsed only once they are known to be shallow enough.

Python's JSON parser recurses once per nested array or object: a body nested 100,000 deep (200 KB,
well inside `max_request_bytes`) makes it raise RecursionError, which was a 500. So every JSON
body goes through :func:`loads` here, which first measures the nesting depth with a linear scan
that cannot recurse (the contents of strings skipped: a bracket inside a string is text, not
structure) and refuses a body deeper than `max_json_depth` with a 400 naming the limit; only then
does it hand the text to the parser. Bytes that are not UTF-8 and text that is not JSON are 400s
too, each saying where it failed. Every error is a :class:`BadRequestError` for the `body`
parameter, so it reaches the client in the one JSON error shape.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from kll_graph.exceptions import BadRequestError
from kll_graph.web.context import current_settings, request_body

#: A JSON string once its escaped backslashes and quotes are gone; an unterminated one runs to
#: the end of the text. One character class, so matching never backtracks.
_STRING = re.compile(rb'"[^"]*"?')
#: Every byte that is not a bracket, deleted before the depth is summed.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
#: How each byte changes the depth.
_STEP = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))


def depth(data: bytes) -> int:
    r"""The deepest nesting of arrays and objects in JSON text; brackets in strings do not count.

    Linear in the length of the text and without recursion (about 50 ms for 1 MB of brackets,
    the worst case). In UTF-8 a byte below 0x80 is always that ASCII character, so the bytes can be
    scanned before they are decoded. Escapes are dropped first, pairs of backslashes before escaped
    quotes, as a JSON parser reads them left to right; what is left of a string then ends at its
    next quote. Where the text stops being JSON the count may differ from any parser's, but the
    parser stops there too: up to that point both read the same structure.

    >>> depth(b'{"a": [1, {"b": []}]}')
    4
    >>> depth(b'["[[[[", {"k]": "{{ \\" [["}]')
    2
    >>> depth(b'["a\\\\", "[[", "\\\\\\"[["]')
    1
    >>> depth(b'"plain"'), depth(b"")
    (0, 0)
    >>> depth(b"[" * 100_000)
    100000
    """
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", unescaped).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets), initial=0))


def loads(data: bytes, max_depth: int) -> Any:
    r"""The JSON value of a request body; BadRequestError (400) when it is empty, not UTF-8,
    nested deeper than `max_depth`, or not JSON, saying where.

    >>> loads(b'{"queries": ["nurse"]}', 32)
    {'queries': ['nurse']}
    >>> loads(b"[[[[1]]]]", 3)
    Traceback (most recent call last):
    ...
    kll_graph.exceptions.BadRequestError: the JSON body is nested 4 levels deep; the limit is 3 (setting max_json_depth)
    >>> loads(b'{"q": "caf\xe9"}', 32)
    Traceback (most recent call last):
    ...
    kll_graph.exceptions.BadRequestError: the body is not UTF-8: byte 10 (0xe9): invalid continuation byte
    >>> loads(b'{"queries": [', 32)
    Traceback (most recent call last):
    ...
    kll_graph.exceptions.BadRequestError: the body is not valid JSON: Expecting value: line 1 column 14 (char 13)
    """  # noqa: E501
    if not data.strip():
        raise BadRequestError("the body is empty; send a JSON document", parameter="body")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequestError(
            f"the body is not UTF-8: byte {exc.start} (0x{data[exc.start]:02x}): {exc.reason}",
            parameter="body",
        ) from None
    found = depth(data)
    if found > max_depth:
        raise BadRequestError(
            f"the JSON body is nested {found:,} levels deep; the limit is {max_depth} "
            "(setting max_json_depth)",
            parameter="body",
        )
    try:
        return json.loads(text.removeprefix("\ufeff"))  # RFC 8259 lets a parser ignore a BOM
    except json.JSONDecodeError as exc:
        # the parser's own words name the line, column and character where it stopped
        raise BadRequestError(f"the body is not valid JSON: {exc}", parameter="body") from None
    except RecursionError:  # only when max_json_depth is set above what the parser can take
        raise BadRequestError(
            f"the JSON body is nested too deeply to parse (setting max_json_depth is {max_depth})",
            parameter="body",
        ) from None


def request_json() -> Any:
    """The current request's body as JSON, within `max_request_bytes` and `max_json_depth`."""
    return loads(request_body(), current_settings().max_json_depth)
