"""SPARQL: named queries for the code, and the public endpoint's engine room.

`query` runs the named `.rq` files that every package asks (one question per file, values bound by
substitution); `lexer` reads a query text the way the engine will, to refuse SERVICE and queries
too deep or too large; `formats` writes results; `service` plans and answers one protocol request;
`workers` run queries in killable processes with no network (`sandbox`).

Only the light parts are re-exported here: a worker process starts as `python -m
kll_graph.sparql.workers`, and this package must not import that module before it runs.
"""

from kll_graph.sparql.query import QUERY_DIR, Dataset, execute, named_query, select_named, serialize

__all__ = ["QUERY_DIR", "Dataset", "execute", "named_query", "select_named", "serialize"]
