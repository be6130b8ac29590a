"""The official Reconciliation API schemas and examples (../shared/specs/reconciliation), loaded
for tests: a validator per version and schema name, and the example files by kind."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from kll_graph.settings import REPO_ROOT

SPECS = (REPO_ROOT.parent / "shared" / "specs" / "reconciliation").resolve()
VERSIONS = ("0.2", "1.0-draft")


def need_specs() -> Path:
    if not SPECS.is_dir():
        pytest.skip(f"the reconciliation specs are not at {SPECS}")
    return SPECS


@cache
def _registry(version: str) -> Registry:
    registry: Registry = Registry()
    for file in sorted((SPECS / version / "schemas").glob("*.json")):
        contents = json.loads(file.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        uri = contents.get("$id", "").rstrip("#")
        registry = registry.with_resource(uri, resource)
    return registry


@cache
def validator(version: str, name: str) -> Draft7Validator:
    schema = json.loads((SPECS / version / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, registry=_registry(version))


def check(version: str, name: str, document: Any) -> None:
    """Fail with every schema error when `document` is not valid."""
    errors = sorted(validator(version, name).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def valid(version: str, name: str, document: Any) -> bool:
    return validator(version, name).is_valid(document)


def examples(version: str, kind: str, validity: str) -> list[Path]:
    folder = SPECS / version / "examples" / kind / validity
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
