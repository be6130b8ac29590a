"""Terms between pyoxigraph and rdflib, for the parts that need rdflib's ecosystem
(Skosify in normalisation, pySHACL in the checks) while the store stays Oxigraph."""

from __future__ import annotations

from typing import Any

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode


def to_rdflib(term: Any) -> Any:
    """An rdflib term for a pyoxigraph term.

    >>> to_rdflib(Literal('x', language='sv'))
    rdflib.term.Literal('x', lang='sv')
    """

    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError(f"unexpected RDF term {term!r}")


def to_oxigraph(term: Any) -> Any:
    """A pyoxigraph term for an rdflib term (the inverse of :func:`to_rdflib`)."""

    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return Literal(str(term), language=term.language)
        if term.datatype is not None:
            return Literal(str(term), datatype=NamedNode(str(term.datatype)))
        return Literal(str(term))
    raise TypeError(f"unexpected rdflib term {term!r}")
