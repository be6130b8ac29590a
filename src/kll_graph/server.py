"""Serving the app with waitress, a production WSGI server (threads, no Flask dev server)."""

from __future__ import annotations

from collections.abc import Callable

from waitress.server import create_server

from kll_graph.settings import Settings
from kll_graph.web import create_app


def run(settings: Settings, *, announce: Callable[[str], None]) -> None:
    """Listen on settings.host:settings.port (0 = a free port), announce the URL, serve forever."""
    app = create_app(settings)
    server = create_server(
        app,
        host=settings.host,
        port=settings.port,
        threads=settings.threads,
        max_request_body_size=settings.max_request_bytes,
        ident="kll-graph",
    )
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    sparql = app.extensions.get("kll.sparql")
    if sparql is not None:
        sparql.pool.start()  # warm the query workers before the first request, not during it
    announce(f"http://{host}:{server.effective_port}/")  # type: ignore[union-attr]
    try:
        server.run()
    finally:
        server.close()
        if sparql is not None:
            sparql.close()
