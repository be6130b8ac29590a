"""Running the checks: each registered check on a store, findings from flags, one report.

A check that fails on data it did not expect is reported as failed and the others still run; a
store without one of the expected vocabularies is checked for what it has. The build runs every
check on the fresh store (:func:`kll_graph.build.steps.quality_checks`), writes the report next to
the store (``quality.json``) for ``kll-graph check`` and ``/-/quality``, and fails only under
``strict``; those two read the report back (:func:`report_for`) rather than checking again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kll_graph.exceptions import ConfigError
from kll_graph.quality.context import CheckContext
from kll_graph.quality.registry import OFF, Check, Flag, configured_severities, registered_checks
from kll_graph.quality.report import CheckResult, Finding, QualityReport, read_report
from kll_graph.settings import Settings
from kll_graph.store import CurrentStore, GraphStore

Progress = Callable[[str], None]


def _finding(ctx: CheckContext, chk: Check, severity: str, flag: Flag) -> Finding:
    graph = flag.graph or ctx.homes.get(flag.concept, "")
    return Finding(
        check=chk.id,
        severity=severity,
        concept=flag.concept,
        label=ctx.label_of(flag.concept, graph),
        graph=graph,
        vocabulary=ctx.vocabulary_of(graph) if graph else "",
        message=flag.message,
        related=flag.related,
    )


def run_check(ctx: CheckContext, chk: Check, severity: str) -> CheckResult:
    """Run one check; an exception makes it a failed result instead of stopping the report."""
    started = time.perf_counter()
    try:
        findings = [_finding(ctx, chk, severity, flag) for flag in chk.run(ctx)]
    except Exception as exc:  # a check must never take the others down with it
        return CheckResult(
            chk.id,
            chk.title,
            severity,
            chk.explanation,
            "failed",
            round(time.perf_counter() - started, 3),
            error=f"{type(exc).__name__}: {exc}",
        )
    findings.sort(key=lambda f: (f.concept, f.message))
    return CheckResult(
        chk.id,
        chk.title,
        severity,
        chk.explanation,
        "findings" if findings else "passed",
        round(time.perf_counter() - started, 3),
        findings,
    )


def run_checks(
    store: GraphStore,
    settings: Settings,
    *,
    build_id: str = "",
    sample: bool = False,
    severities: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    checks: Iterable[Check] | None = None,
    progress: Progress = lambda message: None,
) -> QualityReport:
    """Run the registered checks (or `checks`, or those named in `only`) on a store."""
    overrides = dict(severities or {})
    selected = list(checks) if checks is not None else registered_checks()
    if only is not None:
        wanted = set(only)
        unknown = wanted - {c.id for c in selected}
        if unknown:
            raise ConfigError(
                f"unknown check(s) {', '.join(sorted(unknown))}; known: "
                + ", ".join(c.id for c in selected)
            )
        selected = [c for c in selected if c.id in wanted]
    ctx = CheckContext(store, settings)
    results = []
    for chk in selected:
        severity = overrides.get(chk.id, chk.severity)
        if severity == OFF:
            continue
        result = run_check(ctx, chk, severity)
        progress(
            f"  check {chk.id}: {result.status}, {result.count} finding(s), {result.seconds:.2f} s"
        )
        results.append(result)
    return QualityReport(
        build_id=build_id,
        generated=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        sample=sample,
        vocabularies=_vocabularies(ctx),
        results=results,
    )


def _vocabularies(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    """Source id -> its graphs and main language, for the report's grouping."""
    try:
        graphs, languages = ctx.graphs, ctx.main_languages
    except Exception as exc:  # the report must still be written
        return {"?": {"error": f"{type(exc).__name__}: {exc}"}}
    out: dict[str, dict[str, Any]] = {}
    for iri, info in sorted(graphs.items(), key=lambda item: (item[1].order, item[0])):
        entry = out.setdefault(info.source, {"title": info.title, "graphs": [], "languages": {}})
        entry["graphs"].append(iri)
        if iri in languages:
            entry["languages"][iri] = languages[iri]
    return out


def report_for(
    served_path: Path,
    store: GraphStore,
    settings: Settings,
    *,
    build_id: str = "",
    sample: bool = False,
    rerun: bool = False,
    severities: Mapping[str, str] | None = None,
) -> QualityReport:
    """The report of a served build: the one its build wrote, or a fresh run when there is none
    (or when asked); severity overrides apply either way."""
    overrides = {**configured_severities(settings), **(severities or {})}
    report = None if rerun else read_report(served_path)
    if report is None:
        report = run_checks(store, settings, build_id=build_id, sample=sample, severities=overrides)
    return report.with_severities(overrides)


def current_report(
    settings: Settings, *, rerun: bool = False, severities: Mapping[str, str] | None = None
) -> QualityReport:
    """The report of the build `current` points to (see :func:`report_for`)."""
    served = CurrentStore(settings.store).get()
    return report_for(
        served.path,
        served.store,
        settings,
        build_id=served.build_id,
        sample=served.manifest.sample,
        rerun=rerun,
        severities=severities,
    )
