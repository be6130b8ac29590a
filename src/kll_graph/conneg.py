"""Content negotiation in one place: parse `Accept`, pick the best offered media type, or refuse.

Every surface that answers in more than one format (SPARQL results, concept pages, the API) asks
:func:`choose` with the media types it can produce, best first. The rules follow RFC 9110 §12.5.1:
the most specific media range that matches an offered type sets its quality; `q=0` means "not
acceptable"; among equal qualities the server's order wins. A missing or empty `Accept` accepts
anything, so the first offered type is chosen. Nothing acceptable raises NotAcceptableError (406),
whose message lists what is offered. Responses that depend on `Accept` must carry `Vary: Accept`
(:data:`VARY`, :func:`add_vary`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kll_graph.exceptions import NotAcceptableError

#: The request header the negotiated responses vary on.
VARY = "Accept"


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header: `type/subtype` (either may be `*`), parameters and q."""

    type: str
    subtype: str
    q: float = 1.0
    params: tuple[tuple[str, str], ...] = field(default=())

    @property
    def specificity(self) -> int:
        """How specific the range is: `*/*` 0, `type/*` 1, `type/subtype` 2, plus parameters."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 2 + len(self.params)

    def matches(self, media_type: str) -> bool:
        """Whether an offered type (with optional parameters) falls in this range.

        >>> MediaRange("text", "*").matches("text/turtle")
        True
        >>> MediaRange("application", "json").matches("application/ld+json")
        False
        >>> MediaRange("text", "plain", params=(("charset", "utf-8"),)).matches("text/plain")
        False
        """
        kind, params = split_media_type(media_type)
        type_, _, subtype = kind.partition("/")
        if self.type != "*" and self.type != type_:
            return False
        if self.subtype != "*" and self.subtype != subtype:
            return False
        offered = dict(params)
        return all(offered.get(key) == value for key, value in self.params)


def split_media_type(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`type/subtype; k=v` as (lower-cased type, parameters) with quotes removed.

    >>> split_media_type('Text/Turtle; charset="UTF-8"')
    ('text/turtle', (('charset', 'UTF-8'),))
    """
    head, *rest = value.split(";")
    params: list[tuple[str, str]] = []
    for part in rest:
        key, sep, val = part.partition("=")
        if sep and key.strip():
            params.append((key.strip().lower(), val.strip().strip('"')))
    return head.strip().lower(), tuple(params)


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header, in header order; malformed entries are skipped.

    A q-value that is not a number in [0, 1] makes its entry unusable, so it is skipped too (it
    neither accepts nor refuses anything) rather than failing the whole request.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/html;q=0.5, application/json")]
    [('text', 'html', 0.5), ('application', 'json', 1.0)]
    >>> parse_accept("garbage, */*;q=x")
    []
    """
    ranges: list[MediaRange] = []
    for item in (header or "").split(","):
        if not item.strip():
            continue
        kind, params = split_media_type(item)
        type_, slash, subtype = kind.partition("/")
        if not slash or not type_ or not subtype or (type_ == "*" and subtype != "*"):
            continue
        q = 1.0
        kept: list[tuple[str, str]] = []
        usable = True
        for key, value in params:
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    usable = False
                    break
                if not 0.0 <= q <= 1.0:
                    usable = False
                    break
            else:
                kept.append((key, value))
        if usable:
            ranges.append(MediaRange(type_, subtype, q, tuple(kept)))
    return ranges


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """The quality a client gives an offered type: that of the most specific matching range."""
    best: MediaRange | None = None
    for media_range in ranges:
        if media_range.matches(media_type) and (
            best is None or media_range.specificity > best.specificity
        ):
            best = media_range
    return best.q if best is not None else 0.0


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """The best offered media type for an Accept header, or None when none is acceptable.

    >>> negotiate("text/turtle;q=0.9, application/ld+json", ["text/turtle", "application/ld+json"])
    'application/ld+json'
    >>> negotiate("*/*", ["text/turtle", "application/ld+json"])
    'text/turtle'
    >>> negotiate("text/*, text/csv;q=0", ["text/csv", "text/tab-separated-values"])
    'text/tab-separated-values'
    >>> negotiate("image/png", ["text/turtle"]) is None
    True
    """
    if accept is not None and len(accept) > MEMO_ACCEPT_CHARS:
        return _decide(accept, tuple(offered))
    return _memo(accept, tuple(offered))


#: Longest Accept header whose negotiation is remembered (browsers and SPARQL clients send
#: 100 to 300 characters); longer ones are parsed on every request.
MEMO_ACCEPT_CHARS = 512
#: How many (Accept, offered types) negotiations are remembered.
MEMO_SIZE = 1024


def _decide(accept: str | None, offered: tuple[str, ...]) -> str | None:
    if not offered:
        return None
    ranges = parse_accept(accept)
    if not ranges:
        # Absent, empty, or nothing usable in it: the client states no preference.
        return offered[0]
    best_type: str | None = None
    best_q = 0.0
    for media_type in offered:
        q = quality(ranges, media_type)
        if q > best_q:
            best_type, best_q = media_type, q
    return best_type


# Clients send the same few Accept headers over and over, and parsing one costs as much as a
# cheap query's other Python work, so decisions are remembered. The header is the client's:
# bounding the count alone would let 1,024 headers of the HTTP layer's maximum size stay in
# memory, so only headers up to MEMO_ACCEPT_CHARS are remembered (at most about
# MEMO_SIZE * 4 * MEMO_ACCEPT_CHARS = 2 MiB of keys, the offered tuples being our own).
_memo = functools.lru_cache(maxsize=MEMO_SIZE)(_decide)


def choose(accept: str | None, offered: Sequence[str]) -> str:
    """Like :func:`negotiate`, but raise NotAcceptableError (406) naming the offered types."""
    chosen = negotiate(accept, offered)
    if chosen is None:
        raise NotAcceptableError(
            f"none of the types in the Accept header ({accept}) can be produced here; "
            f"available: {', '.join(offered)}",
            offered=tuple(offered),
        )
    return chosen


class HeaderMap(Protocol):
    """What :func:`add_vary` needs of headers: a dict, or a response's werkzeug ``Headers``."""

    def get(self, key: str, default: str, /) -> str: ...
    def __setitem__(self, key: str, value: str, /) -> None: ...


def add_vary(headers: HeaderMap, name: str = VARY) -> None:
    """Add a header name to `Vary` without repeating it.

    >>> h = {"Vary": "Origin"}
    >>> add_vary(h); h["Vary"]
    'Origin, Accept'
    >>> add_vary(h); h["Vary"]
    'Origin, Accept'
    """
    present = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if name.lower() not in {v.lower() for v in present}:
        present.append(name)
    headers["Vary"] = ", ".join(present)
