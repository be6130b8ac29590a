"""The schema helper reads the official examples as their test.sh does: valid ones pass."""

from __future__ import annotations

import json

import pytest

from tests.reconcile import spec

KINDS = (
    "manifest",
    "reconciliation-result-batch",
    "data-extension-response",
    "reconciliation-query-batch",
)


@pytest.mark.parametrize("version", spec.VERSIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_helper_accepts_valid_and_refuses_invalid_examples(version: str, kind: str) -> None:
    spec.need_specs()
    name = "reconciliation-query-batch" if kind == "reconciliation-query-batch" else kind
    for file in spec.examples(version, kind, "valid"):
        assert spec.valid(version, name, json.loads(file.read_text())), file
    for file in spec.examples(version, kind, "invalid"):
        assert not spec.valid(version, name, json.loads(file.read_text())), file
