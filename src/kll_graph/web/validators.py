"""HTTP validators that follow what a response describes, not the build that served it.

Apps hold thousands of concept URIs and want to know, in one cheap request each, whether a
concept changed since they last looked. An ETag made from the build id would change with every
build, even one that left the concept as it was, so here a concept's ETag is made from its
description: the SHA-256 of its RDF statements (the statements of its RDF document, sorted, blank
nodes written alike because their labels differ from build to build), computed on first use and
kept for the build it was computed on (in the build's memo, bounded in bytes). A rebuild that
leaves the concept alone gives the same ETag; one that changes a label, a broader link or a
mapping gives another. Release checksums were the other choice: cheaper, but one new label
anywhere in ESCO would change the ETag of all of ESCO's 17,000 concepts.

The JSON document and the HTML page carry labels of linked concepts from the label index, which
are not part of the concept's own description, so their ETags are weak (`W/`): the same ETag
means the same concept, not the same bytes. RDF documents are their statements, so theirs are
strong.

`Last-Modified` is when the concept's description last changed, as far as the releases tell:
the date of the release that brought its newest change (from the change log), else the date of
the oldest release that holds it; none when the releases have no dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from flask import Response, request
from pyoxigraph import Triple
from werkzeug.http import is_resource_modified

from kll_graph.changes import served as published
from kll_graph.changes import versions
from kll_graph.concepts import rdfdoc
from kll_graph.digest import sha256_hex
from kll_graph.lru import ENTRY_BYTES, SizedLru
from kll_graph.store import GraphRecord, ServedBuild

#: Memory the digests of one build may take (a digest and its key are about 300 bytes).
DIGEST_BYTES = 8 << 20
_BLANK = re.compile(r"_:[A-Za-z0-9_\-.]+")


def statements_digest(triples: Iterable[Triple]) -> str:
    """The SHA-256 of statements in N-Triples, sorted, every blank node written `_:b`.

    Blank node labels are new in every build, so they are left out; the statements of the blank
    node itself stay in (its values count, its label does not).

    >>> from pyoxigraph import BlankNode, Literal, NamedNode
    >>> a, b = NamedNode("http://x/a"), NamedNode("http://x/b")
    >>> one = statements_digest([Triple(a, b, BlankNode("q1")), Triple(a, b, Literal("z"))])
    >>> two = statements_digest([Triple(a, b, Literal("z")), Triple(a, b, BlankNode("r9"))])
    >>> one == two
    True
    >>> one == statements_digest([Triple(a, b, Literal("y"))])
    False
    """
    lines = sorted(_BLANK.sub("_:b", str(t)) for t in triples)
    return sha256_hex("\n".join(lines).encode())


def _digests(served: ServedBuild) -> SizedLru[str]:
    return served.memo(
        "validators.concept-digests", lambda: SizedLru(DIGEST_BYTES, entry_bytes=ENTRY_BYTES)
    )


def concept_digest(served: ServedBuild, uri: str, graphs: Sequence[GraphRecord] = ()) -> str:
    """The digest of a concept's description (of its statements in `graphs` only, a release's,
    when given), computed once per build (NotFoundError when the store says nothing about it)."""
    kept = _digests(served)
    key = (uri, tuple(g.iri for g in graphs))
    found = kept.get(key)
    if found is None:
        if graphs:
            triples = [q.triple for q in versions.release_quads(served, uri, graphs)]
        else:
            triples = rdfdoc.triples(served, uri)
        found = statements_digest(triples)
        kept.put(key, found, 2 * len(found) + len(uri))
    return found


def etag_for(digest: str, *parts: str) -> str:
    """An ETag value from a description's digest and what else shapes the representation
    (format, page, UI language, the code's version)."""
    return sha256_hex("|".join((digest, *parts)).encode())[:24]


def unchanged(etag: str, *, weak: bool, modified: datetime | None) -> Response | None:
    """The 304 answer when the request's `If-None-Match` or `If-Modified-Since` says the client
    has this representation (checked before the body is made), else None."""
    if not is_resource_modified(
        request.environ, etag=etag, last_modified=modified, ignore_if_range=True
    ):
        return validated(Response(status=304), etag, weak=weak, modified=modified)
    return None


def validated(response: Response, etag: str, *, weak: bool, modified: datetime | None) -> Response:
    """The response with its validators (and `no-cache`: keep it, but ask each time), turned
    into a 304 when the request's conditions say the client has it."""
    response.set_etag(etag, weak=weak)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = "no-cache"
    if response.status_code == 200:
        response.make_conditional(request)
    return response


def concept_modified(served: ServedBuild, uri: str) -> datetime | None:
    """When a concept's description last changed, as far as the releases tell (see module); None
    when nothing tells (then only the ETag validates)."""
    kept = served.memo(
        "validators.concept-modified", lambda: SizedLru[str](DIGEST_BYTES, entry_bytes=ENTRY_BYTES)
    )
    found = kept.get(uri)
    if found is None:
        when = published.last_changed(served, uri)
        found = when.isoformat() if when is not None else ""
        kept.put(uri, found, len(found) + len(uri))
    return datetime.fromisoformat(found) if found else None
