"""Signing in to the review workbench, on the real app (security headers, error handlers) with
a real users file and a real SQLite session store in a temporary directory: cookie flags, session
rotation and sign-out, expiry, rate limits, CSRF, bearer tokens, roles, `next`, the workbench-off
answer, and hostile input. A few test-only routes stand in for the workbench's writes; one test
signs in over real HTTP."""

from __future__ import annotations

import http.client
import re
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from werkzeug.test import TestResponse

from kll_graph.exceptions import (
    AuthenticationError,
    ForbiddenError,
    TooManyAttemptsError,
    WorkbenchOffError,
)
from kll_graph.review.users import Users
from kll_graph.testing import LiveServer, make_settings
from kll_graph.web import auth, i18n
from kll_graph.web.app import create_app
from kll_graph.web.sessions import sessions_path

PASSWORD = "correct horse battery staple"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


# --- the app under test --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template_users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A users file made once (hashing is slow on purpose): vera viewer, erik editor, ada admin."""
    path = tmp_path_factory.mktemp("users") / "users.json"
    users = Users(path)
    users.add("vera", "viewer", PASSWORD)
    users.add("erik", "editor", PASSWORD)
    users.add("ada", "admin", PASSWORD)
    return path


@pytest.fixture
def users_path(template_users: Path, tmp_path: Path) -> Path:
    """A copy of the users file per test, so each test has its own sessions and failures."""
    path = tmp_path / "config" / "users.json"
    path.parent.mkdir()
    shutil.copy(template_users, path)
    return path


def make_app(tmp_path: Path, users_file: Path, **changes: object) -> Flask:
    """The real app, plus test-only routes: an editor's write, a viewer's read, an HTML page
    whose blueprint sends browsers to the sign-in page."""
    settings = make_settings(
        tmp_path / "store", None, users_file=users_file, review_refresh=False, **changes
    )
    app = create_app(settings)

    def edit() -> ResponseReturnValue:
        return jsonify(user=auth.require_role("editor").name)

    def view() -> ResponseReturnValue:
        return jsonify(user=auth.require_role("viewer").name)

    app.add_url_rule("/test/edit", "test_edit", edit, methods=["GET", "POST", "DELETE"])
    app.add_url_rule("/test/view", "test_view", view)
    pages = Blueprint("test_pages", __name__)
    pages.add_url_rule("/test/page", "page", view, methods=["GET", "POST"])
    for error in (AuthenticationError, ForbiddenError, WorkbenchOffError, TooManyAttemptsError):
        pages.register_error_handler(error, auth.login_redirect_or_error)
    app.register_blueprint(pages)
    return app


@pytest.fixture
def app(tmp_path: Path, users_path: Path) -> Flask:
    return make_app(tmp_path, users_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login_token(client: FlaskClient, query: str = "") -> str:
    page = client.get("/login" + query, headers=HTML)
    assert page.status_code == 200, page.text
    match = re.search(r'<form class="login".*?name="csrf_token" value="([^"]*)"', page.text, re.S)
    assert match, page.text
    return match.group(1)


def form_login(
    client: FlaskClient, name: str, password: str = PASSWORD, **extra: str
) -> TestResponse:
    data = {"name": name, "password": password, "csrf_token": login_token(client), **extra}
    return client.post("/login", data=data, headers=HTML)


def json_login(
    client: FlaskClient, name: str, password: str = PASSWORD, **environ: str
) -> TestResponse:
    return client.post(
        "/login", json={"name": name, "password": password}, headers=JSON, environ_base=environ
    )


def set_cookie(response: TestResponse, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers
    return headers[0]


def session_id(response: TestResponse) -> str:
    return set_cookie(response, auth.SESSION_COOKIE).split(";", 1)[0].split("=", 1)[1]


def csrf_of(client: FlaskClient) -> str:
    return str(client.get("/login", headers=JSON).json["csrf_token"])  # type: ignore[index]


def signed_in_as(client: FlaskClient) -> str | None:
    user = client.get("/login", headers=JSON).json["user"]  # type: ignore[index]
    return None if user is None else str(user["name"])


# --- the workbench off ---------------------------------------------------------------------------


def test_workbench_off_without_users_file(tmp_path: Path) -> None:
    client = make_app(tmp_path, tmp_path / "nowhere" / "users.json").test_client()
    page = client.get("/login", headers=HTML)
    assert page.status_code == 404
    assert "kll-graph users add NAME --role admin --password-stdin" in page.text
    assert "users_file" in page.text and "KLL_USERS_FILE" in page.text
    assert str(tmp_path) not in page.text  # the server's paths stay private
    answer = client.get("/login", headers=JSON)
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "workbench_off"  # type: ignore[index]
    assert "--password-stdin" in answer.json["error"]["message"]  # type: ignore[index]
    posted = client.post("/login", data={"name": "ada", "password": PASSWORD}, headers=HTML)
    assert posted.status_code == 404
    assert client.post("/test/edit", headers=JSON).status_code == 404
    assert client.get("/test/page", headers=HTML).status_code == 404
    assert not (tmp_path / "nowhere").exists()  # nothing created


# --- signing in ----------------------------------------------------------------------------------


def test_sign_in_sets_a_strict_cookie(client: FlaskClient) -> None:
    response = form_login(client, "erik")
    assert response.status_code == 303
    assert response.headers["Location"] == "/review"
    cookie = set_cookie(response, auth.SESSION_COOKIE)
    flags = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/" in flags
    assert "Max-Age=43200" in flags  # session_hours = 12
    assert "Secure" not in flags  # plain HTTP: a Secure cookie would never come back
    assert response.headers["Cache-Control"] == "no-store"
    assert signed_in_as(client) == "erik"


def test_cookie_is_secure_over_https(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login", headers=HTML, base_url="https://localhost")
    assert "Secure" in set_cookie(page, auth.LOGIN_COOKIE)
    token = re.search(r'<form class="login".*?name="csrf_token" value="([^"]*)"', page.text, re.S)
    assert token
    data = {"name": "erik", "password": PASSWORD, "csrf_token": token.group(1)}
    response = client.post("/login", data=data, headers=HTML, base_url="https://localhost")
    assert response.status_code == 303
    flags = [part.strip() for part in set_cookie(response, auth.SESSION_COOKIE).split(";")]
    assert "Secure" in flags and "HttpOnly" in flags and "SameSite=Lax" in flags


def test_session_hours_setting_sets_expiry(tmp_path: Path, users_path: Path) -> None:
    client = make_app(tmp_path, users_path, session_hours=2.0).test_client()
    response = json_login(client, "erik")
    assert "Max-Age=7200" in set_cookie(response, auth.SESSION_COOKIE)
    assert time.time() + 7100 < response.json["expires"] <= time.time() + 7200  # type: ignore[index]


def test_new_session_id_on_every_sign_in(app: Flask) -> None:
    client = app.test_client()
    first = session_id(form_login(client, "erik"))
    second = session_id(form_login(client, "erik"))
    assert first != second
    assert signed_in_as(client) == "erik"
    replay = app.test_client()
    replay.set_cookie(auth.SESSION_COOKIE, first)
    assert signed_in_as(replay) is None  # signing in again ended the browser's old session
    assert replay.get("/test/view", headers=JSON).status_code == 401


def test_sign_out_ends_the_session_server_side(app: Flask) -> None:
    client = app.test_client()
    old = session_id(form_login(client, "erik"))
    refused = client.post("/logout", headers=HTML)  # no CSRF token: a forged sign-out
    assert refused.status_code == 403
    assert signed_in_as(client) == "erik"
    token = csrf_of(client)
    response = client.post("/logout", data={"csrf_token": token}, headers=HTML)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    cleared = set_cookie(response, auth.SESSION_COOKIE)
    assert cleared.startswith(f"{auth.SESSION_COOKIE}=;") and "Max-Age=0" in cleared
    replay = app.test_client()
    replay.set_cookie(auth.SESSION_COOKIE, old)
    assert replay.get("/test/view", headers=JSON).status_code == 401
    assert replay.post("/test/edit", headers={**JSON, "X-CSRF-Token": token}).status_code == 401


def test_expired_session_is_refused(app: Flask, users_path: Path) -> None:
    client = app.test_client()
    form_login(client, "erik")
    assert client.get("/test/view", headers=JSON).status_code == 200
    with sqlite3.connect(sessions_path(users_path)) as db:
        db.execute("UPDATE sessions SET expires = ?", (time.time() - 1,))
    answer = client.get("/test/view", headers=JSON)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_password_and_unknown_name(client: FlaskClient) -> None:
    wrong = form_login(client, "erik", PASSWORD + "x")
    assert wrong.status_code == 401
    assert "Fel användarnamn eller lösenord" in wrong.text
    assert auth.SESSION_COOKIE not in wrong.headers.get("Set-Cookie", "")
    assert 'value="erik"' in wrong.text  # the name is kept in the form, the password is not
    assert PASSWORD not in wrong.text
    unknown = json_login(client, "nobody")
    assert unknown.status_code == 401
    assert unknown.json["error"]["code"] == "unauthenticated"  # type: ignore[index]
    assert signed_in_as(client) is None


def test_removed_user_and_reused_name_lose_their_sessions(
    client: FlaskClient, users_path: Path
) -> None:
    form_login(client, "erik")
    Users(users_path).remove("erik")
    assert client.get("/test/view", headers=JSON).status_code == 401
    Users(users_path).add("erik", "admin", PASSWORD)  # someone else, under the same name
    assert client.get("/test/view", headers=JSON).status_code == 401


def test_role_change_applies_at_once(client: FlaskClient, users_path: Path) -> None:
    form_login(client, "erik")
    token = csrf_of(client)
    assert client.post("/test/edit", headers={**JSON, "X-CSRF-Token": token}).status_code == 200
    Users(users_path).set_role("erik", "viewer")
    assert client.post("/test/edit", headers={**JSON, "X-CSRF-Token": token}).status_code == 403


# --- the sign-in form's own CSRF token -----------------------------------------------------------


def test_sign_in_form_needs_its_token(app: Flask) -> None:
    client = app.test_client()
    data = {"name": "erik", "password": PASSWORD}
    missing = client.post("/login", data=data, headers=HTML)
    assert missing.status_code == 403
    assert "gått ut" in missing.text  # the form again, with a fresh token
    other = app.test_client()
    foreign = login_token(other)  # another browser's token (an attacker's own)
    client.get("/login", headers=HTML)
    stolen = client.post("/login", data={**data, "csrf_token": foreign}, headers=HTML)
    assert stolen.status_code == 403
    assert signed_in_as(client) is None
    # a JSON sign-in needs none: browsers cannot send it cross-origin without a preflight
    assert json_login(client, "erik").status_code == 200


# --- rate limits ---------------------------------------------------------------------------------


def test_failures_per_name_are_limited(client: FlaskClient) -> None:
    for _ in range(auth.FAILURES_PER_NAME):
        assert json_login(client, "erik", "wrong password!!").status_code == 401
    limited = json_login(client, "erik")  # even the right password, now
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= auth.FAILURE_WINDOW
    assert limited.json["error"]["code"] == "too_many_attempts"  # type: ignore[index]
    page = form_login(client, "erik")
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "För många misslyckade" in page.text
    assert json_login(client, "ada").status_code == 200  # other names are not locked out


def test_success_clears_the_name_count(client: FlaskClient) -> None:
    for _ in range(auth.FAILURES_PER_NAME - 1):
        json_login(client, "erik", "wrong password!!")
    assert json_login(client, "erik").status_code == 200
    for _ in range(auth.FAILURES_PER_NAME - 1):
        json_login(client, "erik", "wrong password!!")
    assert json_login(client, "erik").status_code == 200


def test_failures_per_address_are_limited(client: FlaskClient) -> None:
    attacker = {"REMOTE_ADDR": "192.0.2.7"}
    for number in range(auth.FAILURES_PER_ADDRESS):
        answer = json_login(client, f"guess{number}", "wrong password!!", **attacker)
        assert answer.status_code == 401
    assert json_login(client, "ada", **attacker).status_code == 429
    assert json_login(client, "ada", REMOTE_ADDR="192.0.2.8").status_code == 200


def test_forwarded_for_is_not_believed_without_proxy_hops(client: FlaskClient) -> None:
    """An attacker cannot escape the per-address limit by naming another address himself."""
    for number in range(auth.FAILURES_PER_ADDRESS):
        client.post(
            "/login",
            json={"name": f"guess{number}", "password": "wrong password!!"},
            headers={**JSON, "X-Forwarded-For": f"198.51.100.{number}"},
        )
    spoofed = {**JSON, "X-Forwarded-For": "198.51.100.250"}
    answer = client.post("/login", json={"name": "ada", "password": PASSWORD}, headers=spoofed)
    assert answer.status_code == 429


def test_behind_a_proxy_limits_and_cookies_follow_the_client(
    tmp_path: Path, users_path: Path
) -> None:
    """With proxy_hops=1 the proxy's X-Forwarded-For names the client: one client locked out
    leaves the others behind the same proxy alone, and X-Forwarded-Proto makes cookies Secure."""
    client = make_app(tmp_path, users_path, proxy_hops=1).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def login(client_address: str, name: str, password: str) -> TestResponse:
        headers = {**JSON, "X-Forwarded-For": client_address, "X-Forwarded-Proto": "https"}
        body = {"name": name, "password": password}
        return client.post("/login", json=body, headers=headers, environ_base=proxy)

    for number in range(auth.FAILURES_PER_ADDRESS):
        assert login("192.0.2.7", f"guess{number}", "wrong password!!").status_code == 401
    assert login("192.0.2.7", "ada", PASSWORD).status_code == 429
    other = login("192.0.2.8", "ada", PASSWORD)
    assert other.status_code == 200
    assert "Secure" in set_cookie(other, auth.SESSION_COOKIE)


def test_wrong_tokens_are_limited_per_address(client: FlaskClient) -> None:
    bad = {**JSON, "Authorization": "Bearer kll_0000000000000000_" + "a" * 43}
    for _ in range(auth.FAILURES_PER_ADDRESS):
        assert client.get("/test/view", headers=bad).status_code == 401
    limited = client.get("/test/view", headers=bad)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


# --- CSRF, tokens and roles ----------------------------------------------------------------------


def test_cookie_writes_need_the_csrf_token(client: FlaskClient) -> None:
    form_login(client, "erik")
    token = csrf_of(client)
    assert client.get("/test/edit", headers=JSON).status_code == 200  # reads need none
    for method in (client.post, client.delete):
        without = method("/test/edit", headers=JSON)
        assert without.status_code == 403
        assert without.json["error"]["code"] == "forbidden"  # type: ignore[index]
        wrong = method("/test/edit", headers={**JSON, "X-CSRF-Token": token[:-2] + "xx"})
        assert wrong.status_code == 403
        right = method("/test/edit", headers={**JSON, "X-CSRF-Token": token})
        assert right.status_code == 200 and right.json == {"user": "erik"}
    form = client.post("/test/edit", data={"csrf_token": token}, headers=JSON)
    assert form.status_code == 200
    assert client.post("/test/edit", data={"csrf_token": ""}, headers=JSON).status_code == 403


def test_each_session_has_its_own_csrf_token(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    form_login(first, "erik")
    form_login(second, "erik")
    assert csrf_of(first) != csrf_of(second)
    headers = {**JSON, "X-CSRF-Token": csrf_of(second)}
    assert first.post("/test/edit", headers=headers).status_code == 403


def test_bearer_writes_need_no_csrf_token(client: FlaskClient, users_path: Path) -> None:
    token = Users(users_path).issue_token("erik")
    bearer = {**JSON, "Authorization": f"Bearer {token}"}
    answer = client.post("/test/edit", headers=bearer)
    assert answer.status_code == 200 and answer.json == {"user": "erik"}
    assert auth.SESSION_COOKIE not in answer.headers.get("Set-Cookie", "")
    wrong = client.post("/test/edit", headers={**JSON, "Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    basic = client.post("/test/edit", headers={**JSON, "Authorization": "Basic ZXJpazp4"})
    assert basic.status_code == 401
    assert "Bearer" in basic.json["error"]["message"]  # type: ignore[index]


def test_a_bad_token_does_not_fall_back_to_the_cookie(client: FlaskClient) -> None:
    form_login(client, "erik")
    headers = {**JSON, "Authorization": "Bearer nonsense", "X-CSRF-Token": csrf_of(client)}
    assert client.post("/test/edit", headers=headers).status_code == 401


def test_viewer_gets_403_from_an_editor_route(client: FlaskClient, users_path: Path) -> None:
    form_login(client, "vera")
    headers = {**JSON, "X-CSRF-Token": csrf_of(client)}
    forbidden = client.post("/test/edit", headers=headers)
    assert forbidden.status_code == 403
    assert "viewer" in forbidden.json["error"]["message"]  # type: ignore[index]
    assert client.get("/test/view", headers=JSON).json == {"user": "vera"}
    token = Users(users_path).issue_token("vera")
    bearer = {**JSON, "Authorization": f"Bearer {token}"}
    assert client.post("/test/edit", headers=bearer).status_code == 403


def test_nobody_gets_401(client: FlaskClient) -> None:
    answer = client.post("/test/edit", headers=JSON)
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthenticated"  # type: ignore[index]
    assert "/login" in answer.json["error"]["message"]  # type: ignore[index]


def test_browser_is_sent_to_sign_in_and_back(client: FlaskClient) -> None:
    page = client.get("/test/page?set=nurses&x=1", headers=HTML)
    assert page.status_code == 303
    target = urlsplit(page.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == ["/test/page?set=nurses&x=1"]
    assert client.get("/test/page", headers=JSON).status_code == 401  # scripts get JSON
    form = login_token(client, "?" + target.query)
    back = client.post(
        "/login",
        data={"name": "vera", "password": PASSWORD, "csrf_token": form, "next": "/test/page?x=1"},
        headers=HTML,
    )
    assert back.headers["Location"] == "/test/page?x=1"
    assert client.get("/test/page", headers=HTML).status_code == 200


def test_forbidden_page_for_a_browser(client: FlaskClient) -> None:
    form_login(client, "vera")
    answer = client.post("/test/page", headers=HTML, data={"csrf_token": csrf_of(client)})
    assert answer.status_code == 200  # viewer may view; now an editor route in a page:

    def admin_page() -> ResponseReturnValue:
        return jsonify(user=auth.require_role("admin").name)

    client.application.view_functions["test_pages.page"] = admin_page
    denied = client.get("/test/page", headers=HTML)
    assert denied.status_code == 403
    assert "vera" in denied.text and "admin" in denied.text
    assert denied.headers["Content-Security-Policy"]


# --- where a sign-in leads --------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/review",
        "https://evil.example/review",
        "/\\evil.example/x",
        "javascript:alert(1)",
        "review",
        "",
        "/" + "a" * 3000,
    ],
)
def test_next_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    response = form_login(client, "erik", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/review"
    hidden = client.get("/login?" + urlencode({"next": target}), headers=HTML).text
    assert 'name="next" value="/review"' in hidden


def test_next_on_the_site_is_kept(client: FlaskClient) -> None:
    response = form_login(client, "erik", next="/review?set=nurses&status=candidate")
    assert response.headers["Location"] == "/review?set=nurses&status=candidate"


def test_no_session_id_in_any_url_or_page(client: FlaskClient) -> None:
    response = form_login(client, "erik", next="/test/view")
    sid = session_id(response)
    assert sid not in response.headers["Location"]
    for path in ("/login", "/test/view", "/test/page"):
        for headers in (HTML, JSON):
            answer = client.get(path, headers=headers)
            assert sid not in answer.get_data(as_text=True)
            assert sid not in answer.headers.get("Location", "")
    assert sid not in client.post("/login", json={"name": "erik", "password": PASSWORD}).text


# --- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"name": "../../etc/passwd"}, 401),
        ({"name": "erik\x00admin"}, 401),
        ({"name": "erik/../ada"}, 401),
        ({"name": "x" * 300}, 400),
        ({"password": "x" * 2000}, 400),
        ({"password": "x" * 600_000}, 400),  # within the body limit, past the password limit
        ({"password": "x" * 1_000_001}, 413),  # past max_request_bytes
        ({"name": ""}, 400),
        ({"password": ""}, 400),
    ],
)
def test_glued_and_oversized_sign_ins_are_4xx(
    client: FlaskClient, fields: dict[str, str], status: int
) -> None:
    data = {"name": "erik", "password": PASSWORD, "csrf_token": login_token(client), **fields}
    answer = client.post("/login", data=data, headers=HTML)
    assert answer.status_code == status
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b'{"name": "erik", "password": 12345678901234}', b"{oops", b"[" * 10_000],
)
def test_malformed_json_sign_ins_are_400(client: FlaskClient, body: bytes) -> None:
    answer = client.post("/login", data=body, headers={**JSON, "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "bad_request"  # type: ignore[index]


@pytest.mark.parametrize(
    "cookie", ["x" * 4000, "../../etc", "\u00e5\u00e4\u00f6", "a" * 43, "%00%00"]
)
def test_odd_session_cookies_are_nobody(client: FlaskClient, cookie: str) -> None:
    client.set_cookie(auth.SESSION_COOKIE, cookie)
    assert client.get("/test/view", headers=JSON).status_code == 401
    assert client.get("/login", headers=HTML).status_code == 200


def test_bad_lang_parameter_is_not_an_error(client: FlaskClient) -> None:
    assert client.get("/login?lang=xx", headers=HTML).status_code == 200


# --- the page ------------------------------------------------------------------------------------


def test_sign_in_page_in_both_languages(client: FlaskClient) -> None:
    assert i18n.missing_translations(auth.STRINGS) == []
    swedish = client.get("/login", headers={**HTML, "Accept-Language": "sv"})
    assert '<html lang="sv">' in swedish.text and "Lösenord" in swedish.text
    english = client.get("/login?lang=en", headers=HTML)
    assert '<html lang="en">' in english.text and "Password" in english.text
    assert 'autocomplete="current-password"' in english.text
    assert '<label for="login-name">' in english.text
    assert english.headers["Content-Security-Policy"]
    assert english.headers["Cache-Control"] == "no-store"


def test_signed_in_page_offers_sign_out(client: FlaskClient) -> None:
    form_login(client, "ada")
    page = client.get("/login?lang=en", headers=HTML)
    assert "signed in as ada (admin)" in page.text
    match = re.search(
        r'action="/logout">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page.text
    )
    assert match and match.group(1) == csrf_of(client)


def test_session_file_is_private(client: FlaskClient, users_path: Path) -> None:
    form_login(client, "erik")
    path = sessions_path(users_path)
    assert path.parent == users_path.parent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        keys = [key for (key,) in db.execute("SELECT key FROM sessions")]
    assert len(keys) == 1 and keys[0] != client.get_cookie(auth.SESSION_COOKIE).value  # type: ignore[union-attr]


# --- over real HTTP ------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path, users_path: Path) -> Iterator[str]:
    server = LiveServer(
        make_settings(tmp_path / "store", users_file=users_path, review_refresh=False)
    )
    yield server.url
    server.close()


def test_sign_in_and_out_over_real_http(live: str) -> None:
    parts = urlsplit(live)

    def call(
        method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, str]:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            connection.request(method, path, body=body.encode(), headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read().decode()
        finally:
            connection.close()

    status, headers, text = call("GET", "/login", headers=HTML)
    assert status == 200
    nonce = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'<form class="login".*?name="csrf_token" value="([^"]*)"', text, re.S)
    assert token
    form = urlencode({"name": "erik", "password": PASSWORD, "csrf_token": token.group(1)})
    form_headers = {
        **HTML,
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": nonce,
    }
    status, headers, _ = call("POST", "/login", form, form_headers)
    assert status == 303 and headers["Location"] == "/review"
    cookie = next(c for c in headers.get_all("Set-Cookie") or [] if c.startswith("kll_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    session = cookie.split(";", 1)[0]
    status, _, text = call("GET", "/login", headers={**JSON, "Cookie": session})
    assert status == 200 and '"name":"erik"' in text.replace(" ", "")
    csrf = re.search(r'"csrf_token":\s*"([^"]+)"', text)
    assert csrf
    status, _, _ = call(
        "POST", "/logout", headers={**JSON, "Cookie": session, "X-CSRF-Token": csrf.group(1)}
    )
    assert status == 204
    status, _, text = call("GET", "/login", headers={**JSON, "Cookie": session})
    assert '"user":null' in text.replace(" ", "")
