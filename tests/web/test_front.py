"""The RSGI front of `kll-graph serve` answers as the plain WSGI app does: the same requests to
`kll-graph serve` (granian, through `web.front`) and to the same app under waitress get the same
statuses, bodies and headers, including streamed results, paths that need decoding, repeated
headers, HEAD, and answers from the response cache."""

from __future__ import annotations

import http.client
import io
import socket
import urllib.parse
from collections.abc import Iterator

import pytest

from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer, clean_env, make_settings, serving

Server = tuple[str, int]
ALL_ROWS = "SELECT * WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def both(sample_store: CurrentStore) -> Iterator[tuple[Server, Server]]:
    """(kll-graph serve, waitress) on the same sample build."""
    root = sample_store.layout.root
    waitress = LiveServer(make_settings(root), sample_store)
    try:
        with serving("serve", "--store", str(root), "--port", "0", env=clean_env()) as (_, url):
            parts = urllib.parse.urlsplit(url)
            ours = urllib.parse.urlsplit(waitress.url)
            yield (
                (str(parts.hostname), int(parts.port or 80)),
                (
                    str(ours.hostname),
                    int(ours.port or 80),
                ),
            )
    finally:
        waitress.close()


def fetch(
    server: Server, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*server, timeout=60)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            for one in value.split("\n"):  # a newline in a value: send the header twice
                connection.putheader(name, one)
        connection.endheaders()
        response = connection.getresponse()
        found = {k.lower(): v for k, v in response.getheaders()}
        return response.status, found, response.read()
    finally:
        connection.close()


REQUESTS = [
    ("GET", "/-/health", {}),
    ("GET", "/api/v1/search?q=sjuk%C3%B6ksk", {}),
    ("GET", "/search?q=l%C3%A4rare", {"Accept-Language": "sv"}),
    ("GET", "/sparql?" + urllib.parse.urlencode({"query": ALL_ROWS}), {"Accept": "text/csv"}),
    ("HEAD", "/sparql?" + urllib.parse.urlencode({"query": ALL_ROWS}), {"Accept": "text/csv"}),
    ("GET", "/no/such/p%C3%A4ge%2Fx", {"Accept": "application/json"}),
    ("GET", "/api/v1/search?q=x", {"Cookie": "a=1\nb=2", "X-Repeated": "1\n2"}),
    ("GET", "/schemes", {"Accept": "text/html"}),
]
COMPARED_HEADERS = ("content-type", "etag", "vary", "x-sparql-maxrows", "location", "allow")


@pytest.mark.parametrize(("method", "path", "headers"), REQUESTS)
def test_the_front_answers_as_the_wsgi_app_does(
    both: tuple[Server, Server], method: str, path: str, headers: dict[str, str]
) -> None:
    front, plain = both
    for _ in range(2):  # the second time from the response cache where the view allows
        ours = fetch(front, method, path, headers)
        theirs = fetch(plain, method, path, headers)
        assert ours[0] == theirs[0]
        assert ours[2] == theirs[2]
        for name in COMPARED_HEADERS:
            assert ours[1].get(name) == theirs[1].get(name), name


def raw_get(server: Server, target: bytes) -> tuple[int, bytes]:
    """A GET whose request target is sent as given, bytes outside ASCII included (as curl and
    some clients send them), which http.client refuses to do."""
    with socket.create_connection(server, timeout=60) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    connection = http.client.HTTPResponse(_Replay(b"".join(chunks)))  # type: ignore[arg-type]
    connection.begin()
    return connection.status, connection.read()


class _Replay:
    """A socket stand-in that replays received bytes, so http.client parses the answer."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, _mode: str) -> object:
        return io.BytesIO(self.data)


def test_raw_utf8_in_the_query_string_is_read_as_utf8(both: tuple[Server, Server]) -> None:
    """`?q=lärare` with the letters' UTF-8 bytes unencoded is the same search as `?q=l%C3%A4rare`
    (it was a 500: the front passed the query string on as text, not as its bytes' latin-1)."""
    front, _plain = both  # waitress refuses such a request line (400); granian takes it
    raw = raw_get(front, "/api/v1/search?q=lärare".encode())
    encoded = fetch(front, "GET", "/api/v1/search?q=l%C3%A4rare")
    assert raw[0] == 200
    assert raw[1] == encoded[2]
    assert b'"total":0' not in raw[1]


def test_a_result_larger_than_a_batch_is_streamed_whole(both: tuple[Server, Server]) -> None:
    """All triples of the sample as N-Triples (several batches of the front) arrive whole."""
    front, _plain = both
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    path = "/sparql?" + urllib.parse.urlencode({"query": query})
    status, _headers, body = fetch(front, "GET", path, {"Accept": "application/n-triples"})
    assert status == 200
    assert len(body) > 256 * 1024  # more than one batch (web.front.BATCH_BYTES)
    lines = [line for line in body.decode("utf-8").splitlines() if line.strip()]
    # a triple in two graphs is one triple of the CONSTRUCT result
    count = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    path = "/sparql?" + urllib.parse.urlencode({"query": count})
    _status, _h, counted = fetch(front, "GET", path, {"Accept": "text/csv"})
    assert len(lines) == int(counted.decode().split()[-1])


def test_a_post_body_reaches_the_app_whole(both: tuple[Server, Server]) -> None:
    front, _plain = both
    connection = http.client.HTTPConnection(*front, timeout=60)
    try:
        query = "ASK { ?s ?p ?o } # " + "ö" * 100_000  # 200 KB in many TCP segments
        connection.request(
            "POST",
            "/sparql",
            body=query.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
        )
        response = connection.getresponse()
        assert response.status == 200
        assert b'"boolean": true' in response.read().replace(b'"boolean":true', b'"boolean": true')
    finally:
        connection.close()
