"""Content negotiation: Accept parsing, q-values, specificity, server order, 406 and Vary."""

from __future__ import annotations

import pytest

from kll_graph.conneg import add_vary, choose, negotiate, parse_accept, quality
from kll_graph.exceptions import NotAcceptableError

RESULTS = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
]


def test_q_values_order_the_choice() -> None:
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.8, text/tab-separated-values"
    assert negotiate(accept, RESULTS) == "text/tab-separated-values"


def test_server_order_breaks_ties() -> None:
    assert negotiate("text/csv, application/sparql-results+xml", RESULTS) == (
        "application/sparql-results+xml"
    )


def test_most_specific_range_sets_the_quality() -> None:
    ranges = parse_accept("text/*;q=0.9, text/csv;q=0.1, */*;q=0.2")
    assert quality(ranges, "text/csv") == 0.1
    assert quality(ranges, "text/tab-separated-values") == 0.9
    assert quality(ranges, "application/sparql-results+json") == 0.2
    assert negotiate("text/*;q=0.9, text/csv;q=0.1, */*;q=0.2", RESULTS) == (
        "text/tab-separated-values"
    )


def test_q_zero_refuses_a_type_even_under_a_wildcard() -> None:
    assert negotiate("*/*, application/sparql-results+json;q=0", RESULTS) == (
        "application/sparql-results+xml"
    )


def test_missing_or_empty_accept_takes_the_first_offer() -> None:
    assert negotiate(None, RESULTS) == RESULTS[0]
    assert negotiate("", RESULTS) == RESULTS[0]
    assert negotiate("  ,  ", RESULTS) == RESULTS[0]


def test_media_type_case_and_parameters() -> None:
    assert negotiate("TEXT/CSV; charset=utf-8", RESULTS) is None  # offered without charset
    assert negotiate("Text/CSV", RESULTS) == "text/csv"
    assert negotiate("text/csv; q=1.0", RESULTS) == "text/csv"


def test_malformed_entries_are_skipped_not_fatal() -> None:
    ranges = parse_accept("nonsense, text/csv;q=abc, */html, text/turtle;q=2, text/csv;q=0.4")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [("text", "csv", 0.4)]
    assert negotiate("nonsense, text/csv;q=0.4", RESULTS) == "text/csv"


def test_browser_accept_header() -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert negotiate(browser, ["text/turtle", "text/html"]) == "text/html"
    assert negotiate(browser, RESULTS) == RESULTS[0]


def test_nothing_acceptable_is_a_406_naming_the_offers() -> None:
    with pytest.raises(NotAcceptableError) as caught:
        choose("image/png, application/pdf", RESULTS)
    assert caught.value.status == 406
    assert "text/csv" in str(caught.value) and "image/png" in str(caught.value)
    assert caught.value.offered == tuple(RESULTS)


def test_vary_is_added_once_and_keeps_other_names() -> None:
    headers: dict[str, str] = {}
    add_vary(headers)
    assert headers["Vary"] == "Accept"
    headers["Vary"] = "Origin, accept"
    add_vary(headers)
    assert headers["Vary"] == "Origin, accept"
