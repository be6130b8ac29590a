"""The change log of a build: what changed between any two releases of each source, computed
once at build time (:mod:`kll_graph.changes.diff`) and saved next to the store as `changes.json`.

Readers (the CLI, the API, feeds, pages, the re-check of mappings) load it once per served build
(`ServedBuild.memo`) and ask it by release pair, by kind, or by concept. A build without several
releases of any source has no file, and loading gives an empty log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from kll_graph.exceptions import StoreNotFoundError
from kll_graph.files import replace_atomically

#: The file next to the store.
CHANGES_FILE = "changes.json"
#: The layout of the file; a file of another layout is refused with a message to rebuild.
CHANGES_FORMAT = 1

#: Kinds of concept changes, in the order they are reported.
CONCEPT_KINDS = ("added", "removed", "deprecated", "relabelled", "moved", "notation", "definition")
#: Kinds of mapping changes.
MAPPING_KINDS = ("added", "removed", "relation")


@dataclass(frozen=True)
class ConceptChange:
    """One change of one concept between two releases of its source."""

    source: str
    from_version: str
    to_version: str
    concept: str
    #: added | removed | deprecated | relabelled | moved | notation | definition
    kind: str
    #: The language of a relabelled label or changed definition.
    lang: str | None = None
    #: prefLabel | altLabel | hiddenLabel, for relabelled.
    label_kind: str | None = None
    #: The value before and after (a label, a broader concept's IRI, a notation, a definition).
    before: str | None = None
    after: str | None = None
    #: The concept's type (e.g. `occupation`, `isco-group`), when known.
    concept_type: str | None = None
    #: A label to show (English preferred label of the newer release, else of the older).
    label: str | None = None


@dataclass(frozen=True)
class MappingChange:
    """One change of one mapping between two releases of a mapping table or set."""

    source: str
    from_version: str
    to_version: str
    subject: str
    object: str
    #: added | removed | relation
    kind: str
    #: The mapping predicate (a CURIE) before and after.
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class ReleasePair:
    """Two releases of one source compared, with counts per kind and what was not compared."""

    source: str
    from_version: str
    to_version: str
    #: Changes per kind (`added`, `relabelled`, ... for concepts; `mapping_added`, ... for
    #: mappings).
    counts: dict[str, int]
    #: What could not be compared, e.g. "skills: absent from the v1.2.0 package".
    not_compared: list[str]
    #: When the comparison was made (ISO 8601, UTC).
    computed: str
    #: No release of the source lies between the two: a concept's history is read from these
    #: pairs only (the others, e.g. v1 → v3 beside v1 → v2 and v2 → v3, would repeat it).
    consecutive: bool = True


T = TypeVar("T")


def _build(cls: type[T], data: Any, where: str) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    if not isinstance(data, dict) or not {n for n in names if n in data} >= _required(cls):
        raise StoreNotFoundError(f"{where}: an entry is not a {cls.__name__}; rebuild")
    return cls(**{k: v for k, v in data.items() if k in names})


def _required(cls: type[Any]) -> set[str]:
    return {f.name for f in fields(cls) if f.default is MISSING}


@dataclass
class ChangeLog:
    """The change log of one build, indexed by release pair and by concept."""

    pair_list: list[ReleasePair] = field(default_factory=list)
    concept_list: list[ConceptChange] = field(default_factory=list)
    mapping_list: list[MappingChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_pair: dict[tuple[str, str, str], list[ConceptChange]] = {}
        self._by_concept: dict[str, list[ConceptChange]] = {}
        self._mappings_by_pair: dict[tuple[str, str, str], list[MappingChange]] = {}
        steps = {(p.source, p.from_version, p.to_version) for p in self.pair_list if p.consecutive}
        for change in self.concept_list:
            key = (change.source, change.from_version, change.to_version)
            self._by_pair.setdefault(key, []).append(change)
            if key in steps:
                self._by_concept.setdefault(change.concept, []).append(change)
        for mapping in self.mapping_list:
            key = (mapping.source, mapping.from_version, mapping.to_version)
            self._mappings_by_pair.setdefault(key, []).append(mapping)
        order = {(p.source, p.from_version, p.to_version): i for i, p in enumerate(self.pair_list)}
        for changes in self._by_concept.values():
            changes.sort(key=lambda c: order.get((c.source, c.from_version, c.to_version), 0))

    @classmethod
    def load(cls, build_dir: Path) -> ChangeLog:
        """The log saved in a build directory; an empty log when the build computed none."""
        path = build_dir / CHANGES_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise StoreNotFoundError(f"{path}: unreadable change log ({exc}); rebuild") from exc
        if not isinstance(data, dict) or data.get("format") != CHANGES_FORMAT:
            raise StoreNotFoundError(
                f"{path}: a change log of another layout (format {CHANGES_FORMAT} expected); "
                "rebuild with `kll-graph build`"
            )
        where = str(path)
        return cls(
            [_build(ReleasePair, p, where) for p in data.get("pairs", [])],
            [_build(ConceptChange, c, where) for c in data.get("concepts", [])],
            [_build(MappingChange, m, where) for m in data.get("mappings", [])],
        )

    def save(self, build_dir: Path) -> Path:
        """Write the log as `changes.json` in a build directory (atomically)."""
        path = build_dir / CHANGES_FILE
        document = {
            "format": CHANGES_FORMAT,
            "pairs": [asdict(p) for p in self.pair_list],
            "concepts": [_compact(c) for c in self.concept_list],
            "mappings": [_compact(m) for m in self.mapping_list],
        }
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
        replace_atomically(path, text.encode("utf-8"), mode=0o644)
        return path

    def extend(
        self,
        pair: ReleasePair,
        concepts: Iterable[ConceptChange] = (),
        mappings: Iterable[MappingChange] = (),
    ) -> None:
        """Add one compared pair and its changes."""
        self.pair_list.append(pair)
        self.concept_list.extend(concepts)
        self.mapping_list.extend(mappings)
        self.__post_init__()

    def pairs(self) -> list[ReleasePair]:
        """The compared release pairs, sources in configuration order, oldest pair first."""
        return list(self.pair_list)

    def concept_changes(
        self, source: str, from_version: str, to_version: str, kind: str | None = None
    ) -> list[ConceptChange]:
        """The concept changes of one pair (of one kind when given)."""
        found = self._by_pair.get((source, from_version, to_version), [])
        return [c for c in found if kind is None or c.kind == kind]

    def mapping_changes(
        self, source: str, from_version: str, to_version: str, kind: str | None = None
    ) -> list[MappingChange]:
        """The mapping changes of one pair (of one kind when given)."""
        found = self._mappings_by_pair.get((source, from_version, to_version), [])
        return [m for m in found if kind is None or m.kind == kind]

    def history(self, concept_iri: str) -> list[ConceptChange]:
        """Every change of one concept from release to release (consecutive pairs), oldest
        pair first."""
        return list(self._by_concept.get(concept_iri, []))


def _compact(item: ConceptChange | MappingChange) -> dict[str, Any]:
    """An entry without its empty fields (the file stays small; loading fills the defaults)."""
    return {k: v for k, v in asdict(item).items() if v is not None}
