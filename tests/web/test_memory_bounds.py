"""Caches on request data stay within their budgets in bytes, keys included.

The finding this answers: a client sending many large distinct queries with small answers made
the server keep every query text (and query string, and `Accept` header) as a cache key that no
budget counted; 400 queries of about 900 kB left about 350 MB behind. Here the same attack runs
over real HTTP against `kll-graph serve` (granian, as deployed), and the resident memory of the
server process must stay flat once the attack's steady state is reached.
"""

from __future__ import annotations

import contextlib
import http.client
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from kll_graph import conneg
from kll_graph.store import CurrentStore
from kll_graph.testing import clean_env, make_settings, serving
from kll_graph.web import create_app

#: Cache budgets the server is started with, in MiB (each per server process).
QUERY_CACHE_MB = 4
RESPONSE_CACHE_MB = 4
#: Query text sent by POST (under the 1,000,000-byte request limit once form-encoded).
POST_QUERY_BYTES = 900_000
#: Query text sent by GET (URLs much beyond 64 kB may be refused by the HTTP layer).
GET_QUERY_BYTES = 40_000
#: An `Accept` header as large as clients can send.
ACCEPT_BYTES = 8_000
WARM_ROUNDS = 2
ROUNDS = 6
PER_ROUND = 20


class Attacker:
    """Sends distinct large queries with one-row answers over one keep-alive connection, and
    adds up the bytes of request data that caches keying on it whole would hold."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.sent = 0
        #: Bytes of keys the result, response and negotiation caches would keep if unbounded.
        self.key_bytes = 0

    def _query(self, size: int) -> str:
        """A valid, cheap query of about `size` characters: the padding is a comment, the
        number makes it (and its one-row answer) distinct."""
        self.sent += 1
        return "#" + f"{self.sent:07d}" * (size // 7) + f"\nSELECT ({self.sent} AS ?n) {{}}"

    def _expect_ok(self) -> None:
        response = self.connection.getresponse()
        body = response.read()
        assert response.status == 200, (response.status, body[:300])
        assert str(self.sent).encode() in body

    def post(self) -> None:
        """A large query by form POST: the result cache keys on its text."""
        query = self._query(POST_QUERY_BYTES)
        self.connection.request(
            "POST",
            "/sparql",
            body=urllib.parse.urlencode({"query": query}),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json",
            },
        )
        self._expect_ok()
        self.key_bytes += len(query)

    def get(self) -> None:
        """A moderate query by GET with a large distinct Accept header: the response cache keys
        on the query string and the header, content negotiation remembers the header."""
        query_string = urllib.parse.urlencode({"query": self._query(GET_QUERY_BYTES)})
        accept = "application/sparql-results+json, text/x-pad;p=" + f"{self.sent:07d}" * (
            ACCEPT_BYTES // 7
        )
        self.connection.request("GET", "/sparql?" + query_string, headers={"Accept": accept})
        self._expect_ok()
        self.key_bytes += len(query_string) + 2 * len(accept)

    def round(self, count: int) -> None:
        for _ in range(count):
            self.post()
            self.get()


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def server_processes(pid: int) -> list[int]:
    """The server processes below `pid`: granian starts them through multiprocessing.spawn
    (the SPARQL query workers below them run queries, not caches, and are left out)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(_parent(int(entry.name)), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            with contextlib.suppress(OSError):
                if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():
                    found.append(child)
    return found


def resident_bytes(pids: list[int]) -> int:
    """VmRSS of the processes, summed."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads memory use from /proc")
def test_large_distinct_queries_leave_no_memory_behind(sample_store: CurrentStore) -> None:
    """After a warm-up, 120 distinct POSTs of 900 kB and 120 distinct GETs with 40 kB query
    strings and 8 kB Accept headers (about 115 MB of keys, had they been kept) may grow the
    server by no more than the two cache budgets plus what the allocator keeps of a couple of
    requests' transient copies."""
    env = clean_env(
        PROCESSES="1", QUERY_CACHE_MB=str(QUERY_CACHE_MB), RESPONSE_CACHE_MB=str(RESPONSE_CACHE_MB)
    )
    with serving("serve", "--store", str(sample_store.layout.root), "--port", "0", env=env) as (
        pid,
        url,
    ):
        deadline = time.monotonic() + 30
        while not (servers := server_processes(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(servers) == 1, servers
        attacker = Attacker(url)
        # Warm-up: imports, the label index, the allocator's arenas of the request threads.
        for _ in range(WARM_ROUNDS):
            attacker.round(PER_ROUND // 2)
        start = resident_bytes(servers)
        attacker.key_bytes = 0
        samples = []
        for _ in range(ROUNDS):
            attacker.round(PER_ROUND)
            samples.append(resident_bytes(servers))
        growth = samples[-1] - start

    # What may legitimately stay: both caches filling their whole budgets (they hold little
    # at `start`), and the allocator keeping for reuse the transient copies a large request
    # makes of its query (raw body, decoded form, query text, lower-cased text, UTF-8 for the
    # ETag and the key, the job sent to a worker: about 8), for two requests. The Accept
    # headers here are all longer than content negotiation remembers, so they add nothing.
    budgets = (QUERY_CACHE_MB + RESPONSE_CACHE_MB) << 20
    transient = 2 * 8 * POST_QUERY_BYTES
    allowed = budgets + transient
    assert allowed * 3 < attacker.key_bytes, "the attack is too small to tell"
    mb = [round(s / 2**20, 1) for s in samples]
    assert growth <= allowed, (
        f"the server grew by {growth / 2**20:.1f} MB (RSS {start / 2**20:.1f} MB, then {mb}) "
        f"while {attacker.key_bytes / 2**20:.0f} MB of distinct keys were sent; at most "
        f"{allowed / 2**20:.1f} MB may stay"
    )


# --- the same, in process: exactly what each entry counts ----------------------------------


@pytest.fixture(scope="module")
def app(sample_store: CurrentStore) -> Iterator[Flask]:
    settings = make_settings(sample_store.layout.root).replace(
        query_cache_mb=QUERY_CACHE_MB, response_cache_mb=RESPONSE_CACHE_MB
    )
    application = create_app(settings, store=sample_store)
    yield application
    application.extensions["kll.sparql"].close()


def test_a_large_query_costs_the_result_cache_only_its_answer(app: Flask) -> None:
    from kll_graph.lru import ENTRY_BYTES
    from kll_graph.sparql.service import result_bytes

    cache = app.extensions["kll.sparql"].cache
    query = "#" + "x" * 500_000 + "\nSELECT (42 AS ?n) {}"
    before = cache.size
    response = app.test_client().post("/sparql", data={"query": query})
    assert response.status_code == 200
    # the answer, the 32-byte digest of the key, the entry's bookkeeping; not the 500 kB text
    assert cache.size - before == result_bytes((response.data, False)) + 32 + ENTRY_BYTES
    hits = cache.hits
    assert app.test_client().post("/sparql", data={"query": query}).data == response.data
    assert cache.hits == hits + 1


def test_a_large_get_costs_the_response_cache_its_response_not_its_request(app: Flask) -> None:
    from kll_graph.lru import ENTRY_BYTES

    responses = app.extensions["kll.responses"].responses
    query = "#" + "y" * 50_000 + "\nSELECT (43 AS ?n) {}"
    accept = "application/sparql-results+json, text/x-pad;p=" + "z" * 8_000
    before = responses.size
    client = app.test_client()
    first = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert first.status_code == 200
    added = responses.size - before
    headers = sum(len(name) + len(value) for name, value in first.headers.items())
    floor = len(first.data) + headers + 32 + ENTRY_BYTES
    # body, status and headers count, with their objects (a few kB); the 58 kB of request not
    assert floor < added < floor + 4096, (added, floor)
    hits = responses.hits
    again = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert again.data == first.data and responses.hits == hits + 1
    other = client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": accept[:-1] + "w"}
    )
    assert other.status_code == 200 and responses.hits == hits + 1  # another key: a miss


def test_content_negotiation_remembers_only_short_accept_headers() -> None:
    """The memo is bounded by count (MEMO_SIZE) and by key (MEMO_ACCEPT_CHARS), so it holds
    at most about 2 MiB of headers however large the headers clients send."""
    conneg._memo.cache_clear()
    offered = ["text/csv", "application/json"]
    for i in range(50):
        long = "application/json;q=0.5, text/csv, text/x-pad;p=" + f"{i:07d}" * 200
        assert conneg.negotiate(long, offered) == "text/csv"
    assert conneg._memo.cache_info().currsize == 0
    assert conneg.negotiate("text/csv", offered) == "text/csv"
    assert conneg._memo.cache_info().currsize == 1
    assert conneg.MEMO_SIZE * 4 * conneg.MEMO_ACCEPT_CHARS <= 2 << 20
    assert sys.getsizeof("x" * conneg.MEMO_ACCEPT_CHARS) < 4 * conneg.MEMO_ACCEPT_CHARS


def test_the_label_memo_is_keyed_by_concept_and_known_language(
    sample_store: CurrentStore,
) -> None:
    """The label index remembers what a hit shows of a concept per (concept, language). The
    language reaches it only as a primary subtag the index has labels in, so however long and
    varied the `lang` parameters clients send, they add no keys beyond one per language."""
    from kll_graph.exceptions import BadRequestError
    from kll_graph.labels.lookup import autocomplete, index_for

    index = index_for(sample_store.get())
    autocomplete(index, "a", lang="sv", limit=50)
    remembered = index._concept_part.cache_info().currsize
    assert remembered > 0
    for i in range(50):
        tag = "sv-" + "-".join(f"x{i:02d}{j:04d}" for j in range(100))  # 900 characters
        autocomplete(index, "a", lang=tag, limit=50)
    assert index._concept_part.cache_info().currsize == remembered
    with pytest.raises(BadRequestError):
        autocomplete(index, "a", lang="xx-" + "y" * 5000)
