"""The SKOS checks, in the spirit of qSKOS: what is wrong or doubtful in vocabularies and mappings.

Each check has a stable id, a default severity (error, warning or info; configurable, or "off"), a
title and a one-paragraph explanation of why it matters and how to fix it. Each asks one SPARQL
question (``queries/check_<id>.rq``) over the union of all graphs, so the cost grows with the
data once, not per concept. A finding names the concept (or scheme) URI, its label, the graph
it is in and the vocabulary (source) of that graph.

The checks register in the order of this module, which is the order reports list them; the last
one, ``shacl``, hands the store to pySHACL (:mod:`kll_graph.quality.shacl`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping

from kll_graph.namespaces import MATCH_PREDICATES, SKOS
from kll_graph.quality.context import CheckContext, namespace_of, short_name, value_of
from kll_graph.quality.registry import Flag, check
from kll_graph.quality.shacl import validate_shapes

# --- graph helpers shared by the cycle checks ----------------------------------------------


def _components(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Connected groups of nodes (union-find), each sorted; groups sorted by first member.

    Fed only with edges that lie on a cycle, these are exactly the strongly connected parts.

    >>> _components([("b", "a"), ("a", "b"), ("c", "c")])
    [['a', 'b'], ['c']]
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    groups: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        groups[find(node)].append(node)
    return sorted(sorted(members) for members in groups.values())


def _pairs(links: Mapping[str, set[str]]) -> list[tuple[str, str]]:
    return [(a, b) for a, targets in links.items() for b in targets]


def _cycle_edges(edges: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges that lie on a directed cycle (both ends in one strongly connected component of
    two or more nodes, or a self-loop); iterative Tarjan, so deep hierarchies are safe.

    >>> sorted(_cycle_edges([("a", "b"), ("b", "a"), ("b", "c"), ("d", "d")]))
    [('a', 'b'), ('b', 'a'), ('d', 'd')]
    """
    edges = list(edges)
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
    sizes = Counter(component.values())
    return [
        (a, b)
        for a, b in edges
        if a == b or (component.get(a) == component.get(b) and sizes[component[a]] > 1)
    ]


# --- the checks --------------------------------------------------------------------


@check(
    "orphan-concept",
    "Orphan concepts",
    "info",
    """A concept with no semantic relation at all: no broader or narrower concept, no related
    concept and no mapping to another vocabulary. Users who browse the hierarchy never reach it,
    and applications that expand a search along relations never find it. It may be intended
    (a flat list), but often a link was lost in an import. Fix it by placing the concept under a
    broader concept, relating it, or mapping it; if the list is flat on purpose, set this check
    to "off" or "info". Concepts of older releases only (absent from the current one) are left
    out: the sources that name them do not say where they stood.""",
)
def orphan_concepts(ctx: CheckContext) -> Iterator[Flag]:
    older = ctx.older
    for row in ctx.select("check_orphan_concept"):
        if value_of(row["concept"]) in older:
            continue
        yield Flag(value_of(row["concept"]), "has no broader, narrower, related or mapped concept")


@check(
    "hierarchy-cycle",
    "Cycles in the hierarchy",
    "error",
    """Concepts that are, through a chain of skos:broader (or skos:narrower) links, broader
    than themselves. A hierarchy with a cycle has no top along that path: tree views loop or stop,
    'all narrower concepts' never ends, and counts per group are wrong. Fix it by removing the
    link that points back up (usually the last one added); Skosify's break_cycles can do it at
    build time, but the source should be corrected.""",
)
def hierarchy_cycles(ctx: CheckContext) -> Iterator[Flag]:
    edges = [(child, parent) for child, parents in ctx.parents.items() for parent in parents]
    for members in _components(_cycle_edges(edges)):
        yield Flag(
            members[0],
            f"is on a cycle of {len(members)} concept(s) in the broader hierarchy",
            related=tuple(members[1:]),
        )


@check(
    "missing-preflabel-main-language",
    "Missing preferred label in the vocabulary's main language",
    "error",
    """A concept without a preferred label in the main language of its vocabulary (Swedish for
    the JobTech Taxonomy, English for ESCO, or the source's main_language option). Search, concept
    pages and reconciliation show it by URI only, and people cannot tell what it means. Fix it
    by giving it a skos:prefLabel with that language tag (e.g. "Snickare"@sv).""",
)
def missing_main_language_labels(ctx: CheckContext) -> Iterator[Flag]:
    languages = ctx.main_languages
    for concept, graph in sorted(ctx.homes.items()):
        if concept not in ctx.concepts:
            continue
        language = languages.get(graph, "").lower()
        tags = {lang.lower() for lang, _text in ctx.labels.get(concept, ())}
        if language and any(t == language or t.startswith(language + "-") for t in tags):
            continue
        if not language and tags:
            continue
        what = f"no preferred label in '{language}'" if language else "no preferred label"
        yield Flag(concept, f"has {what}", graph)


@check(
    "multiple-preflabels",
    "More than one preferred label per language",
    "error",
    """A resource with two or more preferred labels in one language breaks SKOS (a resource has
    at most one skos:prefLabel per language tag). Which one an application shows becomes a matter
    of chance, and lookups by label return it under both names. Fix it by keeping one as
    skos:prefLabel and turning the others into skos:altLabel.""",
)
def multiple_preflabels(ctx: CheckContext) -> Iterator[Flag]:
    for resource, labels in sorted(ctx.labels.items()):
        per_language: dict[str, list[str]] = defaultdict(list)
        for lang, text in labels:
            per_language[lang.lower()].append(text)
        for lang, texts in sorted(per_language.items()):
            if len(texts) > 1:
                yield Flag(
                    resource,
                    f"has {len(texts)} preferred labels in '{lang or 'no language'}': "
                    + " | ".join(sorted(texts)),
                )


@check(
    "label-overlap",
    "A label that is both preferred and alternative (or hidden)",
    "error",
    """The same label given to one resource as two of skos:prefLabel, skos:altLabel and
    skos:hiddenLabel. SKOS requires the three to be disjoint; an alternative label equal to the
    preferred one adds nothing and a hidden label equal to a visible one contradicts itself. Fix
    it by deleting the alternative or hidden copy.""",
)
def label_overlap(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_label_overlap"):
        label = row["label"]
        language = getattr(label, "language", None)
        text = f'"{label.value}"' + (f"@{language}" if language else "")
        properties = sorted(value_of(row["properties"]).split())
        yield Flag(
            value_of(row["resource"]),
            f"{text} is both " + " and ".join(short_name(p) for p in properties),
        )


@check(
    "duplicate-preflabel",
    "The same preferred label for two concepts of one scheme",
    "warning",
    """Two or more concepts of one concept scheme share a preferred label (same language,
    ignoring case; deprecated concepts and those of older releases only left out: a successor
    often keeps the label). Someone choosing by name cannot tell them apart,
    and matching a label to a URI becomes ambiguous. Fix it by making the labels say what tells
    the concepts apart (e.g. "Montör, el" and "Montör, verkstad"), or merge the concepts if they
    are the same.""",
)
def duplicate_preflabels(ctx: CheckContext) -> Iterator[Flag]:
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    samples: dict[tuple[str, str, str], str] = {}
    left_out = ctx.deprecated | ctx.older
    for concept, schemes in ctx.schemes.items():
        if concept in left_out:
            continue
        for lang, text in ctx.labels.get(concept, ()):
            for scheme in schemes:
                key = (scheme, lang.lower(), text.casefold())
                groups[key].add(concept)
                samples[key] = min(samples.get(key, text), text)
    for key, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        concepts = sorted(members)
        scheme = key[0]
        yield Flag(
            concepts[0],
            f'shares the preferred label "{samples[key]}" with {len(concepts) - 1} other '
            f"concept(s) of scheme {ctx.label_of(scheme) or scheme}",
            related=tuple(concepts[1:]),
        )


@check(
    "missing-top-concepts",
    "Concept schemes without top concepts",
    "warning",
    """A concept scheme that holds concepts but names none of them as top concept
    (skos:hasTopConcept / skos:topConceptOf). Browsers start a scheme's tree at its top
    concepts, so such a scheme shows up empty. Fix it by marking the concepts that have no broader
    concept in the scheme as its top concepts; Skosify's mark_top_concepts does this.""",
)
def missing_top_concepts(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_missing_top_concepts"):
        scheme = value_of(row["scheme"])
        yield Flag(
            scheme,
            f"holds {value_of(row['members'])} concept(s) but has no top concept",
            ctx.homes.get(scheme) or value_of(row["graph"]),
        )


@check(
    "top-concept-has-broader",
    "Top concepts that have a broader concept",
    "warning",
    """A concept marked as top concept of a scheme that also has a broader concept in that same
    scheme. It then appears twice in the tree, at the top and under its parent, and the
    hierarchy contradicts itself. Fix it by removing the top-concept mark, or the broader link if
    the concept really starts a branch.""",
)
def top_concept_with_broader(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_top_concepts"):
        concept, scheme = value_of(row["concept"]), value_of(row["scheme"])
        parents = ctx.parents.get(concept, ())
        broader = sorted(p for p in parents if scheme in ctx.schemes.get(p, ()))
        if broader:
            yield Flag(
                concept,
                f"is a top concept of {ctx.label_of(scheme) or scheme} but has a broader "
                "concept in that scheme",
                related=tuple(broader),
            )


@check(
    "related-in-hierarchy",
    "Related concepts that are also in one broader chain",
    "error",
    """Two concepts linked by skos:related although one is broader than the other through a
    chain of skos:broader links. SKOS keeps associative and hierarchical links disjoint: a
    concept is either a kind of the other or associated with it. Fix it by removing the
    skos:related link (Skosify's remove_related_in_hierarchy does it at build time).""",
)
def related_in_hierarchy(ctx: CheckContext) -> Iterator[Flag]:
    pairs = {
        tuple(sorted((value_of(r["concept"]), value_of(r["other"]))))
        for r in ctx.select("check_related_in_hierarchy")
    }
    for a, b in sorted(pairs):
        if b in ctx.ancestors(a) or a in ctx.ancestors(b):
            yield Flag(
                a, "is skos:related to a concept it is also hierarchically linked to", related=(b,)
            )


_CLASHES = {
    frozenset(pair)
    for pair in [
        ("exactMatch", "broadMatch"),
        ("exactMatch", "narrowMatch"),
        ("exactMatch", "relatedMatch"),
        ("closeMatch", "broadMatch"),
        ("closeMatch", "narrowMatch"),
        ("closeMatch", "relatedMatch"),
        ("broadMatch", "narrowMatch"),
        ("broadMatch", "relatedMatch"),
        ("narrowMatch", "relatedMatch"),
    ]
}


@check(
    "mapping-clash",
    "Contradicting mapping relations",
    "error",
    """One pair of concepts mapped with relations that cannot both hold, in one mapping set or
    across sets: exact (or close) and broad/narrow, broad and narrow at once, or related together
    with any of them (exact and close together are consistent). Applications that follow the
    mappings get opposite answers depending on which triple they see first. Fix it by keeping the
    one relation that is right, in the SSSOM file or source it came from.""",
)
def mapping_clashes(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_mapping_clash"):
        relations = sorted(set(value_of(row["relations"]).split()))
        clashing = sorted(
            f"{x}/{y}"
            for x in relations
            for y in relations
            if x < y and frozenset((x, y)) in _CLASHES
        )
        if not clashing:
            continue
        graphs = sorted(value_of(row["graphs"]).split())
        a, b = value_of(row["a"]), value_of(row["b"])
        yield Flag(
            a,
            f"is mapped to {b} as both "
            + " and ".join(relations)
            + (f" (in {len(graphs)} graphs)" if len(graphs) > 1 else ""),
            graphs[0] if len(graphs) == 1 else None,
            related=(b,),
        )


@check(
    "mapping-within-scheme",
    "Mapping relations inside one concept scheme",
    "warning",
    """A skos:exactMatch, closeMatch, broadMatch, narrowMatch or relatedMatch between two
    concepts of the same concept scheme. Mapping relations link different vocabularies; inside one
    scheme the right links are skos:broader, skos:narrower and skos:related, and an exact match
    there means two concepts should be merged. Fix it by turning the mapping into the matching
    semantic relation, or by merging (deprecate one, dct:isReplacedBy the other).""",
)
def mapping_within_scheme(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_mapping_within_scheme"):
        scheme = value_of(row["scheme"])
        other = value_of(row["other"])
        yield Flag(
            value_of(row["concept"]),
            f"{short_name(value_of(row['p']))} {other}, although both are in scheme "
            f"{ctx.label_of(scheme) or scheme}",
            value_of(row["g"]),
            related=(other,),
        )


@check(
    "deprecated-without-replacement",
    "Deprecated concepts without a replacement",
    "warning",
    """A concept marked owl:deprecated that names no dct:isReplacedBy. Data that still uses it
    (job ads, CVs, older mappings) cannot be moved to a current concept automatically, so it
    quietly drops out of statistics and matching. Fix it by adding dct:isReplacedBy to the concept
    that took over, or say in a skos:changeNote why there is none.""",
)
def deprecated_without_replacement(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_deprecated_without_replacement"):
        yield Flag(value_of(row["concept"]), "is deprecated but names no replacement")


@check(
    "replacement-chain",
    "Replaced by a concept that is itself deprecated",
    "warning",
    """A deprecated concept whose dct:isReplacedBy points to another deprecated concept. Anyone
    who follows the replacement once lands on a concept that is not in use either. Fix it by
    pointing the replacement straight at the current concept at the end of the chain (the message
    names it).""",
)
def replacement_chains(ctx: CheckContext) -> Iterator[Flag]:
    replacements = ctx.replacements
    on_cycle = {n for group in _components(_cycle_edges(_pairs(replacements))) for n in group}
    for concept, targets in sorted(replacements.items()):
        if concept in on_cycle:
            continue
        for replacement in sorted(targets):
            if replacement not in ctx.deprecated or replacement in on_cycle:
                continue
            ends = _chain_ends(replacement, replacements)
            end = ", ".join(ends) if ends else "a deprecated concept with no replacement"
            yield Flag(
                concept,
                f"is replaced by {replacement}, which is deprecated too; the chain ends at {end}",
                related=(replacement, *ends),
            )


def _chain_ends(start: str, replacements: Mapping[str, set[str]]) -> list[str]:
    """Where following replacements from `start` stops (concepts that name no replacement)."""
    seen, todo, ends = set(), [start], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        nxt = replacements.get(node, set())
        if nxt:
            todo.extend(nxt)
        elif node != start:
            ends.add(node)
    return sorted(ends)


@check(
    "replacement-cycle",
    "Replacement cycles",
    "error",
    """Concepts whose dct:isReplacedBy links lead back to themselves. Following the
    replacements never reaches a concept in use, and tools that resolve replacements loop. Fix it
    by deciding which concept is current and removing its dct:isReplacedBy (and owl:deprecated).""",
)
def replacement_cycles(ctx: CheckContext) -> Iterator[Flag]:
    for members in _components(_cycle_edges(_pairs(ctx.replacements))):
        yield Flag(
            members[0],
            f"is on a cycle of {len(members)} concept(s) replacing each other",
            related=tuple(members[1:]),
        )


_MAPPING_PREDICATES = {SKOS[name].value for name in MATCH_PREDICATES}


@check(
    "dangling-link",
    "Links to concepts that do not exist",
    "error",
    """A hierarchical, associative, scheme, replacement or mapping link whose target is not in
    the store (nothing gives it a type). Concept pages show a dead link, hierarchy queries lose a
    branch, and a replacement leads nowhere. Mapping links count only when the target's
    namespace is loaded (a mapping into a vocabulary the store does not hold is not flagged). Fix
    it by correcting the target URI, loading the missing concept, or removing the link.""",
)
def dangling_links(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_dangling_link"):
        predicate, target = value_of(row["p"]), value_of(row["target"])
        if predicate in _MAPPING_PREDICATES and namespace_of(target) not in ctx.namespaces:
            continue
        yield Flag(
            value_of(row["concept"]),
            f"{short_name(predicate)} points to {target}, which is not in the store",
            value_of(row["g"]),
            related=(target,),
        )


@check(
    "definition-repeats-label",
    "Definitions that only repeat the label",
    "warning",
    """A skos:definition whose text is nothing but one of the concept's own preferred or
    alternative labels (ignoring case, spaces and punctuation). It looks like documentation but
    tells the reader nothing, and it hides the fact that the definition is missing. Fix it by
    writing what the concept covers and what sets it apart, or remove the definition.""",
)
def definitions_repeating_labels(ctx: CheckContext) -> Iterator[Flag]:
    for row in ctx.select("check_definition_repeats_label"):
        yield Flag(
            value_of(row["concept"]),
            f'definition "{value_of(row["definition"])}" only repeats a label',
        )


@check(
    "shacl",
    "SHACL shapes (ontology/shapes.ttl)",
    "error",
    """The concepts and other resources checked against the SHACL shapes in ontology/shapes.ttl
    with pySHACL: what a well-formed concept looks like in kll-graph (in a scheme that exists,
    labels with a language tag, notations as literals, substitutability percentages of 25 or
    75). A violation means the data does not have the shape that the API, the concept pages and
    integrators rely on. The message names the property and the shape's own explanation. Fix it
    in the source, or in the importer that produced the triple.""",
)
def shacl_violations(ctx: CheckContext) -> Iterator[Flag]:
    for result in validate_shapes(ctx):
        yield Flag(result.focus, result.message, related=result.values)
