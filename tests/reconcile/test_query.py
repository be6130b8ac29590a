"""Reading query batches of both versions: what the schemas forbid is a 400, what they leave
open is ignored, bad cells are empty answers rather than errors."""

from __future__ import annotations

import json

import pytest

from kll_graph.exceptions import BadRequestError, RequestTooLargeError
from kll_graph.reconcile.query import (
    MAX_BATCH,
    lookup_text,
    parse_batch_02,
    parse_batch_10,
)
from tests.reconcile import spec


@pytest.mark.parametrize("version", spec.VERSIONS)
def test_every_official_example_is_read_or_refused_as_its_schema_says(version: str) -> None:
    spec.need_specs()
    parse = parse_batch_02 if version == "0.2" else parse_batch_10
    valid = spec.examples(version, "reconciliation-query-batch", "valid")
    invalid = spec.examples(version, "reconciliation-query-batch", "invalid")
    assert valid and invalid
    for file in valid:
        assert parse(json.loads(file.read_text()))
    for file in invalid:
        with pytest.raises(BadRequestError):
            parse(json.loads(file.read_text()))


def test_a_02_query_keeps_type_strict_and_properties_with_entity_values() -> None:
    (q,) = parse_batch_02(
        {
            "q0": {
                "query": "Mjukvaruutvecklare",
                "type": ["occupation-name"],
                "type_strict": "should",
                "limit": 3.0,
                "properties": [{"pid": "ssyk", "v": [{"id": "x", "name": "2512"}, 2512]}],
            }
        }
    )
    assert (q.key, q.text, q.types, q.type_strict, q.limit) == (
        "q0",
        "Mjukvaruutvecklare",
        ("occupation-name",),
        "should",
        3,
    )
    assert [(v.id, v.text) for v in q.conditions[0].values] == [("x", "2512"), (None, "2512")]


def test_a_10_query_reads_name_id_and_property_conditions() -> None:
    (q,) = parse_batch_10(
        {
            "queries": [
                {
                    "type": "occupations",
                    "lang": "en",
                    "conditions": [
                        {"matchType": "name", "propertyValue": "nurse"},
                        {"matchType": "id", "propertyValue": "rQds_YGd_quU"},
                        {
                            "matchType": "property",
                            "propertyId": "ssyk",
                            "propertyValue": "2221",
                            "required": True,
                            "matchQuantifier": "all",
                            "extra": 1,
                        },
                    ],
                }
            ],
            "ignored": True,
        }
    )
    assert (q.text, q.ids, q.types, q.lang) == ("nurse", ("rQds_YGd_quU",), ("occupations",), "en")
    assert q.conditions[0].required and q.conditions[0].quantifier == "all"


@pytest.mark.parametrize("limit", [0, -1, 51, 10_000, 2.5, "3", True])
def test_a_limit_out_of_range_is_a_400(limit: object) -> None:
    with pytest.raises(BadRequestError, match="limit"):
        parse_batch_02({"q0": {"query": "x", "limit": limit}})


def test_more_queries_than_the_batch_size_is_a_413() -> None:
    batch = {f"q{i}": {"query": "x"} for i in range(MAX_BATCH + 1)}
    with pytest.raises(RequestTooLargeError):
        parse_batch_02(batch)
    with pytest.raises(RequestTooLargeError):
        parse_batch_10(
            {
                "queries": [{"conditions": [{"matchType": "name", "propertyValue": "x"}]}]
                * (MAX_BATCH + 1)
            }
        )


@pytest.mark.parametrize("text", ["", "   ", "x" * 201])
def test_blank_and_absurdly_long_texts_are_looked_up_as_nothing(text: str) -> None:
    (q,) = parse_batch_02({"q0": {"query": text}})
    assert lookup_text(q) is None


@pytest.mark.parametrize(
    "batch",
    [
        [],
        "x",
        {"q0": "x"},
        {"q0": {"query": 5}},
        {"q0": {"query": "x", "type": 5}},
        {"q0": {"query": "x", "type_strict": "maybe"}},
        {"q0": {"query": "x", "properties": [{"pid": "a"}]}},
        {"q0": {"query": "x", "properties": [{"pid": "a", "v": {"name": "no id"}}]}},
    ],
)
def test_malformed_02_batches_are_400s(batch: object) -> None:
    with pytest.raises(BadRequestError):
        parse_batch_02(batch)
