"""The RDF documents of large concept schemes over real HTTP against `kll-graph serve` on the real
data: paged at `PAGE_TRIPLES` statements with Link headers, every page together the whole
description, made once and then answered from the document cache, and made once however many
clients ask for it at the same moment (the `X-KLL-Cache` header says how each answer was got).

Each test asks for a document (scheme and format) no other test asks for, so each starts cold
whatever order the tests run in. One server process, so every request meets the same cache.
"""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from pyoxigraph import NamedNode, RdfFormat, parse

from kll_graph.concepts import rdfdoc
from kll_graph.namespaces import SKOS
from kll_graph.store import CurrentStore
from kll_graph.testing import clean_env, serving

pytestmark = pytest.mark.realdata

ESCO_SKILLS = "http://data.europa.eu/esco/concept-scheme/skills"
JOBTECH_SKILLS = "https://w3id.org/kll-graph/scheme/jobtech/skill"
ESCO_OCCUPATIONS = "http://data.europa.eu/esco/concept-scheme/occupations"
FORMATS = {
    "ttl": RdfFormat.TURTLE,
    "nt": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
    "rdf": RdfFormat.RDF_XML,
}


@pytest.fixture(scope="module")
def base(real_store: CurrentStore) -> Iterator[str]:
    env = clean_env(processes="1", query_workers="1")
    with serving("serve", "--store", str(real_store.layout.root), "--port", "0", env=env) as (
        _,
        url,
    ):
        yield url.rstrip("/")


def document_url(ext: str, uri: str, page: int | None = None) -> str:
    return f"/data.{ext}?uri={quote(uri, safe='')}" + (f"&page={page}" if page else "")


def links(response: requests.Response) -> dict[str, str]:
    """The Link header's targets by relation."""
    found = re.findall(r'<([^>]*)>;\s*rel="([^"]+)"', response.headers.get("Link", ""))
    return {rel: target for target, rel in found}


def page_of(target: str) -> int:
    return int(parse_qs(urlsplit(target).query).get("page", ["1"])[0])


def test_a_scheme_document_is_paged_and_its_pages_make_the_whole(
    base: str, real_store: CurrentStore
) -> None:
    whole = rdfdoc.triples(real_store.get(), ESCO_SKILLS)
    assert len(whole) > 3 * rdfdoc.PAGE_TRIPLES  # the ESCO skills scheme: 34,863 statements
    pages = -(-len(whole) // rdfdoc.PAGE_TRIPLES)
    seen: list[object] = []
    target: str | None = document_url("nt", ESCO_SKILLS)
    number = 0
    while target is not None:
        number += 1
        answer = requests.get(base + target, timeout=120)
        assert answer.status_code == 200, answer.text[:300]
        assert answer.headers["Content-Type"].startswith("application/n-triples")
        assert f"# page {number} of {pages} of the description of <{ESCO_SKILLS}>" in answer.text
        triples = [q.triple for q in parse(answer.content, RdfFormat.N_TRIPLES)]
        assert 0 < len(triples) <= rdfdoc.PAGE_TRIPLES
        seen.extend(triples)
        rels = links(answer)
        assert page_of(rels["first"]) == 1 and page_of(rels["last"]) == pages
        assert ("prev" in rels) == (number > 1)
        target = rels.get("next")
        assert target is None or page_of(target) == number + 1
    assert number == pages
    assert seen == whole  # in order: the scheme's own statements first, nothing lost or repeated
    assert seen[0].subject == NamedNode(ESCO_SKILLS)
    past = requests.get(base + document_url("nt", ESCO_SKILLS, pages + 1), timeout=60)
    assert past.status_code == 404
    error = past.json()["error"]
    assert error["status"] == 404 and f"it has {pages} page(s)" in error["message"]


def test_the_first_page_of_every_format_parses_and_names_the_scheme(base: str) -> None:
    for ext, fmt in FORMATS.items():
        answer = requests.get(base + document_url(ext, ESCO_OCCUPATIONS), timeout=120)
        assert answer.status_code == 200, (ext, answer.text[:300])
        triples = [q.triple for q in parse(answer.content, fmt)]
        assert 0 < len(triples) <= rdfdoc.PAGE_TRIPLES, ext
        assert any(
            t.subject == NamedNode(ESCO_OCCUPATIONS) and t.predicate == SKOS.prefLabel
            for t in triples
        ), ext
        assert "next" in links(answer), ext
        if ext != "jsonld":  # JSON has no comments: the Link header alone tells
            assert "page 1 of" in answer.text[:1000], ext


def test_a_document_is_made_once_then_answered_from_the_cache(base: str) -> None:
    url = base + document_url("ttl", JOBTECH_SKILLS)
    first = requests.get(url, timeout=120)
    second = requests.get(url, timeout=120)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-KLL-Cache"] == "miss"
    assert second.headers["X-KLL-Cache"] == "hit"
    assert first.content == second.content
    # another page of the same document comes from the same cached entry
    page_two = requests.get(base + document_url("ttl", JOBTECH_SKILLS, 2), timeout=120)
    assert page_two.status_code == 200 and page_two.headers["X-KLL-Cache"] == "hit"
    # a conditional request is answered 304 without the document
    etag = first.headers["ETag"]
    again = requests.get(url, headers={"If-None-Match": etag}, timeout=60)
    assert again.status_code == 304 and again.content == b""


def test_twenty_clients_asking_at_once_make_the_document_once(base: str) -> None:
    url = base + document_url("jsonld", ESCO_SKILLS)
    start = threading.Barrier(20)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait()
        answer = requests.get(url, timeout=300)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 20
    sources = collections.Counter(a.headers["X-KLL-Cache"] for a in answers)
    assert sources["miss"] == 1, sources  # made once; the others waited for it or hit the cache
    assert set(sources) <= {"miss", "shared", "hit"}
    assert len({a.content for a in answers}) == 1
