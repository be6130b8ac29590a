"""IRIs we use everywhere, as pyoxigraph terms.

Source URIs are kept as the sources give them (JobTech, ESCO); only what has no IRI of its own is
minted, under the configurable base (see :func:`minted`).
"""

from __future__ import annotations

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
ESCO = Namespace("http://data.europa.eu/esco/model#")
JOBTECH_CONCEPT = Namespace("http://data.jobtechdev.se/taxonomy/concept/")

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
