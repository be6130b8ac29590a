"""Releases and changes over real HTTP (#19, items 3 and 4), on a copy of the bundled sample with
two ESCO releases: v1.1.1 as shipped (current) and a "v1.2.0" made here from it, where one
occupation is relabelled, one removed and one added. What the API reports is checked against a
plain comparison of the two occupation CSV files made in the test; the Atom feed is parsed with
the standard library's XML parser and held to RFC 4287's required elements."""

from __future__ import annotations

import csv
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import requests

from kll_graph.build.pipeline import build
from kll_graph.settings import REPO_ROOT, load_settings
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer
from tests.web.test_api import check_against_spec

OCCUPATIONS = Path("esco") / "v1.1.1" / "en" / "occupations_en.csv"
NEWER = Path("esco") / "v1.2.0-partial" / "en" / "occupations_en.csv"
CHEF = "http://data.europa.eu/esco/occupation/1009be17-7efd-45f1-a033-566bf179c588"
#: The occupation the newer release drops, and the one it adds.
DROPPED = "http://data.europa.eu/esco/occupation/24135b84-cbdd-4d42-9ed2-02fd982d15b2"
ADDED = "http://data.europa.eu/esco/occupation/" + str(uuid.UUID(int=19))
ATOM = "{http://www.w3.org/2005/Atom}"


def _occupations(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["conceptUri"]: row["preferredLabel"] for row in csv.DictReader(handle)}


def _make_newer(data: Path) -> None:
    """v1.2.0: the v1.1.1 package with chef relabelled, one occupation dropped, one added."""
    shutil.copytree(data / "esco" / "v1.1.1", data / "esco" / "v1.2.0-partial")
    path = data / NEWER
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    assert fields is not None
    kept = [row for row in rows if row["conceptUri"] != DROPPED]
    for row in kept:
        if row["conceptUri"] == CHEF:
            row["preferredLabel"] = "head chef"
    added = dict(next(row for row in rows if row["conceptUri"] == CHEF))
    added.update(conceptUri=ADDED, preferredLabel="pastry sous chef", altLabels="", code="3434.9")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows([*kept, added])


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    root = tmp_path_factory.mktemp("two-releases")
    data = root / "data"
    shutil.copytree(REPO_ROOT / "src" / "kll_graph" / "sample", data)
    _make_newer(data)
    settings = load_settings(config_file=REPO_ROOT / "kll-graph.toml", env={}).replace(
        store=root / "store", data_dir=data
    )
    build(settings)
    server = LiveServer(settings, CurrentStore(settings.store))
    yield server, data
    server.close()


def _get(server: LiveServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=30)


def test_releases_list_both_esco_releases(two: tuple[LiveServer, Path]) -> None:
    server, _ = two
    response = _get(server, "/api/v1/releases")
    assert response.status_code == 200
    body = check_against_spec("/api/v1/releases", "get", response)
    esco = next(s for s in body["sources"] if s["source"] == "esco")
    versions = {r["version"]: r for r in esco["releases"]}
    assert set(versions) == {"v1.1.1", "v1.2.0"}
    assert esco["current"] == "v1.1.1" and versions["v1.1.1"]["current"]
    assert not versions["v1.2.0"]["current"]
    assert all(r["triples"] > 0 and r["checksum"] for r in versions.values())
    assert versions["v1.1.1"]["checksum"] != versions["v1.2.0"]["checksum"]
    assert {"from": "v1.1.1", "to": "v1.2.0"}.items() <= esco["compared"][0].items()


def test_a_release_answers_has_it_changed_in_one_request(two: tuple[LiveServer, Path]) -> None:
    server, _ = two
    first = _get(server, "/api/v1/releases/esco/v1.1.1")
    assert first.status_code == 200
    check_against_spec("/api/v1/releases/{source}/{version}", "get", first)
    assert first.headers["ETag"].strip('"') == first.json()["checksum"]
    again = requests.get(
        f"{server.url}/api/v1/releases/esco/v1.1.1",
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304 and again.content == b""
    modified = parsedate_to_datetime(first.headers["Last-Modified"])
    assert modified.date().isoformat() == first.json()["date"]
    later = format_datetime(modified.replace(year=modified.year + 1), usegmt=True)
    since = requests.get(
        f"{server.url}/api/v1/releases/esco/v1.1.1",
        headers={"If-Modified-Since": later},
        timeout=30,
    )
    assert since.status_code == 304
    other = requests.get(
        f"{server.url}/api/v1/releases/esco/v1.2.0",
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=30,
    )
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("path", "known"),
    [
        ("/api/v1/releases/nosuch", "esco"),
        ("/api/v1/releases/esco/v0.9", "v1.1.1, v1.2.0"),
    ],
)
def test_unknown_sources_and_versions_list_the_known_ones(
    two: tuple[LiveServer, Path], path: str, known: str
) -> None:
    response = _get(two[0], path)
    assert response.status_code == 404
    assert known in response.json()["error"]["message"]


def test_changes_equal_a_plain_comparison_of_the_csv_files(two: tuple[LiveServer, Path]) -> None:
    server, data = two
    older, newer = _occupations(data / OCCUPATIONS), _occupations(data / NEWER)
    expected = {
        "added": set(newer) - set(older),
        "removed": set(older) - set(newer),
        "relabelled": {u for u in set(older) & set(newer) if older[u] != newer[u]},
    }
    assert expected == {"added": {ADDED}, "removed": {DROPPED}, "relabelled": {CHEF}}
    for kind, concepts in expected.items():
        response = _get(server, "/api/v1/changes", source="esco", kind=kind, limit="1000")
        assert response.status_code == 200, response.text
        body = check_against_spec("/api/v1/changes", "get", response)
        assert (body["from"], body["to"], body["kind"]) == ("v1.1.1", "v1.2.0", kind)
        found = {c["concept"] for c in body["items"] if "/occupation/" in c.get("concept", "")}
        if kind == "relabelled":
            found = {
                c["concept"]
                for c in body["items"]
                if "/occupation/" in c["concept"]
                and c["label_kind"] == "prefLabel"
                and c["lang"] == "en"
            }
        assert found == concepts, kind
    chef = _get(server, "/api/v1/changes", source="esco", kind="relabelled").json()["items"]
    assert {"before": "chef", "after": "head chef"}.items() <= next(
        c for c in chef if c["concept"] == CHEF and c["label_kind"] == "prefLabel"
    ).items()


def test_changes_are_paged_and_checked(two: tuple[LiveServer, Path]) -> None:
    server, _ = two
    whole = _get(server, "/api/v1/changes", source="esco", limit="1000").json()
    assert whole["total"] == len(whole["items"]) >= 3
    page = _get(server, "/api/v1/changes", source="esco", offset="1", limit="1").json()
    assert page["items"] == whole["items"][1:2] and page["total"] == whole["total"]
    bad = _get(server, "/api/v1/changes", source="esco", kind="renamed")
    assert bad.status_code == 400 and bad.json()["error"]["parameter"] == "kind"
    unknown = _get(server, "/api/v1/changes", source="esco", to="v3")
    assert unknown.status_code == 404 and "v1.2.0" in unknown.json()["error"]["message"]
    none = _get(server, "/api/v1/changes", source="nosuch")
    assert none.status_code == 404 and "esco" in none.json()["error"]["message"]
    assert _get(server, "/api/v1/changes").status_code == 400


def _rfc3339(text: str | None) -> datetime:
    assert text and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _one(parent: ET.Element, name: str) -> ET.Element:
    found = parent.findall(ATOM + name)
    assert len(found) == 1, f"{parent.tag} has {len(found)} atom:{name}"
    return found[0]


def test_the_atom_feed_is_valid_atom(two: tuple[LiveServer, Path]) -> None:
    server, _ = two
    response = _get(server, "/changes/esco.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == ATOM + "feed"
    # RFC 4287 4.1.1: one id, title and updated; an author (no entry has its own); self link
    for name in ("id", "title", "updated"):
        _one(feed, name)
    assert _one(feed, "id").text and ":" in (_one(feed, "id").text or "")
    feed_updated = _rfc3339(_one(feed, "updated").text)
    assert (_one(_one(feed, "author"), "name").text or "").strip()
    rels = {link.get("rel", "alternate") for link in feed.findall(ATOM + "link")}
    assert "self" in rels
    entries = feed.findall(ATOM + "entry")
    assert len(entries) == 1
    ids = set()
    for entry in entries:  # 4.1.2: id, title, updated; alternate link when no content
        ids.add(_one(entry, "id").text)
        assert "v1.1.1" in (_one(entry, "title").text or "")
        assert _rfc3339(_one(entry, "updated").text) <= feed_updated
        alternates = [
            link for link in entry.findall(ATOM + "link") if link.get("rel") == "alternate"
        ]
        assert len(alternates) == 1 and entry.find(ATOM + "content") is None
        page = requests.get(alternates[0].get("href", ""), timeout=30)
        assert page.status_code == 200 and "head chef" in page.text
        assert "removed" in (_one(entry, "summary").text or "")
    assert len(ids) == len(entries)
    again = requests.get(
        f"{server.url}/changes/esco.atom",
        headers={"If-None-Match": response.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304
    assert _get(server, "/changes/nosuch.atom").status_code == 404


def test_the_pages_show_what_changed_and_the_concept_history(
    two: tuple[LiveServer, Path],
) -> None:
    server, _ = two
    index = _get(server, "/changes", lang="en")
    assert index.status_code == 200 and "/changes/esco/v1.1.1/v1.2.0" in index.text
    pair = _get(server, "/changes/esco/v1.1.1/v1.2.0", lang="en")
    assert pair.status_code == 200
    assert "<del>chef</del> → <ins>head chef</ins>" in pair.text
    assert "pastry sous chef" in pair.text
    missing = _get(server, "/changes/esco/v1.1.1/v9", lang="en")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("text/html") and "v1.2.0" in missing.text
    page = _get(server, "/page", uri=CHEF, lang="en")
    history = page.text[page.text.index('id="h-history"') :]
    assert "esco v1.1.1 → v1.2.0" in history[:2000]
    assert 'data-kind="relabelled"' in history[:2000]


def test_version_shows_each_release(two: tuple[LiveServer, Path]) -> None:
    server, _ = two
    old = _get(server, "/api/v1/concepts", uri=CHEF, version="v1.1.1").json()
    new = _get(server, "/api/v1/concepts", uri=CHEF, version="v1.2.0").json()
    assert old["prefLabel"]["en"] == "chef" and new["prefLabel"]["en"] == "head chef"
    assert old["versions"] == new["versions"] == ["v1.1.1", "v1.2.0"]
    gone = _get(server, "/api/v1/concepts", uri=DROPPED, version="v1.2.0")
    assert gone.status_code == 404 and "v1.1.1" in gone.json()["error"]["message"]
    etags = {
        v: _get(server, "/api/v1/concepts", uri=CHEF, version=v).headers["ETag"]
        for v in ("v1.1.1", "v1.2.0")
    }
    assert etags["v1.1.1"] != etags["v1.2.0"]


def test_a_concept_is_last_modified_when_its_releases_say(two: tuple[LiveServer, Path]) -> None:
    server, data = two
    unchanged = next(  # an occupation both releases have alike
        uri
        for uri, label in _occupations(data / OCCUPATIONS).items()
        if uri not in (CHEF, DROPPED) and _occupations(data / NEWER).get(uri) == label
    )
    response = _get(server, "/api/v1/concepts", uri=unchanged)
    esco = next(
        r
        for r in _get(server, "/api/v1/releases/esco").json()["releases"]
        if r["version"] == "v1.1.1"
    )
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert modified.date().isoformat() == esco["date"]  # held since the oldest dated release
    later = format_datetime(modified.replace(day=modified.day + 1), usegmt=True)
    again = requests.get(
        f"{server.url}/api/v1/concepts",
        params={"uri": unchanged},
        headers={"If-Modified-Since": later},
        timeout=30,
    )
    assert again.status_code == 304
    # chef changed in v1.2.0, which has no date: no Last-Modified rather than a wrong one
    assert "Last-Modified" not in _get(server, "/api/v1/concepts", uri=CHEF).headers
