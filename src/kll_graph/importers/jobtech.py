"""The JobTech Taxonomy importer: the official dataset JSON family as SKOS.

Reads every `*.json` of the source path (a directory of JobTech "taxonomy dataset" files, or one
file such as the complete per-version dump `concepts-and-common-relations.json`). All of them
share one shape, ``{"data": {"concepts": [...]}}``; relation lists hold either nested concept
objects (the dataset files) or bare id strings (the dump). `concept-types.json`
(``{"data": {"concept_types": [...]}}``) names the 53 concept types with Swedish and English
labels; each type becomes a concept scheme minted under the base IRI.

The files overlap: one concept appears in many of them, nested at different depths. Everything
is first merged into one record per concept id (labels and codes without duplicates, conflicting
values reported in the build summary) and only then turned into quads, handed to the store in one
bulk call. Concept URIs are the official `http://data.jobtechdev.se/taxonomy/concept/{id}`; a
concept without an id (the `sni-level-1..5.json` files) is matched to the hierarchy file by its
code, never given a minted URI. The model is documented in `ontology/jobtech.ttl` and
`docs/jobtech.md`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from kll_graph.importers import ImportContext, iter_files
from kll_graph.namespaces import (
    DCT,
    ESCO_DATA,
    JOBTECH_CONCEPT,
    OWL,
    RDF,
    RDFS,
    SKOS,
    XSD,
    kll,
    minted,
)


def _words(text: str) -> tuple[str, ...]:
    """The words of a block of text: a long list of names reads as a paragraph."""
    return tuple(text.split())


#: The 53 concept types of the JobTech Taxonomy (as `concept-types.json` lists them). A type
#: outside this list and outside concept-types.json is imported as a generic skos:Concept.
CONCEPT_TYPES: tuple[str, ...] = _words(
    """
    barometer-occupation citizenship continent country driving-licence employment-duration
    employment-type employment-variety esco-occupation esco-skill esco-skill-collection
    forecast-occupation generic-skill generic-skill-group isco-level-4 job-title keyword
    language language-collection language-level municipality occupation-collection
    occupation-experience-year occupation-field occupation-name region self-employment-type
    skill skill-collection skill-group skill-headline sni-level-1 sni-level-2 sni-level-3
    sni-level-4 sni-level-5 ssyk-level-1 ssyk-level-2 ssyk-level-3 ssyk-level-4
    sun-education-field-1 sun-education-field-2 sun-education-field-3 sun-education-field-4
    sun-education-level-1 sun-education-level-2 sun-education-level-3
    swedish-retail-and-wholesale-council-skill unemployment-fund unemployment-type wage-type
    work-place-environment worktime-extent
    """
)

#: Code fields of the JSON → the datatype (local name in the kll namespace) of the
#: skos:notation they become, so that e.g. SSYK 2512 and ISCO 2512 never collide.
CODE_SYSTEMS: dict[str, str] = {
    "ssyk_code_2012": "SSYK2012",
    "isco_code_08": "ISCO08",
    "sni_level_code_2007": "SNI2007",
    "sun_education_field_code_2020": "SUN2020Field",
    "sun_education_level_code_2020": "SUN2020Level",
    "nuts_level_3_code_2013": "NUTS3Code2013",
    "nuts_level_3_code_2021": "NUTS3Code2021",
    "national_nuts_level_3_code_2019": "NationalNUTS3Code2019",
    "iso_639_1_2002": "ISO639-1",
    "iso_639_2_1998": "ISO639-2",
    "iso_639_3_2007": "ISO639-3",
    "iso_3166_1_alpha_2_2013": "ISO3166-1-alpha2",
    "iso_3166_1_alpha_3_2013": "ISO3166-1-alpha3",
    "lau_2_code_2015": "LAU2Code2015",
    "driving_licence_code_2013": "DrivingLicenceCode2013",
    "eures_code_2014": "EURESCode2014",
}

#: Relation fields → (relation key, True when the listed concept is the subject). `narrower`,
#: `substituted_by` and `replaces` are stored as their inverse so each edge is kept once.
RELATION_FIELDS: dict[str, tuple[str, bool]] = {
    "broader": ("broader", False),
    "narrower": ("broader", True),
    "related": ("related", False),
    "substitutes": ("substitutes", False),
    "substituted_by": ("substitutes", True),
    "replaced_by": ("replaced_by", False),
    "replaces": ("replaced_by", True),
    "exact_match": ("exact_match", False),
    "broad_match": ("broad_match", False),
    "narrow_match": ("narrow_match", False),
    "close_match": ("close_match", False),
    "essential": ("essential", False),
    "essential_skills": ("essential", False),
    "optional": ("optional", False),
    "optional_skills": ("optional", False),
    "possible_combinations": ("possible_combination", False),
    "unlikely_combinations": ("unlikely_combination", False),
}
#: JobTech's mapping fields → the SKOS mapping relation each states.
MATCH_FIELDS = {
    "exact_match": SKOS.exactMatch,
    "broad_match": SKOS.broadMatch,
    "narrow_match": SKOS.narrowMatch,
    "close_match": SKOS.closeMatch,
}
#: Plain (non-relation, non-code) fields we read; anything else is counted as ignored.
KNOWN_FIELDS = {
    "id",
    "type",
    "preferred_label",
    "definition",
    "alternative_labels",
    "hidden_labels",
    "deprecated",
    "esco_uri",
    "uri",
    "substitutability_percentage",
}
CONCEPT_TYPES_FILE = "concept-types.json"
#: Files next to the datasets that are not datasets (written by `kll-graph fetch`).
IGNORED_FILES = {"fetch-manifest.json"}
#: How many examples of one kind of disagreement the summary lists.
EXAMPLES = 5


def type_class_name(concept_type: str) -> str:
    """The local name of the class of a concept type, in the kll namespace.

    >>> type_class_name("occupation-name")
    'OccupationName'
    >>> type_class_name("sun-education-field-4")
    'SunEducationField4'
    """
    return "".join(part[:1].upper() + part[1:] for part in concept_type.split("-"))


def scheme_iri(base_iri: str, concept_type: str) -> NamedNode:
    """The concept scheme of one JobTech concept type, minted under the base IRI.

    >>> scheme_iri("https://example.org/kll/", "skill").value
    'https://example.org/kll/scheme/jobtech/skill'
    """
    return minted(base_iri, "scheme", "jobtech", concept_type)


def concept_iri(concept_id: str) -> NamedNode:
    """The official URI of a JobTech concept (never minted by us).

    >>> concept_iri("iugg_Qq9_QHH").value
    'http://data.jobtechdev.se/taxonomy/concept/iugg_Qq9_QHH'
    """
    return JOBTECH_CONCEPT[concept_id]


@dataclass
class ConceptRecord:
    """Everything the files say about one concept, merged."""

    id: str
    type: str | None = None
    pref_label: str | None = None
    definition: str | None = None
    alt_labels: set[str] = field(default_factory=set)
    hidden_labels: set[str] = field(default_factory=set)
    notations: set[tuple[str, str]] = field(default_factory=set)
    deprecated: bool = False
    esco_uri: str | None = None


@dataclass
class Conflicts:
    """Disagreements between files about one value, grouped by kind for the summary."""

    by_kind: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, message: str) -> None:
        self.by_kind[kind].append(message)

    def lines(self) -> list[str]:
        out = []
        for kind, messages in sorted(self.by_kind.items()):
            shown = "; ".join(messages[:EXAMPLES])
            more = f" (and {len(messages) - EXAMPLES} more)" if len(messages) > EXAMPLES else ""
            out.append(f"{len(messages)} {kind}: {shown}{more}")
        return out


class Taxonomy:
    """Collects concept records and relation edges from any number of JobTech JSON files."""

    def __init__(self) -> None:
        self.concepts: dict[str, ConceptRecord] = {}
        #: (subject id, relation key, object id)
        self.edges: set[tuple[str, str, str]] = set()
        #: (substitute id, substituted id) → percentage (None when the file gives none)
        self.substitutions: dict[tuple[str, str], int | None] = {}
        self.idless: list[tuple[dict[str, Any], str]] = []
        self.conflicts = Conflicts()
        self.ignored_fields: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    # --- reading -------------------------------------------------------------------------
    def add_concepts(self, concepts: Iterable[Any], where: str) -> None:
        """Merge the top-level concept list of one file."""
        for index, item in enumerate(concepts):
            if not isinstance(item, dict):
                raise ValueError(f"{where}: concepts[{index}] is not an object")
            self.add_record(item, f"{where} concepts[{index}]")

    def add_record(self, obj: dict[str, Any], where: str) -> str | None:
        """Merge one concept object (and, recursively, the objects in its relation lists)."""
        concept_id = obj.get("id")
        if concept_id is None:
            self.idless.append((obj, where))
            return None
        if not isinstance(concept_id, str) or not concept_id:
            raise ValueError(f"{where}: 'id' must be a non-empty string, got {concept_id!r}")
        record = self.concepts.get(concept_id)
        if record is None:
            record = self.concepts[concept_id] = ConceptRecord(concept_id)
        self._merge_fields(record, obj, where)
        for name, value in obj.items():
            if name in RELATION_FIELDS:
                self._add_relation(concept_id, name, value, where)
        return concept_id

    def _merge_fields(self, record: ConceptRecord, obj: dict[str, Any], where: str) -> None:
        cid = record.id
        record.type = self._one(record.type, obj.get("type"), "type disagreements", cid)
        record.pref_label = self._one(
            record.pref_label, obj.get("preferred_label"), "preferred-label disagreements", cid
        )
        record.definition = self._one(
            record.definition, obj.get("definition"), "definition disagreements", cid
        )
        record.alt_labels.update(_labels(obj.get("alternative_labels"), where))
        record.hidden_labels.update(_labels(obj.get("hidden_labels"), where))
        if obj.get("deprecated") is True:
            record.deprecated = True
        esco = obj.get("esco_uri") or obj.get("uri")
        if isinstance(esco, str) and esco.startswith(ESCO_DATA.iri):
            record.esco_uri = self._one(record.esco_uri, esco, "ESCO URI disagreements", cid)
        for name, value in obj.items():
            if name in CODE_SYSTEMS:
                if value is not None and value != "":
                    self._add_code(record, name, str(value))
            elif name not in KNOWN_FIELDS and name not in RELATION_FIELDS:
                self.ignored_fields[name] += 1

    def _add_code(self, record: ConceptRecord, name: str, value: str) -> None:
        system = CODE_SYSTEMS[name]
        existing = {v for s, v in record.notations if s == system}
        if existing and value not in existing:
            self.conflicts.add(
                "code disagreements", f"{record.id} {name} {sorted(existing)[0]!r} vs {value!r}"
            )
        record.notations.add((system, value))

    def _one(self, current: str | None, new: Any, kind: str, cid: str) -> str | None:
        """Keep the first value seen; report a different later one as a disagreement."""
        if new is None or new == "":
            return current
        text = str(new)
        if current is None:
            return text
        if text != current:
            self.conflicts.add(kind, f"{cid} {current!r} vs {text!r}")
        return current

    def _add_relation(self, concept_id: str, name: str, value: Any, where: str) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            raise ValueError(f"{where}: '{name}' must be a list, got {type(value).__name__}")
        relation, inverse = RELATION_FIELDS[name]
        for index, item in enumerate(value):
            here = f"{where}.{name}[{index}]"
            percentage: int | None = None
            if isinstance(item, str):
                if item.startswith(ESCO_DATA.iri) and relation in MATCH_FIELDS:
                    self.edges.add((concept_id, relation, item))
                    continue
                target = item
            elif isinstance(item, dict):
                found = self.add_record(item, here)
                if found is None:
                    raise ValueError(f"{here}: a related concept without 'id'")
                target = found
                percentage = _percentage(item.get("substitutability_percentage"), here)
            else:
                raise ValueError(f"{here}: expected an id or an object, got {item!r}")
            subject, obj = (target, concept_id) if inverse else (concept_id, target)
            if relation == "substitutes":
                self._add_substitution(subject, obj, percentage)
            elif relation == "related":  # symmetric: kept once, written both ways
                self.edges.add((min(subject, obj), relation, max(subject, obj)))
            else:
                self.edges.add((subject, relation, obj))

    def _add_substitution(self, substitute: str, substituted: str, pct: int | None) -> None:
        key = (substitute, substituted)
        known = self.substitutions.get(key)
        if known is not None and pct is not None and known != pct:
            self.conflicts.add(
                "substitutability disagreements", f"{substitute}→{substituted} {known} vs {pct}"
            )
            return
        if known is None:
            self.substitutions[key] = pct

    # --- after reading ---------------------------------------------------------------------
    def resolve_idless(self) -> None:
        """Match concepts given without id (sni-level-1..5.json) to known ones by type and code."""
        index: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for record in self.concepts.values():
            for system, value in record.notations:
                index[(record.type or "", system, value)].add(record.id)
        for obj, where in self.idless:
            keys = [
                (str(obj.get("type") or ""), CODE_SYSTEMS[name], str(value))
                for name, value in obj.items()
                if name in CODE_SYSTEMS and value not in (None, "")
            ]
            matches = set().union(*(index.get(k, set()) for k in keys)) if keys else set()
            if len(matches) == 1:
                match = next(iter(matches))
                self.add_record({**obj, "id": match}, where)
                self.counts["concepts without id matched by code"] += 1
            elif not matches:
                self.conflicts.add("concepts without id and no match by code", where)
                self.counts["concepts without id unmatched"] += 1
            else:
                self.conflicts.add(
                    "concepts without id matching several by code", f"{where} → {sorted(matches)}"
                )
                self.counts["concepts without id unmatched"] += 1


def _labels(value: Any, where: str) -> Iterator[str]:
    """Labels from a list of strings (or of objects with 'label'/'value')."""
    if value is None:
        return
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{where}: labels must be a list, got {type(value).__name__}")
    for item in value:
        label = item.get("label") or item.get("value") if isinstance(item, dict) else item
        if isinstance(label, str) and label.strip():
            yield label.strip()


def _percentage(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: substitutability_percentage must be a number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"{where}: substitutability_percentage must be a number, got {value!r}"
        ) from None


# --- reading files ----------------------------------------------------------------------------
def read_json(ctx: ImportContext, path: Path) -> Any:
    """Parse one JSON file; a syntax error names the file, line and column."""
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise ctx.fail(
            f"malformed JSON: {exc.msg}", path=path, line=exc.lineno, column=exc.colno
        ) from exc
    except UnicodeDecodeError as exc:
        raise ctx.fail(f"not UTF-8 text: {exc}", path=path) from exc


def _data(ctx: ImportContext, document: Any, path: Path, key: str) -> list[Any]:
    data = document.get("data") if isinstance(document, dict) else None
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ctx.fail(
            f'not a JobTech dataset: expected {{"data": {{"{key}": [...]}}}} at the top level',
            path=path,
        )
    return items


def read_concept_types(ctx: ImportContext, path: Path) -> dict[str, tuple[str, str]]:
    """`concept-types.json` → {type: (Swedish label, English label)}."""
    types: dict[str, tuple[str, str]] = {}
    for index, item in enumerate(_data(ctx, read_json(ctx, path), path, "concept_types")):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ctx.fail(f"concept_types[{index}]: expected an object with an 'id'", path=path)
        types[item["id"]] = (str(item.get("label_sv") or ""), str(item.get("label_en") or ""))
    return types


def dataset_files(path: Path) -> list[Path]:
    """The JSON files of a source path, concept-types.json and our own manifest excluded."""
    return [
        p
        for p in iter_files(path, [".json"])
        if p.name not in IGNORED_FILES and p.name != CONCEPT_TYPES_FILE
    ]


# --- writing quads ------------------------------------------------------------------------------
class QuadWriter:
    """Turns the merged taxonomy into quads in one graph.

    Terms are made once and reused (a NamedNode parses its IRI when created), which keeps the
    Python side of the import well under the store's own bulk-load time.
    """

    def __init__(self, ctx: ImportContext, known_types: set[str]) -> None:
        self.graph = ctx.graph
        self.base = ctx.base_iri
        self.k = k = kll(ctx.base_iri)
        self.known_types = known_types
        self.true = Literal(True)
        self.a = RDF.type
        self.concept_class = SKOS.Concept
        self.pref, self.alt, self.hidden = SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel
        self.definition = SKOS.definition
        self.notation = SKOS.notation
        self.in_scheme = SKOS.inScheme
        self.top_of, self.has_top = SKOS.topConceptOf, SKOS.hasTopConcept
        self.broader, self.narrower, self.related = SKOS.broader, SKOS.narrower, SKOS.related
        self.deprecated = OWL.deprecated
        self.replaced_by = DCT.isReplacedBy
        self.replaces = DCT.replaces
        self.jobtech_id, self.concept_type = k.jobtechId, k.conceptType
        self.substitutes, self.substitutability = k.substitutes, k.Substitutability
        self.substitute, self.substituted = k.substitute, k.substituted
        self.percentage = k.substitutabilityPercentage
        self.other = {
            "essential": k.essentialSkill,
            "optional": k.optionalSkill,
            "possible_combination": k.possibleCombination,
            "unlikely_combination": k.unlikelyCombination,
        }
        self.datatypes = {name: k[name] for name in CODE_SYSTEMS.values()}
        self._iris: dict[str, NamedNode] = {}
        self._types: dict[str, tuple[Literal, NamedNode, NamedNode]] = {}
        self._percent: dict[int, Literal] = {}

    def iri(self, concept_id: str) -> NamedNode:
        """The concept's URI (or an ESCO URI given as such), made once."""
        node = self._iris.get(concept_id)
        if node is None:
            node = self._iris[concept_id] = (
                NamedNode(concept_id)
                if concept_id.startswith(ESCO_DATA.iri)
                else concept_iri(concept_id)
            )
        return node

    def type_terms(self, concept_type: str) -> tuple[Literal, NamedNode, NamedNode]:
        """(type literal, type class, scheme) of a concept type, made once."""
        terms = self._types.get(concept_type)
        if terms is None:
            terms = self._types[concept_type] = (
                Literal(concept_type),
                self.k[type_class_name(concept_type)],
                scheme_iri(self.base, concept_type),
            )
        return terms

    def schemes(self, types: dict[str, tuple[str, str]]) -> Iterator[Quad]:
        """One skos:ConceptScheme (a kll:ConceptType) per concept type."""
        g = self.graph
        for concept_type in sorted(set(types) | self.known_types):
            literal, cls, scheme = self.type_terms(concept_type)
            yield Quad(scheme, self.a, SKOS.ConceptScheme, g)
            yield Quad(scheme, self.a, self.k.ConceptType, g)
            yield Quad(scheme, self.notation, literal, g)
            yield Quad(scheme, self.k.conceptClass, cls, g)
            sv, en = types.get(concept_type, ("", ""))
            if sv:
                yield Quad(scheme, self.pref, Literal(sv, language="sv"), g)
            if en:
                yield Quad(scheme, self.pref, Literal(en, language="en"), g)

    def concept(self, record: ConceptRecord, top: bool) -> Iterator[Quad]:
        """The triples about one concept."""
        g = self.graph
        s = self.iri(record.id)
        yield Quad(s, self.a, self.concept_class, g)
        yield Quad(s, self.jobtech_id, Literal(record.id), g)
        if record.type:
            literal, cls, scheme = self.type_terms(record.type)
            yield Quad(s, self.concept_type, literal, g)
            if record.type in self.known_types:
                yield Quad(s, self.a, cls, g)
                yield Quad(s, self.in_scheme, scheme, g)
                if top:
                    yield Quad(s, self.top_of, scheme, g)
                    yield Quad(scheme, self.has_top, s, g)
        if record.pref_label:
            yield Quad(s, self.pref, Literal(record.pref_label, language="sv"), g)
        for label in sorted(record.alt_labels):
            yield Quad(s, self.alt, Literal(label, language="sv"), g)
        for label in sorted(record.hidden_labels):
            yield Quad(s, self.hidden, Literal(label, language="sv"), g)
        if record.definition:
            yield Quad(s, self.definition, Literal(record.definition, language="sv"), g)
        for system, value in sorted(record.notations):
            yield Quad(s, self.notation, Literal(value, datatype=self.datatypes[system]), g)
        if record.deprecated:
            yield Quad(s, self.deprecated, self.true, g)
        if record.esco_uri:
            yield Quad(s, SKOS.exactMatch, self.iri(record.esco_uri), g)

    def edge(self, subject: str, relation: str, obj: str, esco: dict[str, str]) -> Iterator[Quad]:
        """The triples of one relation edge (both directions where SKOS has an inverse)."""
        g = self.graph
        s, o = self.iri(subject), self.iri(obj)
        if relation == "broader":
            yield Quad(s, self.broader, o, g)
            yield Quad(o, self.narrower, s, g)
        elif relation == "related":
            yield Quad(s, self.related, o, g)
            yield Quad(o, self.related, s, g)
        elif relation == "replaced_by":
            yield Quad(s, self.replaced_by, o, g)
            yield Quad(o, self.replaces, s, g)
            yield Quad(s, self.deprecated, self.true, g)
        elif relation in MATCH_FIELDS:
            yield Quad(s, MATCH_FIELDS[relation], o, g)
            if obj in esco:
                yield Quad(s, MATCH_FIELDS[relation], self.iri(esco[obj]), g)
        else:
            yield Quad(s, self.other[relation], o, g)

    def substitution(self, substitute: str, substituted: str, pct: int | None) -> Iterator[Quad]:
        """The simple kll:substitutes triple plus the qualified node carrying the percentage."""
        g = self.graph
        s, o = self.iri(substitute), self.iri(substituted)
        yield Quad(s, self.substitutes, o, g)
        node = BlankNode()
        yield Quad(node, self.a, self.substitutability, g)
        yield Quad(node, self.substitute, s, g)
        yield Quad(node, self.substituted, o, g)
        if pct is not None:
            literal = self._percent.get(pct)
            if literal is None:
                literal = self._percent[pct] = Literal(str(pct), datatype=XSD.integer)
            yield Quad(node, self.percentage, literal, g)


def taxonomy_quads(
    ctx: ImportContext, taxonomy: Taxonomy, types: dict[str, tuple[str, str]]
) -> list[Quad]:
    """Every quad of the merged taxonomy, in one list for one bulk call."""
    known = set(CONCEPT_TYPES) | set(types)
    writer = QuadWriter(ctx, known)
    has_broader = _broader_in_own_scheme(taxonomy)
    esco = {cid: r.esco_uri for cid, r in taxonomy.concepts.items() if r.esco_uri}
    quads = list(writer.schemes(types))
    for record in taxonomy.concepts.values():
        top = record.id not in has_broader and not record.deprecated
        quads.extend(writer.concept(record, top))
    for subject, relation, obj in sorted(taxonomy.edges):
        quads.extend(writer.edge(subject, relation, obj, esco))
    for (substitute, substituted), pct in sorted(taxonomy.substitutions.items()):
        quads.extend(writer.substitution(substitute, substituted, pct))
    return quads


def _broader_in_own_scheme(taxonomy: Taxonomy) -> set[str]:
    """Ids of concepts with a broader concept of their own type, i.e. in their own scheme.

    The others are the top concepts of their type's scheme: with one scheme per type, an
    occupation name (whose broader SSYK group is in another scheme) is a top concept of the
    occupation-name scheme, and only the SSYK level-1 groups are top concepts of theirs.
    """
    concepts = taxonomy.concepts
    out = set()
    for subject, relation, obj in taxonomy.edges:
        if relation != "broader" or subject not in concepts:
            continue
        target = concepts.get(obj)
        if target is None or target.type == concepts[subject].type:
            out.add(subject)
    return out


# --- the summary ------------------------------------------------------------------------------
def report(ctx: ImportContext, taxonomy: Taxonomy, types: dict[str, tuple[str, str]]) -> None:
    """Counts, per-type figures, dangling relations, unknown types and disagreements."""
    counts = ctx.report.counts
    known = set(CONCEPT_TYPES) | set(types)
    per_type = Counter(r.type or "(no type)" for r in taxonomy.concepts.values())
    counts["concepts"] = len(taxonomy.concepts)
    counts["concept schemes"] = len(known)
    counts["deprecated"] = sum(r.deprecated for r in taxonomy.concepts.values())
    relation_counts = Counter(rel for _, rel, _ in taxonomy.edges)
    for relation, number in relation_counts.items():
        counts[f"edges {relation}"] = number
    counts["edges substitutes"] = len(taxonomy.substitutions)
    counts.update(taxonomy.counts)
    ctx.report.note(
        "concepts per type: " + ", ".join(f"{t} {n:,}" for t, n in sorted(per_type.items()))
    )
    unknown = {t: n for t, n in per_type.items() if t not in known}
    if unknown:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(unknown.items()))
        ctx.report.warn(f"unknown concept type(s), imported as generic skos:Concept: {listed}")
    dangling = _dangling(taxonomy)
    if dangling:
        counts["relations to ids not in the data"] = sum(dangling.values())
        ctx.report.note(
            f"{sum(dangling.values()):,} relation(s) point at {len(dangling):,} id(s) that are "
            "not in the data; kept as the official URIs"
        )
    for line in taxonomy.conflicts.lines():
        ctx.report.warn(line)
    if taxonomy.ignored_fields:
        fields = ", ".join(f"{n} ({c})" for n, c in sorted(taxonomy.ignored_fields.items()))
        ctx.report.note(f"fields not imported: {fields}")
    if ctx.source.version == "unknown":
        message = "taxonomy version unknown: these dataset files do not record it"
        ctx.report.note(message)
        ctx.report.metadata.append((RDFS.comment, Literal(message, language="en")))


def _dangling(taxonomy: Taxonomy) -> Counter[str]:
    ids = taxonomy.concepts
    dangling: Counter[str] = Counter()
    for subject, _, obj in taxonomy.edges:
        for cid in (subject, obj):
            if cid not in ids and not cid.startswith(ESCO_DATA.iri):
                dangling[cid] += 1
    for pair in taxonomy.substitutions:
        for cid in pair:
            if cid not in ids:
                dangling[cid] += 1
    return dangling


# --- the importer -------------------------------------------------------------------------------
def load_taxonomy(ctx: ImportContext) -> tuple[Taxonomy, dict[str, tuple[str, str]]]:
    """Read and merge every file of the source; the concept types (labels) alongside."""
    if not ctx.path.exists():
        raise ctx.fail("not found")
    types_file = (ctx.path if ctx.path.is_dir() else ctx.path.parent) / CONCEPT_TYPES_FILE
    types = read_concept_types(ctx, types_file) if types_file.is_file() else {}
    if not types:
        ctx.report.note(f"{CONCEPT_TYPES_FILE} not found: concept schemes carry no labels")
    files = dataset_files(ctx.path)
    if not files:
        raise ctx.fail("no JobTech dataset file (*.json) here")
    taxonomy = Taxonomy()
    for file in files:
        ctx.progress(f"reading {file.name}")
        concepts = _data(ctx, read_json(ctx, file), file, "concepts")
        try:
            taxonomy.add_concepts(concepts, file.name)
        except ValueError as exc:
            raise ctx.fail(str(exc), path=file) from exc
        ctx.report.counts["files"] += 1
    taxonomy.resolve_idless()
    return taxonomy, types


def import_jobtech(ctx: ImportContext) -> None:
    """Import the JobTech dataset JSON files (or the concepts-and-common-relations dump)."""
    taxonomy, types = load_taxonomy(ctx)
    quads = taxonomy_quads(ctx, taxonomy, types)
    ctx.progress(f"adding {len(quads):,} quads")
    ctx.add(quads)
    ctx.report.counts["quads"] = len(quads)
    report(ctx, taxonomy, types)
