"""The web app: `create_app` wires settings, the current store and one blueprint per surface."""

from __future__ import annotations

import pkgutil

from flask import Flask

from kll_graph.settings import Settings, load_settings
from kll_graph.store import CurrentStore
from kll_graph.web.errors import register_error_handlers
from kll_graph.web.response_cache import ResponseCache
from kll_graph.web.security import register_security_headers

#: Blueprints as "module:factory"; each factory takes the app and returns a Blueprint. Named
#: rather than imported, because the blueprint modules import this package's helpers.
BLUEPRINTS: tuple[str, ...] = (
    "kll_graph.web.health:blueprint",
    "kll_graph.web.sparql:blueprint",
    "kll_graph.web.api:blueprint",
    "kll_graph.web.pages:blueprint",
    "kll_graph.web.quality:blueprint",
)


def create_app(settings: Settings | None = None, *, store: CurrentStore | None = None) -> Flask:
    """Build the Flask app for a store root (settings.store) or an explicit CurrentStore."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # on Flask's default provider
    app.extensions["kll"] = settings
    app.extensions["kll.store"] = current = store or CurrentStore(settings.store)
    register_error_handlers(app)
    register_security_headers(app)
    for spec in BLUEPRINTS:
        app.register_blueprint(pkgutil.resolve_name(spec)(app))
    if settings.response_cache_mb:
        cache = ResponseCache(app.wsgi_app, current, settings.response_cache_mb << 20)
        app.wsgi_app = cache  # type: ignore[method-assign]  # Flask's way to add WSGI middleware
        app.extensions["kll.responses"] = cache
    return app


def current_settings() -> Settings:
    from flask import current_app

    return current_app.extensions["kll"]  # type: ignore[no-any-return]  # set by create_app


def current_store() -> CurrentStore:
    from flask import current_app

    return current_app.extensions["kll.store"]  # type: ignore[no-any-return]  # set by create_app


def request_body() -> bytes:
    """The request body, refused with 413 past `max_request_bytes` even when it comes chunked
    (no Content-Length for Flask's own limit to check): at most one byte more is read."""
    from flask import request

    from kll_graph.exceptions import RequestTooLargeError

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
