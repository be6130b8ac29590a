"""Decisions as rows: every relation key pinned to its predicate and sentence (broad and narrow can
never be swapped), accept keeps the matcher's evidence, reject writes Not, the author may not
review, bad input is refused naming what is wrong, and undo takes a change back."""

from __future__ import annotations

from pathlib import Path

import pytest

from kll_graph.exceptions import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from kll_graph.mappings.checks import file_errors
from kll_graph.mappings.sssom import NO_TERM_FOUND, Mapping, expand, read_sssom
from kll_graph.mappings.status import CURATED, REJECTED, REVIEWED, UNSURE, row_status
from kll_graph.namespaces import INVERSE_MATCH, SKOS
from kll_graph.review.decisions import (
    COMMENT_LIMIT,
    RELATIONS,
    Decision,
    apply_decision,
    decide,
    decide_batch,
    relation_for,
    row_json,
    sentence,
    undo,
    undo_last,
)
from kll_graph.review.setfiles import SetFiles
from tests.review.sets_helpers import (
    ANN,
    BO,
    ESCO,
    JT,
    ROW_EVIDENCE,
    SET_EVIDENCE,
    TODAY,
    candidate,
    setup,
)

# key, name, predicate, English sentence, Swedish sentence: for JobTech 'Barnsjuksköterska'
# (the subject) and ESCO 'sjuksköterska' (the object).
TABLE = [
    (
        "1",
        "exact",
        "skos:exactMatch",
        "ESCO 'sjuksköterska' is the same as JobTech 'Barnsjuksköterska'",
        "ESCO 'sjuksköterska' är samma som JobTech 'Barnsjuksköterska'",
    ),
    (
        "2",
        "close",
        "skos:closeMatch",
        "ESCO 'sjuksköterska' is close to JobTech 'Barnsjuksköterska'",
        "ESCO 'sjuksköterska' ligger nära JobTech 'Barnsjuksköterska'",
    ),
    (
        "3",
        "broad",
        "skos:broadMatch",
        "ESCO 'sjuksköterska' is broader than JobTech 'Barnsjuksköterska'",
        "ESCO 'sjuksköterska' är bredare än JobTech 'Barnsjuksköterska'",
    ),
    (
        "4",
        "narrow",
        "skos:narrowMatch",
        "ESCO 'sjuksköterska' is narrower than JobTech 'Barnsjuksköterska'",
        "ESCO 'sjuksköterska' är smalare än JobTech 'Barnsjuksköterska'",
    ),
    (
        "5",
        "related",
        "skos:relatedMatch",
        "ESCO 'sjuksköterska' is related to JobTech 'Barnsjuksköterska'",
        "ESCO 'sjuksköterska' är relaterat till JobTech 'Barnsjuksköterska'",
    ),
]


def test_relations_are_the_five_in_key_order() -> None:
    assert [(r.key, r.name, r.predicate) for r in RELATIONS] == [t[:3] for t in TABLE]


@pytest.mark.parametrize(("key", "name", "predicate", "english", "swedish"), TABLE)
def test_every_choice_is_pinned_to_its_triple_and_sentence(
    tmp_path: Path, key: str, name: str, predicate: str, english: str, swedish: str
) -> None:
    for given in (key, name, predicate, SKOS.iri + predicate.removeprefix("skos:")):
        assert relation_for(given).predicate == predicate
    assert sentence(key, "Barnsjuksköterska", "sjuksköterska", "en") == english
    assert sentence(name, "Barnsjuksköterska", "sjuksköterska", lang="sv") == swedish
    # the choice written into a set: JobTech subject, the chosen predicate, ESCO object
    files = setup(tmp_path)
    decision = Decision("nurses", "jt:kid_nurse", "ESCO:occupation/nurse", key, "accept")
    _result, row = decide(
        files, decision, candidate(files, "jt:kid_nurse"), BO, files.etag("nurses"), today=TODAY
    )
    written = read_sssom(files.path("nurses"))
    (line,) = written.mappings
    assert (line.get("subject_id"), line.get("predicate_id"), line.get("object_id")) == (
        "jt:kid_nurse",
        predicate,
        "ESCO:occupation/nurse",
    )
    assert row.get("predicate_id") == predicate


def test_broad_means_the_esco_object_is_the_broader_concept() -> None:
    """skos:broadMatch from the JobTech subject says the object is broader (SKOS: `A
    skos:broadMatch B` = B is broader); so its sentence names ESCO as the broader one and the
    inverse, read from ESCO, is narrowMatch."""
    broad, narrow = relation_for("3"), relation_for("4")
    assert broad.predicate == "skos:broadMatch"
    assert narrow.predicate == "skos:narrowMatch"
    text = broad.sentence("Barnsjuksköterska", "sjuksköterska")
    assert text.startswith("ESCO 'sjuksköterska' is broader than")
    assert "bredare" in broad.sentence("Barnsjuksköterska", "sjuksköterska", "sv")
    assert "smalare" in narrow.sentence("Barnsjuksköterska", "sjuksköterska", "sv")
    assert INVERSE_MATCH["broadMatch"] == "narrowMatch"


def test_sentence_in_an_unknown_language_is_refused() -> None:
    with pytest.raises(BadRequestError, match="languages: en, sv"):
        sentence("exact", "a", "b", "de")


# --- what each decision writes ------------------------------------------------------------------


def _decide(files: SetFiles, decision: Decision, cand: Mapping | None, user: str) -> Mapping:
    _result, row = decide(files, decision, cand, user, files.etag(decision.set), today=TODAY)
    return row


def test_accept_keeps_every_piece_of_evidence_and_adds_the_review(tmp_path: Path) -> None:
    files = setup(tmp_path)
    cand = candidate(files, "jt:kid_nurse")
    decision = Decision(
        "nurses", "jt:kid_nurse", "ESCO:occupation/nurse", "broad", "accept", "checked the ISCO"
    )
    _decide(files, decision, cand, BO)
    mset, _etag = files.read("nurses")
    (row,) = mset.mappings
    for slot, value in {**ROW_EVIDENCE, **SET_EVIDENCE}.items():
        if slot == "comment":
            continue
        assert row.get(slot) == value, slot
    assert row.get("predicate_id") == "skos:broadMatch"
    assert row.get("mapping_justification") == "semapv:MappingReview"
    assert row.get("review_date") == TODAY.isoformat()
    assert row.get("comment") == "checked the ISCO"
    assert expand(row.get("reviewer_id"), mset.prefixes()) == BO
    assert not row.get("author_id")
    assert row_status(row) == REVIEWED
    assert row_json(row)["status"] == REVIEWED
    assert file_errors(read_sssom(files.path("nurses"))) == []


def test_accept_without_a_comment_keeps_the_matchers_comment(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision("nurses", "jt:kid_nurse", "ESCO:occupation/nurse", "1", "accept")
    row = _decide(files, decision, candidate(files, "jt:kid_nurse"), BO)
    assert row.get("comment") == ROW_EVIDENCE["comment"]


def test_reject_writes_not_with_the_reason(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision(
        "nurses", "jt:welder", "ESCO:occupation/welder", "", "reject", "a welder is not a cutter"
    )
    row = _decide(files, decision, candidate(files, "jt:welder"), BO)
    assert row.get("predicate_modifier") == "Not"
    assert row.get("predicate_id") == "skos:closeMatch"  # the candidate's, none chosen
    assert row.get("comment") == "a welder is not a cutter"
    assert row.get("confidence") == "0.55"
    assert row_status(row) == REJECTED
    (written,) = read_sssom(files.path("nurses")).mappings
    assert written.negated


def test_unsure_marks_the_reviewer_with_zero_agreement(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision("nurses", "jt:welder", "ESCO:occupation/welder", "", "unsure")
    row = _decide(files, decision, candidate(files, "jt:welder"), BO)
    assert row.get("reviewer_agreement") == "0"
    assert row.get("mapping_justification") == "semapv:LexicalSimilarityThresholdMatching"
    assert row_status(row) == UNSURE


def test_no_term_found(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision("nurses", "jt:baker", "", "", "no-term-found", "no ESCO baker fits")
    row = _decide(files, decision, candidate(files, "jt:baker"), ANN)
    assert row.get("object_id") == NO_TERM_FOUND
    assert row.get("predicate_id") == "skos:exactMatch"
    assert row.get("subject_label") == "Bagare"
    assert row.get("author_id") == "orcid:0000-0002-1825-0097"
    assert row.get("mapping_justification") == "semapv:ManualMappingCuration"
    assert row_status(row) == CURATED
    # a second person confirming it reviews the first one's row
    again = Decision("nurses", "jt:baker", "", "", "no-term-found")
    reviewed = _decide(files, again, None, BO)
    assert reviewed.get("author_id") == "orcid:0000-0002-1825-0097"
    assert reviewed.get("reviewer_id") == "user:bo"
    assert row_status(reviewed) == REVIEWED
    assert len(read_sssom(files.path("nurses")).mappings) == 1


def test_manual_mapping_in_a_tools_set_does_not_inherit_the_tool(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision(
        "candidates", "jt:new_one", f"{ESCO}occupation/new_one", "skos:exactMatch", "accept"
    )
    _decide(files, decision, None, ANN)
    mset, _etag = files.read("candidates")
    manual = next(m for m in mset.mappings if m.get("subject_id") == "jt:new_one")
    assert manual.get("mapping_tool") == ""
    assert manual.get("similarity_measure") == ""
    assert manual.get("mapping_date") == TODAY.isoformat()
    assert manual.get("subject_type") == "skos concept"  # describes the whole set
    assert row_status(manual) == CURATED
    tool_rows = [m for m in mset.mappings if m is not manual]
    assert {m.get("mapping_tool") for m in tool_rows} == {SET_EVIDENCE["mapping_tool"]}


def test_the_author_may_not_review(tmp_path: Path) -> None:
    files = setup(tmp_path)
    manual = Decision("nurses", "jt:welder", "ESCO:occupation/welder", "close", "accept")
    row = _decide(files, manual, None, ANN)
    etag = files.etag("nurses")
    for kind in ("accept", "reject", "unsure"):
        review = Decision("nurses", "jt:welder", "ESCO:occupation/welder", "close", kind)
        with pytest.raises(ForbiddenError, match="author of a mapping may not review it") as err:
            decide(files, review, row, ANN, etag, today=TODAY)
        assert err.value.status == 403
    assert files.etag("nurses") == etag
    # another person may, and the author stays
    review = Decision("nurses", "jt:welder", "ESCO:occupation/welder", "close", "accept")
    reviewed = _decide(files, review, row, BO)
    assert reviewed.get("author_id") == "orcid:0000-0002-1825-0097"
    assert reviewed.get("reviewer_id") == "user:bo"
    assert row_status(reviewed) == REVIEWED


def test_the_author_may_change_their_own_unreviewed_mapping(tmp_path: Path) -> None:
    files = setup(tmp_path)
    _decide(
        files, Decision("nurses", "jt:welder", "ESCO:occupation/welder", "2", "accept"), None, ANN
    )
    row = _decide(
        files, Decision("nurses", "jt:welder", "ESCO:occupation/welder", "4", "accept"), None, ANN
    )
    assert row.get("predicate_id") == "skos:narrowMatch"
    assert not row.get("reviewer_id")
    assert len(read_sssom(files.path("nurses")).mappings) == 1


def test_a_decision_replaces_the_earlier_row_of_its_pair(tmp_path: Path) -> None:
    files = setup(tmp_path)
    mset, _etag = files.read("candidates")
    cand = next(m for m in mset.mappings if m.get("subject_id") == "jt:welder")
    decision = Decision("candidates", "jt:welder", "ESCO:occupation/welder", "3", "accept")
    new, row, removed = apply_decision(mset, decision, cand, BO, TODAY)
    assert removed == [cand]
    assert [m for m in new.mappings if m.get("subject_id") == "jt:welder"] == [row]
    assert len(new.mappings) == len(mset.mappings)
    assert mset.mappings[1] is not row  # the input set is left as it was


def test_accepting_a_mapping_replaces_no_term_found(tmp_path: Path) -> None:
    files = setup(tmp_path)
    _decide(files, Decision("nurses", "jt:baker", "", "", "no-term-found"), None, ANN)
    _decide(
        files, Decision("nurses", "jt:baker", "ESCO:occupation/baker", "1", "accept"), None, ANN
    )
    (row,) = read_sssom(files.path("nurses")).mappings
    assert row.get("object_id") == "ESCO:occupation/baker"


def test_no_term_found_beside_an_accepted_mapping_is_a_conflict(tmp_path: Path) -> None:
    files = setup(tmp_path)
    _decide(
        files, Decision("nurses", "jt:baker", "ESCO:occupation/baker", "1", "accept"), None, ANN
    )
    with pytest.raises(ConflictError, match="reject it before"):
        _decide(files, Decision("nurses", "jt:baker", "", "", "no-term-found"), None, BO)


def test_a_candidate_from_a_set_with_other_prefix_names(tmp_path: Path) -> None:
    """Its CURIEs are rewritten under the target set's prefixes, and its own prefixes are
    declared where the target has none."""
    files = setup(tmp_path)
    cand = Mapping(
        {
            "subject_id": "jobtech:kid_nurse",
            "object_id": "escodata:occupation/nurse",
            "predicate_id": "skos:exactMatch",
            "mapping_justification": "semapv:LexicalMatching",
            "author_id": "ex:robot",
        }
    )
    prefixes = {"jobtech": JT, "escodata": ESCO, "ex": "https://example.org/agents/"}
    decision = Decision("nurses", f"{JT}kid_nurse", "ESCO:occupation/nurse", "1", "accept")
    _result, row = decide(
        files,
        decision,
        cand,
        BO,
        files.etag("nurses"),
        today=TODAY,
        candidate_prefixes=prefixes,
    )
    assert row.get("subject_id") == "jt:kid_nurse"
    written = read_sssom(files.path("nurses"))
    assert written.curie_map["ex"] == "https://example.org/agents/"
    assert file_errors(written) == []


def test_a_candidate_of_another_pair_is_refused(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision("nurses", "jt:kid_nurse", "ESCO:occupation/nurse", "1", "accept")
    with pytest.raises(BadRequestError, match="another pair"):
        _decide(files, decision, candidate(files, "jt:welder"), BO)


def test_unsure_about_nothing_is_refused(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision("nurses", "jt:welder", "ESCO:occupation/welder", "1", "unsure")
    with pytest.raises(BadRequestError, match="no row to be unsure about"):
        _decide(files, decision, None, BO)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "parameter", "message"),
    [
        ({"predicate_id": "owl:sameAs"}, "predicate_id", "skos:exactMatch, skos:closeMatch"),
        ({"predicate_id": "skos:broader"}, "predicate_id", "not a SKOS mapping relation"),
        ({"predicate_id": "6"}, "predicate_id", "skos:relatedMatch"),
        ({"predicate_id": ""}, "predicate_id", "required to accept"),
        ({"predicate_id": 3}, "predicate_id", "must be text"),
        ({"comment": "x" * (COMMENT_LIMIT + 1)}, "comment", "at most 2000"),
        ({"comment": "bell\x07"}, "comment", "control characters"),
        ({"comment": 12}, "comment", "must be text"),
        ({"subject_id": "foo:bar"}, "subject_id", "not a JobTech concept"),
        ({"subject_id": "http://example.org/x"}, "subject_id", "not a JobTech concept"),
        ({"subject_id": "ESCO:occupation/nurse"}, "subject_id", "not a JobTech concept"),
        ({"subject_id": "jt:a b"}, "subject_id", "not a JobTech concept"),
        ({"object_id": "jt:kid_nurse"}, "object_id", "not an ESCO concept"),
        ({"object_id": "ESCO:../x"}, "object_id", "not an ESCO concept"),
        ({"object_id": ""}, "object_id", "not an ESCO concept"),
        ({"decision": "maybe"}, "decision", "accept, reject, unsure, no-term-found"),
        ({"set": "../etc/passwd"}, "set", "not a mapping set name"),
        ({"set": None}, "set", "not a mapping set name"),
    ],
)
def test_bad_decisions_say_what_is_wrong(
    changes: dict[str, object], parameter: str, message: str
) -> None:
    data: dict[str, object] = {
        "set": "nurses",
        "subject_id": "jt:kid_nurse",
        "object_id": "ESCO:occupation/nurse",
        "predicate_id": "skos:exactMatch",
        "decision": "accept",
        "comment": "",
        **changes,
    }
    with pytest.raises(BadRequestError, match=message.replace("(", r"\(")) as err:
        Decision.from_json(data)
    assert err.value.parameter == parameter
    assert err.value.status == 400


def test_a_decision_normalises_what_it_keeps() -> None:
    decision = Decision.from_json(
        {
            "set": "nurses",
            "subject_id": f"{JT}kid_nurse",
            "object_id": "ESCO:occupation/nurse",
            "predicate_id": f"{SKOS.iri}broadMatch",
            "decision": "accept",
            "comment": "two\nlines\tand  spaces",
        }
    )
    assert decision.subject_id == f"{JT}kid_nurse"
    assert decision.object_id == f"{ESCO}occupation/nurse"
    assert decision.predicate_id == "skos:broadMatch"
    assert decision.comment == "two lines and spaces"
    assert Decision("nurses", "jt:a", "", "6", "no-term-found").predicate_id == "skos:exactMatch"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(BadRequestError, match="unknown field"):
        Decision.from_json({"set": "nurses", "path": "/etc/passwd"})


def test_a_decision_for_a_set_that_does_not_exist(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decision = Decision("ghosts", "jt:a", "ESCO:occupation/b", "1", "accept")
    with pytest.raises(NotFoundError, match="no mapping set named 'ghosts'"):
        decide(files, decision, None, BO, '"x"', today=TODAY)
    assert not (tmp_path / "ghosts.sssom.tsv").exists()


# --- undo ---------------------------------------------------------------------------------------


def test_undo_restores_what_the_decision_replaced(tmp_path: Path) -> None:
    files = setup(tmp_path)
    before = files.path("candidates").read_bytes()
    decision = Decision("candidates", "jt:welder", "ESCO:occupation/welder", "3", "reject")
    result, _row = decide(
        files, decision, candidate(files, "jt:welder"), BO, files.etag("candidates"), today=TODAY
    )
    assert result.entry is not None
    assert [r["subject_id"] for r in result.entry.before] == ["jt:welder"]
    undone = undo_last(files, "candidates", BO, result.etag)
    assert files.path("candidates").read_bytes() == before
    assert undone.entry is not None and undone.entry.undoes == result.entry.id
    # nothing left to undo for this user: the undo is not undone by pressing z again
    with pytest.raises(NotFoundError, match="nothing of yours to undo"):
        undo_last(files, "candidates", BO, undone.etag)


def test_undo_takes_back_the_users_own_latest_change_only(tmp_path: Path) -> None:
    files = setup(tmp_path)
    _decide(files, Decision("nurses", "jt:a", "ESCO:occupation/a", "1", "accept"), None, ANN)
    _decide(files, Decision("nurses", "jt:b", "ESCO:occupation/b", "1", "accept"), None, BO)
    undo_last(files, "nurses", ANN, files.etag("nurses"))
    subjects = [m.get("subject_id") for m in read_sssom(files.path("nurses")).mappings]
    assert subjects == ["jt:b"]


def test_undo_never_overwrites_a_later_decision(tmp_path: Path) -> None:
    files = setup(tmp_path)
    _decide(files, Decision("nurses", "jt:a", "ESCO:occupation/a", "1", "accept"), None, ANN)
    row = read_sssom(files.path("nurses")).mappings[0]
    _decide(files, Decision("nurses", "jt:a", "ESCO:occupation/a", "1", "accept"), row, BO)
    etag = files.etag("nurses")
    with pytest.raises(ConflictError, match="changed since"):
        undo_last(files, "nurses", ANN, etag)
    assert files.etag("nurses") == etag


def test_undo_of_a_batch_takes_back_all_of_it(tmp_path: Path) -> None:
    files = setup(tmp_path)
    before = files.path("nurses").read_bytes()
    items: list[tuple[Decision, Mapping | None]] = [
        (Decision("nurses", "jt:kid_nurse", "ESCO:occupation/nurse", "1", "accept"), None),
        (Decision("nurses", "jt:welder", "ESCO:occupation/welder", "2", "reject"), None),
        (Decision("nurses", "jt:baker", "", "", "no-term-found"), None),
    ]
    result, rows = decide_batch(files, "nurses", items, ANN, files.etag("nurses"), today=TODAY)
    assert len(rows) == 3 and result.entry is not None
    assert result.entry.batch and len(result.entry.after) == 3
    undo_last(files, "nurses", ANN, result.etag)
    assert files.path("nurses").read_bytes() == before


def test_undo_of_an_undo_is_refused(tmp_path: Path) -> None:
    files = setup(tmp_path)
    _decide(files, Decision("nurses", "jt:a", "ESCO:occupation/a", "1", "accept"), None, ANN)
    result = undo_last(files, "nurses", ANN, files.etag("nurses"))
    assert result.entry is not None
    mset, _etag = files.read("nurses")
    with pytest.raises(BadRequestError, match="cannot be undone"):
        undo(mset, result.entry)
