"""The test suite; fixture files are in `fixtures/`."""

from pathlib import Path

#: Small input files the tests build stores from, one per defect or feature.
FIXTURES = Path(__file__).parent / "fixtures"
