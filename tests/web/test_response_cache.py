"""The cache of whole responses in front of the app: what it answers, what it never keeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kll_graph.lru import KeepingBody, SizedLru
from kll_graph.web import create_app
from kll_graph.web.response_cache import ResponseCache
from tests.sparql.support import build_fixture_store, current

QUERY = "SELECT ?o WHERE { ?o kll:conceptType 'occupation-name' } ORDER BY ?o"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    settings = build_fixture_store(tmp_path_factory.mktemp("responses"))
    application = create_app(settings, store=current(settings))
    yield application
    application.extensions["kll.sparql"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def responses(app: Flask) -> SizedLru[tuple[str, list[tuple[str, str]], bytes]]:
    cache: ResponseCache = app.extensions["kll.responses"]
    return cache.responses


def test_a_repeated_sparql_get_is_answered_without_the_app(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = [0]
    view = app.view_functions["sparql.sparql"]

    def counted(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return view(*args, **kwargs)

    monkeypatch.setitem(app.view_functions, "sparql.sparql", counted)
    first = client.get("/sparql", query_string={"query": QUERY + " # repeat"})
    hits = responses(app).hits
    second = client.get("/sparql", query_string={"query": QUERY + " # repeat"})
    assert first.status_code == second.status_code == 200
    assert calls[0] == 1, "the second request reached the view"
    assert responses(app).hits == hits + 1
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert second.headers["Access-Control-Allow-Origin"] == "*"


def test_accept_is_part_of_the_key(client: FlaskClient) -> None:
    query = {"query": QUERY + " # accept"}
    as_json = client.get("/sparql", query_string=query)
    as_csv = client.get("/sparql", query_string=query, headers={"Accept": "text/csv"})
    again_csv = client.get("/sparql", query_string=query, headers={"Accept": "text/csv"})
    assert as_json.mimetype == "application/sparql-results+json"
    assert as_csv.mimetype == again_csv.mimetype == "text/csv"
    assert again_csv.data == as_csv.data != as_json.data


def test_conditional_requests_still_get_their_304(client: FlaskClient) -> None:
    query = {"query": QUERY + " # conditional"}
    etag = client.get("/sparql", query_string=query).headers["ETag"]
    client.get("/sparql", query_string=query)  # now kept
    revalidated = client.get("/sparql", query_string=query, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.data == b""


def test_errors_and_pages_are_never_kept(app: Flask, client: FlaskClient) -> None:
    bad = {"query": "SELECT WHERE {"}
    client.get("/sparql", query_string=bad)
    hits = responses(app).hits
    again = client.get("/sparql", query_string=bad)
    assert again.status_code == 400
    client.get("/", headers={"Accept": "text/html"})
    client.get("/", headers={"Accept": "text/html"})
    client.post("/sparql", data={"query": QUERY})
    client.post("/sparql", data={"query": QUERY})
    assert responses(app).hits == hits


def test_lookups_are_kept_and_a_limit_change_is_a_new_request(client: FlaskClient) -> None:
    one = client.get("/api/v1/autocomplete", query_string={"q": "utvecklare", "limit": "1"})
    two = client.get("/api/v1/autocomplete", query_string={"q": "utvecklare", "limit": "2"})
    one_again = client.get("/api/v1/autocomplete", query_string={"q": "utvecklare", "limit": "1"})
    assert len(one.get_json()["results"]) == 1
    assert len(two.get_json()["results"]) == 2
    assert one_again.data == one.data


def test_a_response_setting_a_cookie_is_not_kept(tmp_path: Path) -> None:
    def app_with_cookie(environ: dict[str, object], start_response: object) -> list[bytes]:
        environ["kll.cacheable"] = True
        start_response("200 OK", [("Set-Cookie", "a=b"), ("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"for one client"]

    settings = build_fixture_store(tmp_path)
    cache = ResponseCache(app_with_cookie, current(settings), 1 << 20)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "QUERY_STRING": ""}
    for _ in range(2):
        body = cache(dict(environ), lambda status, headers, exc_info=None: None)
        assert b"".join(body) == b"for one client"
    assert cache.responses.hits == 0


def test_sized_lru_drops_the_least_recently_used() -> None:
    lru: SizedLru[str] = SizedLru(10, item_bytes=6)
    lru.put("a", "A", 4)
    lru.put("b", "B", 4)
    assert lru.get("a") == "A"  # a is now the most recent
    lru.put("c", "C", 4)  # 12 bytes: b goes
    assert lru.get("b") is None and lru.get("a") == "A" and lru.get("c") == "C"
    lru.put("big", "X", 7)  # larger than one item may be
    assert lru.get("big") is None


def test_keeping_body_keeps_only_whole_small_bodies() -> None:
    kept: list[bytes] = []
    assert list(KeepingBody([b"ab", b"cd"], kept.append, 10)) == [b"ab", b"cd"]
    assert kept == [b"abcd"]
    assert list(KeepingBody([b"abcdef", b"ghijkl"], kept.append, 10)) == [b"abcdef", b"ghijkl"]
    assert kept == [b"abcd"]
    partial = iter(KeepingBody([b"ab", b"cd", b"ef"], kept.append, 10))
    next(partial)  # the client went away after one chunk
    assert kept == [b"abcd"]


def test_a_sparql_result_is_kept_once(app: Flask, client: FlaskClient) -> None:
    """A GET's response is kept whole, so its result is not kept again in the result cache;
    a POST, which the response cache never keeps, has its result kept there."""
    service = app.extensions["kll.sparql"]
    query = QUERY + " # kept once"
    kept = len(responses(app)), len(service.cache)
    assert client.get("/sparql", query_string={"query": query}).status_code == 200
    assert (len(responses(app)), len(service.cache)) == (kept[0] + 1, kept[1])
    assert client.post("/sparql", data={"query": query}).status_code == 200
    assert len(service.cache) == kept[1] + 1
    # a conditional GET goes past the response cache, so the result cache answers it
    hits = service.cache.hits
    again = client.get(
        "/sparql", query_string={"query": query}, headers={"If-None-Match": '"other"'}
    )
    assert again.status_code == 200 and service.cache.hits == hits + 1
