"""SPARQL result formats: their names and media types, and writers that stop at a row limit.

Most results are small, and for those the engine's own serializer writes the whole answer
(:func:`write_native`), which is then checked against the row limit. A result too big for that,
or one the limit cuts, is collected up to `max_results` (so whether it was cut is known before a
single byte is sent and can go into the response headers), then written in chunks to any binary
writer, so it streams to the client instead of being built up as one string. Graph results
always use the engine's serializers; collected solutions are written here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

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
    Triple,
    serialize,
)

from kll_graph.exceptions import NotAcceptableError, QueryError
from kll_graph.namespaces import PREFIXES, XSD

XSD_STRING = XSD.string.value


@dataclass(frozen=True)
class ResultFormat:
    """One result format: its short name (`format=`), media type and the result kind it fits."""

    name: str
    media_type: str
    kind: str  # "solutions" (SELECT/ASK) or "graph" (CONSTRUCT/DESCRIBE)
    extension: str
    #: Other media types clients use for the same format (answered with `media_type`).
    aliases: tuple[str, ...] = ()
    #: Other names clients put in `format=`, `output=` or `results=` for it (Fuseki, Virtuoso and
    #: SPARQLWrapper spell them so). `xml` and `json` name a format of each kind: the reading
    #: that fits the query form is taken.
    names: tuple[str, ...] = ()

    def is_named(self, wanted: str) -> bool:
        return wanted in {self.name, self.media_type, *self.aliases, *self.names}


FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat(
        "json",
        "application/sparql-results+json",
        "solutions",
        "srj",
        ("application/json",),
        ("srj",),
    ),
    ResultFormat(
        "xml",
        "application/sparql-results+xml",
        "solutions",
        "srx",
        ("application/xml", "text/xml"),
        ("srx",),
    ),
    ResultFormat("csv", "text/csv", "solutions", "csv"),
    ResultFormat("tsv", "text/tab-separated-values", "solutions", "tsv"),
    ResultFormat(
        "ttl", "text/turtle", "graph", "ttl", ("application/x-turtle",), ("turtle", "n3", "text/n3")
    ),
    ResultFormat(
        "nt", "application/n-triples", "graph", "nt", ("text/plain",), ("ntriples", "n-triples")
    ),
    ResultFormat(
        "rdfxml",
        "application/rdf+xml",
        "graph",
        "rdf",
        ("application/xml", "text/xml"),
        ("xml", "rdf", "rdf+xml"),
    ),
    ResultFormat(
        "jsonld",
        "application/ld+json",
        "graph",
        "jsonld",
        ("application/json",),
        ("json", "json-ld"),
    ),
    ResultFormat("nq", "application/n-quads", "graph", "nq", (), ("nquads", "n-quads")),
    ResultFormat("trig", "application/trig", "graph", "trig"),
)
_RDF_FORMATS: dict[str, RdfFormat] = {
    "ttl": RdfFormat.TURTLE,
    "nt": RdfFormat.N_TRIPLES,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
    "nq": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
}
_QUAD_FORMATS = {"nq", "trig"}


def kind_of(form: str) -> str:
    """The result kind of a query form.

    >>> kind_of("ASK"), kind_of("DESCRIBE")
    ('solutions', 'graph')
    """
    return "graph" if form in {"CONSTRUCT", "DESCRIBE"} else "solutions"


def formats_for(kind: str) -> list[ResultFormat]:
    return [f for f in FORMATS if f.kind == kind]


def offered_media_types(kind: str) -> list[str]:
    """Media types a result of this kind can be sent as, preferred first, aliases last.

    >>> offered_media_types("solutions")[:2]
    ['application/sparql-results+json', 'application/sparql-results+xml']
    """
    formats = formats_for(kind)
    return [f.media_type for f in formats] + [a for f in formats for a in f.aliases]


def by_media_type(kind: str, media_type: str) -> ResultFormat:
    """The format of a kind that a (negotiated) media type stands for."""
    for fmt in formats_for(kind):
        if media_type == fmt.media_type or media_type in fmt.aliases:
            return fmt
    raise QueryError(f"no {kind} format has the media type {media_type}")


def by_name(kind: str, name: str) -> ResultFormat:
    """The format a `format=` (or `output=`, `results=`) value names for a result kind: a short
    name or a media type, read the way that fits the kind (`xml` is SPARQL XML results for
    SELECT/ASK and RDF/XML for CONSTRUCT/DESCRIBE).

    A value no format of the kind answers to is a NotAcceptableError (406) listing those that do.

    >>> by_name("solutions", "csv").media_type
    'text/csv'
    >>> by_name("graph", "text/turtle").name
    'ttl'
    >>> by_name("graph", "xml").media_type
    'application/rdf+xml'
    >>> by_name("graph", "application/ld+json,application/x-json+ld").name
    'jsonld'
    """
    # SPARQLWrapper may send its whole Accept list as a value: the first that fits is taken
    for wanted in (part.split(";")[0].strip().lower() for part in name.split(",")):
        for fmt in formats_for(kind):
            if fmt.is_named(wanted):
                return fmt
    wanted = name.strip().lower()
    allowed = ", ".join(f.name for f in formats_for(kind))
    what = "SELECT/ASK" if kind == "solutions" else "CONSTRUCT/DESCRIBE"
    known = any(f.is_named(wanted) for f in FORMATS)
    problem = "does not fit" if known else "is no format of"
    raise NotAcceptableError(
        f"format '{name[:40]}' {problem} a {what} result; use one of {allowed}",
        offered=tuple(f.media_type for f in formats_for(kind)),
    )


def by_names(kind: str, names: Sequence[str]) -> ResultFormat | None:
    """The one format that all of `names` read as (None when there are none); names that read
    as different formats are a QueryError, since the client asked for two things at once."""
    found = {by_name(kind, name) for name in names}
    if len(found) > 1:
        listed = ", ".join(sorted(f.name for f in found))
        raise QueryError(f"the format parameters name different formats ({listed}); give one")
    return found.pop() if found else None


@dataclass
class Collected:
    """A query result held in memory up to the row limit."""

    kind: str
    variables: list[str]
    rows: list[Any]  # QuerySolution for SELECT, Triple for graphs
    boolean: bool | None = None
    truncated: bool = False

    @property
    def count(self) -> int:
        return 1 if self.boolean is not None else len(self.rows)


def collect(result: QuerySolutions | QueryBoolean | QueryTriples, limit: int) -> Collected:
    """Take at most `limit` rows or triples from a result, noting whether more were there."""
    if isinstance(result, QueryBoolean):
        return Collected("solutions", [], [], boolean=bool(result))
    if isinstance(result, QueryTriples):
        triples = list(islice(result, limit + 1))
        return Collected("graph", [], triples[:limit], truncated=len(triples) > limit)
    variables = [v.value for v in result.variables]
    rows = list(islice(result, limit + 1))
    return Collected("solutions", variables, rows[:limit], truncated=len(rows) > limit)


#: The engine's serializer for each solution format, and the fewest bytes one row adds to its
#: output, separators not counted: `{}` in JSON, `<result></result>` in XML, a line break in
#: CSV (CRLF) and TSV. A test holds these to the engine's real output for rows with no bindings.
NATIVE_SOLUTIONS: dict[str, tuple[QueryResultsFormat, int]] = {
    "json": (QueryResultsFormat.JSON, 2),
    "xml": (QueryResultsFormat.XML, 17),
    "csv": (QueryResultsFormat.CSV, 2),
    "tsv": (QueryResultsFormat.TSV, 1),
}
#: The most the engine's serializer may write before a result is handed to the Python writers.
NATIVE_CAP = 8 << 20


class _Full(Exception):
    """Raised from :class:`_CappedBuffer` to stop the engine's serializer at the byte limit."""


class _CappedBuffer:
    """A binary writer that keeps at most `cap` bytes and raises :class:`_Full` past them."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.cap:
            raise _Full
        self.parts.append(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the engine's serializer calls it at the end of some formats."""


def count_rows(body: bytes, name: str) -> int:
    """The number of solutions in the engine's output in a format.

    XML and TSV are counted on the bytes: `<` inside XML text is always escaped, and TSV writes
    line breaks inside literals as escapes. JSON and CSV may hold anything inside a string, so
    they are parsed (by the C parsers of the standard library).
    """
    if name == "tsv":
        return body.count(b"\n") - 1
    if name == "xml":
        return body.count(b"<result>")
    if name == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1
    return len(json.loads(body)["results"]["bindings"])


def write_native(result: QuerySolutions, fmt: ResultFormat, limit: int) -> bytes | None:
    """The whole result as the engine serializes it, when it has at most `limit` rows and fits
    in :data:`NATIVE_CAP` bytes; None otherwise, and the result is then used up.

    Writing rows in Python costs more CPU than the engine spends answering a typical lookup, so
    this is the path of almost every query. The engine's serializer cannot stop at a row limit,
    so the rows are known only from the output: below `(limit + 1) x` the fewest bytes a row adds
    (:data:`NATIVE_SOLUTIONS`) it cannot hold more than `limit` rows; above, they are counted.
    """
    native, row_bytes = NATIVE_SOLUTIONS[fmt.name]
    proof = (limit + 1) * row_bytes - 1
    buffer = _CappedBuffer(NATIVE_CAP)
    try:
        result.serialize(buffer, native)  # type: ignore[arg-type]  # engine calls write, flush only
    except _Full:
        return None
    body = b"".join(buffer.parts)
    if len(body) <= proof or count_rows(body, fmt.name) <= limit:
        return body
    return None


def write(collected: Collected, fmt: ResultFormat, out: IO[bytes]) -> None:
    """Write a collected result in a format to a binary writer, in pieces."""
    if collected.kind == "graph":
        _write_graph(collected.rows, fmt, out)
        return
    writer = _SOLUTION_WRITERS[fmt.name]
    for piece in writer(collected):
        out.write(piece)


def _write_graph(triples: list[Triple], fmt: ResultFormat, out: IO[bytes]) -> None:
    prefixes = PREFIXES if fmt.name in {"ttl", "trig", "rdfxml"} else None
    if fmt.name in _QUAD_FORMATS:
        quads = [Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples]
        serialize(quads, out, _RDF_FORMATS[fmt.name], prefixes=prefixes)
    else:
        serialize(triples, out, _RDF_FORMATS[fmt.name], prefixes=prefixes)


# --- solutions --------------------------------------------------------------------------------

_BATCH = 256


def _batched(rows: list[Any], render: Any) -> Iterator[bytes]:
    for start in range(0, len(rows), _BATCH):
        yield "".join(render(row) for row in rows[start : start + _BATCH]).encode("utf-8")


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"unexpected term {term!r}")


def _json_solutions(collected: Collected) -> Iterator[bytes]:
    if collected.boolean is not None:
        yield json.dumps({"head": {}, "boolean": collected.boolean}).encode()
        return
    variables = collected.variables
    yield (
        '{"head":{"vars":'
        + json.dumps(variables, ensure_ascii=False, separators=(",", ":"))
        + '},"results":{"bindings":['
    ).encode("utf-8")
    first = [True]

    def render(row: Any) -> str:
        binding = {v: _json_term(row[v]) for v in variables if row[v] is not None}
        text = json.dumps(binding, ensure_ascii=False, separators=(",", ":"))
        if first[0]:
            first[0] = False
            return text
        return "," + text

    yield from _batched(collected.rows, render)
    yield b"]}}"


def _xml_term(term: Any) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (
                f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
            )
        return f"<literal>{escape(term.value)}</literal>"
    if isinstance(term, Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"unexpected term {term!r}")


def _xml_solutions(collected: Collected) -> Iterator[bytes]:
    head = '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
    if collected.boolean is not None:
        value = "true" if collected.boolean else "false"
        yield f"{head}</head><boolean>{value}</boolean></sparql>".encode()
        return
    variables = collected.variables
    head += "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
    yield (head + "</head><results>").encode("utf-8")

    def render(row: Any) -> str:
        bindings = "".join(
            f"<binding name={quoteattr(v)}>{_xml_term(row[v])}</binding>"
            for v in variables
            if row[v] is not None
        )
        return f"<result>{bindings}</result>"

    yield from _batched(collected.rows, render)
    yield b"</results></sparql>"


def _csv_value(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Triple):
        return str(term)
    return str(term.value)


def _csv_solutions(collected: Collected) -> Iterator[bytes]:
    if collected.boolean is not None:
        yield b"true\r\n" if collected.boolean else b"false\r\n"
        return
    variables = collected.variables
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(variables)
    for start in range(0, max(len(collected.rows), 1), _BATCH):
        for row in collected.rows[start : start + _BATCH]:
            writer.writerow([_csv_value(row[v]) for v in variables])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def _tsv_solutions(collected: Collected) -> Iterator[bytes]:
    if collected.boolean is not None:
        yield b"true\n" if collected.boolean else b"false\n"
        return
    variables = collected.variables
    yield ("\t".join(f"?{v}" for v in variables) + "\n").encode("utf-8")

    def render(row: Any) -> str:
        # str() of a term is its N-Triples form, with tabs and line breaks escaped.
        return "\t".join("" if row[v] is None else str(row[v]) for v in variables) + "\n"

    yield from _batched(collected.rows, render)


_SOLUTION_WRITERS = {
    "json": _json_solutions,
    "xml": _xml_solutions,
    "csv": _csv_solutions,
    "tsv": _tsv_solutions,
}
