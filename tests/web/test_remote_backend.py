"""The remote backend (#20 item 1): the app reading its graph from `oxigraph serve-read-only`
replicas answers as the embedded store does, survives a replica's death, takes it back when it
returns, refuses SERVICE before any replica sees it and stops a query at its time limit.

Real parts only: replicas are the engine's own server binary on free loopback ports over the
sample build; the app is a real HTTP server (a LiveServer thread, and `kll-graph serve` as a
process where a process matters); clients are SPARQLWrapper and requests.
"""

from __future__ import annotations

import concurrent.futures
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from pyoxigraph import NamedNode
from SPARQLWrapper import JSON, SPARQLWrapper

from kll_graph.exceptions import QueryFailedError
from kll_graph.labels.read import read_vocabulary
from kll_graph.mappings.checks import Vocabulary
from kll_graph.mappings.coverage import coverage
from kll_graph.quality.run import run_checks
from kll_graph.replica.launch import serve_argv, wait_until_answering
from kll_graph.sparql.remote import ENGINE_CANCELLED, FIRST_BYTES, RemoteBuilds
from kll_graph.store import CurrentStore, GraphStore
from kll_graph.testing import LiveServer, clean_env, free_port, make_settings, serving

SYSTEMUTVECKLARE = "http://data.jobtechdev.se/taxonomy/concept/rQds_YGd_quU"
NURSE = "http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR"


class Replica:
    """One `oxigraph serve-read-only` on a free port, stopped (or killed) by the test."""

    def __init__(self, location: Path, port: int | None = None, timeout_s: int = 5) -> None:
        self.location = location
        self.port = port or free_port()
        self.timeout_s = timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    def start(self) -> None:
        bind = f"127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            serve_argv(self.location, bind, self.timeout_s),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_answering(self.url, 20, self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def build_dir(sample_store: CurrentStore) -> Path:
    path = sample_store.layout.current_build()
    assert path is not None
    return path


@pytest.fixture(scope="module")
def replicas(build_dir: Path) -> Iterator[list[Replica]]:
    started = [Replica(build_dir / "oxigraph") for _ in range(2)]
    yield started
    for replica in started:
        replica.stop()


@pytest.fixture(scope="module")
def embedded(sample_store: CurrentStore) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(sample_store.layout.root), sample_store)
    yield server
    server.close()


@pytest.fixture(scope="module")
def remote(
    sample_store: CurrentStore, build_dir: Path, replicas: list[Replica]
) -> Iterator[LiveServer]:
    settings = make_settings(
        sample_store.layout.root,
        backend=",".join(r.url for r in replicas),
        backend_dump=build_dir,
        query_timeout=2.0,
    )
    server = LiveServer(settings)
    yield server
    server.close()
    server.app.extensions["kll.store"].close()


def _get(server: LiveServer, path: str, accept: str = "application/json") -> requests.Response:
    return requests.get(server.url + path, headers={"Accept": accept}, timeout=30)


# --- the same answers ---------------------------------------------------------------------------

SPARQL_QUERIES = [
    # the default graph is the union of the graphs, and the common prefixes need no declaration
    "SELECT ?c ?label WHERE { ?c skos:prefLabel ?label } ORDER BY ?c ?label LIMIT 50",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "ASK { ?c a skos:Concept }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    # a query naming its own dataset is not given the union
    "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/kll-graph/graph/esco/v1.1.1> "
    "WHERE { ?s ?p ?o }",
    "SELECT (COUNT(*) AS ?n) FROM NAMED <https://w3id.org/kll-graph/graph/esco/v1.1.1> "
    "WHERE { ?s ?p ?o }",
]


def _sparql(endpoint: str, query: str, **params: str) -> Any:
    client = SPARQLWrapper(endpoint)
    client.setQuery(query)
    client.setReturnFormat(JSON)
    for name, value in params.items():
        client.addParameter(name, value)
    return client.queryAndConvert()


@pytest.mark.parametrize("query", SPARQL_QUERIES)
def test_sparql_answers_as_embedded(embedded: LiveServer, remote: LiveServer, query: str) -> None:
    here = _sparql(embedded.url + "/sparql", query)
    there = _sparql(remote.url + "/sparql", query)
    assert there == here
    assert here.get("boolean") is not None or here["results"]["bindings"] or "COUNT" in query


def test_sparql_protocol_dataset_as_embedded(embedded: LiveServer, remote: LiveServer) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    graph = "https://w3id.org/kll-graph/graph/esco/v1.1.1"
    here = _sparql(embedded.url + "/sparql", query, **{"default-graph-uri": graph})
    there = _sparql(remote.url + "/sparql", query, **{"default-graph-uri": graph})
    assert there == here
    assert here["results"]["bindings"][0]["n"]["value"] != "0"


def test_construct_answers_as_embedded(embedded: LiveServer, remote: LiveServer) -> None:
    query = f"CONSTRUCT WHERE {{ <{NURSE}> ?p ?o }}"
    params = {"query": query}
    here = requests.get(
        embedded.url + "/sparql",
        params=params,
        headers={"Accept": "application/n-triples"},
        timeout=30,
    )
    there = requests.get(
        remote.url + "/sparql",
        params=params,
        headers={"Accept": "application/n-triples"},
        timeout=30,
    )
    assert here.status_code == there.status_code == 200
    lines = sorted(here.text.splitlines())
    assert lines and sorted(there.text.splitlines()) == lines


SURFACES = [
    ("/api/v1/autocomplete?q=sjuk", "application/json"),
    ("/api/v1/search?q=systemutvecklare", "application/json"),
    ("/api/v1/concepts?uri=" + quote(SYSTEMUTVECKLARE, safe=""), "application/json"),
    ("/api/v1/concepts/bXNH_MNX_dUR", "application/json"),
    ("/api/v1/schemes", "application/json"),
    ("/page?uri=" + quote(NURSE, safe=""), "text/html"),
    ("/data.ttl?uri=" + quote(NURSE, safe=""), "text/turtle"),
    ("/data.jsonld?uri=" + quote(SYSTEMUTVECKLARE, safe=""), "application/ld+json"),
    ("/reconcile?queries=" + quote('{"q0": {"query": "sjuksköterska"}}'), "application/json"),
    ("/-/quality", "application/json"),
]


@pytest.mark.parametrize(("path", "accept"), SURFACES)
def test_surfaces_answer_as_embedded(
    embedded: LiveServer, remote: LiveServer, path: str, accept: str
) -> None:
    here = _get(embedded, path, accept)
    there = _get(remote, path, accept)
    assert here.status_code == 200, here.text[:300]
    assert there.status_code == 200, there.text[:300]
    assert there.content == here.content
    assert there.headers["X-KLL-Build"] == here.headers["X-KLL-Build"]


def test_every_response_names_the_build(remote: LiveServer, build_dir: Path) -> None:
    for path in ("/", "/-/health", "/api/v1/autocomplete?q=data", "/no/such/page"):
        response = _get(remote, path)
        assert response.headers["X-KLL-Build"] == build_dir.name, path


def _stores(sample_store: CurrentStore, remote: LiveServer) -> tuple[GraphStore, GraphStore]:
    return sample_store.get().store, remote.app.extensions["kll.store"].store


def test_checks_find_the_same_on_both(sample_store: CurrentStore, remote: LiveServer) -> None:
    """Every quality check (named queries with the bindings their callers give, SELECT and
    CONSTRUCT, union and named graphs) finds the same on a replica as on the embedded store."""
    settings = make_settings(sample_store.layout.root)
    here, there = (
        run_checks(store, settings, build_id="b", sample=True)
        for store in _stores(sample_store, remote)
    )
    assert [r.id for r in there.results] == [r.id for r in here.results]
    for mine, theirs in zip(here.results, there.results, strict=True):
        assert (theirs.status, theirs.error) == (mine.status, mine.error), mine.id
        assert theirs.findings == mine.findings, mine.id
    assert any(r.findings for r in here.results)


def test_domain_reads_are_the_same_on_both(sample_store: CurrentStore, remote: LiveServer) -> None:
    """The label index's scan, mapping coverage and the mapping checks' vocabulary read the
    same from a replica as from the embedded store."""
    base = make_settings(sample_store.layout.root).base_iri
    here, there = _stores(sample_store, remote)
    assert read_vocabulary(there, base) == read_vocabulary(here, base)
    assert coverage(there, base) == coverage(here, base)
    assert Vocabulary.from_store(there, base) == Vocabulary.from_store(here, base)


def test_quads_for_pattern_as_embedded(sample_store: CurrentStore, remote: LiveServer) -> None:
    embedded_store = sample_store.get().store
    remote_store = remote.app.extensions["kll.store"].store
    node = NamedNode(NURSE)
    for pattern in [(node, None, None), (None, None, node)]:
        here = sorted(str(q) for q in embedded_store.quads_for_pattern(*pattern))
        there = sorted(str(q) for q in remote_store.quads_for_pattern(*pattern))
        assert here and there == here


# --- what never reaches a replica, and limits --------------------------------------------------


def test_service_is_refused_before_any_replica(remote: LiveServer) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
        response = requests.get(remote.url + "/sparql", params={"query": query}, timeout=30)
        assert response.status_code == 400
        assert "SERVICE" in response.json()["error"]["message"]
        with pytest.raises(TimeoutError):
            listener.accept()


def test_update_is_refused(remote: LiveServer) -> None:
    response = requests.post(
        remote.url + "/sparql",
        data="INSERT DATA { <http://x> <http://y> <http://z> }",
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    assert response.status_code == 403


def test_query_over_the_time_limit_gets_our_timeout_error(remote: LiveServer) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    started = time.monotonic()
    response = requests.get(remote.url + "/sparql", params={"query": query}, timeout=60)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "timeout"
    assert time.monotonic() - started < 10


def test_a_syntax_error_is_the_clients(remote: LiveServer) -> None:
    response = requests.get(remote.url + "/sparql", params={"query": "SELECT ?x {"}, timeout=30)
    assert response.status_code == 400


def test_an_answer_left_unread_spoils_no_later_answer(remote: LiveServer) -> None:
    """A client that stops reading a long answer: its replica connection is dropped, not given
    to the next query with the rest of that answer still in it."""
    everything = "CONSTRUCT WHERE { ?s ?p ?o }"
    for _ in range(3):
        with requests.get(
            remote.url + "/sparql",
            params={"query": everything},
            headers={"Accept": "application/n-triples"},
            stream=True,
            timeout=30,
        ) as response:
            assert response.status_code == 200
            next(response.iter_content(4096))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for _ in range(10):
        answer = _sparql(remote.url + "/sparql", count)
        assert int(answer["results"]["bindings"][0]["n"]["value"]) > 1000


#: Answers that the engine stops at its time limit after they began: a few bytes (the start of
#: the JSON, then nothing matches for long) and megabytes (every pair of triples) on the sample.
CUT_EARLY = (
    "SELECT ?a WHERE { { VALUES ?a { 1 2 3 } } UNION { GRAPH ?g { ?x ?y ?z } GRAPH ?h "
    '{ ?p ?q ?r } FILTER(CONCAT(STR(?z), "~") = STR(?r)) } }'
)
CUT_LATE = "SELECT * WHERE { GRAPH ?g { ?a ?b ?c } GRAPH ?h { ?d ?e ?f } }"
SOLUTIONS = {"Accept": "application/sparql-results+json"}


def test_an_answer_the_engine_cut_is_our_timeout_error(build_dir: Path, tmp_path: Path) -> None:
    """The engine ends an answer it stopped at its time limit properly, with its message after
    the partial result: a 200 that looks whole. Through `kll-graph serve --backend` the client
    gets our timeout error instead, whether the engine had written a few bytes or megabytes
    (the app reads the answer whole before it sends any of it, as the embedded workers do)."""
    replica = Replica(build_dir / "oxigraph", timeout_s=1)
    env = clean_env(
        backend=replica.url,
        backend_dump=str(build_dir),
        processes="1",
        query_timeout="30",
        store=str(tmp_path / "no-store"),
    )
    try:
        for query in (CUT_EARLY, CUT_LATE):  # the engine's behaviour this guards against
            engine = requests.post(
                replica.url, data={"query": query}, headers=SOLUTIONS, timeout=60
            )
            assert engine.status_code == 200
            assert engine.content.endswith(ENGINE_CANCELLED)
        assert len(engine.content) > FIRST_BYTES  # CUT_LATE: more than is read in one go
        with serving("serve", "--port", "0", env=env) as (_pid, url):
            for query in (CUT_EARLY, CUT_LATE):
                response = requests.get(
                    url + "/sparql", params={"query": query}, headers=SOLUTIONS, timeout=60
                )
                assert response.status_code == 503, response.content[-200:]
                assert response.json()["error"]["code"] == "timeout"
            # the app and its replica connection are fine afterwards
            assert _sparql(url + "/sparql", "ASK { ?s ?p ?o }")["boolean"] is True
    finally:
        replica.stop()


# --- replicas failing and coming back -----------------------------------------------------------


def test_replica_killed_then_back(
    sample_store: CurrentStore, build_dir: Path, tmp_path: Path
) -> None:
    """`kll-graph serve --backend` over two replicas: one is SIGKILLed under load and no request
    fails; restarted, it is taken back in by the health check."""
    first, second = Replica(build_dir / "oxigraph"), Replica(build_dir / "oxigraph")
    env = clean_env(
        backend=f"{first.url},{second.url}",
        backend_dump=str(build_dir),
        processes="1",
        store=str(tmp_path / "no-store"),
    )
    try:
        with serving("serve", "--port", "0", env=env) as (_pid, url):

            def hit(i: int) -> int:
                # a distinct query each time, so no cache answers in place of a replica
                query = f'SELECT * WHERE {{ <{NURSE}> ?p ?o FILTER(?o != "{i}") }}'
                path = "/sparql?query=" + quote(query)
                if i % 3 == 0:  # and the API, whose reads go to the replicas too
                    path = "/api/v1/concepts/bXNH_MNX_dUR?n=" + str(i)
                return requests.get(url + path, timeout=30).status_code

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                futures = [pool.submit(hit, i) for i in range(300)]
                time.sleep(0.3)
                first.kill()
                statuses = [f.result() for f in futures]
            assert statuses.count(200) == len(statuses), sorted(set(statuses))
            health = requests.get(url + "/-/health", timeout=30).json()
            states = {r["url"]: r for r in health["backend"]}
            assert states[first.url]["healthy"] is False
            assert states[second.url]["healthy"] is True

            first.start()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                health = requests.get(url + "/-/health", timeout=30).json()
                if all(r["healthy"] for r in health["backend"]):
                    break
                time.sleep(0.2)
            assert all(r["healthy"] for r in health["backend"]), health["backend"]
            second.kill()  # now only the one that came back can answer
            statuses = [hit(i) for i in range(1000, 1020)]
            assert statuses == [200] * 20
    finally:
        first.stop()
        second.stop()


def test_a_replica_of_another_build_is_kept_out(build_dir: Path, replicas: list[Replica]) -> None:
    """The app's artifacts and the replicas must be of one build: a replica answering with
    another build id is out of service."""
    source = RemoteBuilds([replicas[0].url], build_dir, timeout=5)
    try:
        source.pool.expected_build = "19990101T000000.000000Z"
        states = source.pool.check_all()
        assert states[0].healthy is False
        assert "19990101" in (states[0].error or "")
    finally:
        source.close()


class BreakingEndpoint:
    """An HTTP endpoint on loopback that answers 200 and breaks off after a few bytes, as a
    replica does when it dies part way through an answer."""

    def __init__(self, reply: bytes | None = None) -> None:
        self.reply = reply or (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
            b'Content-Length: 5000\r\n\r\n{"head":{"vars":["n"]},"res'
        )
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/query"
        self.served = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(self.reply)
                self.served += 1

    def close(self) -> None:
        self.listener.close()


SERVER_ERROR = b"Resource temporarily unavailable (os error 11)"


@pytest.mark.parametrize(
    "reply",
    [
        None,
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
        + f"Content-Length: {len(SERVER_ERROR)}\r\n\r\n".encode()
        + SERVER_ERROR,
    ],
    ids=["broken off", "server error"],
)
def test_an_answer_broken_off_is_asked_again_elsewhere(
    build_dir: Path, replicas: list[Replica], reply: bytes | None
) -> None:
    """A replica that breaks off an answer before any of it went to the client (or answers
    with a server error of its own) is passed over, and the query answered by the next
    replica: the caller sees a whole, right answer."""
    breaking = BreakingEndpoint(reply)
    source = RemoteBuilds([breaking.url, replicas[0].url], build_dir, timeout=10)
    try:
        store = source.remote
        for n in range(4):  # round-robin: some of these go to the breaking endpoint first
            result = store.query(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER(?o != {n}) }}",
                use_default_graph_as_union=True,
            )
            assert int(next(iter(result))["n"].value) > 1000
        forwarded = b"".join(
            store.forward(
                "ASK { ?s ?p ?o }",
                [("union-default-graph", "")],
                "application/sparql-results+json",
                max_bytes=1 << 20,
            )
        )
        assert b"true" in forwarded
        assert breaking.served >= 1
        if reply is None:
            assert source.pool.states[breaking.url].healthy is False
    finally:
        source.close()
        breaking.close()


def test_an_answer_broken_off_late_is_asked_again_elsewhere(
    build_dir: Path, replicas: list[Replica]
) -> None:
    """A replica that dies after more of its answer came than is read in one go: nothing has
    gone to the client yet (answers pass on whole), so the query goes to the next replica and
    the caller sees the whole answer of that one."""
    long_break = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
        + f"Content-Length: {4 * FIRST_BYTES}\r\n\r\n".encode()
        + b" " * (2 * FIRST_BYTES)
    )
    breaking = BreakingEndpoint(long_break)
    source = RemoteBuilds([breaking.url, replicas[0].url], build_dir, timeout=10)
    try:
        for n in range(2):  # round-robin: one of the two goes to the breaking endpoint first
            forwarded = b"".join(
                source.remote.forward(
                    f"SELECT ?s WHERE {{ ?s ?p ?o FILTER(?o != {n}) }} LIMIT 20000",
                    [("union-default-graph", "")],
                    "application/sparql-results+json",
                    max_bytes=1 << 26,
                )
            )
            assert forwarded.startswith(b'{"head"') and forwarded.endswith(b"]}}")
        assert breaking.served == 1
        assert source.pool.states[breaking.url].healthy is False
    finally:
        source.close()
        breaking.close()


@pytest.mark.parametrize("bound", [1000, FIRST_BYTES + 1000])
def test_an_answer_past_the_size_bound_is_an_error_not_a_shorter_answer(
    build_dir: Path, replicas: list[Replica], bound: int
) -> None:
    """Past `max_bytes`, within the first read or after it, the caller gets an error before any
    byte, and the replica connection is fine for the next query."""
    source = RemoteBuilds([replicas[0].url], build_dir, timeout=10)
    try:
        everything = "SELECT * WHERE { ?s ?p ?o }"
        with pytest.raises(QueryFailedError, match=f"passed {bound:,} bytes"):
            source.remote.forward(
                everything, [("union-default-graph", "")], SOLUTIONS["Accept"], max_bytes=bound
            )
        light = b"".join(
            source.remote.forward(
                "ASK { ?s ?p ?o }",
                [("union-default-graph", "")],
                SOLUTIONS["Accept"],
                max_bytes=bound,
            )
        )
        assert b"true" in light
    finally:
        source.close()


def test_serve_refuses_a_backend_it_cannot_serve(build_dir: Path, tmp_path: Path) -> None:
    """`kll-graph serve --backend` says at once what is wrong, instead of starting server
    processes that die: no dump directory, no artifacts in it, no replica of that build."""
    dead = f"http://127.0.0.1:{free_port()}/query"
    cases = [
        (["--backend", dead], "backend_dump is not"),
        (["--backend", dead, "--backend-dump", str(tmp_path)], "holds no build's artifacts"),
        (["--backend", dead, "--backend-dump", str(build_dir)], "no backend replica serves"),
    ]
    for flags, message in cases:
        done = subprocess.run(
            [sys.executable, "-m", "kll_graph", "serve", "--port", "0", *flags],
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_env(store=str(tmp_path / "none")),
        )
        assert done.returncode != 0
        assert message in done.stderr, done.stderr
