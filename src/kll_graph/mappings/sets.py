"""The mapping sets of the served store, for the mapping-set pages: each set's metadata, its
mappings by predicate, and its coverage (how many concepts of each type it maps), plus the
coverage over all sets from :mod:`kll_graph.mappings.coverage`. No HTTP here.

A set's coverage is counted from the set's own graph with the label index, which knows every
concept's type and vocabulary: for each type that appears in the set, the concepts of that type
with at least one mapping in the set, against all concepts of the type.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from pyoxigraph import NamedNode

from kll_graph.concepts.browse import paged, vocabulary_name
from kll_graph.exceptions import NotFoundError, StoreNotFoundError
from kll_graph.labels.lookup import index_for
from kll_graph.mappings import coverage
from kll_graph.sparql.query import select_named
from kll_graph.store import ServedBuild

#: Mappings per page of a set's list.
MAPPINGS_PAGE = 50


def slug(set_iri: str) -> str:
    """The short name of a set in page URLs: the last segment of its IRI, without `.sssom.tsv`.

    >>> slug("https://w3id.org/kll-graph/mappings/se-occupations-esco")
    'se-occupations-esco'
    >>> slug("https://example.org/sets/skills.sssom.tsv")
    'skills'
    """
    tail = set_iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return tail.removesuffix(".tsv").removesuffix(".sssom") or set_iri


def _text(term: Any) -> str | None:
    return term.value if term is not None else None


def mapping_sets(served: ServedBuild) -> list[dict[str, Any]]:
    """Every mapping set with its graph, metadata and counts of mappings by predicate."""
    return served.memo("mappings.sets", lambda: _mapping_sets(served))


def _mapping_sets(served: ServedBuild) -> list[dict[str, Any]]:
    sets: dict[str, dict[str, Any]] = {}
    for row in select_named(served, "mapping_sets"):
        iri = row["set"].value
        entry = sets.setdefault(
            iri,
            {
                "iri": iri,
                "slug": slug(iri),
                "graph": row["graph"].value,
                "title": _text(row["title"]) or slug(iri),
                "description": _text(row["description"]),
                "version": _text(row["version"]),
                "license": _text(row["license"]),
                "source": _text(row["source"]),
            },
        )
        for key in ("title", "description", "version", "license", "source"):
            if entry.get(key) is None and row[key] is not None:
                entry[key] = row[key].value
    out = sorted(sets.values(), key=lambda s: s["slug"])
    seen: Counter[str] = Counter(s["slug"] for s in out)
    for entry in out:
        if seen[entry["slug"]] > 1:  # two sets end alike: fall back to the full IRI
            entry["slug"] = entry["iri"]
        entry["by_predicate"] = _predicate_counts(served, entry["graph"])
        entry["mappings"] = sum(entry["by_predicate"].values())
    return out


def _matches(served: ServedBuild, graph: str) -> list[tuple[str, str, str, str | None]]:
    def compute() -> list[tuple[str, str, str, str | None]]:
        node = NamedNode(graph)
        why: dict[tuple[str, str, str], str] = {}
        for row in select_named(served, "mapping_set_justifications", graph=node):
            key = (row["s"].value, row["p"].value, row["o"].value)
            why.setdefault(key, row["justification"].value.rsplit("/", 1)[-1])
        found: dict[tuple[str, str, str], str | None] = {}
        for row in select_named(served, "mapping_set_matches", graph=node):
            key = (row["s"].value, row["p"].value, row["o"].value)
            found[key] = why.get(key)
        return [(s, p.rsplit("#", 1)[-1], o, j) for (s, p, o), j in found.items()]

    return served.memo(f"mappings.matches {graph}", compute)


def _predicate_counts(served: ServedBuild, graph: str) -> dict[str, int]:
    counts = Counter(p for _, p, _, _ in _matches(served, graph))
    return dict(sorted(counts.items()))


def find_set(served: ServedBuild, name: str) -> dict[str, Any]:
    """A set by its slug or IRI (NotFoundError naming the sets there are)."""
    sets = mapping_sets(served)
    for entry in sets:
        if name in (entry["slug"], entry["iri"]):
            return entry
    known = ", ".join(s["slug"] for s in sets) or "none"
    raise NotFoundError(f"no mapping set {name[:200]!r}; the sets are: {known}")


def set_coverage(served: ServedBuild, graph: str, lang: str) -> list[dict[str, Any]]:
    """For each concept type a set maps: mapped concepts of the type, all concepts of it, %."""
    index = index_for(served)
    mapped: dict[int, set[int]] = defaultdict(set)
    for subject, _, obj, _ in _matches(served, graph):
        for uri in (subject, obj):
            number = index.concept_number(uri)
            if number is not None:
                mapped[int(index.concept_type[number])].add(number)
    out = []
    for type_number, members in mapped.items():
        info = index.types[type_number]
        vocabularies = Counter(
            index.schemes[int(index.concept_scheme[c])].vocabulary
            for c in members
            if index.concept_scheme[c] >= 0
        )
        vocabulary = vocabularies.most_common(1)[0][0] if vocabularies else None
        total = info.count
        out.append(
            {
                "type": info.id,
                "label": index.pick(info.labels, lang),
                "vocabulary": vocabulary,
                "vocabulary_label": vocabulary_name(vocabulary),
                "mapped": len(members),
                "total": total,
                "percent": round(100.0 * len(members) / total, 1) if total else 0.0,
            }
        )
    return sorted(out, key=lambda c: (c["vocabulary_label"], -c["mapped"]))


def set_page(served: ServedBuild, name: str, lang: str, page: int) -> dict[str, Any]:
    """One set: metadata, counts by predicate and justification, coverage, a page of mappings."""
    entry = find_set(served, name)
    index = index_for(served)
    matches = _matches(served, entry["graph"])
    justifications = Counter(j or "–" for _, _, _, j in matches)

    def order() -> list[tuple[str, str, str, str | None]]:
        def label(uri: str) -> str:
            number = index.concept_number(uri)
            return (index.label(number, lang) if number is not None else uri).casefold()

        return sorted(matches, key=lambda m: (label(m[0]), m[1], label(m[2]), m[0], m[2]))

    ordered = served.memo(f"mappings.ordered {lang} {entry['graph']}", order)
    listing = paged(ordered, page, MAPPINGS_PAGE, "mappings", "page")
    listing["items"] = [
        {
            "subject": index.brief(s, lang),
            "predicate": p,
            "object": index.brief(o, lang),
            "justification": j,
        }
        for s, p, o, j in listing["items"]
    ]
    return {
        "set": entry,
        "by_justification": dict(justifications.most_common()),
        "coverage": set_coverage(served, entry["graph"], lang),
        "mappings": listing,
    }


def overall_coverage(served: ServedBuild) -> dict[str, list[dict[str, Any]]]:
    """The coverage report over all mapping sets (both sides), as :mod:`coverage` computes it.

    The build writes it next to the store (:data:`coverage.COVERAGE_FILE`, the build step
    `mapping_coverage`); it is read once per served build. Every build of the current layout has
    it, so a missing file is a damaged build: a StoreNotFoundError saying to rebuild.
    """

    def read() -> dict[str, list[dict[str, Any]]]:
        kept = served.path / coverage.COVERAGE_FILE
        try:
            return dict(json.loads(kept.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise StoreNotFoundError(
                f"{kept}: unreadable mapping coverage ({exc}); rebuild with `kll-graph build`"
            ) from None

    return served.memo("mappings.overall-coverage", read)
