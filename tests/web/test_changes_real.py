"""Releases and changes over real HTTP on the real data (ESCO v1.1.1 and the partial v1.2.0):
the API's totals equal the counts of the compared pair, what the v1.2.0 package lacks is said,
and the feed parses as Atom with what RFC 4287 requires."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import requests

from kll_graph.testing import LiveServer
from tests.web.test_api import check_against_spec

ATOM = "{http://www.w3.org/2005/Atom}"


def test_esco_changes_add_up_and_say_what_was_not_compared(real_server: LiveServer) -> None:
    releases = requests.get(f"{real_server.url}/api/v1/releases", timeout=60)
    esco = next(s for s in releases.json()["sources"] if s["source"] == "esco")
    assert [r["version"] for r in esco["releases"]] == ["v1.1.1", "v1.2.0"]
    counts = esco["compared"][0]["counts"]
    response = requests.get(
        f"{real_server.url}/api/v1/changes",
        params={"source": "esco", "from": "v1.1.1", "to": "v1.2.0", "limit": "1000"},
        timeout=60,
    )
    body = check_against_spec("/api/v1/changes", "get", response)
    assert body["counts"] == counts
    assert any("skills" in what for what in body["not_compared"])
    for kind, expected in counts.items():
        page = requests.get(
            f"{real_server.url}/api/v1/changes",
            params={"source": "esco", "kind": kind, "limit": "1"},
            timeout=60,
        ).json()
        assert page["total"] == expected, kind
    # removed skills would be a wrong answer: the v1.2.0 copy has no skills to compare
    removed = requests.get(
        f"{real_server.url}/api/v1/changes",
        params={"source": "esco", "kind": "removed", "limit": "1000"},
        timeout=60,
    ).json()
    assert not [c for c in removed["items"] if "/skill/" in c["concept"]]


def test_the_real_feeds_are_atom(real_server: LiveServer) -> None:
    for source in ("esco", "se-occupations-esco"):
        feed = ET.fromstring(
            requests.get(f"{real_server.url}/changes/{source}.atom", timeout=60).content
        )
        assert feed.tag == ATOM + "feed"
        for name in ("id", "title", "updated", "author"):
            assert len(feed.findall(ATOM + name)) == 1, (source, name)
        entries = feed.findall(ATOM + "entry")
        assert entries
        for entry in entries:
            for name in ("id", "title", "updated"):
                assert len(entry.findall(ATOM + name)) == 1, (source, name)
            assert entry.find(ATOM + "link[@rel='alternate']") is not None
