"""Helpers shared by the SPARQL tests: tiny stores built from fixture RDF with the real build."""

from __future__ import annotations

import shutil
from pathlib import Path

from kll_graph.build.pipeline import build
from kll_graph.namespaces import graph_iri
from kll_graph.settings import Settings, SourceConfig
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings
from tests import FIXTURES

SPARQL_FIXTURES = FIXTURES / "sparql"
JOBTECH_SOURCE = SourceConfig(id="fx-jobtech", importer="rdf", path="jobtech.ttl", version="test")
ESCO_SOURCE = SourceConfig(id="fx-esco", importer="rdf", path="esco.ttl", version="test")
JT = "http://data.jobtechdev.se/taxonomy/concept/"


def fixture_settings(root: Path, data_dir: Path = SPARQL_FIXTURES, **changes: object) -> Settings:
    """Settings whose sources are the two fixture files (plus the ontology every build adds)."""
    settings = make_settings(root / "store", data_dir=data_dir, **changes)
    return settings.replace(sources=(JOBTECH_SOURCE, ESCO_SOURCE))


def build_fixture_store(
    root: Path, data_dir: Path = SPARQL_FIXTURES, **changes: object
) -> Settings:
    """Build the fixture data into `root/store`; returns the settings that point at it."""
    settings = fixture_settings(root, data_dir, **changes)
    build(settings)
    return settings


def copy_fixtures(target: Path) -> Path:
    """A writable copy of the fixture files (to change the data between two builds)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SPARQL_FIXTURES.glob("*.ttl"):
        shutil.copy(path, target / path.name)
    return target


def jobtech_graph(settings: Settings) -> str:
    return graph_iri(settings.base_iri, JOBTECH_SOURCE.id, JOBTECH_SOURCE.version).value


def esco_graph(settings: Settings) -> str:
    return graph_iri(settings.base_iri, ESCO_SOURCE.id, ESCO_SOURCE.version).value


def current(settings: Settings) -> CurrentStore:
    return CurrentStore(settings.store)
