"""One concept, the schemes and their hierarchies, as plain dicts: the data behind the JSON API,
the HTML concept pages and the RDF views alike (no HTTP here).

Facts come from the served store through the named queries `concept_*.rq`, one concept at a time;
the labels, types and schemes of the concepts a concept links to come from the label index, which
holds them in memory. Languages: `lang` picks display labels (with fallback: Swedish, English,
any); the full label sets are always returned by language.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from kll_graph.exceptions import BadRequestError, NotFoundError
from kll_graph.labels.index import LabelIndex
from kll_graph.labels.lookup import index_for
from kll_graph.namespaces import (
    DCT,
    ESCO,
    INVERSE_MATCH,
    MATCH_PREDICATES,
    OWL,
    PAV,
    PREFIXES,
    RDF,
    RDFS,
    SKOS,
    XSD,
    compact,
    kll,
)
from kll_graph.sparql.query import default_dataset, select_named
from kll_graph.store import ServedBuild

#: Longest URI accepted as input.
MAX_URI_LENGTH = 2000
#: Most items one page of narrower or top concepts holds.
MAX_PAGE = 1000

#: The lists of linked concepts a concept document holds.
LINK_LISTS = (
    "broader",
    "narrower",
    "related",
    "essential_skills",
    "optional_skills",
    "essential_for",
    "optional_for",
    "replaced_by",
    "replaces",
)

#: What is accepted as a URI: an absolute IRI without spaces or characters IRIs forbid.
IRI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20\x7f-\x9f<>\"{}|\\^`]*$"
_IRI = re.compile(IRI_PATTERN)

#: Documentation properties returned by language.
NOTES = {
    SKOS.definition.value: "definition",
    SKOS.scopeNote.value: "scopeNote",
    SKOS.note.value: "note",
    SKOS.example.value: "example",
    SKOS.editorialNote.value: "editorialNote",
    SKOS.historyNote.value: "historyNote",
    SKOS.changeNote.value: "changeNote",
    DCT.description.value: "description",
}
LABELS = {
    SKOS.prefLabel.value: "prefLabel",
    SKOS.altLabel.value: "altLabel",
    SKOS.hiddenLabel.value: "hiddenLabel",
}
#: Provenance properties of a mapping, by their SSSOM slot names.
PROVENANCE_SLOTS = {
    PAV.authoredBy.value: "author_id",
    DCT.creator.value: "creator_id",
    DCT.created.value: "mapping_date",
    RDFS.comment.value: "comment",
    RDFS.seeAlso.value: "see_also",
}
_NUMERIC = {XSD.integer.value, XSD.decimal.value, XSD.double.value, XSD.float.value, XSD.int.value}

#: JSON-LD context of a concept document: the SKOS keys map to SKOS, `uri` is the node id.
CONTEXT: dict[str, Any] = {
    "skos": str(SKOS),
    "dct": str(DCT),
    "owl": str(OWL),
    "esco": str(ESCO),
    "uri": "@id",
    "types": {"@id": "@type", "@container": "@set"},
    "label": {"@id": RDFS.label.value},
    "prefLabel": {"@id": "skos:prefLabel", "@container": "@language"},
    "altLabel": {"@id": "skos:altLabel", "@container": "@language"},
    "hiddenLabel": {"@id": "skos:hiddenLabel", "@container": "@language"},
    "definition": {"@id": "skos:definition", "@container": "@language"},
    "scopeNote": {"@id": "skos:scopeNote", "@container": "@language"},
    "description": {"@id": "dct:description", "@container": "@language"},
    "schemes": {"@id": "skos:inScheme", "@container": "@set"},
    "broader": {"@id": "skos:broader", "@container": "@set"},
    "narrower": {"@id": "skos:narrower", "@container": "@set"},
    "related": {"@id": "skos:related", "@container": "@set"},
    "essential_skills": {"@id": "esco:relatedEssentialSkill", "@container": "@set"},
    "optional_skills": {"@id": "esco:relatedOptionalSkill", "@container": "@set"},
    "replaced_by": {"@id": "dct:isReplacedBy", "@container": "@set"},
    "replaces": {"@id": "dct:replaces", "@container": "@set"},
    "deprecated": {"@id": "owl:deprecated"},
}


def parse_uri(value: str | None, parameter: str = "uri") -> NamedNode:
    """A URI given by a client as a NamedNode, or a BadRequestError saying what is wrong
    (NotFoundError for text that has the URI syntax the API documents but that no IRI can be)."""
    if not value:
        raise BadRequestError(f"'{parameter}' is required: the concept URI", parameter=parameter)
    if len(value) > MAX_URI_LENGTH:
        raise BadRequestError(
            f"'{parameter}' is longer than {MAX_URI_LENGTH} characters", parameter=parameter
        )
    if not _IRI.match(value):
        raise BadRequestError(
            f"'{parameter}' is not an absolute URI: {value[:100]!r}", parameter=parameter
        )
    try:
        return NamedNode(value)
    except ValueError:
        # it looks like a URI but breaks a finer IRI rule: no concept can have it
        raise NotFoundError(f"no concept {value[:200]!r} in the served store") from None


def _page(offset: int, limit: int) -> None:
    if offset < 0:
        raise BadRequestError("'offset' must be 0 or more", parameter="offset")
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequestError(f"'limit' must be between 1 and {MAX_PAGE}", parameter="limit")


def _literal_value(term: Literal) -> Any:
    if term.datatype and term.datatype.value in _NUMERIC:
        try:
            number = float(term.value)
        except ValueError:
            return term.value
        return int(number) if number.is_integer() else number
    if term.datatype and term.datatype.value == XSD.boolean.value:
        return term.value.strip().lower() in {"true", "1"}
    return term.value


def _value(term: Any, prefixes: dict[str, str]) -> Any:
    if isinstance(term, Literal):
        return _literal_value(term)
    if isinstance(term, NamedNode):
        return compact(term.value, prefixes)
    return str(term)


class _Links:
    """Concepts linked to the one being described, kept as sets of URIs and shown via the index."""

    def __init__(self, index: LabelIndex, lang: str | None) -> None:
        self.index = index
        self.lang = lang
        self.sets: dict[str, set[str]] = defaultdict(set)

    def add(self, name: str, uri: str) -> None:
        self.sets[name].add(uri)

    def listed(self, name: str) -> list[dict[str, Any]]:
        items = [self.index.brief(uri, self.lang) for uri in self.sets.get(name, ())]
        return sorted(items, key=lambda b: ((b["label"] or "").casefold(), b["uri"]))


def concept(served: ServedBuild, uri: str, lang: str | None = None) -> dict[str, Any]:
    """Everything about one concept as a plain dict (NotFoundError when the store has no such).

    Keys: uri, label, prefLabel/altLabel/hiddenLabel (by language), definition and other notes
    (by language), notations, types, type, schemes, top_concept_of, broader, narrower, related,
    mappings (with provenance and the graph stating them), essential/optional skills and the
    occupations needing a skill, substitutability with percentages, deprecated, replaced_by,
    replaces, not_current and last_seen (a concept of an older release only: the release that
    last held it), jobtech_id, legacy_ids, other statements, and a JSON-LD `@context`.
    """
    node = parse_uri(uri)
    index = index_for(served)
    if lang is not None:
        lang = index.language(lang)
    k = kll(served.manifest.base_iri)
    prefixes = {**PREFIXES, "kll": str(k)}
    rows: list[Any] = list(select_named(served, "concept_outgoing", c=node))
    elsewhere = None
    if not rows:
        rows, elsewhere = _in_other_releases(served, node)
    if not rows:
        raise NotFoundError(f"no concept {node.value} in the served store")
    doc = _document(node.value, index, lang)
    links = _Links(index, lang)
    _outgoing(doc, rows, links, k, prefixes, index, lang)
    _incoming(served, node, links, k)
    doc["mappings"] = _mappings(served, node, index, lang, prefixes)
    if elsewhere is not None:  # the label index holds the default graph's concepts only
        doc["not_current"], doc["last_seen"] = True, elsewhere
        if doc["label"] is None and doc["prefLabel"]:
            doc["label"] = index.pick(doc["prefLabel"], lang)
    _last_seen(doc, served)
    doc["substitutability"] = _substitutability(served, node, k, index, lang)
    for name in LINK_LISTS:
        doc[name] = links.listed(name)
    doc["narrower_count"] = len(doc["narrower"])
    return doc


def _document(uri: str, index: LabelIndex, lang: str | None) -> dict[str, Any]:
    number = index.concept_number(uri)
    return {
        "@context": CONTEXT,
        "uri": uri,
        "label": index.label(number, lang) if number is not None else None,
        "lang": lang,
        "prefLabel": {},
        "altLabel": {},
        "hiddenLabel": {},
        "definition": {},
        "notes": {},
        "notations": [],
        "types": [],
        "type": index.type_info(number, lang) if number is not None else None,
        "schemes": [],
        "top_concept_of": [],
        "deprecated": False,
        "not_current": False,
        "last_seen": None,
        "jobtech_id": None,
        "legacy_ids": [],
        "other": [],
    }


def _outgoing(
    doc: dict[str, Any],
    rows: Iterable[Any],
    links: _Links,
    k: Any,
    prefixes: dict[str, str],
    index: LabelIndex,
    lang: str | None,
) -> None:
    relations = {
        SKOS.broader.value: "broader",
        SKOS.narrower.value: "narrower",
        SKOS.related.value: "related",
        ESCO.relatedEssentialSkill.value: "essential_skills",
        ESCO.relatedOptionalSkill.value: "optional_skills",
        k.essentialSkill.value: "essential_skills",
        k.optionalSkill.value: "optional_skills",
        DCT.isReplacedBy.value: "replaced_by",
        DCT.replaces.value: "replaces",
    }
    skipped = {SKOS[m].value for m in MATCH_PREDICATES} | {k.substitutes.value}
    notations: dict[str, str] = {}
    schemes: set[str] = set()
    tops: set[str] = set()
    for row in rows:
        p, o = row["p"].value, row["o"]
        if p in LABELS and isinstance(o, Literal):
            _add_label(doc, LABELS[p], o)
        elif p in NOTES and isinstance(o, Literal):
            target = (
                doc["definition"]
                if NOTES[p] == "definition"
                else doc["notes"].setdefault(NOTES[p], {})
            )
            target.setdefault(o.language or "", o.value)
        elif p == RDF.type.value and isinstance(o, NamedNode):
            doc["types"].append(o.value)
        elif p == SKOS.notation.value and isinstance(o, Literal):
            datatype = o.datatype.value if o.datatype else ""
            if datatype == XSD.string.value:
                datatype = ""
            if not notations.get(o.value):
                notations[o.value] = datatype
        elif p == SKOS.inScheme.value and isinstance(o, NamedNode):
            schemes.add(o.value)
        elif p == SKOS.topConceptOf.value and isinstance(o, NamedNode):
            tops.add(o.value)
        elif p in relations and isinstance(o, NamedNode):
            links.add(relations[p], o.value)
        elif p == OWL.deprecated.value and isinstance(o, Literal):
            doc["deprecated"] = o.value.strip().lower() in {"true", "1"}
        elif p == k.jobtechId.value and isinstance(o, Literal):
            doc["jobtech_id"] = o.value
        elif p == k.legacyAmsId.value and isinstance(o, Literal):
            doc["legacy_ids"].append(o.value)
        elif p == k.lastSeenIn.value and isinstance(o, NamedNode):
            doc["not_current"] = True
            doc["last_seen"] = max(o.value, doc["last_seen"] or "")
        elif p == k.conceptType.value or p in skipped:
            continue
        elif not isinstance(o, BlankNode):
            doc["other"].append(_other(p, o, prefixes))
    doc["types"].sort()
    doc["legacy_ids"].sort()
    doc["other"].sort(key=lambda x: (x["predicate"], str(x["value"])))
    doc["notations"] = _notations(notations, index, lang)
    doc["schemes"] = [_scheme(index, s, lang) for s in sorted(schemes)]
    doc["top_concept_of"] = [_scheme(index, s, lang) for s in sorted(tops)]


def _in_other_releases(
    served: ServedBuild, node: NamedNode
) -> tuple[list[dict[str, Any]], str | None]:
    """The statements about a concept that only releases outside the default graph hold (an
    older release of a source with several, or a newer one not yet made current), and the last
    of those releases, in configuration order, that says what it is."""
    shown = default_dataset(served)
    if shown is None:
        return [], None
    default = {g.value for g in shown if isinstance(g, NamedNode)}
    rows: list[dict[str, Any]] = []
    last = None
    for graph in served.manifest.graphs:
        if graph.iri in default:
            continue
        quads = list(served.store.quads_for_pattern(node, None, None, NamedNode(graph.iri)))
        rows += [{"p": q.predicate, "o": q.object} for q in quads]
        if any(q.predicate in (RDF.type, SKOS.prefLabel) for q in quads):
            last = graph.iri
    return rows, last


def _last_seen(doc: dict[str, Any], served: ServedBuild) -> None:
    """The release that last held a concept of older releases only, named from the manifest."""
    graph = doc["last_seen"]
    if graph is None:
        return
    info = {g.iri: g for g in served.manifest.graphs}.get(graph)
    doc["last_seen"] = {
        "graph": graph,
        "source": info.source if info else None,
        "version": info.version if info else None,
        "title": info.title if info else None,
    }


def _add_label(doc: dict[str, Any], key: str, literal: Literal) -> None:
    tag = literal.language or ""
    if key == "prefLabel":
        doc[key].setdefault(tag, literal.value)
    else:
        values = doc[key].setdefault(tag, [])
        if literal.value not in values:
            values.append(literal.value)
            values.sort(key=str.casefold)


def _other(predicate: str, term: Any, prefixes: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {"predicate": compact(predicate, prefixes)}
    if isinstance(term, NamedNode):
        item["value"] = term.value
        item["kind"] = "uri"
    else:
        item["value"] = _literal_value(term)
        item["kind"] = "literal"
        if term.language:
            item["lang"] = term.language
    return item


def _notations(
    notations: dict[str, str], index: LabelIndex, lang: str | None
) -> list[dict[str, Any]]:
    systems = {s.iri: s for s in index.systems}
    out = []
    for value, datatype in sorted(notations.items()):
        system = systems.get(datatype)
        out.append(
            {
                "value": value,
                "system": system.id if system else None,
                "system_label": index.pick(system.labels, lang) if system else None,
                "datatype": datatype or None,
            }
        )
    return out


def _scheme(index: LabelIndex, uri: str, lang: str | None) -> dict[str, Any]:
    number = index.scheme_by_id.get(uri)
    if number is None:
        return {"uri": uri, "id": None, "label": None, "vocabulary": None}
    return index.scheme_info(number, lang)


def _incoming(served: ServedBuild, node: NamedNode, links: _Links, k: Any) -> None:
    inverse = {
        SKOS.broader.value: "narrower",
        SKOS.narrower.value: "broader",
        SKOS.related.value: "related",
        ESCO.relatedEssentialSkill.value: "essential_for",
        ESCO.relatedOptionalSkill.value: "optional_for",
        k.essentialSkill.value: "essential_for",
        k.optionalSkill.value: "optional_for",
        DCT.isReplacedBy.value: "replaces",
        DCT.replaces.value: "replaced_by",
    }
    # One lookup per relation shown, not a scan of every statement pointing at the node: a
    # scheme is the object of tens of thousands (`skos:inScheme`), which took a second to skip.
    for predicate, name in inverse.items():
        for row in select_named(served, "concept_incoming", c=node, p=NamedNode(predicate)):
            links.add(name, row["s"].value)


def _mappings(
    served: ServedBuild,
    node: NamedNode,
    index: LabelIndex,
    lang: str | None,
    prefixes: dict[str, str],
) -> list[dict[str, Any]]:
    graphs = {g.iri: g for g in served.manifest.graphs}
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in select_named(served, "concept_mappings", c=node):
        direction, other, graph = row["direction"].value, row["other"], row["g"].value
        if not isinstance(other, NamedNode):
            continue
        name = row["p"].value.rsplit("#", 1)[-1]
        shown = name if direction == "outgoing" else INVERSE_MATCH[name]
        info = graphs.get(graph)
        found[
            (
                graph,
                node.value if direction == "outgoing" else other.value,
                name,
                other.value if direction == "outgoing" else node.value,
            )
        ] = {
            "predicate": f"skos:{shown}",
            "stated": f"skos:{name}",
            "direction": direction,
            **index.brief(other.value, lang),
            "graph": graph,
            "source": info.source if info else None,
            "graph_title": info.title if info else None,
            "provenance": {},
        }
    for row in select_named(served, "concept_mapping_provenance", c=node):
        name = row["p"].value.rsplit("#", 1)[-1]
        key = (row["g"].value, row["source"].value, name, row["target"].value)
        if key in found:
            slot = PROVENANCE_SLOTS.get(row["key"].value) or row["key"].value
            slot = slot.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            _add_provenance(found[key]["provenance"], slot, _value(row["value"], prefixes))
    order = {m: i for i, m in enumerate(MATCH_PREDICATES)}
    return sorted(
        found.values(),
        key=lambda m: (
            order[m["predicate"][5:]],
            m["direction"],
            (m["label"] or "").casefold(),
            m["uri"],
            m["graph"],
        ),
    )


def _add_provenance(provenance: dict[str, Any], slot: str, value: Any) -> None:
    if slot not in provenance:
        provenance[slot] = value
    elif provenance[slot] != value:
        current = provenance[slot]
        values = current if isinstance(current, list) else [current]
        if value not in values:
            provenance[slot] = sorted([*values, value], key=str)


def _substitutability(
    served: ServedBuild, node: NamedNode, k: Any, index: LabelIndex, lang: str | None
) -> dict[str, list[dict[str, Any]]]:
    """Whom the occupation can substitute and who can substitute it, with percentages."""
    out: dict[str, dict[str, dict[str, Any]]] = {"can_substitute": {}, "substituted_by": {}}
    rows = select_named(
        served,
        "concept_substitutability",
        c=node,
        substitute=k.substitute,
        substituted=k.substituted,
        percentage_p=k.substitutabilityPercentage,
    )
    for row in rows:
        other = row["other"]
        if not isinstance(other, NamedNode):
            continue
        side = "can_substitute" if row["role"].value == "substitute" else "substituted_by"
        pct = _literal_value(row["percentage"]) if row["percentage"] is not None else None
        item = out[side].setdefault(
            other.value, {**index.brief(other.value, lang), "percentage": pct}
        )
        if pct is not None and (item["percentage"] is None or pct > item["percentage"]):
            item["percentage"] = pct
    return {
        side: sorted(
            items.values(),
            key=lambda i: (-(i["percentage"] or 0), (i["label"] or "").casefold(), i["uri"]),
        )
        for side, items in out.items()
    }


# --- schemes and hierarchies ----------------------------------------------------------------------


def schemes(served: ServedBuild, lang: str | None = None) -> list[dict[str, Any]]:
    """Every concept scheme with concepts in the store: id, URI, labels, vocabulary, size."""
    index = index_for(served)
    if lang is not None:
        lang = index.language(lang)
    out = []
    for number, info in enumerate(index.schemes):
        out.append(
            {
                **index.scheme_info(number, lang),
                "labels": {tag or "und": text for tag, text in info.labels.items()},
                "concepts": info.count,
            }
        )
    return sorted(out, key=lambda s: (s["vocabulary"] or "", s["id"]))


def find_scheme(index: LabelIndex, scheme: str | None) -> int:
    """A scheme by id or URI (NotFoundError when there is none; BadRequestError when blank)."""
    if not scheme or not scheme.strip():
        raise BadRequestError("'scheme' is required: a scheme id or URI", parameter="scheme")
    number = index.scheme_by_id.get(scheme)
    if number is None:
        raise NotFoundError(f"no concept scheme {scheme[:200]!r}; GET /api/v1/schemes lists them")
    return number


def _items(
    index: LabelIndex, uris: Iterable[str], lang: str | None, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    items = sorted(
        (index.brief(uri, lang) for uri in set(uris)),
        key=lambda b: ((b["label"] or "").casefold(), b["uri"]),
    )
    page = items[offset : offset + limit]
    for item in page:
        number = index.concept_number(item["uri"])
        item["narrower_count"] = int(index.narrower_count[number]) if number is not None else 0
    return len(items), page


def top_concepts(
    served: ServedBuild,
    scheme: str,
    lang: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """One page of a scheme's top concepts (those it names, else its members with no broader
    concept in the scheme), sorted by label."""
    _page(offset, limit)
    index = index_for(served)
    if lang is not None:
        lang = index.language(lang)
    number = find_scheme(index, scheme)
    node = NamedNode(index.schemes[number].uri)
    uris = [row["c"].value for row in select_named(served, "concept_top", scheme=node)]
    stated = bool(uris)
    if not stated:
        uris = [row["c"].value for row in select_named(served, "concept_roots", scheme=node)]
    total, items = _items(index, (u for u in uris if not u.startswith("_:")), lang, offset, limit)
    return {
        "scheme": index.scheme_info(number, lang),
        "stated": stated,
        "total": total,
        "offset": offset,
        "limit": limit,
        "items": items,
    }


def narrower(
    served: ServedBuild,
    uri: str,
    lang: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """One page of a concept's narrower concepts, sorted by label, each with its own count of
    narrower concepts (so a tree knows which nodes open)."""
    _page(offset, limit)
    node = parse_uri(uri)
    index = index_for(served)
    if lang is not None:
        lang = index.language(lang)
    if index.concept_number(node.value) is None and not any(
        True for _ in select_named(served, "concept_outgoing", c=node)
    ):
        raise NotFoundError(f"no concept {node.value} in the served store")
    children = [row["child"].value for row in select_named(served, "concept_children", c=node)]
    total, items = _items(index, children, lang, offset, limit)
    return {
        "concept": index.brief(node.value, lang),
        "total": total,
        "offset": offset,
        "limit": limit,
        "items": items,
    }
