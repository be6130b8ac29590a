"""/reconcile (0.2) and /reconcile/v1 (1.0 draft) over real HTTP on the real data: the official
examples, both manifests, OpenRefine's call sequence replayed, CORS, JSONP and bad input."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
import requests

from kll_graph.testing import LiveServer
from tests.reconcile import spec

JT = "http://data.jobtechdev.se/taxonomy/concept/"
TITLES = [
    "Mjukvaruutvecklare",
    "Sjuksköterska, grundutbildad",
    "Snickare",
    "software developer",
    "Lastbilsförare",
    "Kock",
    "Undersköterska",
    "Elektriker",
    "Lärare i grundskolan",
    "Städare",
]


@pytest.fixture(scope="module")
def root(real_server: LiveServer) -> str:
    spec.need_specs()
    return real_server.url + "/reconcile"


def _queries(root: str, batch: dict[str, Any], **kw: Any) -> requests.Response:
    return requests.post(root, data={"queries": json.dumps(batch)}, timeout=60, **kw)


def _cors(r: requests.Response) -> None:
    assert r.headers.get("Access-Control-Allow-Origin") == "*", (r.status_code, r.url)


def test_both_manifests_validate_and_neither_claims_the_other(root: str) -> None:
    m02 = requests.get(root, timeout=30)
    m10 = requests.get(root + "/v1", timeout=30)
    for r in (m02, m10):
        assert r.status_code == 200 and r.headers["Content-Language"] == "sv"
        _cors(r)
    spec.check("0.2", "manifest", m02.json())
    spec.check("1.0-draft", "manifest", m10.json())
    assert not spec.valid("1.0-draft", "manifest", m02.json())
    assert not spec.valid("0.2", "manifest", m10.json())
    assert m02.json()["versions"] == ["0.2"] and m10.json()["versions"] == ["1.0-draft"]
    assert m02.json()["batchSize"] == 1000 and m10.json()["standardizedScore"] is True
    types = {t["id"] for t in m02.json()["defaultTypes"]}
    assert {"occupation-name", "esco:Occupation", "esco:Skill", "skill", "esco/isco"} <= types


@pytest.mark.parametrize("version", spec.VERSIONS)
def test_every_official_query_example_is_answered_or_refused(root: str, version: str) -> None:
    for file in spec.examples(version, "reconciliation-query-batch", "valid"):
        body = json.loads(file.read_text())
        r = (
            _queries(root, body)
            if version == "0.2"
            else requests.post(root + "/v1/match", json=body, timeout=60)
        )
        assert r.status_code == 200, (file.name, r.text)
        spec.check(version, "reconciliation-result-batch", r.json())
    for file in spec.examples(version, "reconciliation-query-batch", "invalid"):
        body = json.loads(file.read_text())
        r = (
            _queries(root, body)
            if version == "0.2"
            else requests.post(root + "/v1/match", json=body, timeout=60)
        )
        assert r.status_code == 400, (file.name, r.text)
        assert r.json()["error"]["status"] == 400
        _cors(r)


@pytest.mark.parametrize("version", spec.VERSIONS)
def test_official_extension_queries_are_answered_schema_valid(root: str, version: str) -> None:
    for file in spec.examples(version, "data-extension-query", "valid"):
        body = json.loads(file.read_text())
        if version == "0.2":
            r = requests.post(root, data={"extend": json.dumps(body)}, timeout=60)
        else:
            r = requests.post(root + "/v1/extend", json=body, timeout=60)
        assert r.status_code == 200, r.text
        spec.check(version, "data-extension-response", r.json())


def test_openrefine_replay(root: str) -> None:
    """The calls OpenRefine makes, shaped as it makes them (form bodies, no limit unless set)."""
    manifest = requests.get(root, timeout=30).json()
    # 1. type guessing: the first ten distinct cells, limit 3, no type
    r = _queries(root, {f"q{i}": {"query": t, "limit": 3} for i, t in enumerate(TITLES)})
    spec.check("0.2", "reconciliation-result-batch", r.json())
    guessed = r.json()
    assert all(len(guessed[f"q{i}"]["result"]) <= 3 for i in range(10))
    assert all(c["type"] for q in guessed.values() for c in q["result"])
    # 2. reconcile in batches of ten with the chosen type and type_strict "should"
    batch = {
        f"q{i}": {"query": t, "type": "occupation-name", "type_strict": "should"}
        for i, t in enumerate(TITLES)
    }
    r = _queries(root, batch)
    spec.check("0.2", "reconciliation-result-batch", r.json())
    for answer in r.json().values():
        assert sum(c["match"] for c in answer["result"]) <= 1
        assert all(not c["match"] for c in answer["result"][1:])
    top = r.json()["q0"]["result"][0]
    assert top["id"] == JT + "rQds_YGd_quU" and top["match"] is True
    # 3. properties from an already reconciled column: {id, name} values
    props = {
        "q0": {
            "query": "Mjukvaruutvecklare",
            "type": "occupation-name",
            "type_strict": "should",
            "properties": [
                {
                    "pid": "broader",
                    "v": {
                        "id": JT + "DJh5_yyF_hEM",
                        "name": "Mjukvaru- och systemutvecklare m.fl.",
                    },
                },
                {"pid": "ssyk", "v": "2512"},
            ],
        }
    }
    r = _queries(root, props)
    spec.check("0.2", "reconciliation-result-batch", r.json())
    best = r.json()["q0"]["result"][0]
    assert best["id"] == JT + "rQds_YGd_quU"
    assert {f["id"]: f["value"] for f in best["features"]}["property_support"] == 2
    # 4. suggest with a prefix (entity, type, property), and a cursor
    suggest = manifest["suggest"]
    for kind, prefix, schema in (
        ("entity", "mjukvaru", "suggest-entities-response"),
        ("type", "yrk", "suggest-types-response"),
        ("property", "ss", "suggest-properties-response"),
    ):
        url = suggest[kind]["service_url"] + suggest[kind]["service_path"]
        r = requests.get(url, params={"prefix": prefix}, timeout=30)
        assert r.status_code == 200 and r.json()["result"], (kind, r.text)
        spec.check("0.2", schema, r.json())
        _cors(r)
    url = suggest["entity"]["service_url"] + suggest["entity"]["service_path"]
    first = requests.get(url, params={"prefix": "utvecklare"}, timeout=30).json()["result"]
    more = requests.get(url, params={"prefix": "utvecklare", "cursor": 10}, timeout=30).json()[
        "result"
    ]
    assert more and {e["id"] for e in first}.isdisjoint(e["id"] for e in more)
    by_id = requests.get(url, params={"prefix": "rQds_YGd_quU"}, timeout=30).json()["result"]
    assert by_id[0]["id"] == JT + "rQds_YGd_quU"
    # 5. propose properties for the type
    propose = manifest["extend"]["propose_properties"]
    r = requests.get(
        propose["service_url"] + propose["service_path"],
        params={"type": "occupation-name"},
        timeout=30,
    )
    spec.check("0.2", "data-extension-property-proposal", r.json())
    ids = {p["id"] for p in r.json()["properties"]}
    assert {
        "ssyk",
        "isco",
        "broader",
        "mappings",
        "mapping_details",
        "prefLabel",
        "definition",
    } <= ids
    # 6. extend with ten ids, to the service root
    found = [c["id"] for q in guessed.values() for c in q["result"]][:10]
    assert len(found) == 10
    extend = {
        "ids": found,
        "properties": [
            {"id": p} for p in ("prefLabel", "ssyk", "broader", "mappings", "deprecated")
        ],
    }
    r = requests.post(root, data={"extend": json.dumps(extend)}, timeout=120)
    assert r.status_code == 200, r.text
    spec.check("0.2", "data-extension-response", r.json())
    assert set(r.json()["rows"]) == set(found)
    # 7. preview through the manifest's template, as encodeURI(url.replace("{{id}}", id))
    preview = requests.get(
        manifest["preview"]["url"].replace("{{id}}", quote(JT + "rQds_YGd_quU", safe=":/?&=#")),
        timeout=30,
    )
    assert preview.status_code == 200 and "Mjukvaruutvecklare" in preview.text
    assert "<script" not in preview.text.lower()
    assert preview.headers.get("X-Frame-Options", "") in ("",)
    assert "frame-ancestors *" in preview.headers["Content-Security-Policy"]
    view = requests.get(manifest["view"]["url"].replace("{{id}}", JT + "rQds_YGd_quU"), timeout=30)
    assert view.status_code == 200


def test_the_10_api_matches_suggests_extends_and_proposes(root: str) -> None:
    pre = requests.options(
        root + "/v1/match",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,accept-language",
        },
        timeout=30,
    )
    assert (
        pre.status_code == 200
        and "content-type" in pre.headers["Access-Control-Allow-Headers"].lower()
    )
    _cors(pre)
    body = {
        "queries": [
            {
                "type": "occupations",
                "limit": 3,
                "conditions": [{"matchType": "name", "propertyValue": "software developer"}],
            },
            {"conditions": [{"matchType": "id", "propertyValue": "rQds_YGd_quU"}]},
            {
                "conditions": [
                    {"matchType": "name", "propertyValue": "Mjukvaruutvecklare"},
                    {
                        "matchType": "property",
                        "propertyId": "ssyk",
                        "propertyValue": "9999",
                        "required": True,
                    },
                ]
            },
        ]
    }
    r = requests.post(root + "/v1/match", json=body, headers={"Accept-Language": "en"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Language"] == "en"
    spec.check("1.0-draft", "reconciliation-result-batch", r.json())
    first, by_id, required = r.json()["results"]
    assert first["candidates"][0]["name"] == "software developer"
    assert all(f["name"] for f in first["candidates"][0]["features"])
    assert (
        by_id["candidates"][0]["id"] == JT + "rQds_YGd_quU"
        and by_id["candidates"][0]["score"] == 100
    )
    assert required["candidates"] == []
    for kind, schema in (
        ("entity", "suggest-entities-response"),
        ("type", "suggest-types-response"),
        ("property", "suggest-properties-response"),
    ):
        r = requests.get(
            f"{root}/v1/suggest/{kind}", params={"prefix": "s", "limit": 2, "offset": 1}, timeout=30
        )
        assert r.status_code == 200, r.text
        spec.check("1.0-draft", schema, r.json())
    r = requests.get(
        root + "/v1/extend/propose", params={"type": "occupation-name", "limit": 5}, timeout=30
    )
    spec.check("1.0-draft", "data-extension-property-proposal", r.json())
    assert len(r.json()["properties"]) == 5
    r = requests.post(
        root + "/v1/extend",
        json={
            "ids": [JT + "rQds_YGd_quU"],
            "properties": [
                {"id": "mapping_details"},
                {"id": "altLabel", "settings": {"lang": "en"}},
            ],
        },
        timeout=60,
    )
    spec.check("1.0-draft", "data-extension-response", r.json())
    assert r.json()["rows"][0]["properties"][0]["values"]
    assert (
        requests.get(
            root + "/v1/preview", params={"id": JT + "rQds_YGd_quU"}, timeout=30
        ).status_code
        == 200
    )


def test_jsonp_on_get_only_with_a_strict_callback(root: str) -> None:
    q = json.dumps({"q0": {"query": "Mjukvaruutvecklare"}})
    r = requests.get(root, params={"queries": q, "callback": "jQuery_123.cb$"}, timeout=30)
    assert r.status_code == 200 and r.text.startswith("/**/jQuery_123.cb$(")
    assert r.headers["Content-Type"].startswith("application/javascript")
    for bad in ("alert(1)", "a;b", "<script>", "", "1abc", "x" * 65):
        r = requests.get(root, params={"queries": q, "callback": bad}, timeout=30)
        assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/json"), (
            bad
        )
        _cors(r)
    r = requests.post(root + "?callback=cb", data={"queries": q}, timeout=30)
    assert r.status_code == 200 and r.text.startswith("{")


@pytest.mark.parametrize(
    "data",
    [
        {"queries": "{"},
        {"queries": "[]"},
        {"queries": json.dumps({"q0": {"query": "x", "limit": 0}})},
        {"queries": json.dumps({"q0": {"query": "x", "limit": 10000}})},
        {"queries": json.dumps({"q0": {"query": "x", "typo": 1}})},
        {"extend": json.dumps({"ids": "x"})},
    ],
)
def test_bad_input_is_a_clear_400(root: str, data: dict[str, str]) -> None:
    r = requests.post(root, data=data, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["message"]
    _cors(r)


def test_odd_cells_get_empty_lists_never_a_500(root: str) -> None:
    batch = {
        "q0": {"query": ""},
        "q1": {"query": "x" * 5000},
        "q2": {"query": "Kock", "type": "no-such-type"},
        "q3": {"query": "Kock", "properties": [{"pid": "no-such-property", "v": "x"}]},
        "q4": {"query": "\u0000\ud7ff\U0010ffff"},
        "q5": {"query": "<script>alert(1)</script>"},
    }
    r = _queries(root, batch)
    assert r.status_code == 200, r.text
    spec.check("0.2", "reconciliation-result-batch", r.json())
    assert (
        r.json()["q0"]["result"] == []
        and r.json()["q1"]["result"] == []
        and r.json()["q2"]["result"] == []
    )
    assert r.json()["q3"]["result"]
    bad = requests.post(
        root,
        data=b"queries=%7B%22q0%22%3A%7B%22query%22%3A%22caf%E9%22%7D%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert bad.status_code == 400
    bad = requests.post(
        root + "/v1/match",
        data=b'{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "caf\xe9"}]}]}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert bad.status_code == 400
    assert requests.get(root + "/preview", params={"id": "nope"}, timeout=30).status_code == 404


def test_batches_above_the_batch_size_are_413_with_a_json_error(root: str) -> None:
    batch = {f"q{i}": {"query": "Kock"} for i in range(1001)}
    r = _queries(root, batch)
    assert r.status_code == 413 and r.json()["error"]["status"] == 413
    _cors(r)
    body = {"queries": [{"conditions": [{"matchType": "name", "propertyValue": "Kock"}]}] * 1001}
    assert requests.post(root + "/v1/match", json=body, timeout=60).status_code == 413


def test_cors_on_every_route_errors_and_preflight(root: str) -> None:
    for r in (
        requests.get(root + "/no-such-route", timeout=30),
        requests.delete(root, timeout=30),
        requests.options(root, timeout=30),
        requests.get(root + "/v1/match", timeout=30),
    ):
        _cors(r)


def test_10_match_qualifiers_apply_and_an_unknown_one_is_a_400(root: str) -> None:
    def ask(value: str, qualifier: str) -> requests.Response:
        condition = {
            "matchType": "property",
            "propertyId": "ssyk",
            "propertyValue": value,
            "matchQualifier": qualifier,
            "required": True,
        }
        name = {"matchType": "name", "propertyValue": "Mjukvaruutvecklare"}
        query = {"type": "occupation-name", "limit": 3, "conditions": [name, condition]}
        return requests.post(root + "/v1/match", json={"queries": [query]}, timeout=30)

    found = ask("25*", "WildcardMatch")
    assert found.status_code == 200, found.text
    spec.check("1.0-draft", "reconciliation-result-batch", found.json())
    assert found.json()["results"][0]["candidates"]
    assert ask("SSYK 2512", "ExactMatch").json()["results"][0]["candidates"] == []
    refused = ask("2512", "RegexMatch")
    assert refused.status_code == 400
    assert "WildcardMatch" in refused.json()["error"]["message"]
    _cors(refused)
    props = requests.get(root + "/v1/suggest/property", params={"prefix": "ssyk"}, timeout=30)
    spec.check("1.0-draft", "suggest-properties-response", props.json())
    (ssyk,) = props.json()["result"]
    assert [q["id"] for q in ssyk["matchQualifiers"]] == ["ExactMatch", "WildcardMatch"]
    old = requests.get(root + "/suggest/property", params={"prefix": "ssyk"}, timeout=30)
    assert "matchQualifiers" not in old.json()["result"][0]
