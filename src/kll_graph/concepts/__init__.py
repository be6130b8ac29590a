"""The read model that the JSON API, the HTML pages and the RDF documents share (no Flask here).

`lookup` reads one concept, the schemes and their hierarchies as plain dicts; `browse` composes
what each lookup page shows; `rdfdoc` describes a URI as an RDF document; `document_cache` keeps
costly documents once per build.
"""

from kll_graph.concepts.lookup import (
    IRI_PATTERN,
    MAX_URI_LENGTH,
    concept,
    find_scheme,
    narrower,
    parse_uri,
    schemes,
    top_concepts,
)

__all__ = [
    "IRI_PATTERN",
    "MAX_URI_LENGTH",
    "concept",
    "find_scheme",
    "narrower",
    "parse_uri",
    "schemes",
    "top_concepts",
]
