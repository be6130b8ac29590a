"""One error shape for every JSON answer: {"error": {"status", "code", "message", "parameter"}}.

Our own KllErrors map to their status; HTTP errors keep theirs; anything else is our bug, a 500
whose message says so without leaking internals.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from kll_graph.exceptions import KllError


def error_body(
    status: int, code: str, message: str, parameter: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if parameter:
        body["parameter"] = parameter
    return {"error": body}


def error_response(status: int, code: str, message: str, parameter: str | None = None) -> Response:
    response = jsonify(error_body(status, code, message, parameter))
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(KllError)
    def handle_kll(exc: KllError) -> Response:
        return error_response(exc.status, exc.code, str(exc), getattr(exc, "parameter", None))

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException) -> Response:
        status = exc.code or 500
        name = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(status, name, exc.description or exc.name)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response
