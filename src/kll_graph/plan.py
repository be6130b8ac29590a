"""What a build reads: the data directory or the bundled sample, the configured sources found
there, and the sources every build adds (our ontology and mapping sets).

Below every package: the build plans with it, and the mapping checks ask it which sets a build
would compile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from kll_graph import __version__
from kll_graph.exceptions import SourceError
from kll_graph.settings import SAMPLE_DIR, Settings, SourceConfig, check_releases


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
    configured = check_releases(settings.sources, "[[sources]]")
    present = [s for s in configured if s.resolve(data_dir).exists()]
    missing = [s for s in configured if not s.resolve(data_dir).exists() and not s.optional]
    if configured and not present:
        in_sample = tuple(s for s in configured if s.resolve(SAMPLE_DIR).exists())
        skipped = tuple(s for s in configured if s not in in_sample)
        return DataPlan(SAMPLE_DIR, _only_release_current(in_sample), sample=True, skipped=skipped)
    if missing:
        first = missing[0]
        names = ", ".join(f"{s.id} ({s.resolve(data_dir)})" for s in missing)
        raise SourceError(
            first.id,
            f"missing in data directory {data_dir}: {names}. Fetch them, point --data-dir or "
            "$KLL_DATA_DIR at the folder that holds them, or mark them optional = true",
            path=first.resolve(data_dir),
        )
    skipped = tuple(s for s in configured if s not in present)
    for source in skipped:
        others = [s for s in present if s.id == source.id]
        if source.current and others:
            raise SourceError(
                source.id,
                f"the current release ({source.version}) is missing in {data_dir} while "
                f"release(s) {', '.join(s.version for s in others)} are there; fetch it or "
                "mark another release current",
                path=source.resolve(data_dir),
            )
    return DataPlan(data_dir, tuple(present), sample=False, skipped=skipped)


def _only_release_current(sources: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
    """The sample holds one release of a source at most: that one is current."""
    ids = [s.id for s in sources]
    return tuple(replace(s, current=True) if ids.count(s.id) == 1 else s for s in sources)


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
