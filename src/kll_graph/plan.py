"""What a build reads: the data directory or the bundled sample, the configured sources found
there, and the sources every build adds (our ontology and mapping sets).

Below every package: the build plans with it, and the mapping checks ask it which sets a build
would compile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kll_graph import __version__
from kll_graph.exceptions import SourceError
from kll_graph.settings import SAMPLE_DIR, Settings, SourceConfig


@dataclass(frozen=True)
class DataPlan:
    """Which data directory a build reads and which sources it takes from there."""

    data_dir: Path
    sources: tuple[SourceConfig, ...]
    sample: bool
    skipped: tuple[SourceConfig, ...] = ()


def plan_sources(settings: Settings) -> DataPlan:
    """Decide where the sources come from.

    All required sources present: the data directory. None present: the bundled sample (with
    the sources it has), and callers say so plainly. Some present: an error naming the missing.
    """
    data_dir = settings.data_dir
    present = [s for s in settings.sources if s.resolve(data_dir).exists()]
    missing = [s for s in settings.sources if not s.resolve(data_dir).exists() and not s.optional]
    if settings.sources and not present:
        in_sample = tuple(s for s in settings.sources if s.resolve(SAMPLE_DIR).exists())
        skipped = tuple(s for s in settings.sources if s not in in_sample)
        return DataPlan(SAMPLE_DIR, in_sample, sample=True, skipped=skipped)
    if missing:
        first = missing[0]
        names = ", ".join(f"{s.id} ({s.resolve(data_dir)})" for s in missing)
        raise SourceError(
            first.id,
            f"missing in data directory {data_dir}: {names}. Fetch them, point --data-dir or "
            "$KLL_DATA_DIR at the folder that holds them, or mark them optional = true",
            path=first.resolve(data_dir),
        )
    skipped = tuple(s for s in settings.sources if s not in present)
    return DataPlan(data_dir, tuple(present), sample=False, skipped=skipped)


def builtin_sources(settings: Settings) -> tuple[SourceConfig, ...]:
    """What every build adds besides the configured sources: our ontology and mapping sets."""
    sources = [
        SourceConfig(
            id="ontology",
            importer="rdf",
            path=str(settings.ontology_dir.resolve()),
            version=__version__,
            license="https://creativecommons.org/publicdomain/zero/1.0/",
            options={"base_iri": settings.base_iri},
        )
    ]
    if any(settings.mappings_dir.glob("*.sssom.tsv")):
        sources.append(
            SourceConfig(
                id="mappings",
                importer="sssom",
                path=str(settings.mappings_dir.resolve()),
                version="working-copy",
            )
        )
    return tuple(sources)
