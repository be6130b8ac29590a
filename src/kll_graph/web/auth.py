"""Signing in to the review workbench: `/login`, `/logout`, sessions, CSRF and API tokens.

Who is asking, in order:

- `Authorization: Bearer kll_<id>_<secret>`: an API token (`kll-graph users token NAME`). A
  request that sends one is judged by it alone; a wrong one is a 401, never a fallback to the
  cookie, and counts as a failed attempt of the client's address.
- the `kll_session` cookie: a random session id, stored server-side only as a keyed hash
  (:mod:`kll_graph.web.sessions`). The cookie is `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure`
  when the request came over HTTPS, and expires after `session_hours`; signing in always makes
  a new id (and ends the session the browser had), signing out deletes it server-side.
- nobody.

CSRF: a cookie rides along with any request the browser makes, including one a hostile page
makes it send, so every cookie-authenticated unsafe request (POST, PUT, PATCH, DELETE) that goes
through :func:`require_role` must carry the session's CSRF token in the `X-CSRF-Token` header or
the `csrf_token` form field (403 otherwise). A bearer token is never sent by a browser on its
own, so bearer requests need none. The sign-in form has its own token too (login CSRF, which
would sign a victim in as the attacker): an HMAC of a random nonce in the `kll_login` cookie.
A JSON sign-in needs no form token: `Content-Type: application/json` cannot be sent across
origins without a CORS preflight, which this app never grants.

Failed sign-ins are counted per name and per client address over all server processes; past
:data:`FAILURES_PER_NAME` or :data:`FAILURES_PER_ADDRESS` in :data:`FAILURE_WINDOW` seconds the
answer is 429 with `Retry-After`, before any password is hashed.

With no users file the workbench is off: `/login` answers 404 saying how to turn it on, and
:func:`require_role` raises WorkbenchOffError.

For views: call :func:`require_role` first thing (it raises AuthenticationError 401,
ForbiddenError 403, WorkbenchOffError 404, TooManyAttemptsError 429, all in the one JSON error
shape with `WWW-Authenticate` and `Retry-After` where they belong). A blueprint of HTML pages
that wants a browser sent to the sign-in page instead registers
:func:`login_redirect_or_error` for those errors.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from kll_graph import conneg
from kll_graph.exceptions import (
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    KllError,
    TooManyAttemptsError,
    WorkbenchOffError,
)
from kll_graph.review.users import MAX_PASSWORD_CHARS, TURN_ON, User, Users, check_role
from kll_graph.web import i18n
from kll_graph.web.context import current_settings
from kll_graph.web.errors import error_response
from kll_graph.web.json_body import request_json
from kll_graph.web.params import safe_ui_language
from kll_graph.web.security import local_location
from kll_graph.web.sessions import Limit, Session, SessionStore, session_key, sessions_path

SESSION_COOKIE = "kll_session"
LOGIN_COOKIE = "kll_login"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Where a sign-in leads when the form names no (acceptable) `next`.
DEFAULT_NEXT = "/review"
#: Failed sign-ins (and wrong API tokens) allowed per name and per client address in the window.
FAILURES_PER_NAME = 5
FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = 15 * 60
#: A name field longer than this is refused with 400 before anything else (names have <= 64).
MAX_NAME_FIELD = 200
MAX_NEXT_CHARS = 2000
CHALLENGE = 'Bearer realm="kll-graph review"'

#: The sign-in page's texts, in the shape of :data:`kll_graph.web.i18n.STRINGS`.
STRINGS: dict[str, dict[str, str]] = {
    "login.title": {"sv": "Logga in", "en": "Sign in"},
    "login.lead": {
        "sv": "Logga in för att granska och besluta om mappningar.",
        "en": "Sign in to review and decide on mappings.",
    },
    "login.name": {"sv": "Användarnamn", "en": "User name"},
    "login.password": {"sv": "Lösenord", "en": "Password"},
    "login.submit": {"sv": "Logga in", "en": "Sign in"},
    "login.sign_out": {"sv": "Logga ut", "en": "Sign out"},
    "login.signed_in_as": {
        "sv": "Du är inloggad som {name} ({role}).",
        "en": "You are signed in as {name} ({role}).",
    },
    "login.failed": {
        "sv": "Fel användarnamn eller lösenord.",
        "en": "Wrong user name or password.",
    },
    "login.too_many": {
        "sv": "För många misslyckade inloggningar. Försök igen om {minutes} min.",
        "en": "Too many failed sign-ins. Try again in {minutes} min.",
    },
    "login.form_expired": {
        "sv": "Inloggningsformuläret hade gått ut, eller så är kakor avstängda. Försök igen.",
        "en": "The sign-in form had expired, or cookies are off. Please try again.",
    },
    "login.off_title": {
        "sv": "Granskningsverktyget är avstängt",
        "en": "The review workbench is off",
    },
    "login.off": {
        "sv": "Det finns ingen användarfil, så ingen kan logga in. En administratör slår på "
        "verktyget på servern med:",
        "en": "There is no users file, so nobody can sign in. An administrator turns the "
        "workbench on, on the server, with:",
    },
    "login.off_setting": {
        "sv": "Inställningen users_file (eller miljövariabeln KLL_USERS_FILE) anger var filen "
        "ligger; håll den utanför git-förrådet.",
        "en": "The users_file setting (or the KLL_USERS_FILE variable) says where the file is; "
        "keep it outside the repository.",
    },
    "login.denied": {"sv": "Åtkomst nekad", "en": "Access denied"},
    "login.go": {"sv": "Logga in", "en": "Sign in"},
}


# --- who is asking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """The requester: a user (or None), how they proved it ("token", "session" or None), and
    the session when it was the cookie."""

    user: User | None = None
    via: str | None = None
    session: Session | None = None


ANONYMOUS = Identity()


def users_file() -> Users:
    """The users of this app (the `users_file` setting), shared by its threads."""
    return current_app.extensions["kll.users"]  # type: ignore[no-any-return]  # set by blueprint


def session_store() -> SessionStore:
    return current_app.extensions["kll.sessions"]  # type: ignore[no-any-return]  # see above


def current_user() -> User | None:
    """The signed-in user of this request, or None (nobody, workbench off, or a bad token)."""
    try:
        return _identity().user
    except KllError:
        return None


def require_role(role: str) -> User:
    """The requester when they have `role` (or a higher one), else raise: WorkbenchOffError
    (no users file), AuthenticationError (nobody signed in, or a bad token), ForbiddenError
    (role too low, or a cookie-authenticated unsafe request without the session's CSRF token),
    TooManyAttemptsError (too many wrong tokens from this address)."""
    check_role(role)
    users_file().require()
    identity = _identity()
    if identity.user is None:
        raise AuthenticationError(
            "sign in first: at /login, or send `Authorization: Bearer <token>` (a token from "
            "`kll-graph users token NAME`)"
        )
    if not identity.user.can(role):
        raise ForbiddenError(
            f"user '{identity.user.name}' has the role {identity.user.role}; this needs {role} "
            "or higher (an admin changes roles with `kll-graph users role NAME ROLE`)"
        )
    if identity.session is not None and request.method in UNSAFE_METHODS:
        check_csrf(identity.session)
    return identity.user


def check_csrf(session: Session) -> None:
    """ForbiddenError unless the request carries the session's CSRF token (header or field)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.mimetype in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        given = request.form.get(CSRF_FIELD)
    if not given or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise ForbiddenError(
            f"this write needs the session's CSRF token in the {CSRF_HEADER} header or the "
            f"{CSRF_FIELD} form field (pages carry it; a script can use an API token instead)"
        )


def csrf_token() -> str:
    """The token a page's forms (and its scripts' writes) send back: the session's when signed
    in with the cookie, else the sign-in form's; empty when the workbench is off."""
    if not users_file().exists():
        return ""
    identity = _identity_or_anonymous()
    if identity.session is not None:
        return identity.session.csrf
    return _login_token()


def _identity_or_anonymous() -> Identity:
    try:
        return _identity()
    except KllError:
        return ANONYMOUS


def _identity() -> Identity:
    """Who is asking (worked out once per request; an error is kept and raised again)."""
    if "kll_identity" not in g:
        try:
            g.kll_identity = _authenticate()
        except KllError as exc:
            g.kll_identity = exc
    if isinstance(g.kll_identity, KllError):
        raise g.kll_identity
    return g.kll_identity  # type: ignore[no-any-return]  # an Identity, set just above


def _authenticate() -> Identity:
    users = users_file()
    if not users.exists():
        return ANONYMOUS
    header = request.headers.get("Authorization")
    if header is not None:
        return _from_token(users, header)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        return _from_session(users, session_id)
    return ANONYMOUS


def _from_token(users: Users, header: str) -> Identity:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(
            "the Authorization header must be `Bearer <token>`, with a token from "
            "`kll-graph users token NAME`"
        )
    address = _address()
    _check_limits([_address_limit(address)])
    user = users.verify_token(token.strip())
    if user is None:
        _record_failures([_address_limit(address)])
        raise AuthenticationError(
            "the API token is not valid (mistyped, or its user was removed); "
            "`kll-graph users token NAME` issues a new one"
        )
    return Identity(user, "token")


def _from_session(users: Users, session_id: str) -> Identity:
    if len(session_id) > 100:
        return ANONYMOUS
    session = session_store().get(session_key(users.secret_key(), session_id), time.time())
    if session is None:
        return ANONYMOUS
    user = users.get(session.name)
    if user is None or users.account_id(session.name) != session.account:
        session_store().delete(session.key)  # the user was removed (and maybe added anew)
        return ANONYMOUS
    return Identity(user, "session", session)


def _address() -> str:
    return request.remote_addr or "unknown"


def _address_limit(address: str) -> Limit:
    return Limit("address", address, FAILURES_PER_ADDRESS, FAILURE_WINDOW)


def _name_limit(name: str) -> Limit:
    return Limit("name", name, FAILURES_PER_NAME, FAILURE_WINDOW)


def _check_limits(limits: list[Limit]) -> None:
    wait = session_store().retry_after(limits, time.time())
    if wait:
        raise TooManyAttemptsError(
            f"too many failed sign-ins or wrong tokens; retry after {wait} seconds",
            retry_after=wait,
        )


def _record_failures(limits: list[Limit]) -> None:
    now = time.time()
    for limit in limits:
        session_store().record_failure(limit.scope, limit.subject, now, FAILURE_WINDOW)


# --- the sign-in form's token -------------------------------------------------------------------


def _login_nonce() -> str:
    """The nonce of the browser's `kll_login` cookie, or a new one (set on the response)."""
    if "kll_login_nonce" not in g:
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not (20 <= len(nonce) <= 100):
            nonce = secrets.token_urlsafe(32)
            g.kll_new_login_nonce = True
        g.kll_login_nonce = nonce
    return str(g.kll_login_nonce)


def _login_token(nonce: str | None = None) -> str:
    secret = users_file().secret_key()
    message = b"login\0" + (nonce or _login_nonce()).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _check_login_csrf(given: str) -> None:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not (20 <= len(nonce) <= 100) or not hmac.compare_digest(
        given.encode(), _login_token(nonce).encode()
    ):
        raise ForbiddenError(
            "the sign-in form had expired or cookies are off: load /login again and resend it"
        )


def _set_login_cookie(response: Response) -> Response:
    if g.get("kll_new_login_nonce"):
        response.set_cookie(
            LOGIN_COOKIE,
            str(g.kll_login_nonce),
            path="/login",
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


# --- sessions ------------------------------------------------------------------------------------


def _start_session(users: Users, user: User) -> tuple[str, Session]:
    """A new session for `user` (a new id every time); the browser's old one, if any, ends."""
    store = session_store()
    secret = users.secret_key()
    old = request.cookies.get(SESSION_COOKIE)
    if old and len(old) <= 100:
        store.delete(session_key(secret, old))
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    session = Session(
        key=session_key(secret, session_id),
        name=user.name,
        account=users.account_id(user.name) or "",
        created=now,
        expires=now + current_settings().session_hours * 3600,
        csrf=secrets.token_urlsafe(32),
    )
    store.create(session, now)
    return session_id, session


def _set_session_cookie(response: BaseResponse, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=max(1, math.floor(current_settings().session_hours * 3600)),
        path="/",
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )


def _clear_session_cookie(response: BaseResponse) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=request.is_secure, httponly=True, samesite="Lax"
    )


# --- requests and answers ------------------------------------------------------------------------


def _wants_html() -> bool:
    """A browser (it prefers HTML to JSON) rather than a script or an API client."""
    if request.is_json or request.path.startswith("/api/"):
        return False
    accept = request.headers.get("Accept")
    return conneg.negotiate(accept, ["application/json", "text/html"]) == "text/html"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: `value` when it is a path on this site, else
    :data:`DEFAULT_NEXT`. Never another origin (`//host`, `/\\host`, `https://host`)."""
    if not value or len(value) > MAX_NEXT_CHARS or not value.startswith("/"):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith(("//", "/\\")):
        return DEFAULT_NEXT
    return local_location(value)


def translator(lang: str) -> Callable[..., str]:
    """`t(key, **values)` for the sign-in page: its own texts, then the site's."""

    def t(key: str, **values: object) -> str:
        texts = STRINGS.get(key)
        if texts is None:
            return i18n.translate(key, lang, **values)
        return texts[lang].format(**values) if values else texts[lang]

    return t


def _no_store(response: BaseResponse) -> BaseResponse:
    """Answers about sessions are never cached anywhere (they carry tokens and cookies)."""
    response.headers["Cache-Control"] = "no-store"
    conneg.add_vary(response.headers, "Cookie")
    return response


def _page(state: str, status: int = 200, **context: Any) -> BaseResponse:
    lang = safe_ui_language()
    context.setdefault("next", DEFAULT_NEXT)
    body = render_template(
        "login.html",
        state=state,
        status=status,
        ui_lang=lang,
        t=translator(lang),
        turn_on=TURN_ON,
        user=current_user(),
        login_token=_login_token() if users_file().exists() else "",
        **context,
    )
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    conneg.add_vary(response.headers, "Accept-Language")
    return _no_store(response)


def _with_headers(response: BaseResponse, exc: KllError) -> BaseResponse:
    if isinstance(exc, AuthenticationError):
        response.headers["WWW-Authenticate"] = CHALLENGE
    if isinstance(exc, TooManyAttemptsError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return _no_store(response)


def auth_error_json(exc: KllError) -> BaseResponse:
    """An auth error in the one JSON error shape, with `WWW-Authenticate` on a 401 and
    `Retry-After` on a 429."""
    response = error_response(exc.status, exc.code, str(exc), getattr(exc, "parameter", None))
    return _with_headers(response, exc)


def _form_error(exc: KllError, name: str = "") -> BaseResponse:
    """The sign-in form again, saying what went wrong, with the error's status."""
    if isinstance(exc, WorkbenchOffError):
        return _with_headers(_page("off", 404), exc)
    t = translator(safe_ui_language())
    if isinstance(exc, AuthenticationError):
        message = t("login.failed")
    elif isinstance(exc, TooManyAttemptsError):
        message = t("login.too_many", minutes=max(1, math.ceil(exc.retry_after / 60)))
    elif isinstance(exc, ForbiddenError):
        message = t("login.form_expired")
    else:
        message = str(exc)
    page = _page("form", exc.status, message=message, name=name, next=_next_field())
    return _with_headers(page, exc)


def _next_field() -> str:
    raw = request.form.get("next") if request.method == "POST" else request.args.get("next")
    return safe_next(raw)


def login_redirect_or_error(exc: KllError) -> ResponseReturnValue:
    """For HTML blueprints' error handlers (`bp.register_error_handler(AuthenticationError,
    login_redirect_or_error)`, and for ForbiddenError, WorkbenchOffError, TooManyAttemptsError
    alike): a browser's GET that needs a sign-in is sent to `/login?next=<this page>` (303);
    other browser requests get a page saying what is wrong; API clients the JSON error."""
    if not _wants_html():
        return auth_error_json(exc)
    if isinstance(exc, AuthenticationError) and request.method in {"GET", "HEAD"}:
        target = "/login?" + urlencode({"next": safe_next(request.full_path.rstrip("?"))})
        return _no_store(redirect(target, 303))
    if isinstance(exc, WorkbenchOffError):
        return _with_headers(_page("off", 404), exc)
    page = _page("message", exc.status, message=str(exc), next=safe_next(request.full_path))
    return _with_headers(page, exc)


# --- the views -----------------------------------------------------------------------------------


def _user_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"name": user.name, "role": user.role, "orcid": user.orcid}


def login_form() -> ResponseReturnValue:
    """GET /login: the form (browsers), or who is signed in and the CSRF token (JSON)."""
    users_file().require()
    if not _wants_html():
        data = {"user": _user_json(current_user()), "csrf_token": csrf_token()}
        return _no_store(jsonify(data))
    return _page("form", next=_next_field())


def _credentials() -> tuple[str, str, str | None, str | None]:
    """name, password, form token and next from a form or a JSON object; 400 when a field is
    missing, not text, or far too long to be real."""
    if request.is_json:
        body = request_json()
        if not isinstance(body, dict):
            raise BadRequestError("expected a JSON object {name, password}", parameter="body")
        fields = {key: body.get(key) for key in ("name", "password", "next")}
        token = None
    else:
        fields = {key: request.form.get(key) for key in ("name", "password", "next")}
        token = request.form.get(CSRF_FIELD) or ""
    name, password, target = fields["name"], fields["password"], fields["next"]
    for key, value in (("name", name), ("password", password)):
        if not isinstance(value, str) or not value:
            raise BadRequestError(f"the sign-in needs a {key} (text)", parameter=key)
    assert isinstance(name, str) and isinstance(password, str)
    if len(name) > MAX_NAME_FIELD:
        raise BadRequestError(
            f"a user name has at most {MAX_NAME_FIELD} characters", parameter="name"
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise BadRequestError(
            f"a password has at most {MAX_PASSWORD_CHARS} characters", parameter="password"
        )
    return name, password, token, target if isinstance(target, str) else None


def login_submit() -> ResponseReturnValue:
    """POST /login: check the form token, the limits and the password; start a session."""
    users = users_file()
    users.require()
    name, password, token, target = _credentials()
    if token is not None:
        _check_login_csrf(token)
    limits = [_name_limit(name), _address_limit(_address())]
    _check_limits(limits)
    user = users.verify_password(name, password)
    if user is None:
        _record_failures(limits)
        raise AuthenticationError("wrong user name or password")
    session_store().clear_failures("name", name)
    session_id, session = _start_session(users, user)
    if request.is_json:
        data = {
            "user": _user_json(user),
            "csrf_token": session.csrf,
            "expires": int(session.expires),
        }
        response: BaseResponse = jsonify(data)
    else:
        response = redirect(safe_next(target), 303)
    _set_session_cookie(response, session_id)
    response.delete_cookie(LOGIN_COOKIE, path="/login", secure=request.is_secure, httponly=True)
    return _no_store(response)


def logout() -> ResponseReturnValue:
    """POST /logout: end the cookie's session server-side (CSRF token required) and clear it."""
    identity = _identity_or_anonymous()
    if identity.session is not None:
        check_csrf(identity.session)
        session_store().delete(identity.session.key)
    response: BaseResponse = redirect("/login", 303) if _wants_html() else Response(status=204)
    _clear_session_cookie(response)
    return _no_store(response)


def _blueprint_error(exc: KllError) -> ResponseReturnValue:
    if _wants_html():
        name = request.form.get("name", "") if request.method == "POST" else ""
        return _form_error(exc, name=name[:MAX_NAME_FIELD])
    return auth_error_json(exc)


def blueprint(app: Flask) -> Blueprint:
    """/login and /logout; the users file and session store on the app; `csrf_token` and
    `current_user` as Jinja globals; 401 and 429 answers anywhere get their headers."""
    settings = app.extensions["kll"]
    app.extensions["kll.users"] = Users(settings.users_file)
    app.extensions["kll.sessions"] = SessionStore(sessions_path(settings.users_file))
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    bp = Blueprint("auth", __name__)
    bp.add_url_rule("/login", "login", login_form, methods=["GET"])
    bp.add_url_rule("/login", "login_submit", login_submit, methods=["POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    bp.after_app_request(_set_login_cookie)
    bp.register_error_handler(KllError, _blueprint_error)
    bp.app_errorhandler(AuthenticationError)(auth_error_json)
    bp.app_errorhandler(TooManyAttemptsError)(auth_error_json)
    return bp
