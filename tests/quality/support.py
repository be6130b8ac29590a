"""Building tiny fixture stores for the quality-check tests: clean.ttl plus one defect file."""

from __future__ import annotations

import shutil
from pathlib import Path

from kll_graph.build.pipeline import BuildResult, build
from kll_graph.settings import Settings, SourceConfig
from kll_graph.testing import make_settings
from tests import FIXTURES

CHECK_FIXTURES = FIXTURES / "checks"
VOC = "http://example.org/voc/"
OTHER = "http://example.org/other/"


def fixture_settings(root: Path, *files: str, **changes: object) -> Settings:
    """Settings whose only source ("fixture", generic RDF importer) holds the given fixture
    files; the store lives under `root`, and no mapping sets are loaded."""
    data = root / "data"
    voc = data / "voc"
    if voc.exists():
        shutil.rmtree(voc)
    voc.mkdir(parents=True)
    for name in files:
        shutil.copy(CHECK_FIXTURES / name, voc / name)
    (root / "no-mappings").mkdir(exist_ok=True)
    settings = make_settings(root / "store", data_dir=data, mappings_dir=root / "no-mappings")
    source = SourceConfig(id="fixture", importer="rdf", path="voc", version="test")
    return settings.replace(sources=(source,), **changes)


def build_fixture(root: Path, *files: str, **changes: object) -> tuple[Settings, BuildResult]:
    settings = fixture_settings(root, *files, **changes)
    return settings, build(settings)
