"""The matcher's candidates as an SSSOM mapping set, written atomically.

Every row keeps the evidence a curator needs (which labels matched, the similarity, the
hierarchy, the ambiguity) in the SSSOM slots made for it and in the comment, so accepting a
candidate does not have to throw the matcher's reasons away. The set is a pure function of the
store: no dates but the build's, rows sorted canonically, so the same store gives the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pyoxigraph import NamedNode

from kll_graph import __version__
from kll_graph.exceptions import MatcherError
from kll_graph.files import replace_atomically
from kll_graph.mappings.matcher import TIERS, TYPES, Candidate, Suggestions
from kll_graph.mappings.sssom import (
    BUILTIN_PREFIXES,
    EXACT_MATCH,
    UNSPECIFIED_LICENSE,
    Mapping,
    MappingSet,
    compress,
    format_sssom,
)
from kll_graph.namespaces import ESCO_DATA, JOBTECH_CONCEPT
from kll_graph.sparql.query import select_named
from kll_graph.store import GraphStore, Manifest

CURIE_MAP = {"ESCO": ESCO_DATA.iri, "jt": JOBTECH_CONCEPT.iri}
#: Equal labels: lexical matching; similar labels only: lexical similarity above a threshold.
EQUAL_LABEL = "semapv:LexicalMatching"
SIMILAR_LABEL = "semapv:LexicalSimilarityThresholdMatching"
#: No equal label, and a reviewed mapping of a concept with a close label names the object too:
#: the confidence combines both (:class:`~kll_graph.mappings.matcher.Neighbours`).
COMBINED = "semapv:CompositeMatching"
#: No label in common and no neighbour: the hierarchy put the candidate there (the subject's ISCO
#: unit group, an SSYK group's occupation names).
STRUCTURE = "semapv:StructuralMatching"
SIMILARITY_MEASURE = "TF-IDF cosine of character trigrams of folded labels (best label pair)"
#: How the labels were prepared before comparing (SEMAPV preprocessing terms), per equality
#: tier (diacritics kept; folded; words in any order) and for the trigram similarity (None).
PREPROCESSING: dict[int | None, tuple[str, ...]] = {
    0: ("semapv:CaseNormalization", "semapv:PunctuationElemination"),
    1: (
        "semapv:CaseNormalization",
        "semapv:PunctuationElemination",
        "semapv:DiacriticsSuppression",
    ),
    2: (
        "semapv:CaseNormalization",
        "semapv:PunctuationElemination",
        "semapv:DiacriticsSuppression",
        "semapv:Tokenization",
    ),
    None: (
        "semapv:CaseNormalization",
        "semapv:PunctuationElemination",
        "semapv:DiacriticsSuppression",
        "semapv:Tokenization",
    ),
}
#: The sources whose versions the set records.
SUBJECT_SOURCE, OBJECT_SOURCE = "jobtech", "esco"


def reviewed_subjects(store: GraphStore) -> set[str]:
    """Concepts with a reviewed mapping (or a reviewed "no match") in any set of the store."""
    rows = select_named(store, "mappings_reviewed_subjects")
    return {row[0].value for row in rows if isinstance(row[0], NamedNode)}


def reviewed_pairs(store: GraphStore) -> dict[str, dict[str, str]]:
    """Subject -> object -> predicate (``skos:`` CURIE) of the reviewed exact, close, broad and
    narrow mappings in the sets of the store: the matcher's evidence for the subjects not
    mapped yet. A pair reviewed with two predicates (in two sets) keeps exactMatch if either
    is; otherwise the first in IRI order."""
    pairs: dict[str, dict[str, str]] = {}
    for row in select_named(store, "mappings_reviewed_pairs"):
        source, target, prop = row[0], row[1], row[2]
        if not (isinstance(source, NamedNode) and isinstance(target, NamedNode)):
            continue
        predicate = compress(prop.value, BUILTIN_PREFIXES)
        found = pairs.setdefault(source.value, {})
        was = found.get(target.value, predicate)
        found[target.value] = (
            EXACT_MATCH if EXACT_MATCH in (was, predicate) else min(was, predicate)
        )
    return pairs


def curie(iri: str) -> str:
    """The jt: or ESCO: CURIE of a concept IRI (the IRI itself outside both namespaces)."""
    for prefix, namespace in CURIE_MAP.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _comment(candidate: Candidate, rank: int) -> str:
    e = candidate.evidence
    parts = [f"rank {rank}"]
    if e.tier is not None:
        parts.append(f"equal label ({TIERS[e.tier]}), shared by {e.ambiguity} concept(s)")
    if candidate.compared:
        parts.append(f"cosine sv {e.cos_sv:.3f}, en {e.cos_en:.3f}")
    else:
        parts.append("no label in common")
    if e.isco != "unknown":
        codes = ",".join(sorted(candidate.subject.isco))
        parts.append(
            f"ISCO {e.isco} (subject {codes}, object {','.join(sorted(candidate.target.isco))})"
        )
    if e.names:
        parts.append(
            f"{e.names:.0%} of the group's occupation names with an ESCO occupation of equal "
            "label point at this unit group"
        )
    if e.keyword:
        parts.append(f"keyword cosine {e.keyword:.3f}")
    if e.substitute:
        parts.append(
            "an occupation name that can substitute the subject (or it them) has its label"
        )
    if e.neighbour:
        parts.append(
            f"reviewed mapping of a concept with a close label: {e.neighbour_label} "
            f"(cosine {e.neighbour:.3f})"
        )
    if e.narrower:
        parts.append("object label extends the subject's")
    if e.broader:
        parts.append("subject label extends the object's")
    return "; ".join(parts)


def _justification(candidate: Candidate) -> str:
    evidence = candidate.evidence
    if evidence.tier is not None:
        return EQUAL_LABEL
    if evidence.neighbour:
        return COMBINED
    return SIMILAR_LABEL if candidate.compared else STRUCTURE


def _row(candidate: Candidate, rank: int) -> Mapping:
    e = candidate.evidence
    # with no label in common, a similarity of 0 or the labels' preprocessing would claim a
    # comparison of labels that found something
    compared = candidate.compared
    slots = {
        "subject_id": curie(candidate.subject.iri),
        "subject_label": candidate.subject.pref,
        "predicate_id": candidate.predicate,
        "object_id": curie(candidate.target.iri),
        "object_label": candidate.target.pref,
        "mapping_justification": _justification(candidate),
        "confidence": f"{candidate.confidence:.3f}",
        "similarity_score": (
            f"{1.0 if e.tier is not None else candidate.similarity:.3f}" if compared else ""
        ),
        "match_string": e.match_string,
        "subject_match_field": e.subject_field,
        "object_match_field": e.object_field,
        "subject_preprocessing": "|".join(PREPROCESSING[e.tier]) if compared else "",
        "object_preprocessing": "|".join(PREPROCESSING[e.tier]) if compared else "",
        "comment": _comment(candidate, rank),
    }
    return Mapping({k: v for k, v in slots.items() if v})


def _version(manifest: Manifest, source: str) -> str:
    versions = sorted({g.version for g in manifest.graphs if g.source == source})
    known = [v for v in versions if v and v != "unknown"]
    return known[0] if known else ""


def candidate_set(suggestions: Suggestions, manifest: Manifest, types: Sequence[str]) -> MappingSet:
    """The candidates as one SSSOM set; the set-level slots say how they were made."""
    mappings = [
        _row(candidate, rank)
        for name in types
        for ranked in suggestions.by_type.get(name, [])
        for rank, candidate in enumerate(ranked, 1)
    ]
    described = "; ".join(TYPES[name].description for name in types)
    metadata: dict[str, object] = {
        "mapping_set_id": f"{manifest.base_iri}mappings/candidates",
        "mapping_set_title": "Mapping candidates, JobTech to ESCO (not reviewed)",
        "mapping_set_description": (
            f"Proposed by kll-graph mappings suggest from build {manifest.build_id} ({described}). "
            "Confidence is calibrated on half of Sweden's official mapping tables' subjects "
            "(see docs/mappings.md); the comment of each row lists the evidence. The predicate is "
            "exactMatch for equal labels, broad or narrow when one label extends the other, "
            "else closeMatch."
        ),
        "license": UNSPECIFIED_LICENSE,
        "subject_type": "skos concept",
        "object_type": "skos concept",
        "mapping_tool": "kll-graph mappings suggest",
        "mapping_tool_version": __version__,
        "mapping_date": manifest.started.date().isoformat(),
        "similarity_measure": SIMILARITY_MEASURE,
    }
    for slot, source in (
        ("subject_source_version", SUBJECT_SOURCE),
        ("object_source_version", OBJECT_SOURCE),
    ):
        version = _version(manifest, source)
        if version:
            metadata[slot] = version
    return MappingSet(dict(CURIE_MAP), metadata, mappings)


def check_writable(out: Path) -> None:
    """Refuse an output whose folder is missing or not writable, before any work is done."""
    directory = out.resolve().parent
    if not directory.is_dir():
        raise MatcherError(f"cannot write {out}: the folder {directory} does not exist")
    if out.is_dir() or not os.access(directory, os.W_OK):
        raise MatcherError(f"cannot write {out}: not a writable file path; choose another --out")


def write_atomically(text: str, out: Path) -> None:
    """Replace `out` atomically, so no partial file is left; a clear MatcherError if it fails."""
    directory = out.resolve().parent
    if not directory.is_dir():
        raise MatcherError(f"cannot write {out}: the folder {directory} does not exist")
    try:
        replace_atomically(out, text.encode("utf-8"))
    except OSError as exc:
        raise MatcherError(f"cannot write {out}: {exc.strerror}; choose another --out") from None


def write_candidates(mset: MappingSet, out: Path) -> None:
    """The set canonically (as every SSSOM file of ours is written), atomically."""
    write_atomically(format_sssom(mset), out)
