"""A concept URI as an RDF document: what `/resource?uri=` (and a deployed concept URI itself)
dereferences to for machines, in Turtle, JSON-LD, RDF/XML or N-Triples.

The description is the one named query `concept_document.rq`: the resource's own statements,
those of its blank nodes, the statements of others pointing at it, and the provenance of its
mappings, over the union of all graphs. No HTTP here; :mod:`kll_graph.web.pages` adapts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode, QueryTriples, RdfFormat, Triple, Variable, serialize

from kll_graph.concepts import parse_uri
from kll_graph.exceptions import NotFoundError
from kll_graph.namespaces import PREFIXES, kll
from kll_graph.sparql import named_query
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


def prefixes(base_iri: str) -> dict[str, str]:
    """The prefixes a document is written with (the common ones and our ontology's)."""
    return {**PREFIXES, "kll": str(kll(base_iri))}


def _base_iri(served: ServedBuild) -> str:
    return str(served.manifest.get("base_iri") or "https://w3id.org/kll-graph/")


def triples(served: ServedBuild, uri: str) -> list[Triple]:
    """The statements describing a resource, sorted so documents are stable from build to build.

    A URI the store says nothing about is a NotFoundError; a malformed one a BadRequestError.
    """
    node = parse_uri(uri)
    result = served.store.query(
        named_query("concept_document"),
        use_default_graph_as_union=True,
        substitutions={Variable("c"): node},
    )
    assert isinstance(result, QueryTriples)
    found = set(result)
    if not any(t.subject == node for t in found):
        raise NotFoundError(f"no resource {node.value} in the served store")
    return sorted(found, key=_order(node))


def _order(node: NamedNode):  # type: ignore[no-untyped-def]
    """Sort key: the resource's own statements first, then the others, each by text."""

    def key(triple: Triple) -> tuple[int, str, str, str]:
        own = 0 if triple.subject == node else 1
        return (own, str(triple.subject), str(triple.predicate), str(triple.object))

    return key


def document(served: ServedBuild, uri: str, fmt: DocumentFormat) -> bytes:
    """The resource's description serialized in one format."""
    found = triples(served, uri)
    names = prefixes(_base_iri(served)) if fmt.rdf_format is not RdfFormat.N_TRIPLES else None
    body = serialize(found, format=fmt.rdf_format, prefixes=names)
    assert isinstance(body, bytes)
    return body


def not_found_body(uri: str, fmt: DocumentFormat) -> bytes:
    """The body of a 404 answer in an RDF format: an empty graph with a note where the format
    has comments (so an RDF client parses it, and a person reading it learns why)."""
    note = f"no resource {uri} in this store; search at /search or look up labels at /api/v1"
    if fmt.rdf_format in (RdfFormat.TURTLE, RdfFormat.N_TRIPLES):
        return f"# {note.replace(chr(10), ' ')}\n".encode()
    if fmt.rdf_format is RdfFormat.RDF_XML:
        safe = note.replace("--", "- -")
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f"<!-- {safe} -->\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
        ).encode()
    return b"[]\n"
