"""The catalog graph: every named graph described with VoID, DCAT and PROV.

Integrators ask the catalog what is in the store and where it came from (source file, checksum,
version, triple count, importer, licence, build); `kll-graph info` and `/-/health` read it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, QuerySolutions, Store

from kll_graph.digest import sha256_file
from kll_graph.namespaces import DCAT, DCT, OWL, PROV, RDF, SPDX, VOID, XSD, catalog_iri, kll


@dataclass
class SourceFile:
    """One file a source was read from."""

    relative: str
    sha256: str
    size: int


@dataclass
class GraphEntry:
    """What the catalog says about one named graph."""

    iri: str
    title: str
    source_id: str
    importer: str
    version: str
    url: str = ""
    license: str = ""
    attribution: str = ""
    triples: int = 0
    files: list[SourceFile] = field(default_factory=list)
    extra: list[tuple[NamedNode, Literal | NamedNode]] = field(default_factory=list)


def describe_files(path: Path, base: Path) -> list[SourceFile]:
    """Checksums of a source path (a file, or every file below a directory)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for file in files:
        try:
            relative = str(file.relative_to(base))
        except ValueError:
            relative = file.name
        out.append(SourceFile(relative, sha256_file(file), file.stat().st_size))
    return out


def count_triples(store: Store) -> dict[str, int]:
    """Triples per named graph, in one pass."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    result = store.query(query)
    assert isinstance(result, QuerySolutions)
    return {row["g"].value: int(row["n"].value) for row in result}


def _literal_or_iri(value: str) -> NamedNode | Literal:
    return NamedNode(value) if value.startswith(("http://", "https://")) else Literal(value)


def catalog_quads(
    base_iri: str,
    build_id: str,
    started: str,
    finished: str,
    entries: list[GraphEntry],
    sample: bool,
) -> Iterator[Quad]:
    """The catalog graph's quads."""
    k = kll(base_iri)
    g = catalog_iri(base_iri)
    activity = NamedNode(f"{base_iri}build/{build_id}")
    yield Quad(activity, RDF.type, PROV.Activity, g)
    yield Quad(activity, k.buildId, Literal(build_id), g)
    yield Quad(activity, PROV.startedAtTime, Literal(started, datatype=XSD.dateTime), g)
    yield Quad(activity, PROV.endedAtTime, Literal(finished, datatype=XSD.dateTime), g)
    yield Quad(activity, k.bundledSample, Literal(sample), g)
    for entry in entries:
        node = NamedNode(entry.iri)
        for cls in (VOID.Dataset, DCAT.Dataset, PROV.Entity):
            yield Quad(node, RDF.type, cls, g)
        yield Quad(node, DCT.title, Literal(entry.title, language="en"), g)
        yield Quad(node, DCT.identifier, Literal(entry.source_id), g)
        yield Quad(node, OWL.versionInfo, Literal(entry.version), g)
        yield Quad(node, DCAT.version, Literal(entry.version), g)
        yield Quad(node, VOID.triples, Literal(str(entry.triples), datatype=XSD.integer), g)
        yield Quad(node, k.importer, Literal(entry.importer), g)
        yield Quad(node, PROV.wasGeneratedBy, activity, g)
        if entry.url:
            yield Quad(node, DCT.source, _literal_or_iri(entry.url), g)
        if entry.license:
            yield Quad(node, DCT.license, _literal_or_iri(entry.license), g)
        if entry.attribution:
            yield Quad(node, DCT.rights, Literal(entry.attribution), g)
        for predicate, value in entry.extra:
            yield Quad(node, predicate, value, g)
        for file in entry.files:
            fnode = BlankNode()
            checksum = BlankNode()
            yield Quad(node, PROV.wasDerivedFrom, fnode, g)
            yield Quad(fnode, RDF.type, PROV.Entity, g)
            yield Quad(fnode, DCT.identifier, Literal(file.relative), g)
            yield Quad(fnode, DCAT.byteSize, Literal(str(file.size), datatype=XSD.integer), g)
            yield Quad(fnode, SPDX.checksum, checksum, g)
            yield Quad(checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256, g)
            yield Quad(checksum, SPDX.checksumValue, Literal(file.sha256), g)
