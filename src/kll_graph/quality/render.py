"""Rendering: the quality report as text, JSON or HTML, and the text both kinds of check share.

The HTML is rendered with a plain Jinja environment over ``quality/templates``: the report's
content (``quality_report.html``) is the same for ``/-/quality`` (which wraps it in the site's
layout, see :mod:`kll_graph.web.quality`) and for ``kll-graph check --format html`` (which wraps
it in a self-contained page with its stylesheet inline). :func:`quality_view` filters and pages
the report the same way for both and for ``/-/quality.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from kll_graph.exceptions import BadRequestError, ConfigError
from kll_graph.quality.registry import SEVERITIES
from kll_graph.quality.report import Finding, QualityReport, summarize

TEMPLATES = Path(__file__).with_name("templates")
#: The report's own style rules, for the site to serve (the standalone page inlines them).
REPORT_CSS = TEMPLATES / "report.css"
#: Findings per check on the overview page; a chosen check pages by `limit`.
OVERVIEW_FINDINGS = 20
#: Builds the link to the report filtered by check, vocabulary, severity, offset.
PageUrl = Callable[..., str]

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def render(report: QualityReport, fmt: str, *, limit: int = 10) -> str:
    """The report as text (summary and first findings), JSON (everything) or an HTML page."""
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=1)
    if fmt == "html":
        return report_page(report)
    if fmt == "text":
        return format_text(report, limit=limit)
    raise ConfigError(f"unknown report format '{fmt}'; use text, json or html")


def counts_text(findings: list[Finding]) -> str:
    """Errors, warnings and findings per check in one phrase (mapping checks, build warnings).

    >>> counts_text([Finding("duplicate-row", "warning", "the same mapping")])
    '0 error(s), 1 warning(s) (duplicate-row 1)'
    """
    summary = summarize(findings)
    by_check = ", ".join(f"{k} {v}" for k, v in summary["by_check"].items())
    return f"{summary['errors']} error(s), {summary['warnings']} warning(s)" + (
        f" ({by_check})" if by_check else ""
    )


def format_text(report: QualityReport, limit: int = 10) -> str:
    """The terminal report: the summary, then each check with its first `limit` findings."""
    summary = report.summary()
    sev = summary["by_severity"]
    lines = [
        f"quality report for build {report.build_id or '?'}: {summary['findings']} finding(s) "
        f"({sev['error']} error, {sev['warning']} warning, {sev['info']} info) from "
        f"{summary['checks']} checks in {summary['seconds']:.1f} s"
    ]
    if report.sample:
        lines.append("NOTE: this store holds the bundled SAMPLE, not the real data")
    for result in report.failed:
        lines.append(f"FAILED check {result.id}: {result.error}")
    width = max((len(r.id) for r in report.results), default=10)
    for result in report.results:
        per_vocab = Counter(f.vocabulary for f in result.findings)
        vocab = ", ".join(f"{v or '?'} {n}" for v, n in sorted(per_vocab.items()))
        state = "FAILED" if result.status == "failed" else f"{result.count:>6}"
        lines.append(f"{result.id:<{width}}  {result.severity:<7}  {state}  {vocab}")
    for result in report.results:
        if not result.findings:
            continue
        lines.append("")
        lines.append(f"{result.id} ({result.severity}): {result.title}: {result.count}")
        for finding in result.findings[:limit]:
            label = f' "{finding.label}"' if finding.label else ""
            lines.append(f"  {finding.concept}{label} [{finding.vocabulary}] {finding.message}")
        if result.count > limit:
            lines.append(f"  ... and {result.count - limit} more (--format json lists all)")
    return "\n".join(lines)


# --- the page (HTML) and its JSON twin ------------------------------------------------------


def concept_link(uri: str) -> str:
    """Where a concept's page lives.

    >>> concept_link("http://data.jobtechdev.se/taxonomy/concept/a1_b")
    '/resource?uri=http%3A%2F%2Fdata.jobtechdev.se%2Ftaxonomy%2Fconcept%2Fa1_b'
    """
    return "/resource?" + urlencode({"uri": uri})


def finding_view(finding: Finding) -> dict[str, Any]:
    """A finding with links to the pages of its concept and of the related resources."""
    return {
        **finding.resource_json(),
        "link": concept_link(finding.concept),
        "related_links": [[uri, concept_link(uri)] for uri in finding.related],
    }


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


def report_body(view: dict[str, Any], *, page_url: PageUrl, json_url: str) -> Markup:
    """The report's content (headings, tables, findings) as HTML, for a page to wrap."""
    template = _env.get_template("quality_report.html")
    return Markup(
        template.render(view=view, severities=SEVERITIES, page_url=page_url, json_url=json_url)
    )


def served_page_url(**params: Any) -> str:
    """A link to `/-/quality` with the given filters, as the served page builds them.

    >>> served_page_url(check="shacl", vocabulary=None, offset=0)
    '/-/quality?check=shacl&offset=0'
    """
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return "/-/quality" + (f"?{query}" if query else "")


def report_page(report: QualityReport) -> str:
    """The whole report, every finding, as one self-contained HTML page (`check --format html`).

    Its links (other filters, the concepts' pages) are relative to a kll-graph server's root.
    """
    view = quality_view(report, limit=None)
    for item in view["checks"]:
        full = next(r for r in report.results if r.id == item["id"])
        item["findings"] = [finding_view(f) for f in full.findings]
    return _env.get_template("quality_page.html").render(
        view=view,
        severities=SEVERITIES,
        page_url=served_page_url,
        json_url="/-/quality.json",
    )
