"""A SPARQL scanner that tells, before anything runs, what a user query is and if it may run.

The embedded engine would carry out `SERVICE <url>` by fetching that URL from a query worker (an
SSRF hole). The workers have no network at all (:mod:`kll_graph.sparql.sandbox`), so a SERVICE that
got past this module would fail, not fetch; this module refuses it first, with a message that says
why, and refuses the queries that would crash or choke the engine.

It reads the text the way the engine does, which is not the way a textbook lexer does:

* The engine (Oxigraph's PEG parser) matches keywords case-insensitively *without a word
  boundary*: `SERVICESILENT<x>{}` is `SERVICE SILENT <x> {}`, and `falseSERVICE` or `1e5SERVICE`
  end a term and start a SERVICE. So every bare word is searched for `SERVICE` anywhere in it, and
  a prefixed name whose prefix holds the word counts when a `{` follows (where the engine, failing
  to read a triple, reads the keyword instead: `SERVICE:x{…}`).
* `\\uXXXX` escapes mean something only inside strings and IRIs (the engine does not expand them
  elsewhere), so strings, IRIs, comments, variables and blank node labels follow the grammar's
  terminals exactly and are the only text not searched.
* `<` is an IRI where a term may start and the less-than operator after an operand inside an
  expression. Where it could be either, and the would-be IRI holds a quote, a `#` or the word,
  the two readings could disagree on what is code from there on, so the rest of the text is
  searched whole.

One pass also counts what makes the engine recurse: the nesting of `{ ( [` and the operators
and joins (`. , ; | / && || + - * = < > ! ^`, UNION, OPTIONAL, MINUS) that build its trees. Past
a few thousand of either the engine overflows its stack and the worker dies, so a query over the
limits is refused with the limit named. The same pass tells the query form (so results can be
negotiated before the query runs), whether the query names its own dataset (`FROM`), and
recognises SPARQL Update so it can be refused with an explanation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from kll_graph.exceptions import QueryError, UpdateForbiddenError
from kll_graph.lru import ENTRY_BYTES, SizedLru

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
#: Defaults of the `max_query_depth` and `max_query_operators` settings. The engine's stack
#: overflowed at about 3,000 nested braces and 6,500 chained UNIONs or additions (measured with
#: pyoxigraph 0.5 on an 8 MiB stack; workers run queries on a larger one).
MAX_DEPTH = 100
MAX_OPERATORS = 2_000

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
            # A quote that starts no string: the engine cannot parse on, and scanning on would
            # try a string at every later quote (quadratic time on a crafted text).
            r"(?P<unterminated>['\"])",
            rf"(?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)",
            rf"(?P<var>[?$](?:[{_PN_CHARS_U}0-9])[{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)",
            rf"(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)",
            # Keywords, numbers and prefixed names as one run each, told apart afterwards: a
            # regex that tried a prefixed name first and fell back to a word would rescan the
            # rest of a long `a.a.a…` at every letter.
            rf"(?P<name>(?:[{_PN_CHARS_U}0-9:]|{_PLX})(?:[{_PN_CHARS}.:]|{_PLX})*)",
            r"(?P<other>.)",
        ]
    ),
    re.DOTALL,
)
_SERVICE = re.compile("service", re.IGNORECASE)
#: Punctuation after which `<` starts a term (an IRI), never the less-than operator.
_BEFORE_TERM = frozenset("(,=!<>&|+-*/^{};.[")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
_OPERATOR_CHARS = frozenset(".,;|/&+-*=<>!^")
_OPERATOR_WORDS = frozenset({"UNION", "OPTIONAL", "MINUS"})
_REFUSED_SERVICE = (
    "SERVICE is not allowed on this endpoint: federated queries would make the server fetch "
    "URLs on the client's behalf. Query the other endpoint yourself and combine the results, "
    "or load what you need into a local store"
)


@dataclass(frozen=True)
class QueryInfo:
    """What a query is, found without running it."""

    #: SELECT, ASK, CONSTRUCT or DESCRIBE.
    form: str
    #: Whether the query has FROM / FROM NAMED clauses of its own.
    has_dataset: bool


@dataclass
class _Scan:
    """What one pass over a query found."""

    words: list[str] = field(default_factory=list)
    #: Where the engine could read SERVICE (a character offset), or None.
    service_at: int | None = None
    #: Why: "keyword", "prefixed name" or "ambiguous <" (the guard's conservative reading).
    service_reason: str | None = None
    depth: int = 0
    deepest: int = 0
    operators: int = 0
    #: Where a quote starts that no string closes, or None.
    unterminated_at: int | None = None


def keywords(text: str) -> Iterator[str]:
    """The bare words of a query, upper-cased, outside strings, IRIs, comments and names.

    >>> list(keywords('SELECT ?service { ?s rdfs:label "SERVICE" } # SERVICE'))
    ['SELECT']
    >>> list(keywords("ask{ <http://x/SERVICE> service:x ?y }"))
    ['ASK']
    """
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "name" and ":" not in match.group():
            yield match.group().rstrip(".").upper()


class _Scanner:
    """One pass over a query: words, where SERVICE could be, nesting and operators."""

    def __init__(self, max_depth: int = MAX_DEPTH, max_operators: int = MAX_OPERATORS) -> None:
        #: Past either limit the query is refused, so scanning stops there.
        self.max_depth = max_depth
        self.max_operators = max_operators
        self.scan = _Scan()
        self.stack: list[str] = []
        #: The last significant token: its kind, or the character itself for punctuation.
        self.previous = ""
        #: Where a name whose prefix holds the word began, while the next token may be `{`.
        self.pending_pname: int | None = None
        #: The stack height of an open VALUES block (no expressions in there), and whether
        #: the next `{` opens one.
        self.values_at: int | None = None
        self.values_next = False

    def run(self, text: str) -> _Scan:
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup or "other"
            if kind in {"ws", "comment"}:
                continue
            token = match.group()
            if self.pending_pname is not None:
                if token == "{":
                    return self._found(self.pending_pname, "prefixed name")
                self.pending_pname = None
            if kind == "unterminated":
                self.scan.unterminated_at = match.start()
                return self.scan
            if kind == "name":
                if self._name(token, match.start()):
                    return self.scan
            elif kind == "iri" and self._iri(text, token, match.start()):
                return self.scan
            elif kind == "other":
                self._punctuation(token)
            self.previous = token if kind == "other" else kind
            if self.scan.deepest > self.max_depth or self.scan.operators > self.max_operators:
                return self.scan
        return self.scan

    def _found(self, at: int, reason: str) -> _Scan:
        self.scan.service_at = at
        self.scan.service_reason = reason
        return self.scan

    def _name(self, token: str, start: int) -> bool:
        """A keyword, number or prefixed name; True when it is (or may start) a SERVICE."""
        prefix, colon, _local = token.partition(":")
        if colon:
            if _SERVICE.search(prefix):
                self.pending_pname = start
            return False
        word = token.rstrip(".")
        # Dots and dashes inside a run are operators to the engine (`1-1-1`, `a.b`).
        self.scan.operators += (len(token) - len(word)) + word.count("-") + word.count(".")
        upper = word.upper()
        self.scan.words.append(upper)
        if "SERVICE" in upper:
            self._found(start, "keyword")
            return True
        if upper in _OPERATOR_WORDS and self.values_at is None:
            self.scan.operators += 1
        self.values_next = self.values_next or upper == "VALUES"
        return False

    def _iri(self, text: str, token: str, start: int) -> bool:
        """An IRI, or where `<` may be an operator, text that the engine may read as code."""
        operand_before = self.previous not in _BEFORE_TERM and self.previous != ""
        if self.stack[-1:] != ["("] or not operand_before or self.values_at is not None:
            return False
        content = token[1:-1]
        if any(c in content for c in "'#") or _SERVICE.search(content):
            found = _SERVICE.search(text, start)
            if found:
                self._found(found.start(), "ambiguous <")
                return True
        self.scan.deepest = max(self.scan.deepest, self.scan.depth + _nesting(content))
        return False

    def _punctuation(self, token: str) -> None:
        scan = self.scan
        if token in _OPENERS:
            self.stack.append(token)
            scan.depth += 1
            scan.deepest = max(scan.deepest, scan.depth)
            if token == "{" and self.values_next:
                self.values_at, self.values_next = len(self.stack), False
        elif token in _CLOSERS and self.stack:
            if self.values_at == len(self.stack):
                self.values_at = None
            self.stack.pop()
            scan.depth -= 1
        elif token in _OPERATOR_CHARS and self.values_at is None:
            scan.operators += 1


def has_dataset_clause(text: str) -> bool:
    """Whether a query names its own dataset (FROM / FROM NAMED), with no limits applied: the
    worker asks this of queries the server has already inspected.

    >>> has_dataset_clause("SELECT * FROM <http://g> { ?s ?p ?o }")
    True
    """
    return any(word.startswith("FROM") for word in keywords(text))


def pattern_start(text: str) -> int | None:
    """Where the query's own graph pattern opens: the offset just inside the `{` after the
    outermost WHERE (or, in a query without the word, the first `{` of a SELECT, ASK or
    DESCRIBE); None when there is none (`CONSTRUCT { ... }` without WHERE).

    >>> q = "CONSTRUCT { ?c ?p ?o } WHERE { ?c ?p ?o }"
    >>> q[pattern_start(q):]
    ' ?c ?p ?o }'
    >>> q = 'SELECT ?x { ?x ?p "WHERE {" }'
    >>> q[pattern_start(q):]
    ' ?x ?p "WHERE {" }'
    """
    where = False
    first: int | None = None
    form: str | None = None
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "name" and ":" not in token:
            word = token.upper()
            if form is None and word not in {"BASE", "PREFIX"}:
                form = word
            where = where or word == "WHERE"
        elif kind == "other" and token == "{":
            if where:
                return match.end()
            if first is None:
                first = match.end()
    return first if form != "CONSTRUCT" else None


def _nesting(iri: str) -> int:
    """How deep the brackets inside an IRI nest, read as code (where `<` was an operator)."""
    depth = deepest = 0
    for char in iri:
        if char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]":
            depth -= 1
    return deepest


def find_service(text: str) -> bool:
    """Whether the engine could read a `SERVICE` clause in the query (see the module doc).

    >>> find_service("SELECT * { SeRvIcE SILENT <http://127.0.0.1/> { ?s ?p ?o } }")
    True
    >>> find_service('SELECT * { BIND("\\\\u0022" AS ?a) SERVICESILENT<http://x/>{} }')
    True
    >>> find_service("SELECT * { ?s <http://ex/service> 'SERVICE' }")
    False
    """
    return service_reason(text) is not None


def service_reason(text: str) -> str | None:
    """Why the guard reads SERVICE in a query: "keyword" (a bare word holds it), "prefixed
    name" (`SERVICE:x{`), "ambiguous <" (where `<` may be an operator before a quote, `#` or the
    word: refused without knowing which reading the engine takes), or None.

    >>> service_reason("SELECT * { ?s ?p ?o FILTER(?o<'>') ?s ?p 'service' }")
    'ambiguous <'
    """
    return _Scanner().run(text).service_reason


#: Inspections of recent queries (by a digest of the text, so bounded in bytes: about 1 KiB an
#: entry however long the query); apps send the same query many times.
_INSPECTED: SizedLru[QueryInfo] = SizedLru(1 << 20, entry_bytes=ENTRY_BYTES)


def inspect_query(
    text: str, *, max_depth: int = MAX_DEPTH, max_operators: int = MAX_OPERATORS
) -> QueryInfo:
    """Check a user query before it runs: its form, its own dataset, and what is not allowed.

    Raises QueryError for an empty query, a `SERVICE` clause, nesting deeper than `max_depth`,
    more than `max_operators` operators and joins, or text with no query form, and
    UpdateForbiddenError for SPARQL Update. Syntax errors beyond these are left to the engine,
    whose message is more precise.

    >>> inspect_query("PREFIX ex: <http://ex/> SELECT * FROM <http://g> { ?s ?p ?o }")
    QueryInfo(form='SELECT', has_dataset=True)
    >>> inspect_query("construct where { ?s ?p ?o }")
    QueryInfo(form='CONSTRUCT', has_dataset=False)
    """
    key = (text, max_depth, max_operators)
    known = _INSPECTED.get(key)
    if known is not None:
        return known
    info = _inspect(text, max_depth, max_operators)
    _INSPECTED.put(key, info, 64)
    return info


def _inspect(text: str, max_depth: int, max_operators: int) -> QueryInfo:
    if not text.strip():
        raise QueryError(
            "the query is empty; send SPARQL text in the 'query' parameter", parameter="query"
        )
    scan = _Scanner(max_depth, max_operators).run(text)
    if scan.service_at is not None:
        line = text.count("\n", 0, scan.service_at) + 1
        raise QueryError(f"{_REFUSED_SERVICE} (SERVICE read at line {line})", parameter="query")
    if scan.unterminated_at is not None:
        line = text.count("\n", 0, scan.unterminated_at) + 1
        raise QueryError(
            f"SPARQL syntax error: the string that starts at line {line} is not closed (a short "
            "string ends on its line; use triple quotes for text over several lines)",
            parameter="query",
        )
    if scan.deepest > max_depth:
        raise QueryError(
            f"the query nests brackets {scan.deepest} deep, deeper than the limit of "
            f"{max_depth}; flatten it (fewer nested groups or parentheses)",
            parameter="query",
        )
    if scan.operators > max_operators:
        raise QueryError(
            f"the query has {scan.operators:,} operators and joins (. , ; | / && || + - * = "
            f"< > ! ^ UNION OPTIONAL MINUS), more than the limit of {max_operators:,}; split "
            "it, or list many values in a VALUES block",
            parameter="query",
        )
    form = next((w for w in scan.words if w not in {"BASE", "PREFIX"}), None)
    update = next((k for k in UPDATE_KEYWORDS if form and form.startswith(k)), None)
    if update:
        raise UpdateForbiddenError(f"{update} is SPARQL Update, and {UPDATE_EXPLANATION}")
    query_form = next((f for f in QUERY_FORMS if form and form.startswith(f)), None)
    if query_form is None:
        found = f"found '{form}'" if form else "found none"
        raise QueryError(
            f"SPARQL syntax error: expected SELECT, ASK, CONSTRUCT or DESCRIBE after the "
            f"prologue, {found}",
            parameter="query",
        )
    return QueryInfo(form=query_form, has_dataset=any(w.startswith("FROM") for w in scan.words))
