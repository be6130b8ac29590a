"""The workbench's JSON twin on the bundled sample with the matcher's real candidates: roles,
CSRF, ETags (428, 409 with what changed), bad input that touches no file, undo, batch with
preview and one undo, import with preview, and the queue forgetting what was decided."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kll_graph.mappings.matcher import read_vocabularies, suggest
from kll_graph.mappings.suggestions import candidate_set, write_candidates
from kll_graph.review.users import Users
from kll_graph.settings import Settings
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings
from kll_graph.web.app import create_app

PASSWORD = "a long passphrase for tests"


@pytest.fixture(scope="module")
def bench(
    sample_store: CurrentStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, dict[str, str]]]:
    """Settings with a users file (one user per role, each with a token) and a mappings
    directory holding the matcher's candidates for the sample's occupation names."""
    root = tmp_path_factory.mktemp("review-api")
    candidates = root / "candidates.sssom.tsv"
    served = sample_store.get()
    settings = make_settings(sample_store.layout.root)
    vocabularies = read_vocabularies(served.store, settings.base_iri, ("occupation-name",))
    result = suggest(vocabularies, ("occupation-name",))
    write_candidates(candidate_set(result, served.manifest, ("occupation-name",)), candidates)
    users = Users(root / "users.json")
    tokens = {}
    for name, role in (("vera", "viewer"), ("erik", "editor"), ("rita", "reviewer")):
        users.add(name, role, PASSWORD)
        tokens[name] = users.issue_token(name)
    # review_refresh off: the sample store is shared by the session and must not be switched
    changed = settings.replace(
        users_file=root / "users.json", mappings_dir=root / "unused", review_refresh=False
    )
    yield changed, tokens


@pytest.fixture
def app(
    bench: tuple[Settings, dict[str, str]], tmp_path: Path, sample_store: CurrentStore
) -> Flask:
    settings, _tokens = bench
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    source = Path(settings.users_file).parent / "candidates.sssom.tsv"
    (mappings / "candidates.sssom.tsv").write_bytes(source.read_bytes())
    return create_app(settings.replace(mappings_dir=mappings), store=sample_store)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def auth(
    bench: tuple[Settings, dict[str, str]], name: str, etag: str | None = None
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {bench[1][name]}", "Accept": "application/json"}
    if etag is not None:
        headers["If-Match"] = etag
    return headers


def new_set(client: FlaskClient, bench: Any, name: str = "nurses") -> str:
    response = client.post("/api/v1/review/sets", json={"name": name}, headers=auth(bench, "erik"))
    assert response.status_code == 201, response.get_json()
    return str(response.headers["ETag"])


def first_candidate(client: FlaskClient, bench: Any) -> dict[str, Any]:
    response = client.get("/api/v1/review/queue?status=candidate", headers=auth(bench, "vera"))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert items, "the matcher proposed candidates on the sample"
    return dict(items[0])


def decision(item: dict[str, Any], kind: str = "accept", **changes: Any) -> dict[str, Any]:
    return {
        "set": "nurses",
        "subject_id": item["subject"],
        "object_id": item["object"],
        "predicate_id": "skos:exactMatch",
        "decision": kind,
        **changes,
    }


def set_file(app: Flask, name: str = "nurses") -> Path:
    return Path(app.extensions["kll"].mappings_dir) / f"{name}.sssom.tsv"


def test_accept_keeps_evidence_and_the_queue_forgets_the_pair(
    client: FlaskClient, app: Flask, bench: Any
) -> None:
    etag = new_set(client, bench)
    item = first_candidate(client, bench)
    total = client.get("/api/v1/review/queue", headers=auth(bench, "vera")).get_json()["total"]
    response = client.post(
        "/api/v1/review/decisions", json=decision(item), headers=auth(bench, "rita", etag)
    )
    assert response.status_code == 201, response.get_json()
    row = response.get_json()["row"]
    assert row["status"] == "reviewed"
    assert row["mapping_justification"] == "semapv:MappingReview"
    assert row["reviewer_id"] == "user:rita" and row["review_date"]
    assert row["confidence"] == item["row"]["confidence"]  # the matcher's evidence stays
    assert row["mapping_tool"] == "kll-graph mappings suggest"
    assert response.headers["ETag"] != etag
    after = client.get("/api/v1/review/queue", headers=auth(bench, "vera")).get_json()
    assert after["total"] == total - 1
    assert item["key"] not in {i["key"] for i in after["items"]}
    # the set's rows, with the ETag the next write must send
    got = client.get("/api/v1/review/sets/nurses", headers=auth(bench, "vera"))
    assert got.headers["ETag"] == response.headers["ETag"]
    assert [r["status"] for r in got.get_json()["rows"]] == ["reviewed"]


def test_rejected_pair_is_never_proposed_again(client: FlaskClient, bench: Any) -> None:
    etag = new_set(client, bench)
    item = first_candidate(client, bench)
    body = decision(item, "reject", comment="scope mismatch")
    response = client.post("/api/v1/review/decisions", json=body, headers=auth(bench, "rita", etag))
    assert response.status_code == 201
    assert response.get_json()["row"]["predicate_modifier"] == "Not"
    keys = {
        (i["subject"], i["object"])
        for i in client.get(
            "/api/v1/review/queue?limit=500", headers=auth(bench, "vera")
        ).get_json()["items"]
    }
    assert (item["subject"], item["object"]) not in keys


def test_unsure_shows_once_as_unsure(client: FlaskClient, bench: Any) -> None:
    etag = new_set(client, bench)
    item = first_candidate(client, bench)
    response = client.post(
        "/api/v1/review/decisions", json=decision(item, "unsure"), headers=auth(bench, "rita", etag)
    )
    assert response.status_code == 201
    items = client.get("/api/v1/review/queue?limit=500", headers=auth(bench, "vera")).get_json()
    same = [
        i
        for i in items["items"]
        if (i["subject"], i["object"]) == (item["subject"], item["object"])
    ]
    assert [i["kind"] for i in same] == ["unsure"]


def test_without_if_match_428_and_stale_409_with_changes(
    client: FlaskClient, app: Flask, bench: Any
) -> None:
    etag = new_set(client, bench)
    item = first_candidate(client, bench)
    response = client.post(
        "/api/v1/review/decisions", json=decision(item), headers=auth(bench, "rita")
    )
    assert response.status_code == 428
    first = client.post(
        "/api/v1/review/decisions", json=decision(item), headers=auth(bench, "rita", etag)
    )
    assert first.status_code == 201
    before = set_file(app).read_bytes()
    stale = client.post(
        "/api/v1/review/decisions",
        json=decision(item, "reject"),
        headers=auth(bench, "erik", etag),
    )
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "conflict"
    assert len(error["changes"]) == 1 and error["changes"][0]["action"] == "accept"
    assert set_file(app).read_bytes() == before  # never a silent overwrite


def test_roles_and_csrf(client: FlaskClient, app: Flask, bench: Any) -> None:
    etag = new_set(client, bench)
    item = first_candidate(client, bench)
    viewer = client.post(
        "/api/v1/review/decisions", json=decision(item), headers=auth(bench, "vera", etag)
    )
    assert viewer.status_code == 403
    nobody = client.post(
        "/api/v1/review/decisions", json=decision(item), headers={"If-Match": etag}
    )
    assert nobody.status_code == 401
    editor_batch = client.post(
        "/api/v1/review/batch",
        json={"set": "nurses", "decision": "accept", "filters": {}},
        headers=auth(bench, "erik", etag),
    )
    assert editor_batch.status_code == 403
    # a signed-in browser session: a write without the CSRF token is refused
    page = app.test_client()
    token = page.get("/login").get_json()["csrf_token"]
    signed = page.post("/login", json={"name": "erik", "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 200, signed.get_json()
    headers = {"If-Match": etag, "Accept": "application/json"}
    refused = page.post("/api/v1/review/decisions", json=decision(item), headers=headers)
    assert refused.status_code == 403
    wrong = page.post(
        "/api/v1/review/decisions",
        json=decision(item),
        headers={**headers, "X-CSRF-Token": "0" * 64},
    )
    assert wrong.status_code == 403
    csrf = page.get("/login").get_json()["csrf_token"]
    ok = page.post(
        "/api/v1/review/decisions", json=decision(item), headers={**headers, "X-CSRF-Token": csrf}
    )
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["row"]["reviewer_id"] == "user:erik"


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "a/b", ".hidden", "", "x" * 200, "..", "nurses.sssom.tsv", "NURSES"]
)
def test_set_names_never_reach_a_path(
    client: FlaskClient, app: Flask, bench: Any, name: str
) -> None:
    created = client.post("/api/v1/review/sets", json={"name": name}, headers=auth(bench, "erik"))
    assert created.status_code in (400, 404), created.get_json()
    assert created.get_json()["error"]["message"]
    listing = sorted(p.name for p in set_file(app).parent.iterdir())
    assert listing == ["candidates.sssom.tsv"]
    read = client.get(f"/api/v1/review/sets/{name}", headers=auth(bench, "vera"))
    assert read.status_code in (400, 404)


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"subject_id": "jt:doesNotExist"}, 404, "not a JobTech concept"),
        ({"object_id": "ESCO:occupation/00000000-0000-0000-0000-000000000000"}, 404, "ESCO"),
        ({"predicate_id": "owl:sameAs"}, 400, "skos:exactMatch"),
        ({"decision": "maybe"}, 400, "decision"),
        ({"comment": "x" * 2001}, 400, "2000"),
        ({"set": "no-such-set"}, 404, "no mapping set"),
        ({"extra": 1}, 400, "unknown field"),
    ],
)
def test_bad_decisions_say_what_is_wrong_and_touch_no_file(
    client: FlaskClient, app: Flask, bench: Any, change: dict[str, Any], status: int, words: str
) -> None:
    etag = new_set(client, bench)
    before = set_file(app).read_bytes()
    item = first_candidate(client, bench)
    response = client.post(
        "/api/v1/review/decisions",
        json={**decision(item), **change},
        headers=auth(bench, "rita", etag),
    )
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["error"]["message"]
    assert set_file(app).read_bytes() == before


def test_malformed_bodies_are_4xx(client: FlaskClient, bench: Any) -> None:
    etag = new_set(client, bench)
    for body in (b"{", b"[1,2]", b'"text"', b"\xff\xfe", b"[" * 1000 + b"]" * 1000):
        response = client.post(
            "/api/v1/review/decisions",
            data=body,
            headers={**auth(bench, "rita", etag), "Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500, (body[:10], response.status_code)


def test_undo_restores_the_file(client: FlaskClient, app: Flask, bench: Any) -> None:
    etag = new_set(client, bench)
    before = set_file(app).read_bytes()
    item = first_candidate(client, bench)
    made = client.post(
        "/api/v1/review/decisions", json=decision(item), headers=auth(bench, "rita", etag)
    )
    undone = client.post(
        "/api/v1/review/undo",
        json={"set": "nurses"},
        headers=auth(bench, "rita", made.headers["ETag"]),
    )
    assert undone.status_code == 200, undone.get_json()
    assert undone.get_json()["undone"]["action"] == "undo"
    assert [
        r
        for r in client.get("/api/v1/review/sets/nurses", headers=auth(bench, "vera")).get_json()[
            "rows"
        ]
    ] == []
    assert set_file(app).read_bytes() == before


def test_batch_preview_apply_one_audit_entry_one_undo(
    client: FlaskClient, app: Flask, bench: Any
) -> None:
    etag = new_set(client, bench)
    body = {
        "set": "nurses",
        "filters": {"status": "candidate", "band": "0.9-1"},
        "decision": "accept",
        "predicate_id": "skos:exactMatch",
    }
    preview = client.post("/api/v1/review/batch", json=body, headers=auth(bench, "rita", etag))
    assert preview.status_code == 200, preview.get_json()
    shown = preview.get_json()
    assert shown["preview"] is True and shown["rows"]
    assert set_file(app).read_bytes().count(b"\n") == set_file(app).read_bytes().count(b"\n")
    applied = client.post(
        "/api/v1/review/batch",
        json={**body, "preview": False, "keys": shown["keys"]},
        headers=auth(bench, "rita", etag),
    )
    assert applied.status_code == 200, applied.get_json()
    assert len(applied.get_json()["rows"]) == len(shown["rows"])
    audit = (set_file(app).parent / "nurses.audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["action"] for line in audit] == ["create", "batch"]
    # a stale preview is refused: the queue no longer holds those rows
    again = client.post(
        "/api/v1/review/batch",
        json={**body, "preview": False, "keys": shown["keys"]},
        headers=auth(bench, "rita", applied.headers["ETag"]),
    )
    assert again.status_code == 409
    undone = client.post(
        "/api/v1/review/undo",
        json={"set": "nurses"},
        headers=auth(bench, "rita", applied.headers["ETag"]),
    )
    assert undone.status_code == 200
    rows = client.get("/api/v1/review/sets/nurses", headers=auth(bench, "vera")).get_json()["rows"]
    assert rows == []


def test_import_preview_then_confirm(client: FlaskClient, app: Flask, bench: Any) -> None:
    content = (set_file(app).parent / "candidates.sssom.tsv").read_text(encoding="utf-8")
    body = {"set": "imported", "format": "sssom", "content": content}
    preview = client.post("/api/v1/review/import", json=body, headers=auth(bench, "erik"))
    assert preview.status_code == 200, preview.get_json()
    counts = preview.get_json()["counts"]
    assert counts["added"] == counts["rows"] > 0 and preview.get_json()["new_set"] is True
    assert not set_file(app, "imported").exists()  # a preview writes nothing
    confirmed = client.post(
        "/api/v1/review/import", json={**body, "confirm": True}, headers=auth(bench, "erik")
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    assert set_file(app, "imported").exists()
    # the same file again: nothing added, changed or removed
    again = client.post("/api/v1/review/import", json=body, headers=auth(bench, "erik"))
    assert again.get_json()["counts"] == {**counts, "added": 0, "changed": 0, "removed": 0}


@pytest.mark.parametrize(
    "content", ["", "not\ta\tmapping\n", "#curie_map: [\nsubject_id\n", "\x00" * 100]
)
def test_malformed_upload_is_4xx_and_writes_nothing(
    client: FlaskClient, app: Flask, bench: Any, content: str
) -> None:
    body = {"set": "imported", "format": "sssom", "content": content, "confirm": True}
    response = client.post("/api/v1/review/import", json=body, headers=auth(bench, "erik"))
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.get_json()["error"]["message"]
    assert not set_file(app, "imported").exists()


def test_review_api_is_in_the_openapi_description(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/review/queue",
        "/api/v1/review/sets/{set}",
        "/api/v1/review/decisions",
        "/api/v1/review/undo",
        "/api/v1/review/batch",
        "/api/v1/review/import",
    ):
        assert path in paths, path


def test_answers_are_private_and_never_served_from_the_response_cache(
    client: FlaskClient, bench: Any
) -> None:
    for _ in range(3):  # a repeat of a cacheable GET would be answered from memory
        signed = client.get("/api/v1/review/queue?limit=1", headers=auth(bench, "vera"))
        assert signed.status_code == 200
        assert signed.headers["Cache-Control"] == "no-store"
    anonymous = client.get("/api/v1/review/queue?limit=1", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401
    assert "items" not in anonymous.get_json()
