"""What a check reads: the store, and lookups every check shares (computed once, on demand).

:class:`CheckContext` asks the named queries (``queries/check_*.rq``) over the union of all
graphs and keeps what several checks need: the catalogued graphs (:class:`CheckedGraph`), the home
graph of each resource, preferred labels and the main language of each vocabulary. It also holds
the small helpers that turn query results into the text of findings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pyoxigraph import Literal, NamedNode, QuerySolutions, QueryTriples, Variable

from kll_graph.namespaces import PREFIXES, catalog_iri, kll
from kll_graph.settings import Settings
from kll_graph.sparql.query import current_releases, named_query
from kll_graph.store import GraphStore

#: Main language of a vocabulary by importer, when its source does not set `main_language`.
IMPORTER_LANGUAGES = {"jobtech": "sv", "jobtech-legacy": "sv", "esco": "en"}


@dataclass(frozen=True)
class CheckedGraph:
    """A catalogued graph: the source (vocabulary) it came from."""

    iri: str
    source: str
    title: str
    importer: str
    order: int


def value_of(term: Any) -> str:
    """The text of a query result term; empty for an unbound one."""
    return "" if term is None else str(term.value)


class CheckContext:
    """The store being checked plus lookups every check shares, each computed once and only when
    a check needs it: the catalogued graphs, the home graph of each resource, labels and the
    main language of each vocabulary."""

    def __init__(self, store: GraphStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        #: Figures a check leaves for benchmarks and reports (e.g. SHACL groups).
        self.stats: dict[str, int] = {}

    def select(self, name: str, **bindings: NamedNode | Literal) -> list[dict[str, Any]]:
        """Rows of the named query `queries/<name>.rq` over the union graph, as dicts."""
        result = self.store.query(
            named_query(name),
            **current_releases(self.store),
            prefixes=PREFIXES,
            substitutions={Variable(k): v for k, v in bindings.items()},
        )
        assert isinstance(result, QuerySolutions)
        names = [v.value for v in result.variables]
        return [dict(zip(names, row, strict=True)) for row in result]

    def construct(self, name: str, **bindings: NamedNode | Literal) -> QueryTriples:
        result = self.store.query(
            named_query(name),
            **current_releases(self.store),
            prefixes=PREFIXES,
            substitutions={Variable(k): v for k, v in bindings.items()},
        )
        assert isinstance(result, QueryTriples)
        return result

    @cached_property
    def graphs(self) -> dict[str, CheckedGraph]:
        """Catalogued graphs by IRI; order follows the configured sources, then built-ins."""
        order = {s.id: i for i, s in enumerate(self.settings.sources)}
        rows = self.select(
            "check_catalog",
            catalog=catalog_iri(self.settings.base_iri),
            importerProperty=kll(self.settings.base_iri).importer,
        )
        out = {}
        for row in rows:
            source = value_of(row["source"])
            out[value_of(row["graph"])] = CheckedGraph(
                iri=value_of(row["graph"]),
                source=source,
                title=value_of(row["title"]),
                importer=value_of(row["importer"]),
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
            uri, graph = value_of(row["resource"]), value_of(row["graph"])
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
                labels[value_of(row["resource"])].append((label.language or "", label.value))
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
                lang = value_of(row["lang"])
                if lang:
                    counts[value_of(row["graph"])][lang] += int(value_of(row["labels"]))
            for graph in unknown:
                ranked = sorted(counts[graph].items(), key=lambda item: (-item[1], item[0]))
                languages[graph] = ranked[0][0] if ranked else ""
        return languages

    @cached_property
    def schemes(self) -> dict[str, set[str]]:
        """Concept -> the schemes it is in."""
        schemes: dict[str, set[str]] = defaultdict(set)
        for row in self.select("check_schemes"):
            schemes[value_of(row["concept"])].add(value_of(row["scheme"]))
        return dict(schemes)

    @cached_property
    def parents(self) -> dict[str, set[str]]:
        """Concept -> its broader concepts (skos:broader, or skos:narrower read backwards)."""
        parents: dict[str, set[str]] = defaultdict(set)
        for row in self.select("check_hierarchy"):
            parents[value_of(row["concept"])].add(value_of(row["broader"]))
        return dict(parents)

    @cached_property
    def deprecated(self) -> set[str]:
        return {value_of(row["concept"]) for row in self.select("check_deprecated")}

    @cached_property
    def older(self) -> set[str]:
        """Concepts of older releases only (kll:lastSeenIn): absent from the current release."""
        last_seen = kll(self.settings.base_iri).lastSeenIn
        return {
            value_of(row["concept"])
            for row in self.select("check_older_release", lastSeenIn=last_seen)
        }

    @cached_property
    def replacements(self) -> dict[str, set[str]]:
        """Old concept -> the concepts that replace it."""
        links: dict[str, set[str]] = defaultdict(set)
        for row in self.select("check_replacements"):
            links[value_of(row["concept"])].add(value_of(row["replacement"]))
        return dict(links)

    @cached_property
    def concepts(self) -> set[str]:
        """Resources typed skos:Concept (rather than only scheme or collection)."""
        return {value_of(row["concept"]) for row in self.select("check_concepts")}

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


def short_name(uri: str) -> str:
    """A prefixed name where a common prefix fits, for messages.

    >>> short_name("http://www.w3.org/2004/02/skos/core#broader")
    'skos:broader'
    """
    for prefix, namespace in PREFIXES.items():
        if uri.startswith(namespace) and prefix != "jt":
            return f"{prefix}:{uri[len(namespace) :]}"
    return f"<{uri}>"
