"""The JobTech legacy-id importer: the 2020 dump `concept-to-taxonomy.json`.

Shape: ``{"<concept id>": {"legacyAmsTaxonomyId", "preferredLabel", "type"}, ...}``. Every entry
gives its concept `kll:legacyAmsId`, so ids of Arbetsförmedlingen's older (AMS) taxonomy resolve
to the official concept URI. The dump also holds concept types that the current dataset files do
not (municipality, continent, occupation-field, skill-headline, driving-licence ...): concepts of
those types are imported in full (class, scheme, Swedish label, type, id) and marked with
`kll:sourceDataset` = this source's graph, because they come only from this 2020 snapshot.

Which types the datasets have is read from the store being built (the `jobtech` source is
imported first, as `kll-graph.toml` lists it), so this importer needs no path to the datasets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions

from kll_graph.importers import ImportContext, register
from kll_graph.importers.jobtech import (
    CONCEPT_TYPES,
    concept_iri,
    read_json,
    scheme_iri,
    type_class_name,
)
from kll_graph.namespaces import RDF, SKOS, kll

_TYPES_IN_STORE = """
SELECT DISTINCT ?type WHERE { GRAPH ?g { ?concept ?conceptType ?type } }
"""
_SCHEMES_IN_STORE = """
SELECT DISTINCT ?scheme WHERE { GRAPH ?g { ?scheme a ?conceptTypeClass } }
"""


def _store_values(ctx: ImportContext, query: str, variable: str, **terms: NamedNode) -> set[str]:
    from pyoxigraph import Variable

    result = ctx.store.query(query, substitutions={Variable(k): v for k, v in terms.items()})
    assert isinstance(result, QuerySolutions)
    return {row[variable].value for row in result}


def _entries(ctx: ImportContext, document: Any) -> Iterator[tuple[str, str, str, str]]:
    """(concept id, legacy id, label, type) per entry; a malformed entry stops with its key."""
    if not isinstance(document, dict):
        raise ctx.fail('expected an object {"<concept id>": {"legacyAmsTaxonomyId": ...}, ...}')
    for concept_id, entry in document.items():
        if not isinstance(entry, dict):
            raise ctx.fail(f"entry {concept_id!r}: expected an object")
        legacy = entry.get("legacyAmsTaxonomyId")
        if legacy in (None, ""):
            raise ctx.fail(f"entry {concept_id!r}: 'legacyAmsTaxonomyId' is missing")
        yield (
            concept_id,
            str(legacy),
            str(entry.get("preferredLabel") or ""),
            str(entry.get("type") or ""),
        )


@register("jobtech-legacy")
def import_jobtech_legacy(ctx: ImportContext) -> None:
    """Legacy AMS ids on every concept; concepts of types the datasets lack, in full."""
    if not ctx.path.is_file():
        raise ctx.fail("file not found")
    k = kll(ctx.base_iri)
    g = ctx.graph
    present = _store_values(ctx, _TYPES_IN_STORE, "type", conceptType=k.conceptType)
    schemes = _store_values(ctx, _SCHEMES_IN_STORE, "scheme", conceptTypeClass=k.ConceptType)
    quads: list[Quad] = []
    full: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    entries = 0
    for concept_id, legacy, label, concept_type in _entries(ctx, read_json(ctx, ctx.path)):
        entries += 1
        s = concept_iri(concept_id)
        quads.append(Quad(s, k.legacyAmsId, Literal(legacy), g))
        if concept_type in present or not concept_type:
            continue
        full[concept_type] += 1
        quads += [
            Quad(s, RDF.type, SKOS.Concept, g),
            Quad(s, k.jobtechId, Literal(concept_id), g),
            Quad(s, k.conceptType, Literal(concept_type), g),
            Quad(s, k.sourceDataset, g, g),
        ]
        if label:
            quads.append(Quad(s, SKOS.prefLabel, Literal(label, language="sv"), g))
        if concept_type in CONCEPT_TYPES:
            scheme = scheme_iri(ctx.base_iri, concept_type)
            quads += [
                Quad(s, RDF.type, k[type_class_name(concept_type)], g),
                Quad(s, SKOS.inScheme, scheme, g),
                # the dump has no relations: nothing is broader within the scheme
                Quad(s, SKOS.topConceptOf, scheme, g),
                Quad(scheme, SKOS.hasTopConcept, s, g),
            ]
            if scheme.value not in schemes:
                schemes.add(scheme.value)
                quads += [
                    Quad(scheme, RDF.type, SKOS.ConceptScheme, g),
                    Quad(scheme, RDF.type, k.ConceptType, g),
                    Quad(scheme, SKOS.notation, Literal(concept_type), g),
                    Quad(scheme, k.conceptClass, k[type_class_name(concept_type)], g),
                ]
        else:
            unknown[concept_type] += 1
    ctx.add(quads)
    ctx.report.counts["legacy ids"] = entries
    ctx.report.counts["concepts of types absent from the datasets"] = sum(full.values())
    if full:
        ctx.report.note(
            "imported in full (types the datasets lack): "
            + ", ".join(f"{t} {n:,}" for t, n in sorted(full.items()))
        )
    if not present:
        ctx.report.note("no JobTech concepts in the store yet: every type was imported in full")
    if unknown:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(unknown.items()))
        ctx.report.warn(f"unknown concept type(s), imported as generic skos:Concept: {listed}")
