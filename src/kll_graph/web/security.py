"""Security headers on every response, and redirects that stay on the origin they were asked at.

- HTML pages get a Content-Security-Policy that allows only this origin's own scripts, styles,
  images and fetches: no inline script or style, no plugins, no `<base>`, forms only to us. The
  pages are built for it: every script and stylesheet is a file under `static/`, and the JSON
  the SPARQL editor reads sits in `<script type="application/json">` blocks, which are data, not
  executed, so CSP does not apply to them.
- No page is meant to be framed (no embed or widget view exists), so every page says
  `frame-ancestors 'none'` (and the older `X-Frame-Options: DENY`): clickjacking needs a frame.
- Every response says `X-Content-Type-Options: nosniff`, so a JSON, CSV or Turtle answer holding
  user-supplied text is never sniffed into HTML and run; `Referrer-Policy` keeps the query string
  of a page (a search, a SPARQL query) from leaking to the sites its links lead to.
- Every redirect has a path-only `Location`. Werkzeug's routing redirects (merging `//sparql`
  into `/sparql`, adding a strict trailing slash) build an absolute URL from the request's `Host`
  header, so `Host: evil.example` would send the client, or a shared cache, to another origin. A
  path-only Location resolves against the URL the client really asked for. The app makes no
  off-site redirects; one added later has to be exempted here on purpose.

A header a view sets itself is kept: these are defaults, not overrides. A view that sets its own
Content-Security-Policy (a reconciliation preview, which OpenRefine frames) gets no default
`X-Frame-Options` either: its policy's `frame-ancestors` says who may frame it.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Flask, Response
from werkzeug.utils import redirect

#: The policy of every HTML page. `img-src` has no `data:`: no page or stylesheet uses one.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)
#: Headers every HTML page gets unless its view set them.
HTML_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}
#: Headers every response gets unless its view set them.
ALL_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
#: Characters left as they are in a Location's path: RFC 3986 pchar, "/" and "%" (already
#: encoded). Anything else is percent-encoded: a browser reads `\` as `/`, so `/\host` would be
#: `//host`. (Tabs and newlines, which browsers drop, urlsplit drops first, as they do.)
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def local_location(location: str) -> str:
    """`location` as an absolute path on the same origin: scheme and host dropped, and never
    `//host/...` (protocol-relative, another origin) nor `/\\host` (the same, to a browser).

    >>> local_location("http://evil.example/sparql?query=x#top")
    '/sparql?query=x#top'
    >>> local_location("/page?uri=http://data.jobtechdev.se/x")
    '/page?uri=http://data.jobtechdev.se/x'
    >>> local_location("//evil.example/x")
    '/x'
    >>> local_location("http://h//evil.example/x")
    '/evil.example/x'
    >>> local_location("/\\\\evil.example/x")
    '/evil.example/x'
    >>> local_location("/a\\\\b c")
    '/a%5Cb%20c'
    >>> local_location("/\\t/evil.example/x")  # tab dropped (as browsers do): //evil.example/x
    '/x'
    """
    parts = urlsplit(location)
    path = "/" + quote(parts.path.lstrip("/\\"), safe=_PATH_SAFE)  # one slash, then no `/`, `\`
    query = "?" + quote(parts.query, safe=_QUERY_SAFE) if parts.query else ""
    fragment = "#" + quote(parts.fragment, safe=_QUERY_SAFE) if parts.fragment else ""
    return path + query + fragment


def secure_response(response: Response) -> Response:
    """Add the security headers a response lacks and make its redirect local (see module)."""
    for name, value in ALL_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype in _HTML_TYPES:
        # A view that states its own policy states its own framing too (`frame-ancestors`), and
        # X-Frame-Options, the older form of that part of the default policy, must not undo it.
        own_policy = "Content-Security-Policy" in response.headers
        for name, value in HTML_HEADERS.items():
            if not (own_policy and name == "X-Frame-Options"):
                response.headers.setdefault(name, value)
    location = response.headers.get("Location")
    if location is not None and 300 <= response.status_code < 400:
        local = local_location(location)
        if local != location:
            response.headers["Location"] = local
            if response.mimetype == "text/html":
                # werkzeug's redirect page links the target too: link the local one instead.
                # make_sequence first, so the old body's close() still runs at the end.
                response.make_sequence()
                response.set_data(redirect(local, response.status_code).get_data())
    return response


def register_security_headers(app: Flask) -> None:
    """Run :func:`secure_response` on every response the app makes, errors included (Flask runs
    `after_request` hooks on the responses of error handlers and routing redirects too)."""
    app.after_request(secure_response)
