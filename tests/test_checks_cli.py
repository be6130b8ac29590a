"""`kll-graph check`: formats, severity overrides and exit codes, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kll_graph.quality.render import REPORT_CSS
from tests.quality.support import VOC, build_fixture


def kll_graph(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kll_graph", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One store per situation: clean, warnings only, an error."""
    out = {}
    for name, files in {
        "clean": ["clean.ttl"],
        "warning": ["clean.ttl", "duplicate-preflabel.ttl"],
        "error": ["clean.ttl", "dangling-link.ttl"],
    }.items():
        settings, _ = build_fixture(tmp_path_factory.mktemp(name), *files)
        out[name] = settings.store
    return out


def test_clean_store_exits_zero(stores: dict[str, Path]) -> None:
    result = kll_graph("check", "--store", str(stores["clean"]))
    assert result.returncode == 0, result.stderr
    assert "0 finding(s)" in result.stdout
    strict = kll_graph("check", "--store", str(stores["clean"]), "--strict")
    assert strict.returncode == 0


def test_warnings_fail_only_with_strict(stores: dict[str, Path]) -> None:
    relaxed = kll_graph("check", "--store", str(stores["warning"]))
    assert relaxed.returncode == 0
    assert "duplicate-preflabel (warning)" in relaxed.stdout
    assert f'{VOC}b "Snickare" [fixture] shares the preferred label' in relaxed.stdout
    strict = kll_graph("check", "--store", str(stores["warning"]), "--strict")
    assert strict.returncode == 1


def test_errors_exit_one_unless_downgraded(stores: dict[str, Path]) -> None:
    result = kll_graph("check", "--store", str(stores["error"]))
    assert result.returncode == 1
    assert "1 error" in result.stdout.splitlines()[0]
    downgraded = kll_graph(
        "check", "--store", str(stores["error"]), "--severity", "dangling-link=warning"
    )
    assert downgraded.returncode == 0
    assert "0 error, 1 warning" in downgraded.stdout
    off = kll_graph("check", "--store", str(stores["error"]), "--severity", "dangling-link=off")
    assert off.returncode == 0 and "dangling-link" not in off.stdout


def test_json_lists_every_finding_and_rerun_agrees(stores: dict[str, Path]) -> None:
    store = str(stores["error"])
    saved = json.loads(kll_graph("check", "--store", store, "--format", "json").stdout)
    rerun = json.loads(
        kll_graph("check", "--store", str(stores["error"]), "--format", "json", "--rerun").stdout
    )
    assert saved["summary"]["by_severity"] == {"error": 1, "warning": 0, "info": 0}
    dangling = next(c for c in saved["checks"] if c["id"] == "dangling-link")
    assert dangling["findings"][0]["concept"] == VOC + "c"
    assert dangling["by_vocabulary"] == {"fixture": 1}
    assert [c["findings"] for c in rerun["checks"]] == [c["findings"] for c in saved["checks"]]


def test_html_is_a_page_linking_concepts(stores: dict[str, Path]) -> None:
    result = kll_graph("check", "--store", str(stores["error"]), "--format", "html")
    assert result.stdout.lstrip().startswith("<!doctype html>")
    assert "/resource?uri=http%3A%2F%2Fexample.org%2Fvoc%2Fc" in result.stdout
    # a page without a server: the report's stylesheet (the one /-/quality serves) is inlined
    assert REPORT_CSS.read_text(encoding="utf-8") in result.stdout
    assert "<link" not in result.stdout


def test_bad_severity_is_a_clear_error(stores: dict[str, Path]) -> None:
    result = kll_graph("check", "--store", str(stores["clean"]), "--severity", "nonsense=error")
    assert result.returncode == 1
    assert "expected CHECK=LEVEL with CHECK one of: orphan-concept" in result.stderr
    level = kll_graph("check", "--store", str(stores["clean"]), "--severity", "shacl=fatal")
    assert "level must be one of error, warning, info, off" in level.stderr


def test_no_store_is_a_clear_error(tmp_path: Path) -> None:
    result = kll_graph("check", "--store", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "run `kll-graph build` first" in result.stderr
