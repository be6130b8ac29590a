"""The app factory: `create_app` wires settings, the current store and one blueprint per surface."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kll_graph.build.refresh import Refresher
from kll_graph.review.setfiles import SetFiles
from kll_graph.review.workbench import Workbench
from kll_graph.settings import Settings, load_settings
from kll_graph.store import CurrentStore
from kll_graph.web import api, auth, health, pages, quality, reconcile, review, review_api, sparql
from kll_graph.web.errors import register_error_handlers
from kll_graph.web.response_cache import ResponseCache
from kll_graph.web.security import register_security_headers

#: One factory per surface, in registration order; each takes the app and returns its Blueprint.
BLUEPRINTS: tuple[Callable[[Flask], Blueprint], ...] = (
    health.blueprint,
    sparql.blueprint,
    api.blueprint,
    pages.blueprint,
    quality.blueprint,
    reconcile.blueprint,
    auth.blueprint,
    review.blueprint,
    review_api.blueprint,
)


def create_app(settings: Settings | None = None, *, store: CurrentStore | None = None) -> Flask:
    """Build the Flask app for a store root (settings.store) or an explicit CurrentStore."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # on Flask's default provider
    app.extensions["kll"] = settings
    app.extensions["kll.store"] = current = store or CurrentStore(settings.store)
    app.extensions["kll.workbench"] = Workbench(SetFiles(settings.mappings_dir, settings.base_iri))
    if settings.review_refresh and settings.users_file.is_file():  # only when the workbench is on
        app.extensions["kll.refresher"] = Refresher.for_app(settings)
    register_error_handlers(app)
    register_security_headers(app)
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
