"""The SERVICE guard and the worker sandbox: no query reaches the network, whatever it says.

Two lines of defence, each tested on its own: the guard (`kll_graph.sparql.lexer`) must read SERVICE
wherever the engine does, which a property-based test checks against the engine itself (a real
pyoxigraph store and a listener that counts the engine's connections); and the query workers
must be unable to connect even when a query with SERVICE reaches them past the guard.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad, Store

from kll_graph.exceptions import QueryError, QueryFailedError
from kll_graph.sparql.lexer import find_service, inspect_query, service_reason
from kll_graph.sparql.sandbox import network_filter
from kll_graph.sparql.workers import QueryJob, WorkerPool
from tests.sparql.support import build_fixture_store, current


class Listener:
    """A TCP listener on a free loopback port that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1  # counted before the close the engine waits for
            connection.close()

    def count(self) -> int:
        with self._lock:
            return self.connections

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


# --- the bypasses the probe found, and their cousins ------------------------------------------


def bypasses(port: int) -> list[str]:
    target = f"<http://127.0.0.1:{port}/x>"
    return [
        # The probe's reproduction: keywords glued, and rdflib misled by a \u0022 in a string.
        f'SELECT * WHERE {{ BIND("\\u0022" AS ?a) SERVICESILENT{target}{{?x ?y ?z}} '
        'BIND("\\u0022" AS ?b) }',
        f"SELECT * WHERE {{ ?s ?p falseSERVICE SILENT {target} {{?x ?y ?z}} }}",
        f"SELECT * WHERE {{ ?s ?p 1e5SERVICE SILENT {target} {{?x ?y ?z}} }}",
        f"SELECT * WHERE {{ ?s ?p trueservicesilent{target}{{?x ?y ?z}} }}",
        # A prefixed name whose prefix is the keyword: the engine reads SERVICE + `:x`.
        f"PREFIX : <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE SILENT:x{{?x ?y ?z}} }}",
        f"PREFIX : <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICESILENT:x{{?x ?y ?z}} }}",
        f"PREFIX : <http://127.0.0.1:{port}/> SELECT * {{ ?s ?p falseSERVICE:x #c\n{{?x ?y ?z}} }}",
        # `<` as less-than with a quote after it: read as an IRI, the rest would look like a
        # string; the engine reads an operator, a string, and then SERVICE as code.
        f"SELECT * WHERE {{ ?a ?b ?c FILTER(?a<'>')SERVICE SILENT {target}{{?s ?p ?o}} "
        "FILTER(?b!='') }",
        # ... and with a comment: `<2)SERVICE:x#>` looks like one IRI.
        f"PREFIX : <http://127.0.0.1:{port}/> SELECT * WHERE {{ ?a ?b ?c "
        "FILTER(1<2)SERVICE:x#>\n{?s ?p ?o} }",
    ]


def test_every_known_bypass_is_refused(listener: Listener) -> None:
    for query in bypasses(listener.port):
        assert find_service(query), query
        with pytest.raises(QueryError, match="SERVICE is not allowed"):
            inspect_query(query)


def test_the_known_bypasses_do_reach_the_network_in_the_engine(listener: Listener) -> None:
    """The bypasses are real: run on the bare engine, most of them connect (so the test above
    tests something). Some need data for the pattern before SERVICE to match."""
    store = engine_store(listener.port)
    before = listener.count()
    for query in bypasses(listener.port):
        with contextlib.suppress(SyntaxError, OSError):
            list(store.query(query))  # type: ignore[arg-type]
    assert listener.count() - before >= 6


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?service { ?service <http://ex/service> "SERVICE" }',
        "PREFIX service: <http://x/> SELECT * { ?s service:p ?o }",
        "PREFIX ex: <http://x/> SELECT * { ?s ex:SERVICE ?o . ?s ex:a.service ?o }",
        "SELECT * { ?s <http://www.w3.org/ns/sparql-service-description#endpoint> ?o }",
        "SELECT * { ?s ?p ?o FILTER(?o != <http://x/service#a>) }",
        "SELECT * { ?s ?p 'customer service' } # SERVICE <http://x/> {}",
        "SELECT * { _:service ?p ?o }",
    ],
)
def test_service_as_a_name_or_in_text_is_allowed(query: str) -> None:
    assert not find_service(query)
    assert inspect_query(query).form == "SELECT"


# --- the guard against the engine, property-based ---------------------------------------------


def engine_store(port: int) -> Store:
    """A store where `?s ?p X` matches every term the generator glues before SERVICE, so the
    engine reaches the SERVICE clause it parsed (it skips a join whose left side is empty)."""
    store = Store()
    objects = [
        Literal("false", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
        Literal("true", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
        Literal("1e5", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#double")),
        Literal("1", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        Literal("1.5", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#decimal")),
        Literal("x"),
        Literal("x", language="en"),
        Literal('"'),
        NamedNode("http://a/o"),
        NamedNode(f"http://127.0.0.1:{port}/a/o"),
        NamedNode(f"http://127.0.0.1:{port}/a/"),
        NamedNode(f"http://127.0.0.1:{port}/a/a"),
        NamedNode(f"http://127.0.0.1:{port}/o"),
    ]
    for obj in objects:
        store.add(Quad(NamedNode("http://a/s"), NamedNode("http://a/p"), obj))
    return store


def case_variants(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(
            c.upper() if up else c.lower() for c, up in zip(word, upper, strict=True)
        )
    )


GLUE_BEFORE = st.sampled_from(
    [
        "", " ", "\n", "\t", "# comment\n", "false", "true", "1e5", "1", "1.5", "1.", '"x"',
        "'x'", '"x"@en', "<http://a/o>", "?v", "$v", ":o", "ex:o", "ex:o.", "_:b", "a", ".",
        ";", "}", ")", "x", "_", "-", "\\u0053", '"\\u0022"', "ex:", "ex:a.", "'''x'''",
    ]
)  # fmt: skip
GLUE_AFTER = st.sampled_from(
    ["", " ", "\n", "# c\n", "x", "_", "1", ":", "?v", ".", "-", "\\u0045", "ex:"]
)
TARGETS = st.sampled_from(
    ["<http://127.0.0.1:{port}/s>", ":s", " :s", "<http://127.0.0.1:{port}/s>#x\n"]
)
WRAPS = st.sampled_from(
    [
        "{q}",
        'BIND("{q}" AS ?text) {q}',
        "?s ?p '''{q}''' .",
        "# {q}\n?s ?p ?o",
        "?s ?p <http://a/{q}> .",
        'BIND("\\u0022" AS ?a) {q} BIND("\\u0022" AS ?b)',
        "?s ?p ?o FILTER(?o<'>') {q} FILTER(?o!='')",
    ]
)


@st.composite
def glued_queries(draw: st.DrawFn, port: int) -> str:
    keyword = draw(case_variants("service"))
    silent = draw(st.sampled_from(["", " ", "silent", " SILENT ", "SiLeNt"]))
    target = draw(TARGETS).format(port=port)
    gap = draw(st.sampled_from(["", " ", "#c\n"]))
    clause = f"{draw(GLUE_BEFORE)}{keyword}{draw(GLUE_AFTER)}{silent}{target}{gap}{{ ?x ?y ?z }}"
    body = draw(WRAPS).replace("{q}", f"?s ?p {clause}")
    # Both prefixes point at the listener: wherever the engine reads a SERVICE, it calls there.
    prefixes = f"PREFIX : <http://127.0.0.1:{port}/> PREFIX ex: <http://127.0.0.1:{port}/a/> "
    return f"{prefixes}SELECT * WHERE {{ {body} }}"


def engine_connects(store: Store, listener: Listener, query: str) -> bool | None:
    """Whether the engine connected while running the query; None when it cannot parse it."""
    before = listener.count()
    try:
        list(store.query(query))  # type: ignore[arg-type]
    except SyntaxError:
        return None
    except OSError:
        pass  # SERVICE without SILENT fails once the listener hangs up
    return listener.count() > before


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_guard_and_the_engine_never_disagree(listener: Listener, data: st.DataObject) -> None:
    """Random tokens, numbers, literals, escapes, comments and case variants glued onto
    SERVICE, wrapped in strings, IRIs and comments: where the engine connects, the guard has
    refused; where the engine parses the query and does not connect, the guard allows it."""
    store = engine_store(listener.port)
    query = data.draw(glued_queries(listener.port))
    connects = engine_connects(store, listener, query)
    refused = find_service(query)
    if connects:
        assert refused, f"the engine ran SERVICE but the guard allowed:\n{query}"
    elif connects is False:
        # The one refusal by design: after a `<` that may be less-than, followed by a quote or
        # `#`, the rest is searched whole (see kll_graph.sparql.lexer), names and strings included.
        reason = service_reason(query)
        assert not refused or reason == "ambiguous <", f"refused ({reason}), runs:\n{query}"


# --- the workers cannot connect, whatever reaches them -----------------------------------------


@pytest.fixture(scope="module")
def pool_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return build_fixture_store(tmp_path_factory.mktemp("guard"))


def test_a_worker_cannot_connect_even_when_service_gets_past_the_guard(
    listener: Listener, pool_settings
) -> None:  # type: ignore[no-untyped-def]
    """The pool runs what it is given (the guard is the service's job): SERVICE to our listener,
    by address and by name, with and without SILENT, never connects."""
    build = current(pool_settings).get().path
    pool = WorkerPool(memory_mb=512, heavy_slots=1)
    before = listener.count()
    try:
        for target in (f"http://127.0.0.1:{listener.port}/", f"http://localhost:{listener.port}/"):
            query = f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"
            job = QueryJob(query, str(build), "json", 100, 10.0)
            with pytest.raises(QueryFailedError) as failed:
                pool.run(job).read()
            assert "ermission denied" in str(failed.value) or "13" in str(failed.value)
            quiet = query.replace("SERVICE", "SERVICE SILENT")
            silent = QueryJob(quiet, str(build), "json", 100, 10.0)
            assert b'"bindings":[{}]' in pool.run(silent).read().replace(b" ", b"")
    finally:
        pool.close()
    assert listener.count() == before


def test_the_filter_covers_only_the_known_processors() -> None:
    from kll_graph.exceptions import SandboxError

    assert len(network_filter("aarch64")) == len(network_filter("x86_64"))
    with pytest.raises(SandboxError, match="no seccomp table"):
        network_filter("riscv64")


def test_a_worker_without_a_sandbox_refuses_queries() -> None:
    """Fail closed: where the filter cannot be installed (`worker_main` then hands the loop a
    refusal) every job is answered with the sandbox error instead of being run."""
    from multiprocessing.connection import Connection

    from kll_graph.exceptions import SandboxError
    from kll_graph.sparql.workers import _serve

    ours, theirs = socket.socketpair()
    worker_end = Connection(theirs.detach())
    loop = threading.Thread(
        target=_serve, args=(worker_end, None, SandboxError("no seccomp here")), daemon=True
    )
    loop.start()
    server_end = Connection(ours.detach())
    server_end.send(QueryJob("ASK {}", "/nowhere", "json", 1, 5.0))
    answer = server_end.recv_bytes().decode()
    server_end.send(None)
    loop.join(timeout=10)
    assert answer.startswith("X") and '"class": "SandboxError"' in answer
    assert "SPARQL queries are off on this server: no seccomp here" in answer
