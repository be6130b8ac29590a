"""`kll-graph changes`: one compared release pair of a source, chosen by name, as text, JSON or
CSV. An unknown source, version or kind is one error line listing the ones there are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict

from kll_graph.changes.log import (
    CONCEPT_KINDS,
    MAPPING_KINDS,
    ChangeLog,
    ConceptChange,
    MappingChange,
    ReleasePair,
)
from kll_graph.changes.releases import Release
from kll_graph.exceptions import BadRequestError, NotFoundError

FORMATS = ("text", "json", "csv")
#: The columns of the CSV: concept and mapping changes in one table (`about` tells which).
CSV_COLUMNS = (
    "about",
    "source",
    "from_version",
    "to_version",
    "kind",
    "concept",
    "concept_type",
    "label",
    "lang",
    "label_kind",
    "subject",
    "object",
    "before",
    "after",
)


def find_pair(
    releases: Sequence[Release],
    log: ChangeLog,
    source: str,
    from_version: str | None,
    to_version: str | None,
) -> ReleasePair:
    """The compared pair asked for (the source's newest when versions are left out); an unknown
    source or version, or a pair not compared, is a NotFoundError naming what there is."""
    sources = sorted({r.source for r in releases})
    if source not in sources:
        raise NotFoundError(f"no source {source!r}; the sources are: {', '.join(sources)}")
    versions = [r.version for r in releases if r.source == source]
    for version in (from_version, to_version):
        if version is not None and version not in versions:
            raise NotFoundError(
                f"source {source!r} has no release {version!r}; its releases are: "
                + ", ".join(versions)
            )
    compared = [p for p in log.pairs() if p.source == source]
    if not compared:
        raise NotFoundError(
            f"no changes were computed for {source!r}: it has one release here "
            f"({', '.join(versions)})"
        )
    for pair in reversed(compared):
        if from_version in (None, pair.from_version) and to_version in (None, pair.to_version):
            return pair
    shown = ", ".join(f"{p.from_version} → {p.to_version}" for p in compared)
    raise NotFoundError(
        f"{source!r}: no changes computed from {from_version or 'any'} to {to_version or 'any'}; "
        f"the compared releases are: {shown}"
    )


def check_kind(kind: str | None) -> str | None:
    """A kind filter: a concept or mapping change kind (BadRequestError listing them if not),
    for the CLI's `--kind` and the API's `kind=`."""
    allowed = sorted({*CONCEPT_KINDS, *MAPPING_KINDS})
    if kind is not None and kind not in allowed:
        raise BadRequestError(
            f"no kind of change {kind[:40]!r}; the kinds are: {', '.join(allowed)}",
            parameter="kind",
        )
    return kind


def select(
    log: ChangeLog, pair: ReleasePair, kind: str | None
) -> tuple[list[ConceptChange], list[MappingChange]]:
    """A pair's concept and mapping changes, of one kind when given."""
    args = (pair.source, pair.from_version, pair.to_version)
    concepts = log.concept_changes(*args, kind) if kind is None or kind in CONCEPT_KINDS else []
    mappings = log.mapping_changes(*args, kind) if kind is None or kind in MAPPING_KINDS else []
    return concepts, mappings


def as_json(
    pair: ReleasePair, concepts: Sequence[ConceptChange], mappings: Sequence[MappingChange]
) -> str:
    document = {
        **asdict(pair),
        "concepts": [asdict(c) for c in concepts],
        "mappings": [asdict(m) for m in mappings],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def as_csv(concepts: Sequence[ConceptChange], mappings: Sequence[MappingChange]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for concept in concepts:
        writer.writerow({"about": "concept", **asdict(concept)})
    for mapping in mappings:
        writer.writerow({"about": "mapping", **asdict(mapping)})
    return out.getvalue()


def as_text(
    pair: ReleasePair,
    concepts: Sequence[ConceptChange],
    mappings: Sequence[MappingChange],
    limit: int | None = None,
) -> str:
    """A summary line per kind, what was not compared, then one line per change."""
    lines = [f"{pair.source}: {pair.from_version} → {pair.to_version} (computed {pair.computed})"]
    counts = ", ".join(f"{k} {v}" for k, v in pair.counts.items()) or "no changes"
    lines.append(f"  {counts}")
    lines += [f"  not compared: {item}" for item in pair.not_compared]
    for c in concepts[:limit]:
        what = f"{c.label_kind}@{c.lang}" if c.label_kind else (f"@{c.lang}" if c.lang else "")
        change = f": {c.before} → {c.after}" if c.before or c.after else ""
        lines.append(f"{c.kind:<10} {c.concept} ({c.label or '-'}) {what}{change}".rstrip())
    for m in mappings[:limit]:
        lines.append(
            f"mapping {m.kind:<8} {m.subject} → {m.object}: {m.before or '-'} → {m.after or '-'}"
        )
    shown = len(concepts[:limit]) + len(mappings[:limit])
    if shown < len(concepts) + len(mappings):
        lines.append(f"... {len(concepts) + len(mappings) - shown} more (--limit 0 shows all)")
    return "\n".join(lines)
