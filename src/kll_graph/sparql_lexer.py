"""A SPARQL tokenizer that tells, before anything runs, what a user query is and if it may run.

The embedded engine would carry out `SERVICE <url>` by fetching that URL from the server (an SSRF
hole), so such a query must be refused before it reaches the engine. Searching the raw text for
"service" would refuse harmless queries (a label or IRI that contains the word) and miss nothing,
but the inverse mistake is the dangerous one: treating text as a string, IRI or comment when the
engine sees code. The token rules here therefore follow the SPARQL 1.1 grammar's terminals for
strings, IRIs (with `\\u` escapes), comments, variables, prefixed names and blank nodes exactly, and
everything else is a keyword or punctuation.

The same pass tells the query form (so results can be negotiated before the query runs) and
whether the query names its own dataset (`FROM`), and recognises SPARQL Update so it can be refused
with an explanation rather than a parser error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from kll_graph.exceptions import QueryError, UpdateForbiddenError

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
#: Where the rules for changing data are explained to someone whose update was refused.
UPDATE_EXPLANATION = (
    "this SPARQL endpoint is read-only. The graph changes only through a new build: edit the "
    "sources or the SSSOM mapping files under mappings/ (or accept mappings in the review UI) "
    "and run `kll-graph build`; the new store replaces the served one atomically"
)

_ECHAR = r"\\[tbnrf\\\"']"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_LOCAL = (
    f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)

_TOKEN = re.compile(
    "|".join(
        [
            r"(?P<ws>[ \t\r\n]+)",
            r"(?P<comment>#[^\r\n]*)",
            rf"(?P<string>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''"
            rf'|"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*"""'
            rf"|'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'"
            rf'|"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*")',
            rf"(?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)",
            rf"(?P<var>[?$](?:[{_PN_CHARS_U}0-9])[{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)",
            rf"(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)",
            rf"(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)",
            r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<other>.)",
        ]
    ),
    re.DOTALL,
)


@dataclass(frozen=True)
class QueryInfo:
    """What a query is, found without running it."""

    #: SELECT, ASK, CONSTRUCT or DESCRIBE.
    form: str
    #: Whether the query has FROM / FROM NAMED clauses of its own.
    has_dataset: bool


def keywords(text: str) -> Iterator[str]:
    """The bare words of a query, upper-cased, outside strings, IRIs, comments and names.

    >>> list(keywords('SELECT ?service { ?s rdfs:label "SERVICE" } # SERVICE'))
    ['SELECT']
    >>> list(keywords("ask{ <http://x/SERVICE> service:x ?y }"))
    ['ASK']
    """
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "word":
            yield match.group().upper()


def find_service(text: str) -> bool:
    """Whether the query has a `SERVICE` clause (in any case, with or without SILENT).

    The tokenizer decides; where the word occurs but the tokenizer found no SERVICE keyword, an
    independent parser (rdflib's) is asked for a second opinion, and text it cannot parse counts
    as having SERVICE: a refusal is the safe mistake.

    >>> find_service("SELECT * { SeRvIcE SILENT <http://127.0.0.1/> { ?s ?p ?o } }")
    True
    >>> find_service("SELECT * { ?s <http://ex/service> 'SERVICE' }")
    False
    """
    if "SERVICE" in keywords(text):
        return True
    if "service" not in text.lower():
        return False
    return _rdflib_sees_service(text)


def _rdflib_sees_service(text: str) -> bool:
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        tree = parseQuery(text)
    except Exception:  # any failure to parse: cannot show the query is free of SERVICE
        return True

    def walk(node: object) -> bool:
        if isinstance(node, CompValue):
            return node.name == "ServiceGraphPattern" or any(walk(v) for v in node.values())
        if isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
            return any(walk(v) for v in node)  # type: ignore[attr-defined]
        return False

    return walk(tree)


@functools.lru_cache(maxsize=2048)
def inspect_query(text: str) -> QueryInfo:
    """Check a user query before it runs: its form, its own dataset, and what is not allowed.

    Raises QueryError for an empty query, a `SERVICE` clause or text with no query form, and
    UpdateForbiddenError for SPARQL Update. Syntax errors beyond these are left to the engine,
    whose message is more precise.

    >>> inspect_query("PREFIX ex: <http://ex/> SELECT * FROM <http://g> { ?s ?p ?o }")
    QueryInfo(form='SELECT', has_dataset=True)
    >>> inspect_query("construct where { ?s ?p ?o }")
    QueryInfo(form='CONSTRUCT', has_dataset=False)
    """
    if not text.strip():
        raise QueryError(
            "the query is empty; send SPARQL text in the 'query' parameter", parameter="query"
        )
    words = list(keywords(text))
    if "SERVICE" in words or find_service(text):
        raise QueryError(
            "SERVICE is not allowed on this endpoint: federated queries would make the server "
            "fetch URLs on the client's behalf. Query the other endpoint yourself and combine "
            "the results, or load what you need into a local store",
            parameter="query",
        )
    form = next((w for w in words if w not in {"BASE", "PREFIX"}), None)
    if form in UPDATE_KEYWORDS:
        raise UpdateForbiddenError(f"{form} is SPARQL Update, and {UPDATE_EXPLANATION}")
    if form not in QUERY_FORMS:
        found = f"found '{form}'" if form else "found none"
        raise QueryError(
            f"SPARQL syntax error: expected SELECT, ASK, CONSTRUCT or DESCRIBE after the "
            f"prologue, {found}",
            parameter="query",
        )
    return QueryInfo(form=form, has_dataset="FROM" in words)
