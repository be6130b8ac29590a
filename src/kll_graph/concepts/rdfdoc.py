"""A concept URI as an RDF document: what `/resource?uri=` (and a deployed concept URI itself)
dereferences to for machines, in Turtle, JSON-LD, RDF/XML or N-Triples.

The description is the one named query `concept_document.rq`: the resource's own statements,
those of its blank nodes, the statements of others pointing at it, and the provenance of its
mappings, over the union of all graphs. No HTTP here; :mod:`kll_graph.web.pages` adapts it.

Most descriptions are a few dozen statements, but that of a concept scheme or a class grows with
the data: the ESCO skills scheme has 34,863 (every skill states `skos:inScheme` and many
`skos:topConceptOf` it), 5 MB of Turtle. So a description is cut into pages of at most
:data:`PAGE_TRIPLES` statements, in a stable order with the resource's own statements first: the
document is page 1, and the others are asked for with `page=`. A paged document says so, in a
comment where the format has comments, and the web layer adds `Link` headers (`next`, `prev`,
`first`, `last`), as W3C Linked Data Platform Paging does; the whole description at once is a
CONSTRUCT query for the SPARQL endpoint, which has its own limits.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pyoxigraph import NamedNode, QueryTriples, RdfFormat, Triple, Variable, serialize

from kll_graph.concepts.lookup import parse_uri
from kll_graph.exceptions import NotFoundError
from kll_graph.namespaces import PREFIXES, kll
from kll_graph.sparql.query import DatasetOptions, current_releases, named_query
from kll_graph.store import ServedBuild


@dataclass(frozen=True)
class DocumentFormat:
    """One RDF serialization a concept document is offered in."""

    name: str
    extension: str
    media_type: str
    rdf_format: RdfFormat
    label: str

    @property
    def content_type(self) -> str:
        """The Content-Type header value (text types carry the charset)."""
        if self.media_type.startswith("text/") or self.media_type == "application/n-triples":
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


#: The formats, best first: the server's order breaks ties in content negotiation.
FORMATS: tuple[DocumentFormat, ...] = (
    DocumentFormat("turtle", "ttl", "text/turtle", RdfFormat.TURTLE, "Turtle"),
    DocumentFormat("jsonld", "jsonld", "application/ld+json", RdfFormat.JSON_LD, "JSON-LD"),
    DocumentFormat("rdfxml", "rdf", "application/rdf+xml", RdfFormat.RDF_XML, "RDF/XML"),
    DocumentFormat("ntriples", "nt", "application/n-triples", RdfFormat.N_TRIPLES, "N-Triples"),
)
BY_EXTENSION = {f.extension: f for f in FORMATS}
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
MEDIA_TYPES: tuple[str, ...] = tuple(f.media_type for f in FORMATS)
#: Most statements in one page of a document: about 0.7 MB of Turtle, 1 MB of RDF/XML. No concept
#: of the real data has this many; schemes and classes do.
PAGE_TRIPLES = 5_000


@dataclass(frozen=True)
class Document:
    """A resource's description serialized in one format, cut into pages."""

    uri: str
    format: DocumentFormat
    #: The body of each page (one for all but the largest descriptions).
    pages: tuple[bytes, ...]
    #: Statements in the whole description.
    total: int

    @property
    def size(self) -> int:
        """The memory the document holds, as the document cache counts it: its bodies, the
        tuple of them, its URI (request data) and itself; the format is a shared constant."""
        held = (self, self.pages, self.uri, *self.pages)
        return sum(sys.getsizeof(part) for part in held)

    def page(self, number: int) -> bytes:
        """The body of page `number` (from 1); past the last page a NotFoundError."""
        if not 1 <= number <= len(self.pages):
            raise NotFoundError(
                f"there is no page {number} of the description of {self.uri}: it has "
                f"{len(self.pages)} page(s) ({self.total:,} statements); 'page' must be 1 to "
                f"{len(self.pages)}"
            )
        return self.pages[number - 1]


def prefixes(base_iri: str) -> dict[str, str]:
    """The prefixes a document is written with (the common ones and our ontology's)."""
    return {**PREFIXES, "kll": str(kll(base_iri))}


def _base_iri(served: ServedBuild) -> str:
    return served.manifest.base_iri


def triples(served: ServedBuild, uri: str) -> list[Triple]:
    """The statements describing a resource, sorted so documents are stable from build to build.

    A URI the store says nothing about is a NotFoundError; a malformed one a BadRequestError.
    """
    node = described(served, uri)
    found = _document(served, node, current_releases(served))
    if not found:  # a concept only releases outside the default graph hold
        found = _document(served, node, {"use_default_graph_as_union": True})
    return sorted(found, key=_order(node))


def _document(served: ServedBuild, node: NamedNode, dataset: DatasetOptions) -> set[Triple]:
    result = served.store.query(
        named_query("concept_document"), **dataset, substitutions={Variable("c"): node}
    )
    assert isinstance(result, QueryTriples)
    return set(result)


def described(served: ServedBuild, uri: str) -> NamedNode:
    """The URI as a node when the store has statements about it, else a NotFoundError.

    One index lookup, before any query: a class such as `skos:Concept` is the object of 34,944
    statements but the subject of none, and used to be queried in full only to be refused.
    """
    node = parse_uri(uri)
    if next(iter(served.store.quads_for_pattern(node, None, None)), None) is None:
        raise NotFoundError(f"no resource {node.value} in the served store")
    return node


def _order(node: NamedNode) -> Callable[[Triple], tuple[int, str, str, str]]:
    """Sort key: the resource's own statements first, then the others, each by text."""

    def key(triple: Triple) -> tuple[int, str, str, str]:
        own = 0 if triple.subject == node else 1
        return (own, str(triple.subject), str(triple.predicate), str(triple.object))

    return key


def document(served: ServedBuild, uri: str, fmt: DocumentFormat) -> Document:
    """The resource's description serialized in one format, every page of it (serializing is
    quick next to the query, and a cached document then answers any page)."""
    found = triples(served, uri)
    names = prefixes(_base_iri(served)) if fmt.rdf_format is not RdfFormat.N_TRIPLES else None
    count = max(1, math.ceil(len(found) / PAGE_TRIPLES))
    pages = []
    for number in range(1, count + 1):
        chunk = found[(number - 1) * PAGE_TRIPLES : number * PAGE_TRIPLES]
        body = serialize(chunk, format=fmt.rdf_format, prefixes=names)
        assert isinstance(body, bytes)
        if count > 1:
            body = _with_note(body, fmt, page_note(uri, number, count, len(found)))
        pages.append(body)
    return Document(uri, fmt, tuple(pages), len(found))


def page_note(uri: str, number: int, pages: int, total: int) -> str:
    """What a page of a paged document says about itself and where the rest is.

    >>> print(page_note("http://example.org/s", 2, 7, 34_863))
    page 2 of 7 of the description of <http://example.org/s>: statements 5,001 to 10,000 of \
34,863, the resource's own first. Pages 1 to 7: this URL with page=N; the next is page=3 (HTTP \
Link headers rel=next, prev, first, last). All at once: a CONSTRUCT query at /sparql.
    """
    first = (number - 1) * PAGE_TRIPLES + 1
    last = min(number * PAGE_TRIPLES, total)
    following = f"; the next is page={number + 1}" if number < pages else ""
    return (
        f"page {number} of {pages} of the description of <{uri}>: statements {first:,} to "
        f"{last:,} of {total:,}, the resource's own first. Pages 1 to {pages}: this URL with "
        f"page=N{following} (HTTP Link headers rel=next, prev, first, last). All at once: a "
        "CONSTRUCT query at /sparql."
    )


def _with_note(body: bytes, fmt: DocumentFormat, note: str) -> bytes:
    """The body with the note as a comment where the format has comments (JSON-LD has none:
    there the Link header alone tells)."""
    if fmt.rdf_format in (RdfFormat.TURTLE, RdfFormat.N_TRIPLES):
        return f"# {_one_line(note)}\n".encode() + body
    if fmt.rdf_format is RdfFormat.RDF_XML:
        declaration, newline, rest = body.partition(b"\n")
        if declaration.startswith(b"<?xml"):
            comment = f"<!-- {_one_line(note).replace('--', '- -')} -->\n".encode()
            return declaration + newline + comment + rest
    return body


def _one_line(text: str) -> str:
    return " ".join(text.split())


def not_found_body(uri: str, fmt: DocumentFormat) -> bytes:
    """The body of a 404 answer in an RDF format: an empty graph with a note where the format
    has comments (so an RDF client parses it, and a person reading it learns why)."""
    note = f"no resource {uri} in this store; search at /search or look up labels at /api/v1"
    if fmt.rdf_format in (RdfFormat.TURTLE, RdfFormat.N_TRIPLES):
        return f"# {_one_line(note)}\n".encode()
    if fmt.rdf_format is RdfFormat.RDF_XML:
        safe = note.replace("--", "- -")
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f"<!-- {safe} -->\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
        ).encode()
    return b"[]\n"
