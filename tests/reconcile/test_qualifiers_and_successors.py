"""Reconciliation on the tiny fixture vocabulary (tests/fixtures/labels/vocab.ttl): the 1.0
`matchQualifier`s, deprecated concepts named by id resolving to their successors, and the
"/"-separated label part feature."""

from __future__ import annotations

from typing import Any

import pytest

from kll_graph.exceptions import BadRequestError
from kll_graph.reconcile.query import parse_batch_02, parse_batch_10
from kll_graph.reconcile.scoring import Scored, final_score, label_features, label_parts
from kll_graph.reconcile.service import Reconciler, reconciler_for, result_10
from tests.labels.test_labels import DATAKONSULT, SYSTEMUTVECKLARE, fixture_build


@pytest.fixture(scope="module")
def rec() -> Reconciler:
    return reconciler_for(fixture_build()[1].get())


def _match(rec: Reconciler, *conditions: dict[str, Any]) -> list[Scored]:
    body = {"queries": [{"conditions": list(conditions), "type": "occupation-name"}]}
    (answer,) = rec.reconcile(parse_batch_10(body), "sv")
    return answer.ranked


def _ssyk(value: str, qualifier: str | None = None, **more: Any) -> dict[str, Any]:
    condition = {"matchType": "property", "propertyId": "ssyk", "propertyValue": value, **more}
    if qualifier:
        condition["matchQualifier"] = qualifier
    return condition


NAME = {"matchType": "name", "propertyValue": "Systemutvecklare"}


def _support(rec: Reconciler, *conditions: dict[str, Any]) -> int:
    top = _match(rec, NAME, *conditions)[0]
    assert rec.index.uris[top.concept] == SYSTEMUTVECKLARE
    return top.agree - top.disagree


@pytest.mark.parametrize(
    ("value", "qualifier", "support"),
    [
        ("SSYK 2512", None, 1),  # default: the code system in front is dropped
        ("SSYK 2512", "ExactMatch", -1),  # exact: as written, so not the code "2512"
        ("2512", "ExactMatch", 1),
        ("25*", "WildcardMatch", 1),
        ("2?12", "WildcardMatch", 1),
        ("22*", "WildcardMatch", -1),
        ("mjukvaru- och SYSTEMutvecklare*", "WildcardMatch", 1),  # a label, case aside
        ("2512*x", "WildcardMatch", -1),
    ],
)
def test_match_qualifiers_change_how_a_property_value_agrees(
    rec: Reconciler, value: str, qualifier: str | None, support: int
) -> None:
    assert _support(rec, _ssyk(value, qualifier)) == support


def test_a_required_wildcard_condition_filters_candidates(rec: Reconciler) -> None:
    assert _match(rec, NAME, _ssyk("25*", "WildcardMatch", required=True))
    assert not _match(rec, NAME, _ssyk("22*", "WildcardMatch", required=True))
    none = _ssyk("22*", "WildcardMatch", required=True, matchQuantifier="none")
    assert _match(rec, NAME, none)


def test_exact_match_on_the_scheme_wants_its_id_as_written(rec: Reconciler) -> None:
    scheme = {"matchType": "property", "propertyId": "scheme", "matchQualifier": "ExactMatch"}
    assert _support(rec, {**scheme, "propertyValue": "jobtech/occupation-name"}) == 1
    assert _support(rec, {**scheme, "propertyValue": "JOBTECH/occupation-name"}) == -1


@pytest.mark.parametrize("qualifier", ["RegexMatch", "exactmatch", "DecimalPlaces-2", 7])
def test_an_unsupported_qualifier_is_refused_not_ignored(qualifier: object) -> None:
    with pytest.raises(BadRequestError, match="ExactMatch, WildcardMatch"):
        parse_batch_10(
            {
                "queries": [
                    {
                        "conditions": [
                            NAME,
                            _ssyk("2512", qualifier=None) | {"matchQualifier": qualifier},
                        ]
                    }
                ]
            }
        )


@pytest.mark.parametrize("text", ["Old0_Dep_001", "5555", DATAKONSULT, "jt:Old0_Dep_001"])
def test_a_deprecated_concept_named_by_id_resolves_to_its_successor(
    rec: Reconciler, text: str
) -> None:
    (answer,) = rec.reconcile(parse_batch_02({"q0": {"query": text}}), "sv")
    top = answer.ranked[0]
    assert rec.index.uris[top.concept] == SYSTEMUTVECKLARE
    assert top.replaced == DATAKONSULT and top.deprecated
    assert top.score == 100 and top.match
    assert all(rec.index.uris[s.concept] != DATAKONSULT for s in answer.ranked)
    assert f"ersätter utgånget «Datakonsult» <{DATAKONSULT}>" in rec.description(top, "sv")
    assert "replaces deprecated «Datakonsult»" in rec.description(top, "en")


def test_the_successor_says_so_in_the_10_features(rec: Reconciler) -> None:
    body = {"queries": [{"conditions": [{"matchType": "id", "propertyValue": "Old0_Dep_001"}]}]}
    (candidate,) = result_10(rec, rec.reconcile(parse_batch_10(body), "en"), "en")["results"][0][
        "candidates"
    ][:1]
    assert candidate["id"] == SYSTEMUTVECKLARE and candidate["match"] is True
    features = {f["id"]: f["value"] for f in candidate["features"]}
    assert features["deprecated"] is True and features["code_match"] is True
    assert "replaces deprecated" in candidate["description"]


def test_a_slash_separated_label_part_is_an_exact_part_not_a_match() -> None:
    assert label_parts("Systemutvecklare/Programmerare") == {"systemutvecklare", "programmerare"}
    assert label_parts("Lärare / förskola") == {"larare", "forskola"}
    assert label_parts("Systemutvecklare") == set()
    part = Scored(1, "Systemutvecklare/Programmerare", "sv", "pref")
    label_features(part, "systemutvecklare", "sv")
    near = Scored(2, "IKT-systemutvecklare", "sv", "pref")
    label_features(near, "Systemutvecklare", "sv")
    for s in (part, near):
        final_score(s)
    assert part.name_part_exact and not part.name_norm_exact
    assert not near.name_part_exact
    assert part.score > near.score and part.score < 95
    assert ("name_part_exact", True) in part.features()


def test_only_texts_that_could_be_identifiers_look_for_deprecated_concepts(
    rec: Reconciler,
) -> None:
    for text in ("Old0_Dep_001", "5555", DATAKONSULT, "jt:Old0_Dep_001", "2512", "C2512"):
        assert rec._may_be_identifier(text), text
    for text in ("Datakonsult", "Systemutvecklare", "utvecklare"):
        assert not rec._may_be_identifier(text), text
    # a label is looked up among deprecated concepts only as a whole (one exact key), and what
    # it finds there is a successor that never auto-matches
    (answer,) = rec.reconcile(parse_batch_02({"q0": {"query": "Datakonsult"}}), "sv")
    top = answer.ranked[0]
    assert rec.index.uris[top.concept] == SYSTEMUTVECKLARE and top.replaced == DATAKONSULT
    assert not top.code_match and not top.match
    (answer,) = rec.reconcile(parse_batch_02({"q0": {"query": "Datakonsul"}}), "sv")
    assert all(s.replaced is None for s in answer.ranked)
