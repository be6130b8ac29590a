"""The OpenAPI description of the review workbench's JSON twin (`/api/v1/review/...`), merged
into the lookup API's document by :mod:`kll_graph.web.openapi`: paths, schemas and the two ways
to authenticate (a Bearer token, or the session cookie plus the CSRF token on writes)."""

from __future__ import annotations

from typing import Any

from kll_graph.review.decisions import COMMENT_LIMIT, DECISIONS, PREDICATES
from kll_graph.review.imports import FORMATS
from kll_graph.review.queue import BANDS, KINDS
from kll_graph.review.setfiles import SET_NAME

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `kll-graph users token NAME`.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "kll_session",
        "description": "The session of a signed-in user (POST /login); writes also need the "
        "session's CSRF token in the `X-CSRF-Token` header.",
    },
}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
_SET = {"type": "string", "pattern": SET_NAME.pattern}


def _schema(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: str) -> dict[str, Any]:
    text = {
        "400": "Bad input; the message says what is wrong. No file was touched.",
        "401": "Nobody signed in and no valid Bearer token.",
        "403": "The role is too low, or a cookie-authenticated write came without its CSRF "
        "token, or the author of a row tried to review it.",
        "404": "No such set or concept, or the workbench is off (no users file).",
        "409": "The set changed since the ETag sent: `error.changes` lists the audit entries "
        "since; reload and decide again.",
        "428": "A write without `If-Match`: send the set's ETag.",
        "429": "Too many wrong sign-ins or tokens from this address; see `Retry-After`.",
    }
    codes = tuple(sorted({*codes, "401", "403", "404", "429"}))
    return {
        code: {
            "description": text[code],
            "content": {"application/json": {"schema": _schema("Error")}},
        }
        for code in codes
    }


def _written(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"ETag": {"description": "The set's new ETag.", "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": _schema(schema)}},
    }


def _body(schema: str, example: dict[str, Any]) -> dict[str, Any]:
    content = {"schema": _schema(schema), "example": example}
    return {"required": True, "content": {"application/json": content}}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _schema(schema)}},
    }


_PAIR = {
    "set": "nurses",
    "subject_id": "jt:bXNH_MNX_dUR",
    "object_id": "ESCO:occupation/a7c1d23d-aeca-4bee-9a08-5993ed98b135",
}


IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag of the set as last read (GET /api/v1/review/sets/{set}).",
    "schema": {"type": "string"},
}
_QUERY = [
    {"name": "set", "in": "query", "schema": _SET, "description": "Only this set's rows."},
    {"name": "type", "in": "query", "schema": {"type": "string"}, "description": "JobTech type."},
    {"name": "ssyk", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{1,4}$"}},
    {"name": "band", "in": "query", "schema": {"type": "string", "enum": list(BANDS)}},
    {
        "name": "status",
        "in": "query",
        "description": "Comma-separated kinds; all open kinds when absent.",
        "schema": {"type": "string"},
    },
    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Label contains."},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
]

SCHEMAS: dict[str, Any] = {
    "ReviewRow": {
        "type": "object",
        "description": "An SSSOM row (slot: text) with its derived review status.",
        "properties": {
            "status": {"enum": ["candidate", "curated", "reviewed", "unsure", "rejected"]}
        },
        "additionalProperties": {"type": "string"},
    },
    "QueueItem": {
        "type": "object",
        "required": ["key", "kind", "subject"],
        "properties": {
            "key": {"type": "string"},
            "kind": {"enum": list(KINDS)},
            "set": {"type": ["string", "null"]},
            "subject": {"type": "string"},
            "object": {"type": ["string", "null"]},
            "subject_label": {"type": "string"},
            "concept_type": {"type": ["string", "null"]},
            "ssyk": {"type": ["string", "null"]},
            "confidence": {"type": ["number", "null"]},
            "row": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        },
    },
    "Queue": {
        "type": "object",
        "required": ["total", "items"],
        "properties": {
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "filters": {"type": "object"},
            "items": {"type": "array", "items": _schema("QueueItem")},
        },
    },
    "ReviewSet": {
        "type": "object",
        "properties": {
            "name": _SET,
            "metadata": {"type": "object"},
            "curie_map": {"type": "object", "additionalProperties": {"type": "string"}},
            "rows": {"type": "array", "items": _schema("ReviewRow")},
        },
    },
    "NewSet": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": _SET, "title": {"type": "string"}},
    },
    "Decision": {
        "type": "object",
        "required": ["set", "subject_id", "decision"],
        "additionalProperties": False,
        "properties": {
            "set": _SET,
            "subject_id": {"type": "string", "description": "JobTech concept: IRI or jt: CURIE."},
            "object_id": {"type": ["string", "null"], "description": "ESCO concept."},
            "predicate_id": {"enum": [*PREDICATES, None, ""]},
            "decision": {"enum": list(DECISIONS)},
            "comment": {"type": ["string", "null"], "maxLength": COMMENT_LIMIT},
            "subject_label": {"type": "string"},
            "object_label": {"type": "string"},
        },
    },
    "Written": {
        "type": "object",
        "properties": {"row": _schema("ReviewRow"), "etag": {"type": "string"}},
    },
    "SetList": {
        "type": "object",
        "properties": {
            "sets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": _SET,
                        "rows": {"type": "integer"},
                        "etag": {"type": "string"},
                    },
                },
            }
        },
    },
    "ImportResult": {
        "type": "object",
        "properties": {
            "set": _SET,
            "new_set": {"type": "boolean"},
            "confirm": {"type": "boolean"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "added": {"type": "array"},
            "changed": {"type": "array"},
            "removed": {"type": "array"},
        },
    },
    "Undo": {"type": "object", "required": ["set"], "properties": {"set": _SET}},
    "Batch": {
        "type": "object",
        "required": ["set", "decision"],
        "properties": {
            "set": _SET,
            "filters": {"type": "object", "description": "The queue filters (as in /queue)."},
            "decision": {"enum": list(DECISIONS)},
            "predicate_id": {"enum": [*PREDICATES, None, ""]},
            "comment": {"type": ["string", "null"]},
            "preview": {"type": "boolean", "default": True},
            "keys": {
                "type": ["array", "null"],
                "items": {"type": "string"},
                "description": "The keys the preview returned; applying needs them.",
            },
        },
    },
    "Import": {
        "type": "object",
        "required": ["set", "content"],
        "properties": {
            "set": _SET,
            "format": {"enum": list(FORMATS), "default": "sssom"},
            "content": {"type": "string"},
            "confirm": {"type": "boolean", "default": False},
        },
    },
}


def _op(operation: str, summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "operationId": operation,
        "summary": summary,
        "tags": ["review"],
        "security": SECURITY,
        "responses": responses,
        **more,
    }


PATHS: dict[str, Any] = {
    "/api/v1/review/queue": {
        "get": _op(
            "reviewQueue",
            "The open review queue, filtered and paged (viewer).",
            {
                "200": {
                    "description": "One page.",
                    "content": {"application/json": {"schema": _schema("Queue")}},
                },
                **_errors("400", "401", "403"),
            },
            parameters=_QUERY,
        )
    },
    "/api/v1/review/sets": {
        "get": _op(
            "reviewSets",
            "The sets of the mappings directory, with their row counts and ETags (viewer).",
            {"200": _json("The sets.", "SetList"), **_errors("401", "403")},
        ),
        "post": _op(
            "reviewCreateSet",
            "Start a new set (editor).",
            {"201": _written("Created.", "Written"), **_errors("400", "401", "403", "409")},
            requestBody=_body("NewSet", {"name": "nurses", "title": "Nurses"}),
        ),
    },
    "/api/v1/review/sets/{set}": {
        "get": _op(
            "reviewSet",
            "A set's rows with their status; its ETag in the header (viewer).",
            {
                "200": {
                    "description": "The set.",
                    "headers": {"ETag": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": _schema("ReviewSet")}},
                },
                **_errors("400", "401", "403", "404"),
            },
            parameters=[{"name": "set", "in": "path", "required": True, "schema": _SET}],
        )
    },
    "/api/v1/review/decisions": {
        "post": _op(
            "reviewDecide",
            "Write one decision into a set: accept, reject, unsure or no-term-found (editor).",
            {
                "201": _written("The row as written.", "Written"),
                **_errors("400", "401", "403", "404", "409", "428"),
            },
            parameters=[IF_MATCH],
            requestBody=_body(
                "Decision",
                {**_PAIR, "predicate_id": "skos:broadMatch", "decision": "accept"},
            ),
        )
    },
    "/api/v1/review/undo": {
        "post": _op(
            "reviewUndo",
            "Take back your latest change of a set (editor).",
            {"200": _written("Undone.", "Written"), **_errors("401", "403", "404", "409", "428")},
            parameters=[IF_MATCH],
            requestBody=_body("Undo", {"set": "nurses"}),
        )
    },
    "/api/v1/review/batch": {
        "post": _op(
            "reviewBatch",
            "Preview, then apply, one decision for every row a filter keeps: one audit entry, "
            "one undo (reviewer).",
            {
                "200": _written("The preview, or the rows written.", "Written"),
                **_errors("400", "401", "403", "404", "409", "428"),
            },
            parameters=[{**IF_MATCH, "required": False}],
            requestBody=_body(
                "Batch",
                {
                    "set": "nurses",
                    "filters": {"status": "candidate", "band": "0.9-1"},
                    "decision": "accept",
                    "preview": True,
                },
            ),
        )
    },
    "/api/v1/review/import": {
        "post": _op(
            "reviewImport",
            "Upload an SSSOM TSV or an ESCO mapping-tool CSV: checked, shown as added, changed "
            "and removed rows, then confirmed (editor).",
            {
                "200": _json("The preview, or what was written.", "ImportResult"),
                **_errors("400", "401", "403", "409", "428"),
            },
            parameters=[{**IF_MATCH, "required": False}],
            requestBody=_body(
                "Import",
                {
                    "set": "nurses",
                    "format": "sssom",
                    "content": "#curie_map: ...",
                    "confirm": False,
                },
            ),
        )
    },
}
