"""The workbench's HTML pages with Flask's test client on the bundled sample: sign-in redirect,
the workbench off without a users file, a viewer sees the queue but cannot decide, the table
view, and the import page's preview → confirm flow with an ESCO mapping-tool CSV."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kll_graph.mappings.matcher import read_vocabularies, suggest
from kll_graph.mappings.suggestions import candidate_set, write_candidates
from kll_graph.review.users import Users
from kll_graph.settings import REPO_ROOT
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings
from kll_graph.web.app import create_app

PASSWORD = "a long passphrase for tests"
HTML = {"Accept": "text/html"}
SAMPLE_TABLE = (
    REPO_ROOT
    / "src/kll_graph/sample/jobtech/esco-mappings/SE_occupations_ESCO-1.1.1_taxonomy-v18.csv"
)


@pytest.fixture
def app(sample_store: CurrentStore, tmp_path: Path) -> Flask:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    served = sample_store.get()
    settings = make_settings(sample_store.layout.root)
    types = ("occupation-name",)
    result = suggest(read_vocabularies(served.store, settings.base_iri, types), types)
    write_candidates(candidate_set(result, served.manifest, types), mappings / "cands.sssom.tsv")
    users = Users(tmp_path / "users.json")
    users.add("vera", "viewer", PASSWORD)
    users.add("erik", "editor", PASSWORD)
    changed = settings.replace(
        mappings_dir=mappings, users_file=tmp_path / "users.json", review_refresh=False
    )
    return create_app(changed, store=sample_store)


def sign_in(client: FlaskClient, name: str) -> None:
    page = client.get("/login", headers=HTML).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token.group(1), "next": "/review"},
        headers=HTML,
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def test_a_visitor_is_sent_to_sign_in_and_back(app: Flask) -> None:
    response = app.test_client().get("/review?view=table", headers=HTML)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Freview%3Fview%3Dtable"


def test_without_users_file_the_workbench_says_how_to_turn_it_on(
    sample_store: CurrentStore, tmp_path: Path
) -> None:
    settings = make_settings(
        sample_store.layout.root, users_file=tmp_path / "none.json", review_refresh=False
    )
    client = create_app(settings, store=sample_store).test_client()
    for path in ("/review", "/api/v1/review/queue"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 404
        assert "kll-graph users add" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # the public pages are unchanged


def test_a_viewer_sees_the_queue_and_cannot_decide(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "vera")
    page = client.get("/review", headers=HTML)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-can-decide="false"' in text
    assert re.search(r'<button type="button" data-decide="accept"\s+disabled', text)
    assert "is broader than JobTech" in text or "är bredare än JobTech" in text
    assert page.headers["Cache-Control"] == "no-store"
    table = client.get("/review?view=table&lang=en", headers=HTML).get_data(as_text=True)
    assert '<table class="queue">' in table and "candidate" in table


def test_import_an_esco_table_with_preview_then_confirm(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "erik")
    page = client.get("/review/import", headers=HTML).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    upload = {
        "csrf_token": csrf.group(1),
        "set": "official",
        "format": "esco-csv",
        "file": (io.BytesIO(SAMPLE_TABLE.read_bytes()), "table.csv"),
    }
    preview = client.post(
        "/review/import", data=upload, headers=HTML, content_type="multipart/form-data"
    )
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text[:500]
    added = re.search(r"(\d+) (?:added|nya)", text)
    assert added and int(added.group(1)) > 0, text[:2000]
    directory = Path(app.extensions["kll"].mappings_dir)
    assert not (directory / "official.sssom.tsv").exists()  # a preview writes nothing
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', text))
    content = re.search(r'<textarea name="content" hidden>(.*?)</textarea>', text, re.S)
    assert content and fields["confirm"] == "yes"
    confirm = client.post(
        "/review/import",
        data={**fields, "content": html.unescape(content.group(1))},
        headers=HTML,
    )
    assert confirm.status_code == 200
    assert "Imported into" in confirm.get_data(
        as_text=True
    ) or "Importerad till" in confirm.get_data(as_text=True)
    assert (directory / "official.sssom.tsv").exists()
    # without the CSRF token, nothing is imported
    refused = client.post(
        "/review/import",
        data={**fields, "set": "other", "csrf_token": "", "content": "x"},
        headers=HTML,
    )
    assert refused.status_code == 403
    assert not (directory / "other.sssom.tsv").exists()
