"""`/sparql`: the SPARQL 1.1 Protocol over :mod:`kll_graph.sparql.service`.

This module only adapts HTTP: it takes the Protocol request apart (GET `?query=`, POST form,
POST `application/sparql-query`, the decoded pairs read with :mod:`kll_graph.web.params`: a
parameter given twice is refused), answers the cases the Protocol and HTTP define (403 update,
405, 406, 413, 415, 304), and streams the service's answer with its headers (ETag,
Last-Modified, Vary, CORS). Without a query, GET answers the Service Description (RDF) or the
query page (HTML), by Accept.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, render_template, request
from flask.typing import ResponseReturnValue
from pyoxigraph import NamedNode

from kll_graph import conneg
from kll_graph.exceptions import (
    BadRequestError,
    RequestTooLargeError,
    UnsupportedMediaTypeError,
    UpdateForbiddenError,
)
from kll_graph.sparql.formats import by_media_type
from kll_graph.sparql.lexer import UPDATE_EXPLANATION
from kll_graph.sparql.query import Dataset
from kll_graph.sparql.service import (
    DESCRIPTION_TYPES,
    Answer,
    QueryPlan,
    QueryRequest,
    SparqlService,
    example_query,
    examples,
    prologue,
    service_description,
    write_description,
)
from kll_graph.web.context import current_settings, request_body
from kll_graph.web.i18n import COOKIE, choose_language
from kll_graph.web.params import served_build, single_value, text_param, values
from kll_graph.web.response_cache import cacheable, will_keep

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
PAGE_TYPES = [*DESCRIPTION_TYPES[:6], "text/html", *DESCRIPTION_TYPES[6:]]
_TEXT_TYPES = {"text/csv", "text/tab-separated-values", "text/turtle", "text/html"}
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Vary, X-SPARQL-MaxRows, X-KLL-Build",
    "Access-Control-Max-Age": "86400",
}


def blueprint(app: Flask) -> Blueprint:
    """The `/sparql` blueprint; its service (and worker processes) live in app.extensions."""
    service = SparqlService(app.extensions["kll"], app.extensions["kll.store"])
    app.extensions["kll.sparql"] = service
    weakref.finalize(app, service.close)
    bp = Blueprint("sparql", __name__)

    @bp.route("/sparql", methods=["GET", "POST"])
    def sparql() -> ResponseReturnValue:
        params = _params()
        query = _query_text(params)
        if query is None:
            return _describe()
        dataset = _dataset(params)
        formats = _format_values(params)
        if request.method == "GET" and not formats and _browser_wants_page():
            return _describe(query)
        plan = service.plan(QueryRequest(query, dataset, request.headers.get("Accept"), formats))
        return _respond(service, plan)

    @bp.after_request
    def cors(response: Response) -> Response:
        if "Access-Control-Allow-Origin" not in response.headers:
            response.headers.extend(CORS_HEADERS)
        return response

    return bp


# --- taking the request apart ---------------------------------------------------------------

#: Parameters that name the result format, as Fuseki (`format`, `output`) and Virtuoso
#: (`format`) read them; SPARQLWrapper sends all three, some twice (a name and a media type).
FORMAT_PARAMETERS = ("format", "output", "results")


def _format_values(params: list[tuple[str, str]]) -> tuple[str, ...]:
    """Every non-empty value of the format parameters: they must all name one format."""
    return tuple(v for name in FORMAT_PARAMETERS for v in values(params, name) if v.strip())


def _decode_params(raw: bytes, where: str) -> list[tuple[str, str]]:
    """`a=b&c=d` bytes as pairs; the text must be UTF-8 (raw or %-encoded)."""
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadRequestError(
            f"the {where} is not valid UTF-8; percent-encode the query text as UTF-8"
        ) from None


def _params() -> list[tuple[str, str]]:
    """All Protocol parameters of the request (URL and, for a form POST, the body)."""
    limit = current_settings().max_request_bytes
    if len(request.query_string) > limit:
        raise RequestTooLargeError(
            f"the URL query string has {len(request.query_string):,} bytes, more than the "
            f"limit of {limit:,}; send long queries by POST"
        )
    params = _decode_params(request.query_string, "URL query string")
    if request.method != "POST":
        return params
    media_type, options = conneg.split_media_type(request.content_type or "")
    if media_type == UPDATE:
        raise UpdateForbiddenError(f"SPARQL Update is not accepted: {UPDATE_EXPLANATION}")
    if media_type not in {FORM, DIRECT}:
        shown = media_type or "none"
        raise UnsupportedMediaTypeError(
            f"a SPARQL query POST must have Content-Type {FORM} or {DIRECT} (got {shown})"
        )
    charset = dict(options).get("charset", "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise UnsupportedMediaTypeError(f"only UTF-8 is accepted, not charset={charset}")
    body = request_body()
    if media_type == FORM:
        return params + _decode_params(body, "form body")
    if any(name == "query" for name, _ in params):
        raise BadRequestError(
            "the query is in the body (application/sparql-query) and also in the URL; send it once",
            parameter="query",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequestError(
            f"the request body is not valid UTF-8 (byte {exc.start}); send the query as UTF-8",
            parameter="query",
        ) from None
    return [*params, ("query", text)]


def _query_text(params: list[tuple[str, str]]) -> str | None:
    """The one query of the request, None when there is none (GET without a query)."""
    queries = values(params, "query")
    updates = values(params, "update")
    if queries and updates:
        raise BadRequestError(
            "the request has both 'query' and 'update'; a request carries one operation",
            parameter="update",
        )
    if updates:
        raise UpdateForbiddenError(f"SPARQL Update is not accepted: {UPDATE_EXPLANATION}")
    query = single_value(params, "query")
    if query is None and request.method == "POST":
        raise BadRequestError(
            "the request has no 'query' parameter; send the SPARQL query as 'query'",
            parameter="query",
        )
    return query


def _dataset(params: list[tuple[str, str]]) -> Dataset:
    graphs: dict[str, list[str]] = {}
    for name in ("default-graph-uri", "named-graph-uri"):
        graphs[name] = values(params, name)
        for value in graphs[name]:
            try:
                NamedNode(value)
            except ValueError:
                raise BadRequestError(f"'{value}' is not an absolute IRI", parameter=name) from None
    return Dataset(tuple(graphs["default-graph-uri"]), tuple(graphs["named-graph-uri"]))


# --- answering ------------------------------------------------------------------------------


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type in _TEXT_TYPES else media_type


def _not_modified(etag: str, last_modified: datetime) -> bool:
    """Whether a GET's validators show the client has this representation already."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return bool(last_modified <= parsedate_to_datetime(since))
        except (TypeError, ValueError):
            return False
    return False


def _result_headers(plan: QueryPlan) -> dict[str, str]:
    """The headers of a result: CORS, validators, caching and the build."""
    return {
        **CORS_HEADERS,
        "ETag": plan.etag,
        "Last-Modified": format_datetime(plan.last_modified, usegmt=True),
        "Cache-Control": "no-cache",
        "Vary": conneg.VARY,
        "X-KLL-Build": plan.served.build_id,
    }


def _respond(service: SparqlService, plan: QueryPlan) -> Response:
    headers = _result_headers(plan)
    conditional = request.method in {"GET", "HEAD"}
    if not conditional:
        headers = {k: v for k, v in headers.items() if k not in {"ETag", "Last-Modified"}}
    if conditional and _not_modified(plan.etag, plan.last_modified):
        return Response(status=304, headers=headers)
    if request.method == "HEAD":
        return Response(
            status=200, headers=headers, content_type=_content_type(plan.format.media_type)
        )
    # A response the response cache keeps whole needs no second copy in the result cache.
    kept_whole = service.cache is not None and will_keep()
    answer = service.answer(plan, keep=not kept_whole)
    if service.cache is not None:
        cacheable()  # the same query, dataset and Accept on the same build: the same response
    if answer.truncated:
        headers["X-SPARQL-MaxRows"] = str(service.settings.max_results)
    return Response(
        _Body(answer),
        status=200,
        headers=headers,
        content_type=_content_type(plan.format.media_type),
        direct_passthrough=True,
    )


class _Body:
    """The response body: the answer's chunks; closing it early stops the query's worker."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    def __iter__(self) -> Iterator[bytes]:
        yield from self.answer.body

    def close(self) -> None:
        self.answer.close()


def _browser_wants_page() -> bool:
    """A browser following a link to `/sparql?query=...` prefers HTML over any result type
    (clients such as SPARQLWrapper or curl do not), so it gets the page with the query in it."""
    offered = ["application/sparql-results+json", "text/turtle", "text/html"]
    return conneg.negotiate(request.headers.get("Accept"), offered) == "text/html"


def _describe(query: str | None = None) -> Response:
    """GET without a query: the Service Description (RDF) or the query page (HTML); a browser
    GET with a query also gets the page, with that query filled in and run."""
    served = served_build()
    media_type = conneg.choose(request.headers.get("Accept"), PAGE_TYPES)
    headers = {
        "Vary": conneg.VARY,
        "Cache-Control": "no-cache",
        "Last-Modified": format_datetime(served.manifest.finished, usegmt=True),
    }
    endpoint = request.base_url
    if media_type == "text/html":
        response = Response(
            _page(served.build_id, served.manifest.sample, query),
            headers=headers,
            content_type=_content_type(media_type),
        )
        return response
    fmt = by_media_type("graph", media_type)
    body = write_description(service_description(endpoint, served), fmt)
    return Response(body, headers=headers, content_type=_content_type(fmt.media_type))


def _page(build_id: str, sample: bool, query: str | None = None) -> str:
    settings = current_settings()
    lang, _explicit = choose_language(
        text_param("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("Accept-Language"),
    )
    items = [
        {"id": e.id, "title": e.title(lang), "query": example_query(e, settings.base_iri)}
        for e in examples()
    ]
    return render_template(
        "sparql.html",
        ui_lang=lang,
        examples=items,
        prologue=prologue(settings.base_iri),
        build_id=build_id,
        sample=sample,
        max_results=settings.max_results,
        timeout=settings.query_timeout,
        query=query,
    )
