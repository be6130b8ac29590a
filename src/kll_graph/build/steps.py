"""Build steps: what runs on the finished, still writable store before it is closed.

Each step adapts one domain package to the build (the label index, the quality checks, the mapping
checks, the mapping coverage): it calls the package's plain functions, writes their artifact into
the build directory and records a summary. The packages know nothing of the build.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time

from kll_graph.build.context import BuildContext
from kll_graph.changes.delta import write_delta
from kll_graph.changes.diff import compare, not_compared
from kll_graph.changes.log import CHANGES_FILE, ChangeLog
from kll_graph.changes.older import ranking, settle_older_concepts
from kll_graph.changes.releases import RELEASES_STEP, Release
from kll_graph.exceptions import BuildError, QualityError
from kll_graph.labels.compile import build_index
from kll_graph.labels.layout import INDEX_FILE
from kll_graph.mappings.checks import FINDINGS_FILE, SUMMARY_FINDINGS, Vocabulary, check_sets
from kll_graph.mappings.coverage import COVERAGE_FILE, coverage, coverage_json
from kll_graph.mappings.sources import MAPPING_IMPORTERS, source_sets
from kll_graph.mappings.sssom import MappingSet
from kll_graph.quality.registry import ERROR, WARNING, configured_severities
from kll_graph.quality.render import counts_text
from kll_graph.quality.report import REPORT_FILE, summarize, write_report
from kll_graph.quality.run import run_checks


def older_concepts(ctx: BuildContext) -> None:
    """Build step: concepts of older releases take the label and last release of the newest
    release that holds them (several sources may know one: the 2020 dump, each mapping table)."""
    ranked = ranking(ctx.summary.get(RELEASES_STEP, []))
    settled = settle_older_concepts(ctx.store, ctx.settings.base_iri, ranked)
    if settled.concepts:
        ctx.summary["older_concepts"] = settled.as_dict()
        ctx.progress(
            f"concepts of older releases: {settled.concepts:,}, {settled.relabelled:,} named by "
            "a newer release's label"
        )


def label_index(ctx: BuildContext) -> None:
    """Build step: write the label index of the new store into the build directory."""
    ctx.progress("building the label index")
    started = time.perf_counter()
    graph_sources = {g.iri.value: r.source.id for r in ctx.results for g in r.graphs}
    index = build_index(ctx.store, ctx.settings.base_iri, graph_sources)
    size = index.save(ctx.build_dir / INDEX_FILE)
    seconds = round(time.perf_counter() - started, 2)
    ctx.summary["labels"] = {
        "concepts": index.concept_count,
        "labels": index.label_count,
        "entries": len(index.entry_text),
        "bytes": size,
        "seconds": seconds,
    }
    ctx.progress(
        f"label index: {index.label_count} labels of {index.concept_count} concepts in {seconds} s"
    )


def quality_checks(ctx: BuildContext) -> None:
    """Check the fresh store, write `quality.json`, record counts; fail only when strict."""
    ctx.progress("running quality checks")
    report = run_checks(
        ctx.store,
        ctx.settings,
        build_id=ctx.build_id,
        sample=ctx.plan.sample,
        severities=configured_severities(ctx.settings),
        progress=ctx.progress,
    )
    write_report(report, ctx.build_dir)
    summary = report.summary()
    ctx.summary["checks"] = {**summary, "report": REPORT_FILE}
    sev = summary["by_severity"]
    failed = summary["failed_checks"]
    if sev[ERROR] or failed:
        message = (
            f"quality checks: {sev[ERROR]} error(s), {sev[WARNING]} warning(s)"
            + (f"; failed checks: {', '.join(failed)}" if failed else "")
            + "; see `kll-graph check` or /-/quality"
        )
        if ctx.settings.strict:
            raise QualityError(
                message + " (strict: the build stops; the current store keeps serving)"
            )
        ctx.warnings.append(message)


def mapping_checks(ctx: BuildContext) -> None:
    """Build step: check every compiled set against the store being built.

    Records counts in ``build.json`` (``steps.mappings``), every finding in
    ``mapping-findings.json`` next to the store, a warning line when there are findings, and
    fails the build only when ``strict`` is set and a check reports an error.
    """
    sets: list[MappingSet] = []
    for result in ctx.results:
        source = result.source
        if source.importer in MAPPING_IMPORTERS:
            sets += source_sets(source, source.resolve(ctx.plan.data_dir), ctx.settings.base_iri)
    if not sets:
        return
    ctx.progress(f"checking {len(sets)} mapping set(s)")
    vocabulary = Vocabulary.from_store(ctx.store, ctx.settings.base_iri)
    findings = check_sets(sets, vocabulary)
    summary = summarize(findings)
    (ctx.build_dir / FINDINGS_FILE).write_text(
        json.dumps([f.file_json() for f in findings], ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    ctx.summary["mappings"] = {
        "sets": [m.set_id for m in sets],
        **summary,
        "findings_file": FINDINGS_FILE,
        "first_findings": [str(f) for f in findings[:SUMMARY_FINDINGS]],
    }
    if findings:
        ctx.warnings.append(
            f"mapping checks: {counts_text(findings)}; see `kll-graph mappings check`"
        )
    if ctx.settings.strict and summary["errors"]:
        raise BuildError(
            f"mapping checks found {summary['errors']} error(s) and strict is set; first: "
            + str(next(f for f in findings if f.severity == ERROR))
        )


def mapping_coverage(ctx: BuildContext) -> None:
    """Build step: the report over all mapping sets (without the unmapped lists), written next
    to the store (``mapping-coverage.json``), so that server processes read it instead of each
    computing it after every build."""
    ctx.progress("measuring mapping coverage")
    report = coverage_json(coverage(ctx.store, ctx.settings.base_iri), limit=0)
    text = json.dumps(report, ensure_ascii=False) + "\n"
    (ctx.build_dir / COVERAGE_FILE).write_text(text, encoding="utf-8")
    ctx.summary["coverage"] = {"file": COVERAGE_FILE}


def _configured_releases(ctx: BuildContext) -> dict[str, list[Release]]:
    """The releases of each configured source with several, oldest first."""
    records = ctx.summary.get(RELEASES_STEP, [])
    configured = {(s.id, s.version) for s in ctx.plan.sources}
    by_source: dict[str, list[Release]] = {}
    for item in records:
        if (item["source"], item["version"]) in configured:
            release = Release(
                source=item["source"],
                version=item["version"],
                graph=item["graph"],
                current=item["current"],
                date=item["date"],
                triples=0,
                checksum=item["checksum"],
                lacks=tuple(item["lacks"]),
                graphs=tuple(item["graphs"]),
            )
            by_source.setdefault(release.source, []).append(release)
    return {source: found for source, found in by_source.items() if len(found) > 1}


def change_log(ctx: BuildContext) -> None:
    """Build step: compare every two releases of each source with several (older to newer), save
    the change log (`changes.json`) and write the delta graphs (insertions, deletions) of each
    pair, so that a user upgrading across several releases asks for one pair."""
    several = _configured_releases(ctx)
    if not several:
        return
    importers = {s.id: s.importer for s in ctx.plan.sources}
    started = time.perf_counter()
    log = ChangeLog()
    deltas: dict[str, list[int]] = {}
    for source, found in several.items():
        is_mapping = importers.get(source) in MAPPING_IMPORTERS
        for (i, older), (j, newer) in itertools.combinations(enumerate(found), 2):
            ctx.progress(f"comparing {source} {older.version} → {newer.version}")
            pair, concepts, mappings = compare(ctx.store, older, newer, mappings=is_mapping)
            log.extend(dataclasses.replace(pair, consecutive=j == i + 1), concepts, mappings)
            skip = not_compared(older, newer)[1]
            inserted, deleted = write_delta(
                ctx.store, ctx.settings.base_iri, older, newer, mappings=is_mapping, skip=skip
            )
            deltas[f"{source} {older.version}..{newer.version}"] = [inserted, deleted]
    log.save(ctx.build_dir)
    ctx.summary["changes"] = {
        "file": CHANGES_FILE,
        "pairs": {f"{p.source} {p.from_version}..{p.to_version}": p.counts for p in log.pairs()},
        "delta_insertions_deletions": deltas,
        "seconds": round(time.perf_counter() - started, 2),
    }


#: The steps, in order: older concepts settled first (everything after reads their labels), then
#: the change log (its delta graphs are in the store the checks see).
BUILD_STEPS = (
    older_concepts,
    change_log,
    label_index,
    quality_checks,
    mapping_checks,
    mapping_coverage,
)
