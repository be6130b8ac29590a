"""The HTML lookup pages and the dereferenceable concept URIs.

Thin views: read the request (language, Accept, and parameters through
:mod:`kll_graph.web.params`, as the API reads them), call one function of
:mod:`kll_graph.concepts.browse`, :mod:`kll_graph.mappings.sets` or
:mod:`kll_graph.concepts.rdfdoc`, render. The same data functions feed `/api/v1`, so each page
links its machine-readable twin.

- `/` home, `/search` results with facets, `/page?uri=` the concept page, `/schemes`,
  `/scheme?id=` (tree, children fetched from `/api/v1/narrower`), `/mappings` and
  `/mappings/<set>`, `/about`.
- `/resource?uri=` (also `/concept?uri=`): `303 See Other` to the page, to `/data.<ext>?uri=`
  (Turtle, JSON-LD, RDF/XML, N-Triples) or to the JSON document, by Accept; `Vary: Accept`;
  406 when nothing fits; 404 (negotiated, with suggestions in HTML) for unknown URIs.
- `/data.<ext>?uri=[&page=]`: the RDF document, made once per build and format and then kept in
  a cache bounded in bytes (:mod:`kll_graph.concepts.document_cache`; `X-KLL-Cache` says hit, miss
  or shared); a description longer than :data:`kll_graph.concepts.rdfdoc.PAGE_TRIPLES` statements is
  paged, with `Link` headers to the other pages.
- With the `uri_spaces` setting, a request for a path inside a URI space is the URI itself and
  is answered the same way.

Pages carry an ETag from the build id, the UI language and the code version, and answer
`If-None-Match` with 304.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from pyoxigraph import NamedNode
from werkzeug.exceptions import HTTPException

from kll_graph import __version__, concepts, conneg, labels
from kll_graph.changes import recheck, versions
from kll_graph.changes import served as published
from kll_graph.concepts import browse, rdfdoc
from kll_graph.concepts.document_cache import DocumentCache
from kll_graph.digest import sha256_hex
from kll_graph.exceptions import BadRequestError, KllError, NotAcceptableError, NotFoundError
from kll_graph.labels.lookup import MAX_AUTOCOMPLETE
from kll_graph.mappings import sets as mapsets
from kll_graph.settings import Settings
from kll_graph.store import GraphRecord, ServedBuild
from kll_graph.web import i18n, linked_data, validators
from kll_graph.web.errors import error_response
from kll_graph.web.params import (
    bool_param,
    int_param,
    list_param,
    page_param,
    safe_ui_language,
    served_build,
    text_param,
    ui_language,
)

_WEB = Path(__file__).parent


def _code_version() -> str:
    """A digest of the templates and static files, so a new release changes every ETag."""
    chunks = [__version__.encode()]
    for folder in ("templates", "static"):
        for path in sorted((_WEB / folder).glob("*")):
            if path.is_file():
                chunks += (path.name.encode(), path.read_bytes())
    return sha256_hex(*chunks)[:12]


CODE_VERSION = _code_version()
HTML_TYPE = "text/html; charset=utf-8"
#: Response header saying how an RDF document was obtained: `hit` (the document cache), `miss`
#: (made for this request) or `shared` (made for another request under way at the same time).
CACHE_HEADER = "X-KLL-Cache"
#: Paths whose errors stay JSON whatever the client accepts (the machine interfaces).
_MACHINE_PREFIXES = ("/api/", "/sparql", "/reconcile", "/-/")


# --- request helpers ------------------------------------------------------------------------


def _etag(served: ServedBuild, *parts: str) -> str:
    text = "|".join((served.build_id, CODE_VERSION, *parts))
    return sha256_hex(text.encode())[:20]


def _replacement_redirect(served: ServedBuild, uri: str, version: str | None) -> Response | None:
    """A deprecated concept's page sends readers on to the concept that replaces it, saying
    where they came from; `redirect=false` (our own links to deprecated concepts carry it) and a
    `version=` view show the deprecated concept itself."""
    if version or not bool_param("redirect", True):
        return None
    target = browse.successor(served, uri)
    if target is None:
        return None
    location = _url("/page", uri=target, replaced=uri, lang=text_param("lang"))
    return Response(status=303, headers={"Location": location, "Cache-Control": "no-cache"})


def _url(path: str, **params: Any) -> str:
    """A local URL with query parameters (None values left out)."""
    pairs = [(k, v) for k, v in params.items() if v is not None and v != ""]
    return path + ("?" + urlencode(pairs, doseq=True) if pairs else "")


def _with_args(**changes: Any) -> str:
    """The current URL with some parameters replaced (None removes one)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        args.extend((key, v) for v in values)
    return request.path + ("?" + urlencode(args) if args else "")


def _page_response(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page in the UI language with its ETag, answering 304 when it is unchanged.

    `validator=(etag, last_modified)` in the context replaces the build's ETag on pages that
    follow one concept (web/validators.py); it is weak."""
    served = context.get("served")
    validator: tuple[str, datetime | None] | None = context.pop("validator", None)
    lang = safe_ui_language()
    body = render_template(template, ui_lang=lang, t=i18n.translator(lang), **context)
    response = Response(body, status=status, content_type=HTML_TYPE)
    conneg.add_vary(response.headers, "Accept-Language")
    conneg.add_vary(response.headers, "Cookie")
    if status == 200 and validator is not None:
        validators.validated(response, validator[0], weak=True, modified=validator[1])
    elif status == 200 and isinstance(served, ServedBuild):
        response.set_etag(_etag(served, lang, template))
        response.headers["Cache-Control"] = "no-cache"
        response.make_conditional(request)
    return response


def _concept_validator(
    served: ServedBuild, uri: str, *parts: str, graphs: Sequence[GraphRecord] = ()
) -> tuple[str, datetime | None]:
    """A concept's ETag (from its description, not the build; from its statements in a
    release's `graphs` when one is asked for) and Last-Modified."""
    digest = validators.concept_digest(served, uri, graphs)
    modified = validators.concept_modified(served, uri)
    return validators.etag_for(digest, *parts, __version__), modified


#: Mappings to re-check shown on a set's page (the CLI lists them all).
RECHECK_SHOWN = 100


def _rechecks(served: ServedBuild, set_iri: str, lang: str) -> dict[str, Any]:
    """The first of a set's mappings to re-check, with the labels of their concepts."""
    found = recheck.set_rechecks(served, set_iri)
    index = labels.index_for(served)
    items = []
    for item in found[:RECHECK_SHOWN]:
        subject, target = index.brief(item.subject, lang), index.brief(item.object, lang)
        items.append(
            {**item.json(), "subject_label": subject["label"], "object_label": target["label"]}
        )
    return {"total": len(found), "items": items}


def _vary_page(response: Response) -> Response:
    """A page's 304 varies as its 200 does."""
    conneg.add_vary(response.headers, "Accept-Language")
    conneg.add_vary(response.headers, "Cookie")
    return response


def _common(served: ServedBuild) -> dict[str, Any]:
    return {
        "served": served,
        "build": browse.build_info(served),
        "sample": served.manifest.sample,
    }


def _prefers_html() -> bool:
    accept = request.headers.get("Accept")
    return conneg.negotiate(accept, ["application/json", "text/html"]) == "text/html"


# --- dereferencing ------------------------------------------------------------------------------


def _dereference(uri_text: str | None) -> Response:
    """The 303 answer for a concept URI, or the negotiated 400, 404 or 406."""
    served = served_build()
    try:
        media_type = linked_data.choose_representation(request.headers.get("Accept"))
    except NotAcceptableError as exc:
        return _vary(error_response(exc.status, exc.code, str(exc)))
    try:
        uri = concepts.parse_uri(uri_text).value
    except BadRequestError as exc:
        if media_type == linked_data.HTML:
            return _vary(_error_page(exc, served))
        return _vary(error_response(exc.status, exc.code, str(exc), exc.parameter))
    try:
        _exists(served, uri)
    except NotFoundError as exc:
        return _vary(_not_found_for(media_type, uri, exc, served))
    if media_type == linked_data.HTML:
        index = labels.index_for(served)
        number = index.scheme_by_id.get(uri)
        target = (
            _url("/page", uri=uri)
            if number is None
            else _url("/scheme", id=index.schemes[number].id)
        )
    elif media_type == linked_data.JSON:
        target = _url("/api/v1/concepts", uri=uri)
    else:
        target = _url(f"/data.{rdfdoc.BY_MEDIA_TYPE[media_type].extension}", uri=uri)
    response = Response(status=303, headers={"Location": target, "Cache-Control": "no-cache"})
    return _vary(response)


def _vary(response: Response) -> Response:
    conneg.add_vary(response.headers)
    return response


def _exists(served: ServedBuild, uri: str) -> None:
    """NotFoundError unless the store knows the URI (as a concept, scheme or any subject)."""
    index = labels.index_for(served)
    if index.concept_number(uri) is not None or uri in index.scheme_by_id:
        return
    if next(iter(served.store.quads_for_pattern(NamedNode(uri), None, None)), None) is None:
        raise NotFoundError(f"no resource {uri} in the served store")


def _not_found_for(media_type: str, uri: str, exc: NotFoundError, served: ServedBuild) -> Response:
    if media_type == linked_data.HTML:
        return _error_page(exc, served, query=uri)
    if media_type == linked_data.JSON:
        return error_response(exc.status, exc.code, str(exc))
    fmt = rdfdoc.BY_MEDIA_TYPE[media_type]
    return Response(rdfdoc.not_found_body(uri, fmt), status=404, content_type=fmt.content_type)


def _error_page(exc: Exception, served: ServedBuild | None = None, query: str = "") -> Response:
    """A page saying what went wrong and what to do, with suggestions for a missing concept."""
    status = getattr(exc, "status", None) or getattr(exc, "code", None) or 500
    if not isinstance(status, int):
        status = 500
    lang = safe_ui_language()
    if served is None:
        try:
            served = served_build()
        except KllError:
            served = None
    suggestions: list[dict[str, Any]] = []
    if status == 404 and served is not None and query:
        suggestions = browse.suggestions(served, query, lang)
    title_key = {
        400: "error.bad_request",
        404: "error.not_found",
        406: "error.not_acceptable",
        503: "error.unavailable",
    }.get(status, "error.title")
    message = str(exc) if isinstance(exc, KllError) else getattr(exc, "description", str(exc))
    context = {
        "http_status": status,
        "title_key": title_key,
        "message": message,
        "parameter": getattr(exc, "parameter", None),
        "suggestions": suggestions,
        "query": query,
        "sample": served.manifest.sample if served else False,
        "build": browse.build_info(served) if served else None,
    }
    return _page_response("error.html", status=status, **context)


# --- the blueprint ----------------------------------------------------------------------------


def document_cache(settings: Settings) -> DocumentCache[rdfdoc.Document]:
    """The cache of RDF documents: as large as the response cache (`response_cache_mb`, of which
    it is the part for documents too large to keep there), one document at most a quarter."""
    budget = settings.response_cache_mb << 20
    return DocumentCache(budget, budget // 4)


def _document_headers(
    response: Response,
    etag: str,
    uri: str,
    document: rdfdoc.Document | None = None,
    number: int = 1,
    *,
    modified: datetime | None = None,
) -> Response:
    """The headers of an RDF document: validator, CORS, the HTML page as `alternate` and, for a
    paged document, the other pages as W3C LDP Paging links them (`first`, `prev`, `next`,
    `last`)."""
    response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    links = [f'<{_url("/page", uri=uri)}>; rel="alternate"; type="text/html"']
    pages = len(document.pages) if document is not None else 1
    if pages > 1:
        around = {"first": 1, "prev": number - 1, "next": number + 1, "last": pages}
        links += [
            f'<{_url(request.path, uri=uri, page=page if page > 1 else None)}>; rel="{rel}"'
            for rel, page in around.items()
            if 1 <= page <= pages
        ]
    response.headers["Link"] = ", ".join(links)
    return response


def blueprint(app: Flask) -> Blueprint:
    """The lookup pages; the URI spaces come from the `uri_spaces` setting (checked here)."""
    spaces = linked_data.parse_uri_spaces(app.extensions["kll"].uri_spaces)
    documents = document_cache(app.extensions["kll"])
    app.extensions["kll.documents"] = documents
    bp = Blueprint("pages", __name__)

    @bp.before_app_request
    def uri_space() -> ResponseReturnValue | None:
        if not spaces or request.routing_exception is None:
            return None
        if request.method not in {"GET", "HEAD"}:
            return None
        uri = linked_data.uri_for_path(spaces, request.host, request.path)
        return _dereference(uri) if uri else None

    @bp.app_context_processor
    def language_links() -> dict[str, Any]:
        def lang_url(code: str) -> str:
            return _with_args(lang=code)

        return {"lang_url": lang_url, "ui_languages": i18n.UI_LANGUAGES}

    @bp.after_app_request
    def remember_language(response: Response) -> Response:
        if g.get("lang_explicit") and response.status_code < 400:
            response.set_cookie(
                i18n.COOKIE, str(g.ui_lang), max_age=365 * 24 * 3600, samesite="Lax"
            )
        return response

    @bp.get("/")
    def home() -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        return _page_response("home.html", data=browse.home(served, lang), **_common(served))

    @bp.get("/search")
    def search() -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        schemes, types = list_param("scheme"), list_param("type")
        deprecated = bool_param("include_deprecated")
        data = browse.search_page(
            served,
            text_param("q"),
            lang,
            schemes=schemes,
            types=types,
            page=page_param(),
            include_deprecated=deprecated,
        )
        twin = _url(
            "/api/v1/search",
            q=data["query"] or None,
            scheme=schemes or None,
            type=types or None,
            include_deprecated="true" if deprecated else None,
            offset=((data["pager"] or {}).get("first", 1) or 1) - 1 or None,
            limit=browse.SEARCH_PAGE,
        )
        return _page_response(
            "search.html",
            data=data,
            selected={"scheme": schemes, "type": types},
            include_deprecated=deprecated,
            with_args=_with_args,
            twin=twin,
            **_common(served),
        )

    @bp.get("/suggest")
    def suggest() -> ResponseReturnValue:
        served = served_build()
        limit = int_param("limit", 8, minimum=1, maximum=MAX_AUTOCOMPLETE)
        data = browse.suggest(served, text_param("q"), ui_language(), limit)
        response = jsonify(data)
        conneg.add_vary(response.headers, "Accept-Language")
        return response

    @bp.get("/resource")
    @bp.get("/concept")
    def resource() -> ResponseReturnValue:
        return _dereference(text_param("uri"))

    @bp.get("/page")
    def page() -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        pages = {name: page_param(f"{name}_page") for name in browse.PAGED_LISTS}
        uri = concepts.parse_uri(text_param("uri", "")).value
        version = text_param("version")
        moved = _replacement_redirect(served, uri, version)
        if moved is not None:
            return moved
        graphs = versions.release_graphs(served, uri, version) if version else []
        query = request.query_string.decode()
        validator = _concept_validator(
            served, uri, "page", lang, CODE_VERSION, query, graphs=graphs
        )
        unchanged = validators.unchanged(validator[0], weak=True, modified=validator[1])
        if unchanged is not None:
            return _vary_page(unchanged)
        view = browse.concept_page(served, uri, lang, pages)
        history = published.history(served, uri) if published.pairs(served) else None
        if version:
            view["doc"] = versions.concept_as_of(served, uri, version, lang)
            view["label_in_lang"] = lang in view["doc"]["prefLabel"]
        replaced = text_param("replaced")
        came_from = (
            browse.replaced_brief(served, concepts.parse_uri(replaced).value, uri, lang)
            if replaced
            else None
        )
        return _page_response(
            "concept.html",
            validator=validator,
            came_from=came_from,
            history=history,
            view=view,
            c=view["doc"],
            with_args=_with_args,
            url=_url,
            sparql_link=browse.sparql_link(view["sparql_query"]),
            note_keys=i18n.STRINGS.keys(),
            **_common(served),
        )

    @bp.get("/data.<string:ext>")
    def data(ext: str) -> ResponseReturnValue:
        fmt = rdfdoc.BY_EXTENSION.get(ext)
        if fmt is None:
            known = ", ".join(f.extension for f in rdfdoc.FORMATS)
            raise NotFoundError(f"no document format '.{ext[:20]}'; there are: {known}")
        served = served_build()
        uri = concepts.parse_uri(text_param("uri")).value
        number = page_param()
        try:
            rdfdoc.described(served, uri)
        except NotFoundError:
            return Response(rdfdoc.not_found_body(uri, fmt), 404, content_type=fmt.content_type)
        version = text_param("version")
        graphs = versions.release_graphs(served, uri, version) if version else []
        etag, modified = _concept_validator(
            served, uri, "rdf", fmt.extension, str(number), graphs=graphs
        )
        unchanged = validators.unchanged(etag, weak=False, modified=modified)
        if unchanged is not None:  # answered before anything is made
            return _document_headers(unchanged, etag, uri, modified=modified)
        if version:
            body = versions.release_document(served, uri, graphs, fmt.rdf_format)
            response = Response(body, content_type=fmt.content_type)
            return _document_headers(response, etag, uri, modified=modified)
        document, source = documents.get(
            (served.build_id, uri, fmt.name),
            lambda: rdfdoc.document(served, uri, fmt),
            lambda made: made.size,
        )
        response = Response(document.page(number), content_type=fmt.content_type)
        response.headers[CACHE_HEADER] = source.value
        return _document_headers(response, etag, uri, document, number, modified=modified)

    @bp.get("/schemes")
    def schemes() -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        return _page_response(
            "schemes.html", vocabularies=browse.vocabularies(served, lang), **_common(served)
        )

    @bp.get("/scheme")
    def scheme() -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        data = browse.scheme_page(
            served,
            text_param("id") or text_param("uri") or "",
            lang,
            page_param(),
        )
        return _page_response("scheme.html", data=data, with_args=_with_args, **_common(served))

    @bp.get("/mappings")
    def mappings() -> ResponseReturnValue:
        served = served_build()
        ui_language()
        return _page_response(
            "mappings.html",
            sets=mapsets.mapping_sets(served),
            overall=mapsets.overall_coverage(served),
            **_common(served),
        )

    @bp.get("/mappings/<path:name>")
    def mapping_set(name: str) -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        data = mapsets.set_page(served, name, lang, page_param())
        return _page_response(
            "mapping_set.html",
            data=data,
            rechecks=_rechecks(served, data["set"]["iri"], lang),
            with_args=_with_args,
            **_common(served),
        )

    @bp.get("/about")
    def about() -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        return _page_response("about.html", data=browse.about(served, lang), **_common(served))

    @bp.errorhandler(KllError)
    def kll_error(exc: KllError) -> ResponseReturnValue:
        if request.path.startswith("/data.") or request.path == "/suggest":
            return error_response(exc.status, exc.code, str(exc), getattr(exc, "parameter", None))
        query = text_param("uri") or text_param("q") or ""
        if request.endpoint == "pages.mapping_set":
            query = ""
        return _error_page(exc, query=query)

    @bp.app_errorhandler(404)
    def not_found(exc: HTTPException) -> ResponseReturnValue:
        if request.path.startswith(_MACHINE_PREFIXES) or not _prefers_html():
            return error_response(404, "not_found", exc.description or "not found")
        return _error_page(exc, query=request.path)

    return bp
