"""Concept-page edge cases on a tiny fixture vocabulary (tests/fixtures/pages/edge_cases.ttl):
a deprecated concept with its replacement, and a group with more narrower concepts than a page
holds. The real data has no deprecated concept, so these cases need their own fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kll_graph.build.pipeline import build
from kll_graph.settings import SourceConfig
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer, make_settings
from tests import FIXTURES
from tests.web.test_pages import concept_path, page, uris_linked

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
    answer, p = page(edge_server, concept_path(EX + "old"))
    assert answer.status == 200
    assert "Det här begreppet är utgånget" in p.text
    assert "Ersatt av" in p.text
    assert EX + "new" in uris_linked(p)
    _, new = page(edge_server, concept_path(EX + "new"), lang="en")
    assert "deprecated" not in new.text.split("Replaces")[0].lower()
    assert "Replaces" in new.text and EX + "old" in uris_linked(new)


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
