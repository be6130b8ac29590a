"""The JobTech legacy-id importer: the 2020 dump `concept-to-taxonomy.json`.

Shape: ``{"<concept id>": {"legacyAmsTaxonomyId", "preferredLabel", "type"}, ...}``. Every entry
gives its concept `kll:legacyAmsId`, so ids of Arbetsförmedlingen's older (AMS) taxonomy resolve
to the official concept URI. The dump also holds concept types that the current dataset files do
not (municipality, continent, occupation-field, skill-headline, driving-licence ...): concepts of
those types are imported in full (class, scheme, Swedish label, type, id) and marked with
`kll:sourceDataset` = this source's graph, because they come only from this 2020 snapshot.

A concept of a type the datasets do have, but which the datasets lack, belongs to an older
release: it is imported in full as well (in scheme, without a place in the hierarchy, which the
dump does not give), and `kll:lastSeenIn` this source's graph says that the current release does
not hold it (a newer source naming it, such as a mapping table, may take over its label and the
last release seen: see :mod:`kll_graph.importers.older`). Concepts of types the datasets lack
are not so marked: the datasets say nothing about whether those are current.

Which types the datasets have is read from the store being built (the `jobtech` source is
imported first, as `kll-graph.toml` lists it), so this importer needs no path to the datasets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, Quad, QuerySolutions

from kll_graph.importers import ImportContext
from kll_graph.importers.jobtech import CONCEPT_TYPES, concept_iri, read_json, scheme_iri
from kll_graph.importers.older import scheme_quads, typed_quads
from kll_graph.namespaces import SKOS, kll


def _store_values(ctx: ImportContext, pattern: str, variable: str) -> set[str]:
    """Distinct values of one variable over every graph built so far (IRIs from settings only)."""
    query = f"SELECT DISTINCT ?{variable} WHERE {{ GRAPH ?g {{ {pattern} }} }}"
    result = ctx.store.query(query)
    assert isinstance(result, QuerySolutions)
    return {row[variable].value for row in result}


#: Code fields of the 2020 dump → datatype (local name in the kll namespace) of skos:notation.
LEGACY_CODE_SYSTEMS = {
    "concept.external-standard/sun-education-field-code-2000": "SUN2000Field",
    "concept.external-standard/sun-education-level-code-2000": "SUN2000Level",
}


@dataclass
class LegacyEntry:
    """One entry of the dump."""

    concept_id: str
    legacy_id: str | None
    label: str
    type: str
    codes: list[tuple[str, str]]


def _entries(ctx: ImportContext, document: Any) -> Iterator[LegacyEntry]:
    """The dump's entries; a malformed entry stops the import naming its key."""
    if not isinstance(document, dict):
        raise ctx.fail('expected an object {"<concept id>": {"legacyAmsTaxonomyId": ...}, ...}')
    for concept_id, entry in document.items():
        if not isinstance(entry, dict):
            raise ctx.fail(f"entry {concept_id!r}: expected an object")
        legacy = entry.get("legacyAmsTaxonomyId")
        codes = [
            (system, str(entry[name]))
            for name, system in LEGACY_CODE_SYSTEMS.items()
            if entry.get(name) not in (None, "")
        ]
        yield LegacyEntry(
            concept_id,
            None if legacy in (None, "") else str(legacy),
            str(entry.get("preferredLabel") or ""),
            str(entry.get("type") or ""),
            codes,
        )


def import_jobtech_legacy(ctx: ImportContext) -> None:
    """Legacy AMS ids on every concept; concepts of types the datasets lack, in full."""
    if not ctx.path.is_file():
        raise ctx.fail("file not found")
    k = kll(ctx.base_iri)
    g = ctx.graph
    present = _store_values(ctx, f"?concept <{k.conceptType.value}> ?type", "type")
    current = _store_values(ctx, f"?concept <{k.jobtechId.value}> ?id", "concept")
    schemes = _store_values(ctx, f"?scheme a <{k.ConceptType.value}>", "scheme")
    quads: list[Quad] = []
    full: Counter[str] = Counter()
    older: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    entries = without_legacy = 0
    for entry in _entries(ctx, read_json(ctx, ctx.path)):
        entries += 1
        concept_id, label, concept_type = entry.concept_id, entry.label, entry.type
        s = concept_iri(concept_id)
        if entry.legacy_id is None:
            without_legacy += 1
        else:
            quads.append(Quad(s, k.legacyAmsId, Literal(entry.legacy_id), g))
        for system, code in entry.codes:
            quads.append(Quad(s, SKOS.notation, Literal(code, datatype=k[system]), g))
        if not concept_type or s.value in current:
            continue
        is_older = concept_type in present
        (older if is_older else full)[concept_type] += 1
        quads += typed_quads(ctx.base_iri, s, concept_id, concept_type, g)
        if is_older:
            quads.append(Quad(s, k.lastSeenIn, g, g))
        if label:
            quads.append(Quad(s, SKOS.prefLabel, Literal(label, language="sv"), g))
        if concept_type in CONCEPT_TYPES:
            scheme = scheme_iri(ctx.base_iri, concept_type)
            if not is_older:
                # the dump has no relations: nothing is broader within the scheme (an older
                # concept's place in today's hierarchy is unknown, so it is no top concept)
                quads += [
                    Quad(s, SKOS.topConceptOf, scheme, g),
                    Quad(scheme, SKOS.hasTopConcept, s, g),
                ]
            if scheme.value not in schemes:
                schemes.add(scheme.value)
                quads += scheme_quads(ctx.base_iri, concept_type, g)
        else:
            unknown[concept_type] += 1
    ctx.add(quads)
    ctx.report.counts["entries"] = entries
    ctx.report.counts["legacy ids"] = entries - without_legacy
    if without_legacy:
        ctx.report.note(f"{without_legacy} entr(y/ies) without legacyAmsTaxonomyId: no legacy id")
    ctx.report.counts["concepts of types absent from the datasets"] = sum(full.values())
    if full:
        ctx.report.note(
            "imported in full (types the datasets lack): "
            + ", ".join(f"{t} {n:,}" for t, n in sorted(full.items()))
        )
    ctx.report.counts["concepts of older releases"] = sum(older.values())
    if older:
        ctx.report.note(
            "absent from the current datasets, imported as of older releases: "
            + ", ".join(f"{t} {n:,}" for t, n in sorted(older.items()))
        )
    if not present:
        ctx.report.note("no JobTech concepts in the store yet: every type was imported in full")
    if unknown:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(unknown.items()))
        ctx.report.warn(f"unknown concept type(s), imported as generic skos:Concept: {listed}")
