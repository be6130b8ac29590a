"""`/-/quality`: the quality report of the served build as a page, and `/-/quality.json` its twin.

Both read the report the build wrote next to the store (``quality.json``; checks run afresh only
for a store built before checks existed) and share one data function
(:func:`kll_graph.quality.render.quality_view`), so the page and the JSON always agree. Filters:
``check``, ``vocabulary``, ``severity``; ``limit`` and ``offset`` page through the findings (the
page shows the first findings of each check unless one is chosen). This module only adapts the
request to that function and wraps the report's HTML in the site's layout.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from kll_graph.quality.render import REPORT_CSS, quality_view, report_body
from kll_graph.quality.report import QualityReport
from kll_graph.quality.run import report_for
from kll_graph.settings import Settings
from kll_graph.store import ServedBuild
from kll_graph.web.context import current_settings, current_store
from kll_graph.web.params import int_param

DEFAULT_LIMIT = 500
MAX_LIMIT = 10_000


def served_report(served: ServedBuild, settings: Settings) -> QualityReport:
    """The parsed report of the served build, read once per build (reports can be megabytes)."""
    return served.memo(
        "quality-report",
        lambda: report_for(
            served.path,
            served.store,
            settings,
            build_id=served.build_id,
            sample=served.manifest.sample,
        ),
    )


def _view_from_request(report: QualityReport) -> dict[str, Any]:
    check = request.args.get("check") or None
    limit_given = request.args.get("limit") not in (None, "")
    return quality_view(
        report,
        check=check,
        vocabulary=request.args.get("vocabulary") or None,
        severity=request.args.get("severity") or None,
        limit=int_param("limit", DEFAULT_LIMIT, minimum=0, maximum=MAX_LIMIT)
        if (limit_given or check)
        else None,
        offset=int_param("offset", 0, minimum=0, maximum=10_000_000),
    )


def _page_url(**params: Any) -> str:
    return url_for("quality.page", **params)


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("quality", __name__)

    def report() -> QualityReport:
        return served_report(current_store().get(), current_settings())

    @bp.get("/-/quality")
    def page() -> ResponseReturnValue:
        view = _view_from_request(report())
        filters: dict[str, Any] = request.args.to_dict()
        json_url = url_for("quality.data", **filters)
        body = report_body(view, page_url=_page_url, json_url=json_url)
        return render_template("quality.html", view=view, report=body, ui_lang="en")

    @bp.get("/-/quality.css")
    def style() -> ResponseReturnValue:
        return send_file(REPORT_CSS, mimetype="text/css", conditional=True, max_age=3600)

    @bp.get("/-/quality.json")
    def data() -> ResponseReturnValue:
        return jsonify(_view_from_request(report()))

    return bp
