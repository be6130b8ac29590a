"""The graph read from a remote SPARQL 1.1 endpoint: a :class:`~kll_graph.store.GraphStore` over
the Protocol, and the served build of an app process that holds no store of its own.

:class:`RemoteStore` answers the read paths' calls as the embedded store does, so the lookup API,
pages, linked data, reconciliation and checks run unchanged on replicas:

* the query goes as a Protocol POST; the dataset options become request parameters
  (`default-graph-uri`, `named-graph-uri`, and Oxigraph's `union-default-graph` for the union
  default graph the embedded store is asked for), default prefixes become PREFIX lines, and
  substituted variables a VALUES block at the start of the query's pattern;
* SELECT and ASK come back as SPARQL JSON (read with `pyoxigraph.parse_query_results`),
  CONSTRUCT and DESCRIBE as N-Triples (read with `pyoxigraph.parse` into a small in-memory store,
  which gives the same result type as the embedded engine);
* `quads_for_pattern` is a SELECT over `GRAPH ?g` and the default graph.

:class:`RemoteBuilds` stands where :class:`~kll_graph.store.CurrentStore` stands in an embedded
app: it serves one build, whose artifacts (label index, coverage, quality report, manifest) come
from a dump directory (`backend_dump`) and whose graph is on the replicas, which must serve that
same build (checked by each health probe). `/sparql` forwards user queries with :meth:`forward`,
after the service's own checks, and passes the replica's answer on once it is whole.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    Variable,
    parse,
    parse_query_results,
)
from urllib3 import BaseHTTPResponse as _Response
from urllib3.exceptions import ProtocolError, ReadTimeoutError, SSLError

from kll_graph.exceptions import (
    BackendUnavailableError,
    QueryError,
    QueryFailedError,
    QueryTimeoutError,
    StoreNotFoundError,
)
from kll_graph.lru import ENTRY_BYTES, SizedLru
from kll_graph.namespaces import kll
from kll_graph.sparql.lexer import keywords, pattern_start
from kll_graph.sparql.query import named_query
from kll_graph.sparql.replicas import (
    PROBE_TIMEOUT,
    Probe,
    ReplicaPool,
    ReplicaState,
    endpoint_urls,
)
from kll_graph.store import MANIFEST, ServedBuild, read_manifest

SOLUTIONS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
FORM = "application/x-www-form-urlencoded"
#: Bytes read from a replica at a time while streaming an answer.
CHUNK_BYTES = 64 * 1024
#: What the engine (oxigraph 0.5) appends to an answer it stopped at its time limit after the
#: answer began: the partial result, then this text, then a proper end of the transfer (a 200
#: that looks whole). No result format it writes ends this way (results end with a bracket, a
#: tag or a line break).
ENGINE_CANCELLED = b"The SPARQL operation has been cancelled"
#: Bytes of a forwarded answer read in one go, and kept in memory (the rest of a longer answer
#: waits on disk until it is whole).
FIRST_BYTES = 256 * 1024
#: Bytes allowed per result row when a forwarded answer is bounded (`max_results` rows).
BYTES_PER_ROW = 1024
#: Memory kept for the answers to the app's own queries (per process), and the largest one kept.
READ_CACHE_BYTES = 16 << 20
READ_CACHE_ITEM = 256 << 10

GraphName = NamedNode | BlankNode | DefaultGraph
Term = NamedNode | BlankNode | Literal | Triple


class RemoteStore:
    """A GraphStore whose graph is on SPARQL 1.1 endpoints (replicas of one build)."""

    def __init__(self, pool: ReplicaPool, *, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout
        self._graphs: list[NamedNode | BlankNode] | None = None
        self._default_holds: bool | None = None
        #: Answers to the app's own queries. Sound because the replicas serve one build, never
        #: changed (one of another build is out of service), and worth it because the readers
        #: ask the same small questions again (which graphs are current, a concept's statements)
        #: and each costs a round trip here where the embedded store answered from memory.
        self.answers: SizedLru[bytes] = SizedLru(
            READ_CACHE_BYTES, READ_CACHE_ITEM, entry_bytes=ENTRY_BYTES
        )

    # --- the GraphStore interface --------------------------------------------------------------

    def query(
        self,
        query: str,
        /,
        *,
        base_iri: str | None = None,
        prefixes: dict[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: GraphName | list[GraphName] | None = None,
        named_graphs: list[NamedNode | BlankNode] | None = None,
        substitutions: dict[Variable, Term] | None = None,
    ) -> QuerySolutions | QueryBoolean | QueryTriples:
        """Run a query on a replica and read its result as the embedded store returns it."""
        if default_graph is not None and named_graphs is None:
            named_graphs = self.every_graph()  # as the embedded engine keeps them all named
        form = query_form(query)
        text = request_prologue(base_iri, prefixes) + substitute(query, substitutions or {})
        params = dataset_params(use_default_graph_as_union, default_graph, named_graphs)
        accept = N_TRIPLES if form in {"CONSTRUCT", "DESCRIBE"} else SOLUTIONS_JSON
        body = self.fetch(text, params, accept)
        if accept == N_TRIPLES:
            return _triples(body)
        try:
            return parse_query_results(body, QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise _cut(exc) from None

    def quads_for_pattern(
        self,
        subject: NamedNode | BlankNode | Triple | None,
        predicate: NamedNode | None,
        object: NamedNode | BlankNode | Literal | Triple | None,
        graph_name: GraphName | None = None,
        /,
    ) -> Iterator[Quad]:
        """The quads matching a pattern (None matches anything), as one SELECT."""
        for term in (subject, object, graph_name):
            if isinstance(term, BlankNode):
                raise QueryError("a blank node cannot be looked up on a remote SPARQL backend")
        s, p, o = (
            _pattern_term(t, v) for t, v in ((subject, "s"), (predicate, "p"), (object, "o"))
        )
        # the replicas' own default graph may hold copies of the current releases (see
        # default_holds_current); the build's store holds nothing there
        copies = self.default_holds_current()
        if isinstance(graph_name, DefaultGraph):
            if copies:
                return
            pattern = f"{{ {s} {p} {o} }}"
        elif isinstance(graph_name, NamedNode):
            pattern = f"{{ GRAPH {graph_name} {{ {s} {p} {o} }} }}"
        elif copies:
            pattern = f"{{ GRAPH ?g {{ {s} {p} {o} }} }}"
        else:
            pattern = f"{{ {{ GRAPH ?g {{ {s} {p} {o} }} }} UNION {{ {s} {p} {o} }} }}"
        result = self.query(f"SELECT * WHERE {pattern}")
        assert isinstance(result, QuerySolutions)
        for row in result:
            graph = row["g"] if graph_name is None else graph_name
            yield Quad(
                row["s"] if subject is None else subject,
                row["p"] if predicate is None else predicate,
                row["o"] if object is None else object,
                DefaultGraph() if graph is None else graph,
            )

    def default_holds_current(self) -> bool:
        """Whether the replicas' own default graph holds the graphs the SPARQL default graph
        keeps (`kll-graph replica load` copies them there when the build leaves some out; the
        build itself puts nothing in it), asked once."""
        if self._default_holds is None:
            result = self.query("ASK { ?s ?p ?o }")
            assert isinstance(result, QueryBoolean)
            self._default_holds = bool(result)
        return self._default_holds

    def every_graph(self) -> list[NamedNode | BlankNode]:
        """Every named graph of the replicas' build, asked once: the Protocol gives a query
        with `default-graph-uri` and no `named-graph-uri` no named graphs at all, where the
        embedded engine keeps every graph reachable by `GRAPH`."""
        if self._graphs is None:
            result = self.query(named_query("all_graphs"))
            assert isinstance(result, QuerySolutions)
            self._graphs = [row["g"] for row in result if isinstance(row["g"], NamedNode)]
        return list(self._graphs)

    # --- requests --------------------------------------------------------------------------------

    def fetch(self, text: str, params: Sequence[tuple[str, str]], accept: str) -> bytes:
        """The whole answer to a query (for the app's own, bounded, read paths)."""
        key = (text, tuple(params), accept)
        kept = self.answers.get(key)
        if kept is not None:
            return kept
        _url, response, body = self.begin(text, params, accept, limit=None)
        _finish(response, complete=True)
        self.answers.put(key, body, len(body))
        return body

    def begin(
        self, text: str, params: Sequence[tuple[str, str]], accept: str, *, limit: int | None
    ) -> tuple[str, _Response, bytes]:
        """Send a query and read the start of its answer (`limit` bytes, or all of it). The
        client has seen nothing yet, so a replica that breaks off here (it died, its connection
        was reset) is taken out and the query sent to the next one, and one that answers with a
        server error of its own (not a query error, not its time limit) is passed over: a light
        answer, read whole here, never fails because one replica did."""
        failed: list[str] = []
        last: ReplicaFailedError | None = None
        for _attempt in self.pool.urls:
            url, response = self.request(text, params, accept)
            try:
                _checked(url, response)
                start = response.read() if limit is None else response.read(limit)
            except ReplicaFailedError as exc:  # not marked out: the next probe decides
                _finish(response, complete=False)
                last = exc
                continue
            except (ProtocolError, SSLError) as exc:
                _finish(response, complete=False)
                self.pool.mark_down(url, f"answer broken off: {exc}")
                failed.append(url)
                continue
            except ReadTimeoutError:
                _finish(response, complete=False)
                raise _too_long(self.timeout) from None
            except BaseException:
                _finish(response, complete=False)
                raise
            return url, response, start
        if last is not None and not failed:
            raise last
        raise BackendUnavailableError(
            f"no replica gave a whole answer (broken off by {', '.join(failed)}"
            + (f"; {last}" if last is not None else "")
            + "); try again shortly"
        )

    def request(
        self, text: str, params: Sequence[tuple[str, str]], accept: str
    ) -> tuple[str, _Response]:
        body = urlencode([("query", text), *params]).encode("utf-8")
        headers = {"Content-Type": FORM, "Accept": accept}
        return self.pool.post(body, headers, read_timeout=self.timeout)

    def forward(
        self, text: str, params: Sequence[tuple[str, str]], accept: str, *, max_bytes: int
    ) -> Iterator[bytes]:
        """A user query's answer, read whole from a replica before any of it is passed on, as
        the embedded workers collect theirs: the client gets a whole answer or an error, never
        a cut one. (The engine ends an answer it stopped at its time limit as if it were whole,
        and the HTTP server cannot break off a response once it began.) The answer is kept in
        memory up to :data:`FIRST_BYTES` and on disk beyond, bounded by `max_bytes` and the time
        limit; a replica that breaks off while it is read is taken out and the query asked of
        the next one."""
        deadline = time.monotonic() + self.timeout
        for _attempt in self.pool.urls:
            url, response, start = self.begin(text, params, accept, limit=FIRST_BYTES)
            try:
                whole = _read_whole(response, start, max_bytes, deadline, self.timeout)
            except (ProtocolError, SSLError) as exc:
                self.pool.mark_down(url, f"answer broken off: {exc}")
                continue
            return _chunks(whole)
        raise BackendUnavailableError("no replica gave a whole answer; try again shortly")

    def replicas(self) -> list[ReplicaState]:
        return [self.pool.states[u] for u in self.pool.urls]


def _checked(url: str, response: _Response) -> _Response:
    """The response when it is an answer; the replica's error, in our terms, when not."""
    if response.status == 200:
        return response
    message = response.read(4096).decode("utf-8", "replace").strip()
    if response.status == 400:
        raise QueryError(f"SPARQL error: {message}")
    if response.status >= 500 and "timeout" in message.lower():
        raise QueryTimeoutError(f"the query ran past the backend's time limit: {message}")
    raise ReplicaFailedError(f"the SPARQL backend {url} answered {response.status}: {message}")


class ReplicaFailedError(QueryFailedError):
    """A replica answered with a server error that is not the query's fault nor its time limit
    (e.g. it could not start a thread): another replica may well answer."""


def _read_whole(
    response: _Response, start: bytes, max_bytes: int, deadline: float, timeout: float
) -> IO[bytes]:
    """The rest of an answer read after `start`, in a file rewound to its beginning; an error
    when it passes `max_bytes` or the deadline, or when the engine stopped it
    (:data:`ENGINE_CANCELLED` at its end)."""
    whole: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=FIRST_BYTES)  # noqa: SIM115
    complete = False
    try:
        size, chunk = 0, start
        while chunk:
            size += len(chunk)
            if size > max_bytes:
                raise QueryFailedError(f"the answer passed {max_bytes:,} bytes; add a LIMIT")
            if time.monotonic() > deadline:
                raise _too_long(timeout)
            whole.write(chunk)
            chunk = response.read(CHUNK_BYTES, decode_content=True)
        complete = True
        whole.seek(max(0, size - len(ENGINE_CANCELLED)))
        if whole.read() == ENGINE_CANCELLED:  # the engine's own limit
            raise _too_long(timeout)
        whole.seek(0)
        return whole
    except ReadTimeoutError:
        whole.close()
        raise _too_long(timeout) from None
    except BaseException:
        whole.close()
        raise
    finally:
        _finish(response, complete=complete)


def _too_long(timeout: float) -> QueryTimeoutError:
    """The one wording of a forwarded query stopped at its time limit, whoever stopped it."""
    return QueryTimeoutError(
        f"the query ran longer than the limit of {timeout:g} s and was stopped; narrow it "
        "(fewer patterns, a LIMIT) and try again"
    )


def _chunks(whole: IO[bytes]) -> Iterator[bytes]:
    """A read answer's bytes in chunks; the file is closed at the end (or when it is dropped)."""
    with whole:
        while chunk := whole.read(CHUNK_BYTES):
            yield chunk


def _finish(response: _Response, *, complete: bool) -> None:
    """Give the connection back for the next request when the answer was read to its end;
    close it when not (what is left of the answer must not be read as the next one's)."""
    if not complete:
        response.close()
    response.release_conn()


def _triples(body: bytes) -> QueryTriples:
    """N-Triples as the engine's own CONSTRUCT result (through a small in-memory store). Blank
    nodes keep the labels the replica wrote, which are the engine's own ids, so a document with
    blank nodes is written exactly as the embedded store writes it (`Store.load` would rename
    them)."""
    graph = Store()
    try:
        graph.extend(parse(body, RdfFormat.N_TRIPLES))  # quads of the default graph
    except SyntaxError as exc:
        raise _cut(exc) from None
    result = graph.query("CONSTRUCT WHERE { ?s ?p ?o }")
    assert isinstance(result, QueryTriples)
    return result


def _cut(exc: SyntaxError) -> QueryFailedError:
    """A replica's answer that does not parse: the engine stopped writing it part way (its own
    time limit, or it died), after it had said 200. Never taken as a shorter answer."""
    return QueryFailedError(f"a SPARQL backend's answer was cut or malformed ({exc})")


def _pattern_term(term: NamedNode | Literal | Triple | BlankNode | None, var: str) -> str:
    return f"?{var}" if term is None else str(term)


# --- the request's text and parameters -------------------------------------------------------


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first word after the prologue."""
    for word in keywords(text):
        if word not in {"BASE", "PREFIX"}:
            return word
    raise QueryError("the query has no query form (SELECT, ASK, CONSTRUCT or DESCRIBE)")


def request_prologue(base_iri: str | None, prefixes: Mapping[str, str] | None) -> str:
    """The BASE and PREFIX lines the embedded engine would take as options.

    >>> request_prologue(None, {"skos": "http://www.w3.org/2004/02/skos/core#"})
    'PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\\n'
    """
    lines = [f"BASE {NamedNode(base_iri)}\n"] if base_iri else []
    lines += [f"PREFIX {name}: {NamedNode(iri)}\n" for name, iri in (prefixes or {}).items()]
    return "".join(lines)


def substitute(text: str, substitutions: Mapping[Variable, Term]) -> str:
    """The query with its substituted variables bound by a VALUES block at the start of its
    pattern, so the engine joins from the given values, as the embedded engine's substitution.

    >>> substitute("SELECT ?p WHERE { ?c ?p ?o }", {Variable("c"): NamedNode("http://x/c")})
    'SELECT ?p WHERE { VALUES (?c) { (<http://x/c>) }  ?c ?p ?o }'
    """
    if not substitutions:
        return text
    at = pattern_start(text)
    if at is None:
        raise QueryError("a query with bound variables needs a WHERE clause on a remote backend")
    for term in substitutions.values():
        if isinstance(term, BlankNode):
            raise QueryError("a blank node cannot be bound in a query to a remote backend")
    names = " ".join(str(v) for v in substitutions)
    values = " ".join(str(t) for t in substitutions.values())
    return f"{text[:at]} VALUES ({names}) {{ ({values}) }} {text[at:]}"


def dataset_params(
    union: bool,
    default_graph: GraphName | list[GraphName] | None,
    named_graphs: Sequence[NamedNode | BlankNode] | None,
) -> list[tuple[str, str]]:
    """The Protocol parameters of a query's dataset, as the embedded store's options set it."""
    params: list[tuple[str, str]] = []
    if default_graph is not None:
        graphs = default_graph if isinstance(default_graph, list) else [default_graph]
        for graph in graphs:
            if not isinstance(graph, NamedNode):
                raise QueryError("only named graphs can be a remote query's default graph")
            params.append(("default-graph-uri", graph.value))
    elif union:
        params.append(("union-default-graph", ""))
    for graph in named_graphs or ():
        if not isinstance(graph, NamedNode):
            raise QueryError("only named graphs can be a remote query's named graphs")
        params.append(("named-graph-uri", graph.value))
    return params


# --- the served build of a remote backend ------------------------------------------------------


def build_probe(base_iri: str) -> Probe:
    """A health probe asking a replica which build it serves (the catalog's build id)."""
    text = substitute(named_query("backend_build_id"), {Variable("buildId"): kll(base_iri).buildId})

    def probe(pool: ReplicaPool, url: str) -> str:
        return _probe(pool, url, text)

    return probe


def _probe(pool: ReplicaPool, url: str, text: str) -> str:
    body = urlencode([("query", text)]).encode("utf-8")
    response = pool.http.request(
        "POST",
        url,
        body=body,
        headers={"Content-Type": FORM, "Accept": SOLUTIONS_JSON},
        timeout=PROBE_TIMEOUT,
        retries=False,
        redirect=False,
    )
    if response.status != 200:
        raise QueryFailedError(f"answered {response.status}")
    result = parse_query_results(response.data, QueryResultsFormat.JSON)
    assert isinstance(result, QuerySolutions)
    ids = sorted({row["id"].value for row in result if row["id"] is not None})
    if len(ids) != 1:
        raise QueryFailedError(f"holds {len(ids)} build ids ({', '.join(ids) or 'none'})")
    return str(ids[0])


class RemoteBuilds:
    """The build an app process serves from replicas: artifacts from a dump directory, the graph
    from the endpoints. Stands where CurrentStore stands in an embedded app (`get()`)."""

    def __init__(self, urls: Sequence[str], dump: Path, *, timeout: float) -> None:
        dump = artifacts_dir(dump)
        manifest = read_manifest(dump)
        self.pool = ReplicaPool(
            urls, expected_build=manifest.build_id, probe=build_probe(manifest.base_iri)
        )
        self.remote = RemoteStore(self.pool, timeout=timeout)
        self.served = ServedBuild(dump, self.remote, manifest)

    @classmethod
    def from_settings(cls, backend: str, dump: Path, timeout: float) -> RemoteBuilds:
        return cls(endpoint_urls(backend), dump, timeout=timeout)

    def get(self) -> ServedBuild:
        return self.served

    @property
    def store(self) -> RemoteStore:
        return self.remote

    def verify(self) -> list[ReplicaState]:
        """Probe every replica now; BackendUnavailableError when none serves this build."""
        states = self.pool.check_all()
        if not any(s.healthy for s in states):
            found = "; ".join(f"{s.url}: {s.error}" for s in states)
            raise BackendUnavailableError(
                f"no backend replica serves build {self.served.build_id} ({found})"
            )
        return states

    def close(self) -> None:
        self.pool.close()


def artifacts_dir(path: Path) -> Path:
    """The directory holding a build's artifacts: `path` itself (a dump's `<build_id>/`, or a
    build directory), or the one build directory inside it."""
    if (path / MANIFEST).is_file():
        return path
    inside = sorted(p for p in path.iterdir() if (p / MANIFEST).is_file()) if path.is_dir() else []
    if len(inside) == 1:
        return inside[0]
    raise StoreNotFoundError(
        f"backend_dump {path} holds no build's artifacts ({MANIFEST} and the files beside it); "
        "give the directory `kll-graph dump` wrote for the build the replicas serve"
    )
