"""Running SPARQL on a store and serializing the results: no HTTP here.

The CLI `query` verb and the `/sparql` endpoint share this module. The default graph is the
union of all named graphs unless the caller names graphs.
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
from kll_graph.namespaces import PREFIXES
from kll_graph.sparql.lexer import has_dataset_clause
from kll_graph.store import GraphStore

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

    The default graph is the union of all graphs unless the protocol names graphs
    (`dataset`) or the query has its own `FROM` / `FROM NAMED` clauses, which then hold.
    `prefixes` (default: the common ones) may be used in the query without declaring them.
    """
    dataset = dataset or Dataset()
    kwargs: _QueryOptions = {"prefixes": prefixes or PREFIXES}
    if dataset.default_graphs:
        kwargs["default_graph"] = [NamedNode(g) for g in dataset.default_graphs]
    elif not dataset.named_graphs and not has_dataset_clause(query):
        kwargs["use_default_graph_as_union"] = True
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


def select_named(store: GraphStore, name: str, **bindings: NamedNode | Literal) -> QuerySolutions:
    """Run a named SELECT over the union graph with variables bound by substitution."""
    result = store.query(
        named_query(name),
        use_default_graph_as_union=True,
        substitutions={Variable(k): v for k, v in bindings.items()},
    )
    assert isinstance(result, QuerySolutions)
    return result
