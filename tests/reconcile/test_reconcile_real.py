"""Reconciliation on the real data: identifiers resolve exactly, ambiguous labels never
auto-match, `match` is rare (top only, at most one), properties never lift a weak name."""

from __future__ import annotations

from collections import defaultdict

import pytest

from kll_graph.labels.layout import ID, LEGACY, NOTATION, PREF
from kll_graph.labels.text import fold
from kll_graph.reconcile.query import parse_batch_02
from kll_graph.reconcile.service import Reconciler, reconciler_for
from kll_graph.store import CurrentStore


@pytest.fixture(scope="module")
def rec(real_store: CurrentStore) -> Reconciler:
    return reconciler_for(real_store.get())


def _ask(rec: Reconciler, **query: object) -> list:
    (answer,) = rec.reconcile(parse_batch_02({"q0": query}), "sv")
    return answer.ranked


def _entries(rec: Reconciler, kind: int, count: int) -> list[int]:
    index = rec.index
    found = [e for e in range(len(index.entry_kind)) if index.entry_kind[e] == kind]
    return found[:: max(1, len(found) // count)][:count]


@pytest.mark.parametrize("kind", [ID, LEGACY])
def test_jobtech_and_legacy_ids_resolve_exactly(rec: Reconciler, kind: int) -> None:
    index = rec.index
    for e in _entries(rec, kind, 40):
        concept, text = int(index.entry_concept[e]), index.entry_text[e]
        if len(index.codes.get(text.casefold(), ())) > 1:
            continue  # the same text is another concept's code too: not an identifier alone
        ranked = _ask(rec, query=text)
        assert ranked[0].concept == concept and ranked[0].match and ranked[0].score == 100, text


def test_uris_and_esco_uuids_resolve_exactly(rec: Reconciler) -> None:
    uuids = list(rec.tables.uuids.items())[::500][:20]
    assert uuids
    for uuid, concept in uuids:
        for text in (uuid, rec.index.uris[concept]):
            top = _ask(rec, query=text)[0]
            assert top.concept == concept and top.match and top.score == 100


def test_a_code_with_its_type_or_system_resolves_exactly(rec: Reconciler) -> None:
    index = rec.index
    ssyk = rec.types.get("ssyk-level-4")
    assert ssyk is not None
    checked = 0
    for e in _entries(rec, NOTATION, 4000):
        concept = int(index.entry_concept[e])
        if int(index.concept_type[concept]) not in ssyk.covers:
            continue
        code = index.entry_text[e]
        for query in ({"query": code, "type": "ssyk-level-4"}, {"query": f"SSYK {code}"}):
            top = _ask(rec, **query)[0]
            assert top.concept == concept and top.match and top.score == 100, query
        checked += 1
    assert checked >= 5


def test_a_bare_code_shared_by_several_concepts_is_not_auto_matched(rec: Reconciler) -> None:
    ranked = _ask(rec, query="2512")
    assert len({s.concept for s in ranked if s.code_match}) > 1
    assert not any(s.match for s in ranked)


def _ambiguous_labels(rec: Reconciler, count: int) -> list[tuple[str, str]]:
    """Preferred labels (folded alike) of two or more concepts of one type: (label, type id)."""
    index = rec.index
    seen: dict[tuple[str, int], set[int]] = defaultdict(set)
    text: dict[tuple[str, int], str] = {}
    for e in range(len(index.entry_kind)):
        if index.entry_kind[e] != PREF or index.concept_deprecated[index.entry_concept[e]]:
            continue
        concept = int(index.entry_concept[e])
        key = (fold(index.entry_text[e]), int(index.concept_type[concept]))
        seen[key].add(concept)
        text.setdefault(key, index.entry_text[e])
    shared = [k for k, v in seen.items() if len(v) > 1]
    return [(text[k], index.types[k[1]].id) for k in shared[:count]]


def test_an_ambiguous_label_is_never_auto_matched(rec: Reconciler) -> None:
    cases = _ambiguous_labels(rec, 60)
    assert len(cases) >= 10
    for label, type_id in cases:
        for query in (
            {"query": label},
            {"query": label, "type": type_id},
            {"query": label, "type": type_id, "type_strict": "should"},
        ):
            assert not any(s.match for s in _ask(rec, **query)), query


def test_match_is_top_only_and_at_most_once(rec: Reconciler) -> None:
    for text in (
        "Mjukvaruutvecklare",
        "software developer",
        "snickare",
        "nurse",
        "Sjuksköterska",
        "Lastbilsförare",
        "python",
        "2512",
        "rQds_YGd_quU",
        "Kock",
    ):
        ranked = _ask(rec, query=text, limit=10)
        assert sum(s.match for s in ranked) <= 1
        assert all(not s.match for s in ranked[1:])
        assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
        assert all(0 <= s.score <= 100 for s in ranked)


def test_another_type_comes_at_half_score_and_never_matches(rec: Reconciler) -> None:
    strict = _ask(rec, query="Mjukvaruutvecklare", type="esco:Skill")
    should = _ask(rec, query="Mjukvaruutvecklare", type="esco:Skill", type_strict="should")
    assert all(s.type_match for s in strict)
    others = [s for s in should if not s.type_match]
    assert others and all(not s.match and s.score <= 50 for s in others)


def test_properties_add_a_capped_bonus_and_never_lift_a_weak_name(rec: Reconciler) -> None:
    plain = _ask(rec, query="Mjukvaruutvecklare", type="occupation-name")[0]
    agreed = _ask(
        rec,
        query="Mjukvaruutvecklare",
        type="occupation-name",
        properties=[{"pid": "ssyk", "v": "2512"}, {"pid": "broader", "v": "2512"}],
    )[0]
    assert agreed.concept == plain.concept and agreed.agree == 2 and agreed.score > plain.score
    weak = _ask(
        rec,
        query="mjukvar utv",
        type="occupation-name",
        properties=[{"pid": "ssyk", "v": "2512"}, {"pid": "jobtech_id", "v": "rQds_YGd_quU"}],
    )
    assert weak and not any(s.match for s in weak)
    disagree = _ask(
        rec,
        query="Mjukvaruutvecklare",
        type="occupation-name",
        properties=[{"pid": "ssyk", "v": "9999"}],
    )[0]
    assert disagree.disagree == 1 and not disagree.match


def test_the_display_language_names_candidates_and_the_query_language_wins_ties(
    rec: Reconciler,
) -> None:
    (sv,) = rec.reconcile(
        parse_batch_02({"q0": {"query": "software developer", "type": "esco:Occupation"}}), "sv"
    )
    (en,) = rec.reconcile(
        parse_batch_02({"q0": {"query": "software developer", "type": "esco:Occupation"}}), "en"
    )
    assert sv.ranked[0].concept == en.ranked[0].concept
    assert rec.candidate_dict(sv.ranked[0], "sv", "0.2")["name"] == "programvaruutvecklare"
    assert rec.candidate_dict(en.ranked[0], "en", "0.2")["name"] == "software developer"
    assert en.ranked[0].lang_match and "«software developer» @en" in rec.description(
        en.ranked[0], "en"
    )


def test_a_slash_separated_part_equal_to_the_query_ranks_first(rec: Reconciler) -> None:
    """ "Systemutvecklare" is one part of JobTech's "Systemutvecklare/Programmerare": that beats
    ESCO's "IKT-systemutvecklare", which only resembles the query, but is not auto-matched."""
    ranked = _ask(rec, query="Systemutvecklare", limit=5)
    top = ranked[0]
    assert rec.index.uris[top.concept] == "http://data.jobtechdev.se/taxonomy/concept/fg7B_yov_smw"
    assert top.name_part_exact and top.label == "Systemutvecklare/Programmerare"
    assert not top.match and top.score < 95
    ikt = next(s for s in ranked if s.label == "IKT-systemutvecklare")
    assert not ikt.name_part_exact and ikt.score < top.score
    other_part = _ask(rec, query="programmerare", type="occupation-name")[0]
    assert other_part.concept == top.concept and other_part.name_part_exact


def test_one_wide_lookup_for_type_strict_should_finds_what_two_lookups_find(
    rec: Reconciler,
) -> None:
    """The single untyped lookup (with a typed one only when needed) gives the same concepts,
    in the same order, as a typed lookup followed by an untyped one for the other types."""
    index = rec.index
    occupations = rec.types.get("occupations")
    assert occupations is not None
    covers = frozenset(occupations.covers)
    texts = [index.entry_text[e] for e in _entries(rec, PREF, 150)]
    texts += ["utvecklare", "lärare", "sjuksköterska", "python", "ingenjör", "chef"]
    for text in texts:
        typed = index.top(text, rec.filters_for(covers), 10)
        seen = {h.concept for h in typed}
        others = [
            h.concept
            for h in index.top(text, index.filters(), 10)
            if h.concept not in seen and int(index.concept_type[h.concept]) not in covers
        ]
        expected = [(h.concept, True) for h in typed] + [(c, False) for c in others]
        got = [(h.concept, in_type) for h, in_type in rec._index_hits(text, covers, True, True, 10)]
        assert got == expected, text
