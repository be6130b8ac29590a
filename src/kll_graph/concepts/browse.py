"""What the HTML lookup pages show, as plain dicts: the home page, search results with facets,
the concept page, schemes, the about page and the suggestions of a "not found" page.

Every function here builds on the same data functions as the JSON API
(:mod:`kll_graph.concepts.lookup` and :mod:`kll_graph.labels`), so a page and its
machine-readable twin always agree; this module only adds what a person needs on top: the paths up
the hierarchy, paging of long lists, mappings grouped by predicate, links to the sources, and
labels in the interface language. No HTTP here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from pyoxigraph import Literal, NamedNode

from kll_graph import labels
from kll_graph.concepts import lookup as concepts
from kll_graph.concepts.rdfdoc import FORMATS
from kll_graph.exceptions import BadRequestError, NotFoundError
from kll_graph.labels.index import LabelIndex
from kll_graph.labels.lookup import index_for
from kll_graph.namespaces import ESCO_DATA, JOBTECH_CONCEPT, MATCH_PREDICATES
from kll_graph.sparql.query import select_named
from kll_graph.store import ServedBuild

#: Items per page of a long list on a concept page (narrower concepts, occupations needing a
#: skill ...), of search results and of a scheme's top concepts.
LIST_PAGE = 50
SEARCH_PAGE = 20
SCHEME_PAGE = 100
#: Page numbers above this are refused as absurd (a 400), whatever the list's size.
MAX_PAGE_NUMBER = 10_000
#: Most paths up the hierarchy shown, and the deepest path followed (guards against cycles).
MAX_PATHS = 12
MAX_DEPTH = 25
#: Lists of a concept page that are paged, in the order the page shows them.
PAGED_LISTS = (
    "narrower",
    "related",
    "essential_skills",
    "optional_skills",
    "essential_for",
    "optional_for",
)
VOCABULARY_NAMES = {
    "jobtech": "JobTech Taxonomy",
    "jobtech-legacy": "JobTech Taxonomy 2020 (legacy ids)",
    "esco": "ESCO",
}
ESCO_PORTAL = "https://esco.ec.europa.eu/{lang}/classification/{kind}?uri={uri}"
JOBTECH_ATLAS = "https://atlas.jobtechdev.se/taxonomy/{id}"
MATCH_ORDER = tuple(f"skos:{p}" for p in MATCH_PREDICATES)

T = TypeVar("T")


# --- small shared pieces ----------------------------------------------------------------------


def page_number(raw: str | None, parameter: str = "page") -> int:
    """A page number given by a user (1 when absent), or a BadRequestError saying what is wrong.

    >>> page_number(None), page_number("3")
    (1, 3)
    >>> page_number("0")
    Traceback (most recent call last):
    ...
    kll_graph.exceptions.BadRequestError: 'page' must be a whole number from 1 to 10000, got '0'
    """
    if raw is None or not raw.strip():
        return 1
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_NUMBER:
        raise BadRequestError(
            f"'{parameter}' must be a whole number from 1 to {MAX_PAGE_NUMBER}, got {raw[:30]!r}",
            parameter=parameter,
        )
    return int(text)


def paged(items: Sequence[T], page: int, size: int, what: str, parameter: str) -> dict[str, Any]:
    """One page of a list with what a pager needs; a page past the end is a NotFoundError.

    >>> p = paged(list(range(120)), 3, 50, "results", "page")
    >>> p["first"], p["last"], p["pages"], p["total"], len(p["items"])
    (101, 120, 3, 120, 20)
    """
    total = len(items)
    pages = max(1, math.ceil(total / size))
    if page > pages:
        raise NotFoundError(
            f"there is no page {page} of the {what}: it has {pages} page(s) ({total} items); "
            f"'{parameter}' must be 1 to {pages}"
        )
    start = (page - 1) * size
    chunk = list(items[start : start + size])
    return {
        "items": chunk,
        "total": total,
        "page": page,
        "pages": pages,
        "size": size,
        "first": start + 1 if chunk else 0,
        "last": start + len(chunk),
        "parameter": parameter,
    }


def vocabulary_name(vocabulary: str | None) -> str:
    """The display name of a vocabulary id ("jobtech" -> "JobTech Taxonomy")."""
    if not vocabulary:
        return "–"
    return VOCABULARY_NAMES.get(vocabulary, vocabulary)


def build_info(served: ServedBuild) -> dict[str, Any]:
    """Build id, start date (YYYY-MM-DD HH:MM UTC) and whether the bundled sample is served."""
    manifest = served.manifest
    return {
        "id": manifest.build_id,
        "date": manifest.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "sample": manifest.sample,
        "triples": manifest.triples,
    }


# --- home and schemes -------------------------------------------------------------------------


def vocabularies(served: ServedBuild, lang: str) -> list[dict[str, Any]]:
    """The vocabularies of the store with their concept counts and their concept schemes."""
    index = index_for(served)
    schemes = concepts.schemes(served, lang)
    counts = served.memo("browse.vocabulary-counts", lambda: _vocabulary_counts(index))
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for scheme in schemes:
        grouped[scheme["vocabulary"] or ""].append(scheme)
    out = []
    for vocabulary, members in grouped.items():
        out.append(
            {
                "id": vocabulary or None,
                "label": vocabulary_name(vocabulary),
                "concepts": counts.get(vocabulary, 0),
                "schemes": sorted(members, key=lambda s: (s["label"] or "").casefold()),
            }
        )
    return sorted(out, key=lambda v: (-v["concepts"], v["label"]))


def _vocabulary_counts(index: LabelIndex) -> dict[str, int]:
    """Concepts per vocabulary, each counted once by its main scheme."""
    counts: dict[str, int] = defaultdict(int)
    for scheme in index.concept_scheme.tolist():
        vocabulary = index.schemes[scheme].vocabulary if scheme >= 0 else None
        counts[vocabulary or ""] += 1
    return dict(counts)


def home(served: ServedBuild, lang: str) -> dict[str, Any]:
    """The home page: the vocabularies with their sizes, and the build."""
    index = index_for(served)
    return {
        "vocabularies": vocabularies(served, lang),
        "concepts": index.concept_count,
        "build": build_info(served),
    }


def scheme_page(served: ServedBuild, scheme: str, lang: str, page: int) -> dict[str, Any]:
    """A scheme with one page of its top concepts (each saying whether it has narrower ones)."""
    index = index_for(served)
    number = concepts.find_scheme(index, scheme)
    info = index.schemes[number]
    first = concepts.top_concepts(served, info.id, lang, offset=0, limit=1)
    pages = max(1, math.ceil(first["total"] / SCHEME_PAGE))
    if page > pages:
        raise NotFoundError(
            f"there is no page {page} of the top concepts of {info.id}: it has {pages} page(s)"
        )
    top = concepts.top_concepts(
        served, info.id, lang, offset=(page - 1) * SCHEME_PAGE, limit=SCHEME_PAGE
    )
    return {
        "scheme": {**top["scheme"], "concepts": info.count, "labels": info.labels},
        "vocabulary_label": vocabulary_name(info.vocabulary),
        "stated": top["stated"],
        "top": {
            "items": top["items"],
            "total": top["total"],
            "page": page,
            "pages": pages,
            "first": (page - 1) * SCHEME_PAGE + 1 if top["items"] else 0,
            "last": (page - 1) * SCHEME_PAGE + len(top["items"]),
            "parameter": "page",
        },
    }


# --- search -----------------------------------------------------------------------------------


def search_page(
    served: ServedBuild,
    q: str | None,
    lang: str,
    *,
    schemes: Sequence[str] = (),
    types: Sequence[str] = (),
    page: int = 1,
    include_deprecated: bool = False,
) -> dict[str, Any]:
    """One page of search results with facets, labelled in the interface language.

    Matching looks at labels in every language (a Swedish word finds Swedish labels whatever
    the interface language); only the display labels follow `lang`, with fallback.
    """
    index = index_for(served)
    if q is None or not q.strip():
        return {"query": "", "total": 0, "results": [], "facets": None, "pager": None}
    offset = (page - 1) * SEARCH_PAGE
    if offset > labels.MAX_OFFSET:
        raise BadRequestError(
            f"'page' {page} is past the last page that can be shown "
            f"({labels.MAX_OFFSET // SEARCH_PAGE + 1}); narrow the search with filters",
            parameter="page",
        )
    found = labels.search(
        index,
        q,
        schemes=schemes,
        types=types,
        offset=offset,
        limit=SEARCH_PAGE,
        include_deprecated=include_deprecated,
    )
    pages = max(1, math.ceil(found["total"] / SEARCH_PAGE))
    if page > pages:
        raise NotFoundError(
            f"there is no page {page} of the results for {q[:80]!r}: there are {pages} page(s)"
        )
    results = [_relabel_hit(index, hit, lang) for hit in found["results"]]
    return {
        "query": found["query"],
        "total": found["total"],
        "results": results,
        "facets": _relabel_facets(index, found["facets"], lang),
        "pager": {
            "page": page,
            "pages": pages,
            "total": found["total"],
            "first": offset + 1 if results else 0,
            "last": offset + len(results),
            "parameter": "page",
        },
    }


def suggest(served: ServedBuild, q: str | None, lang: str, limit: int = 8) -> dict[str, Any]:
    """Autocomplete for the search box: :func:`labels.autocomplete` over labels in every
    language, labelled in the interface language, each hit naming its vocabulary and type."""
    index = index_for(served)
    found = labels.autocomplete(index, q, limit=limit)
    return {
        "query": found["query"],
        "results": [_relabel_hit(index, hit, lang) for hit in found["results"]],
    }


def _relabel_hit(index: LabelIndex, hit: dict[str, Any], lang: str) -> dict[str, Any]:
    number = index.concept_number(hit["uri"])
    if number is None:
        return hit
    out = dict(hit)
    out["label"] = index.label(number, lang, hit["matched"]["lang"])
    out["type"] = index.type_info(number, lang)
    if hit["scheme"]:
        out["scheme"] = index.scheme_info(index.scheme_by_id[hit["scheme"]["id"]], lang)
        out["scheme"]["vocabulary_label"] = vocabulary_name(out["scheme"]["vocabulary"])
    if hit["broader"]:
        out["broader"] = index.brief(hit["broader"]["uri"], lang)
    out["replaced_by"] = [index.brief(r["uri"], lang) for r in hit["replaced_by"]]
    return out


def _relabel_facets(index: LabelIndex, facets: dict[str, Any], lang: str) -> dict[str, Any]:
    schemes = []
    for item in facets["schemes"]:
        info = index.scheme_info(index.scheme_by_id[item["id"]], lang)
        info["vocabulary_label"] = vocabulary_name(info["vocabulary"])
        schemes.append({**info, "count": item["count"]})
    types = []
    for item in facets["types"]:
        type_info = index.types[index.type_by_id[item["id"]]]
        label = index.pick(type_info.labels, lang)
        types.append({"id": item["id"], "label": label, "count": item["count"]})
    return {"schemes": schemes, "types": types}


# --- the concept page -------------------------------------------------------------------------


def successor(served: ServedBuild, uri: str) -> str | None:
    """Where the page of a deprecated concept sends a reader: the one current concept that
    replaces it (through a chain of replacements). None for a concept that is not deprecated, or
    whose replacements are none, several or end in a cycle: its own page says what is known."""
    index = index_for(served)
    number = index.position.get(uri)
    if number is None or not index.concept_deprecated[number]:
        return None
    found = index.successors(number)
    return index.uris[found[0]] if len(found) == 1 else None


def replaced_brief(served: ServedBuild, old: str, uri: str, lang: str) -> dict[str, Any] | None:
    """The deprecated concept a reader was sent from, as a link, when it really is replaced by
    `uri` (a `replaced=` parameter that says otherwise is ignored)."""
    return index_for(served).brief(old, lang) if successor(served, old) == uri else None


def concept_page(
    served: ServedBuild, uri: str, lang: str, pages: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Everything the concept page shows: the concept document of :func:`concepts.concept`, plus
    the paths up the hierarchy, its long lists paged, mappings grouped by predicate, links to the
    source and to the same data in RDF and JSON, and a SPARQL query about it."""
    pages = pages or {}
    doc = concepts.concept(served, uri, lang)
    index = index_for(served)
    view: dict[str, Any] = {
        "doc": doc,
        "label_in_lang": lang in doc["prefLabel"],
        "paths": hierarchy_paths(served, doc["uri"], lang),
        "lists": {
            name: paged(doc[name], pages.get(name, 1), LIST_PAGE, name, f"{name}_page")
            for name in PAGED_LISTS
        },
        "mapping_groups": group_mappings(doc["mappings"]),
        "source_links": source_links(doc["uri"], doc.get("jobtech_id"), doc["types"], lang),
        "formats": [
            {"label": f.label, "extension": f.extension, "media_type": f.media_type}
            for f in FORMATS
        ],
        "sparql_query": sparql_about(doc["uri"], lang),
        "vocabulary_label": vocabulary_name(
            doc["schemes"][0]["vocabulary"] if doc["schemes"] else None
        ),
        "other_labels": _other_labels(doc, lang),
        "notes": _notes(doc, lang),
    }
    for name, listing in view["lists"].items():
        listing["kind"] = _uniform_kind(doc[name])
    number = index.concept_number(doc["uri"])
    view["in_index"] = number is not None
    return view


def _pick_text(texts: Mapping[str, Any], lang: str) -> Any:
    for tag in (lang, "sv", "en", ""):
        if tag in texts:
            return texts[tag]
    return next(iter(texts.values()), None)


def _notes(doc: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The documentation notes (description, scope note ...) in the UI language, with fallback."""
    out = []
    for key, texts in sorted(doc["notes"].items()):
        text = _pick_text(texts, lang)
        if text:
            out.append({"key": key, "text": text})
    return out


def _uniform_kind(items: Sequence[dict[str, Any]]) -> str | None:
    """ "ESCO · Skill" when every item of a list is of that one vocabulary and type, so the page
    says it once in the heading rather than on every line."""
    kinds = {
        (
            (item.get("scheme") or {}).get("vocabulary"),
            (item.get("type") or {}).get("label"),
        )
        for item in items
    }
    if len(kinds) != 1:
        return None
    vocabulary, type_label = next(iter(kinds))
    if not vocabulary or not type_label:
        return None
    short = {"jobtech": "JobTech", "esco": "ESCO"}.get(vocabulary, vocabulary)
    return f"{short} · {type_label}"


def _other_labels(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """Preferred labels in other languages than the one shown."""
    return [
        {"lang": tag or "–", "text": text}
        for tag, text in sorted(doc["prefLabel"].items())
        if text != doc["label"]
    ]


def hierarchy_paths(served: ServedBuild, uri: str, lang: str) -> list[list[dict[str, Any]]]:
    """Every path from a concept up to a top of its hierarchy, top first, concept excluded.

    A concept with several broader concepts (an ESCO occupation under two groups, a JobTech
    concept in two structures) has several paths; at most :data:`MAX_PATHS` are returned.
    """
    parents = _ancestry(served, uri)
    if not parents.get(uri):
        return []
    index = index_for(served)
    paths: list[list[str]] = []

    def climb(node: str, trail: list[str]) -> None:
        if len(paths) >= MAX_PATHS:
            return
        ups = sorted(p for p in parents.get(node, ()) if p not in trail and p != uri)
        if not ups or len(trail) >= MAX_DEPTH:
            if trail:
                paths.append(list(reversed(trail)))
            return
        for up in ups:
            climb(up, [*trail, up])

    climb(uri, [])
    briefs: dict[str, dict[str, Any]] = {}
    out = []
    for path in paths:
        out.append([briefs.setdefault(u, index.brief(u, lang)) for u in path])
    return sorted(out, key=lambda p: [(b["label"] or "").casefold() for b in p])


def _ancestry(served: ServedBuild, uri: str) -> dict[str, set[str]]:
    """The broader links above a concept, breadth first, one lookup per ancestor (bounded)."""
    parents: dict[str, set[str]] = {}
    todo = [uri]
    while todo and len(parents) < MAX_DEPTH * MAX_PATHS:
        node = todo.pop(0)
        if node in parents:
            continue
        rows = select_named(served, "concept_ancestry", c=NamedNode(node))
        parents[node] = {row["b"].value for row in rows}
        todo.extend(sorted(parents[node] - parents.keys()))
    return parents


def group_mappings(mappings: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mappings grouped by predicate (exact, close, broad, narrow, related), each group sorted
    as the concept document sorts them."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mapping in mappings:
        groups[mapping["predicate"]].append(mapping)
    return [
        {"predicate": p, "name": p.removeprefix("skos:"), "items": groups[p]}
        for p in MATCH_ORDER
        if p in groups
    ]


def source_links(
    uri: str, jobtech_id: str | None, types: Sequence[str], lang: str
) -> list[dict[str, str]]:
    """Where the concept is shown by its publisher: the JobTech Atlas or the ESCO portal.

    >>> source_links("http://data.jobtechdev.se/taxonomy/concept/abc", "abc", [], "sv")
    [{'label': 'JobTech Atlas', 'url': 'https://atlas.jobtechdev.se/taxonomy/abc'}]
    >>> source_links("http://data.europa.eu/esco/skill/x", None, [], "sv")[0]["url"]
    'https://esco.ec.europa.eu/sv/classification/skill?uri=http%3A%2F%2Fdata.europa.eu%2Fesco%2Fskill%2Fx'
    """
    links = []
    if uri.startswith(JOBTECH_CONCEPT.iri):
        concept_id = jobtech_id or uri[len(JOBTECH_CONCEPT.iri) :]
        links.append({"label": "JobTech Atlas", "url": JOBTECH_ATLAS.format(id=quote(concept_id))})
    if uri.startswith(ESCO_DATA.iri):
        kind = uri[len(ESCO_DATA.iri) :].split("/", 1)[0]
        portal_kind = {"skill": "skill", "occupation": "occupation", "isco": "occupation"}.get(kind)
        if portal_kind:
            links.append(
                {
                    "label": "ESCO portal",
                    "url": ESCO_PORTAL.format(lang=lang, kind=portal_kind, uri=quote(uri, safe="")),
                }
            )
    return links


def sparql_about(uri: str, lang: str) -> str:
    """A SPARQL query listing what the store says about a concept, with labels of the values."""
    node = str(NamedNode(uri))
    literal = str(Literal(lang))
    return (
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?property ?value ?valueLabel WHERE {\n"
        f"  {node} ?property ?value .\n"
        "  OPTIONAL { ?value skos:prefLabel ?valueLabel .\n"
        f"             FILTER(LANGMATCHES(LANG(?valueLabel), {literal})) }}\n"
        "}\n"
        "ORDER BY ?property ?value\n"
        "LIMIT 500\n"
    )


def sparql_link(query: str) -> str:
    """The `/sparql` URL that runs a query."""
    return "/sparql?" + urlencode({"query": query})


# --- about --------------------------------------------------------------------------------------


def about(served: ServedBuild, lang: str) -> dict[str, Any]:
    """The catalog (graphs, versions, sizes, sources, licences) and the required attributions."""
    graphs = []
    attributions: dict[str, list[str]] = {}
    for row in select_named(served, "about_catalog"):
        entry = {
            "graph": row["graph"].value,
            "source": row["source"].value,
            "version": row["version"].value,
            "triples": int(row["triples"].value),
            "title": row["title"].value,
            "url": row["url"].value if row["url"] is not None else None,
            "license": row["license"].value if row["license"] is not None else None,
            "rights": row["rights"].value if row["rights"] is not None else None,
        }
        graphs.append(entry)
        if entry["rights"]:
            attributions.setdefault(entry["rights"], []).append(entry["source"])
    return {
        "graphs": graphs,
        "attributions": [
            {"text": text, "sources": sorted(set(sources))}
            for text, sources in sorted(attributions.items())
        ],
        "build": build_info(served),
        "concepts": index_for(served).concept_count,
    }


# --- not found ----------------------------------------------------------------------------------


def suggestions(served: ServedBuild, text: str, lang: str, limit: int = 6) -> list[dict[str, Any]]:
    """Concepts a person who asked for something missing may have meant.

    Tries the last segment of a URI or path (an id or a slug), then its words, then ever
    shorter starts of it; empty when nothing is found or there is nothing to search for.
    """
    index = index_for(served)
    tail = text.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].split("?", 1)[0]
    words = " ".join(part for part in tail.replace("-", " ").replace("_", " ").split())
    # Then ever shorter starts of the segment: a mistyped id still shares its beginning.
    shorter = [tail[:n] for n in range(len(tail) - 1, 3, -1)][:8]
    for attempt in [tail, words, *shorter]:
        attempt = attempt.strip()[: labels.MAX_QUERY_LENGTH]
        if len(attempt) < 2:
            continue
        try:
            found = labels.autocomplete(index, attempt, limit=limit)
        except BadRequestError:
            continue
        if found["results"]:
            return [index.brief(hit["uri"], lang) for hit in found["results"]]
    return []
