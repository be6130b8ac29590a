"""The label index: every label, code and id of every concept, searchable in milliseconds.

Oxigraph has no text index, and a SPARQL `FILTER(CONTAINS(...))` reads every label. So the build
reads all labels once, in a few bulk SPARQL scans (one per predicate), and writes this index next
to the store (`labels.idx`); lookup, autocomplete, resolve and reconciliation all read it.

What is indexed, per concept: skos:prefLabel, altLabel and hiddenLabel in every language, every
skos:notation with its code system (the literal's datatype), the JobTech id, legacy AMS ids and
the concept URI itself. Case, Unicode form and diacritics are folded for matching ("lakare" finds
"Läkare"), and the exact spelling ranks higher.

The modules, in reading order:

- :mod:`~kll_graph.labels.text`: folding text into matching keys; Swedish compound parts.
- :mod:`~kll_graph.labels.layout`: what an index holds (entry kinds, match tiers, score bits,
  the :class:`~kll_graph.labels.layout.IndexData` record `labels.idx` stores).
- :mod:`~kll_graph.labels.read`: reading a store's concepts in bulk.
- :mod:`~kll_graph.labels.compile`: compiling them into an index (:func:`build_index`).
- :mod:`~kll_graph.labels.index`: the loaded :class:`LabelIndex`: matching, ranking, presenting.
- :mod:`~kll_graph.labels.lookup`: the index of a served build (:func:`index_for`) and the
  lookups as the API offers them (validated input, plain dicts out).
"""

from kll_graph.labels.compile import build_index
from kll_graph.labels.index import LabelIndex
from kll_graph.labels.layout import INDEX_FILE
from kll_graph.labels.lookup import (
    MAX_AUTOCOMPLETE,
    MAX_BATCH,
    MAX_CANDIDATES,
    MAX_OFFSET,
    MAX_QUERY_LENGTH,
    MAX_SEARCH_PAGE,
    autocomplete,
    index_for,
    parse_resolve_request,
    resolve,
    search,
)

__all__ = [
    "INDEX_FILE",
    "MAX_AUTOCOMPLETE",
    "MAX_BATCH",
    "MAX_CANDIDATES",
    "MAX_OFFSET",
    "MAX_QUERY_LENGTH",
    "MAX_SEARCH_PAGE",
    "LabelIndex",
    "autocomplete",
    "build_index",
    "index_for",
    "parse_resolve_request",
    "resolve",
    "search",
]
