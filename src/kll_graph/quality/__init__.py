"""Quality checks of the built graph and the report they make.

(To become one check framework that the mapping checks use too.)
"""

from kll_graph.quality.checks import Finding, QualityReport, run_checks

__all__ = ["Finding", "QualityReport", "run_checks"]
