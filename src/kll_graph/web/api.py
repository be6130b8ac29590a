"""`/api/v1`: the JSON lookup API. Thin views: read parameters (through web/params.py, as the
pages do), call labels or concepts, return JSON. Errors raise KllErrors, which web/errors.py
turns into the one JSON error shape.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from kll_graph import __version__, concepts, labels
from kll_graph.changes import versions
from kll_graph.concepts.lookup import MAX_PAGE
from kll_graph.exceptions import BadRequestError, StoreNotFoundError
from kll_graph.labels.lookup import MAX_AUTOCOMPLETE, MAX_OFFSET, MAX_SEARCH_PAGE
from kll_graph.namespaces import JOBTECH_CONCEPT
from kll_graph.web import openapi, validators
from kll_graph.web.json_body import request_json
from kll_graph.web.params import bool_param, int_param, list_param, served_build, text_param
from kll_graph.web.response_cache import cacheable

_ID = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _concept(uri: str) -> ResponseReturnValue:
    """The concept document, with validators that follow the concept (web/validators.py): a
    conditional request for an unchanged concept is answered 304 before the document is made."""
    served = served_build()
    lang = text_param("lang")
    version = text_param("version")
    graphs = versions.release_graphs(served, uri, version) if version else []
    etag = validators.etag_for(
        validators.concept_digest(served, uri, graphs), "api", lang or "", __version__
    )
    modified = validators.concept_modified(served, uri)
    unchanged = validators.unchanged(etag, weak=True, modified=modified)
    if unchanged is not None:
        return unchanged
    if version:
        document = jsonify(versions.concept_as_of(served, uri, version, lang))
    else:
        document = jsonify(concepts.concept(served, uri, lang))
    return validators.validated(document, etag, weak=True, modified=modified)


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api/v1")

    @bp.get("/openapi.json")
    def openapi_document() -> ResponseReturnValue:
        try:
            index = labels.index_for(served_build())
        except StoreNotFoundError:
            index = None  # the document still describes the API before the first build
        return jsonify(openapi.document(index))

    @bp.get("/autocomplete")
    def autocomplete() -> ResponseReturnValue:
        return jsonify(
            labels.autocomplete(
                labels.index_for(served_build()),
                text_param("q"),
                lang=text_param("lang"),
                schemes=list_param("scheme"),
                types=list_param("type"),
                limit=int_param("limit", 10, minimum=1, maximum=MAX_AUTOCOMPLETE),
                include_deprecated=bool_param("include_deprecated"),
            )
        )

    @bp.get("/search")
    def search() -> ResponseReturnValue:
        return jsonify(
            labels.search(
                labels.index_for(served_build()),
                text_param("q"),
                lang=text_param("lang"),
                schemes=list_param("scheme"),
                types=list_param("type"),
                offset=int_param("offset", 0, minimum=0, maximum=MAX_OFFSET),
                limit=int_param("limit", 20, minimum=1, maximum=MAX_SEARCH_PAGE),
                include_deprecated=bool_param("include_deprecated"),
            )
        )

    @bp.post("/resolve")
    def resolve() -> ResponseReturnValue:
        queries, options = labels.parse_resolve_request(request_json())
        return jsonify(labels.resolve(labels.index_for(served_build()), queries, **options))

    @bp.get("/concepts")
    def concept() -> ResponseReturnValue:
        return _concept(concepts.parse_uri(text_param("uri", "")).value)

    @bp.get("/concepts/<string:concept_id>")
    def jobtech_concept(concept_id: str) -> ResponseReturnValue:
        if not _ID.match(concept_id):
            raise BadRequestError(
                f"not a JobTech concept id: {concept_id[:80]!r} (letters, digits and _ only)",
                parameter="id",
            )
        return _concept(JOBTECH_CONCEPT[concept_id].value)

    @bp.get("/narrower")
    def narrower() -> ResponseReturnValue:
        return jsonify(
            concepts.narrower(
                served_build(),
                text_param("uri", ""),
                text_param("lang"),
                offset=int_param("offset", 0, minimum=0),
                limit=int_param("limit", 100, minimum=1, maximum=MAX_PAGE),
            )
        )

    @bp.get("/schemes")
    def schemes() -> ResponseReturnValue:
        return jsonify({"schemes": concepts.schemes(served_build(), text_param("lang"))})

    @bp.get("/top-concepts")
    def top_concepts() -> ResponseReturnValue:
        return jsonify(
            concepts.top_concepts(
                served_build(),
                text_param("scheme", ""),
                text_param("lang"),
                offset=int_param("offset", 0, minimum=0),
                limit=int_param("limit", 100, minimum=1, maximum=MAX_PAGE),
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
