"""HTTP only: every module here adapts one package below it to HTTP, and nothing below imports it.

`app.create_app` is the Flask app factory (one blueprint per surface: `health`, `sparql`, `api`,
`pages`, `quality`); `front` is the RSGI front that reads request bodies on the event loop before
a thread runs Flask. Request context (settings, served store, bounded body) is in `context`,
shared request parsing in `params`, the one error shape in `errors`.
"""

from kll_graph.web.app import BLUEPRINTS, create_app

__all__ = ["BLUEPRINTS", "create_app"]
