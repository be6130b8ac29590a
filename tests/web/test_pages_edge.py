"""Concept-page edge cases on a tiny fixture vocabulary (tests/fixtures/pages/edge_cases.ttl):
a deprecated concept with its replacement, and a group with more narrower concepts than a page
holds. The real data has no deprecated concept, so these cases need their own fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from kll_graph.build.pipeline import build
from kll_graph.settings import SourceConfig
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer, make_settings
from tests import FIXTURES
from tests.web.test_linked_data import target
from tests.web.test_pages import Page, concept_path, page, uris_linked

EX = "http://example.org/vocab/"


@pytest.fixture(scope="module")
def edge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("pages-edge") / "store"
    source = SourceConfig(id="edge", importer="rdf", path="edge_cases.ttl", version="test")
    settings = make_settings(root, data_dir=Path(FIXTURES / "pages")).replace(sources=(source,))
    build(settings)
    server = LiveServer(settings, CurrentStore(root))
    yield server
    server.close()


def test_deprecated_concept_has_a_banner_linking_its_replacement(edge_server: LiveServer) -> None:
    answer, p = page(edge_server, concept_path(EX + "old") + "&redirect=false")
    assert answer.status == 200
    assert "Det här begreppet är utgånget" in p.text
    assert "Ersatt av" in p.text
    assert EX + "new" in uris_linked(p)
    _, new = page(edge_server, concept_path(EX + "new"), lang="en")
    assert "deprecated" not in new.text.split("Replaces")[0].lower()
    assert "Replaces" in new.text and EX + "old" in uris_linked(new)
    # our own link to the deprecated concept shows it, not its replacement
    assert (EX + "old", ["false"]) in links(new)


def links(p: Page) -> list[tuple[str, list[str] | None]]:
    """The concept links of a page: (URI, its `redirect` values)."""
    found = [parse_qs(urlsplit(href).query) for href in p.hrefs("/page?uri=")]
    return [(query["uri"][0], query.get("redirect")) for query in found]


@pytest.mark.parametrize("old", ["old", "oldest"])
def test_a_deprecated_concepts_page_sends_readers_to_its_replacement(
    edge_server: LiveServer, old: str
) -> None:
    """A bookmarked or dereferenced page of a deprecated concept is a 303 to the current
    concept that replaces it (through a chain), which says where the reader came from."""
    answer, _ = page(edge_server, concept_path(EX + old) + "&lang=en")
    assert answer.status == 303
    path, query = target(answer)
    assert (path, query["uri"], query["replaced"], query["lang"]) == (
        "/page",
        [EX + "new"],
        [EX + old],
        ["en"],
    )
    landed, p = page(edge_server, answer.header("Location"), lang="en")
    assert landed.status == 200
    assert "New occupation name" in p.text
    assert "You followed a link to" in p.text and "this concept replaces it" in p.text
    assert (EX + old, ["false"]) in links(p)


def test_dereferencing_a_deprecated_uri_ends_at_its_replacement(edge_server: LiveServer) -> None:
    first, _ = page(edge_server, "/resource?uri=" + quote(EX + "old", safe=""))
    assert first.status == 303
    second, _ = page(edge_server, first.header("Location"))
    assert second.status == 303 and target(second)[1]["uri"] == [EX + "new"]


@pytest.mark.parametrize("concept", ["cycleA", "split"])
def test_no_redirect_without_one_current_replacement(edge_server: LiveServer, concept: str) -> None:
    """A cycle of replacements or a concept split in two: the page itself says what is known."""
    answer, p = page(edge_server, concept_path(EX + concept))
    assert answer.status == 200
    assert "Det här begreppet är utgånget" in p.text


def test_a_replaced_parameter_that_is_not_true_shows_no_notice(edge_server: LiveServer) -> None:
    path = concept_path(EX + "new") + "&replaced=" + quote(EX + "group", safe="")
    answer, p = page(edge_server, path, lang="en")
    assert answer.status == 200
    assert "You followed a link to" not in p.text


def test_deprecated_concepts_are_searchable_on_request(edge_server: LiveServer) -> None:
    _, hidden = page(edge_server, "/search?q=gammal")
    assert EX + "old" not in uris_linked(hidden)
    _, shown = page(edge_server, "/search?q=gammal&include_deprecated=true")
    assert EX + "old" in uris_linked(shown)
    assert "utgånget" in shown.text


def test_big_group_pages_its_narrower_concepts(edge_server: LiveServer) -> None:
    members = {f"{EX}member{i:03d}" for i in range(120)}
    seen: set[str] = set()
    for number in (1, 2, 3):
        answer, p = page(edge_server, concept_path(EX + "group") + f"&narrower_page={number}")
        assert answer.status == 200
        on_page = set(uris_linked(p)) & members
        assert len(on_page) == (50 if number < 3 else 20)
        assert on_page.isdisjoint(seen)
        seen |= on_page
    assert seen == members
    answer, p = page(edge_server, concept_path(EX + "group") + "&narrower_page=4")
    assert answer.status == 404
    assert "3" in p.text  # says how many pages there are
