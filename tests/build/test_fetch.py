"""`kll-graph fetch jobtech` against a real HTTP server on loopback.

The server lays out ../shared/data/jobtech/taxonomy-datasets the way data.jobtechdev.se does
(`/version/{N}/query/{name}/{name}.json`), honours Range requests, and can be told to fail a
file, to answer 503 once, to cut a body short, or to stall, so that retries, resume and per-file
errors run over real sockets.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from kll_graph.build.fetch import JOBTECH_DATASETS, MANIFEST, Downloader, fetch_jobtech
from kll_graph.cli import main
from kll_graph.exceptions import ConfigError, FetchError
from kll_graph.settings import Settings
from kll_graph.testing import make_settings

pytestmark = pytest.mark.realdata
ROUTE = re.compile(r"^/version/(?P<version>\d+)/query/(?P<name>[\w-]+)/(?P=name)\.json$")


@dataclass
class Behaviour:
    """How the test server misbehaves, per file name (without .json)."""

    fail: dict[str, int] = field(default_factory=dict)  # always answer this status
    fail_once: dict[str, int] = field(default_factory=dict)  # answer this status once
    cut_once: dict[str, int] = field(default_factory=dict)  # send only N bytes once, then close
    stall: set[str] = field(default_factory=set)  # never answer in time
    requests: list[tuple[str, str | None, int]] = field(default_factory=list)


class TaxonomyServer:
    """A ThreadingHTTPServer on a free loopback port serving the real dataset files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.behaviour = Behaviour()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        b = self.behaviour
        match = ROUTE.match(h.path)
        name = match["name"] if match else ""
        path = self.folder / f"{name}.json"
        rng = h.headers.get("Range")
        status = self._status(name, path)
        b.requests.append((name, rng, status))
        if name in b.stall:
            time.sleep(3)
            return
        if status != 200:
            h.send_error(status)
            return
        body = path.read_bytes()
        start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
        if start:
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            b.requests[-1] = (name, rng, 206)
        else:
            h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body) - start))
        h.end_headers()
        cut = b.cut_once.pop(name, None)
        h.wfile.write(body[start : start + cut] if cut else body[start:])
        if cut:
            h.wfile.flush()
            h.close_connection = True

    def _status(self, name: str, path: Path) -> int:
        b = self.behaviour
        if name in b.fail:
            return b.fail[name]
        if name in b.fail_once:
            return b.fail_once.pop(name)
        return 200 if path.is_file() else 404

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(shared_data: Path) -> Iterator[TaxonomyServer]:
    srv = TaxonomyServer(shared_data / "jobtech" / "taxonomy-datasets")
    yield srv
    srv.close()


@pytest.fixture
def srv(server: TaxonomyServer) -> TaxonomyServer:
    server.behaviour = Behaviour()
    return server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "store", data_dir=tmp_path / "data")


def fast(**changes: object) -> Downloader:
    return Downloader(**{"timeout": 5.0, "retries": 2, "backoff": 0.01, **changes})  # type: ignore[arg-type]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetches_every_dataset_file_with_sha256(srv, settings: Settings, shared_data) -> None:
    messages: list[str] = []
    result = fetch_jobtech(
        settings, "99", base_url=srv.url, downloader=fast(), progress=messages.append
    )
    dest = settings.data_dir / "jobtech" / "taxonomy-datasets"
    assert result.dest == dest
    assert len(result.files) == len(JOBTECH_DATASETS) == 33
    originals = shared_data / "jobtech" / "taxonomy-datasets"
    for f in result.files:
        assert f.path.read_bytes() == (originals / f.path.name).read_bytes()
        assert f.sha256 == sha(originals / f.path.name)
        assert f.status == "downloaded"
    manifest = json.loads((dest / MANIFEST).read_text())
    assert manifest["version"] == "99" and manifest["source"] == "jobtech"
    assert manifest["files"]["skills.json"]["sha256"] == sha(originals / "skills.json")
    assert (
        manifest["files"]["skills.json"]["url"] == f"{srv.url}version/99/query/skills/skills.json"
    )
    assert manifest["files"]["skills.json"]["bytes"] == (originals / "skills.json").stat().st_size
    assert any(m.startswith("[1/33] ") for m in messages)
    assert not list(dest.glob("*.part"))


def test_fetched_files_import(srv, settings: Settings) -> None:
    from tests.importers.test_jobtech_dump import run_importer

    fetch_jobtech(settings, "99", base_url=srv.url, downloader=fast())
    ctx = run_importer(settings.data_dir / "jobtech" / "taxonomy-datasets", version="99")
    assert ctx.report.counts["concepts"] == 16268  # the manifest is not mistaken for a dataset


def test_a_failing_file_is_named_and_the_others_land(srv, settings: Settings) -> None:
    srv.behaviour.fail = {"skills": 500}
    with pytest.raises(FetchError) as caught:
        fetch_jobtech(
            settings, "99", names=("skills", "countries"), base_url=srv.url, downloader=fast()
        )
    error = caught.value
    assert [f.name for f in error.failures] == ["skills.json"]
    text = str(error)
    assert "skills.json: gave up after 3 attempts: HTTP 500" in text
    assert f"{srv.url}version/99/query/skills/skills.json" in text
    assert [r for r in srv.behaviour.requests if r[0] == "skills"] == [("skills", None, 500)] * 3
    dest = settings.data_dir / "jobtech" / "taxonomy-datasets"
    assert (dest / "countries.json").is_file() and not (dest / "skills.json").exists()
    manifest = json.loads((dest / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["countries.json"]


def test_not_found_is_not_retried(srv, settings: Settings) -> None:
    with pytest.raises(FetchError, match=r"no-such-file\.json: HTTP 404"):
        fetch_jobtech(settings, "99", names=("no-such-file",), base_url=srv.url, downloader=fast())
    assert len(srv.behaviour.requests) == 1


def test_a_503_is_retried(srv, settings: Settings) -> None:
    srv.behaviour.fail_once = {"languages": 503}
    result = fetch_jobtech(
        settings, "99", names=("languages",), base_url=srv.url, downloader=fast()
    )
    assert [r[2] for r in srv.behaviour.requests] == [503, 200]
    assert result.files[0].status == "downloaded"


def test_a_cut_off_download_resumes_with_range(srv, settings: Settings, shared_data) -> None:
    srv.behaviour.cut_once = {"eu-regions": 100_000}
    messages: list[str] = []
    result = fetch_jobtech(
        settings, "99", names=("eu-regions",), base_url=srv.url, downloader=fast(),
        progress=messages.append,
    )  # fmt: skip
    assert srv.behaviour.requests == [
        ("eu-regions", None, 200),
        ("eu-regions", "bytes=100000-", 206),
    ]
    original = shared_data / "jobtech" / "taxonomy-datasets" / "eu-regions.json"
    assert result.files[0].path.read_bytes() == original.read_bytes()
    assert result.files[0].status == "resumed"
    assert any("cut off after 100,000 of" in m for m in messages)
    assert any("resuming at 100,000 bytes" in m for m in messages)


def test_a_partial_file_from_an_earlier_run_is_resumed(
    srv, settings: Settings, shared_data
) -> None:
    original = shared_data / "jobtech" / "taxonomy-datasets" / "skills.json"
    dest = settings.data_dir / "jobtech" / "taxonomy-datasets"
    dest.mkdir(parents=True)
    (dest / "skills.json.part").write_bytes(original.read_bytes()[:250_000])
    result = fetch_jobtech(settings, "99", names=("skills",), base_url=srv.url, downloader=fast())
    assert srv.behaviour.requests == [("skills", "bytes=250000-", 206)]
    assert (dest / "skills.json").read_bytes() == original.read_bytes()
    assert result.files[0].sha256 == sha(original)


def test_unchanged_files_are_not_downloaded_again(srv, settings: Settings) -> None:
    names = ("countries", "wage-type-concepts")
    fetch_jobtech(settings, "99", names=names, base_url=srv.url, downloader=fast())
    srv.behaviour.requests.clear()
    again = fetch_jobtech(settings, "99", names=names, base_url=srv.url, downloader=fast())
    assert srv.behaviour.requests == []
    assert [f.status for f in again.files] == ["unchanged", "unchanged"]
    other = fetch_jobtech(settings, "100", names=names, base_url=srv.url, downloader=fast())
    assert [f.status for f in other.files] == ["downloaded", "downloaded"]


def test_a_stalled_server_times_out(srv, settings: Settings) -> None:
    srv.behaviour.stall = {"skills"}
    started = time.perf_counter()
    with pytest.raises(FetchError, match=r"skills\.json: gave up after 2 attempts: cannot connect"):
        fetch_jobtech(
            settings, "99", names=("skills",), base_url=srv.url,
            downloader=fast(timeout=0.3, retries=1),
        )  # fmt: skip
    assert time.perf_counter() - started < 2.5


def test_an_html_error_page_is_not_kept(srv, settings: Settings, tmp_path: Path) -> None:
    page = tmp_path / "html"
    page.mkdir()
    (page / "skills.json").write_text("<html>maintenance</html>")
    srv_html = TaxonomyServer(page)
    try:
        with pytest.raises(FetchError, match=r"not JSON"):
            fetch_jobtech(
                settings, "99", names=("skills",), base_url=srv_html.url, downloader=fast()
            )
    finally:
        srv_html.close()
    dest = settings.data_dir / "jobtech" / "taxonomy-datasets"
    assert not (dest / "skills.json").exists() and not (dest / "skills.json.part").exists()


def test_version_must_be_a_number(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"--version must be a taxonomy version number"):
        fetch_jobtech(settings, "latest")


def test_cli_fetch(srv, tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    args = ["fetch", "jobtech", "--version", "31", "--data-dir", str(data), "--base-url", srv.url,
            "--retries", "0", "--file", "countries", "--file", "skills.json"]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "downloaded" in result.output and "countries.json" in result.output
    assert 'set version = "31"' in result.output
    srv.behaviour.fail = {"skills": 502}
    result = runner.invoke(main, [*args, "--force"])
    assert result.exit_code == 1
    assert "error: 1 file(s) could not be fetched" in result.output
    assert "skills.json: gave up after 1 attempts: HTTP 502" in result.output
    assert "Traceback" not in result.output
