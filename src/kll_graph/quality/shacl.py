"""SHACL validation with pySHACL, on one representative of each look-alike group of focus nodes.

pySHACL on the whole store would take minutes; most concepts look alike to the shapes (same
types, same kinds and counts of values), so one of each group is validated and its results are
carried over to the others. rdflib and pySHACL are imported inside the functions: they are
heavy and only the ``shacl`` check needs them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyoxigraph import Literal, NamedNode

from kll_graph.namespaces import RDF, RDFS
from kll_graph.namespaces import SH as SHACL_NS
from kll_graph.quality.context import CheckContext, short_name, value_of
from kll_graph.rdfterms import to_rdflib
from kll_graph.settings import Settings

if TYPE_CHECKING:
    import rdflib

SH = SHACL_NS.iri
RDF_TYPE = RDF.type.value
RDFS_SUBCLASS = RDFS.subClassOf.value
#: Constraint components whose outcome depends only on the count, kind, datatype, language and
#: types of the values; for any other component the values themselves go into the grouping key.
_STRUCTURAL = {
    f"{SH}{name}"
    for name in (
        "minCount",
        "maxCount",
        "datatype",
        "nodeKind",
        "class",
        "uniqueLang",
        "languageIn",
        "message",
        "name",
        "description",
        "severity",
        "path",
        "order",
        "group",
        "deactivated",
    )
}
#: Shape features that look beyond the focus node's own values: no grouping is safe with them.
_NESTED = {
    f"{SH}{name}"
    for name in (
        "node",
        "property",
        "qualifiedValueShape",
        "closed",
        "sparql",
        "and",
        "or",
        "xone",
        "not",
    )
}


@dataclass(frozen=True)
class ShaclResult:
    """One SHACL validation result, reduced to what a finding needs."""

    focus: str
    message: str
    values: tuple[str, ...] = ()


def load_shapes(settings: Settings) -> rdflib.Graph:
    """`shapes.ttl` of the ontology directory; relative IRIs resolve against the base IRI."""
    import rdflib  # heavy: only the shacl check needs it

    path = settings.ontology_dir / "shapes.ttl"
    graph = rdflib.Graph()
    if path.is_file():
        graph.parse(path, format="turtle", publicID=settings.base_iri)
    return graph


@dataclass
class _ShapePlan:
    """What the shapes look at: target classes and, per constrained property, whether the
    values themselves (not only their kind and types) decide the outcome."""

    classes: set[str]
    paths: dict[str, bool]
    groupable: bool


def _plan(shapes: rdflib.Graph) -> _ShapePlan:
    import rdflib  # heavy: only the shacl check needs it

    sh = rdflib.Namespace(SH)
    classes = {str(o) for o in shapes.objects(None, sh.targetClass)}
    if any(True for _ in shapes.subject_objects(sh.targetNode)) or any(
        True for p in (sh.targetSubjectsOf, sh.targetObjectsOf) for _ in shapes.subject_objects(p)
    ):
        raise ValueError("shapes.ttl: only sh:targetClass targets are supported")
    paths: dict[str, bool] = {}
    groupable = True
    for shape in set(shapes.subjects(sh.path, None)):
        path = shapes.value(shape, sh.path)
        if not isinstance(path, rdflib.URIRef):
            raise ValueError(f"shapes.ttl: only plain property paths are supported, not {path!r}")
        keys = {str(p) for p in shapes.predicates(shape, None)}
        by_value = bool(keys - _STRUCTURAL - _NESTED - {RDF_TYPE})
        paths[str(path)] = paths.get(str(path), False) or by_value
        groupable = groupable and not (keys & _NESTED)
    for shape in set(shapes.subjects(sh.targetClass, None)):
        keys = {str(p) for p in shapes.predicates(shape, None)}
        groupable = groupable and not (keys & (_NESTED - {f"{SH}property"}))
    return _ShapePlan(classes, paths, groupable)


def validate_shapes(ctx: CheckContext) -> list[ShaclResult]:
    """Validate the store against `shapes.ttl` with pySHACL, fast enough for the whole store.

    Focus nodes whose constrained values look alike (same types; per property the same number
    of values with the same kind, datatype, language and value types, and the same values where
    a constraint such as sh:in looks at them) get the same SHACL results. pySHACL therefore
    validates one representative per group and each result is carried over to every member,
    with the member's own offending values. Results about a value nothing in the store types
    (a dangling link) are left to the dangling-link check, so one defect gives one finding.
    """
    import pyshacl  # heavy (loads rdflib and owlrl): only the shacl check needs it
    import rdflib  # heavy: only the shacl check needs it

    shapes = load_shapes(ctx.settings)
    if len(shapes) == 0:
        return []
    plan = _plan(shapes)
    types: dict[Any, set[str]] = defaultdict(set)
    supers: dict[str, set[str]] = defaultdict(set)
    axioms: list[tuple[str, str]] = []
    for row in ctx.select("check_shacl_types"):
        if row["axiom"] is not None:
            axioms.append((value_of(row["s"]), value_of(row["o"])))
            supers[value_of(row["s"])].add(value_of(row["o"]))
        else:
            types[row["s"]].add(value_of(row["o"]))
    subclasses = _subclass_closure(plan.classes, supers)
    focus_nodes = sorted(
        (node for node, node_types in types.items() if node_types & subclasses), key=str
    )
    values: dict[str, dict[Any, list[Any]]] = {}
    for path in sorted(plan.paths):
        table: dict[Any, list[Any]] = defaultdict(list)
        for row in ctx.select("check_shacl_property", p=NamedNode(path)):
            table[row["s"]].append(row["o"])
        values[path] = table

    def describe(path: str, value: Any) -> tuple[Any, ...]:
        keep = plan.paths[path]
        if isinstance(value, Literal):
            return ("L", value.datatype.value, value.language or "", value.value if keep else "")
        kind = "I" if isinstance(value, NamedNode) else "B"
        return (kind, tuple(sorted(types.get(value, ()))), str(value) if keep else "")

    groups: dict[Any, list[Any]] = defaultdict(list)
    for node in focus_nodes:
        key: Any = (
            tuple(sorted(types[node])),
            tuple(
                (path, tuple(sorted(describe(path, v) for v in values[path].get(node, ()))))
                for path in sorted(plan.paths)
            ),
        )
        groups[key if plan.groupable else str(node)].append(node)
    data = rdflib.Graph()
    rdf_type = rdflib.RDF.type
    data.addN((rdflib.URIRef(a), rdflib.RDFS.subClassOf, rdflib.URIRef(b), data) for a, b in axioms)
    representatives = {}
    for members in groups.values():
        rep = members[0]
        representatives[rep] = members
        node = to_rdflib(rep)
        data.addN((node, rdf_type, rdflib.URIRef(t), data) for t in types[rep])
        for path in plan.paths:
            for value in values[path].get(rep, ()):
                data.add((node, rdflib.URIRef(path), to_rdflib(value)))
                for t in types.get(value, ()):
                    data.add((to_rdflib(value), rdf_type, rdflib.URIRef(t)))
    ctx.stats["shacl_focus_nodes"] = len(focus_nodes)
    ctx.stats["shacl_groups"] = len(groups)
    _conforms, results, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True, allow_infos=True
    )
    return _expand(results, representatives, values, describe, types)


def _subclass_closure(classes: set[str], supers: Mapping[str, set[str]]) -> set[str]:
    """The target classes and every class below them."""
    found = set(classes)
    changed = True
    while changed:
        changed = False
        for sub, above in supers.items():
            if sub not in found and above & found:
                found.add(sub)
                changed = True
    return found


def _expand(
    results: rdflib.Graph,
    representatives: Mapping[Any, list[Any]],
    values: Mapping[str, Mapping[Any, list[Any]]],
    describe: Callable[[str, Any], tuple[Any, ...]],
    types: Mapping[Any, set[str]],
) -> list[ShaclResult]:
    """pySHACL's results on the representatives, carried over to every member of their group."""
    import rdflib  # heavy: only the shacl check needs it

    sh = rdflib.Namespace(SH)
    by_iri = {rep.value: rep for rep in representatives}
    found: set[ShaclResult] = set()
    for result in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = results.value(result, sh.focusNode)
        path = results.value(result, sh.resultPath)
        value = results.value(result, sh.value)
        component = results.value(result, sh.sourceConstraintComponent)
        rep = by_iri.get(str(focus))
        if rep is None:
            continue
        path_iri = str(path) if isinstance(path, rdflib.URIRef) else ""
        text = str(results.value(result, sh.resultMessage) or component)
        where = short_name(path_iri) if path_iri else "shape"
        wanted = None
        if value is not None and path_iri in values:
            rep_value = next(
                (v for v in values[path_iri].get(rep, ()) if to_rdflib(v) == value), None
            )
            wanted = describe(path_iri, rep_value) if rep_value is not None else None
        for member in representatives[rep]:
            offending = [
                v
                for v in values.get(path_iri, {}).get(member, ())
                if wanted is not None and describe(path_iri, v) == wanted
            ]
            if (
                component == sh.ClassConstraintComponent
                and offending
                and all(isinstance(v, NamedNode) and not types.get(v) for v in offending)
            ):
                continue  # the value does not exist at all: dangling-link reports it
            first = offending[0] if offending else None
            text_value = first.value if isinstance(first, NamedNode) else str(first)
            shown = f" (value {text_value})" if offending else ""
            found.add(
                ShaclResult(
                    focus=str(member.value),
                    message=f"{where}: {text}{shown}",
                    values=tuple(str(v.value) for v in offending if isinstance(v, NamedNode)),
                )
            )
    return sorted(found, key=lambda r: (r.focus, r.message))
