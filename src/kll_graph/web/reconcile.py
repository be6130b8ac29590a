"""`/reconcile` (W3C Reconciliation API 0.2, as OpenRefine speaks it) and `/reconcile/v1` (the
1.0 draft). HTTP only: requests are read here, answered by :mod:`kll_graph.reconcile`.

- 0.2: the root answers the manifest, `queries=` (form POST or GET) and `extend=`; suggest,
  property proposals and previews live at the paths the manifest names. JSONP on GET only, with a
  callback that is wholly a plain ASCII JavaScript name (`[A-Za-z_$][A-Za-z0-9_$.]{0,63}`: no
  trailing newline either), else 400.
- 1.0: `GET /reconcile/v1` (manifest), `POST /match`, `GET /suggest/{entity,type,property}`,
  `GET /preview`, `POST /extend`, `GET /extend/propose`.
- Every answer under /reconcile, errors, 404s and preflights included, allows any origin (CORS).
  Previews are static HTML that may be framed (no scripts; their own policy's `frame-ancestors *`).
- The display language: `lang` (query parameter, or the 1.0 query's), else `Accept-Language`,
  else Swedish; answers say it in `Content-Language`.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, request
from flask.typing import ResponseReturnValue

from kll_graph.exceptions import BadRequestError, NotFoundError
from kll_graph.reconcile import extend as extension
from kll_graph.reconcile import manifest as manifests
from kll_graph.reconcile.query import parse_batch_02, parse_batch_10
from kll_graph.reconcile.service import Reconciler, reconciler_for, result_02, result_10
from kll_graph.web.context import current_settings, request_body
from kll_graph.web.json_body import loads
from kll_graph.web.params import int_param, served_build

PREFIX = "/reconcile"
_CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,63}", re.ASCII)
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, Accept-Language",
    "Access-Control-Max-Age": "86400",
}
_PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *"


def _reconciler() -> Reconciler:
    return reconciler_for(served_build())


def _lang(reconciler: Reconciler) -> str:
    return reconciler.language(request.args.get("lang") or request.headers.get("Accept-Language"))


def _form() -> dict[str, str]:
    """The request's parameters: the query string, then a form or JSON body (bounded, UTF-8)."""
    params = dict(request.args.items())
    if request.method == "POST":
        body = request_body()
        try:
            text = body.decode("utf-8")
            if request.mimetype == "application/json":
                params["queries"] = text
                return params
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError as exc:
            raise BadRequestError(
                f"the body is not UTF-8 (byte {exc.start}: {exc.reason}); send it UTF-8 encoded",
                parameter="body",
            ) from None
        params.update(pairs)
    return params


def _json_param(params: dict[str, str], name: str) -> Any:
    raw = params[name]
    return loads(raw.encode("utf-8"), current_settings().max_json_depth)


def _answer(data: Any, lang: str, *, jsonp: bool = False) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    callback = request.args.get("callback") if jsonp and request.method == "GET" else None
    if callback is not None:
        if not _CALLBACK.fullmatch(callback):
            raise BadRequestError(
                "'callback' must be a JavaScript name (letters, digits, _, $ and .)",
                parameter="callback",
            )
        response = Response(f"/**/{callback}({body});", mimetype="application/javascript")
    else:
        response = Response(body, mimetype="application/json")
    response.headers["Content-Language"] = lang
    return response


def _preview_html(data: dict[str, Any] | None, lang: str) -> Response:
    if data is None:
        raise NotFoundError("no such concept in this service")
    e = html.escape
    rows = [f"<p><b>{e(data['label'])}</b> <small>{e(data['type'])}</small></p>"]
    for tag, label in data["labels"].items():
        alt = ", ".join(data["alt"].get(tag, []))
        rows.append(
            f"<p>{e(tag)}: {e(label)}" + (f" <small>({e(alt)})</small>" if alt else "") + "</p>"
        )
    if data["codes"]:
        rows.append(f"<p>{e(' · '.join(data['codes']))}</p>")
    if data["broader"]:
        rows.append(f"<p>↑ {e(', '.join(data['broader']))}</p>")
    if data["mappings"]:
        rows.append("<ul>" + "".join(f"<li>{e(m)}</li>" for m in data["mappings"]) + "</ul>")
    if data["deprecated"]:
        rows.append(f"<p><b>deprecated</b> → {e(', '.join(data['replaced_by']))}</p>")
    if data["definition"]:
        rows.append(f"<p><small>{e(data['definition'][:300])}</small></p>")
    page = (
        f'<!doctype html><html lang="{e(lang)}"><head><meta charset="utf-8">'
        f"<title>{e(data['label'])}</title></head>"
        '<body style="font-family:sans-serif;font-size:0.9em;margin:0.5em">'
        + "".join(rows)
        + f'<p><small><a href="{e(data["uri"])}" target="_blank">{e(data["uri"])}</a></small></p>'
        "</body></html>"
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _PREVIEW_CSP
    response.headers["Content-Language"] = lang
    return response


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("reconcile", __name__, url_prefix=PREFIX)

    # -- 0.2

    @bp.route("", methods=["GET", "POST"])
    def service_02() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        params = _form()
        if "queries" in params:
            queries = parse_batch_02(_json_param(params, "queries"))
            answers = reconciler.reconcile(queries, lang)
            return _answer(result_02(reconciler, answers, lang), lang, jsonp=True)
        if "extend" in params:
            ids, props = extension.parse_extend(_json_param(params, "extend"))
            meta, rows = extension.extend(reconciler, ids, props, lang)
            return _answer(extension.extend_02(meta, rows), lang, jsonp=True)
        root = request.url_root.rstrip("/")
        data = manifests.manifest_02(reconciler, root + PREFIX, root, lang)
        return _answer(data, lang, jsonp=True)

    @bp.get("/suggest/<any(entity, type, property):kind>")
    def suggest_02(kind: str) -> ResponseReturnValue:
        return _suggest(kind, int_param("cursor", 0, minimum=0, maximum=10_000), "0.2")

    @bp.get("/propose_properties")
    def propose_02() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        type_id = request.args.get("type")
        limit = int_param("limit", 0, minimum=0, maximum=100)
        found = extension.propose(reconciler, type_id, limit, lang)
        data: dict[str, Any] = {"properties": found}
        if type_id:
            data["type"] = type_id
        if limit:
            data["limit"] = limit
        return _answer(data, lang, jsonp=True)

    @bp.get("/preview")
    def preview_02() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        entity = request.args.get("id", "")
        return _preview_html(extension.preview(reconciler, entity, lang), lang)

    # -- 1.0 draft

    @bp.get("/v1")
    def manifest_10() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        site = request.url_root.rstrip("/")
        return _answer(manifests.manifest_10(reconciler, site, lang), lang)

    @bp.post("/v1/match")
    def match_10() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        body = loads(request_body(), current_settings().max_json_depth)
        queries = parse_batch_10(body)
        return _answer(result_10(reconciler, reconciler.reconcile(queries, lang), lang), lang)

    @bp.get("/v1/suggest/<any(entity, type, property):kind>")
    def suggest_10(kind: str) -> ResponseReturnValue:
        return _suggest(kind, int_param("offset", 0, minimum=0, maximum=10_000), "1.0")

    @bp.get("/v1/preview")
    def preview_10() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        return _preview_html(extension.preview(reconciler, request.args.get("id", ""), lang), lang)

    @bp.post("/v1/extend")
    def extend_10() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        ids, props = extension.parse_extend(
            loads(request_body(), current_settings().max_json_depth)
        )
        meta, rows = extension.extend(reconciler, ids, props, lang)
        return _answer(extension.extend_10(meta, rows), lang)

    @bp.get("/v1/extend/propose")
    def propose_10() -> ResponseReturnValue:
        reconciler = _reconciler()
        lang = _lang(reconciler)
        type_id = request.args.get("type")
        limit = int_param("limit", 0, minimum=0, maximum=100)
        data: dict[str, Any] = {"properties": extension.propose(reconciler, type_id, limit, lang)}
        if type_id:
            data["type"] = type_id
        if limit:
            data["limit"] = limit
        return _answer(data, lang)

    @bp.after_app_request
    def cors(response: Response) -> Response:
        # after_app_request: also on 404s and 405s under /reconcile, which match no route here
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            for name, value in _CORS.items():
                response.headers[name] = value
        return response

    return bp


def _suggest(kind: str, offset: int, version: str) -> Response:
    reconciler = _reconciler()
    lang = _lang(reconciler)
    prefix = request.args.get("prefix", "")
    limit = int_param("limit", 10, minimum=1, maximum=50)
    if kind == "entity":
        types = [t for raw in request.args.getlist("type") for t in raw.split(",") if t]
        result = manifests.suggest_entities(reconciler, prefix, types, lang, offset, limit)
    elif kind == "type":
        result = manifests.suggest_types(reconciler, prefix, lang, offset, limit, version)
    else:
        result = manifests.suggest_properties(prefix, lang, offset, limit, version)
    return _answer({"result": result}, lang, jsonp=version == "0.2")
