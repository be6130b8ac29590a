"""Dereferencing concept URIs (W3C "Cool URIs for the Semantic Web", the 303 way).

A concept URI names a thing, not a document, so asking for it answers `303 See Other` pointing
at a document about it: the HTML page for people, an RDF document for machines, the JSON
document for apps, chosen by `Accept` (see :mod:`kll_graph.conneg`). The service does this at
`/resource?uri=<URI>` wherever it runs, and, when it is deployed at the host of the concept URIs
(say behind `data.jobtechdev.se` at `/taxonomy/concept/`), at the URI path itself: the setting
`uri_spaces` lists the URI prefixes it answers for.

No HTTP here: the web layer passes in the path, host and Accept header.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from kll_graph import conneg
from kll_graph.concepts import rdfdoc
from kll_graph.exceptions import ConfigError

HTML = "text/html"
JSON = "application/json"
#: What a concept URI can be answered with, best first (the server's order breaks ties, so a
#: client stating no preference, or `*/*`, gets the HTML page).
OFFERED: tuple[str, ...] = (HTML, *rdfdoc.MEDIA_TYPES, JSON)


@dataclass(frozen=True)
class UriSpace:
    """A URI prefix the service answers for at its path (e.g. `/taxonomy/concept/`)."""

    prefix: str

    @property
    def host(self) -> str:
        return urlsplit(self.prefix).netloc.lower()

    @property
    def path(self) -> str:
        return urlsplit(self.prefix).path


def parse_uri_spaces(text: str) -> tuple[UriSpace, ...]:
    """The `uri_spaces` setting: URI prefixes separated by commas or whitespace.

    >>> [s.path for s in parse_uri_spaces("http://data.jobtechdev.se/taxonomy/concept/")]
    ['/taxonomy/concept/']
    >>> parse_uri_spaces("")
    ()
    >>> parse_uri_spaces("ftp://x/")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kll_graph.exceptions.ConfigError: uri_spaces: 'ftp://x/' is not an http(s) URI prefix ...
    """
    spaces = []
    for item in text.replace(",", " ").split():
        parts = urlsplit(item)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.netloc
            or not parts.path.startswith("/")
            or not parts.path.endswith("/")
            or parts.query
            or parts.fragment
        ):
            raise ConfigError(
                f"uri_spaces: {item!r} is not an http(s) URI prefix with a path ending in '/' "
                "(e.g. http://data.jobtechdev.se/taxonomy/concept/)"
            )
        spaces.append(UriSpace(item))
    return tuple(spaces)


def uri_for_path(spaces: tuple[UriSpace, ...], host: str, path: str) -> str | None:
    """The concept URI a request path stands for, or None when it is in no URI space.

    A space whose host is the request's host wins; otherwise the first whose path fits (behind a
    proxy the Host header may be the proxy's own). The path must name something below the prefix.

    >>> spaces = parse_uri_spaces("http://data.jobtechdev.se/taxonomy/concept/")
    >>> uri_for_path(spaces, "localhost:8000", "/taxonomy/concept/abc_123")
    'http://data.jobtechdev.se/taxonomy/concept/abc_123'
    >>> uri_for_path(spaces, "localhost:8000", "/taxonomy/concept/") is None
    True
    >>> uri_for_path(spaces, "localhost:8000", "/other/abc") is None
    True
    """
    fitting = [s for s in spaces if path.startswith(s.path) and len(path) > len(s.path)]
    if not fitting:
        return None
    same_host = [s for s in fitting if s.host == host.lower()]
    space = max(same_host or fitting, key=lambda s: len(s.path))
    return space.prefix + path[len(space.path) :]


def choose_representation(accept: str | None) -> str:
    """The media type a concept URI is answered with for an Accept header (406 when none).

    >>> choose_representation("text/html,application/xhtml+xml,*/*;q=0.8")
    'text/html'
    >>> choose_representation("text/turtle")
    'text/turtle'
    >>> choose_representation("application/rdf+xml;q=0.9, application/ld+json")
    'application/ld+json'
    >>> choose_representation(None)
    'text/html'
    """
    return conneg.choose(accept, OFFERED)
