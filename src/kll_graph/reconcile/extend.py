"""Data extension, property proposals and previews, as data (no HTML, no Flask).

Extension reads each concept once through the shared read model
(:func:`kll_graph.concepts.concept`: labels, definition, codes, links, mappings with provenance,
skills) and picks the properties asked for. Values are `{str}` or, for concepts,
`{id, name}` reconciled values that this same service can resolve (`deprecated` is the string
`true` or `false`: neither schema has a boolean value). Settings: `lang` (the labels'
language) and `limit` (most values per property, 0 for all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kll_graph.concepts.lookup import concept
from kll_graph.exceptions import BadRequestError, KllError
from kll_graph.reconcile.properties import BY_ID, PROPERTIES, as_dict
from kll_graph.reconcile.service import Reconciler

#: The most ids one extension request may name.
MAX_IDS = 1000
#: Settings a property accepts, in 0.2 and 1.0 spelling.
SETTINGS_02: list[dict[str, Any]] = [
    {
        "name": "lang",
        "label": "Language",
        "type": "select",
        "default": "sv",
        "choices": [{"value": "sv", "name": "svenska"}, {"value": "en", "name": "English"}],
    },
    {
        "name": "limit",
        "label": "Limit",
        "type": "number",
        "default": 0,
        "help_text": "Most values per property (0 for all)",
    },
]
SETTINGS_10: list[dict[str, Any]] = [
    {
        "id": "lang",
        "name": "Language",
        "type": "select",
        "default": "sv",
        "choices": [{"value": "sv", "name": "svenska"}, {"value": "en", "name": "English"}],
    },
    {
        "id": "limit",
        "name": "Limit",
        "type": "number",
        "default": 0,
        "helpText": "Most values per property (0 for all)",
    },
]
_ENTITY_LISTS = ("essential_skills", "optional_skills", "replaced_by")


def parse_extend(body: Any) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """An extension query {"ids": [...], "properties": [{"id", "settings"}]}, checked."""
    if not isinstance(body, dict):
        raise BadRequestError(
            "the extension query must be an object with ids and properties", parameter="extend"
        )
    ids, props = body.get("ids"), body.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequestError("'ids' must be a list of entity ids", parameter="ids")
    if len(ids) > MAX_IDS:
        raise BadRequestError(f"'ids' holds {len(ids)} ids; at most {MAX_IDS}", parameter="ids")
    if not isinstance(props, list):
        raise BadRequestError(
            "'properties' must be a list of {id, settings}", parameter="properties"
        )
    out = []
    for i, prop in enumerate(props):
        if not isinstance(prop, dict) or not isinstance(prop.get("id"), str):
            raise BadRequestError(
                f"'properties[{i}]' must be an object with 'id'", parameter=f"properties[{i}]"
            )
        settings = prop.get("settings") or {}
        if not isinstance(settings, dict):
            raise BadRequestError(
                f"'properties[{i}].settings' must be an object",
                parameter=f"properties[{i}].settings",
            )
        out.append((prop["id"], settings))
    return ids, out


def propose(
    reconciler: Reconciler, type_id: str | None, limit: int | None, lang: str
) -> list[dict[str, Any]]:
    """The properties worth fetching for a type (all of them, in a useful order)."""
    found = [as_dict(p, lang) for p in PROPERTIES if p.extend]
    return found[:limit] if limit else found


def _setting_lang(reconciler: Reconciler, settings: dict[str, Any], lang: str) -> str:
    value = settings.get("lang")
    return reconciler.language(value) if isinstance(value, str) and value else lang


def _setting_limit(settings: dict[str, Any]) -> int:
    value = settings.get("limit", 0)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def extend(
    reconciler: Reconciler,
    ids: Sequence[str],
    props: Sequence[tuple[str, dict[str, Any]]],
    lang: str,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, list[dict[str, Any]]]]]:
    """The meta list and, per id, per property, its values (an unknown id or property: none)."""
    meta = []
    for pid, _ in props:
        info = BY_ID.get(pid)
        item: dict[str, Any] = {"id": pid, "name": info.name(lang) if info else pid}
        if pid in ("broader", "occupation_field", "esco", "mappings", *_ENTITY_LISTS):
            item["type"] = {
                "id": "occupations"
                if pid != "essential_skills" and pid != "optional_skills"
                else "skills",
                "name": "",
            }
            item["type"]["name"] = (
                reconciler.types.types[item["type"]["id"]].name(lang)
                if item["type"]["id"] in reconciler.types.types
                else item["type"]["id"]
            )
        meta.append(item)
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    docs: dict[tuple[str, str], dict[str, Any] | None] = {}
    for entity in ids:
        row: dict[str, list[dict[str, Any]]] = {}
        for pid, settings in props:
            value_lang = _setting_lang(reconciler, settings, lang)
            key = (entity, value_lang)
            if key not in docs:
                docs[key] = _document(reconciler, entity, value_lang)
            doc = docs[key]
            values = _values(reconciler, doc, pid, value_lang) if doc else []
            limit = _setting_limit(settings)
            row[pid] = values[:limit] if limit else values
        rows[entity] = row
    return meta, rows


def _document(reconciler: Reconciler, entity: str, lang: str) -> dict[str, Any] | None:
    index = reconciler.index
    uri = entity if entity in index.position else None
    if uri is None:
        return None
    try:
        return concept(reconciler.served, uri, lang)
    except KllError:
        return None


def _entity(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["uri"], "name": item.get("label") or item["uri"]}


def _values(
    reconciler: Reconciler, doc: dict[str, Any], pid: str, lang: str
) -> list[dict[str, Any]]:
    index = reconciler.index
    number = index.position[doc["uri"]]
    if pid == "prefLabel":
        label = doc["prefLabel"].get(lang)
        return [{"str": label}] if label else [{"str": v} for v in doc["prefLabel"].values()][:1]
    if pid == "altLabel":
        return [{"str": v} for v in doc["altLabel"].get(lang, [])]
    if pid == "definition":
        text = doc["definition"].get(lang) or next(iter(doc["definition"].values()), None)
        return [{"str": text}] if text else []
    if pid == "type":
        return [{"str": reconciler.type_of(number).name(lang)}]
    if pid == "notation":
        return [{"str": f"{n['system'] or ''} {n['value']}".strip()} for n in doc["notations"]]
    if pid == "ssyk" or pid == "isco":
        matcher = reconciler.properties
        reach, _ = matcher.targets(pid, number)
        codes = [
            n["value"]
            for c in reach[:1]
            for n in index.notations(c)
            if (n["system"] or "").lower().startswith(pid)
        ]
        return [{"str": c} for c in codes]
    if pid == "jobtech_id":
        return [{"str": doc["jobtech_id"]}] if doc["jobtech_id"] else []
    if pid == "legacy_id":
        return [{"str": v} for v in doc["legacy_ids"]]
    if pid == "broader":
        return [_entity(b) for b in doc["broader"]]
    if pid == "occupation_field":
        reach, _ = reconciler.properties.targets(pid, number)
        return [{"id": index.uris[c], "name": index.label(c, lang)} for c in reach]
    if pid == "scheme":
        return [{"str": s["label"] or s["id"]} for s in doc["schemes"]]
    if pid == "esco":
        return [_entity(m) for m in doc["mappings"] if "europa.eu/esco" in m["uri"]] + (
            [{"id": doc["uri"], "name": doc["label"] or doc["uri"]}]
            if "europa.eu/esco" in doc["uri"]
            else []
        )
    if pid == "mappings":
        return [_entity(m) for m in doc["mappings"]]
    if pid == "mapping_details":
        return [{"str": mapping_text(m)} for m in doc["mappings"]]
    if pid in _ENTITY_LISTS:
        return [_entity(item) for item in doc.get(pid, [])]
    if pid == "deprecated":
        return [{"str": "true" if doc["deprecated"] else "false"}]  # the schemas have no bool
    return []


def mapping_text(m: dict[str, Any]) -> str:
    """One mapping as a line: predicate, target, source, justification, author, confidence."""
    provenance = m.get("provenance") or {}
    parts = [f"{m['predicate']} {m.get('label') or ''} <{m['uri']}>".replace("  ", " ")]
    for key in ("source",):
        if m.get(key):
            parts.append(str(m[key]))
    for key in ("mapping_justification", "author_label", "author_id", "confidence"):
        if provenance.get(key):
            parts.append(f"{key.replace('_', ' ')}: {provenance[key]}")
    return " · ".join(parts)


def extend_02(
    meta: list[dict[str, Any]], rows: dict[str, dict[str, list[dict[str, Any]]]]
) -> dict[str, Any]:
    return {"meta": meta, "rows": rows}


def extend_10(
    meta: list[dict[str, Any]], rows: dict[str, dict[str, list[dict[str, Any]]]]
) -> dict[str, Any]:
    return {
        "meta": meta,
        "rows": [
            {
                "id": entity,
                "properties": [{"id": pid, "values": values} for pid, values in props.items()],
            }
            for entity, props in rows.items()
        ],
    }


def preview(reconciler: Reconciler, entity: str, lang: str) -> dict[str, Any] | None:
    """What a preview shows of one concept, or None when the service has no such concept."""
    doc = _document(reconciler, entity, lang)
    if doc is None:
        return None
    index = reconciler.index
    number = index.position[doc["uri"]]
    return {
        "uri": doc["uri"],
        "label": doc["label"] or doc["uri"],
        "labels": {
            tag: doc["prefLabel"].get(tag) for tag in ("sv", "en") if doc["prefLabel"].get(tag)
        },
        "alt": {
            tag: doc["altLabel"].get(tag, [])[:5]
            for tag in ("sv", "en")
            if doc["altLabel"].get(tag)
        },
        "type": reconciler.type_of(number).name(lang),
        "codes": [f"{n['system'] or ''} {n['value']}".strip() for n in doc["notations"]],
        "broader": [b.get("label") or b["uri"] for b in doc["broader"]][:3],
        "mappings": [f"{m['predicate']} {m.get('label') or m['uri']}" for m in doc["mappings"]][:6],
        "definition": doc["definition"].get(lang) or next(iter(doc["definition"].values()), None),
        "deprecated": bool(doc["deprecated"]),
        "replaced_by": [r.get("label") or r["uri"] for r in doc.get("replaced_by", [])],
    }
