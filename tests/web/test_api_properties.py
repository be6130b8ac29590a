"""Arbitrary input never makes the lookup API fail: hypothesis on every parameter, and
schemathesis exercising the whole OpenAPI document (status codes, content types and response
schemas as documented)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kll_graph.labels.lookup import index_for
from kll_graph.review.users import Users
from kll_graph.testing import LiveServer
from kll_graph.web import create_app
from kll_graph.web.openapi import document
from tests.labels.test_labels import SYSTEMUTVECKLARE, fixture_build

# Text a client can send in a URL (lone surrogates cannot be encoded at all).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=260)
SHORT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
MAYBE = st.one_of(st.none(), SHORT, st.sampled_from(["sv", "en", "jobtech/skill", "skill"]))
NUMBER = st.one_of(st.none(), st.integers(-5, 20_000).map(str), SHORT)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@functools.cache
def app() -> Flask:
    app_settings, store = fixture_build()
    return create_app(app_settings, store=store)


def client() -> FlaskClient:
    return app().test_client()


def params(**values: Any) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def assert_answered(response: Any) -> None:
    """Never a 500; every error in the one error shape, naming a parameter for a 400."""
    assert response.status_code in {200, 400, 404}, response.get_data(as_text=True)[:300]
    body = response.get_json()
    if response.status_code != 200:
        assert body["error"]["status"] == response.status_code
        assert body["error"]["message"]
        if response.status_code == 400:
            assert body["error"]["parameter"]


@PROPERTY_SETTINGS
@given(q=TEXT, lang=MAYBE, scheme=MAYBE, type_=MAYBE, limit=NUMBER, deprecated=MAYBE)
def test_autocomplete_answers_any_input(
    q: str,
    lang: str | None,
    scheme: str | None,
    type_: str | None,
    limit: str | None,
    deprecated: str | None,
) -> None:
    query = params(
        q=q, lang=lang, scheme=scheme, type=type_, limit=limit, include_deprecated=deprecated
    )
    assert_answered(client().get("/api/v1/autocomplete", query_string=query))


@PROPERTY_SETTINGS
@given(q=TEXT, lang=MAYBE, offset=NUMBER, limit=NUMBER)
def test_search_answers_any_input(
    q: str, lang: str | None, offset: str | None, limit: str | None
) -> None:
    query = params(q=q, lang=lang, offset=offset, limit=limit)
    assert_answered(client().get("/api/v1/search", query_string=query))


@PROPERTY_SETTINGS
@given(raw=st.binary(max_size=200))
def test_any_bytes_in_the_query_string(raw: bytes) -> None:
    """Invalid UTF-8, NULs and control bytes, percent-encoded as a client may send them."""
    encoded = "q=" + quote_from_bytes(raw)
    assert_answered(client().get("/api/v1/autocomplete?" + encoded))
    assert_answered(client().get("/api/v1/concepts?uri=" + quote_from_bytes(raw)))


@PROPERTY_SETTINGS
@given(uri=TEXT, lang=MAYBE)
def test_concepts_answer_any_uri(uri: str, lang: str | None) -> None:
    for path in ("/api/v1/concepts", "/api/v1/narrower"):
        assert_answered(client().get(path, query_string=params(uri=uri, lang=lang)))
    assert_answered(client().get("/api/v1/top-concepts", query_string=params(scheme=uri)))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["q", "lang", "type", "scheme", "x"]), children, max_size=4
        )
    ),
    max_leaves=20,
)


@PROPERTY_SETTINGS
@given(
    queries=st.one_of(st.lists(st.one_of(TEXT, JSON), max_size=20), JSON),
    limit=st.one_of(st.none(), st.integers(-2, 12), TEXT),
    extra=st.dictionaries(
        st.sampled_from(["lang", "scheme", "type", "include_deprecated", "junk"]), JSON, max_size=3
    ),
)
def test_resolve_answers_any_json(queries: Any, limit: Any, extra: dict) -> None:
    body: dict[str, Any] = {"queries": queries, **extra}
    if limit is not None:
        body["limit"] = limit
    assert_answered(client().post("/api/v1/resolve", json=body))


@PROPERTY_SETTINGS
@given(raw=st.binary(max_size=300))
def test_resolve_answers_any_bytes(raw: bytes) -> None:
    assert_answered(
        client().post("/api/v1/resolve", data=raw, headers={"Content-Type": "application/json"})
    )


def test_property_client_reaches_real_data() -> None:
    """The app these properties run against serves the fixture vocabulary (so 200s are real)."""
    response = client().get("/api/v1/autocomplete", query_string={"q": "systemutvecklare"})
    assert response.get_json()["results"][0]["uri"] == SYSTEMUTVECKLARE


# --- schemathesis: the OpenAPI document exercised against a real server --------------------------

# the document as the server serves it: with the languages, schemes and types of its index
schema = schemathesis.openapi.from_dict(document(index_for(fixture_build()[1].get())))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The fixture store served with the review workbench on (a users file exists), so the
    review routes answer generated requests as deployed: nobody signed in is a 401."""
    app_settings, store = fixture_build()
    users_file = tmp_path_factory.mktemp("workbench") / "users.json"
    Users(users_file).add("rita", "reviewer", "a long passphrase for tests")
    on = app_settings.replace(
        users_file=users_file,
        mappings_dir=users_file.parent,
        review_refresh=False,  # the fixture store is shared: never switched here
    )
    server = LiveServer(on, store)
    yield server
    server.close()


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_document_holds_for_generated_requests(case: Any, live: LiveServer) -> None:
    """Generated requests (valid and invalid) get documented statuses and conforming bodies."""
    case.call_and_validate(base_url=live.url)
