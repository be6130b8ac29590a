"""The types a reconciliation client can ask for: every concept type of the label index, and
three umbrella types above them (occupations, skills, occupation groups) so that one request
can cover JobTech and ESCO at once.

A requested type filters candidates to itself and its narrower types ("occupations" finds JobTech
occupation names and ESCO occupations). Ids are the label index's type ids (`occupation-name`,
`esco:Occupation`, `esco/isco` ...); a type's class IRI is accepted as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kll_graph.labels.index import LabelIndex

#: Umbrella types: id -> (names by language, the index types below it).
UMBRELLAS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "occupations": (
        {"sv": "Yrke (JobTech och ESCO)", "en": "Occupation (JobTech and ESCO)"},
        ("occupation-name", "esco:Occupation"),
    ),
    "skills": (
        {"sv": "Kompetens (JobTech och ESCO)", "en": "Skill (JobTech and ESCO)"},
        ("skill", "esco:Skill"),
    ),
    "occupation-groups": (
        {"sv": "Yrkesgrupp (SSYK och ISCO)", "en": "Occupation group (SSYK and ISCO)"},
        (
            "ssyk-level-1",
            "ssyk-level-2",
            "ssyk-level-3",
            "ssyk-level-4",
            "isco-level-4",
            "esco/isco",
        ),
    ),
}
#: Names for index types whose own labels say too little to a user.
NAMES: dict[str, dict[str, str]] = {
    "esco:Occupation": {"sv": "ESCO-yrke", "en": "ESCO occupation"},
    "esco:Skill": {"sv": "ESCO-kompetens", "en": "ESCO skill"},
    "esco/isco": {"sv": "ISCO-08-grupp (ESCO)", "en": "ISCO-08 group (ESCO)"},
}
#: The types a manifest offers first, in this order (those the index has).
DEFAULT_TYPES = (
    "occupations",
    "occupation-name",
    "esco:Occupation",
    "skills",
    "skill",
    "esco:Skill",
    "occupation-groups",
    "ssyk-level-4",
    "esco/isco",
    "keyword",
)


@dataclass(frozen=True)
class ReconType:
    """One type: its id, names by language, the broader type ids and the index types it covers."""

    id: str
    names: dict[str, str]
    vocabulary: str | None
    broader: tuple[str, ...] = ()
    covers: frozenset[int] = field(default_factory=frozenset)

    def name(self, lang: str | None) -> str:
        return LabelIndex.pick(self.names, lang) or self.id


class TypeCatalog:
    """Every type of one index, with lookups by id or IRI."""

    def __init__(self, index: LabelIndex) -> None:
        self.types: dict[str, ReconType] = {}
        vocabularies = _vocabularies(index)
        broader_of: dict[str, list[str]] = {}
        for umbrella, (_, members) in UMBRELLAS.items():
            for member in members:
                broader_of.setdefault(member, []).append(umbrella)
        for number, info in enumerate(index.types):
            vocabulary = vocabularies.get(number)
            names = dict(NAMES.get(info.id) or info.labels)
            if info.id not in NAMES and vocabulary == "jobtech":
                names = {k: f"JobTech {_lower_first(v)}" for k, v in names.items()}
            self.types[info.id] = ReconType(
                info.id,
                {k or "en": v for k, v in names.items()},
                vocabulary,
                tuple(broader_of.get(info.id, ())),
                frozenset({number}),
            )
        for umbrella, (names, members) in UMBRELLAS.items():
            covers = frozenset(index.type_by_id[m] for m in members if m in index.type_by_id)
            if covers:
                self.types[umbrella] = ReconType(umbrella, names, None, (), covers)
        self.aliases = {info.iri: info.id for info in index.types if info.iri}

    def get(self, type_id: str) -> ReconType | None:
        """The type with this id or class IRI, or None."""
        return self.types.get(type_id) or self.types.get(self.aliases.get(type_id, ""))

    def of_concept(self, index: LabelIndex, concept: int) -> ReconType:
        return self.types[index.types[int(index.concept_type[concept])].id]

    def covered(self, type_ids: Iterable[str]) -> tuple[frozenset[int], bool]:
        """The index types the requested ids cover, and whether every id was known."""
        covers: set[int] = set()
        known = True
        for type_id in type_ids:
            found = self.get(type_id)
            if found is None:
                known = False
            else:
                covers |= found.covers
        return frozenset(covers), known

    def default_types(self) -> list[ReconType]:
        return [self.types[t] for t in DEFAULT_TYPES if t in self.types]

    def as_dict(
        self, recon_type: ReconType, lang: str | None, broader: bool = True
    ) -> dict[str, Any]:
        """A type as the manifests and suggest answers show it (the spec's type.json)."""
        out: dict[str, Any] = {"id": recon_type.id, "name": recon_type.name(lang)}
        if recon_type.vocabulary:
            out["description"] = f"{recon_type.vocabulary} · {recon_type.id}"
        if broader and recon_type.broader:
            out["broader"] = [
                self.as_dict(self.types[b], lang, broader=False)
                for b in recon_type.broader
                if b in self.types
            ]
        return out

    def suggest(self, prefix: str, lang: str | None) -> list[ReconType]:
        """Types whose id or a name contains the prefix (folded), umbrellas and defaults first."""
        from_text = prefix.casefold().strip()
        order = {t: i for i, t in enumerate(DEFAULT_TYPES)}
        found = [
            t
            for t in self.types.values()
            if not from_text
            or from_text in t.id.casefold()
            or any(from_text in name.casefold() for name in t.names.values())
        ]
        return sorted(found, key=lambda t: (order.get(t.id, len(order)), t.name(lang)))


def _vocabularies(index: LabelIndex) -> dict[int, str | None]:
    """Each type's vocabulary: that of the scheme most of its concepts are in."""
    found: dict[int, str | None] = {}
    for concept, scheme in enumerate(index.concept_scheme.tolist()):
        number = int(index.concept_type[concept])
        if number not in found and scheme >= 0:
            vocabulary = index.schemes[scheme].vocabulary or ""
            found[number] = (
                "jobtech"
                if vocabulary.startswith("jobtech")
                else ("esco" if vocabulary.startswith("esco") else vocabulary or None)
            )
    return found


def _lower_first(text: str) -> str:
    """ "Occupation name" → "occupation name", but "SSYK 2012 ..." stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def names(types: Sequence[ReconType], lang: str | None) -> list[dict[str, str]]:
    return [{"id": t.id, "name": t.name(lang)} for t in types]
