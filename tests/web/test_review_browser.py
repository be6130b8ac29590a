"""The review workbench in a real browser (Debian's chromium driven by Playwright) on the real
data, with the matcher's real candidates: sign in, review 20 items with the keyboard only, undo
one, sign out. The set written validates with sssom-py and holds exactly the decisions made.

The rate of decisions is measured and written to test-artifacts/review/rate.json (a figure for
the benchmark notes, not a timed assertion).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kll_graph.mappings.matcher import read_vocabularies, suggest
from kll_graph.mappings.sssom import Mapping, MappingSet, expand, read_sssom
from kll_graph.mappings.status import row_status
from kll_graph.mappings.suggestions import candidate_set, reviewed_subjects, write_candidates
from kll_graph.namespaces import SSSOM
from kll_graph.review.setfiles import SetFiles
from kll_graph.review.users import Users
from kll_graph.settings import Settings
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer
from tests.web.test_browser import (  # noqa: F401  # browser is the fixture
    ARTIFACTS,
    _check_accessibility,
    _new_page,
    browser,
)

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

PASSWORD = "a long passphrase for tests"
NO_TERM = SSSOM.NoTermFound.value
#: The keys pressed, in order: accept with each relation, reject, unsure, no term, and more.
KEYS = [
    "1",
    "1",
    "x",
    "2",
    "1",
    "u",
    "3",
    "1",
    "4",
    "x",
    "1",
    "5",
    "1",
    "n",
    "1",
    "2",
    "x",
    "1",
    "1",
    "1",
]
EXPECTED = {
    "1": ("reviewed", "skos:exactMatch"),
    "2": ("reviewed", "skos:closeMatch"),
    "3": ("reviewed", "skos:broadMatch"),
    "4": ("reviewed", "skos:narrowMatch"),
    "5": ("reviewed", "skos:relatedMatch"),
    "x": ("rejected", None),
    "u": ("unsure", None),
    "n": ("curated", "skos:exactMatch"),  # a manual "nothing fits": a second person reviews it
}


@pytest.fixture(scope="module")
def workbench_server(
    real_settings: Settings, real_store: CurrentStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Settings]]:
    """The real store served with a mappings directory holding the matcher's occupation-name
    candidates and an empty target set, and a users file with one reviewer."""
    root = tmp_path_factory.mktemp("workbench")
    mappings = root / "mappings"
    mappings.mkdir()
    served = real_store.get()
    types = ("occupation-name",)
    vocabularies = read_vocabularies(served.store, real_settings.base_iri, types, lambda m: None)
    result = suggest(vocabularies, types, skip=reviewed_subjects(served.store))
    write_candidates(
        candidate_set(result, served.manifest, types), mappings / "candidates.sssom.tsv"
    )
    users = Users(root / "users.json")
    users.add("anna", "reviewer", PASSWORD)
    settings = real_settings.replace(
        mappings_dir=mappings,
        users_file=root / "users.json",
        review_refresh=False,  # the real store is shared by the session: never switched here
    )
    SetFiles(mappings, settings.base_iri).create(
        "reviewed", "Reviewed in the browser test", "https://orcid.org/0000-0002-0000-0001"
    )
    server = LiveServer(settings, real_store)
    yield server, settings
    server.close()


def _pair(mset: MappingSet, row: Mapping) -> tuple[str, str]:
    prefixes = mset.prefixes()
    return expand(row.get("subject_id"), prefixes), expand(row.get("object_id"), prefixes)


def _sign_in_by_keyboard(page: Any, url: str) -> None:
    page.goto(url + "/review?target=reviewed")
    assert "/login" in page.url  # not signed in: sent to sign in, and back afterwards
    page.locator("input[name=name]").focus()
    page.keyboard.type("anna")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/review?target=reviewed"), page.url


def _decide(page: Any, key: str) -> tuple[str, str, str]:
    """Press one decision key on the current item; wait for the next; the pair decided."""
    item = page.locator("[data-item]")
    pair = (item.get_attribute("data-subject"), item.get_attribute("data-object"))
    predicate = ""
    if key in "12345":
        predicate = page.locator(f"input[name=relation][data-key='{key}']").get_attribute("value")
    with page.expect_navigation():
        page.keyboard.press(key)
    return pair[0], pair[1], predicate


def test_review_twenty_items_by_keyboard_undo_one_sign_out(
    browser: Any,  # noqa: F811  # the imported fixture
    workbench_server: tuple[LiveServer, Settings],
) -> None:
    server, settings = workbench_server
    page = _new_page(browser, "en-GB")
    _sign_in_by_keyboard(page, server.url)
    (ARTIFACTS / "review").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review" / "1-item.png"), full_page=True)
    _check_accessibility(page, "the review item")  # every control labelled, text contrast
    keycap = page.evaluate(
        "() => { const k = document.querySelector('.actions kbd'); const s = getComputedStyle(k);"
        " return [s.color, s.backgroundColor]; }"
    )
    assert keycap[0] != keycap[1], keycap

    # every relation is a sentence beside the triple it writes; broad says ESCO is broader
    broad = page.locator("input[name=relation][data-key='3']").locator("xpath=..")
    assert "is broader than JobTech" in broad.inner_text()
    assert "skos:broadMatch" in broad.inner_text()

    page.locator("body").focus()
    decided: list[tuple[str, str, str, str]] = []
    started = time.perf_counter()
    for key in KEYS:
        subject, target, predicate = _decide(page, key)
        decided.append((key, subject, target, predicate))
        announced = page.locator("#announce")
        announced.wait_for(state="attached")
        page.wait_for_function("document.getElementById('announce').textContent.length > 0")
        assert page.locator("#message").is_hidden(), page.locator("#message").inner_text()
    minutes = (time.perf_counter() - started) / 60
    rate = len(KEYS) / minutes
    (ARTIFACTS / "review" / "rate.json").write_text(
        json.dumps({"decisions": len(KEYS), "minutes": round(minutes, 3), "per_minute": rate}),
        encoding="utf-8",
    )
    print(f"review by keyboard: {rate:.0f} decisions per minute over {len(KEYS)} decisions")

    mset = read_sssom(settings.mappings_dir / "reviewed.sssom.tsv")
    assert len(mset.mappings) == len(KEYS)

    # undo the last decision with z: its row leaves the set, announced
    with page.expect_navigation():
        page.keyboard.press("z")
    page.wait_for_function("document.getElementById('announce').textContent.includes('undone')")
    mset = read_sssom(settings.mappings_dir / "reviewed.sssom.tsv")
    assert len(mset.mappings) == len(KEYS) - 1

    # each row says what its key decided; an accept wrote the relation the page showed
    by_pair = {_pair(mset, m): m for m in mset.mappings}
    for key, subject, target, predicate in decided[:-1]:
        subject_iri = mset.prefixes()["jt"] + subject.removeprefix("jt:")
        target_iri = (
            NO_TERM if key == "n" else mset.prefixes()["ESCO"] + target.removeprefix("ESCO:")
        )
        row = by_pair[(subject_iri, target_iri)]
        status, expected_predicate = EXPECTED[key]
        assert row_status(row) == status, (key, row.slots)
        if expected_predicate:
            assert row.get("predicate_id") == expected_predicate, (key, row.slots)
        if key in "12345":
            assert predicate == expected_predicate  # the radio's value is the triple written
            assert row.get("confidence") and row.get("mapping_tool"), "the evidence was kept"
        assert "user:anna" in (row.get("reviewer_id"), row.get("author_id"))

    # the file validates with sssom-py
    from sssom.parsers import parse_sssom_table  # the reference implementation, a test dependency

    parsed = parse_sssom_table(settings.mappings_dir / "reviewed.sssom.tsv")
    assert len(parsed.df) == len(KEYS) - 1

    # sign out with the keyboard: the workbench asks to sign in again
    page.locator("form[action='/logout'] button").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(server.url + "/review")
    assert "/login" in page.url
    page.context.close()


def test_users_file_for_the_fixture_is_private(
    workbench_server: tuple[LiveServer, Settings],
) -> None:
    _server, settings = workbench_server
    assert Path(settings.users_file).stat().st_mode & 0o077 == 0
