"""What a build carries from step to step: the open store, the plan, what each source gave, and
the summary the manifest records. Build steps (`kll_graph.build.steps`) take a BuildContext.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Store

from kll_graph.importers import GraphInfo
from kll_graph.plan import DataPlan
from kll_graph.settings import Settings, SourceConfig
from kll_graph.store import Manifest

Progress = Callable[[str], None]


@dataclass
class SourceResult:
    """What one source contributed."""

    source: SourceConfig
    graphs: list[GraphInfo]
    seconds: float
    counts: dict[str, int]
    notes: list[str]
    warnings: list[str]
    metadata: list[tuple[NamedNode, Literal | NamedNode]] = field(default_factory=list)
    #: What the source's package lacks (see :class:`kll_graph.importers.SourceReport`).
    lacks: list[str] = field(default_factory=list)


@dataclass
class BuildContext:
    """Handed to build steps: the open store and everything known about this build."""

    settings: Settings
    store: Store
    build_dir: Path
    build_id: str
    plan: DataPlan
    results: list[SourceResult]
    progress: Progress
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    """The summary a build ends with."""

    build_id: str
    path: Path
    manifest: Manifest

    @property
    def triples(self) -> int:
        return self.manifest.triples
