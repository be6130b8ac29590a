"""The /api/v1 lookup API over real HTTP (waitress on a free port) on the fixture vocabulary:
contents, every response checked against the OpenAPI document, and the one error shape."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import rdflib
import requests
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from kll_graph.testing import LiveServer
from kll_graph.web.openapi import document
from tests.labels.test_labels import (
    DATAKONSULT,
    ESCO_DEV,
    ESCO_PYTHON,
    JT,
    SPELUTVECKLARE,
    SSYK_2512,
    SYSTEMUTVECKLARE,
    fixture_build,
)

SPEC = document()
_REGISTRY = Registry().with_resource("urn:kll-openapi", DRAFT202012.create_resource(SPEC))


def check_against_spec(path: str, method: str, response: requests.Response) -> Any:
    """The response body, validated against the schema the OpenAPI document gives it."""
    assert response.headers["Content-Type"].startswith("application/json")
    responses = SPEC["paths"][path][method]["responses"]
    declared = responses.get(str(response.status_code))
    assert declared is not None, f"{response.status_code} is not documented for {method} {path}"
    schema = declared["content"]["application/json"]["schema"]
    wrapped = {"$ref": "urn:kll-openapi" + schema["$ref"]}
    body = response.json()
    Draft202012Validator(wrapped, registry=_REGISTRY).validate(body)
    return body


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    settings, store = fixture_build()
    live = LiveServer(settings, store)
    yield live
    live.close()


def get(server: LiveServer, path: str, **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=30)


# --- the document ---------------------------------------------------------------------------------


def test_openapi_document_is_valid_openapi_3_1(server: LiveServer) -> None:
    response = get(server, "/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["openapi"] == "3.1.0"
    validate(served)
    assert set(served["paths"]) == {
        "/api/v1/autocomplete",
        "/api/v1/search",
        "/api/v1/resolve",
        "/api/v1/concepts",
        "/api/v1/concepts/{id}",
        "/api/v1/narrower",
        "/api/v1/schemes",
        "/api/v1/top-concepts",
        "/api/v1/review/queue",
        "/api/v1/review/sets",
        "/api/v1/review/sets/{set}",
        "/api/v1/review/decisions",
        "/api/v1/review/undo",
        "/api/v1/review/batch",
        "/api/v1/review/import",
        "/api/v1/releases",
        "/api/v1/releases/{source}",
        "/api/v1/releases/{source}/{version}",
        "/api/v1/changes",
    }


def test_documented_examples_match_their_schemas() -> None:
    checked = 0
    for item in SPEC["paths"].values():
        for operation in item.values():
            for declared in operation["responses"].values():
                content = declared.get("content", {}).get("application/json", {})  # 304: none
                if "example" in content:
                    schema = {"$ref": "urn:kll-openapi" + content["schema"]["$ref"]}
                    Draft202012Validator(schema, registry=_REGISTRY).validate(content["example"])
                    checked += 1
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schema = {"$ref": "urn:kll-openapi" + body["schema"]["$ref"]}
                Draft202012Validator(schema, registry=_REGISTRY).validate(body["example"])
                checked += 1
    # autocomplete, search and resolve answers, resolve request; the review requests
    assert checked == 9


# --- lookups --------------------------------------------------------------------------------------


def test_autocomplete(server: LiveServer) -> None:
    response = get(server, "/api/v1/autocomplete", q="systemutv", lang="sv", limit=5)
    body = check_against_spec("/api/v1/autocomplete", "get", response)
    hit = body["results"][0]
    assert hit["uri"] == SYSTEMUTVECKLARE
    assert hit["label"] == "Systemutvecklare"
    assert hit["matched"]["how"] == "prefix"
    assert hit["scheme"]["id"] == "jobtech/occupation-name"
    assert hit["broader"]["uri"] == SSYK_2512


def test_autocomplete_filters_repeated_and_comma_separated(server: LiveServer) -> None:
    repeated = requests.get(
        server.url + "/api/v1/autocomplete",
        params=[("q", "2512"), ("type", "ssyk-level-4"), ("type", "esco:ISCOGroup")],
        timeout=30,
    ).json()
    comma = get(server, "/api/v1/autocomplete", q="2512", type="ssyk-level-4,esco:ISCOGroup").json()
    assert repeated == comma
    assert {r["uri"] for r in comma["results"]} == {
        SSYK_2512,
        "http://data.europa.eu/esco/isco/C2512",
    }


def test_deprecated_only_when_asked(server: LiveServer) -> None:
    plain = get(server, "/api/v1/autocomplete", q="datakonsult").json()
    assert DATAKONSULT not in [r["uri"] for r in plain["results"]]
    response = get(server, "/api/v1/autocomplete", q="datakonsult", include_deprecated="true")
    body = check_against_spec("/api/v1/autocomplete", "get", response)
    assert body["results"][0]["uri"] == DATAKONSULT
    assert body["results"][0]["replaced_by"][0]["uri"] == SYSTEMUTVECKLARE


def test_search_with_total_and_facets(server: LiveServer) -> None:
    response = get(server, "/api/v1/search", q="utvecklare", limit=2)
    body = check_against_spec("/api/v1/search", "get", response)
    assert body["total"] > 2 and len(body["results"]) == 2
    assert sum(f["count"] for f in body["facets"]["types"]) == body["total"]
    page2 = get(server, "/api/v1/search", q="utvecklare", limit=2, offset=2).json()
    assert not {r["uri"] for r in body["results"]} & {r["uri"] for r in page2["results"]}


def test_resolve(server: LiveServer) -> None:
    payload = {
        "queries": [
            "Systemutvecklare",
            "software developer",
            "SSYK 2512",
            {"q": "7618", "type": "occupation-name"},
            "rQds_YGd_quU",
            "ingenting alls",
        ],
        "limit": 1,
    }
    response = requests.post(server.url + "/api/v1/resolve", json=payload, timeout=30)
    body = check_against_spec("/api/v1/resolve", "post", response)
    tops = [r["candidates"][0]["uri"] if r["matched"] else None for r in body["results"]]
    assert tops == [SYSTEMUTVECKLARE, ESCO_DEV, SSYK_2512, SYSTEMUTVECKLARE, SYSTEMUTVECKLARE, None]
    assert body["results"][-1]["message"] == "nothing matched 'ingenting alls'"
    kinds = [r["candidates"][0]["matched"]["kind"] for r in body["results"][:5]]
    assert kinds == ["prefLabel", "prefLabel", "notation", "legacyId", "id"]


def test_resolve_a_thousand_strings(server: LiveServer) -> None:
    queries = ["Spelutvecklare", "2512", "sjukskoterka", "nothing here"] * 250
    response = requests.post(server.url + "/api/v1/resolve", json={"queries": queries}, timeout=60)
    body = check_against_spec("/api/v1/resolve", "post", response)
    assert len(body["results"]) == 1000
    assert (body["matched"], body["unmatched"]) == (750, 250)


# --- concepts, schemes, hierarchies ---------------------------------------------------------------


def test_concept_by_uri_and_by_jobtech_id(server: LiveServer) -> None:
    by_uri = get(server, "/api/v1/concepts", uri=SYSTEMUTVECKLARE)
    body = check_against_spec("/api/v1/concepts", "get", by_uri)
    by_id = get(server, "/api/v1/concepts/rQds_YGd_quU")
    assert check_against_spec("/api/v1/concepts/{id}", "get", by_id) == body
    assert body["prefLabel"] == {"sv": "Systemutvecklare"}
    assert body["altLabel"] == {"sv": ["Programmerare"]}
    assert body["hiddenLabel"] == {"sv": ["Systemutveklare"]}
    assert body["jobtech_id"] == "rQds_YGd_quU"
    assert body["legacy_ids"] == ["7618"]
    assert [b["uri"] for b in body["broader"]] == [SSYK_2512]
    assert [r["uri"] for r in body["replaces"]] == [DATAKONSULT]
    mapping = body["mappings"][0]
    assert (mapping["predicate"], mapping["uri"], mapping["direction"]) == (
        "skos:exactMatch",
        ESCO_DEV,
        "outgoing",
    )
    assert mapping["label"] == "mjukvaruutvecklare"
    assert mapping["provenance"]["mapping_justification"] == "semapv:ManualMappingCuration"
    assert mapping["provenance"]["confidence"] == 0.95
    subst = body["substitutability"]
    assert [(s["uri"], s["percentage"]) for s in subst["can_substitute"]] == [(SPELUTVECKLARE, 75)]
    assert [(s["uri"], s["percentage"]) for s in subst["substituted_by"]] == [(SPELUTVECKLARE, 25)]


def test_esco_concept_skills_mappings_and_labels_by_language(server: LiveServer) -> None:
    body = check_against_spec(
        "/api/v1/concepts", "get", get(server, "/api/v1/concepts", uri=ESCO_DEV, lang="en")
    )
    assert body["label"] == "software developer"
    assert body["prefLabel"] == {"en": "software developer", "sv": "mjukvaruutvecklare"}
    assert body["definition"]["en"].startswith("Software developers implement")
    assert [s["uri"] for s in body["essential_skills"]] == [ESCO_PYTHON]
    assert body["essential_skills"][0]["label"] == "Python (computer programming)"
    assert [s["label"] for s in body["optional_skills"]] == ["C++"]
    incoming = body["mappings"][0]
    assert (incoming["direction"], incoming["uri"]) == ("incoming", SYSTEMUTVECKLARE)
    assert body["notations"] == [
        {"value": "2512.4", "system": None, "system_label": None, "datatype": None}
    ]
    skill = get(server, "/api/v1/concepts", uri=ESCO_PYTHON).json()
    assert [o["uri"] for o in skill["essential_for"]] == [ESCO_DEV]


def test_deprecated_concept_names_replacement(server: LiveServer) -> None:
    body = get(server, "/api/v1/concepts/Old0_Dep_001").json()
    assert body["deprecated"] is True
    assert [r["label"] for r in body["replaced_by"]] == ["Systemutvecklare"]


def test_concept_is_json_ld(server: LiveServer) -> None:
    text = get(server, "/api/v1/concepts", uri=SYSTEMUTVECKLARE).text
    graph = rdflib.Graph().parse(data=text, format="json-ld")
    skos = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
    subject = rdflib.URIRef(SYSTEMUTVECKLARE)
    assert (subject, skos.prefLabel, rdflib.Literal("Systemutvecklare", lang="sv")) in graph
    assert (subject, skos.broader, rdflib.URIRef(SSYK_2512)) in graph
    assert (subject, skos.altLabel, rdflib.Literal("Programmerare", lang="sv")) in graph


def test_schemes_top_concepts_and_narrower(server: LiveServer) -> None:
    schemes = check_against_spec("/api/v1/schemes", "get", get(server, "/api/v1/schemes"))
    by_id = {s["id"]: s for s in schemes["schemes"]}
    assert by_id["jobtech/ssyk-level-4"]["concepts"] == 3
    assert by_id["esco/occupations"]["labels"] == {"en": "ESCO Occupations", "sv": "ESCO-yrken"}
    top = check_against_spec(
        "/api/v1/top-concepts",
        "get",
        get(server, "/api/v1/top-concepts", scheme="jobtech/ssyk-level-4"),
    )
    assert top["stated"] is False  # the fixture names no top concepts: roots are computed
    assert [i["label"] for i in top["items"]] == [
        "Grundutbildade sjuksköterskor",
        "Läkare",
        "Mjukvaru- och systemutvecklare m.fl.",
    ]
    assert top["items"][2]["narrower_count"] == 3
    page = check_against_spec(
        "/api/v1/narrower", "get", get(server, "/api/v1/narrower", uri=SSYK_2512, limit=2)
    )
    assert page["total"] == 3
    assert [i["label"] for i in page["items"]] == ["Datakonsult", "Spelutvecklare"]
    rest = get(server, "/api/v1/narrower", uri=SSYK_2512, limit=2, offset=2).json()
    assert [i["uri"] for i in rest["items"]] == [SYSTEMUTVECKLARE]


# --- bad input: 400 naming the parameter, 404 for unknown things ----------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        ("/api/v1/autocomplete", {}, 400, "q"),
        ("/api/v1/autocomplete", {"q": "  "}, 400, "q"),
        ("/api/v1/autocomplete", {"q": "x" * 201}, 400, "q"),
        ("/api/v1/autocomplete", {"q": "a", "lang": "xx"}, 400, "lang"),
        ("/api/v1/autocomplete", {"q": "a", "scheme": "nope"}, 400, "scheme"),
        ("/api/v1/autocomplete", {"q": "a", "type": "nope"}, 400, "type"),
        ("/api/v1/autocomplete", {"q": "a", "limit": "ten"}, 400, "limit"),
        ("/api/v1/autocomplete", {"q": "a", "limit": "0"}, 400, "limit"),
        (
            "/api/v1/autocomplete",
            {"q": "a", "include_deprecated": "maybe"},
            400,
            "include_deprecated",
        ),
        ("/api/v1/autocomplete", {"q": "a", "include_deprecated": ""}, 400, "include_deprecated"),
        ("/api/v1/search", {"q": "a", "include_deprecated": "1"}, 400, "include_deprecated"),
        ("/api/v1/search", {"q": "a", "offset": "-1"}, 400, "offset"),
        ("/api/v1/search", {"q": "a", "limit": "101"}, 400, "limit"),
        ("/api/v1/concepts", {}, 400, "uri"),
        ("/api/v1/concepts", {"uri": "not a uri"}, 400, "uri"),
        ("/api/v1/concepts", {"uri": JT + "nope"}, 404, None),
        ("/api/v1/concepts", {"uri": SYSTEMUTVECKLARE, "lang": "zz"}, 400, "lang"),
        ("/api/v1/concepts/No0t_Her_e00", {}, 404, None),
        ("/api/v1/narrower", {"uri": JT + "nope"}, 404, None),
        ("/api/v1/narrower", {"uri": SSYK_2512, "limit": "0"}, 400, "limit"),
        ("/api/v1/top-concepts", {}, 400, "scheme"),
        ("/api/v1/top-concepts", {"scheme": "no/such"}, 404, None),
        ("/api/v1/schemes", {"lang": "123"}, 400, "lang"),
    ],
)
def test_bad_input(
    server: LiveServer, path: str, params: dict, status: int, parameter: str | None
) -> None:
    response = get(server, path, **params)
    assert response.status_code == status
    spec_path = "/api/v1/concepts/{id}" if path.startswith("/api/v1/concepts/") else path
    error = check_against_spec(spec_path, "get", response)["error"]
    assert error["status"] == status
    assert error.get("parameter") == parameter
    assert error["message"]


@pytest.mark.parametrize(
    ("data", "parameter"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({"queries": ["x"] * 1001}).encode(), "queries"),
        (json.dumps({"queries": [""]}).encode(), "queries[0]"),
        (json.dumps({"queries": [{"q": "a", "lang": "xx"}]}).encode(), "queries[0].lang"),
        (b"\xff\xfe", "body"),
    ],
)
def test_resolve_bad_bodies(server: LiveServer, data: bytes, parameter: str) -> None:
    response = requests.post(
        server.url + "/api/v1/resolve",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert (
        check_against_spec("/api/v1/resolve", "post", response)["error"]["parameter"] == parameter
    )


def test_unknown_route_and_method_use_the_error_shape(server: LiveServer) -> None:
    missing = get(server, "/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == 404
    wrong = requests.get(server.url + "/api/v1/resolve", timeout=30)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


#: Spaces that only one regex dialect's `\s` knows: Python's (U+001C..U+001F, U+0085) or
#: ECMA-262's (U+FEFF), plus plain ones.
DIALECT_SPACES = ["\x1c", "\x1f", "\x85", "\ufeff", "\u3000", " \t\n"]
#: ECMA-262's `\s`, the dialect of JSON Schema's `pattern`, as a Python class body.
ECMA_SPACE = r"\t\n\v\f\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


@pytest.mark.parametrize("space", DIALECT_SPACES)
def test_a_blank_query_is_refused_and_the_schema_calls_it_invalid(
    server: LiveServer, space: str
) -> None:
    """Schemathesis once sent `q` = U+0085: valid by the schema's `\\S`, blank to the server."""
    response = get(server, "/api/v1/search", q=space)
    assert response.status_code == 400
    assert response.json()["error"]["parameter"] == "q"
    search = SPEC["paths"]["/api/v1/search"]["get"]["parameters"]
    pattern = next(p["schema"]["pattern"] for p in search if p["name"] == "q")
    assert re.search(pattern, space) is None
    # read as ECMA-262 would: its \s has U+FEFF but not U+001C..U+001F or U+0085
    ecma = pattern.replace(
        r"\s", r"\t\n\v\f\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    )
    assert re.search(ecma, space) is None
    assert re.search(pattern, f"{space}x") and re.search(ecma, f"{space}x")
