"""`/-/quality`: the quality report of the served build as a page, and `/-/quality.json` its twin.

Both read the report the build wrote next to the store (``quality.json``; checks run afresh only
for a store built before checks existed) and share one data function, so the page and the JSON
always agree. Filters: ``check``, ``vocabulary``, ``severity``; ``limit`` and ``offset`` page
through the findings (the page shows the first findings of each check unless one is chosen).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from kll_graph.exceptions import BadRequestError
from kll_graph.quality.checks import SEVERITIES, Finding, QualityReport, report_for
from kll_graph.settings import Settings
from kll_graph.store import ServedBuild

#: Findings per check on the overview page; a chosen check pages by `limit`.
OVERVIEW_FINDINGS = 20
DEFAULT_LIMIT = 500
MAX_LIMIT = 10_000


class ReportCache:
    """The parsed report of the served build, read once per build (reports can be megabytes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: str | None = None
        self._report: QualityReport | None = None

    def get(self, served: ServedBuild, settings: Settings) -> QualityReport:
        key = str(served.path)
        with self._lock:
            if self._key != key or self._report is None:
                self._report = report_for(
                    served.path,
                    served.store,
                    settings,
                    build_id=served.build_id,
                    sample=bool(served.manifest.get("sample", False)),
                )
                self._key = key
            return self._report


def concept_link(uri: str) -> str:
    """Where a concept's page lives.

    >>> concept_link("http://data.jobtechdev.se/taxonomy/concept/a1_b")
    '/resource?uri=http%3A%2F%2Fdata.jobtechdev.se%2Ftaxonomy%2Fconcept%2Fa1_b'
    """
    return "/resource?" + urlencode({"uri": uri})


def finding_view(finding: Finding) -> dict[str, Any]:
    """A finding with links to the pages of its concept and of the related resources."""
    return {
        **vars(finding),
        "link": concept_link(finding.concept),
        "related_links": [[uri, concept_link(uri)] for uri in finding.related],
    }


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(
            f"'{name}' must be a whole number, got {raw!r}", parameter=name
        ) from None
    if value < 0 or value > maximum:
        raise BadRequestError(f"'{name}' must be between 0 and {maximum}", parameter=name)
    return value


def quality_view(
    report: QualityReport,
    *,
    check: str | None = None,
    vocabulary: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """The report as the page and the JSON show it, filtered and paged."""
    ids = [r.id for r in report.results]
    if check and check not in ids:
        raise BadRequestError(
            f"unknown check '{check}'; known: {', '.join(ids)}", parameter="check"
        )
    if severity and severity not in SEVERITIES:
        raise BadRequestError(
            f"severity must be one of {', '.join(SEVERITIES)}", parameter="severity"
        )
    vocabularies = sorted({f.vocabulary for f in report.findings} | set(report.vocabularies))
    if vocabulary and vocabulary not in vocabularies:
        raise BadRequestError(
            f"unknown vocabulary '{vocabulary}'; known: {', '.join(vocabularies)}",
            parameter="vocabulary",
        )
    checks = []
    for result in report.results:
        if check and result.id != check:
            continue
        if severity and result.severity != severity:
            continue
        findings = [f for f in result.findings if not vocabulary or f.vocabulary == vocabulary]
        per_page = limit if limit is not None else (len(findings) if check else OVERVIEW_FINDINGS)
        shown = findings[offset : offset + per_page]
        checks.append(
            {
                "id": result.id,
                "title": result.title,
                "severity": result.severity,
                "explanation": result.explanation,
                "status": result.status,
                "error": result.error,
                "seconds": result.seconds,
                "count": len(findings),
                "by_vocabulary": dict(sorted(Counter(f.vocabulary for f in findings).items())),
                "offset": offset,
                "findings": [finding_view(f) for f in shown],
            }
        )
    matrix: dict[str, dict[str, int]] = {v: dict.fromkeys(SEVERITIES, 0) for v in vocabularies}
    for finding in report.findings:
        matrix.setdefault(finding.vocabulary, dict.fromkeys(SEVERITIES, 0))
        matrix[finding.vocabulary][finding.severity] += 1
    return {
        "build_id": report.build_id,
        "generated": report.generated,
        "sample": report.sample,
        "summary": report.summary(),
        "vocabularies": report.vocabularies,
        "by_vocabulary_and_severity": matrix,
        "filters": {"check": check, "vocabulary": vocabulary, "severity": severity},
        "checks": checks,
    }


def _view_from_request(report: QualityReport) -> dict[str, Any]:
    check = request.args.get("check") or None
    limit_given = request.args.get("limit") not in (None, "")
    return quality_view(
        report,
        check=check,
        vocabulary=request.args.get("vocabulary") or None,
        severity=request.args.get("severity") or None,
        limit=_int_arg("limit", DEFAULT_LIMIT, MAX_LIMIT) if (limit_given or check) else None,
        offset=_int_arg("offset", 0, 10_000_000),
    )


def blueprint(app: Flask) -> Blueprint:
    from kll_graph.web.context import current_settings, current_store

    bp = Blueprint("quality", __name__)
    cache = ReportCache()

    def report() -> QualityReport:
        return cache.get(current_store().get(), current_settings())

    @bp.get("/-/quality")
    def page() -> ResponseReturnValue:
        view = _view_from_request(report())
        return render_template("quality.html", view=view, severities=SEVERITIES, ui_lang="en")

    @bp.get("/-/quality.json")
    def data() -> ResponseReturnValue:
        return jsonify(_view_from_request(report()))

    return bp


def render_report_html(report: QualityReport, settings: Settings) -> str:
    """The whole report as one HTML page (for `kll-graph check --format html`)."""
    from kll_graph.web.app import create_app

    app = create_app(settings)
    with app.test_request_context("/-/quality"):
        view = quality_view(report, limit=None)
        for item in view["checks"]:
            full = next(r for r in report.results if r.id == item["id"])
            item["findings"] = [finding_view(f) for f in full.findings]
        return render_template("quality.html", view=view, severities=SEVERITIES, ui_lang="en")
