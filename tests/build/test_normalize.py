"""The Skosify wrapper: changes what it says, never exits, logs into the report, is repeatable."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Quad, RdfFormat, Store

from kll_graph.build.normalize import (
    NormalizeError,
    apply_to_store,
    load_graphs,
    normalize_graph,
    parse_option,
)
from kll_graph.build.pipeline import build
from kll_graph.exceptions import ConfigError
from kll_graph.quality import read_report
from kll_graph.settings import SourceConfig
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings
from tests import FIXTURES

NORM = FIXTURES / "normalize"
EX = "http://example.org/norm/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
G = NamedNode("http://example.org/graph/norm")


def fixture_store(name: str) -> Store:
    store = Store()
    store.load(path=str(NORM / name), format=RdfFormat.TURTLE, to_graph=G)
    return store


def has(store: Store, s: str, p: str, o: str) -> bool:
    return Quad(NamedNode(EX + s), NamedNode(SKOS + p), NamedNode(EX + o), G) in store


def test_operations_change_what_they_say() -> None:
    store = fixture_store("hierarchy.ttl")
    report = apply_to_store(store, [G], ["infer_inverse", "eliminate_redundancy", "break_cycles"])
    assert has(store, "a", "narrower", "b") and has(store, "b", "narrower", "d")
    assert not has(store, "d", "broader", "a") and not has(store, "a", "narrower", "d")
    assert has(store, "d", "broader", "b")
    assert not has(store, "e", "broader", "f") and has(store, "f", "broader", "e")
    steps = {s["operation"]: (s["added"], s["removed"]) for s in report.steps}
    # inverse: narrower for 5 broader links (d->a among them) and topConceptOf for a
    assert steps == {
        "infer_inverse": (6, 0),
        "eliminate_redundancy": (0, 2),
        "break_cycles": (0, 2),
    }
    assert (report.added, report.removed) == (4, 2)  # net change against the original graph
    assert any("Eliminating redundant hierarchical relationship" in line for line in report.log)
    assert report.log == [
        f"warning: Eliminating redundant hierarchical relationship: {EX}d skos:broader {EX}a",
        "warning: Hierarchy cycle removed at f -> e",
    ]


def test_skosify_exit_becomes_an_error_and_the_process_lives_on() -> None:
    graph = load_graphs(fixture_store("no-vocabulary.ttl"), [G])
    with pytest.raises(NormalizeError) as caught:
        normalize_graph(graph, {}, "broken")
    message = str(caught.value)
    assert "source 'broken'" in message
    assert "Skosify gave up (exit status 1)" in message
    assert "Namespace auto-detection failed" in message


def test_skosify_logs_into_the_report_and_nowhere_else(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    other = logging.getLogger("kll_graph.test")
    graph = load_graphs(fixture_store("hierarchy.ttl"), [G])
    _graph, report = normalize_graph(graph, ["break_cycles"])
    other.warning("our own message")
    assert any("Hierarchy cycle removed" in line for line in report.log)
    assert [r.getMessage() for r in caplog.records] == ["our own message"]
    assert "Hierarchy cycle" not in capfd.readouterr().err
    assert logging.getLogger().level == logging.DEBUG  # restored as it was


SCRIPT = """
import sys
from pyoxigraph import NamedNode, RdfFormat, Store
from kll_graph.build.normalize import OPERATIONS, apply_to_store
g = NamedNode("http://example.org/graph/norm")
store = Store()
store.load(path=sys.argv[1], format=RdfFormat.TURTLE, to_graph=g)
report = apply_to_store(store, [g], list(OPERATIONS))
print("\\n".join(sorted(str(q) for q in store)))
print("\\n".join(report.log))
print(report.steps)
"""


def test_same_input_gives_the_same_output_whatever_the_hash_seed() -> None:
    outputs = []
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(NORM / "hierarchy.ttl")],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert "Hierarchy cycle removed" in outputs[0]


def _settings(tmp_path: Path, fixture: str, option: object) -> object:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(NORM / fixture, data / fixture)
    (tmp_path / "maps").mkdir(exist_ok=True)
    source = SourceConfig(
        id="norm", importer="rdf", path=fixture, version="test", options={"skosify": option}
    )
    settings = make_settings(tmp_path / "store", data_dir=data, mappings_dir=tmp_path / "maps")
    return settings.replace(sources=(source,))


def test_build_normalises_sources_that_ask_and_reports_the_changes(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, "hierarchy.ttl", ["infer_inverse", "eliminate_redundancy", "break_cycles"]
    )
    result = build(settings)  # type: ignore[arg-type]
    source = result.manifest.sources["norm"]
    assert source.counts["skosify added"] == 4
    assert source.counts["skosify removed"] == 2
    assert "skosify eliminate_redundancy: 0 added, 2 removed" in source.notes
    assert any("Hierarchy cycle removed" in note for note in source.notes)
    report = read_report(result.path)
    assert report is not None
    assert [f.check for f in report.findings if f.check == "hierarchy-cycle"] == []


def test_build_stops_cleanly_when_skosify_gives_up(tmp_path: Path) -> None:
    good = build(_settings(tmp_path, "hierarchy.ttl", ["infer_inverse"]))  # type: ignore[arg-type]
    with pytest.raises(NormalizeError, match="Skosify gave up"):
        build(_settings(tmp_path, "no-vocabulary.ttl", {}))  # type: ignore[arg-type]
    current = CurrentStore(tmp_path / "store").get()
    assert current.path == good.path


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["infer_everything"], "unknown skosify operation(s) infer_everything; known:"),
        ({"breaking_cycles": True}, "unknown skosify setting(s) breaking_cycles"),
        (3, "must be a list of operations or a table"),
    ],
)
def test_bad_option_is_a_config_error(option: object, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_option(option, "src")
