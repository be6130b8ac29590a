"""The OpenAPI 3.1 description of the JSON lookup API under /api/v1, served at
/api/v1/openapi.json. Declared as data here so that the tests validate real responses against it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from kll_graph import __version__
from kll_graph.concepts.lookup import IRI_PATTERN, MAX_URI_LENGTH
from kll_graph.labels.index import LabelIndex
from kll_graph.labels.lookup import (
    MAX_AUTOCOMPLETE,
    MAX_BATCH,
    MAX_CANDIDATES,
    MAX_OFFSET,
    MAX_QUERY_LENGTH,
    MAX_SEARCH_PAGE,
    NONBLANK_PATTERN,
)
from kll_graph.namespaces import DEFAULT_BASE_IRI, JOBTECH_CONCEPT
from kll_graph.web import openapi_changes, openapi_review

OCCUPATION_NAMES = DEFAULT_BASE_IRI + "scheme/jobtech/occupation-name"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
NOT_CURRENT = {
    "type": "boolean",
    "description": "True for a concept that the current release of its vocabulary lacks: known "
    "from an older release only (see last_seen). Such concepts rank after current ones.",
}
LANG_MAP = {"type": "object", "additionalProperties": STRING}
LANG_LISTS = {"type": "object", "additionalProperties": {"type": "array", "items": STRING}}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message"],
                "additionalProperties": False,
                "properties": {
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "code": {"type": "string", "description": "Machine-readable error code."},
                    "message": {"type": "string", "description": "What was wrong, for people."},
                    "parameter": {
                        "type": "string",
                        "description": "The parameter or body field at fault, when one is.",
                    },
                },
            }
        },
        "example": {
            "error": {
                "status": 400,
                "code": "bad_request",
                "message": "'q' is required and must not be blank",
                "parameter": "q",
            }
        },
    },
    "TypeRef": {
        "type": "object",
        "required": ["id", "label"],
        "additionalProperties": False,
        "description": "A concept type: JobTech's type name, or the class (CURIE) for others.",
        "properties": {"id": STRING, "label": STRING, "uri": NULLABLE_STRING},
    },
    "SchemeRef": {
        "type": "object",
        "required": ["id", "uri", "label", "vocabulary"],
        "additionalProperties": False,
        "description": "The concept scheme (vocabulary part) a concept belongs to.",
        "properties": {
            "id": NULLABLE_STRING,
            "uri": STRING,
            "label": NULLABLE_STRING,
            "vocabulary": {
                "type": ["string", "null"],
                "description": "The source the scheme comes from, e.g. jobtech or esco.",
            },
        },
    },
    "Notation": {
        "type": "object",
        "required": ["value", "system", "system_label"],
        "properties": {
            "value": STRING,
            "system": {"type": ["string", "null"], "description": "Code system, e.g. SSYK2012."},
            "system_label": NULLABLE_STRING,
            "datatype": NULLABLE_STRING,
        },
    },
    "Release": {
        "type": "object",
        "description": "A loaded release: its graph, and the source and version the graph "
        "IRI names.",
        "required": ["graph", "source", "version"],
        "properties": {
            "graph": STRING,
            "source": NULLABLE_STRING,
            "version": NULLABLE_STRING,
            "title": {**NULLABLE_STRING, "description": "The graph's title (concept pages)."},
        },
    },
    "ConceptBrief": {
        "type": "object",
        "required": ["uri", "label", "type", "scheme", "deprecated"],
        "properties": {
            "uri": STRING,
            "label": NULLABLE_STRING,
            "type": _nullable(_ref("TypeRef")),
            "scheme": _nullable(_ref("SchemeRef")),
            "deprecated": {"type": "boolean"},
            "not_current": NOT_CURRENT,
            "narrower_count": {"type": "integer", "minimum": 0},
            "percentage": {"type": ["number", "null"]},
        },
    },
    "Match": {
        "type": "object",
        "required": ["text", "kind", "lang", "how"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "description": "The label or code that matched."},
            "kind": {
                "enum": [
                    "uri",
                    "id",
                    "notation",
                    "prefLabel",
                    "legacyId",
                    "altLabel",
                    "hiddenLabel",
                ]
            },
            "lang": NULLABLE_STRING,
            "how": {"enum": ["exact", "prefix", "word", "compound", "typo"]},
        },
    },
    "Hit": {
        "type": "object",
        "required": [
            "uri",
            "label",
            "lang",
            "matched",
            "score",
            "type",
            "scheme",
            "notation",
            "notations",
            "deprecated",
            "replaced_by",
            "not_current",
            "last_seen",
            "broader",
        ],
        "additionalProperties": False,
        "properties": {
            "uri": STRING,
            "label": {
                "type": "string",
                "description": "Display label: a preferred label in the asked language, with "
                "fallback (never a hidden label).",
            },
            "lang": NULLABLE_STRING,
            "matched": _ref("Match"),
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
            "type": _ref("TypeRef"),
            "scheme": _nullable(_ref("SchemeRef")),
            "notation": NULLABLE_STRING,
            "notations": {"type": "array", "items": _ref("Notation")},
            "deprecated": {"type": "boolean"},
            "replaced_by": {"type": "array", "items": _ref("ConceptBrief")},
            "not_current": NOT_CURRENT,
            "last_seen": _nullable(_ref("Release")),
            "broader": _nullable(
                {
                    "type": "object",
                    "required": ["uri", "label"],
                    "properties": {"uri": STRING, "label": STRING},
                }
            ),
        },
    },
    "AutocompleteResponse": {
        "type": "object",
        "required": ["query", "results"],
        "additionalProperties": False,
        "properties": {
            "query": STRING,
            "results": {"type": "array", "items": _ref("Hit")},
        },
    },
    "Facet": {
        "type": "object",
        "required": ["id", "label", "count"],
        "properties": {
            "id": NULLABLE_STRING,
            "uri": NULLABLE_STRING,
            "label": NULLABLE_STRING,
            "vocabulary": NULLABLE_STRING,
            "count": {"type": "integer", "minimum": 1},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": ["query", "total", "offset", "limit", "results", "facets"],
        "additionalProperties": False,
        "properties": {
            "query": STRING,
            "total": {"type": "integer", "minimum": 0},
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "results": {"type": "array", "items": _ref("Hit")},
            "facets": {
                "type": "object",
                "required": ["schemes", "types"],
                "properties": {
                    "schemes": {"type": "array", "items": _ref("Facet")},
                    "types": {"type": "array", "items": _ref("Facet")},
                },
            },
        },
    },
    "ResolveQuery": {
        "oneOf": [
            {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_QUERY_LENGTH,
                "pattern": NONBLANK_PATTERN,
            },
            {
                "type": "object",
                "required": ["q"],
                "additionalProperties": False,
                "properties": {
                    "q": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_QUERY_LENGTH,
                        "pattern": NONBLANK_PATTERN,
                    },
                    "lang": NULLABLE_STRING,
                    "scheme": {
                        "oneOf": [STRING, {"type": "array", "items": STRING}, {"type": "null"}]
                    },
                    "type": {
                        "oneOf": [STRING, {"type": "array", "items": STRING}, {"type": "null"}]
                    },
                },
            },
        ]
    },
    "ResolveRequest": {
        "type": "object",
        "required": ["queries"],
        "additionalProperties": False,
        "properties": {
            "queries": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH,
                "items": _ref("ResolveQuery"),
            },
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_CANDIDATES, "default": 3},
            "lang": NULLABLE_STRING,
            "scheme": {"oneOf": [STRING, {"type": "array", "items": STRING}, {"type": "null"}]},
            "type": {"oneOf": [STRING, {"type": "array", "items": STRING}, {"type": "null"}]},
            "include_deprecated": {"type": "boolean", "default": False},
        },
    },
    "ResolveResponse": {
        "type": "object",
        "required": ["results", "matched", "unmatched"],
        "additionalProperties": False,
        "properties": {
            "matched": {"type": "integer", "minimum": 0},
            "unmatched": {"type": "integer", "minimum": 0},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["query", "matched", "candidates"],
                    "additionalProperties": False,
                    "properties": {
                        "query": STRING,
                        "matched": {"type": "boolean"},
                        "candidates": {"type": "array", "items": _ref("Hit")},
                        "message": STRING,
                    },
                },
            },
        },
    },
    "Mapping": {
        "type": "object",
        "required": ["predicate", "stated", "direction", "uri", "label", "graph", "provenance"],
        "properties": {
            "predicate": {
                "type": "string",
                "description": "The mapping as seen from this concept (skos:exactMatch ...).",
            },
            "stated": {"type": "string", "description": "The predicate as the data states it."},
            "direction": {"enum": ["outgoing", "incoming"]},
            "uri": STRING,
            "label": NULLABLE_STRING,
            "type": _nullable(_ref("TypeRef")),
            "scheme": _nullable(_ref("SchemeRef")),
            "deprecated": {"type": "boolean"},
            "graph": STRING,
            "source": NULLABLE_STRING,
            "graph_title": NULLABLE_STRING,
            "provenance": {
                "type": "object",
                "description": "SSSOM slots of the mapping (mapping_justification, author_id, "
                "confidence, mapping_date ...), where the mapping set records them.",
            },
        },
    },
    "Concept": {
        "type": "object",
        "required": [
            "@context",
            "uri",
            "label",
            "prefLabel",
            "altLabel",
            "hiddenLabel",
            "definition",
            "notations",
            "types",
            "type",
            "schemes",
            "broader",
            "narrower",
            "related",
            "mappings",
            "essential_skills",
            "optional_skills",
            "essential_for",
            "optional_for",
            "substitutability",
            "deprecated",
            "replaced_by",
            "replaces",
        ],
        "properties": {
            "@context": {"type": "object", "description": "JSON-LD context (SKOS terms)."},
            "uri": STRING,
            "label": NULLABLE_STRING,
            "lang": NULLABLE_STRING,
            "prefLabel": LANG_MAP,
            "altLabel": LANG_LISTS,
            "hiddenLabel": LANG_LISTS,
            "definition": LANG_MAP,
            "notes": {"type": "object", "additionalProperties": LANG_MAP},
            "notations": {"type": "array", "items": _ref("Notation")},
            "types": {"type": "array", "items": STRING},
            "type": _nullable(_ref("TypeRef")),
            "schemes": {"type": "array", "items": _ref("SchemeRef")},
            "top_concept_of": {"type": "array", "items": _ref("SchemeRef")},
            "broader": {"type": "array", "items": _ref("ConceptBrief")},
            "narrower": {"type": "array", "items": _ref("ConceptBrief")},
            "narrower_count": {"type": "integer", "minimum": 0},
            "related": {"type": "array", "items": _ref("ConceptBrief")},
            "mappings": {"type": "array", "items": _ref("Mapping")},
            "essential_skills": {"type": "array", "items": _ref("ConceptBrief")},
            "optional_skills": {"type": "array", "items": _ref("ConceptBrief")},
            "essential_for": {"type": "array", "items": _ref("ConceptBrief")},
            "optional_for": {"type": "array", "items": _ref("ConceptBrief")},
            "substitutability": {
                "type": "object",
                "required": ["can_substitute", "substituted_by"],
                "properties": {
                    "can_substitute": {"type": "array", "items": _ref("ConceptBrief")},
                    "substituted_by": {"type": "array", "items": _ref("ConceptBrief")},
                },
            },
            "deprecated": {"type": "boolean"},
            "replaced_by": {"type": "array", "items": _ref("ConceptBrief")},
            "replaces": {"type": "array", "items": _ref("ConceptBrief")},
            "not_current": NOT_CURRENT,
            "last_seen": _nullable(_ref("Release")),
            "version": {
                "type": "object",
                "description": "With ?version=: the release shown and the graphs read.",
                "properties": {
                    "version": STRING,
                    "sources": {"type": "array", "items": STRING},
                    "graphs": {"type": "array", "items": STRING},
                },
            },
            "versions": {
                "type": "array",
                "items": STRING,
                "description": "With ?version=: every release the concept is in.",
            },
            "jobtech_id": NULLABLE_STRING,
            "legacy_ids": {"type": "array", "items": STRING},
            "other": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["predicate", "value", "kind"],
                    "properties": {
                        "predicate": STRING,
                        "value": {},
                        "kind": {"enum": ["uri", "literal"]},
                        "lang": STRING,
                    },
                },
            },
        },
    },
    "Scheme": {
        "type": "object",
        "required": ["id", "uri", "label", "vocabulary", "labels", "concepts"],
        "properties": {
            "id": STRING,
            "uri": STRING,
            "label": STRING,
            "vocabulary": NULLABLE_STRING,
            "labels": LANG_MAP,
            "concepts": {"type": "integer", "minimum": 0},
        },
    },
    "SchemesResponse": {
        "type": "object",
        "required": ["schemes"],
        "properties": {"schemes": {"type": "array", "items": _ref("Scheme")}},
    },
    "ConceptPage": {
        "type": "object",
        "required": ["total", "offset", "limit", "items"],
        "properties": {
            "scheme": _ref("SchemeRef"),
            "concept": _ref("ConceptBrief"),
            "stated": {
                "type": "boolean",
                "description": "True when the scheme names its top concepts itself.",
            },
            "total": {"type": "integer", "minimum": 0},
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "items": {"type": "array", "items": _ref("ConceptBrief")},
        },
    },
}


def _param(
    name: str,
    description: str,
    schema: dict[str, Any],
    *,
    required: bool = False,
    example: Any = None,
    explode: bool | None = None,
) -> dict[str, Any]:
    param: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }
    if example is not None:
        param["example"] = example
    if explode is not None:
        param["style"] = "form"
        param["explode"] = explode
    return param


Q = _param(
    "q",
    "What to look for: a label (any language, any case, with or without diacritics), part of "
    "one, a code (2512, SSYK 2512, ISCO C2512), a JobTech id, a legacy AMS id or a URI.",
    {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH, "pattern": NONBLANK_PATTERN},
    required=True,
    example="systemutveck",
)
LANG = _param(
    "lang",
    "Language of the labels to match and display (sv, en ...). Labels in other languages do not "
    "match; the display label falls back to Swedish, English, any.",
    {"type": "string"},
    example="sv",
)
SCHEME = _param(
    "scheme",
    "Only concepts in these schemes: scheme ids (see /api/v1/schemes) or URIs, repeated or "
    "comma-separated.",
    {"type": "array", "items": {"type": "string"}},
    explode=True,
    example=["jobtech/occupation-name"],
)
TYPE = _param(
    "type",
    "Only concepts of these types (occupation-name, skill, esco:Occupation ...), repeated or "
    "comma-separated.",
    {"type": "array", "items": {"type": "string"}},
    explode=True,
    example=["occupation-name"],
)
DEPRECATED = _param(
    "include_deprecated",
    "Also return deprecated concepts (each names its replacement).",
    {"type": "boolean", "default": False},
)
URI = _param(
    "uri",
    "The concept URI.",
    {"type": "string", "minLength": 1, "maxLength": MAX_URI_LENGTH, "pattern": IRI_PATTERN},
    required=True,
    example=JOBTECH_CONCEPT.iri + "rQds_YGd_quU",
)


VERSION = _param(
    "version",
    "Show the concept as this release of its source has it (see /api/v1/releases); the "
    "document then says which release (`version`) and lists the others (`versions`). A "
    "version the concept's sources lack is a 404 listing the ones they have.",
    {"type": "string"},
    example="v1.1.1",
)
CONCEPT_OK = {
    "description": "The concept. Its weak ETag follows the concept's description (its RDF "
    "statements), not the build: a rebuild that leaves the concept alone keeps it.",
    "headers": {
        "ETag": {"schema": {"type": "string"}},
        "Last-Modified": {
            "description": "When the releases say the concept last changed.",
            "schema": {"type": "string"},
        },
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Concept"}}},
}
CONCEPT_UNCHANGED = {
    "description": "Unchanged: If-None-Match holds its ETag, or If-Modified-Since is not "
    "older than its Last-Modified."
}


def _offset() -> dict[str, Any]:
    return _param(
        "offset", "Results to skip.", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
    )


def _limit(maximum: int, default: int) -> dict[str, Any]:
    return _param(
        "limit",
        "Most results to return.",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
    )


def _ok(schema: str, description: str, example: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema), "example": example}},
    }


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


ERRORS = {"400": _error("Bad input; `error.parameter` names the parameter at fault.")}
NOT_FOUND = {"404": _error("No such concept or scheme in the served store.")}

HIT_EXAMPLE = {
    "uri": JOBTECH_CONCEPT.iri + "rQds_YGd_quU",
    "label": "Systemutvecklare",
    "lang": "sv",
    "matched": {"text": "Systemutvecklare", "kind": "prefLabel", "lang": "sv", "how": "prefix"},
    "score": 80,
    "type": {"id": "occupation-name", "label": "Yrkesbenämning", "uri": None},
    "scheme": {
        "id": "jobtech/occupation-name",
        "uri": OCCUPATION_NAMES,
        "label": "Yrkesbenämning",
        "vocabulary": "jobtech",
    },
    "notation": None,
    "notations": [],
    "deprecated": False,
    "replaced_by": [],
    "not_current": False,
    "last_seen": None,
    "broader": {
        "uri": JOBTECH_CONCEPT.iri + "DJh5_yyF_hEM",
        "label": "Mjukvaru- och systemutvecklare m.fl.",
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/autocomplete": {
        "get": {
            "operationId": "autocomplete",
            "summary": "Suggest concepts for what a user has typed so far.",
            "description": "Ranked: exact preferred label, exact alternative label, label "
            "prefix, word prefix, compound part, one typo. Deprecated concepts are left out "
            "unless asked for; concepts of older releases only come after current ones with the "
            "same match, flagged not_current.",
            "parameters": [Q, LANG, SCHEME, TYPE, _limit(MAX_AUTOCOMPLETE, 10), DEPRECATED],
            "responses": {
                "200": _ok(
                    "AutocompleteResponse",
                    "The best concepts, best first.",
                    {"query": "systemutveck", "results": [HIT_EXAMPLE]},
                ),
                **ERRORS,
            },
        }
    },
    "/api/v1/search": {
        "get": {
            "operationId": "search",
            "summary": "Search concepts: a page of results, the total and facet counts.",
            "parameters": [
                Q,
                LANG,
                SCHEME,
                TYPE,
                _offset(),
                _limit(MAX_SEARCH_PAGE, 20),
                DEPRECATED,
            ],
            "responses": {
                "200": _ok(
                    "SearchResponse",
                    "One page of matches.",
                    {
                        "query": "utvecklare",
                        "total": 1,
                        "offset": 0,
                        "limit": 20,
                        "results": [HIT_EXAMPLE],
                        "facets": {
                            "schemes": [
                                {
                                    "id": "jobtech/occupation-name",
                                    "uri": OCCUPATION_NAMES,
                                    "label": "Yrkesbenämning",
                                    "vocabulary": "jobtech",
                                    "count": 1,
                                }
                            ],
                            "types": [
                                {"id": "occupation-name", "label": "Yrkesbenämning", "count": 1}
                            ],
                        },
                    },
                ),
                **ERRORS,
            },
        }
    },
    "/api/v1/resolve": {
        "post": {
            "operationId": "resolve",
            "summary": f"Resolve up to {MAX_BATCH} labels, codes, ids or URIs to concepts.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": _ref("ResolveRequest"),
                        "example": {
                            "queries": [
                                "sjuksköterska",
                                "software developer",
                                "SSYK 2512",
                                {"q": "7618", "type": "occupation-name"},
                                "no such thing",
                            ],
                            "limit": 3,
                        },
                    }
                },
            },
            "responses": {
                "200": _ok(
                    "ResolveResponse",
                    "One entry per query, in order.",
                    {
                        "results": [
                            {
                                "query": "Systemutvecklare",
                                "matched": True,
                                "candidates": [HIT_EXAMPLE],
                            },
                            {
                                "query": "no such thing",
                                "matched": False,
                                "candidates": [],
                                "message": "nothing matched 'no such thing'",
                            },
                        ],
                        "matched": 1,
                        "unmatched": 1,
                    },
                ),
                **ERRORS,
                "413": _error("The request body is too large."),
            },
        }
    },
    "/api/v1/concepts": {
        "get": {
            "operationId": "concept",
            "summary": "One concept, whole: labels, notes, codes, hierarchy, mappings, skills, "
            "substitutability, deprecation; with a JSON-LD @context.",
            "parameters": [URI, LANG, VERSION],
            "responses": {
                "200": CONCEPT_OK,
                "304": CONCEPT_UNCHANGED,
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/api/v1/concepts/{id}": {
        "get": {
            "operationId": "jobtechConcept",
            "summary": "A JobTech concept by its id (short for ?uri=http://data.jobtechdev.se/"
            "taxonomy/concept/{id}).",
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,64}$"},
                    "example": "rQds_YGd_quU",
                },
                LANG,
                VERSION,
            ],
            "responses": {
                "200": CONCEPT_OK,
                "304": CONCEPT_UNCHANGED,
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/api/v1/narrower": {
        "get": {
            "operationId": "narrower",
            "summary": "A page of a concept's narrower concepts, by label.",
            "parameters": [URI, LANG, _offset(), _limit(1000, 100)],
            "responses": {
                "200": {
                    "description": "One page.",
                    "content": {"application/json": {"schema": _ref("ConceptPage")}},
                },
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/api/v1/schemes": {
        "get": {
            "operationId": "schemes",
            "summary": "The concept schemes, with their vocabulary and size.",
            "parameters": [LANG],
            "responses": {
                "200": {
                    "description": "Every scheme that has concepts.",
                    "content": {"application/json": {"schema": _ref("SchemesResponse")}},
                },
                **ERRORS,
            },
        }
    },
    "/api/v1/top-concepts": {
        "get": {
            "operationId": "topConcepts",
            "summary": "A page of a scheme's top concepts, by label.",
            "parameters": [
                _param(
                    "scheme",
                    "Scheme id or URI.",
                    {"type": "string", "minLength": 1, "pattern": r"\S"},
                    required=True,
                    example="jobtech/ssyk-level-1",
                ),
                LANG,
                _offset(),
                _limit(1000, 100),
            ],
            "responses": {
                "200": {
                    "description": "One page.",
                    "content": {"application/json": {"schema": _ref("ConceptPage")}},
                },
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
}


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kll-graph lookup API",
            "version": __version__,
            "description": "Search, autocomplete and resolve labels, codes and ids of the JobTech "
            "Taxonomy and ESCO to concept URIs; read whole concepts, schemes and hierarchies. "
            'Every error has one shape: {"error": {"status", "code", "message", '
            '"parameter"}}.',
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "servers": [{"url": "/"}],
        "paths": {**PATHS, **openapi_review.PATHS, **openapi_changes.PATHS},
        "components": {
            "schemas": {**SCHEMAS, **openapi_review.SCHEMAS, **openapi_changes.SCHEMAS},
            "securitySchemes": openapi_review.SECURITY_SCHEMES,
        },
    }


def document(index: LabelIndex | None = None) -> dict[str, Any]:
    """The OpenAPI document (a fresh copy). Given the served label index, the languages, schemes
    and types it knows are listed as the allowed values of the filters."""
    doc = copy.deepcopy(_document())
    if index is not None:
        _list_known_values(doc, index)
    return doc


def _list_known_values(doc: dict[str, Any], index: LabelIndex) -> None:
    languages = sorted({tag.split("-")[0] for tag in index.languages if tag})
    lang = {
        "type": "string",
        "pattern": "^(" + "|".join(languages) + ")(-[a-z0-9]{1,8})*$" if languages else "^$",
    }
    schemes = {"type": "string", "enum": sorted(index.scheme_by_id)}
    types = {"type": "string", "enum": sorted(index.type_by_id)}
    known = {"lang": lang, "scheme": schemes, "type": types}
    for item in doc["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                if param["name"] in known and param["in"] == "query":
                    if param["schema"].get("type") == "array":
                        param["schema"]["items"] = known[param["name"]]
                    elif param["name"] == "lang":
                        param["schema"] = lang
    schemas = doc["components"]["schemas"]
    for properties in (
        schemas["ResolveRequest"]["properties"],
        schemas["ResolveQuery"]["oneOf"][1]["properties"],
    ):
        properties["lang"] = {"anyOf": [lang, {"type": "null"}]}
        for name in ("scheme", "type"):
            properties[name] = {
                "oneOf": [known[name], {"type": "array", "items": known[name]}, {"type": "null"}]
            }
