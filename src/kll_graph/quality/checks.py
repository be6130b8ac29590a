"""Quality checks in the spirit of qSKOS: what is wrong or doubtful in vocabularies and mappings.

Each check has a stable id, a default severity (error, warning or info; configurable, or "off"), a
title and a one-paragraph explanation of why it matters and how to fix it. Each asks one SPARQL
question (``queries/check_<id>.rq``) over the union of all graphs, so the cost grows with the
data once, not per concept. A finding names the concept (or scheme) URI, its label, the graph
it is in and the vocabulary (source) of that graph.

A check that fails on data it did not expect is reported as failed and the others still run; a
store without one of the expected vocabularies is checked for what it has. The build runs every
check on the fresh store (:func:`kll_graph.build.steps.quality_checks`), writes the report next to
the store (``quality.json``) for ``kll-graph check`` and ``/-/quality``, and fails only under
``strict``.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyoxigraph import Literal, NamedNode, QuerySolutions, QueryTriples, Store, Variable

from kll_graph.exceptions import ConfigError
from kll_graph.namespaces import PREFIXES, catalog_iri, kll
from kll_graph.rdfterms import to_rdflib
from kll_graph.settings import Settings
from kll_graph.sparql.query import named_query

if TYPE_CHECKING:
    import rdflib


#: Severities from most to least serious; "off" in an override disables a check.
SEVERITIES = ("error", "warning", "info")
OFF = "off"
#: The report a build writes next to its store.
REPORT_FILE = "quality.json"
#: Main language of a vocabulary by importer, when its source does not set `main_language`.
IMPORTER_LANGUAGES = {"jobtech": "sv", "jobtech-legacy": "sv", "esco": "en"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Hit:
    """What a check function yields: the resource, what is wrong, and where."""

    concept: str
    message: str
    graph: str | None = None
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One registered check."""

    id: str
    title: str
    severity: str
    explanation: str
    run: Callable[[CheckContext], Iterable[Hit]]


_REGISTRY: dict[str, Check] = {}


def check(
    id: str, title: str, severity: str, explanation: str
) -> Callable[[Callable[[CheckContext], Iterable[Hit]]], Callable[[CheckContext], Iterable[Hit]]]:
    """Decorator: register a check function under a stable id."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity of {id} must be one of {SEVERITIES}")

    def register(func: Callable[[CheckContext], Iterable[Hit]]) -> Callable[..., Iterable[Hit]]:
        _REGISTRY[id] = Check(id, title, severity, " ".join(explanation.split()), func)
        return func

    return register


def registered_checks() -> list[Check]:
    """Every check, in registration order (the order reports list them)."""
    return list(_REGISTRY.values())


def parse_severities(text: str | Iterable[str]) -> dict[str, str]:
    """Severity overrides from ``id=level`` pairs (comma-separated text or a list of pairs).

    >>> parse_severities("orphan-concept=warning, shacl=off")
    {'orphan-concept': 'warning', 'shacl': 'off'}
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    overrides: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, sep, level = item.partition("=")
        name, level = name.strip(), level.strip().lower()
        if not sep or name not in _REGISTRY:
            known = ", ".join(_REGISTRY)
            raise ConfigError(
                f"check severity {item!r}: expected CHECK=LEVEL with CHECK one of: {known}"
            )
        if level not in (*SEVERITIES, OFF):
            raise ConfigError(
                f"check severity {item!r}: level must be one of {', '.join((*SEVERITIES, OFF))}"
            )
        overrides[name] = level
    return overrides


def configured_severities(settings: Settings) -> dict[str, str]:
    """Overrides from the `check_severity` setting (``id=level,...``)."""
    return parse_severities(settings.check_severity)


# --- the data a check reads -----------------------------------------------------------


@dataclass(frozen=True)
class GraphInfo:
    """A catalogued graph: the source (vocabulary) it came from."""

    iri: str
    source: str
    title: str
    importer: str
    order: int


def _value(term: Any) -> str:
    return "" if term is None else str(term.value)


class CheckContext:
    """The store being checked plus lookups every check shares, each computed once and only when
    a check needs it: the catalogued graphs, the home graph of each resource, labels and the
    main language of each vocabulary."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        #: Figures a check leaves for benchmarks and reports (e.g. SHACL groups).
        self.stats: dict[str, int] = {}

    def select(self, name: str, **bindings: NamedNode | Literal) -> list[dict[str, Any]]:
        """Rows of the named query `queries/<name>.rq` over the union graph, as dicts."""
        result = self.store.query(
            named_query(name),
            use_default_graph_as_union=True,
            prefixes=PREFIXES,
            substitutions={Variable(k): v for k, v in bindings.items()},
        )
        assert isinstance(result, QuerySolutions)
        names = [v.value for v in result.variables]
        return [dict(zip(names, row, strict=True)) for row in result]

    def construct(self, name: str, **bindings: NamedNode | Literal) -> QueryTriples:
        result = self.store.query(
            named_query(name),
            use_default_graph_as_union=True,
            prefixes=PREFIXES,
            substitutions={Variable(k): v for k, v in bindings.items()},
        )
        assert isinstance(result, QueryTriples)
        return result

    @cached_property
    def graphs(self) -> dict[str, GraphInfo]:
        """Catalogued graphs by IRI; order follows the configured sources, then built-ins."""
        order = {s.id: i for i, s in enumerate(self.settings.sources)}
        rows = self.select(
            "check_catalog",
            catalog=catalog_iri(self.settings.base_iri),
            importerProperty=kll(self.settings.base_iri).importer,
        )
        out = {}
        for row in rows:
            source = _value(row["source"])
            out[_value(row["graph"])] = GraphInfo(
                iri=_value(row["graph"]),
                source=source,
                title=_value(row["title"]),
                importer=_value(row["importer"]),
                order=order.get(source, len(order)),
            )
        return out

    def _graph_rank(self, graph: str) -> tuple[int, str]:
        info = self.graphs.get(graph)
        return (info.order if info else 1 << 30, graph)

    @cached_property
    def homes(self) -> dict[str, str]:
        """Each concept, scheme and collection -> the graph that types it (first source wins)."""
        homes: dict[str, str] = {}
        for row in self.select("check_resources"):
            uri, graph = _value(row["resource"]), _value(row["graph"])
            if uri not in homes or self._graph_rank(graph) < self._graph_rank(homes[uri]):
                homes[uri] = graph
        return homes

    @cached_property
    def labels(self) -> dict[str, list[tuple[str, str]]]:
        """Preferred labels of every resource as (language, text), sorted."""
        labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in self.select("check_preflabels"):
            label = row["label"]
            if isinstance(label, Literal):
                labels[_value(row["resource"])].append((label.language or "", label.value))
        for values in labels.values():
            values.sort()
        return dict(labels)

    @cached_property
    def main_languages(self) -> dict[str, str]:
        """Graph -> main language: the source's `main_language` option, else the importer's
        language, else the most frequent language of the graph's concept labels."""
        options = {s.id: s.options for s in self.settings.sources}
        languages: dict[str, str] = {}
        unknown: list[str] = []
        for graph in sorted(set(self.homes.values())):
            info = self.graphs.get(graph)
            configured = options.get(info.source, {}).get("main_language") if info else None
            if configured:
                languages[graph] = str(configured)
            elif info and info.importer in IMPORTER_LANGUAGES:
                languages[graph] = IMPORTER_LANGUAGES[info.importer]
            else:
                unknown.append(graph)
        if unknown:  # only then is counting labels per graph worth its cost
            counts: dict[str, Counter[str]] = defaultdict(Counter)
            for row in self.select("check_label_languages"):
                if _value(row["lang"]):
                    counts[_value(row["graph"])][_value(row["lang"])] += int(_value(row["labels"]))
            for graph in unknown:
                ranked = sorted(counts[graph].items(), key=lambda item: (-item[1], item[0]))
                languages[graph] = ranked[0][0] if ranked else ""
        return languages

    @cached_property
    def schemes(self) -> dict[str, set[str]]:
        """Concept -> the schemes it is in."""
        schemes: dict[str, set[str]] = defaultdict(set)
        for row in self.select("check_schemes"):
            schemes[_value(row["concept"])].add(_value(row["scheme"]))
        return dict(schemes)

    @cached_property
    def parents(self) -> dict[str, set[str]]:
        """Concept -> its broader concepts (skos:broader, or skos:narrower read backwards)."""
        parents: dict[str, set[str]] = defaultdict(set)
        for row in self.select("check_hierarchy"):
            parents[_value(row["concept"])].add(_value(row["broader"]))
        return dict(parents)

    @cached_property
    def deprecated(self) -> set[str]:
        return {_value(row["concept"]) for row in self.select("check_deprecated")}

    @cached_property
    def replacements(self) -> dict[str, set[str]]:
        """Old concept -> the concepts that replace it."""
        links: dict[str, set[str]] = defaultdict(set)
        for row in self.select("check_replacements"):
            links[_value(row["concept"])].add(_value(row["replacement"]))
        return dict(links)

    @cached_property
    def concepts(self) -> set[str]:
        """Resources typed skos:Concept (rather than only scheme or collection)."""
        return {_value(row["concept"]) for row in self.select("check_concepts")}

    def ancestors(self, concept: str) -> set[str]:
        """Every concept above `concept` in the hierarchy (cycles are safe)."""
        seen: set[str] = set()
        todo = list(self.parents.get(concept, ()))
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(self.parents.get(node, ()))
        return seen

    @cached_property
    def namespaces(self) -> set[str]:
        """Namespaces (URI up to the last / or #) of the resources in the store."""
        return {namespace_of(uri) for uri in self.homes}

    def label_of(self, uri: str, graph: str | None = None) -> str:
        """The resource's preferred label in its vocabulary's main language, else English,
        else the first one; empty when it has none."""
        values = self.labels.get(uri)
        if not values:
            return ""
        home = graph or self.homes.get(uri, "")
        wanted = [self.main_languages.get(self.homes.get(uri, home), ""), "en"]
        for language in wanted:
            for lang, text in values:
                if language and lang.lower().startswith(language.lower()):
                    return text
        return values[0][1]

    def vocabulary_of(self, graph: str) -> str:
        info = self.graphs.get(graph)
        return info.source if info else graph


def namespace_of(uri: str) -> str:
    """The URI up to and including its last '/' or '#'.

    >>> namespace_of("http://data.europa.eu/esco/isco/C2512")
    'http://data.europa.eu/esco/isco/'
    """
    cut = max(uri.rfind("/"), uri.rfind("#"))
    return uri[: cut + 1]


def _components(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Connected groups of nodes (union-find), each sorted; groups sorted by first member.

    Fed only with edges that lie on a cycle, these are exactly the strongly connected parts.

    >>> _components([("b", "a"), ("a", "b"), ("c", "c")])
    [['a', 'b'], ['c']]
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    groups: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        groups[find(node)].append(node)
    return sorted(sorted(members) for members in groups.values())


def _pairs(links: Mapping[str, set[str]]) -> list[tuple[str, str]]:
    return [(a, b) for a, targets in links.items() for b in targets]


def _cycle_edges(edges: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges that lie on a directed cycle (both ends in one strongly connected component of
    two or more nodes, or a self-loop); iterative Tarjan, so deep hierarchies are safe.

    >>> sorted(_cycle_edges([("a", "b"), ("b", "a"), ("b", "c"), ("d", "d")]))
    [('a', 'b'), ('b', 'a'), ('d', 'd')]
    """
    edges = list(edges)
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
    sizes = Counter(component.values())
    return [
        (a, b)
        for a, b in edges
        if a == b or (component.get(a) == component.get(b) and sizes[component[a]] > 1)
    ]


def _short(uri: str) -> str:
    """A prefixed name where a common prefix fits, for messages.

    >>> _short("http://www.w3.org/2004/02/skos/core#broader")
    'skos:broader'
    """
    for prefix, namespace in PREFIXES.items():
        if uri.startswith(namespace) and prefix != "jt":
            return f"{prefix}:{uri[len(namespace) :]}"
    return f"<{uri}>"


# --- the checks --------------------------------------------------------------------


@check(
    "orphan-concept",
    "Orphan concepts",
    "info",
    """A concept with no semantic relation at all: no broader or narrower concept, no related
    concept and no mapping to another vocabulary. Users who browse the hierarchy never reach it,
    and applications that expand a search along relations never find it. It may be intended
    (a flat list), but often a link was lost in an import. Fix it by placing the concept under a
    broader concept, relating it, or mapping it; if the list is flat on purpose, set this check
    to "off" or "info".""",
)
def orphan_concepts(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_orphan_concept"):
        yield Hit(_value(row["concept"]), "has no broader, narrower, related or mapped concept")


@check(
    "hierarchy-cycle",
    "Cycles in the hierarchy",
    "error",
    """Concepts that are, through a chain of skos:broader (or skos:narrower) links, broader
    than themselves. A hierarchy with a cycle has no top along that path: tree views loop or stop,
    'all narrower concepts' never ends, and counts per group are wrong. Fix it by removing the
    link that points back up (usually the last one added); Skosify's break_cycles can do it at
    build time, but the source should be corrected.""",
)
def hierarchy_cycles(ctx: CheckContext) -> Iterator[Hit]:
    edges = [(child, parent) for child, parents in ctx.parents.items() for parent in parents]
    for members in _components(_cycle_edges(edges)):
        yield Hit(
            members[0],
            f"is on a cycle of {len(members)} concept(s) in the broader hierarchy",
            related=tuple(members[1:]),
        )


@check(
    "missing-preflabel-main-language",
    "Missing preferred label in the vocabulary's main language",
    "error",
    """A concept without a preferred label in the main language of its vocabulary (Swedish for
    the JobTech Taxonomy, English for ESCO, or the source's main_language option). Search, concept
    pages and reconciliation show it by URI only, and people cannot tell what it means. Fix it
    by giving it a skos:prefLabel with that language tag (e.g. "Snickare"@sv).""",
)
def missing_main_language_labels(ctx: CheckContext) -> Iterator[Hit]:
    languages = ctx.main_languages
    for concept, graph in sorted(ctx.homes.items()):
        if concept not in ctx.concepts:
            continue
        language = languages.get(graph, "").lower()
        tags = {lang.lower() for lang, _text in ctx.labels.get(concept, ())}
        if language and any(t == language or t.startswith(language + "-") for t in tags):
            continue
        if not language and tags:
            continue
        what = f"no preferred label in '{language}'" if language else "no preferred label"
        yield Hit(concept, f"has {what}", graph)


@check(
    "multiple-preflabels",
    "More than one preferred label per language",
    "error",
    """A resource with two or more preferred labels in one language breaks SKOS (a resource has
    at most one skos:prefLabel per language tag). Which one an application shows becomes a matter
    of chance, and lookups by label return it under both names. Fix it by keeping one as
    skos:prefLabel and turning the others into skos:altLabel.""",
)
def multiple_preflabels(ctx: CheckContext) -> Iterator[Hit]:
    for resource, labels in sorted(ctx.labels.items()):
        per_language: dict[str, list[str]] = defaultdict(list)
        for lang, text in labels:
            per_language[lang.lower()].append(text)
        for lang, texts in sorted(per_language.items()):
            if len(texts) > 1:
                yield Hit(
                    resource,
                    f"has {len(texts)} preferred labels in '{lang or 'no language'}': "
                    + " | ".join(sorted(texts)),
                )


@check(
    "label-overlap",
    "A label that is both preferred and alternative (or hidden)",
    "error",
    """The same label given to one resource as two of skos:prefLabel, skos:altLabel and
    skos:hiddenLabel. SKOS requires the three to be disjoint; an alternative label equal to the
    preferred one adds nothing and a hidden label equal to a visible one contradicts itself. Fix
    it by deleting the alternative or hidden copy.""",
)
def label_overlap(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_label_overlap"):
        label = row["label"]
        language = getattr(label, "language", None)
        text = f'"{label.value}"' + (f"@{language}" if language else "")
        properties = sorted(_value(row["properties"]).split())
        yield Hit(
            _value(row["resource"]),
            f"{text} is both " + " and ".join(_short(p) for p in properties),
        )


@check(
    "duplicate-preflabel",
    "The same preferred label for two concepts of one scheme",
    "warning",
    """Two or more concepts of one concept scheme share a preferred label (same language,
    ignoring case; deprecated concepts left out). Someone choosing by name cannot tell them apart,
    and matching a label to a URI becomes ambiguous. Fix it by making the labels say what tells
    the concepts apart (e.g. "Montör, el" and "Montör, verkstad"), or merge the concepts if they
    are the same.""",
)
def duplicate_preflabels(ctx: CheckContext) -> Iterator[Hit]:
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    samples: dict[tuple[str, str, str], str] = {}
    deprecated = ctx.deprecated
    for concept, schemes in ctx.schemes.items():
        if concept in deprecated:
            continue
        for lang, text in ctx.labels.get(concept, ()):
            for scheme in schemes:
                key = (scheme, lang.lower(), text.casefold())
                groups[key].add(concept)
                samples[key] = min(samples.get(key, text), text)
    for key, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        concepts = sorted(members)
        scheme = key[0]
        yield Hit(
            concepts[0],
            f'shares the preferred label "{samples[key]}" with {len(concepts) - 1} other '
            f"concept(s) of scheme {ctx.label_of(scheme) or scheme}",
            related=tuple(concepts[1:]),
        )


@check(
    "missing-top-concepts",
    "Concept schemes without top concepts",
    "warning",
    """A concept scheme that holds concepts but names none of them as top concept
    (skos:hasTopConcept / skos:topConceptOf). Browsers start a scheme's tree at its top
    concepts, so such a scheme shows up empty. Fix it by marking the concepts that have no broader
    concept in the scheme as its top concepts; Skosify's mark_top_concepts does this.""",
)
def missing_top_concepts(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_missing_top_concepts"):
        scheme = _value(row["scheme"])
        yield Hit(
            scheme,
            f"holds {_value(row['members'])} concept(s) but has no top concept",
            ctx.homes.get(scheme) or _value(row["graph"]),
        )


@check(
    "top-concept-has-broader",
    "Top concepts that have a broader concept",
    "warning",
    """A concept marked as top concept of a scheme that also has a broader concept in that same
    scheme. It then appears twice in the tree, at the top and under its parent, and the
    hierarchy contradicts itself. Fix it by removing the top-concept mark, or the broader link if
    the concept really starts a branch.""",
)
def top_concept_with_broader(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_top_concepts"):
        concept, scheme = _value(row["concept"]), _value(row["scheme"])
        parents = ctx.parents.get(concept, ())
        broader = sorted(p for p in parents if scheme in ctx.schemes.get(p, ()))
        if broader:
            yield Hit(
                concept,
                f"is a top concept of {ctx.label_of(scheme) or scheme} but has a broader "
                "concept in that scheme",
                related=tuple(broader),
            )


@check(
    "related-in-hierarchy",
    "Related concepts that are also in one broader chain",
    "error",
    """Two concepts linked by skos:related although one is broader than the other through a
    chain of skos:broader links. SKOS keeps associative and hierarchical links disjoint: a
    concept is either a kind of the other or associated with it. Fix it by removing the
    skos:related link (Skosify's remove_related_in_hierarchy does it at build time).""",
)
def related_in_hierarchy(ctx: CheckContext) -> Iterator[Hit]:
    pairs = {
        tuple(sorted((_value(r["concept"]), _value(r["other"]))))
        for r in ctx.select("check_related_in_hierarchy")
    }
    for a, b in sorted(pairs):
        if b in ctx.ancestors(a) or a in ctx.ancestors(b):
            yield Hit(
                a, "is skos:related to a concept it is also hierarchically linked to", related=(b,)
            )


_CLASHES = {
    frozenset(pair)
    for pair in [
        ("exactMatch", "broadMatch"),
        ("exactMatch", "narrowMatch"),
        ("exactMatch", "relatedMatch"),
        ("closeMatch", "broadMatch"),
        ("closeMatch", "narrowMatch"),
        ("closeMatch", "relatedMatch"),
        ("broadMatch", "narrowMatch"),
        ("broadMatch", "relatedMatch"),
        ("narrowMatch", "relatedMatch"),
    ]
}


@check(
    "mapping-clash",
    "Contradicting mapping relations",
    "error",
    """One pair of concepts mapped with relations that cannot both hold, in one mapping set or
    across sets: exact (or close) and broad/narrow, broad and narrow at once, or related together
    with any of them (exact and close together are consistent). Applications that follow the
    mappings get opposite answers depending on which triple they see first. Fix it by keeping the
    one relation that is right, in the SSSOM file or source it came from.""",
)
def mapping_clashes(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_mapping_clash"):
        relations = sorted(set(_value(row["relations"]).split()))
        clashing = sorted(
            f"{x}/{y}"
            for x in relations
            for y in relations
            if x < y and frozenset((x, y)) in _CLASHES
        )
        if not clashing:
            continue
        graphs = sorted(_value(row["graphs"]).split())
        a, b = _value(row["a"]), _value(row["b"])
        yield Hit(
            a,
            f"is mapped to {b} as both "
            + " and ".join(relations)
            + (f" (in {len(graphs)} graphs)" if len(graphs) > 1 else ""),
            graphs[0] if len(graphs) == 1 else None,
            related=(b,),
        )


@check(
    "mapping-within-scheme",
    "Mapping relations inside one concept scheme",
    "warning",
    """A skos:exactMatch, closeMatch, broadMatch, narrowMatch or relatedMatch between two
    concepts of the same concept scheme. Mapping relations link different vocabularies; inside one
    scheme the right links are skos:broader, skos:narrower and skos:related, and an exact match
    there means two concepts should be merged. Fix it by turning the mapping into the matching
    semantic relation, or by merging (deprecate one, dct:isReplacedBy the other).""",
)
def mapping_within_scheme(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_mapping_within_scheme"):
        scheme = _value(row["scheme"])
        other = _value(row["other"])
        yield Hit(
            _value(row["concept"]),
            f"{_short(_value(row['p']))} {other}, although both are in scheme "
            f"{ctx.label_of(scheme) or scheme}",
            _value(row["g"]),
            related=(other,),
        )


@check(
    "deprecated-without-replacement",
    "Deprecated concepts without a replacement",
    "warning",
    """A concept marked owl:deprecated that names no dct:isReplacedBy. Data that still uses it
    (job ads, CVs, older mappings) cannot be moved to a current concept automatically, so it
    quietly drops out of statistics and matching. Fix it by adding dct:isReplacedBy to the concept
    that took over, or say in a skos:changeNote why there is none.""",
)
def deprecated_without_replacement(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_deprecated_without_replacement"):
        yield Hit(_value(row["concept"]), "is deprecated but names no replacement")


@check(
    "replacement-chain",
    "Replaced by a concept that is itself deprecated",
    "warning",
    """A deprecated concept whose dct:isReplacedBy points to another deprecated concept. Anyone
    who follows the replacement once lands on a concept that is not in use either. Fix it by
    pointing the replacement straight at the current concept at the end of the chain (the message
    names it).""",
)
def replacement_chains(ctx: CheckContext) -> Iterator[Hit]:
    replacements = ctx.replacements
    on_cycle = {n for group in _components(_cycle_edges(_pairs(replacements))) for n in group}
    for concept, targets in sorted(replacements.items()):
        if concept in on_cycle:
            continue
        for replacement in sorted(targets):
            if replacement not in ctx.deprecated or replacement in on_cycle:
                continue
            ends = _chain_ends(replacement, replacements)
            end = ", ".join(ends) if ends else "a deprecated concept with no replacement"
            yield Hit(
                concept,
                f"is replaced by {replacement}, which is deprecated too; the chain ends at {end}",
                related=(replacement, *ends),
            )


def _chain_ends(start: str, replacements: Mapping[str, set[str]]) -> list[str]:
    """Where following replacements from `start` stops (concepts that name no replacement)."""
    seen, todo, ends = set(), [start], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        nxt = replacements.get(node, set())
        if nxt:
            todo.extend(nxt)
        elif node != start:
            ends.add(node)
    return sorted(ends)


@check(
    "replacement-cycle",
    "Replacement cycles",
    "error",
    """Concepts whose dct:isReplacedBy links lead back to themselves. Following the
    replacements never reaches a concept in use, and tools that resolve replacements loop. Fix it
    by deciding which concept is current and removing its dct:isReplacedBy (and owl:deprecated).""",
)
def replacement_cycles(ctx: CheckContext) -> Iterator[Hit]:
    for members in _components(_cycle_edges(_pairs(ctx.replacements))):
        yield Hit(
            members[0],
            f"is on a cycle of {len(members)} concept(s) replacing each other",
            related=tuple(members[1:]),
        )


_MAPPING_PREDICATES = {
    "http://www.w3.org/2004/02/skos/core#" + name
    for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
}


@check(
    "dangling-link",
    "Links to concepts that do not exist",
    "error",
    """A hierarchical, associative, scheme, replacement or mapping link whose target is not in
    the store (nothing gives it a type). Concept pages show a dead link, hierarchy queries lose a
    branch, and a replacement leads nowhere. Mapping links count only when the target's
    namespace is loaded (a mapping into a vocabulary the store does not hold is not flagged). Fix
    it by correcting the target URI, loading the missing concept, or removing the link.""",
)
def dangling_links(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_dangling_link"):
        predicate, target = _value(row["p"]), _value(row["target"])
        if predicate in _MAPPING_PREDICATES and namespace_of(target) not in ctx.namespaces:
            continue
        yield Hit(
            _value(row["concept"]),
            f"{_short(predicate)} points to {target}, which is not in the store",
            _value(row["g"]),
            related=(target,),
        )


@check(
    "definition-repeats-label",
    "Definitions that only repeat the label",
    "warning",
    """A skos:definition whose text is nothing but one of the concept's own preferred or
    alternative labels (ignoring case, spaces and punctuation). It looks like documentation but
    tells the reader nothing, and it hides the fact that the definition is missing. Fix it by
    writing what the concept covers and what sets it apart, or remove the definition.""",
)
def definitions_repeating_labels(ctx: CheckContext) -> Iterator[Hit]:
    for row in ctx.select("check_definition_repeats_label"):
        yield Hit(
            _value(row["concept"]),
            f'definition "{_value(row["definition"])}" only repeats a label',
        )


@check(
    "shacl",
    "SHACL shapes (ontology/shapes.ttl)",
    "error",
    """The concepts and other resources checked against the SHACL shapes in ontology/shapes.ttl
    with pySHACL: what a well-formed concept looks like in kll-graph (in a scheme that exists,
    labels with a language tag, notations as literals, substitutability percentages of 25 or
    75). A violation means the data does not have the shape that the API, the concept pages and
    integrators rely on. The message names the property and the shape's own explanation. Fix it
    in the source, or in the importer that produced the triple.""",
)
def shacl_violations(ctx: CheckContext) -> Iterator[Hit]:
    for result in validate_shapes(ctx):
        yield Hit(result.focus, result.message, related=result.values)


# --- SHACL: pySHACL on one representative of each look-alike group of focus nodes ---

SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
#: Constraint components whose outcome depends only on the count, kind, datatype, language and
#: types of the values; for any other component the values themselves go into the grouping key.
_STRUCTURAL = {
    f"{SH}{name}"
    for name in (
        "minCount",
        "maxCount",
        "datatype",
        "nodeKind",
        "class",
        "uniqueLang",
        "languageIn",
        "message",
        "name",
        "description",
        "severity",
        "path",
        "order",
        "group",
        "deactivated",
    )
}
#: Shape features that look beyond the focus node's own values: no grouping is safe with them.
_NESTED = {
    f"{SH}{name}"
    for name in (
        "node",
        "property",
        "qualifiedValueShape",
        "closed",
        "sparql",
        "and",
        "or",
        "xone",
        "not",
    )
}


@dataclass(frozen=True)
class ShaclResult:
    """One SHACL validation result, reduced to what a finding needs."""

    focus: str
    message: str
    values: tuple[str, ...] = ()


def load_shapes(settings: Settings) -> rdflib.Graph:
    """`shapes.ttl` of the ontology directory; relative IRIs resolve against the base IRI."""
    import rdflib

    path = settings.ontology_dir / "shapes.ttl"
    graph = rdflib.Graph()
    if path.is_file():
        graph.parse(path, format="turtle", publicID=settings.base_iri)
    return graph


@dataclass
class _ShapePlan:
    """What the shapes look at: target classes and, per constrained property, whether the
    values themselves (not only their kind and types) decide the outcome."""

    classes: set[str]
    paths: dict[str, bool]
    groupable: bool


def _plan(shapes: rdflib.Graph) -> _ShapePlan:
    import rdflib

    sh = rdflib.Namespace(SH)
    classes = {str(o) for o in shapes.objects(None, sh.targetClass)}
    if any(True for _ in shapes.subject_objects(sh.targetNode)) or any(
        True for p in (sh.targetSubjectsOf, sh.targetObjectsOf) for _ in shapes.subject_objects(p)
    ):
        raise ValueError("shapes.ttl: only sh:targetClass targets are supported")
    paths: dict[str, bool] = {}
    groupable = True
    for shape in set(shapes.subjects(sh.path, None)):
        path = shapes.value(shape, sh.path)
        if not isinstance(path, rdflib.URIRef):
            raise ValueError(f"shapes.ttl: only plain property paths are supported, not {path!r}")
        keys = {str(p) for p in shapes.predicates(shape, None)}
        by_value = bool(keys - _STRUCTURAL - _NESTED - {RDF_TYPE})
        paths[str(path)] = paths.get(str(path), False) or by_value
        groupable = groupable and not (keys & _NESTED)
    for shape in set(shapes.subjects(sh.targetClass, None)):
        keys = {str(p) for p in shapes.predicates(shape, None)}
        groupable = groupable and not (keys & (_NESTED - {f"{SH}property"}))
    return _ShapePlan(classes, paths, groupable)


def validate_shapes(ctx: CheckContext) -> list[ShaclResult]:
    """Validate the store against `shapes.ttl` with pySHACL, fast enough for the whole store.

    Focus nodes whose constrained values look alike (same types; per property the same number
    of values with the same kind, datatype, language and value types, and the same values where
    a constraint such as sh:in looks at them) get the same SHACL results. pySHACL therefore
    validates one representative per group and each result is carried over to every member,
    with the member's own offending values. Results about a value nothing in the store types
    (a dangling link) are left to the dangling-link check, so one defect gives one finding.
    """
    import pyshacl
    import rdflib

    shapes = load_shapes(ctx.settings)
    if len(shapes) == 0:
        return []
    plan = _plan(shapes)
    types: dict[Any, set[str]] = defaultdict(set)
    supers: dict[str, set[str]] = defaultdict(set)
    axioms: list[tuple[str, str]] = []
    for row in ctx.select("check_shacl_types"):
        if row["axiom"] is not None:
            axioms.append((_value(row["s"]), _value(row["o"])))
            supers[_value(row["s"])].add(_value(row["o"]))
        else:
            types[row["s"]].add(_value(row["o"]))
    subclasses = _subclass_closure(plan.classes, supers)
    focus_nodes = sorted(
        (node for node, node_types in types.items() if node_types & subclasses), key=str
    )
    values: dict[str, dict[Any, list[Any]]] = {}
    for path in sorted(plan.paths):
        table: dict[Any, list[Any]] = defaultdict(list)
        for row in ctx.select("check_shacl_property", p=NamedNode(path)):
            table[row["s"]].append(row["o"])
        values[path] = table

    def describe(path: str, value: Any) -> tuple[Any, ...]:
        keep = plan.paths[path]
        if isinstance(value, Literal):
            return ("L", value.datatype.value, value.language or "", value.value if keep else "")
        kind = "I" if isinstance(value, NamedNode) else "B"
        return (kind, tuple(sorted(types.get(value, ()))), str(value) if keep else "")

    groups: dict[Any, list[Any]] = defaultdict(list)
    for node in focus_nodes:
        key: Any = (
            tuple(sorted(types[node])),
            tuple(
                (path, tuple(sorted(describe(path, v) for v in values[path].get(node, ()))))
                for path in sorted(plan.paths)
            ),
        )
        groups[key if plan.groupable else str(node)].append(node)
    data = rdflib.Graph()
    rdf_type = rdflib.RDF.type
    data.addN((rdflib.URIRef(a), rdflib.RDFS.subClassOf, rdflib.URIRef(b), data) for a, b in axioms)
    representatives = {}
    for members in groups.values():
        rep = members[0]
        representatives[rep] = members
        node = to_rdflib(rep)
        data.addN((node, rdf_type, rdflib.URIRef(t), data) for t in types[rep])
        for path in plan.paths:
            for value in values[path].get(rep, ()):
                data.add((node, rdflib.URIRef(path), to_rdflib(value)))
                for t in types.get(value, ()):
                    data.add((to_rdflib(value), rdf_type, rdflib.URIRef(t)))
    ctx.stats["shacl_focus_nodes"] = len(focus_nodes)
    ctx.stats["shacl_groups"] = len(groups)
    _conforms, results, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True, allow_infos=True
    )
    return _expand(results, representatives, values, describe, types)


def _subclass_closure(classes: set[str], supers: Mapping[str, set[str]]) -> set[str]:
    """The target classes and every class below them."""
    found = set(classes)
    changed = True
    while changed:
        changed = False
        for sub, above in supers.items():
            if sub not in found and above & found:
                found.add(sub)
                changed = True
    return found


def _expand(
    results: rdflib.Graph,
    representatives: Mapping[Any, list[Any]],
    values: Mapping[str, Mapping[Any, list[Any]]],
    describe: Callable[[str, Any], tuple[Any, ...]],
    types: Mapping[Any, set[str]],
) -> list[ShaclResult]:
    """pySHACL's results on the representatives, carried over to every member of their group."""
    import rdflib

    sh = rdflib.Namespace(SH)
    by_iri = {rep.value: rep for rep in representatives}
    found: set[ShaclResult] = set()
    for result in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = results.value(result, sh.focusNode)
        path = results.value(result, sh.resultPath)
        value = results.value(result, sh.value)
        component = results.value(result, sh.sourceConstraintComponent)
        rep = by_iri.get(str(focus))
        if rep is None:
            continue
        path_iri = str(path) if isinstance(path, rdflib.URIRef) else ""
        text = str(results.value(result, sh.resultMessage) or component)
        where = _short(path_iri) if path_iri else "shape"
        wanted = None
        if value is not None and path_iri in values:
            rep_value = next(
                (v for v in values[path_iri].get(rep, ()) if to_rdflib(v) == value), None
            )
            wanted = describe(path_iri, rep_value) if rep_value is not None else None
        for member in representatives[rep]:
            offending = [
                v
                for v in values.get(path_iri, {}).get(member, ())
                if wanted is not None and describe(path_iri, v) == wanted
            ]
            if (
                component == sh.ClassConstraintComponent
                and offending
                and all(isinstance(v, NamedNode) and not types.get(v) for v in offending)
            ):
                continue  # the value does not exist at all: dangling-link reports it
            first = offending[0] if offending else None
            text_value = first.value if isinstance(first, NamedNode) else str(first)
            shown = f" (value {text_value})" if offending else ""
            found.add(
                ShaclResult(
                    focus=str(member.value),
                    message=f"{where}: {text}{shown}",
                    values=tuple(str(v.value) for v in offending if isinstance(v, NamedNode)),
                )
            )
    return sorted(found, key=lambda r: (r.focus, r.message))


# --- running and reporting ---------------------------------------------------------


@dataclass
class Finding:
    """One thing a check found, named so a person can go and fix it."""

    check: str
    severity: str
    concept: str
    label: str
    graph: str
    vocabulary: str
    message: str
    related: list[str] = field(default_factory=list)


@dataclass
class CheckResult:
    """What one check did: passed, found something, or failed (crashed) with an error."""

    id: str
    title: str
    severity: str
    explanation: str
    status: str
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def count(self) -> int:
        return len(self.findings)


@dataclass
class QualityReport:
    """All check results of one store, with the vocabularies they were grouped by."""

    build_id: str
    generated: str
    sample: bool
    vocabularies: dict[str, dict[str, Any]]
    results: list[CheckResult]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {s: counts.get(s, 0) for s in SEVERITIES}

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "failed"]

    def problems(self, strict: bool = False) -> int:
        """Errors (findings of severity error plus failed checks); with strict, warnings too."""
        counts = self.by_severity()
        return counts["error"] + len(self.failed) + (counts["warning"] if strict else 0)

    def summary(self) -> dict[str, Any]:
        """Counts for the build summary and the top of every report."""
        return {
            "checks": len(self.results),
            "findings": len(self.findings),
            "by_severity": self.by_severity(),
            "failed_checks": [r.id for r in self.failed],
            "by_check": {r.id: r.count for r in self.results},
            "seconds": round(sum(r.seconds for r in self.results), 2),
        }

    def counts_by_vocabulary(self) -> dict[str, dict[str, int]]:
        """Check id -> vocabulary -> number of findings."""
        table: dict[str, dict[str, int]] = {}
        for result in self.results:
            counts = Counter(f.vocabulary for f in result.findings)
            table[result.id] = dict(sorted(counts.items()))
        return table

    def to_dict(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "generated": self.generated,
            "sample": self.sample,
            "summary": self.summary(),
            "vocabularies": self.vocabularies,
            "checks": [
                {
                    **{k: v for k, v in asdict(r).items() if k != "findings"},
                    "count": r.count,
                    "by_vocabulary": dict(
                        sorted(Counter(f.vocabulary for f in r.findings).items())
                    ),
                    "findings": [asdict(f) for f in r.findings],
                }
                for r in self.results
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        results = []
        for item in data["checks"]:
            findings = [Finding(**f) for f in item["findings"]]
            keys = ("id", "title", "severity", "explanation", "status", "seconds", "error")
            results.append(CheckResult(**{k: item.get(k) for k in keys}, findings=findings))
        return cls(
            build_id=data.get("build_id", ""),
            generated=data.get("generated", ""),
            sample=bool(data.get("sample", False)),
            vocabularies=dict(data.get("vocabularies", {})),
            results=results,
        )

    def with_severities(self, overrides: Mapping[str, str]) -> QualityReport:
        """The same report with some checks' severities changed ("off" drops the check)."""
        results = []
        for result in self.results:
            level = overrides.get(result.id, result.severity)
            if level == OFF:
                continue
            findings = [Finding(**{**asdict(f), "severity": level}) for f in result.findings]
            changed = {**_shallow(result), "severity": level, "findings": findings}
            results.append(CheckResult(**changed))
        return QualityReport(self.build_id, self.generated, self.sample, self.vocabularies, results)


def _shallow(result: CheckResult) -> dict[str, Any]:
    return {k: getattr(result, k) for k in result.__dataclass_fields__}


def _finding(ctx: CheckContext, chk: Check, severity: str, hit: Hit) -> Finding:
    graph = hit.graph or ctx.homes.get(hit.concept, "")
    return Finding(
        check=chk.id,
        severity=severity,
        concept=hit.concept,
        label=ctx.label_of(hit.concept, graph),
        graph=graph,
        vocabulary=ctx.vocabulary_of(graph) if graph else "",
        message=hit.message,
        related=list(hit.related),
    )


def run_check(ctx: CheckContext, chk: Check, severity: str) -> CheckResult:
    """Run one check; an exception makes it a failed result instead of stopping the report."""
    started = time.perf_counter()
    try:
        findings = [_finding(ctx, chk, severity, hit) for hit in chk.run(ctx)]
    except Exception as exc:  # a check must never take the others down with it
        return CheckResult(
            chk.id,
            chk.title,
            severity,
            chk.explanation,
            "failed",
            round(time.perf_counter() - started, 3),
            error=f"{type(exc).__name__}: {exc}",
        )
    findings.sort(key=lambda f: (f.concept, f.message))
    return CheckResult(
        chk.id,
        chk.title,
        severity,
        chk.explanation,
        "findings" if findings else "passed",
        round(time.perf_counter() - started, 3),
        findings,
    )


def run_checks(
    store: Store,
    settings: Settings,
    *,
    build_id: str = "",
    sample: bool = False,
    severities: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    checks: Iterable[Check] | None = None,
    progress: Progress = lambda message: None,
) -> QualityReport:
    """Run the registered checks (or `checks`, or those named in `only`) on a store."""
    overrides = dict(severities or {})
    selected = list(checks) if checks is not None else registered_checks()
    if only is not None:
        wanted = set(only)
        unknown = wanted - {c.id for c in selected}
        if unknown:
            raise ConfigError(
                f"unknown check(s) {', '.join(sorted(unknown))}; known: "
                + ", ".join(c.id for c in selected)
            )
        selected = [c for c in selected if c.id in wanted]
    ctx = CheckContext(store, settings)
    results = []
    for chk in selected:
        severity = overrides.get(chk.id, chk.severity)
        if severity == OFF:
            continue
        result = run_check(ctx, chk, severity)
        progress(
            f"  check {chk.id}: {result.status}, {result.count} finding(s), {result.seconds:.2f} s"
        )
        results.append(result)
    return QualityReport(
        build_id=build_id,
        generated=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        sample=sample,
        vocabularies=_vocabularies(ctx),
        results=results,
    )


def _vocabularies(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    """Source id -> its graphs and main language, for the report's grouping."""
    try:
        graphs, languages = ctx.graphs, ctx.main_languages
    except Exception as exc:  # the report must still be written
        return {"?": {"error": f"{type(exc).__name__}: {exc}"}}
    out: dict[str, dict[str, Any]] = {}
    for iri, info in sorted(graphs.items(), key=lambda item: (item[1].order, item[0])):
        entry = out.setdefault(info.source, {"title": info.title, "graphs": [], "languages": {}})
        entry["graphs"].append(iri)
        if iri in languages:
            entry["languages"][iri] = languages[iri]
    return out


def write_report(report: QualityReport, build_dir: Path) -> Path:
    """Write `quality.json` into a build directory (atomically)."""
    path = build_dir / REPORT_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def read_report(build_dir: Path) -> QualityReport | None:
    """The report a build wrote, or None when it has none."""
    path = build_dir / REPORT_FILE
    if not path.is_file():
        return None
    return QualityReport.from_dict(json.loads(path.read_text(encoding="utf-8")))


def report_for(
    served_path: Path,
    store: Store,
    settings: Settings,
    *,
    build_id: str = "",
    sample: bool = False,
    rerun: bool = False,
    severities: Mapping[str, str] | None = None,
) -> QualityReport:
    """The report of a served build: the one its build wrote, or a fresh run when there is none
    (or when asked); severity overrides apply either way."""
    overrides = {**configured_severities(settings), **(severities or {})}
    report = None if rerun else read_report(served_path)
    if report is None:
        report = run_checks(store, settings, build_id=build_id, sample=sample, severities=overrides)
    return report.with_severities(overrides)


def current_report(
    settings: Settings, *, rerun: bool = False, severities: Mapping[str, str] | None = None
) -> QualityReport:
    """The report of the build `current` points to (see :func:`report_for`)."""
    from kll_graph.store import CurrentStore

    served = CurrentStore(settings.store).get()
    return report_for(
        served.path,
        served.store,
        settings,
        build_id=served.build_id,
        sample=bool(served.manifest.get("sample", False)),
        rerun=rerun,
        severities=severities,
    )


def render(report: QualityReport, fmt: str, settings: Settings, *, limit: int = 10) -> str:
    """The report as text (summary and first findings), JSON (everything) or an HTML page."""
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=1)
    if fmt == "html":
        from kll_graph.web.quality import render_report_html

        return render_report_html(report, settings)
    if fmt == "text":
        return format_text(report, limit=limit)
    raise ConfigError(f"unknown report format '{fmt}'; use text, json or html")


def format_text(report: QualityReport, limit: int = 10) -> str:
    """The terminal report: the summary, then each check with its first `limit` findings."""
    summary = report.summary()
    sev = summary["by_severity"]
    lines = [
        f"quality report for build {report.build_id or '?'}: {summary['findings']} finding(s) "
        f"({sev['error']} error, {sev['warning']} warning, {sev['info']} info) from "
        f"{summary['checks']} checks in {summary['seconds']:.1f} s"
    ]
    if report.sample:
        lines.append("NOTE: this store holds the bundled SAMPLE, not the real data")
    for result in report.failed:
        lines.append(f"FAILED check {result.id}: {result.error}")
    width = max((len(r.id) for r in report.results), default=10)
    for result in report.results:
        per_vocab = Counter(f.vocabulary for f in result.findings)
        vocab = ", ".join(f"{v or '?'} {n}" for v, n in sorted(per_vocab.items()))
        state = "FAILED" if result.status == "failed" else f"{result.count:>6}"
        lines.append(f"{result.id:<{width}}  {result.severity:<7}  {state}  {vocab}")
    for result in report.results:
        if not result.findings:
            continue
        lines.append("")
        lines.append(f"{result.id} ({result.severity}): {result.title}: {result.count}")
        for finding in result.findings[:limit]:
            label = f' "{finding.label}"' if finding.label else ""
            lines.append(f"  {finding.concept}{label} [{finding.vocabulary}] {finding.message}")
        if result.count > limit:
            lines.append(f"  ... and {result.count - limit} more (--format json lists all)")
    return "\n".join(lines)


# --- the build step ----------------------------------------------------------------


__all__ = [
    "SEVERITIES",
    "Check",
    "CheckContext",
    "CheckResult",
    "Finding",
    "Hit",
    "QualityReport",
    "check",
    "format_text",
    "parse_severities",
    "read_report",
    "registered_checks",
    "report_for",
    "run_checks",
    "write_report",
]
