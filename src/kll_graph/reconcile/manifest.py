"""The service manifests of both versions, and suggest answers (entity, type, property).

The 0.2 manifest (at `/reconcile`) names every service by URL, as OpenRefine reads it; the 1.0
manifest (at `/reconcile/v1`) declares features as booleans under fixed routes. No manifest
validates under both schemas (`suggest` is objects in one, booleans in the other), and each lists
only its own version.
"""

from __future__ import annotations

from typing import Any

from kll_graph import __version__
from kll_graph.labels.index import Hit
from kll_graph.namespaces import JOBTECH_CONCEPT, kll
from kll_graph.reconcile.extend import SETTINGS_02, SETTINGS_10
from kll_graph.reconcile.properties import PROPERTIES, as_dict
from kll_graph.reconcile.query import MAX_BATCH, QUALIFIERS
from kll_graph.reconcile.service import Reconciler

NAME = "kll-graph: JobTech Taxonomy and ESCO"
PREVIEW_SIZE = {"width": 420, "height": 220}


def manifest_02(reconciler: Reconciler, root: str, site: str, lang: str) -> dict[str, Any]:
    """The 0.2 manifest; `root` is the service URL, `site` the site root (both absolute)."""
    return {
        "versions": ["0.2"],
        "name": NAME,
        "identifierSpace": JOBTECH_CONCEPT.iri,
        "schemaSpace": kll(reconciler.served.manifest.base_iri).iri,
        "documentation": f"{site}/about",
        "serviceVersion": __version__,
        "view": {"url": f"{site}/page?uri={{{{id}}}}"},
        "preview": {"url": f"{root}/preview?id={{{{id}}}}", **PREVIEW_SIZE},
        "defaultTypes": [
            {"id": t.id, "name": t.name(lang)} for t in reconciler.types.default_types()
        ],
        "suggest": {
            "entity": {"service_url": root, "service_path": "/suggest/entity"},
            "type": {"service_url": root, "service_path": "/suggest/type"},
            "property": {"service_url": root, "service_path": "/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": root, "service_path": "/propose_properties"},
            "property_settings": SETTINGS_02,
        },
        "batchSize": MAX_BATCH,
    }


def manifest_10(reconciler: Reconciler, site: str, lang: str) -> dict[str, Any]:
    """The 1.0-draft manifest."""
    return {
        "versions": ["1.0-draft"],
        "name": NAME,
        "lang": lang,
        "documentation": f"{site}/about",
        "serviceVersion": __version__,
        "view": {"url": f"{site}/page?uri={{+id}}"},
        "preview": PREVIEW_SIZE,
        "defaultTypes": [
            reconciler.types.as_dict(t, lang) for t in reconciler.types.default_types()
        ],
        "suggest": {"entity": True, "type": True, "property": True},
        "extend": {"proposeProperties": True, "propertySettings": SETTINGS_10},
        "standardizedScore": True,
        "batchSize": MAX_BATCH,
    }


def suggest_entities(
    reconciler: Reconciler,
    prefix: str,
    type_ids: list[str],
    lang: str,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Concepts starting with (or named by) what was typed; an id as prefix gives its concept."""
    index = reconciler.index
    text = prefix.strip()[:200]
    if not text:
        return []
    covers, _ = reconciler.types.covered(type_ids)
    if type_ids and not covers:
        return []
    filters = reconciler.filters_for(covers)
    hits: list[Hit] = (
        index.search(text, filters, offset, limit).hits
        if offset
        else index.top(text, filters, limit)
    )
    out = []
    for hit in hits:
        recon_type = reconciler.type_of(hit.concept)
        name = index.label(hit.concept, lang)
        broader = int(index.concept_broader[hit.concept])
        description = recon_type.name(lang) + (
            f" · ↑ {index.label(broader, lang)}" if broader >= 0 else ""
        )
        out.append(
            {
                "id": index.uris[hit.concept],
                "name": name,
                "description": description,
                "notable": [{"id": recon_type.id, "name": recon_type.name(lang)}],
            }
        )
    return out


def suggest_types(
    reconciler: Reconciler, prefix: str, lang: str, offset: int, limit: int, version: str
) -> list[dict[str, Any]]:
    found = reconciler.types.suggest(prefix, lang)[offset : offset + limit]
    if version == "1.0":
        return [reconciler.types.as_dict(t, lang) for t in found]
    return [
        {
            "id": t.id,
            "name": t.name(lang),
            **(
                {"description": d}
                if (d := reconciler.types.as_dict(t, lang).get("description"))
                else {}
            ),
        }
        for t in found
    ]


#: The 1.0 `matchQualifiers` a matchable property announces in property suggestions.
QUALIFIER_NAMES = {
    "ExactMatch": "the value as written is the URI, id, code or preferred label",
    "WildcardMatch": "* and ? in the value stand for any run and any one character, case aside",
}


def suggest_properties(
    prefix: str, lang: str, offset: int, limit: int, version: str = "0.2"
) -> list[dict[str, Any]]:
    """Properties whose id or name contains the prefix; in 1.0 with the qualifiers they take."""
    text = prefix.casefold().strip()
    qualifiers = [{"id": q, "name": QUALIFIER_NAMES[q]} for q in QUALIFIERS]
    found = [
        {
            **as_dict(p, lang),
            **({"matchQualifiers": qualifiers} if version == "1.0" and p.match else {}),
        }
        for p in PROPERTIES
        if not text
        or text in p.id.casefold()
        or any(text in n.casefold() for n in p.names.values())
    ]
    return found[offset : offset + limit]
