"""IRIs we use everywhere, as pyoxigraph terms, each IRI base declared once.

Source URIs are kept as the sources give them (JobTech, ESCO); only what has no IRI of its own is
minted, under the configurable base (see :func:`minted`). Every other module takes its IRI bases
from here rather than writing them out (`tests/test_namespaces.py` holds src to that), and so
do the SKOS match predicates, their inverses and :func:`compact` (IRI → CURIE).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pyoxigraph import NamedNode


class Namespace:
    """A namespace IRI; `NS.term` and `NS["term"]` give a NamedNode.

    Not a str subclass on purpose: str methods (title, count, index ...) would shadow terms.

    >>> SKOS.prefLabel.value
    'http://www.w3.org/2004/02/skos/core#prefLabel'
    >>> DCT.title.value
    'http://purl.org/dc/terms/title'
    """

    __slots__ = ("iri",)

    def __init__(self, iri: str) -> None:
        self.iri = iri

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return NamedNode(self.iri + name)

    def __getitem__(self, name: str) -> NamedNode:
        return NamedNode(self.iri + name)

    def __str__(self) -> str:
        return self.iri

    def __repr__(self) -> str:
        return f"Namespace({self.iri!r})"


RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SKOSXL = Namespace("http://www.w3.org/2008/05/skos-xl#")
DCT = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VOID = Namespace("http://rdfs.org/ns/void#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SH = Namespace("http://www.w3.org/ns/shacl#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")
SSSOM = Namespace("https://w3id.org/sssom/")
PAV = Namespace("http://purl.org/pav/")
#: ZBW skos-history: version history and the delta graphs between versions.
SKOS_HISTORY = Namespace("http://purl.org/skos-history/")
#: ESCO's data IRIs: its concepts (occupation/, skill/, isco/ ...), schemes, skill types.
ESCO_DATA = Namespace("http://data.europa.eu/esco/")
#: ESCO's vocabulary (the classes and properties of its model); prefix `esco:` in SPARQL.
ESCO = Namespace(ESCO_DATA.iri + "model#")
#: ESCO's concept schemes (`esco/concept-scheme/isco` ...).
ESCO_SCHEME = Namespace(ESCO_DATA.iri + "concept-scheme/")
#: ESCO's ISCO-08 groups (`esco/isco/C2654`).
ESCO_ISCO = Namespace(ESCO_DATA.iri + "isco/")
#: JobTech Taxonomy concepts, by concept id.
JOBTECH_CONCEPT = Namespace("http://data.jobtechdev.se/taxonomy/concept/")
#: The base IRI kll-graph mints under unless the `base_iri` setting says otherwise.
DEFAULT_BASE_IRI = "https://w3id.org/kll-graph/"

#: The SKOS mapping relations, by local name (`skos:exactMatch` ...), in the order shown.
MATCH_PREDICATES: tuple[str, ...] = (
    "exactMatch",
    "closeMatch",
    "broadMatch",
    "narrowMatch",
    "relatedMatch",
)
#: A mapping read from its object: the relation stating the same from the other side (broad and
#: narrow swap; exact, close and related are symmetric).
INVERSE_MATCH: dict[str, str] = {
    **{name: name for name in MATCH_PREDICATES},
    "broadMatch": "narrowMatch",
    "narrowMatch": "broadMatch",
}

#: Default prefixes offered to SPARQL users and serializers.
PREFIXES: dict[str, str] = {
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "skosxl": str(SKOSXL),
    "dct": str(DCT),
    "dcat": str(DCAT),
    "void": str(VOID),
    "prov": str(PROV),
    "esco": str(ESCO),
    "jt": str(JOBTECH_CONCEPT),
    "semapv": str(SEMAPV),
}


def split_iri(iri: str, prefixes: Mapping[str, str] = PREFIXES) -> tuple[str, str] | None:
    """(prefix, local part) of an IRI under the longest namespace it starts with, else None.

    >>> split_iri("http://data.europa.eu/esco/model#Occupation")
    ('esco', 'Occupation')
    >>> split_iri("http://example.org/x") is None
    True
    """
    prefix, namespace = "", ""
    for name, candidate in prefixes.items():
        if len(candidate) > len(namespace) and iri.startswith(candidate):
            prefix, namespace = name, candidate
    return (prefix, iri[len(namespace) :]) if namespace else None


def compact(iri: str, prefixes: Mapping[str, str] = PREFIXES) -> str:
    """A CURIE for an IRI under a known prefix, else the IRI itself (for display: a local part
    that is not a plain name keeps the whole IRI).

    >>> compact("http://data.europa.eu/esco/model#Occupation")
    'esco:Occupation'
    >>> compact("http://example.org/x")
    'http://example.org/x'
    """
    parts = split_iri(iri, prefixes)
    if parts is not None and re.fullmatch(r"[\w.\-]+", parts[1]):
        return f"{parts[0]}:{parts[1]}"
    return iri


def kll(base_iri: str) -> Namespace:
    """The ontology namespace under a base IRI.

    >>> kll("https://example.org/kll/").conceptType.value
    'https://example.org/kll/ontology#conceptType'
    """
    return Namespace(f"{base_iri}ontology#")


def minted(base_iri: str, *parts: str) -> NamedNode:
    """An IRI minted under the base, from path segments.

    >>> minted("https://example.org/kll/", "graph", "esco", "v1.1.1").value
    'https://example.org/kll/graph/esco/v1.1.1'
    """
    return NamedNode(base_iri + "/".join(parts))


def graph_iri(base_iri: str, source_id: str, version: str) -> NamedNode:
    """The named graph of one source at one version.

    >>> graph_iri("https://example.org/kll/", "jobtech", "unknown").value
    'https://example.org/kll/graph/jobtech/unknown'
    """
    return minted(base_iri, "graph", source_id, version)


def catalog_iri(base_iri: str) -> NamedNode:
    """The graph that describes every other graph (VoID/DCAT/PROV)."""
    return minted(base_iri, "graph", "catalog")
