"""`/-/quality` and `/-/quality.json` over real HTTP on a fixture store."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from kll_graph.quality.render import REPORT_CSS
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer
from tests.quality.support import VOC, build_fixture


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("quality-web")
    settings, _ = build_fixture(root, "clean.ttl", "dangling-link.ttl")
    # a second defect, in another file of the same source
    extra = settings.data_dir / "voc" / "orphan.ttl"
    extra.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        f"<{VOC}z> a skos:Concept ; skos:inScheme <{VOC}scheme> ;"
        ' skos:prefLabel "Ensling"@sv .\n',
        encoding="utf-8",
    )
    from kll_graph.build.pipeline import build

    build(settings)
    live = LiveServer(settings, CurrentStore(settings.store))
    yield live
    live.close()


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def get_json(url: str) -> tuple[int, Any]:
    status, _type, body = get(url)
    return status, json.loads(body)


def test_page_shows_counts_and_links_findings_to_concept_pages(server: LiveServer) -> None:
    status, ctype, html = get(server.url + "/-/quality")
    assert status == 200 and ctype.startswith("text/html")
    assert "<h1>Quality report</h1>" in html
    assert "dangling-link" in html and "orphan-concept" in html
    assert 'href="/resource?uri=http%3A%2F%2Fexample.org%2Fvoc%2Fc"' in html
    assert 'href="/resource?uri=http%3A%2F%2Fexample.org%2Fvoc%2Fmissing"' in html
    assert "Ensling" in html


def test_json_twin_has_the_same_counts(server: LiveServer) -> None:
    status, data = get_json(server.url + "/-/quality.json")
    assert status == 200
    assert data["summary"]["by_severity"] == {"error": 1, "warning": 0, "info": 1}
    assert data["by_vocabulary_and_severity"]["fixture"] == {"error": 1, "warning": 0, "info": 1}
    counts = {c["id"]: c["count"] for c in data["checks"]}
    assert counts["dangling-link"] == 1 and counts["orphan-concept"] == 1
    orphan = next(c for c in data["checks"] if c["id"] == "orphan-concept")
    assert orphan["findings"][0]["link"] == "/resource?uri=http%3A%2F%2Fexample.org%2Fvoc%2Fz"
    assert orphan["findings"][0]["label"] == "Ensling"


def test_filters_and_paging(server: LiveServer) -> None:
    _status, one = get_json(server.url + "/-/quality.json?check=dangling-link")
    assert [c["id"] for c in one["checks"]] == ["dangling-link"]
    _status, infos = get_json(server.url + "/-/quality.json?severity=info")
    assert [c["id"] for c in infos["checks"]] == ["orphan-concept"]
    _status, none = get_json(server.url + "/-/quality.json?check=orphan-concept&offset=1&limit=5")
    assert none["checks"][0]["count"] == 1 and none["checks"][0]["findings"] == []
    status, html = get(server.url + "/-/quality?check=orphan-concept")[0::2]
    assert status == 200 and "Ensling" in html and "dangling" not in html.split("<h2>Findings")[1]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("check=nope", "check"),
        ("severity=fatal", "severity"),
        ("limit=x", "limit"),
        ("vocabulary=esco", "vocabulary"),
    ],
)
def test_bad_parameters_are_400_in_the_one_error_shape(
    server: LiveServer, query: str, parameter: str
) -> None:
    status, data = get_json(server.url + "/-/quality.json?" + query)
    assert status == 400
    assert data["error"]["parameter"] == parameter
    assert data["error"]["code"] == "bad_request"


def test_the_page_and_the_standalone_report_share_one_stylesheet(server: LiveServer) -> None:
    status, _type, page = get(server.url + "/-/quality")
    assert status == 200 and 'href="/-/quality.css"' in page
    status, content_type, css = get(server.url + "/-/quality.css")
    assert status == 200 and content_type.startswith("text/css")
    assert css == REPORT_CSS.read_text(encoding="utf-8")
    assert ".sev-error" in css
