"""The CLI through click's runner and through real subprocesses, including `serve --port 0`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import RdfFormat

from kll_graph.cli import main
from kll_graph.testing import clean_env
from tests.build.test_build import vocabulary, write_rdf


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config with one RDF source in tmp_path and the store beside it."""
    write_rdf(tmp_path / "voc.ttl", vocabulary("cli", 4), RdfFormat.TURTLE)
    path = tmp_path / "kll-graph.toml"
    path.write_text(
        f'[settings]\nstore = "{tmp_path / "store"}"\ndata_dir = "{tmp_path}"\n'
        '[[sources]]\nid = "voc"\nimporter = "rdf"\npath = "voc.ttl"\nversion = "2"\n'
    )
    return path


def run(config: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """Invoke the CLI in-process; KLL_* variables of the caller (e.g. make's KLL_DATA_DIR) are
    unset so that only the given config counts."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KLL_")}
    result = CliRunner(env=unset).invoke(main, ["--config", str(config), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_build_info_and_query(config: Path, tmp_path: Path) -> None:
    code, out, err = run(config, "build")
    assert code == 0, err
    assert "graphs" in out and "triples" in out
    assert "importing voc" in err  # progress on stderr
    code, out, _ = run(config, "info")
    assert code == 0
    assert "graph/voc/2" in out and " 8 " in f" {out} "
    code, out, _ = run(
        config, "query", "--format", "json", "SELECT ?l WHERE { ?c skos:prefLabel ?l } ORDER BY ?l"
    )
    assert code == 0
    labels = [b["l"]["value"] for b in json.loads(out)["results"]["bindings"]]
    assert labels == ["cli 0", "cli 1", "cli 2", "cli 3"]
    query_file = tmp_path / "q.rq"
    query_file.write_text("ASK { ?c skos:prefLabel 'cli 3'@en }")
    code, out, _ = run(config, "query", "--format", "json", f"@{query_file}")
    assert json.loads(out)["boolean"] is True
    code, out, _ = run(
        config,
        "query",
        "--format",
        "nt",
        "-",
        input="CONSTRUCT { ?c ?p ?o } WHERE { ?c ?p 'cli 1'@en ; ?p ?o }",
    )
    assert code == 0 and out.count(" .\n") == 1


def test_query_errors_are_one_line(config: Path) -> None:
    run(config, "build")
    code, _, err = run(config, "query", "SELEKT * WHERE {}")
    assert code == 1
    assert err.startswith("error: SPARQL syntax error") and "Traceback" not in err
    code, _, err = run(config, "query", "--format", "ttl", "SELECT * WHERE { ?s ?p ?o }")
    assert code == 1 and "does not fit a SELECT/ASK result" in err


def test_query_without_store_says_build_first(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text(f'[settings]\nstore = "{tmp_path / "none"}"\n')
    code, _, err = run(path, "query", "ASK {}")
    assert code == 1 and "run `kll-graph build` first" in err


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[settings]\nthreads = 'many'\n")
    code, _, err = run(path, "settings")
    assert code == 1 and "'threads'" in err


def test_real_subprocess_build_and_query(config: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kll_graph", "--config", str(config), "build"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kll_graph",
            "--config",
            str(config),
            "query",
            "--format",
            "csv",
            "SELECT (COUNT(*) AS ?n) WHERE { ?c a skos:Concept }",
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "4"]


def test_serve_port_zero_answers_health(config: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kll_graph", "--config", str(config), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("kll-graph listening on http://127.0.0.1:"), line
        url = line.split(" on ", 1)[1].strip()
        assert not url.endswith(":0/")
        with urllib.request.urlopen(url + "-/health", timeout=10) as response:
            health = json.load(response)
        assert health["status"] == "ok"
        assert health["triples"] > 0
        assert any(g["iri"].endswith("graph/voc/2") for g in health["graphs"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
