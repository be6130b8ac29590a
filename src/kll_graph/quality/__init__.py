"""Quality checks of the built graph, and the one check framework the mapping checks use too.

A check is a function registered with ``@check`` (:mod:`~kll_graph.quality.registry`) that reads
the store through a :class:`CheckContext` (:mod:`~kll_graph.quality.context`) and flags
resources. The SKOS checks live in :mod:`~kll_graph.quality.skos`, SHACL validation in
:mod:`~kll_graph.quality.shacl`. :func:`run_checks` (:mod:`~kll_graph.quality.run`) turns the
flags into :class:`Finding` s of a :class:`QualityReport` (:mod:`~kll_graph.quality.report`),
which the build writes as ``quality.json`` and :mod:`~kll_graph.quality.render` shows as text,
JSON or HTML. The mapping checks (:mod:`kll_graph.mappings.checks`) report with the same
``Finding``, severities and counting.

Importing the package imports :mod:`~kll_graph.quality.skos`, which registers every check.
"""

from kll_graph.quality import skos  # importing it registers the SKOS checks
from kll_graph.quality.context import CheckContext, CheckedGraph
from kll_graph.quality.registry import (
    ERROR,
    INFO,
    OFF,
    SEVERITIES,
    WARNING,
    Check,
    Flag,
    check,
    configured_severities,
    parse_severities,
    registered_checks,
)
from kll_graph.quality.render import counts_text, format_text, quality_view, render, report_page
from kll_graph.quality.report import (
    REPORT_FILE,
    CheckResult,
    Finding,
    QualityReport,
    read_report,
    severity_counts,
    summarize,
    write_report,
)
from kll_graph.quality.run import current_report, report_for, run_check, run_checks
from kll_graph.quality.shacl import validate_shapes

__all__ = [
    "ERROR",
    "INFO",
    "OFF",
    "REPORT_FILE",
    "SEVERITIES",
    "WARNING",
    "Check",
    "CheckContext",
    "CheckResult",
    "CheckedGraph",
    "Finding",
    "Flag",
    "QualityReport",
    "check",
    "configured_severities",
    "counts_text",
    "current_report",
    "format_text",
    "parse_severities",
    "quality_view",
    "read_report",
    "registered_checks",
    "render",
    "report_for",
    "report_page",
    "run_check",
    "run_checks",
    "severity_counts",
    "skos",
    "summarize",
    "validate_shapes",
    "write_report",
]
