"""Security headers and local redirects, over real HTTP against `kll-graph serve` (granian, as
deployed), and in a real browser that reports any Content-Security-Policy violation.

Requests go through http.client so a test can send a hostile `Host` header and a path with `//`
exactly as written.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Response

from kll_graph.store import CurrentStore
from kll_graph.testing import clean_env, serving
from kll_graph.web.security import CONTENT_SECURITY_POLICY, secure_response
from tests.web.test_browser import browser  # noqa: F401  (the browser fixture: Debian chromium)
from tests.web.test_linked_data import BROWSER_ACCEPT as HTML
from tests.web.test_linked_data import NURSE

EVIL = "evil.example"
NURSE_QUERY = "?uri=" + quote(NURSE, safe="")
NURSE_PAGE = "/page" + NURSE_QUERY

Answer = tuple[int, http.client.HTTPMessage, bytes]


@pytest.fixture(scope="module")
def server(sample_store: CurrentStore) -> Iterator[str]:
    """`kll-graph serve` on the sample store: its base URL, without the trailing slash."""
    env = clean_env(processes="1", query_workers="1")
    store = str(sample_store.layout.root)
    with serving("serve", "--store", store, "--port", "0", env=env) as (_, url):
        yield url.rstrip("/")


def request(
    base: str, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> Answer:
    """One request with the target and headers exactly as given (a `Host` replaces the real
    one); redirects are not followed."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header as {directive: sources}."""
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        found[name.lower()] = sources
    return found


# --- headers on HTML pages ------------------------------------------------------------------

HTML_PAGES = [
    pytest.param("/", 200, id="home"),
    pytest.param(NURSE_PAGE, 200, id="concept"),
    pytest.param("/search?q=sjuksk", 200, id="search"),
    pytest.param("/sparql", 200, id="sparql"),
    pytest.param("/-/quality", 200, id="quality"),
    pytest.param("/mappings", 200, id="mappings"),
    pytest.param("/no-such-page", 404, id="error-404"),
    pytest.param("/page?uri=not-a-uri", 400, id="error-400"),
]


@pytest.mark.parametrize(("path", "status"), HTML_PAGES)
def test_html_pages_carry_the_security_headers(server: str, path: str, status: int) -> None:
    code, headers, _body = request(server, path, {"Accept": HTML})
    assert code == status
    assert headers.get_content_type() == "text/html"
    policy = directives(headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"strict-origin-when-cross-origin", "no-referrer"}
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("path", "status"), HTML_PAGES)
def test_html_pages_need_nothing_the_policy_forbids(server: str, path: str, status: int) -> None:
    """No inline script that runs, no inline style, no event handler attribute, nothing loaded
    from another origin: the page works under the policy (the browser test below confirms it)."""
    code, _headers, body = request(server, path, {"Accept": HTML})
    assert code == status
    page = body.decode("utf-8")
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<style\b", page)
    assert not re.search(r"\sstyle\s*=", page)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page)
    assert "javascript:" not in page
    loaded = re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="([^"]+)"', page)
    assert loaded and all(u.startswith("/") and not u.startswith("//") for u in loaded), loaded


NON_HTML = [
    pytest.param("/api/v1/search?q=sjuk", "application/json", 200, id="api-json"),
    pytest.param("/api/v1/no-such", "application/json", 404, id="api-404"),
    pytest.param("/-/health", "application/json", 200, id="health"),
    pytest.param("/-/quality.json", "application/json", 200, id="quality-json"),
    pytest.param("/data.ttl?uri=" + quote(NURSE, safe=""), "text/turtle", 200, id="turtle"),
    pytest.param("/static/pages.js", "text/javascript", 200, id="static-js"),
    pytest.param(
        "/sparql?query=" + quote("ASK { ?s ?p ?o }"),
        "application/sparql-results+json",
        200,
        id="sparql-json",
    ),
]


@pytest.mark.parametrize(("path", "media_type", "status"), NON_HTML)
def test_every_other_response_says_nosniff(
    server: str, path: str, media_type: str, status: int
) -> None:
    code, headers, _body = request(server, path, {"Accept": media_type})
    assert code == status
    assert headers.get_content_type() == media_type
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_policy_a_view_sets_on_purpose_is_kept() -> None:
    own = "sandbox; default-src 'none'"
    response = secure_response(
        Response("<p>x</p>", mimetype="text/html", headers={"Content-Security-Policy": own})
    )
    assert response.headers["Content-Security-Policy"] == own
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    plain = secure_response(Response("<p>x</p>", mimetype="text/html"))
    assert plain.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_a_view_with_its_own_policy_decides_its_framing() -> None:
    """No default X-Frame-Options: DENY beside a policy whose frame-ancestors allows a frame
    (a reconciliation preview in OpenRefine's iframe); every other page still gets DENY."""
    own = "default-src 'none'; frame-ancestors *"
    framed = secure_response(
        Response("<p>x</p>", mimetype="text/html", headers={"Content-Security-Policy": own})
    )
    assert "X-Frame-Options" not in framed.headers
    plain = secure_response(Response("<p>x</p>", mimetype="text/html"))
    assert plain.headers["X-Frame-Options"] == "DENY"


# --- redirects --------------------------------------------------------------------------------

#: Requests werkzeug answers with a routing redirect (merging `//`), and where it must lead.
MERGED = [
    pytest.param("/api/v1//search?q=x", "/api/v1/search?q=x", id="api"),
    pytest.param("/-//health", "/-/health", id="health"),
    pytest.param("/static//pages.css", "/static/pages.css", id="static"),
    pytest.param("/mappings//evil.example", "/mappings/evil.example", id="path-argument"),
    pytest.param("/api//v1/concepts" + NURSE_QUERY, "/api/v1/concepts" + NURSE_QUERY, id="query"),
]
#: Requests that may or may not redirect; if they do, never off this origin.
OTHERS = [
    "//sparql",
    "//evil.example/x",
    "//evil.example//sparql",
    "///evil.example/%2F/sparql",
    "/\\evil.example//sparql",
    "/resource?uri=" + quote(NURSE, safe=""),
]


def assert_local(location: str | None) -> None:
    assert location is not None
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize(("target", "expected"), MERGED)
def test_routing_redirects_ignore_a_hostile_host(server: str, target: str, expected: str) -> None:
    code, headers, body = request(server, target, {"Host": EVIL, "Accept": HTML})
    assert code == 308
    assert headers["Location"] == expected
    assert_local(headers["Location"])
    assert f"//{EVIL}".encode() not in body  # werkzeug's page links the local target too
    # and the Location leads somewhere on this server
    code, _headers, _body = request(server, expected, {"Accept": "*/*"})
    assert code in {200, 404}
    if not expected.startswith("/mappings/"):
        assert code == 200


@pytest.mark.parametrize("target", OTHERS)
def test_no_redirect_leads_to_another_origin(server: str, target: str) -> None:
    for accept in (HTML, "application/json", "text/turtle"):
        code, headers, body = request(server, target, {"Host": EVIL, "Accept": accept})
        if 300 <= code < 400:
            assert_local(headers["Location"])
            assert f"//{EVIL}".encode() not in body


def test_an_absolute_form_request_target_is_not_echoed_as_another_origin(server: str) -> None:
    target = f"http://{EVIL}/api/v1//search?q=x"
    code, headers, _body = request(server, target, {"Host": EVIL})
    if 300 <= code < 400:
        assert_local(headers["Location"])
        assert headers["Location"] == "/api/v1/search?q=x"


def test_the_303_of_a_concept_uri_is_a_path(server: str) -> None:
    code, headers, _body = request(
        server, "/resource?uri=" + quote(NURSE, safe=""), {"Host": EVIL, "Accept": HTML}
    )
    assert code == 303
    assert headers["Location"] == NURSE_PAGE


# --- in a real browser ------------------------------------------------------------------------

#: Records every CSP violation of the page, before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                            sample: e.sample, source: e.sourceFile, line: e.lineNumber});
});
"""


@pytest.mark.browser
def test_pages_and_sparql_editor_run_without_a_csp_violation(
    server: str,
    browser: Any,  # noqa: F811
) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    console: list[str] = []
    errors: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: errors.append(str(error)))

    def visit(path: str) -> None:
        response = page.goto(server + path)
        assert response is not None and response.ok, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]

    def no_violation(where: str) -> None:
        found = page.evaluate("window.__violations")
        assert found == [], f"CSP violations on {where}: {found}"
        blocked = [m for m in console if "Content Security Policy" in m]
        assert blocked == [], f"CSP console messages on {where}: {blocked}"
        assert errors == [], f"script errors on {where}: {errors}"

    try:
        # the SPARQL editor: choose an example, run it, a results table from fetch()
        visit("/sparql")
        page.select_option("#example", "1_ssyk_occupations")
        assert "skos:" in page.input_value("#query")
        page.click("#run")
        page.wait_for_selector("#results table tbody tr")
        assert page.locator("#results table tbody tr").count() > 0
        assert "rows" in page.inner_text("#status")
        assert page.evaluate("getComputedStyle(document.querySelector('#run')).cursor") == "pointer"
        no_violation("/sparql")

        # a lookup page: the search box's autocomplete (pages.js, fetch) and its stylesheet
        visit("/")
        page.locator("#q").press_sequentially("sjuksköt", delay=30)
        page.locator("#q-listbox [role=option]").first.wait_for(state="visible")
        no_violation("/")

        # the concept page and the pages whose inline styles moved to static files
        visit(NURSE_PAGE)
        assert page.locator("h1").inner_text()
        no_violation(NURSE_PAGE)
        visit("/mappings")
        no_violation("/mappings")
        bar = page.locator("svg.bar rect").first
        assert bar.evaluate("r => getComputedStyle(r).fill") != "rgb(0, 0, 0)"  # pages.css applied
        assert float(bar.get_attribute("width") or "-1") >= 0
        visit("/-/quality")
        no_violation("/-/quality")
        sev = page.locator(".sev-error").first
        assert sev.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 226, 225)"
    finally:
        context.close()
