"""`/api/v1`: the JSON lookup API. Thin views: read parameters, call labels.py or concepts.py,
return JSON. Errors raise KllErrors, which web/errors.py turns into the one JSON error shape.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from kll_graph import concepts, labels
from kll_graph.exceptions import BadRequestError, StoreNotFoundError
from kll_graph.namespaces import JOBTECH_CONCEPT
from kll_graph.store import ServedBuild
from kll_graph.web import openapi
from kll_graph.web.context import current_store
from kll_graph.web.json_body import request_json
from kll_graph.web.response_cache import cacheable

_ID = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise BadRequestError(
            f"'{name}' must be a whole number, got {raw[:50]!r}", parameter=name
        ) from None


def _bool(name: str) -> bool:
    """A boolean parameter as OpenAPI writes one in a query: `true` or `false` (or absent)."""
    raw = request.args.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in {"true", "false"}:
        return value == "true"
    raise BadRequestError(f"'{name}' must be true or false, got {raw[:50]!r}", parameter=name)


def _list(name: str) -> list[str]:
    """A repeatable parameter, also accepting comma-separated values (an empty value is an
    error for the caller to report, not a filter silently dropped)."""
    return [v for raw in request.args.getlist(name) for v in raw.split(",")]


def _lang() -> str | None:
    return request.args.get("lang")


def _served() -> ServedBuild:
    return current_store().get()


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api/v1")

    @bp.get("/openapi.json")
    def openapi_document() -> ResponseReturnValue:
        try:
            index = labels.index_for(_served())
        except StoreNotFoundError:
            index = None  # the document still describes the API before the first build
        return jsonify(openapi.document(index))

    @bp.get("/autocomplete")
    def autocomplete() -> ResponseReturnValue:
        return jsonify(
            labels.autocomplete(
                labels.index_for(_served()),
                request.args.get("q"),
                lang=_lang(),
                schemes=_list("scheme"),
                types=_list("type"),
                limit=_int("limit", 10),
                include_deprecated=_bool("include_deprecated"),
            )
        )

    @bp.get("/search")
    def search() -> ResponseReturnValue:
        return jsonify(
            labels.search(
                labels.index_for(_served()),
                request.args.get("q"),
                lang=_lang(),
                schemes=_list("scheme"),
                types=_list("type"),
                offset=_int("offset", 0),
                limit=_int("limit", 20),
                include_deprecated=_bool("include_deprecated"),
            )
        )

    @bp.post("/resolve")
    def resolve() -> ResponseReturnValue:
        queries, options = labels.parse_resolve_request(request_json())
        return jsonify(labels.resolve(labels.index_for(_served()), queries, **options))

    @bp.get("/concepts")
    def concept() -> ResponseReturnValue:
        return jsonify(concepts.concept(_served(), request.args.get("uri", ""), _lang()))

    @bp.get("/concepts/<string:concept_id>")
    def jobtech_concept(concept_id: str) -> ResponseReturnValue:
        if not _ID.match(concept_id):
            raise BadRequestError(
                f"not a JobTech concept id: {concept_id[:80]!r} (letters, digits and _ only)",
                parameter="id",
            )
        return jsonify(concepts.concept(_served(), JOBTECH_CONCEPT[concept_id].value, _lang()))

    @bp.get("/narrower")
    def narrower() -> ResponseReturnValue:
        return jsonify(
            concepts.narrower(
                _served(),
                request.args.get("uri", ""),
                _lang(),
                offset=_int("offset", 0),
                limit=_int("limit", 100),
            )
        )

    @bp.get("/schemes")
    def schemes() -> ResponseReturnValue:
        return jsonify({"schemes": concepts.schemes(_served(), _lang())})

    @bp.get("/top-concepts")
    def top_concepts() -> ResponseReturnValue:
        return jsonify(
            concepts.top_concepts(
                _served(),
                request.args.get("scheme", ""),
                _lang(),
                offset=_int("offset", 0),
                limit=_int("limit", 100),
            )
        )

    @bp.before_request
    def reusable() -> None:
        # Every GET here answers from the build and the query string alone.
        if request.method == "GET":
            cacheable()

    @bp.after_request
    def no_sniff(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return bp
