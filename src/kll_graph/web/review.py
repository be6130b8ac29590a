"""The review workbench's pages: `/review` (the queue, one item at a time or as a table) and
`/review/import` (upload a mapping file, see what it changes, confirm).

Thin views: the queue and the decisions live in :mod:`kll_graph.review`; the page sends its
decisions to the JSON twin (:mod:`kll_graph.web.review_api`) from `static/review.js`, so the
keyboard flow and scripts go through the same checks. A visitor who is not signed in is sent
to `/login` and back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers.response import Response as BaseResponse

from kll_graph.concepts.lookup import concept
from kll_graph.exceptions import AuthenticationError, KllError, NotFoundError
from kll_graph.mappings.suggestions import curie
from kll_graph.review import imports
from kll_graph.review.decisions import RELATIONS
from kll_graph.review.queue import BANDS, KINDS, Filters, Item, others_for
from kll_graph.review.users import User
from kll_graph.review.workbench import UNMAPPED_TYPES, Workbench
from kll_graph.store import ServedBuild
from kll_graph.web.auth import require_role
from kll_graph.web.context import current_settings
from kll_graph.web.params import int_param, served_build, ui_language
from kll_graph.web.review_api import request_id, workbench

#: Rows of the table view per page.
TABLE_ROWS = 50
#: Evidence slots shown beside a candidate, in this order.
EVIDENCE_SLOTS = (
    "confidence",
    "similarity_score",
    "similarity_measure",
    "match_string",
    "subject_match_field",
    "object_match_field",
    "mapping_justification",
    "mapping_tool",
    "author_id",
    "reviewer_id",
    "comment",
)
KIND_NAMES = {
    "sv": {
        "candidate": "förslag",
        "unsure": "osäker",
        "curated": "väntar på granskning",
        "recheck": "kontrollera igen",
        "unmapped": "saknar mappning",
    },
    "en": {
        "candidate": "candidate",
        "unsure": "unsure",
        "curated": "awaiting review",
        "recheck": "re-check",
        "unmapped": "unmapped",
    },
}


def _signed_in(role: str) -> User | BaseResponse:
    """The user, or a redirect to the sign-in page that comes back here."""
    try:
        return require_role(role)
    except AuthenticationError:
        target = request.full_path.rstrip("?")
        return redirect("/login?" + urlencode({"next": target}), 303)


def _doc(served: ServedBuild, uri: str | None, lang: str) -> dict[str, Any] | None:
    if not uri:
        return None
    try:
        return concept(served, uri, lang)
    except (NotFoundError, KllError):
        return None


def _curie(uri: str | None) -> str | None:
    """The page's short form of a concept, as the matcher writes it (jt: and ESCO: CURIEs)."""
    return None if uri is None else curie(uri)


def _relations(subject: str, target: str, lang: str) -> list[dict[str, str]]:
    return [
        {
            "key": r.key,
            "name": r.name,
            "predicate": r.predicate,
            "sentence": r.sentence(subject, target or "?", lang),
        }
        for r in RELATIONS
    ]


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("review", __name__)

    @bp.after_request
    def private(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
        return response

    @bp.get("/review")
    def queue_page() -> ResponseReturnValue:
        user = _signed_in("viewer")
        if isinstance(user, BaseResponse):
            return user
        lang = ui_language()
        served = served_build()
        bench = workbench()
        filters = Filters.parse(request.args)
        view = "table" if request.args.get("view") == "table" else "item"
        position = int_param("i", 0, minimum=0)
        names = bench.files.names()
        target = request.args.get("target") or (names[0] if names else "")
        target = target if target in names else ""
        context = _common(bench, filters, view, target, names, lang, user)
        if view == "table":
            offset = (position // TABLE_ROWS) * TABLE_ROWS
            page = bench.page(served, filters, offset, TABLE_ROWS)
            context.update(
                total=page.total,
                rows=page.items,
                offset=offset,
                position=offset,
                item_url=lambda i: _url(filters, "item", target, i),
                prev_url=_url(filters, "table", target, offset - TABLE_ROWS) if offset else None,
                next_url=_url(filters, "table", target, offset + TABLE_ROWS)
                if offset + TABLE_ROWS < page.total
                else None,
            )
        else:
            page = bench.page(served, filters, 0, 10**9)
            position = min(position, max(page.total - 1, 0))
            item = page.items[position] if page.items else None
            context.update(_item_context(served, page.everything, item, lang))
            context.update(
                total=page.total,
                position=position,
                prev_item_url=_url(filters, "item", target, position - 1) if position else None,
                next_item_url=_url(filters, "item", target, position + 1)
                if position + 1 < page.total
                else None,
            )
        other = "item" if view == "table" else "table"
        context["view_url"] = _url(filters, other, target, position)
        return render_template("review.html", **context)

    @bp.route("/review/import", methods=["GET", "POST"])
    def import_page() -> ResponseReturnValue:
        user = _signed_in("editor")
        if isinstance(user, BaseResponse):
            return user
        lang = ui_language()
        bench = workbench()
        context: dict[str, Any] = {
            "ui_lang": lang,
            "user": user,
            "set_names": bench.files.names(),
            "result": None,
            "preview": None,
            "error": None,
        }
        if request.method == "POST":
            context.update(_import_post(bench, user))
        return render_template("review_import.html", **context)

    return bp


def _import_post(bench: Workbench, user: User) -> dict[str, Any]:
    """Preview an upload, or apply the one previewed (its text comes back in a hidden field)."""
    form = request.form
    name = form.get("set", "")
    kind = form.get("format", "sssom")
    upload = request.files.get("file")
    content = upload.read().decode("utf-8", errors="strict") if upload else form.get("content", "")
    try:
        found = imports.preview(bench.files, name, content, kind)
        if form.get("confirm") != "yes":
            etag = bench.files.etag(name) if found.exists else ""
            return {"preview": found.json(), "content": content, "format": kind, "etag": etag}
        iri = user.identifier(current_settings().base_iri)
        result = imports.apply(
            bench.files, found, iri, form.get("etag") or None, request_id=request_id()
        )
    except (KllError, UnicodeDecodeError) as exc:
        return {"error": str(exc)}
    refresher = current_app.extensions.get("kll.refresher")
    if refresher is not None:
        refresher.request()
    return {"result": {"set": found.set, "etag": result.etag, **found.json()["counts"]}}


def _common(
    bench: Workbench,
    filters: Filters,
    view: str,
    target: str,
    names: list[str],
    lang: str,
    user: User,
) -> dict[str, Any]:
    target_etag = bench.files.etag(target) if target else ""
    return {
        "ui_lang": lang,
        "user": user,
        "filters": filters,
        "view": view,
        "target": target,
        "target_etag": target_etag,
        "set_names": names,
        "types": UNMAPPED_TYPES,
        "bands": list(BANDS),
        "kinds": KINDS,
        "kind_names": KIND_NAMES[lang],
        "evidence_slots": EVIDENCE_SLOTS,
        "relations": _relations("JobTech", "ESCO", lang),
    }


def _item_context(
    served: ServedBuild, everything: list[Item], item: Item | None, lang: str
) -> dict[str, Any]:
    if item is None:
        return {"item": None}
    subject = _doc(served, item.subject, lang)
    target = _doc(served, item.object, lang)
    subject_label = (subject or {}).get("label") or item.label
    object_label = (target or {}).get("label") or (item.row.get("object_label") if item.row else "")
    return {
        "item": item,
        "subject": subject,
        "object": target,
        "subject_curie": _curie(item.subject),
        "object_curie": _curie(item.object),
        "others": others_for(everything, item)[:10],
        "relations": _relations(subject_label, object_label, lang),
    }


def _url(filters: Filters, view: str, target: str, position: int) -> str:
    params = {**filters.args(), "view": view, "target": target, "i": str(max(position, 0))}
    return "/review?" + urlencode({k: v for k, v in params.items() if v})
