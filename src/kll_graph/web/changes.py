"""Releases and what changed between them, over HTTP: thin views over :mod:`kll_graph.changes`.

- `GET /api/v1/releases`: every source with its releases (version, current flag, date, triples,
  checksum, graph) and the pairs compared; `/api/v1/releases/<source>` and
  `/api/v1/releases/<source>/<version>` one source or release, whose ETag is the release
  checksum and Last-Modified its date, so "has this release changed?" is one conditional GET;
- `GET /api/v1/changes?source=&from=&to=&kind=&offset=&limit=`: a pair's changes, paged;
- `/changes/<source>.atom`: an Atom feed (RFC 4287) per source, one entry per compared pair;
- `/changes` and `/changes/<source>/<from>/<to>`: the HTML pages, what changed per pair.

Unknown sources and versions are 404s that list the known ones (raised by the domain).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from kll_graph import __version__, labels
from kll_graph.changes import served as published
from kll_graph.changes.log import ReleasePair
from kll_graph.changes.report import check_kind
from kll_graph.digest import sha256_hex
from kll_graph.exceptions import BadRequestError, KllError
from kll_graph.store import ServedBuild
from kll_graph.web import validators
from kll_graph.web.errors import error_response
from kll_graph.web.pages import _common, _error_page, _page_response
from kll_graph.web.params import int_param, served_build, text_param, ui_language
from kll_graph.web.response_cache import cacheable

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
#: Changes per page of the API, and most one page may hold.
PAGE, MAX_PAGE = 100, 1000
#: Changes of one kind shown on a pair's page before "and N more".
SHOWN = 200


def _json_validated(data: Any, modified: datetime | None) -> Response:
    """JSON whose ETag is its own digest (the same data from any build, the same ETag)."""
    body = json.dumps(data, ensure_ascii=False, sort_keys=False).encode()
    etag = sha256_hex(body, __version__.encode())[:24]
    unchanged = validators.unchanged(etag, weak=False, modified=modified)
    if unchanged is not None:
        return unchanged
    response = Response(body, content_type="application/json")
    return validators.validated(response, etag, weak=False, modified=modified)


def _newest(times: list[datetime | None]) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _computed(found: ReleasePair) -> datetime | None:
    try:
        when = datetime.fromisoformat(found.computed)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _pair_path(found: ReleasePair) -> str:
    return "/changes/" + "/".join(
        quote(part, safe="") for part in (found.source, found.from_version, found.to_version)
    )


def _summary(found: ReleasePair) -> str:
    counts = ", ".join(f"{n:,} {kind}" for kind, n in found.counts.items() if n) or "no changes"
    if found.not_compared:
        counts += "; not compared: " + "; ".join(found.not_compared)
    return counts


# --- the Atom feed ---------------------------------------------------------------------------


def _text(parent: ET.Element, name: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attrs)
    element.text = text
    return element


def _link(parent: ET.Element, href: str, rel: str, kind: str | None = None) -> None:
    attrs = {"href": href, "rel": rel}
    if kind:
        attrs["type"] = kind
    ET.SubElement(parent, f"{{{ATOM}}}link", attrs)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def atom_feed(served: ServedBuild, source: str, host_url: str) -> tuple[bytes, datetime]:
    """The feed of a source: one entry per release and the one before it, newest first (the
    pairs across several releases would repeat those). Ids are IRIs under the build's base IRI,
    so they stay the same wherever the service runs; links point here."""
    ET.register_namespace("", ATOM)
    base = served.manifest.base_iri.rstrip("/") + "/"
    found = [p for p in reversed(published.pairs(served, source)) if p.consecutive]
    updated = _newest([_computed(p) for p in found]) or served.manifest.finished
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", f"{base}changes/{quote(source, safe='')}")
    _text(feed, "title", f"Changes of {source} (kll-graph)")
    _text(feed, "updated", _stamp(updated))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "kll-graph")
    _link(feed, f"{host_url}changes/{quote(source, safe='')}.atom", "self", "application/atom+xml")
    _link(feed, f"{host_url}changes", "alternate", "text/html")
    _text(feed, "generator", "kll-graph", version=__version__)
    for pair in found:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        path = _pair_path(pair)
        _text(entry, "id", f"{base}{path.lstrip('/')}")
        _text(entry, "title", f"{pair.source} {pair.from_version} → {pair.to_version}")
        _text(entry, "updated", _stamp(_computed(pair) or updated))
        _link(entry, host_url + path.lstrip("/"), "alternate", "text/html")
        api = (
            f"{host_url}api/v1/changes?source={quote(pair.source)}"
            f"&from={quote(pair.from_version)}&to={quote(pair.to_version)}"
        )
        _link(entry, api, "related", "application/json")
        _text(entry, "summary", _summary(pair), type="text")
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body, updated


# --- the pages -------------------------------------------------------------------------------


def _pair_view(served: ServedBuild, found: ReleasePair, lang: str) -> dict[str, Any]:
    """What a pair's page shows: counts, what was not compared, changes grouped by kind."""
    concept_changes, mapping_changes = published.changes(served, found, None)
    index = labels.index_for(served)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in concept_changes:
        groups[change.kind].append(
            {
                **change.__dict__,
                "shown": change.label or index.brief(change.concept, lang)["label"],
            }
        )
    mapping_groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mchange in mapping_changes:
        mapping_groups[mchange.kind].append(
            {
                **mchange.__dict__,
                "subject_label": index.brief(mchange.subject, lang)["label"],
                "object_label": index.brief(mchange.object, lang)["label"],
            }
        )
    return {
        "pair": found,
        "concepts": {k: {"total": len(v), "items": v[:SHOWN]} for k, v in groups.items()},
        "mappings": {k: {"total": len(v), "items": v[:SHOWN]} for k, v in mapping_groups.items()},
        "api": (
            f"/api/v1/changes?source={quote(found.source)}&from={quote(found.from_version)}"
            f"&to={quote(found.to_version)}"
        ),
    }


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("changes", __name__)

    @bp.get("/api/v1/releases")
    def releases() -> ResponseReturnValue:
        served = served_build()
        data = {"sources": published.releases_json(served)}
        modified = _newest([published.release_time(r) for r in published.served_releases(served)])
        return _json_validated(data, modified)

    @bp.get("/api/v1/releases/<string:source>")
    def one_source(source: str) -> ResponseReturnValue:
        served = served_build()
        found = published.source_releases(served, source)
        data = {
            "source": source,
            "releases": [published.release_json(r) for r in found],
            "compared": [
                {"from": p.from_version, "to": p.to_version, "counts": dict(p.counts)}
                for p in published.pairs(served, source)
            ],
        }
        return _json_validated(data, _newest([published.release_time(r) for r in found]))

    @bp.get("/api/v1/releases/<string:source>/<string:version>")
    def one_release(source: str, version: str) -> ResponseReturnValue:
        served = served_build()
        found = published.release(served, source, version)
        etag = found.checksum or sha256_hex(json.dumps(published.release_json(found)).encode())
        modified = published.release_time(found)
        unchanged = validators.unchanged(etag, weak=False, modified=modified)
        if unchanged is not None:
            return unchanged
        response = jsonify(published.release_json(found))
        return validators.validated(response, etag, weak=False, modified=modified)

    @bp.get("/api/v1/changes")
    def changes_api() -> ResponseReturnValue:
        served = served_build()
        source = text_param("source")
        if not source:
            known = ", ".join(sorted(published.sources(served)))
            raise BadRequestError(
                f"give source=, one of: {known}; from= and to= pick the releases",
                parameter="source",
            )
        found = published.pair(served, source, text_param("from"), text_param("to"))
        kind = check_kind(text_param("kind"))
        data = published.change_page(
            served,
            found,
            kind,
            int_param("offset", 0, minimum=0),
            int_param("limit", PAGE, minimum=1, maximum=MAX_PAGE),
        )
        return _json_validated(data, _computed(found))

    @bp.get("/changes/<string:source>.atom")
    def feed(source: str) -> ResponseReturnValue:
        served = served_build()
        body, updated = atom_feed(served, source, request.host_url)
        etag = sha256_hex(body)[:24]
        unchanged = validators.unchanged(etag, weak=False, modified=updated)
        if unchanged is not None:
            return unchanged
        response = Response(body, content_type=ATOM_TYPE)
        return validators.validated(response, etag, weak=False, modified=updated)

    @bp.get("/changes")
    def index_page() -> ResponseReturnValue:
        served = served_build()
        ui_language()
        return _page_response(
            "changes.html", sources=published.releases_json(served), **_common(served)
        )

    @bp.get("/changes/<string:source>/<string:from_version>/<string:to_version>")
    def pair_page(source: str, from_version: str, to_version: str) -> ResponseReturnValue:
        served = served_build()
        lang = ui_language()
        found = published.pair(served, source, from_version, to_version)
        return _page_response(
            "changes_pair.html", data=_pair_view(served, found, lang), **_common(served)
        )

    @bp.before_request
    def reusable() -> None:
        # The API and the feeds answer from the build, the path, the query and the host alone.
        machine = request.path.startswith("/api/") or request.path.endswith(".atom")
        if request.method == "GET" and machine:  # the pages vary by UI language: not kept
            cacheable()

    @bp.errorhandler(KllError)
    def kll_error(exc: KllError) -> ResponseReturnValue:
        if request.path.startswith("/changes/") and not request.path.endswith(".atom"):
            return _error_page(exc)  # the pages answer people with a page
        return error_response(exc.status, exc.code, str(exc), getattr(exc, "parameter", None))

    return bp
