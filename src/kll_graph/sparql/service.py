"""The SPARQL service behind `/sparql`: plan a query, answer it from the cache or a worker.

No HTTP here: the web layer parses the Protocol request into a :class:`QueryRequest`, asks
:meth:`SparqlService.plan` (which inspects the query, refuses what may not run, negotiates the
format and computes the validator, all without running anything, so a 304 or a 406 costs no
query), then :meth:`SparqlService.answer`, which serves a cached result or runs the query in a
worker process (:mod:`kll_graph.sparql.workers`) on the build that was current when it started.
Also here: the SPARQL Service Description and the example queries of the query page.
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from kll_graph import conneg
from kll_graph.digest import sha256_hex
from kll_graph.lru import ENTRY_BYTES, Digest, KeepingBody, SizedLru, digest
from kll_graph.namespaces import DCT, PREFIXES, RDF, SD, VOID, XSD, kll
from kll_graph.settings import Settings
from kll_graph.sparql.formats import (
    Collected,
    ResultFormat,
    by_media_type,
    by_names,
    kind_of,
    offered_media_types,
    write,
)
from kll_graph.sparql.lexer import inspect_query
from kll_graph.sparql.query import QUERY_DIR, Dataset, default_dataset
from kll_graph.sparql.remote import BYTES_PER_ROW, RemoteBuilds, RemoteStore, request_prologue
from kll_graph.sparql.workers import QueryJob, WorkerPool
from kll_graph.store import BuildSource, CurrentStore, ServedBuild

#: Results up to this size are kept in the result cache.
CACHE_ITEM_BYTES = 1 << 20


@dataclass(frozen=True)
class QueryRequest:
    """A SPARQL Protocol query request, already taken apart by the web layer."""

    query: str
    dataset: Dataset = field(default_factory=Dataset)
    accept: str | None = None
    #: Values of the `format`, `output` and `results` parameters (they win over Accept).
    formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryPlan:
    """What will be answered, decided before anything runs."""

    request: QueryRequest
    served: ServedBuild
    form: str
    format: ResultFormat
    etag: str
    last_modified: datetime
    #: Whether the query has FROM / FROM NAMED clauses of its own.
    has_dataset: bool = False

    @functools.cached_property
    def cache_key(self) -> Digest:
        """The result cache's key: the digest of (build, query, format, dataset), computed once
        per plan. A digest, because the query text and the graph lists are the client's and may
        be up to a request's size; kept whole, they would outweigh the small results they key."""
        r = self.request
        return digest(
            (
                self.served.build_id,
                r.query,
                self.format.name,
                tuple(r.dataset.default_graphs),
                tuple(r.dataset.named_graphs),
            )
        )


@dataclass
class Answer:
    """A result on its way to the client: headers-worth of facts and the body in chunks."""

    plan: QueryPlan
    truncated: bool
    body: Iterable[bytes]
    cached: bool

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


#: The result cache: (body, truncated) by the digest of (build, query, format, dataset). The
#: build id in the key means a new build never serves an old answer; old entries simply age out.
ResultCache = SizedLru[tuple[bytes, bool]]


def result_bytes(result: tuple[bytes, bool]) -> int:
    """The memory a kept result holds (the body and the pair around it)."""
    return sys.getsizeof(result) + sys.getsizeof(result[0])


class SparqlService:
    """User SPARQL over the current build: planning, limits, workers and the result cache."""

    def __init__(
        self,
        settings: Settings,
        current: BuildSource,
        *,
        heavy_after: float = 1.0,
    ) -> None:
        self.settings = settings
        self.current = current
        cache_bytes = settings.query_cache_mb << 20
        self.cache = (
            ResultCache(cache_bytes, CACHE_ITEM_BYTES, entry_bytes=ENTRY_BYTES)
            if cache_bytes > 0
            else None
        )
        self.prefixes = {**PREFIXES, "kll": kll(settings.base_iri).iri}
        #: The replicas user queries are forwarded to, or None when they run in our workers.
        self.remote: RemoteStore | None = None
        self.pool: WorkerPool | None = None
        if isinstance(current, RemoteBuilds):
            self.remote = current.remote
        elif isinstance(current, CurrentStore):
            self.pool = WorkerPool(
                memory_mb=settings.query_memory_mb,
                heavy_slots=settings.query_workers,
                heavy_after=heavy_after,
                warm_path=self._current_path(current),
            )
        else:
            raise TypeError(f"no SPARQL service for a build source of {type(current).__name__}")
        self._prologue = request_prologue(None, self.prefixes)

    @staticmethod
    def _current_path(current: CurrentStore) -> Callable[[], str | None]:
        def path() -> str | None:
            found = current.layout.current_build()
            return str(found) if found is not None else None

        return path

    def close(self) -> None:
        """Stop the worker processes."""
        if self.pool is not None:
            self.pool.close()

    def plan(self, request: QueryRequest) -> QueryPlan:
        """Check and negotiate a query without running it (4xx errors are raised here)."""
        info = inspect_query(
            request.query,
            max_depth=self.settings.max_query_depth,
            max_operators=self.settings.max_query_operators,
        )
        kind = kind_of(info.form)
        fmt = by_names(kind, request.formats) or by_media_type(
            kind, conneg.choose(request.accept, offered_media_types(kind))
        )
        served = self.current.get()
        return QueryPlan(
            request=request,
            served=served,
            form=info.form,
            format=fmt,
            etag=self._etag(served, request, fmt),
            last_modified=served.manifest.finished,
            has_dataset=info.has_dataset,
        )

    def _etag(self, served: ServedBuild, request: QueryRequest, fmt: ResultFormat) -> str:
        parts = (
            request.query,
            fmt.name,
            "\x1f".join(request.dataset.default_graphs),
            "\x1f".join(request.dataset.named_graphs),
            str(self.settings.max_results),
        )
        checksum = sha256_hex(*(part.encode("utf-8") + b"\x00" for part in parts))
        return f'"{served.build_id}-{checksum[:24]}"'

    def answer(self, plan: QueryPlan, *, use_cache: bool = True, keep: bool = True) -> Answer:
        """The result of a planned query, from the cache or from a worker; `keep=False` leaves
        a fresh result out of the cache (the caller keeps the whole response elsewhere)."""
        if use_cache and self.cache is not None:
            hit = self.cache.get(plan.cache_key)
            if hit is not None:
                cached_body, truncated = hit
                return Answer(plan, truncated, [cached_body], cached=True)
        if self.remote is not None:
            body = self._forward(plan, self.remote)
            return Answer(plan, False, self._keeping(plan, body, False, use_cache, keep), False)
        assert self.pool is not None
        request = plan.request
        job = QueryJob(
            query=request.query,
            build_path=str(plan.served.path),
            format_name=plan.format.name,
            max_results=self.settings.max_results,
            timeout=self.settings.query_timeout,
            default_graphs=tuple(request.dataset.default_graphs),
            named_graphs=tuple(request.dataset.named_graphs),
            prefixes=tuple(self.prefixes.items()),
        )
        stream = self.pool.run(job)
        truncated = stream.meta.truncated
        body = self._keeping(plan, stream, truncated, use_cache, keep)
        return Answer(plan, truncated, body, cached=False)

    def _keeping(
        self, plan: QueryPlan, body: Iterable[bytes], truncated: bool, use_cache: bool, keep: bool
    ) -> Iterable[bytes]:
        """The body, kept in the result cache once whole when it is to be kept."""
        if not (use_cache and keep and self.cache is not None):
            return body
        cache, key = self.cache, plan.cache_key

        def store_result(whole: bytes) -> None:
            result = (whole, truncated)
            cache.put(key, result, result_bytes(result))

        return KeepingBody(body, store_result, CACHE_ITEM_BYTES)

    def _forward(self, plan: QueryPlan, remote: RemoteStore) -> Iterable[bytes]:
        """A checked query sent on to a replica, with the dataset the embedded engine would use
        (the current releases' graphs, :func:`default_dataset`, kept per build, unless the
        request or the query names graphs; none when the replica's own default graph holds
        them, see :meth:`RemoteStore.default_holds_current`), our default
        prefixes, the query time limit (the client's read timeout and deadline) and a size
        bound of `max_results` rows' worth of bytes; the replica's answer goes on once whole."""
        dataset = plan.request.dataset
        defaults, named = list(dataset.default_graphs), list(dataset.named_graphs)
        union = []
        if not defaults and not named and not plan.has_dataset:
            current = default_dataset(plan.served)
            if current is None:  # the union of all graphs
                union.append(("union-default-graph", ""))
            elif not remote.default_holds_current():  # a replica loaded without the copy
                defaults = [graph.value for graph in current]
        if defaults and not named:  # every graph stays reachable by GRAPH, as embedded
            named = [graph.value for graph in remote.every_graph()]
        params = [("default-graph-uri", g) for g in defaults] + union
        params += [("named-graph-uri", g) for g in named]
        return remote.forward(
            self._prologue + plan.request.query,
            params,
            plan.format.media_type,
            max_bytes=self.settings.max_results * BYTES_PER_ROW,
        )


# --- service description --------------------------------------------------------------------

_FORMATS_NS = "http://www.w3.org/ns/formats/"
_RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "RDF_XML",
    "JSON-LD",
    "N-Quads",
    "TriG",
)
_SIMPLE_ENTAILMENT = "http://www.w3.org/ns/entailment/Simple"


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


#: Media types the service description can be sent as, preferred first.
DESCRIPTION_TYPES = offered_media_types("graph")


def service_description(endpoint: str, served: ServedBuild) -> list[Triple]:
    """A SPARQL 1.1 Service Description of the endpoint and the dataset it serves.

    The default dataset lists every graph of the build as a named graph. The default graph is
    their union (sd:UnionDefaultGraph) unless older releases or change graphs are left out of it;
    then the feature is not claimed and its size counts only the graphs it holds.
    """
    current = default_dataset(served)
    default_triples = served.manifest.triples
    if current is not None:
        held = {graph.value for graph in current}
        default_triples = sum(g.triples for g in served.manifest.graphs if g.iri in held)
    service = NamedNode(endpoint)
    dataset = BlankNode()
    default_graph = BlankNode()
    triples = [
        Triple(service, RDF.type, SD.Service),
        Triple(service, SD.endpoint, service),
        Triple(service, SD.supportedLanguage, SD.SPARQL11Query),
        Triple(service, SD.defaultEntailmentRegime, NamedNode(_SIMPLE_ENTAILMENT)),
        Triple(service, SD.defaultDataset, dataset),
        Triple(dataset, RDF.type, SD.Dataset),
        Triple(dataset, DCT.identifier, Literal(served.build_id)),
        Triple(dataset, SD.defaultGraph, default_graph),
        Triple(default_graph, RDF.type, SD.Graph),
        Triple(default_graph, VOID.triples, _integer(default_triples)),
    ]
    if current is None:
        triples.append(Triple(service, SD.feature, SD.UnionDefaultGraph))
    triples += [
        Triple(service, SD.resultFormat, NamedNode(_FORMATS_NS + f)) for f in _RESULT_FORMATS
    ]
    for graph in served.manifest.graphs:
        named = BlankNode()
        inner = BlankNode()
        triples += [
            Triple(dataset, SD.namedGraph, named),
            Triple(named, RDF.type, SD.NamedGraph),
            Triple(named, SD.name, NamedNode(graph.iri)),
            Triple(named, SD.graph, inner),
            Triple(inner, RDF.type, SD.Graph),
            Triple(inner, VOID.triples, _integer(graph.triples)),
        ]
        if graph.title:
            triples.append(Triple(inner, DCT.title, Literal(graph.title)))
    return triples


def write_description(triples: list[Triple], fmt: ResultFormat) -> bytes:
    """Serialize a service description in a graph format."""

    out = io.BytesIO()
    write(Collected("graph", [], triples), fmt, out)
    return out.getvalue()


# --- example queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """An example query of the query page: `queries/sparql_example_<id>.rq`.

    Its leading comment lines `# en: ...` and `# sv: ...` are the titles; the rest is the query
    body, which uses the prefixes of :func:`prologue` without declaring them.
    """

    id: str
    titles: dict[str, str]
    body: str

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("en") or self.id


def examples() -> list[Example]:
    """The example queries, in file-name order."""
    found: list[Example] = []
    for path in sorted(QUERY_DIR.glob("sparql_example_*.rq")):
        titles: dict[str, str] = {}
        body: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            lang, sep, title = line.removeprefix("# ").partition(": ")
            if not body and line.startswith("# ") and sep and lang in {"en", "sv"}:
                titles[lang] = title.strip()
            else:
                body.append(line)
        example_id = path.stem.removeprefix("sparql_example_")
        found.append(Example(example_id, titles, "\n".join(body).strip() + "\n"))
    return found


def prologue(base_iri: str, names: Iterable[str] | None = None) -> str:
    """PREFIX lines for the prefixes users get pre-filled (all, or those named).

    >>> prologue("https://example.org/kll/", ["kll", "skos"]).splitlines()[0]
    'PREFIX kll: <https://example.org/kll/ontology#>'
    """
    table = {"kll": kll(base_iri).iri, **PREFIXES}
    chosen = list(table) if names is None else [n for n in names if n in table]
    return "".join(f"PREFIX {name}: <{table[name]}>\n" for name in chosen)


def example_query(example: Example, base_iri: str) -> str:
    """An example as a complete query: the prefixes it uses, then its body."""
    used = [name for name in ("kll", *PREFIXES) if f"{name}:" in example.body]
    return prologue(base_iri, used) + "\n" + example.body
