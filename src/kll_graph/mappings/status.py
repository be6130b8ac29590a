"""The review status of a mapping row, read from its standard SSSOM slots.

SSSOM has no status slot yet, so the status is derived, never stored: the same file always means
the same status, and a row written by any SSSOM tool gets one too.

- ``rejected``: ``predicate_modifier: Not`` (a reviewer said no; never proposed again);
- ``unsure``: a reviewer looked and could not decide (``reviewer_agreement`` 0);
- ``reviewed``: a reviewer other than the author accepted it (``reviewer_id`` set);
- ``candidate``: made by a tool (lexical or other automatic justification) and not reviewed;
- ``curated``: made by a person (manual curation, an official table) and not reviewed again.

Only ``reviewed`` and ``curated`` rows assert their SKOS match triple in the graph; every row keeps
its mapping node with its status (``kll:reviewStatus``), so one SPARQL filter selects a status.
"""

from __future__ import annotations

from typing import Final

from kll_graph.mappings.sssom import Mapping

CANDIDATE: Final = "candidate"
CURATED: Final = "curated"
REVIEWED: Final = "reviewed"
UNSURE: Final = "unsure"
REJECTED: Final = "rejected"
#: Every status, in the order a queue shows them.
STATUSES: Final = (CANDIDATE, UNSURE, CURATED, REVIEWED, REJECTED)
#: Statuses whose rows assert their SKOS match triple.
ASSERTED: Final = frozenset({CURATED, REVIEWED})

#: Justifications that say a person made the mapping (the rest are tools' work).
MANUAL_JUSTIFICATIONS: Final = frozenset(
    {"semapv:ManualMappingCuration", "semapv:MappingReview", "semapv:UnspecifiedMatching"}
)


def _zero(text: str) -> bool:
    try:
        return float(text) == 0.0
    except ValueError:
        return False


def row_status(mapping: Mapping) -> str:
    """The status of one row (see the module docstring for what each means).

    >>> row_status(Mapping({"predicate_modifier": "Not"}))
    'rejected'
    >>> row_status(Mapping({"reviewer_id": "orcid:1", "reviewer_agreement": "0.0"}))
    'unsure'
    >>> row_status(Mapping({"mapping_justification": "semapv:LexicalMatching"}))
    'candidate'
    >>> row_status(Mapping({"mapping_justification": "semapv:ManualMappingCuration"}))
    'curated'
    """
    if mapping.negated:
        return REJECTED
    if mapping.get("reviewer_id"):
        return UNSURE if _zero(mapping.get("reviewer_agreement")) else REVIEWED
    if mapping.get("mapping_justification") in MANUAL_JUSTIFICATIONS:
        return CURATED
    return CANDIDATE
