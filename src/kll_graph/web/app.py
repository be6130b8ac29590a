"""The app factory: `create_app` wires settings, the current store and one blueprint per surface."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from flask import Blueprint, Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from kll_graph.build.refresh import Refresher
from kll_graph.exceptions import ConfigError, StoreNotFoundError
from kll_graph.review.setfiles import SetFiles
from kll_graph.review.workbench import Workbench
from kll_graph.settings import Settings, load_settings
from kll_graph.sparql.remote import RemoteBuilds
from kll_graph.store import BuildSource, CurrentStore
from kll_graph.web import (
    api,
    auth,
    changes,
    health,
    pages,
    quality,
    reconcile,
    review,
    review_api,
    sparql,
)
from kll_graph.web.errors import register_error_handlers
from kll_graph.web.response_cache import ResponseCache
from kll_graph.web.security import register_security_headers

#: One factory per surface, in registration order; each takes the app and returns its Blueprint.
BLUEPRINTS: tuple[Callable[[Flask], Blueprint], ...] = (
    health.blueprint,
    sparql.blueprint,
    api.blueprint,
    pages.blueprint,
    changes.blueprint,
    quality.blueprint,
    reconcile.blueprint,
    auth.blueprint,
    review.blueprint,
    review_api.blueprint,
)


def build_source(settings: Settings) -> BuildSource:
    """The store root's current build (the default), or with `backend` set, the build the
    replicas serve, with its artifacts from `backend_dump` (checked: one replica at least must
    answer with that build)."""
    if not settings.backend:
        return CurrentStore(settings.store)
    if settings.backend_dump is None:
        raise ConfigError(
            "backend is set but backend_dump is not: give the dump directory of the build the "
            "replicas serve (`--backend-dump DIR`), whose artifacts this app serves"
        )
    remote = RemoteBuilds.from_settings(
        settings.backend, settings.backend_dump, settings.query_timeout
    )
    remote.verify()
    return remote


def create_app(settings: Settings | None = None, *, store: BuildSource | None = None) -> Flask:
    """Build the Flask app for a store root (settings.store), a remote backend (settings.backend)
    or an explicit build source."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # on Flask's default provider
    app.extensions["kll"] = settings
    app.extensions["kll.store"] = current = store or build_source(settings)
    app.extensions["kll.workbench"] = Workbench(SetFiles(settings.mappings_dir, settings.base_iri))
    # Only when the workbench is on, and on a store of this machine: replicas take decisions in
    # with the next build and dump.
    if settings.review_refresh and settings.users_file.is_file() and not settings.backend:
        app.extensions["kll.refresher"] = Refresher.for_app(settings)
    register_error_handlers(app)
    register_security_headers(app)
    app.after_request(_build_header(current))
    for factory in BLUEPRINTS:
        app.register_blueprint(factory(app))
    if settings.response_cache_mb:
        cache = ResponseCache(app.wsgi_app, current, settings.response_cache_mb << 20)
        app.wsgi_app = cache  # type: ignore[method-assign]  # Flask's way to add WSGI middleware
        app.extensions["kll.responses"] = cache
    if settings.proxy_hops:  # outermost, so every layer below sees the client's address
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's way to add middleware
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    return app


def _build_header(current: BuildSource) -> Callable[[Response], Response]:
    """Every response says which build answered it (`X-KLL-Build`), unless its view did."""

    def add(response: Response) -> Response:
        if "X-KLL-Build" not in response.headers:
            with contextlib.suppress(StoreNotFoundError):  # no build yet: nothing answered
                response.headers["X-KLL-Build"] = current.get().build_id
        return response

    return add
