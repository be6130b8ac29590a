"""Checks of mapping sets: is each file well formed, and do its mappings make sense together and
against the loaded vocabularies?

Each finding names its check, the file and line (the SSSOM file, or the CSV line of an official
table), the slot and the concepts involved. Checks with severity ``error`` in a file make the
file unusable: the build refuses it. The others are reported by the build (``build.json``
``steps.mappings``) and by ``kll-graph mappings check``; with ``strict`` the build fails on any
error among them too.

The findings are those of the quality check framework (:class:`kll_graph.quality.report.Finding`,
its severities, counting and one-line text), located in a file rather than at a resource; the
concepts involved are the finding's ``related`` (``concepts`` in ``mapping-findings.json`` and in
``kll-graph mappings check --format json``).

File checks: missing-metadata, missing-column, unknown-column, unknown-metadata, format-note,
not-a-curie, unknown-prefix, unknown-predicate, invalid-justification, invalid-value,
duplicate-row. Set checks (over all sets together): contradicting-predicates,
multiple-exact-matches, exact-match-cycle. Vocabulary checks (need a store): not-in-vocabulary,
deprecated-concept.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from kll_graph.exceptions import StoreNotFoundError
from kll_graph.mappings.sources import configured_sets, load_set_file
from kll_graph.mappings.sssom import (
    BROAD_MATCH,
    BUILTIN_PREFIXES,
    DATE_SLOTS,
    DOUBLE_SLOTS,
    EXACT_MATCH,
    MAPPING_SLOTS,
    NARROW_MATCH,
    NO_TERM_FOUND,
    REQUIRED_COLUMNS,
    REQUIRED_METADATA,
    SET_SLOTS,
    URI_SLOTS,
    Mapping,
    MappingSet,
    expand,
    iter_entity_values,
    mapping_key,
    split_curie,
)
from kll_graph.namespaces import (
    ESCO,
    ESCO_DATA,
    INVERSE_MATCH,
    JOBTECH_CONCEPT,
    MATCH_PREDICATES,
    kll,
)
from kll_graph.quality.registry import ERROR, WARNING
from kll_graph.quality.render import counts_text
from kll_graph.quality.report import Finding, summarize
from kll_graph.sparql.query import select_named
from kll_graph.store import CurrentStore, GraphStore

#: The mapping predicates a set may use: SKOS mapping relations, compiled as they are.
PREDICATES = {f"skos:{name}" for name in MATCH_PREDICATES}
#: Each mapping predicate's inverse, as CURIEs.
INVERSE = {f"skos:{name}": f"skos:{inverse}" for name, inverse in INVERSE_MATCH.items()}
#: The SEMAPV mapping justifications (https://w3id.org/semapv/vocab/).
JUSTIFICATIONS = {
    "semapv:MappingReview",
    "semapv:ManualMappingCuration",
    "semapv:LogicalReasoning",
    "semapv:LexicalMatching",
    "semapv:CompositeMatching",
    "semapv:UnspecifiedMatching",
    "semapv:SemanticSimilarityThresholdMatching",
    "semapv:LexicalSimilarityThresholdMatching",
    "semapv:MappingChaining",
    "semapv:MappingInversion",
    "semapv:StructuralMatching",
    "semapv:InstanceBasedMatching",
    "semapv:BackgroundKnowledgeBasedMatching",
}
#: The SSSOM entity types (subject_type, object_type, predicate_type).
_ENTITY_TYPES = {
    "owl class",
    "owl object property",
    "owl data property",
    "owl annotation property",
    "owl named individual",
    "skos concept",
    "rdfs resource",
    "rdfs class",
    "rdfs literal",
    "rdfs datatype",
    "rdf property",
    "composed entity expression",
}
_ENUMS = {
    "predicate_modifier": {"Not"},
    "mapping_cardinality": {"1:1", "1:n", "n:1", "n:n", "1:0", "0:1", "0:0"},
    "sssom_version": {"1.0", "1.1"},
    "subject_type": _ENTITY_TYPES,
    "object_type": _ENTITY_TYPES,
    "predicate_type": _ENTITY_TYPES,
}
#: Pairs of predicates that cannot both hold between the same two concepts.
CONTRADICTIONS = {
    frozenset({EXACT_MATCH, BROAD_MATCH}),
    frozenset({EXACT_MATCH, NARROW_MATCH}),
    frozenset({BROAD_MATCH, NARROW_MATCH}),
}
_BAD_IRI_CHARS = re.compile(r'[<>"{}|^`\\\s]')


def _file(mset: MappingSet) -> str:
    return str(mset.path) if mset.path is not None else mset.set_id or "<set>"


# --- file checks --------------------------------------------------------------------------------


def check_file(mset: MappingSet) -> list[Finding]:
    """Format and vocabulary-independent content checks of one set."""
    file = _file(mset)
    out = [
        Finding(check="format-note", severity=WARNING, message=note, file=file, line=line)
        for line, note in mset.notes
    ]
    out += _metadata_findings(mset, file)
    out += _column_findings(mset, file)
    out += _value_findings(mset, file)
    out += _duplicate_findings(mset, file)
    return out


def _metadata_findings(mset: MappingSet, file: str) -> Iterator[Finding]:
    for key in REQUIRED_METADATA:
        if not mset.metadata.get(key):
            yield Finding(
                check="missing-metadata",
                severity=ERROR,
                message=f"the metadata block has no {key}; add `#{key}: ...` "
                + ("(an IRI naming this set)" if key == "mapping_set_id" else "(a licence IRI)"),
                file=file,
                line=1,
                slot=key,
            )
    if not mset.curie_map and mset.mappings:
        yield Finding(
            check="missing-metadata",
            severity=ERROR,
            message="the metadata block has no curie_map; declare every prefix the set uses",
            file=file,
            line=1,
            slot="curie_map",
        )
    for key in mset.metadata:
        if key not in SET_SLOTS:
            yield Finding(
                check="unknown-metadata",
                severity=WARNING,
                message=f"{key!r} is not an SSSOM mapping set slot; it is ignored",
                file=file,
                line=mset.metadata_lines.get(key, 1),
                slot=key,
            )
    for prefix, namespace in mset.curie_map.items():
        builtin = BUILTIN_PREFIXES.get(prefix)
        if builtin and builtin != namespace:
            yield Finding(
                check="unknown-prefix",
                severity=ERROR,
                message=f"built-in prefix {prefix!r} redefined as {namespace}; "
                f"it must be {builtin}",
                file=file,
                line=mset.metadata_lines.get("curie_map", 1),
                slot="curie_map",
            )


def _column_findings(mset: MappingSet, file: str) -> Iterator[Finding]:
    if not mset.columns:
        return
    for column in REQUIRED_COLUMNS:
        if column not in mset.columns:
            yield Finding(
                check="missing-column",
                severity=ERROR,
                message=f"the table has no {column} column; required columns: "
                + ", ".join(REQUIRED_COLUMNS),
                file=file,
                line=mset.header_line,
                slot=column,
            )
    for column in mset.columns:
        if column not in MAPPING_SLOTS:
            yield Finding(
                check="unknown-column",
                severity=ERROR,
                message=f"{column!r} is not an SSSOM mapping slot (a typo?); known slots include "
                "subject_id, subject_label, predicate_id, predicate_modifier, object_id, "
                "object_label, mapping_justification, author_id, reviewer_id, confidence, "
                "mapping_date, comment",
                file=file,
                line=mset.header_line,
                slot=column,
            )


def _value_findings(mset: MappingSet, file: str) -> Iterator[Finding]:
    prefixes = mset.prefixes()
    for mapping, slot, value in iter_entity_values(mset):
        line = mapping.line if mapping else mset.metadata_lines.get(slot, 1)
        yield from _curie_findings(value, slot, line, prefixes, file)
    required = [c for c in REQUIRED_COLUMNS if not mset.columns or c in mset.columns]
    for mapping in mset.mappings:
        yield from _mapping_value_findings(mapping, required, file)
    for slot, value in mset.metadata.items():
        if isinstance(value, str):
            problem = _value_problem(slot, value)
            if problem:
                line = mset.metadata_lines.get(slot, 1)
                yield Finding(
                    check="invalid-value",
                    severity=ERROR,
                    message=problem,
                    file=file,
                    line=line,
                    slot=slot,
                )


def _curie_findings(
    value: str, slot: str, line: int, prefixes: dict[str, str], file: str
) -> Iterator[Finding]:
    parts = split_curie(value)
    if parts is None:
        yield Finding(
            check="not-a-curie",
            severity=ERROR,
            message=f"{value!r} is not a CURIE; write identifiers as prefix:local with the prefix "
            "declared in curie_map",
            file=file,
            line=line,
            slot=slot,
            related=(value,),
        )
    elif parts[0] not in prefixes:
        yield Finding(
            check="unknown-prefix",
            severity=ERROR,
            message=f"prefix {parts[0]!r} of {value!r} is not declared in curie_map "
            f"(declared: {', '.join(sorted(prefixes))})",
            file=file,
            line=line,
            slot=slot,
            related=(value,),
        )
    elif _BAD_IRI_CHARS.search(parts[1]):
        yield Finding(
            check="not-a-curie",
            severity=ERROR,
            message=f"{value!r} holds characters an IRI cannot (space, <, >, quote ...)",
            file=file,
            line=line,
            slot=slot,
            related=(value,),
        )


def _mapping_value_findings(mapping: Mapping, required: list[str], file: str) -> Iterator[Finding]:
    concepts = (mapping.get("subject_id"), mapping.get("object_id"))
    predicate = mapping.get("predicate_id")
    if predicate and predicate not in PREDICATES and split_curie(predicate):
        yield Finding(
            check="unknown-predicate",
            severity=ERROR,
            message=f"{predicate!r} is not a mapping predicate we compile; use one of "
            + ", ".join(sorted(PREDICATES)),
            file=file,
            line=mapping.line,
            slot="predicate_id",
            related=concepts,
        )
    justification = mapping.get("mapping_justification")
    if justification and justification not in JUSTIFICATIONS:
        yield Finding(
            check="invalid-justification",
            severity=ERROR,
            message=f"{justification!r} is not a SEMAPV justification; use e.g. "
            "semapv:ManualMappingCuration, semapv:MappingReview, semapv:LexicalMatching",
            file=file,
            line=mapping.line,
            slot="mapping_justification",
            related=concepts,
        )
    for slot in required:  # (a missing column is reported once, for the header)
        if not mapping.get(slot):
            yield Finding(
                check="missing-column",
                severity=ERROR,
                message=f"empty {slot} (required in every row)",
                file=file,
                line=mapping.line,
                slot=slot,
                related=concepts,
            )
    for slot, value in mapping.slots.items():
        problem = _value_problem(slot, value)
        if problem:
            yield Finding(
                check="invalid-value",
                severity=ERROR,
                message=problem,
                file=file,
                line=mapping.line,
                slot=slot,
                related=concepts,
            )


def _value_problem(slot: str, value: str) -> str:
    """What is wrong with a typed value, or ''."""
    if slot in DOUBLE_SLOTS:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return f"{value!r} is not a number"
        if slot != "similarity_score" and not Decimal(0) <= number <= Decimal(1):
            return f"{value} is outside 0..1"
    elif slot in DATE_SLOTS:
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a date written YYYY-MM-DD"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return f"{value!r} is not a date written YYYY-MM-DD"
    elif slot in _ENUMS and value not in _ENUMS[slot]:
        return f"{value!r} is not allowed; expected one of {', '.join(sorted(_ENUMS[slot]))}"
    elif slot in URI_SLOTS:
        for item in value.split("|"):
            if not item.startswith(("http://", "https://")) or _BAD_IRI_CHARS.search(item):
                return f"{item!r} is not an absolute http(s) IRI"
    return ""


def _duplicate_findings(mset: MappingSet, file: str) -> Iterator[Finding]:
    first: dict[tuple[str, str, str, str], int] = {}
    for mapping in mset.mappings:
        key = mapping_key(mapping)
        if key in first:
            yield Finding(
                check="duplicate-row",
                severity=WARNING,
                message=f"the same mapping ({' '.join(k for k in key if k)}) as line {first[key]}",
                file=file,
                line=mapping.line,
                slot="",
                related=(key[0], key[3]),
            )
        else:
            first[key] = mapping.line


# --- set checks (all sets together) -----------------------------------------------------------


@dataclass(frozen=True)
class _Edge:
    """A positive mapping, oriented as written."""

    subject: str  # IRI
    predicate: str  # CURIE (skos:...)
    obj: str
    negated: bool
    file: str
    line: int


def _edges(sets: Iterable[MappingSet]) -> Iterator[_Edge]:
    for mset in sets:
        prefixes = mset.prefixes()
        file = _file(mset)
        for mapping in mset.mappings:
            predicate = mapping.get("predicate_id")
            if mapping.no_term or predicate not in PREDICATES:
                continue
            try:
                subject = expand(mapping.get("subject_id"), prefixes)
                obj = expand(mapping.get("object_id"), prefixes)
            except (KeyError, ValueError):
                continue  # reported by the file checks
            yield _Edge(subject, predicate, obj, mapping.negated, file, mapping.line)


def _where(edges: Iterable[_Edge]) -> str:
    return ", ".join(f"{e.file.rsplit('/', 1)[-1]}:{e.line}" for e in edges)


def check_pairs(sets: list[MappingSet]) -> Iterator[Finding]:
    """Contradicting predicates between the same two concepts, in any set or direction
    (predicates are compared in the direction of the pair's first statement)."""
    pairs: dict[frozenset[str], list[_Edge]] = defaultdict(list)
    for edge in _edges(sets):
        pairs[frozenset((edge.subject, edge.obj))].append(edge)
    for edges in pairs.values():
        first = edges[0]
        stated = [
            (e.predicate if e.subject == first.subject else INVERSE[e.predicate], e.negated)
            for e in edges
        ]
        positive = {p for p, negated in stated if not negated}
        negative = {p for p, negated in stated if negated}
        clashes = [" and ".join(sorted(pair)) for pair in CONTRADICTIONS if pair <= positive]
        clashes += [f"{p} and Not {p}" for p in sorted(positive & negative)]
        if clashes:
            yield Finding(
                check="contradicting-predicates",
                severity=ERROR,
                message=f"{'; '.join(sorted(clashes))} from {first.subject} to {first.obj} "
                f"(stated at {_where(edges)})",
                file=edges[-1].file,
                line=edges[-1].line,
                slot="predicate_id",
                related=(first.subject, first.obj),
            )


def namespace_scheme(iri: str) -> str:
    """A scheme guess from an IRI alone (used when no store tells the concept's type).

    >>> namespace_scheme("http://data.europa.eu/esco/isco/C2512")
    'esco/isco'
    >>> namespace_scheme("http://data.jobtechdev.se/taxonomy/concept/iugg_Qq9_QHH")
    'jobtech'
    """
    if iri.startswith(ESCO_DATA.iri):
        return "esco/" + iri[len(ESCO_DATA.iri) :].split("/", 1)[0]
    if iri.startswith(JOBTECH_CONCEPT.iri):
        return "jobtech"
    return iri.rsplit("/", 1)[0].rsplit("#", 1)[0]


def _exact_graph(sets: list[MappingSet]) -> dict[str, dict[str, list[_Edge]]]:
    graph: dict[str, dict[str, list[_Edge]]] = defaultdict(lambda: defaultdict(list))
    for edge in _edges(sets):
        if edge.predicate == EXACT_MATCH and not edge.negated and edge.subject != edge.obj:
            graph[edge.subject][edge.obj].append(edge)
            graph[edge.obj][edge.subject].append(edge)
    return graph


def check_exact(sets: list[MappingSet], scheme_of: Any = namespace_scheme) -> Iterator[Finding]:
    """Several exact matches into one scheme, and exact-match chains that loop back into a
    scheme at a different concept."""
    graph = _exact_graph(sets)
    yield from _multiple_exact(graph, scheme_of)
    yield from _exact_cycles(graph, scheme_of)


def _multiple_exact(graph: dict[str, dict[str, list[_Edge]]], scheme_of: Any) -> Iterator[Finding]:
    for concept in sorted(graph):
        by_scheme: dict[str, list[str]] = defaultdict(list)
        for other in graph[concept]:
            by_scheme[scheme_of(other)].append(other)
        for scheme, targets in sorted(by_scheme.items()):
            if len(targets) < 2:
                continue
            edges = [e for t in sorted(targets) for e in graph[concept][t]]
            yield Finding(
                check="multiple-exact-matches",
                severity=WARNING,
                message=f"exact match to {len(targets)} concepts of scheme {scheme} "
                f"(at {_where(edges)}); exactMatch is transitive, so those would all be the "
                "same concept",
                file=edges[0].file,
                line=edges[0].line,
                slot="predicate_id",
                related=(concept, *sorted(targets)),
            )


def _exact_cycles(graph: dict[str, dict[str, list[_Edge]]], scheme_of: Any) -> Iterator[Finding]:
    seen: set[str] = set()
    for start in sorted(graph):
        if start in seen:
            continue
        component = _component(graph, start)
        seen |= component
        by_scheme: dict[str, list[str]] = defaultdict(list)
        for node in component:
            by_scheme[scheme_of(node)].append(node)
        for scheme, nodes in sorted(by_scheme.items()):
            finding = _loop_back(graph, sorted(nodes), scheme)
            if finding:
                yield finding
                break


def _component(graph: dict[str, dict[str, list[_Edge]]], start: str) -> set[str]:
    found = {start}
    queue = deque([start])
    while queue:
        for other in graph[queue.popleft()]:
            if other not in found:
                found.add(other)
                queue.append(other)
    return found


def _loop_back(
    graph: dict[str, dict[str, list[_Edge]]], nodes: list[str], scheme: str
) -> Finding | None:
    """Two concepts of one scheme joined by an exact chain through other schemes (longer
    than the two steps that multiple-exact-matches already reports)."""
    for i, first in enumerate(nodes):
        for second in nodes[i + 1 :]:
            path = _path(graph, first, second)
            if path and len(path) > 3:
                edges = [graph[a][b][0] for a, b in pairwise(path)]
                return Finding(
                    check="exact-match-cycle",
                    severity=ERROR,
                    message=f"exact matches lead from one concept of scheme {scheme} through "
                    f"{len(path) - 2} concepts of other schemes back to another "
                    f"(at {_where(edges)}); transitively they would be the same concept",
                    file=edges[0].file,
                    line=edges[0].line,
                    slot="predicate_id",
                    related=tuple(path),
                )
    return None


def _path(graph: dict[str, dict[str, list[_Edge]]], start: str, goal: str) -> list[str] | None:
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            step = previous[node]
            while step is not None:
                path.append(step)
                step = previous[step]
            return path[::-1]
        for other in sorted(graph[node]):
            if other not in previous:
                previous[other] = node
                queue.append(other)
    return None


# --- vocabulary checks (need the loaded vocabularies) -----------------------------------------


@dataclass
class Vocabulary:
    """What the store knows of the mapped concepts: present, deprecated, and their scheme."""

    present: set[str] = field(default_factory=set)
    deprecated: set[str] = field(default_factory=set)
    schemes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store: GraphStore, base_iri: str) -> Vocabulary:
        vocabulary = cls()
        result = select_named(store, "mappings_vocabulary", conceptType=kll(base_iri).conceptType)
        for row in result:
            iri = row["concept"].value
            vocabulary.present.add(iri)
            if row["deprecated"] is not None and row["deprecated"].value == "true":
                vocabulary.deprecated.add(iri)
            if row["scheme"] is not None:
                scheme = row["scheme"].value
                vocabulary.schemes[iri] = scheme.replace(ESCO.iri, "esco:")
        return vocabulary

    def scheme_of(self, iri: str) -> str:
        return self.schemes.get(iri) or namespace_scheme(iri)


def check_vocabulary(sets: list[MappingSet], vocabulary: Vocabulary) -> Iterator[Finding]:
    """Mapped concepts missing from the loaded vocabularies, or deprecated there."""
    for mset in sets:
        prefixes = mset.prefixes()
        file = _file(mset)
        for mapping in mset.mappings:
            for slot in ("subject_id", "object_id"):
                value = mapping.get(slot)
                if not value or value == NO_TERM_FOUND:
                    continue
                try:
                    iri = expand(value, prefixes)
                except (KeyError, ValueError):
                    continue
                if iri not in vocabulary.present:
                    yield Finding(
                        check="not-in-vocabulary",
                        severity=ERROR,
                        message=f"{value} is not in the loaded vocabularies (a typo, a concept of "
                        "another version, or a source that is not loaded)",
                        file=file,
                        line=mapping.line,
                        slot=slot,
                        related=(iri,),
                    )
                elif iri in vocabulary.deprecated:
                    yield Finding(
                        check="deprecated-concept",
                        severity=WARNING,
                        message=f"{value} is deprecated; map its replacement instead",
                        file=file,
                        line=mapping.line,
                        slot=slot,
                        related=(iri,),
                    )


# --- all together -------------------------------------------------------------------------------


def check_sets(sets: list[MappingSet], vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every check over a collection of sets; vocabulary checks only with a vocabulary."""
    findings: list[Finding] = []
    for mset in sets:
        findings += check_file(mset)
    findings += check_pairs(sets)
    scheme_of = vocabulary.scheme_of if vocabulary is not None else namespace_scheme
    findings += check_exact(sets, scheme_of)
    if vocabulary is not None:
        findings += check_vocabulary(sets, vocabulary)
    return findings


def file_errors(mset: MappingSet) -> list[Finding]:
    """The findings that make a file unusable (the build refuses it)."""
    return [f for f in check_file(mset) if f.severity == ERROR]


#: How many findings build.json lists (all of them go to mapping-findings.json).
SUMMARY_FINDINGS = 50
FINDINGS_FILE = "mapping-findings.json"


@dataclass
class CheckReport:
    """What `kll-graph mappings check` shows: the sets, the findings and what was not run."""

    sets: list[MappingSet]
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    def to_json(self) -> dict[str, Any]:
        return {
            "sets": [
                {"id": m.set_id, "file": _file(m), "mappings": len(m.mappings)} for m in self.sets
            ],
            **summarize(self.findings),
            "notes": self.notes,
            "findings": [f.file_json() for f in self.findings],
        }

    def to_text(self) -> str:
        mappings = sum(len(m.mappings) for m in self.sets)
        return "\n".join(
            [
                *(str(f) for f in self.findings),
                *self.notes,
                f"{len(self.sets)} set(s), {mappings:,} mappings: {counts_text(self.findings)}",
            ]
        )


def check_report(
    settings: Any, files: list[Any] | None = None, *, use_store: bool = True
) -> CheckReport:
    """Check the given files, or every set a build would compile, against the current store
    when there is one (vocabulary checks are skipped, with a note, when there is none)."""

    sets = (
        [load_set_file(p, settings.base_iri) for p in files] if files else configured_sets(settings)
    )
    notes = []
    vocabulary = None
    if use_store:
        try:
            served = CurrentStore(settings.store).get()
            vocabulary = Vocabulary.from_store(served.store, settings.base_iri)
            notes.append(f"vocabulary checks against build {served.build_id}")
        except StoreNotFoundError:
            notes.append(f"no built store in {settings.store}: vocabulary checks not run")
    else:
        notes.append("vocabulary checks not run (--no-store)")
    return CheckReport(sets, check_sets(sets, vocabulary), notes)
