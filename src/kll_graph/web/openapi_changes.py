"""The OpenAPI description of `/api/v1/releases` and `/api/v1/changes`, merged into /api/v1's
(web/openapi.py), declared as data so the tests validate real responses against it."""

from __future__ import annotations

from typing import Any

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


VALIDATED = {
    "headers": {
        "ETag": {"description": "Changes only when the content does.", "schema": STRING},
        "Last-Modified": {"description": "The newest release date it reflects.", "schema": STRING},
    }
}
NOT_MODIFIED = {
    "304": {"description": "Unchanged since the ETag (If-None-Match) or date (If-Modified-Since)."}
}
UNKNOWN = {"404": _error("Unknown source or version; the message lists the known ones.")}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": STRING,
    }


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


CONCEPT_KINDS = ["added", "removed", "deprecated", "relabelled", "moved", "notation", "definition"]
MAPPING_KINDS = ["added", "removed", "relation"]

SCHEMAS: dict[str, Any] = {
    "SourceRelease": {
        "type": "object",
        "required": ["source", "version", "graph", "current", "date", "triples", "checksum"],
        "properties": {
            "source": STRING,
            "version": STRING,
            "graph": {**STRING, "description": "The named graph holding the release."},
            "current": {"type": "boolean", "description": "The release SPARQL and pages show."},
            "date": {**NULLABLE_STRING, "description": "Release date (ISO 8601) when known."},
            "triples": {"type": "integer", "minimum": 0},
            "checksum": {**NULLABLE_STRING, "description": "SHA-256 of the source files read."},
            "lacks": {
                "type": "array",
                "items": STRING,
                "description": "What this release's package lacks that other releases have.",
            },
            "graphs": {
                "type": "array",
                "items": STRING,
                "description": "Every graph the release filled, the main one first.",
            },
        },
    },
    "ComparedPair": {
        "type": "object",
        "required": ["from", "to", "counts"],
        "properties": {
            "from": STRING,
            "to": STRING,
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
    "SourceReleases": {
        "type": "object",
        "required": ["source", "releases", "compared"],
        "properties": {
            "source": STRING,
            "current": NULLABLE_STRING,
            "releases": {"type": "array", "items": _ref("SourceRelease")},
            "compared": {"type": "array", "items": _ref("ComparedPair")},
        },
    },
    "Releases": {
        "type": "object",
        "required": ["sources"],
        "properties": {"sources": {"type": "array", "items": _ref("SourceReleases")}},
    },
    "Change": {
        "type": "object",
        "required": ["about", "source", "from_version", "to_version", "kind"],
        "properties": {
            "about": {"enum": ["concept", "mapping"]},
            "source": STRING,
            "from_version": STRING,
            "to_version": STRING,
            "kind": {"enum": sorted({*CONCEPT_KINDS, *MAPPING_KINDS})},
            "concept": {**STRING, "description": "The concept's IRI (concept changes)."},
            "lang": NULLABLE_STRING,
            "label_kind": NULLABLE_STRING,
            "concept_type": NULLABLE_STRING,
            "label": NULLABLE_STRING,
            "subject": {**STRING, "description": "The mapping's subject (mapping changes)."},
            "object": {**STRING, "description": "The mapping's object (mapping changes)."},
            "before": NULLABLE_STRING,
            "after": NULLABLE_STRING,
        },
    },
    "Changes": {
        "type": "object",
        "required": [
            "source",
            "from",
            "to",
            "counts",
            "not_compared",
            "computed",
            "total",
            "offset",
            "limit",
            "items",
        ],
        "properties": {
            "source": STRING,
            "from": STRING,
            "to": STRING,
            "kind": NULLABLE_STRING,
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "not_compared": {
                "type": "array",
                "items": STRING,
                "description": "What could not be compared (e.g. a part a release package "
                "lacks): its concepts are neither added nor removed.",
            },
            "computed": STRING,
            "total": {"type": "integer", "minimum": 0},
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "items": {"type": "array", "items": _ref("Change")},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/releases": {
        "get": {
            "operationId": "releases",
            "summary": "Every source with its releases: version, current flag, date, triple "
            "count, checksum, graph; and the release pairs whose changes were computed.",
            "responses": {
                "200": {**_json("Releases", "The releases."), **VALIDATED},
                **NOT_MODIFIED,
            },
        }
    },
    "/api/v1/releases/{source}": {
        "get": {
            "operationId": "sourceReleases",
            "summary": "One source's releases.",
            "parameters": [_path_param("source", "A source id (see /api/v1/releases).")],
            "responses": {
                "200": {**_json("SourceReleases", "The source's releases."), **VALIDATED},
                **NOT_MODIFIED,
                **UNKNOWN,
            },
        }
    },
    "/api/v1/releases/{source}/{version}": {
        "get": {
            "operationId": "release",
            "summary": "One release; its ETag is its checksum and Last-Modified its date, so a "
            "conditional GET says whether it changed.",
            "parameters": [
                _path_param("source", "A source id."),
                _path_param("version", "One of the source's versions."),
            ],
            "responses": {
                "200": {**_json("SourceRelease", "The release."), **VALIDATED},
                **NOT_MODIFIED,
                **UNKNOWN,
            },
        }
    },
    "/api/v1/changes": {
        "get": {
            "operationId": "changes",
            "summary": "What changed in a source between two releases: per concept added, "
            "removed, deprecated, relabelled (per language and label kind), moved (broader "
            "changed), notation or definition changed; per mapping added, removed or relation "
            "changed. Concept changes first, then mapping changes; paged.",
            "parameters": [
                _query(
                    "source",
                    "A source id with several releases.",
                    {**STRING, "minLength": 1},
                    required=True,
                ),
                _query("from", "The older release (default: of the newest pair).", STRING),
                _query("to", "The newer release (default: of the newest pair).", STRING),
                _query(
                    "kind",
                    "Only changes of this kind.",
                    {"enum": sorted({*CONCEPT_KINDS, *MAPPING_KINDS})},
                ),
                _query("offset", "Changes to skip.", {"type": "integer", "minimum": 0}),
                _query(
                    "limit",
                    "Most changes to return.",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                ),
            ],
            "responses": {
                "200": {**_json("Changes", "A page of the pair's changes."), **VALIDATED},
                **NOT_MODIFIED,
                "400": _error("Bad input; `error.parameter` names the parameter at fault."),
                **UNKNOWN,
            },
        }
    },
}
