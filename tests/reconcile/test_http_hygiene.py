"""HTTP hygiene of /reconcile and /reconcile/v1 on the small JobTech dump fixture over real HTTP:
CORS on answers, errors and preflights; non-UTF-8 bodies; the batch size; JSONP only with a
plain callback name; every answer valid against its version's schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from kll_graph.testing import LiveServer
from tests.reconcile import spec
from tests.reconcile.test_deprecated_labels import SUCCESSOR, dump_server

__all__ = ["dump_server"]  # the module-scoped fixture, shared with the deprecated-label tests


@pytest.fixture(scope="module")
def root(dump_server: LiveServer) -> str:
    spec.need_specs()
    return dump_server.url + "/reconcile"


def _cors(r: requests.Response) -> None:
    assert r.headers.get("Access-Control-Allow-Origin") == "*", (r.status_code, r.url)


def _error(r: requests.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    _cors(r)
    error: dict[str, Any] = r.json()["error"]
    assert error["message"]
    return error


def test_a_preflight_for_a_10_json_post_is_allowed(root: str) -> None:
    r = requests.options(
        root + "/v1/match",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, accept-language",
        },
        timeout=30,
    )
    assert r.status_code in (200, 204)
    _cors(r)
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "accept-language" in allowed


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("", b'{"q0": {"query": "caf\xe9"}}', "application/json"),
        ("", b"queries=%7B%22q0%22%3A%7B%22query%22%3A%22caf%E9%22%7D%7D", None),
        ("", b'queries={"q0": {"query": "caf\xe9"}}', None),
        (
            "/v1/match",
            b'{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "caf\xe9"}]}]}',
            "application/json",
        ),
        ("/v1/extend", b'{"ids": ["caf\xe9"], "properties": []}', "application/json"),
    ],
)
def test_a_body_that_is_not_utf8_is_a_400_with_cors(
    root: str, path: str, body: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type or "application/x-www-form-urlencoded"}
    r = requests.post(root + path, data=body, headers=headers, timeout=30)
    assert "UTF-8" in _error(r, 400)["message"] or r.status_code == 400


def test_a_json_body_at_the_02_root_is_read_as_the_queries(root: str) -> None:
    r = requests.post(root, json={"q0": {"query": "Kodare"}}, timeout=30)
    assert r.status_code == 200, r.text
    spec.check("0.2", "reconciliation-result-batch", r.json())
    assert r.json()["q0"]["result"][0]["id"] == SUCCESSOR


def test_the_batch_size_is_announced_and_one_more_is_a_413(root: str) -> None:
    manifest = requests.get(root, timeout=30).json()
    assert manifest["batchSize"] == 1000
    full = {f"q{i}": {"query": "Kodare"} for i in range(1000)}
    r = requests.post(root, data={"queries": json.dumps(full)}, timeout=120)
    assert r.status_code == 200 and len(r.json()) == 1000
    full["q1000"] = {"query": "Kodare"}
    r = requests.post(root, data={"queries": json.dumps(full)}, timeout=120)
    assert "1,000" in _error(r, 413)["message"]
    body = {"queries": [{"conditions": [{"matchType": "name", "propertyValue": "x"}]}] * 1001}
    _error(requests.post(root + "/v1/match", json=body, timeout=120), 413)


@pytest.mark.parametrize(
    "callback",
    ["alert(1)", "a;b", "x</script>", "", "1abc", "a b", "x" * 65, "cb\n", "cb()", "ä", "cbä"],
)
def test_a_jsonp_callback_with_anything_but_a_name_is_a_json_400(root: str, callback: str) -> None:
    q = json.dumps({"q0": {"query": "Kodare"}})
    r = requests.get(root, params={"queries": q, "callback": callback}, timeout=30)
    _error(r, 400)


def test_jsonp_wraps_get_answers_only_and_never_on_10(root: str) -> None:
    q = json.dumps({"q0": {"query": "Kodare"}})
    r = requests.get(root, params={"queries": q, "callback": "cb_1"}, timeout=30)
    assert r.status_code == 200 and r.text.startswith("/**/cb_1(") and r.text.endswith(");")
    assert r.headers["Content-Type"].startswith("application/javascript")
    spec.check("0.2", "reconciliation-result-batch", json.loads(r.text[len("/**/cb_1(") : -2]))
    r = requests.get(root + "/v1", params={"callback": "cb_1"}, timeout=30)
    assert r.status_code == 200 and r.text.startswith("{")


def test_every_answer_of_a_mixed_batch_validates_in_both_versions(root: str) -> None:
    texts = [
        "Kodare",
        "old1_OCC_001",
        "Mjukvaruutvecklare",
        "mjukvaruutveklare",
        "2512",
        "SSYK 2512",
        "Utgått yrke utan ersättare",
        "",
        "x" * 300,
        "Python",
        "<b>",
        "\u0000",
    ]
    batch: dict[str, Any] = {}
    for i, text in enumerate(texts):
        batch[f"a{i}"] = {"query": text}
        batch[f"b{i}"] = {"query": text, "type": "occupation-name", "type_strict": "should"}
        batch[f"c{i}"] = {
            "query": text,
            "limit": 1 + i % 5,
            "properties": [{"pid": "ssyk", "v": {"id": "DJh5_yyF_hEM", "name": "x"}}],
        }
    r = requests.post(root, data={"queries": json.dumps(batch)}, timeout=60)
    assert r.status_code == 200, r.text
    spec.check("0.2", "reconciliation-result-batch", r.json())
    assert set(r.json()) == set(batch)
    queries = [
        {"conditions": [{"matchType": "name", "propertyValue": t}], "limit": 3} for t in texts
    ]
    queries += [{"conditions": [{"matchType": "id", "propertyValue": "old1_OCC_001"}]}]
    r = requests.post(root + "/v1/match", json={"queries": queries}, timeout=60)
    assert r.status_code == 200, r.text
    spec.check("1.0-draft", "reconciliation-result-batch", r.json())
    assert len(r.json()["results"]) == len(queries)


def test_unknown_ids_properties_and_types_give_empty_values_never_an_error(root: str) -> None:
    extend = {
        "ids": [SUCCESSOR, "http://example.org/nothing", "nope"],
        "properties": [{"id": "no-such-property"}, {"id": "replaced_by"}, {"id": "ssyk"}],
    }
    r = requests.post(root, data={"extend": json.dumps(extend)}, timeout=30)
    assert r.status_code == 200, r.text
    spec.check("0.2", "data-extension-response", r.json())
    assert r.json()["rows"]["nope"]["no-such-property"] == []
    r = requests.post(root + "/v1/extend", json=extend, timeout=30)
    assert r.status_code == 200, r.text
    spec.check("1.0-draft", "data-extension-response", r.json())
    for path, version in (("/propose_properties", "0.2"), ("/v1/extend/propose", "1.0-draft")):
        r = requests.get(root + path, params={"type": "no-such-type"}, timeout=30)
        assert r.status_code == 200, r.text
        spec.check(version, "data-extension-property-proposal", r.json())
