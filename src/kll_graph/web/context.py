"""The request's context: the settings and served store the app factory put on the app, and the
request body read within its limit. Every blueprint reads them from here, so none imports the
factory that imports it."""

from __future__ import annotations

from flask import current_app, request

from kll_graph.exceptions import RequestTooLargeError
from kll_graph.settings import Settings
from kll_graph.store import BuildSource


def current_settings() -> Settings:
    return current_app.extensions["kll"]  # type: ignore[no-any-return]  # set by create_app


def current_store() -> BuildSource:
    return current_app.extensions["kll.store"]  # type: ignore[no-any-return]  # set by create_app


def request_body() -> bytes:
    """The request body, refused with 413 past `max_request_bytes` even when it comes chunked
    (no Content-Length for Flask's own limit to check): at most one byte more is read."""
    limit = current_settings().max_request_bytes
    parts: list[bytes] = []
    size = 0
    while size <= limit:  # a read may return less than asked, so read until the end
        part = request.stream.read(limit + 1 - size)
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    raise RequestTooLargeError(f"the request body has more than the limit of {limit:,} bytes")
