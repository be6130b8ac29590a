"""Whole responses to repeated GET requests, answered before Flask sees them.

Apps send the same lookups and the same SPARQL queries over and over. Even when the answer
itself is cached, Flask's request handling costs about 0.4 ms of CPU per request here, more than
the Rust HTTP server and a dictionary lookup together; on two cores that halves the requests per
second. So this WSGI middleware keeps the 200 responses (status, headers, body) of views that
declared them cacheable with :func:`cacheable`, and answers a repeat of the same request from
memory.

A response may be declared cacheable only when it depends on nothing but the build, the path, the
query string, `Accept`, and the host it was asked at: those, with the build id, are the key. So a
new build is never answered with an old response, and a format chosen by `Accept` stays with its
`Accept`. Conditional and range requests go to the app, which answers 304s itself.

All of the key but the build is the client's to choose and may be large (a query string can be
up to `max_request_bytes`, an `Accept` header kilobytes), so the key is kept as its SHA-256
digest, and an entry counts its digest, its status, its headers and its body against the budget
(:mod:`kll_graph.lru`): distinct large requests with small answers cannot outgrow it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import request

from kll_graph.exceptions import KllError
from kll_graph.lru import ENTRY_BYTES, Digest, KeepingBody, SizedLru, digest
from kll_graph.store import BuildSource

#: The WSGI environ key a view sets to let its response be kept.
FLAG = "kll.cacheable"
#: The WSGI environ key the middleware sets on requests whose response it may keep.
ELIGIBLE = "kll.response_cache"
#: Largest body kept.
ITEM_BYTES = 1 << 20
#: Requests with these headers are always passed to the app.
_PASS_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
    "HTTP_IF_RANGE",
)

Response = tuple[str, list[tuple[str, str]], bytes]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def cacheable() -> None:
    """Declare the response of the current request reusable for the same request (see module)."""
    request.environ[FLAG] = True


def will_keep() -> bool:
    """Whether the response of the current request is kept if its view calls :func:`cacheable`
    (the middleware is on, and the request is a GET that is not conditional)."""
    return bool(request.environ.get(ELIGIBLE))


class ResponseCache:
    """The middleware: wrap `app.wsgi_app`, keep up to `max_bytes` of responses."""

    def __init__(self, app: WsgiApp, current: BuildSource, max_bytes: int) -> None:
        self.app = app
        self.current = current
        self.responses: SizedLru[Response] = SizedLru(
            max_bytes, ITEM_BYTES, entry_bytes=ENTRY_BYTES
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        key = self._key(environ)
        if key is None:
            return self.app(environ, start_response)
        hit = self.responses.get(key)
        if hit is not None:
            kept_status, kept_headers, kept_body = hit
            start_response(kept_status, list(kept_headers))
            return [kept_body]
        environ[ELIGIBLE] = True
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        if not environ.get(FLAG) or not str(seen.get("status", "")).startswith("200"):
            return body
        status, headers = seen["status"], seen["headers"]
        if any(name.lower() == "set-cookie" for name, _value in headers):
            return body  # meant for one client only

        def keep(whole: bytes) -> None:
            response = (status, headers, whole)
            self.responses.put(key, response, response_bytes(response))

        return KeepingBody(body, keep, ITEM_BYTES)

    def lookup(self, environ: dict[str, Any]) -> Response | None:
        """The kept response to a request, if any: the front answers these on its event loop,
        without giving the request a thread."""
        key = self._key(environ)
        return None if key is None else self.responses.get(key)

    def _key(self, environ: dict[str, Any]) -> Digest | None:
        """The cache key of a request (hashed once here), or None when it must go to the app."""
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        if any(name in environ for name in _PASS_HEADERS):
            return None
        try:
            build = self.current.get().build_id
        except KllError:
            return None
        return digest(
            (
                build,
                environ.get("wsgi.url_scheme", ""),
                environ.get("HTTP_HOST", ""),
                environ.get("SCRIPT_NAME", ""),
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_ACCEPT", ""),
            )
        )


def response_bytes(response: Response) -> int:
    """The memory a kept response holds: body, status and every header name and value, with
    the objects around them (the key and the entry itself are counted by the cache)."""
    status, headers, body = response
    size = sys.getsizeof(response) + sys.getsizeof(status) + sys.getsizeof(body)
    size += sys.getsizeof(headers)
    for pair in headers:
        size += sys.getsizeof(pair) + sys.getsizeof(pair[0]) + sys.getsizeof(pair[1])
    return size
