"""The label index: every label and code of every concept, folded for search, built once per build.

(To be split at its section markers: text folding, compiling, the index, lookups.)
"""

from kll_graph.labels.index import (
    LabelIndex,
    autocomplete,
    build_index,
    index_for,
    parse_resolve_request,
    resolve,
    search,
)

__all__ = [
    "LabelIndex",
    "autocomplete",
    "build_index",
    "index_for",
    "parse_resolve_request",
    "resolve",
    "search",
]
