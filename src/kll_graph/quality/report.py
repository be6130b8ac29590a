"""The report model: one :class:`Finding` type for every check, check results, and ``quality.json``.

A finding is either about a resource in the store (the SKOS checks: ``concept``, its ``label``,
``graph`` and ``vocabulary``) or about a place in a file (the mapping checks: ``file``, ``line``,
``slot``); both name their check, severity, message and the other resources involved
(``related``). Each kind keeps its own JSON shape (:meth:`Finding.resource_json` for
``quality.json`` and ``/-/quality.json``, :meth:`Finding.file_json` for ``mapping-findings.json``),
but counting, severities and the one-line text form are shared.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kll_graph.quality.registry import ERROR, OFF, SEVERITIES, WARNING

#: The report a build writes next to its store.
REPORT_FILE = "quality.json"


@dataclass(frozen=True)
class Finding:
    """One thing a check found, named so a person can go and fix it.

    `related` holds the other resources involved: for a SKOS check those beside `concept`
    (the other members of a cycle, a link's target ...); for a mapping check every concept of
    the mapping(s), with `concept` left empty.
    """

    check: str
    severity: str
    message: str
    concept: str = ""
    label: str = ""
    graph: str = ""
    vocabulary: str = ""
    related: tuple[str, ...] = ()
    file: str = ""
    line: int | None = None
    slot: str = ""

    def resource_json(self) -> dict[str, Any]:
        """A finding about a resource, as ``quality.json`` and ``/-/quality.json`` hold it."""
        return {
            "check": self.check,
            "severity": self.severity,
            "concept": self.concept,
            "label": self.label,
            "graph": self.graph,
            "vocabulary": self.vocabulary,
            "message": self.message,
            "related": list(self.related),
        }

    @classmethod
    def from_resource_json(cls, data: Mapping[str, Any]) -> Finding:
        """The inverse of :meth:`resource_json`."""
        return cls(
            check=data["check"],
            severity=data["severity"],
            message=data["message"],
            concept=data.get("concept", ""),
            label=data.get("label", ""),
            graph=data.get("graph", ""),
            vocabulary=data.get("vocabulary", ""),
            related=tuple(data.get("related", ())),
        )

    def file_json(self) -> dict[str, Any]:
        """A finding at a place in a file, as ``mapping-findings.json`` holds it."""
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "slot": self.slot or None,
            "concepts": list(self.related),
        }

    def __str__(self) -> str:
        """One line: where, severity, check, slot, message and the resources involved."""
        where = self.file + (f":{self.line}" if self.line else "") if self.file else self.concept
        what = f" {self.slot}:" if self.slot else ""
        related = f" [{', '.join(self.related)}]" if self.related else ""
        return f"{where}: {self.severity} {self.check}:{what} {self.message}{related}"


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, every severity listed (most serious first)."""
    counts = Counter(f.severity for f in findings)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def summarize(findings: list[Finding]) -> dict[str, Any]:
    """Errors, warnings and findings per check (sorted by check id), for build.json and the
    one-line counts of a text report."""
    counts = severity_counts(findings)
    return {
        "errors": counts[ERROR],
        "warnings": counts[WARNING],
        "by_check": dict(sorted(Counter(f.check for f in findings).items())),
    }


@dataclass
class CheckResult:
    """What one check did: passed, found something, or failed (crashed) with an error."""

    id: str
    title: str
    severity: str
    explanation: str
    status: str
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def count(self) -> int:
        return len(self.findings)

    def by_vocabulary(self) -> dict[str, int]:
        """Vocabulary -> number of findings, sorted by vocabulary."""
        return dict(sorted(Counter(f.vocabulary for f in self.findings).items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "explanation": self.explanation,
            "status": self.status,
            "seconds": self.seconds,
            "error": self.error,
            "count": self.count,
            "by_vocabulary": self.by_vocabulary(),
            "findings": [f.resource_json() for f in self.findings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            id=data["id"],
            title=data["title"],
            severity=data["severity"],
            explanation=data["explanation"],
            status=data["status"],
            seconds=data["seconds"],
            findings=[Finding.from_resource_json(f) for f in data["findings"]],
            error=data.get("error"),
        )


@dataclass
class QualityReport:
    """All check results of one store, with the vocabularies they were grouped by."""

    build_id: str
    generated: str
    sample: bool
    vocabularies: dict[str, dict[str, Any]]
    results: list[CheckResult]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def by_severity(self) -> dict[str, int]:
        return severity_counts(self.findings)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "failed"]

    def problems(self, strict: bool = False) -> int:
        """Errors (findings of severity error plus failed checks); with strict, warnings too."""
        counts = self.by_severity()
        return counts[ERROR] + len(self.failed) + (counts[WARNING] if strict else 0)

    def summary(self) -> dict[str, Any]:
        """Counts for the build summary and the top of every report."""
        return {
            "checks": len(self.results),
            "findings": len(self.findings),
            "by_severity": self.by_severity(),
            "failed_checks": [r.id for r in self.failed],
            "by_check": {r.id: r.count for r in self.results},
            "seconds": round(sum(r.seconds for r in self.results), 2),
        }

    def counts_by_vocabulary(self) -> dict[str, dict[str, int]]:
        """Check id -> vocabulary -> number of findings."""
        return {result.id: result.by_vocabulary() for result in self.results}

    def to_dict(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "generated": self.generated,
            "sample": self.sample,
            "summary": self.summary(),
            "vocabularies": self.vocabularies,
            "checks": [r.to_json() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        return cls(
            build_id=data.get("build_id", ""),
            generated=data.get("generated", ""),
            sample=bool(data.get("sample", False)),
            vocabularies=dict(data.get("vocabularies", {})),
            results=[CheckResult.from_json(item) for item in data["checks"]],
        )

    def with_severities(self, overrides: Mapping[str, str]) -> QualityReport:
        """The same report with some checks' severities changed ("off" drops the check)."""
        results = []
        for result in self.results:
            level = overrides.get(result.id, result.severity)
            if level == OFF:
                continue
            findings = [replace(f, severity=level) for f in result.findings]
            results.append(replace(result, severity=level, findings=findings))
        return QualityReport(self.build_id, self.generated, self.sample, self.vocabularies, results)


def write_report(report: QualityReport, build_dir: Path) -> Path:
    """Write `quality.json` into a build directory (atomically)."""
    path = build_dir / REPORT_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def read_report(build_dir: Path) -> QualityReport | None:
    """The report a build wrote, or None when it has none."""
    path = build_dir / REPORT_FILE
    if not path.is_file():
        return None
    return QualityReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
