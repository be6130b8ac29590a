""" "Has it changed?" in one request, over real HTTP: a concept's ETag follows its description,
not the build. Three builds of a copy of the bundled sample: two of the same data, one where
the ESCO occupation "chef" got a new preferred label. The unchanged concepts keep their ETags
from build to build, "chef" gets a new one, and a client sending what it has gets a 304."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kll_graph.build.pipeline import build
from kll_graph.settings import REPO_ROOT
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer, make_settings

CHEF = "http://data.europa.eu/esco/occupation/1009be17-7efd-45f1-a033-566bf179c588"
#: A JobTech occupation name of the sample, untouched by the change.
NURSE = "http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR"


def _copy_sample(target: Path, relabel: bool) -> Path:
    shutil.copytree(REPO_ROOT / "src" / "kll_graph" / "sample", target)
    if relabel:
        path = target / "esco" / "v1.1.1" / "en" / "occupations_en.csv"
        text = path.read_text(encoding="utf-8")
        assert f"{CHEF},3434,chef," in text
        path.write_text(text.replace(f"{CHEF},3434,chef,", f"{CHEF},3434,head chef,"), "utf-8")
    return target


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveServer]]:
    """Three builds served at once: `a` and `b` of the same data, `c` with chef relabelled."""
    out: dict[str, LiveServer] = {}
    for name, relabel in (("a", False), ("b", False), ("c", True)):
        root = tmp_path_factory.mktemp(f"validators-{name}")
        data = _copy_sample(root / "data", relabel)
        settings = make_settings(root / "store", data_dir=data)
        build(settings)
        out[name] = LiveServer(settings, CurrentStore(settings.store))
    yield out
    for server in out.values():
        server.close()


def _api(server: LiveServer, uri: str, **headers: str) -> requests.Response:
    return requests.get(
        f"{server.url}/api/v1/concepts", params={"uri": uri}, headers=headers, timeout=30
    )


def _rdf(server: LiveServer, uri: str, **headers: str) -> requests.Response:
    return requests.get(f"{server.url}/data.ttl", params={"uri": uri}, headers=headers, timeout=30)


def _page(server: LiveServer, uri: str, **headers: str) -> requests.Response:
    return requests.get(
        f"{server.url}/page", params={"uri": uri, "lang": "en"}, headers=headers, timeout=30
    )


def test_builds_differ_but_etags_of_unchanged_concepts_do_not(
    servers: dict[str, LiveServer],
) -> None:
    builds = {
        name: requests.get(f"{s.url}/-/health", timeout=10).json() for name, s in servers.items()
    }
    assert len({str(b) for b in builds.values()}) == 3  # three different builds
    for fetch in (_api, _rdf, _page):
        for uri in (NURSE, CHEF):
            first, second = (fetch(servers[n], uri) for n in ("a", "b"))
            assert first.status_code == second.status_code == 200
            assert first.headers["ETag"] == second.headers["ETag"], (fetch.__name__, uri)
        assert (
            fetch(servers["a"], NURSE).headers["ETag"] == fetch(servers["c"], NURSE).headers["ETag"]
        )
        assert (
            fetch(servers["a"], CHEF).headers["ETag"] != fetch(servers["c"], CHEF).headers["ETag"]
        ), fetch.__name__


def test_etags_are_weak_for_json_and_pages_strong_for_rdf(servers: dict[str, LiveServer]) -> None:
    assert _api(servers["a"], CHEF).headers["ETag"].startswith('W/"')
    assert _page(servers["a"], CHEF).headers["ETag"].startswith('W/"')
    assert _rdf(servers["a"], CHEF).headers["ETag"].startswith('"')
    # different representations, different validators
    assert (
        _rdf(servers["a"], CHEF).headers["ETag"].strip('"')
        not in _api(servers["a"], CHEF).headers["ETag"]
    )


@pytest.mark.parametrize("fetch", [_api, _rdf, _page])
def test_if_none_match_gets_304_across_builds(
    servers: dict[str, LiveServer], fetch: object
) -> None:
    assert callable(fetch)
    etag = fetch(servers["a"], NURSE).headers["ETag"]
    again = fetch(servers["b"], NURSE, **{"If-None-Match": etag})  # another build, same concept
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    changed = fetch(
        servers["c"], CHEF, **{"If-None-Match": fetch(servers["a"], CHEF).headers["ETag"]}
    )
    assert changed.status_code == 200
    assert changed.content


def test_relabelled_concept_body_says_so(servers: dict[str, LiveServer]) -> None:
    assert _api(servers["a"], CHEF).json()["prefLabel"]["en"] == "chef"
    assert _api(servers["c"], CHEF).json()["prefLabel"]["en"] == "head chef"


def test_unknown_concept_is_404_not_an_etag(servers: dict[str, LiveServer]) -> None:
    response = _api(servers["a"], "http://data.europa.eu/esco/occupation/nothing-here")
    assert response.status_code == 404
    assert "ETag" not in response.headers
    assert _api(servers["a"], "not a uri").status_code == 400
