"""Running SPARQL on a store and serializing the results: no HTTP here.

The CLI `query` verb and the `/sparql` endpoint share this module. The default graph is the
union of the named graphs of the current releases (every graph but those of releases not current
and the delta graphs between releases, see :func:`default_dataset`) unless the caller names graphs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypedDict

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Variable,
)

from kll_graph.exceptions import QueryError
from kll_graph.namespaces import DCAT, PREFIXES, SKOS_HISTORY
from kll_graph.sparql.lexer import has_dataset_clause
from kll_graph.store import GraphStore, ServedBuild

Result = QuerySolutions | QueryBoolean | QueryTriples

#: Short format names (CLI `--format`, `?format=`) for SELECT/ASK results.
SOLUTION_FORMATS: dict[str, QueryResultsFormat] = {
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
}
#: Short format names for CONSTRUCT/DESCRIBE results.
GRAPH_FORMATS: dict[str, RdfFormat] = {
    "ttl": RdfFormat.TURTLE,
    "nt": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
    "rdfxml": RdfFormat.RDF_XML,
    "nq": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
}


class _QueryOptions(TypedDict, total=False):
    """The keyword arguments :func:`execute` passes to ``Store.query``."""

    prefixes: dict[str, str]
    use_default_graph_as_union: bool
    default_graph: list[NamedNode | BlankNode | DefaultGraph]
    named_graphs: list[NamedNode | BlankNode]


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of a query (SPARQL Protocol `default-graph-uri`, `named-graph-uri`)."""

    default_graphs: Sequence[str] = ()
    named_graphs: Sequence[str] = ()


def execute(
    store: GraphStore,
    query: str,
    dataset: Dataset | None = None,
    *,
    prefixes: dict[str, str] | None = None,
) -> Result:
    """Run a query; a syntax error becomes a QueryError carrying the parser's message.

    The default graph is the union of the current releases' graphs (:func:`default_dataset`)
    unless the protocol names graphs (`dataset`) or the query has its own `FROM` / `FROM NAMED`
    clauses, which then hold. `GRAPH` still reaches every graph, any release.
    `prefixes` (default: the common ones) may be used in the query without declaring them.
    """
    dataset = dataset or Dataset()
    kwargs: _QueryOptions = {"prefixes": prefixes or PREFIXES}
    if dataset.default_graphs:
        kwargs["default_graph"] = [NamedNode(g) for g in dataset.default_graphs]
    elif not dataset.named_graphs and not has_dataset_clause(query):
        current = default_dataset(store)
        if current is None:
            kwargs["use_default_graph_as_union"] = True
        else:
            kwargs["default_graph"] = list(current)
    if dataset.named_graphs:
        kwargs["named_graphs"] = [NamedNode(g) for g in dataset.named_graphs]
    try:
        return store.query(query, **kwargs)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from exc
    except ValueError as exc:
        raise QueryError(str(exc)) from exc


def serialize(result: Result, fmt: str | None, output: IO[bytes]) -> None:
    """Write a result in a short-named format; None picks TSV for solutions, Turtle for graphs."""
    if isinstance(result, QueryTriples):
        name = fmt or "ttl"
        if name not in GRAPH_FORMATS:
            allowed = ", ".join(GRAPH_FORMATS)
            raise QueryError(f"format '{name}' does not fit a graph result; use one of {allowed}")
        result.serialize(output, GRAPH_FORMATS[name])
        return
    name = fmt or "tsv"
    if name not in SOLUTION_FORMATS:
        allowed = ", ".join(SOLUTION_FORMATS)
        raise QueryError(f"format '{name}' does not fit a SELECT/ASK result; use one of {allowed}")
    result.serialize(output, SOLUTION_FORMATS[name])


#: The named queries, one question per `.rq` file, shared by every package.
QUERY_DIR = Path(__file__).parent.parent / "queries"


@functools.cache
def named_query(name: str) -> str:
    """The text of `queries/<name>.rq`: one SPARQL question per file, values bound by callers
    with ``substitutions=`` and never pasted in."""
    return (QUERY_DIR / f"{name}.rq").read_text(encoding="utf-8")


def default_dataset(source: GraphStore | ServedBuild) -> list[NamedNode] | None:
    """The graphs of the default graph when some graphs are left out of it (releases that are
    not current, delta graphs), else None: the union of all graphs.

    The catalog says which graphs those are; a store without several releases of a source has
    no `dcat:hasVersion` statement, and one index lookup tells so. Of a served build it is
    worked out once (on a store with older releases that takes two queries, and a concept page
    asks a dozen named queries over the current releases).
    """
    if isinstance(source, ServedBuild):
        served = source
        return served.memo("sparql.default_dataset", lambda: default_dataset(served.store))
    store = source
    marked = (DCAT.hasVersion, SKOS_HISTORY.usingNamedGraph)
    if all(next(iter(store.quads_for_pattern(None, p, None, None)), None) is None for p in marked):
        return None
    left_out = {row[0] for row in _rows(store, "not_default_graphs")}
    if not left_out:
        return None
    return [g for g in (row[0] for row in _rows(store, "all_graphs")) if g not in left_out]


def _rows(store: GraphStore, name: str) -> QuerySolutions:
    result = store.query(named_query(name))
    assert isinstance(result, QuerySolutions)
    return result


class DatasetOptions(TypedDict, total=False):
    """The keyword arguments of ``Store.query`` that choose its dataset."""

    use_default_graph_as_union: bool
    default_graph: list[NamedNode | BlankNode | DefaultGraph]
    named_graphs: list[NamedNode | BlankNode]


def current_releases(source: GraphStore | ServedBuild) -> DatasetOptions:
    """``Store.query`` options reading the current releases: the default graph their union and
    `GRAPH ?g` ranging over their graphs (and the catalog's). Readers that answer about "the"
    vocabulary (the label index, checks, coverage, concept documents) query with these."""
    current = default_dataset(source)
    if current is None:
        return {"use_default_graph_as_union": True}
    return {"default_graph": list(current), "named_graphs": list(current)}


def select_named(
    source: GraphStore | ServedBuild,
    name: str,
    /,
    *,
    every_release: bool = False,
    **bindings: NamedNode | Literal,
) -> QuerySolutions:
    """Run a named SELECT over the current releases (:func:`current_releases`) of a store or a
    served build with variables bound by substitution; `every_release` reads the union of all
    graphs instead (every release and the delta graphs)."""
    store = source.store if isinstance(source, ServedBuild) else source
    options: DatasetOptions = (
        {"use_default_graph_as_union": True} if every_release else current_releases(source)
    )
    result = store.query(
        named_query(name),
        substitutions={Variable(k): v for k, v in bindings.items()},
        **options,
    )
    assert isinstance(result, QuerySolutions)
    return result
