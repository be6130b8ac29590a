"""Query parameters are read one way (kll_graph.web.params): every parameter an API route and a
page both take gives the same answer on both, for valid values and for invalid ones (the same
400 naming the parameter, with the same message: JSON from the API, an error page on the pages).
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kll_graph.exceptions import BadRequestError
from kll_graph.web import create_app
from kll_graph.web.params import (
    bool_param,
    int_param,
    list_param,
    page_param,
    served_build,
    single_value,
    text_param,
)
from tests.labels.test_labels import DATAKONSULT, fixture_build

HIT = re.compile(r'<div class="hit-head"><a href="/page\?uri=([^"&]+)')
MESSAGE = re.compile(r'<p class="message">(.*?)</p>', re.S)
BROWSER = {"Accept": "text/html", "Accept-Language": "sv"}


@functools.cache
def app() -> Flask:
    settings, store = fixture_build()
    return create_app(settings, store=store)


def client() -> FlaskClient:
    return app().test_client()


def api(path: str, **query: Any) -> TestResponse:
    return client().get(path, query_string=query)


def page(path: str, **query: Any) -> TestResponse:
    return client().get(path, query_string=query, headers=BROWSER)


def api_error(response: TestResponse) -> tuple[int, str | None, str]:
    error = response.get_json()["error"]
    return response.status_code, error.get("parameter"), error["message"]


def page_error(response: TestResponse) -> str:
    found = MESSAGE.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return html.unescape(found.group(1))


def api_hits(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [r["uri"] for r in response.get_json()["results"]]


def page_hits(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [unquote(u) for u in HIT.findall(response.get_data(as_text=True))]


# --- include_deprecated: /api/v1/search and /search -------------------------------------------


@pytest.mark.parametrize(
    ("value", "included"),
    [(None, False), ("true", True), ("false", False), ("TRUE", True), (" False ", False)],
)
def test_include_deprecated_accepted_alike(value: str | None, included: bool) -> None:
    query = {"q": "datakonsult"} | ({"include_deprecated": value} if value is not None else {})
    from_api = api_hits(api("/api/v1/search", **query))
    on_page = page_hits(page("/search", **query))
    assert from_api == on_page
    assert (DATAKONSULT in from_api) is included


@pytest.mark.parametrize("value", ["1", "0", "on", "yes", "", "maybe", "true,false"])
def test_include_deprecated_refused_alike(value: str) -> None:
    """No alias on the pages: an old `include_deprecated=1` bookmark gets a 400 saying what to
    send, the same as the API gives."""
    from_api = api("/api/v1/search", q="datakonsult", include_deprecated=value)
    on_page = page("/search", q="datakonsult", include_deprecated=value)
    status, parameter, message = api_error(from_api)
    assert (status, parameter) == (400, "include_deprecated")
    assert repr(value) in message and "true or false" in message
    assert on_page.status_code == 400
    assert on_page.mimetype == "text/html"
    assert page_error(on_page) == message


def test_search_form_and_links_send_true() -> None:
    body = page("/search", q="datakonsult", include_deprecated="true").get_data(as_text=True)
    box = re.search(r'<input type="checkbox" name="include_deprecated"[^>]*>', body)
    assert box and 'value="true"' in box.group(0) and "checked" in box.group(0)
    assert "include_deprecated=1" not in body
    twin = re.search(r'href="(/api/v1/search\?[^"]+)"', body)
    assert twin and "include_deprecated=true" in html.unescape(twin.group(1))
    assert api_hits(client().get(html.unescape(twin.group(1)))) == page_hits(
        page("/search", q="datakonsult", include_deprecated="true")
    )


# --- scheme and type: repeated and/or comma-separated, the same on both ------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"type": "occupation-name"},
        {"type": ["occupation-name", "esco:Occupation"]},
        {"type": "occupation-name,esco:Occupation"},
        {"scheme": "jobtech/occupation-name"},
        {"scheme": ["jobtech/occupation-name", "esco/occupations"]},
        {"scheme": "jobtech/occupation-name,esco/occupations", "type": "occupation-name"},
    ],
)
def test_list_filters_accepted_alike(query: dict[str, Any]) -> None:
    from_api = api_hits(api("/api/v1/search", q="utvecklare", **query))
    assert from_api  # a filter that keeps something, so the comparison means something
    assert from_api == page_hits(page("/search", q="utvecklare", **query))


def test_repeated_and_comma_separated_are_the_same() -> None:
    repeated = {"type": ["occupation-name", "esco:Occupation"]}
    comma = {"type": "occupation-name,esco:Occupation"}
    for path, hits, get in (("/api/v1/search", api_hits, api), ("/search", page_hits, page)):
        assert hits(get(path, q="utvecklare", **repeated)) == hits(
            get(path, q="utvecklare", **comma)
        )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("scheme", "nope"),
        ("scheme", ""),
        ("scheme", "jobtech/occupation-name,"),
        ("scheme", " jobtech/occupation-name"),
        ("type", "nope"),
        ("type", "occupation-name,,skill"),
    ],
)
def test_list_filters_refused_alike(name: str, value: str) -> None:
    """Values are taken as given: an empty or padded value is an unknown one, on both."""
    status, parameter, message = api_error(api("/api/v1/search", q="utvecklare", **{name: value}))
    assert (status, parameter) == (400, name)
    on_page = page("/search", q="utvecklare", **{name: value})
    assert on_page.status_code == 400
    assert page_error(on_page) == message


# --- limit: /api/v1/autocomplete and /suggest -------------------------------------------------


@pytest.mark.parametrize("value", ["1", "5", " 7 ", "50"])
def test_limit_accepted_alike(value: str) -> None:
    from_api = api_hits(api("/api/v1/autocomplete", q="utvecklare", limit=value))
    suggested = client().get("/suggest", query_string={"q": "utvecklare", "limit": value})
    assert suggested.status_code == 200
    assert len(from_api) == len(suggested.get_json()["results"]) <= int(value)


@pytest.mark.parametrize("value", ["0", "51", "-1", "ten", "", "2.5", "+3", "1_0", "9" * 30])
def test_limit_refused_alike(value: str) -> None:
    from_api = api("/api/v1/autocomplete", q="utvecklare", limit=value)
    suggested = client().get("/suggest", query_string={"q": "utvecklare", "limit": value})
    assert api_error(from_api) == api_error(suggested)
    status, parameter, message = api_error(from_api)
    assert (status, parameter) == (400, "limit")
    assert "from 1 to 50" in message and repr(value[:50]) in message


# --- the same integer rule for the API's offset and the pages' page numbers -------------------


@pytest.mark.parametrize("value", ["", "abc", "-1", "2.0"])
def test_offset_and_page_refuse_the_same_values(value: str) -> None:
    _, parameter, message = api_error(api("/api/v1/search", q="utvecklare", offset=value))
    assert parameter == "offset" and message.startswith("'offset' must be a whole number from 0")
    on_page = page("/search", q="utvecklare", page=value)
    assert on_page.status_code == 400
    assert page_error(on_page).startswith("'page' must be a whole number from 1")


# --- the functions themselves ------------------------------------------------------------------


def parse(query: str, read: Any) -> Any:
    with app().test_request_context("/x?" + query):
        return read()


def test_int_param() -> None:
    def limit() -> int:
        return int_param("limit", 10, minimum=1, maximum=50)

    assert parse("", limit) == 10
    assert parse("limit=50", limit) == 50
    assert parse("limit=%2012%20", limit) == 12
    assert parse("limit=3&limit=99", limit) == 3  # the first, as request.args.get gives
    with pytest.raises(
        BadRequestError, match=r"'limit' must be a whole number from 1 to 50, got '0'"
    ):
        parse("limit=0", limit)
    with pytest.raises(BadRequestError, match=r"'offset' must be a whole number 0 or more"):
        parse("offset=-3", lambda: int_param("offset", 0, minimum=0))
    assert parse("offset=123456789", lambda: int_param("offset", 0, minimum=0)) == 123456789


def test_page_param() -> None:
    assert parse("", page_param) == 1
    assert parse("narrower_page=3", lambda: page_param("narrower_page")) == 3
    with pytest.raises(BadRequestError, match=r"'page' must be a whole number from 1 to 10000"):
        parse("page=10001", page_param)


def test_bool_param() -> None:
    flag = functools.partial(bool_param, "include_deprecated")
    assert parse("", flag) is False
    assert parse("", functools.partial(bool_param, "x", True)) is True
    assert parse("include_deprecated=true", flag) is True
    assert parse("include_deprecated=False", flag) is False
    with pytest.raises(BadRequestError) as refused:
        parse("include_deprecated=on", flag)
    assert refused.value.parameter == "include_deprecated"
    assert str(refused.value) == (
        "'include_deprecated' must be true or false, got 'on'; "
        "send include_deprecated=true or leave it out"
    )


def test_list_param() -> None:
    types = functools.partial(list_param, "type")
    assert parse("", types) == []
    assert parse("type=a&type=b,c", types) == ["a", "b", "c"]
    assert parse("type=", types) == [""]
    assert parse("type=a,%20b", types) == ["a", " b"]


def test_text_param_and_served_build() -> None:
    assert parse("q=x&q=y", lambda: text_param("q")) == "x"
    assert parse("", lambda: text_param("q")) is None
    assert parse("", lambda: text_param("uri", "")) == ""
    assert parse("", served_build).build_id == fixture_build()[1].get().build_id


def test_single_value() -> None:
    pairs = [("query", "a"), ("format", "json"), ("query", "b")]
    assert single_value(pairs, "format") == "json"
    assert single_value(pairs, "nothing") is None
    with pytest.raises(BadRequestError, match="'query' parameter was given 2 times"):
        single_value(pairs, "query")
