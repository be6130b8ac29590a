"""A mappings directory for the set-file tests: a matcher-like candidate set (evidence at the
row and at the set level, as `kll-graph mappings suggest` writes it) and an empty target set."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kll_graph.mappings.sssom import Mapping, MappingSet, write_sssom
from kll_graph.namespaces import ESCO_DATA, JOBTECH_CONCEPT
from kll_graph.review.setfiles import SetFiles

BASE = "https://w3id.org/kll-graph/"
ANN = "https://orcid.org/0000-0002-1825-0097"
BO = f"{BASE}users/bo"
TODAY = date(2025, 3, 14)
JT = JOBTECH_CONCEPT.iri
ESCO = ESCO_DATA.iri

#: The evidence the matcher keeps per row; an accepted row must keep every one.
ROW_EVIDENCE = {
    "confidence": "0.912",
    "similarity_score": "1",
    "match_string": "barnsjuksköterska",
    "subject_match_field": "skos:prefLabel",
    "object_match_field": "skos:altLabel",
    "subject_preprocessing": "semapv:CaseNormalization|semapv:DiacriticsSuppression",
    "object_preprocessing": "semapv:CaseNormalization|semapv:DiacriticsSuppression",
    "subject_label": "Barnsjuksköterska",
    "object_label": "sjuksköterska",
    "comment": "rank 1; equal label (folded), shared by 1 concept(s)",
}
#: The evidence the matcher's set holds at the set level (propagated to every row).
SET_EVIDENCE = {
    "mapping_tool": "kll-graph mappings suggest",
    "mapping_tool_version": "0.9.0",
    "mapping_date": "2025-03-01",
    "similarity_measure": "TF-IDF cosine of character trigrams of folded labels (best label pair)",
    "subject_source_version": "2024-11",
    "object_source_version": "v1.2.0",
}


def candidate_rows() -> list[Mapping]:
    first = {
        "subject_id": "jt:kid_nurse",
        "predicate_id": "skos:exactMatch",
        "object_id": "ESCO:occupation/nurse",
        "mapping_justification": "semapv:LexicalMatching",
        **ROW_EVIDENCE,
    }
    second = {
        "subject_id": "jt:welder",
        "subject_label": "Svetsare",
        "predicate_id": "skos:closeMatch",
        "object_id": "ESCO:occupation/welder",
        "object_label": "welder",
        "mapping_justification": "semapv:LexicalSimilarityThresholdMatching",
        "confidence": "0.55",
        "similarity_score": "0.71",
    }
    third = {
        "subject_id": "jt:baker",
        "subject_label": "Bagare",
        "predicate_id": "skos:exactMatch",
        "object_id": "ESCO:occupation/baker",
        "object_label": "baker",
        "mapping_justification": "semapv:LexicalMatching",
        "confidence": "0.8",
    }
    return [Mapping(first), Mapping(second), Mapping(third)]


def candidate_set() -> MappingSet:
    metadata: dict[str, object] = {
        "mapping_set_id": f"{BASE}mappings/candidates",
        "license": "https://w3id.org/sssom/license/unspecified",
        "subject_type": "skos concept",
        "object_type": "skos concept",
        **SET_EVIDENCE,
    }
    return MappingSet({"ESCO": ESCO, "jt": JT}, metadata, candidate_rows())


def setup(directory: Path) -> SetFiles:
    """A mappings directory with `candidates` and an empty `nurses` set."""
    directory.mkdir(parents=True, exist_ok=True)
    write_sssom(candidate_set(), directory / "candidates.sssom.tsv")
    files = SetFiles(directory, BASE)
    files.create("nurses", "Nurses, reviewed", ANN)
    return files


def candidate(files: SetFiles, subject: str) -> Mapping:
    """The candidate row of a subject, as the workbench reads it (set values propagated)."""
    mset, _etag = files.read("candidates")
    return next(m for m in mset.mappings if m.get("subject_id") == subject)
