"""The workbench's JSON twin, `/api/v1/review/...`: every action the review pages take, for
scripts and tests, authenticated by session cookie plus CSRF token or by a Bearer token.

Reads need the viewer role; decisions, undo, new sets and imports the editor role; batch
decisions the reviewer role. Every write sends the set's ETag in `If-Match` (428 without, 409
with a stale one, the body listing what changed since) and answers with the new `ETag`; after
it the mapping graphs are refreshed in the background, so SPARQL, the lookup API and the pages
show the decision within seconds.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from kll_graph.exceptions import BadRequestError, ConflictError
from kll_graph.review import imports
from kll_graph.review.decisions import Decision, decide, decide_batch, row_json, undo_last
from kll_graph.review.queue import Filters
from kll_graph.review.setfiles import check_set_name
from kll_graph.review.workbench import Workbench, batch_decisions
from kll_graph.web.auth import require_role
from kll_graph.web.context import current_settings
from kll_graph.web.errors import error_body
from kll_graph.web.json_body import request_json
from kll_graph.web.params import int_param, served_build

#: Most queue items one request returns.
MAX_PAGE = 500


def workbench() -> Workbench:
    return current_app.extensions["kll.workbench"]  # type: ignore[no-any-return]  # create_app


def request_id() -> str:
    """This request's id (from `X-Request-Id` when a proxy set a sane one), for the audit log."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-Id", "")
        ok = given and len(given) <= 64 and given.replace("-", "").isalnum()
        g.request_id = given if ok else uuid.uuid4().hex
    return str(g.request_id)


def written(body: dict[str, Any], etag: str, status: int = 200) -> Response:
    """The answer to a write: the body, the set's new ETag, and a refresh of the graphs."""
    refresher = current_app.extensions.get("kll.refresher")
    if refresher is not None:
        refresher.request()
    response = jsonify({**body, "etag": etag})
    response.status_code = status
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-store"
    return response


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequestError("the body must be a JSON object")
    return data


def conflict_response(exc: ConflictError) -> Response:
    """409 in the one error shape, plus the changes since the client's copy and the new ETag."""
    body = error_body(409, exc.code, str(exc))
    body["error"]["changes"] = exc.changes
    etag = getattr(exc, "etag", None)
    if etag:
        body["error"]["etag"] = etag
    response = jsonify(body)
    response.status_code = 409
    return response


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("review_api", __name__, url_prefix="/api/v1/review")

    @bp.errorhandler(ConflictError)
    def conflict(exc: ConflictError) -> Response:
        return conflict_response(exc)

    @bp.after_request
    def private(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
        response.vary.add("Authorization")
        return response

    @bp.get("/queue")
    def queue() -> ResponseReturnValue:
        require_role("viewer")
        filters = Filters.parse(request.args)
        offset = int_param("offset", 0, minimum=0)
        limit = int_param("limit", 50, minimum=1, maximum=MAX_PAGE)
        page = workbench().page(served_build(), filters, offset, limit)
        return jsonify(
            {
                "total": page.total,
                "offset": offset,
                "limit": limit,
                "filters": filters.args(),
                "items": [item.json() for item in page.items],
            }
        )

    @bp.get("/sets")
    def sets() -> ResponseReturnValue:
        require_role("viewer")
        bench = workbench()
        return jsonify(
            {
                "sets": [
                    {"name": name, "rows": len(mset.mappings), "etag": bench.files.etag(name)}
                    for name, mset in bench.sets().items()
                ]
            }
        )

    @bp.get("/sets/<name>")
    def one_set(name: str) -> ResponseReturnValue:
        require_role("viewer")
        mset, etag = workbench().files.read(check_set_name(name))
        response = jsonify(
            {
                "name": name,
                "metadata": mset.metadata,
                "curie_map": mset.curie_map,
                "rows": [row_json(m) for m in mset.mappings],
            }
        )
        response.headers["ETag"] = etag
        return response

    @bp.post("/sets")
    def create_set() -> ResponseReturnValue:
        user = require_role("editor")
        data = _object(request_json())
        name = check_set_name(data.get("name"))
        title = str(data.get("title") or name)
        iri = user.identifier(current_settings().base_iri)
        etag = workbench().files.create(name, title, iri, request_id=request_id(), who=iri)
        return written({"name": name}, etag, 201)

    @bp.post("/decisions")
    def decisions() -> ResponseReturnValue:
        user = require_role("editor")
        data = _object(request_json())
        data.pop("item", None)  # the page sends its item key along; the pair says it all
        decision = Decision.from_json(data)
        bench = workbench()
        bench.check_decision(served_build(), decision)
        candidate, prefixes = bench.candidate_row(decision.subject_id, decision.object_id)
        result, row = decide(
            bench.files,
            decision,
            candidate,
            user.identifier(current_settings().base_iri),
            request.headers.get("If-Match"),
            request_id=request_id(),
            candidate_prefixes=prefixes,
        )
        return written({"row": row_json(row)}, result.etag, 201)

    @bp.post("/undo")
    def undo() -> ResponseReturnValue:
        user = require_role("editor")
        data = _object(request_json())
        name = check_set_name(data.get("set"))
        result = undo_last(
            workbench().files,
            name,
            user.identifier(current_settings().base_iri),
            request.headers.get("If-Match"),
            request_id=request_id(),
        )
        entry = result.entry.to_json() if result.entry else None
        return written({"undone": entry}, result.etag)

    @bp.post("/batch")
    def batch() -> ResponseReturnValue:
        user = require_role("reviewer")
        data = _object(request_json())
        bench = workbench()
        name = check_set_name(data.get("set"))
        served = served_build()
        plan = batch_decisions(bench, served, name, data)
        if data.get("preview", True):
            return jsonify({"preview": True, "keys": plan.keys, "rows": plan.preview_rows()})
        result, rows = decide_batch(
            bench.files,
            name,
            plan.items,
            user.identifier(current_settings().base_iri),
            request.headers.get("If-Match"),
            request_id=request_id(),
            candidate_prefixes=plan.prefixes,
        )
        return written({"preview": False, "rows": [row_json(r) for r in rows]}, result.etag)

    @bp.post("/import")
    def import_file() -> ResponseReturnValue:
        user = require_role("editor")
        data = _object(request_json())
        bench = workbench()
        name = check_set_name(data.get("set"))
        preview = imports.preview(
            bench.files, name, str(data.get("content") or ""), str(data.get("format") or "sssom")
        )
        if not data.get("confirm"):
            return jsonify({"confirm": False, **preview.json()})
        result = imports.apply(
            bench.files,
            preview,
            user.identifier(current_settings().base_iri),
            request.headers.get("If-Match"),
            request_id=request_id(),
        )
        return written({"confirm": True, **preview.json()}, result.etag)

    return bp
