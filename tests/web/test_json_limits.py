"""JSON request bodies over real HTTP against `kll-graph serve` (granian, as deployed): nesting
past `max_json_depth`, bytes that are not UTF-8 and text that is not JSON are 400s in the one error
shape, never 500s; brackets inside strings are text and do not count as nesting."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from kll_graph.settings import Settings
from kll_graph.store import CurrentStore
from kll_graph.testing import clean_env, serving

LIMIT = Settings().max_json_depth


@pytest.fixture(scope="module")
def base(sample_store: CurrentStore) -> Iterator[str]:
    """`kll-graph serve` on the sample store: its base URL, without the trailing slash."""
    env = clean_env(processes="1", query_workers="1")
    store = str(sample_store.layout.root)
    with serving("serve", "--store", store, "--port", "0", env=env) as (_, url):
        yield url.rstrip("/")


def resolve(base: str, body: bytes) -> requests.Response:
    return requests.post(
        base + "/api/v1/resolve",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


def error_of(response: requests.Response, status: int = 400) -> dict[str, object]:
    """The error of an answer in the one JSON error shape, checked to have `status`."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error  # type: ignore[no-any-return]


def nested(depth: int, kind: str = "array", inner: str = "1") -> str:
    """JSON text of arrays or objects nested `depth` deep around `inner`."""
    if kind == "array":
        return "[" * depth + inner + "]" * depth
    return '{"a":' * depth + inner + "}" * depth


@pytest.mark.parametrize(
    "body",
    [
        nested(100_000).encode(),
        nested(100_000, "object").encode(),
        ("[" * 50_000 + '{"a":' * 50_000).encode(),  # never closed: refused before parsing
        json.dumps({"queries": ["nurse"], "lang": "x"})
        .replace('"x"', nested(100_000, inner='"x"'))
        .encode(),
    ],
    ids=["arrays", "objects", "unclosed-mixed", "inside-a-resolve-request"],
)
def test_deep_nesting_is_a_400_naming_the_limit(base: str, body: bytes) -> None:
    error = error_of(resolve(base, body))
    assert error["code"] == "bad_request"
    assert error["parameter"] == "body"
    assert f"the limit is {LIMIT}" in str(error["message"])
    assert "max_json_depth" in str(error["message"])


def test_the_limit_is_exact(base: str) -> None:
    """At the limit the body is parsed (and then refused for its shape), one deeper it is not."""

    def body(depth: int) -> bytes:
        # the object is level 1, so the value of "lang" holds depth - 1 levels of arrays
        return ('{"queries": ["nurse"], "lang": ' + nested(depth - 1, inner='"sv"') + "}").encode()

    at_limit = error_of(resolve(base, body(LIMIT)))
    assert at_limit["parameter"] == "lang"
    past = error_of(resolve(base, body(LIMIT + 1)))
    assert past["parameter"] == "body"
    assert f"nested {LIMIT + 1} levels deep" in str(past["message"])


def test_brackets_inside_strings_do_not_count(base: str) -> None:
    queries = ["nurse " + "[{" * 80 + '\\"]]' for _ in range(1_000)]  # 160,000 brackets in all
    answer = resolve(base, json.dumps({"queries": queries}).encode())
    assert answer.status_code == 200, answer.text[:300]
    assert len(answer.json()["results"]) == 1_000
    # One long string of brackets is parsed and then refused for its length, not its depth.
    long = resolve(base, json.dumps({"queries": ["[" * 100_000]}).encode())
    error = error_of(long)
    assert error["parameter"] == "queries[0]"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"queries": ["caf\xe9"]}', "not UTF-8: byte 17 (0xe9)"),
        (b'{"queries": ["\xff\xfe"]}', "not UTF-8: byte 14 (0xff)"),
        (b'{"queries": ["nurse"', "not valid JSON: Expecting ',' delimiter: line 1 column 21"),
        (b'{"queries": ["nurse", ', "not valid JSON: Expecting value: line 1 column 23"),
        (
            b'{"queries": ["' + b"[" * 100_000,
            "not valid JSON: Unterminated string starting at: line 1 column 14",
        ),
        (b"\n\n  [1, 2,]", "not valid JSON: Expecting value: line 3 column 9"),
        (b"   ", "the body is empty"),
    ],
    ids=[
        "latin-1",
        "utf-16-bom",
        "truncated",
        "truncated-after-comma",
        "unterminated",
        "comma",
        "empty",
    ],
)
def test_bad_bytes_and_bad_json_are_400s_saying_where(
    base: str, body: bytes, expected: str
) -> None:
    error = error_of(resolve(base, body))
    assert error["parameter"] == "body"
    assert expected in str(error["message"])


def test_a_json_body_with_a_byte_order_mark_is_read(base: str) -> None:
    answer = resolve(base, b"\xef\xbb\xbf" + json.dumps({"queries": ["nurse"]}).encode())
    assert answer.status_code == 200, answer.text[:300]
