"""Two releases of ESCO side by side in a real build (the bundled sample's ESCO, and a copy with
one occupation relabelled, one removed and one added): each in its own graph, the current one in
the default graph, the other reached by naming its graph; the change log, the delta graphs and
`kll-graph changes`; and the configuration errors for releases."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import QueryBoolean, QuerySolutions

from kll_graph.changes.log import ChangeLog
from kll_graph.changes.releases import releases
from kll_graph.cli import main
from kll_graph.concepts.lookup import concept
from kll_graph.concepts.rdfdoc import triples
from kll_graph.exceptions import ConfigError
from kll_graph.labels.lookup import autocomplete, index_for
from kll_graph.settings import SAMPLE_DIR, read_config
from kll_graph.sparql.query import Dataset, execute
from kll_graph.sparql.service import service_description
from kll_graph.store import CurrentStore, ServedBuild

OCC = "http://data.europa.eu/esco/occupation/"
CHEF = OCC + "1009be17-7efd-45f1-a033-566bf179c588"
NEW = OCC + "00000000-0000-4000-8000-000000000001"
ESCO_ENTRY = 'id = "esco"\nimporter = "esco"\n'
SD = "http://www.w3.org/ns/sparql-service-description#"


def _second_release(data: Path) -> tuple[str, str]:
    """esco/v2: the sample's ESCO with chef relabelled, the last occupation removed and one
    added. Returns the removed occupation's IRI and the relabelled label."""
    shutil.copytree(SAMPLE_DIR / "esco" / "v1.1.1", data / "esco" / "v2")
    path = data / "esco" / "v2" / "en" / "occupations_en.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    uri, label = header.index("conceptUri"), header.index("preferredLabel")
    removed = body.pop()[uri]
    for row in body:
        if row[uri] == CHEF:
            row[label] = "head chef"
    added = list(body[0])
    added[uri], added[label] = NEW, "release tester"
    body.append(added)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    return removed, "head chef"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ServedBuild, str]:
    root = tmp_path_factory.mktemp("releases")
    data = root / "data"
    shutil.copytree(SAMPLE_DIR / "esco" / "v1.1.1", data / "esco" / "v1.1.1")
    removed, _ = _second_release(data)
    config = root / "kll-graph.toml"
    config.write_text(
        f'[settings]\nstore = "{root / "store"}"\ndata_dir = "{data}"\n'
        f'[[sources]]\n{ESCO_ENTRY}path = "esco/v1.1.1"\nversion = "v1.1.1"\ncurrent = true\n'
        'date = "2022-09-13"\n'
        f'[[sources]]\n{ESCO_ENTRY}path = "esco/v2"\nversion = "v2"\n',
        encoding="utf-8",
    )
    code, _, err = _run(config, "build")
    assert code == 0, err
    return config, CurrentStore(root / "store").get(), removed


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KLL_")}
    result = CliRunner(env=unset).invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def _labels(served: ServedBuild, query: str, dataset: Dataset | None = None) -> set[str]:
    result = execute(served.store, query, dataset)
    assert isinstance(result, QuerySolutions)
    return {row[0].value for row in result}


def test_each_release_is_its_own_graph_and_one_is_current(
    built: tuple[Path, ServedBuild, str],
) -> None:
    _, served, _ = built
    found = {(r.source, r.version): r for r in releases(served.manifest)}
    old, new = found[("esco", "v1.1.1")], found[("esco", "v2")]
    assert (old.current, new.current) == (True, False)
    assert old.graph != new.graph and new.graph.endswith("/graph/esco/v2")
    assert old.date == "2022-09-13" and new.date is None
    assert old.checksum and new.checksum and old.checksum != new.checksum
    assert old.triples > 0 and new.triples > 0
    # the derived compatibility graph is made for the current release only
    assert [r.version for r in found.values() if r.source == "esco-compat"] == ["v1.1.1"]


def test_default_graph_is_the_current_release(built: tuple[Path, ServedBuild, str]) -> None:
    _, served, _ = built
    pref = f"SELECT ?l WHERE {{ <{CHEF}> skos:prefLabel ?l FILTER(lang(?l) = 'en') }}"
    assert _labels(served, pref) == {"chef"}
    new_graph = next(r.graph for r in releases(served.manifest) if r.version == "v2")
    graph_query = f"SELECT ?l WHERE {{ GRAPH <{new_graph}> {{ <{CHEF}> skos:prefLabel ?l }} }}"
    assert _labels(served, graph_query) == {"head chef"}
    from_query = f"SELECT ?l FROM <{new_graph}> WHERE {{ <{CHEF}> skos:prefLabel ?l }}"
    assert _labels(served, from_query) == {"head chef"}
    assert _labels(served, pref, Dataset(default_graphs=(new_graph,))) == {"head chef"}
    ask = execute(served.store, f"ASK {{ <{NEW}> ?p ?o }}")
    assert isinstance(ask, QueryBoolean) and not ask


def test_service_description_does_not_claim_the_union(
    built: tuple[Path, ServedBuild, str],
) -> None:
    """With an older release left out of the default graph, the service description neither
    claims sd:UnionDefaultGraph nor counts the older release's triples in the default graph."""
    _, served, _ = built
    triples = service_description("http://localhost/sparql", served)
    features = {t.object.value for t in triples if t.predicate.value == SD + "feature"}
    assert SD + "UnionDefaultGraph" not in features
    default = next(t.object for t in triples if t.predicate.value == SD + "defaultGraph")
    size = next(
        int(t.object.value)
        for t in triples
        if t.subject == default and t.predicate.value.endswith("#triples")
    )
    older = next(r for r in releases(served.manifest) if not r.current and r.source == "esco")
    assert 0 < size <= served.manifest.triples - older.triples


def test_label_index_holds_the_current_release_only(built: tuple[Path, ServedBuild, str]) -> None:
    _, served, _ = built
    index = index_for(served)
    assert not autocomplete(index, "release tester")["results"]
    assert not autocomplete(index, "head chef")["results"]
    hits = autocomplete(index, "chef")["results"]
    assert CHEF in {hit["uri"] for hit in hits}


def test_change_log_of_the_pair(built: tuple[Path, ServedBuild, str]) -> None:
    _, served, removed = built
    log = ChangeLog.load(served.path)
    [pair] = log.pairs()
    assert (pair.source, pair.from_version, pair.to_version) == ("esco", "v1.1.1", "v2")
    assert pair.not_compared == []
    assert [c.concept for c in log.concept_changes("esco", "v1.1.1", "v2", "added")] == [NEW]
    assert [c.concept for c in log.concept_changes("esco", "v1.1.1", "v2", "removed")] == [removed]
    [relabel] = [c for c in log.history(CHEF) if c.label_kind == "prefLabel"]
    assert (relabel.lang, relabel.before, relabel.after) == ("en", "chef", "head chef")


def test_cli_changes_in_each_format(built: tuple[Path, ServedBuild, str]) -> None:
    config, _, _ = built
    code, out, err = _run(
        config, "changes", "esco", "--from", "v1.1.1", "--to", "v2", "--format", "json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["counts"]["added"] == 1 and document["counts"]["removed"] == 1
    code, out, _ = _run(config, "changes", "esco", "--kind", "added", "--format", "csv")
    rows = list(csv.DictReader(out.splitlines()))
    assert [(r["about"], r["kind"], r["concept"]) for r in rows] == [("concept", "added", NEW)]
    code, out, _ = _run(config, "changes", "esco", "--kind", "relabelled")
    assert code == 0 and "chef → head chef" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope",), "no source 'nope'; the sources are: esco, "),
        (
            ("esco", "--from", "v9"),
            "source 'esco' has no release 'v9'; its releases are: v1.1.1, v2",
        ),
        (("esco", "--kind", "exploded"), "the kinds are: added, definition, deprecated"),
        (("ontology",), "no changes were computed for 'ontology'"),
    ],
)
def test_cli_changes_errors_are_one_line(
    built: tuple[Path, ServedBuild, str], args: tuple[str, ...], message: str
) -> None:
    config, _, _ = built
    code, _, err = _run(config, "changes", *args)
    assert code == 1
    assert err.count("\n") == 1 and message in err


def _config(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "kll-graph.toml"
    path.write_text("".join(f"[[sources]]\n{ESCO_ENTRY}{e}\n" for e in entries), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            ('path = "a"\nversion = "v1"', 'path = "b"\nversion = "v2"'),
            "source 'esco' has 2 releases, [[sources]] #1 (version 'v1'), [[sources]] #2 "
            "(version 'v2'), and none is marked current",
        ),
        (
            (
                'path = "a"\nversion = "v1"\ncurrent = true',
                'path = "b"\nversion = "v2"\ncurrent = true',
            ),
            "and 2 are marked current; put `current = true` on exactly one of them",
        ),
        (
            ('path = "a"\nversion = "v1"\ncurrent = true', 'path = "b"\nversion = "v1"'),
            "source 'esco' lists one version twice",
        ),
    ],
)
def test_release_configuration_errors_name_the_entries(
    tmp_path: Path, entries: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        read_config(_config(tmp_path, *entries))
    assert message in str(raised.value)


def test_current_is_settled_per_source(tmp_path: Path) -> None:
    _, sources = read_config(
        _config(
            tmp_path, 'path = "a"\nversion = "v1"', 'path = "b"\nversion = "v2"\ncurrent = true'
        )
    )
    assert [(s.version, s.current) for s in sources] == [("v1", False), ("v2", True)]
    _, [only] = read_config(_config(tmp_path, 'path = "a"\nversion = "v1"'))
    assert only.current


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ServedBuild]:
    """Three ESCO releases: v1.1.1, v2 (chef → head chef) and v3 (head chef → executive chef)."""
    root = tmp_path_factory.mktemp("three")
    data = root / "data"
    shutil.copytree(SAMPLE_DIR / "esco" / "v1.1.1", data / "esco" / "v1.1.1")
    _second_release(data)
    shutil.copytree(data / "esco" / "v2", data / "esco" / "v3")
    path = data / "esco" / "v3" / "en" / "occupations_en.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("head chef", "executive chef"), encoding="utf-8"
    )
    config = root / "kll-graph.toml"
    config.write_text(
        f'[settings]\nstore = "{root / "store"}"\ndata_dir = "{data}"\n'
        f'[[sources]]\n{ESCO_ENTRY}path = "esco/v1.1.1"\nversion = "v1.1.1"\n'
        f'[[sources]]\n{ESCO_ENTRY}path = "esco/v2"\nversion = "v2"\n'
        f'[[sources]]\n{ESCO_ENTRY}path = "esco/v3"\nversion = "v3"\ncurrent = true\n',
        encoding="utf-8",
    )
    code, _, err = _run(config, "build")
    assert code == 0, err
    return config, CurrentStore(root / "store").get()


def test_every_two_releases_are_compared(three: tuple[Path, ServedBuild]) -> None:
    """An app upgrading from v1.1.1 straight to v3 asks for that pair; a concept's history
    reads the neighbouring pairs only, so each change shows once."""
    config, served = three
    log = ChangeLog.load(served.path)
    pairs = [(p.from_version, p.to_version, p.consecutive) for p in log.pairs()]
    assert pairs == [("v1.1.1", "v2", True), ("v1.1.1", "v3", False), ("v2", "v3", True)]
    relabelled = log.concept_changes("esco", "v1.1.1", "v3", "relabelled")
    [jump] = [c for c in relabelled if c.concept == CHEF and c.label_kind == "prefLabel"]
    assert (jump.before, jump.after) == ("chef", "executive chef")
    history = [
        (c.from_version, c.to_version, c.after)
        for c in log.history(CHEF)
        if c.label_kind == "prefLabel"
    ]
    assert history == [
        ("v1.1.1", "v2", "head chef"),
        ("v2", "v3", "executive chef"),
    ]
    code, out, err = _run(config, "changes", "esco", "--from", "v1.1.1", "--to", "v3")
    assert code == 0, err
    assert "executive chef" in out and "head chef" not in out


def test_a_concept_only_a_release_left_out_holds_still_resolves(
    built: tuple[Path, ServedBuild, str],
) -> None:
    """NEW is only in v2, which is not current: the default graph lacks it, yet its document
    and its RDF come from v2, flagged as not in the current release and naming v2."""
    _, served, _ = built
    assert not _labels(served, f"SELECT ?l WHERE {{ <{NEW}> ?p ?l }}")
    doc = concept(served, NEW, "en")
    assert (doc["label"], doc["not_current"]) == ("release tester", True)
    assert doc["last_seen"]["version"] == "v2"
    statements = {(t.predicate.value, t.object.value) for t in triples(served, NEW)}
    assert ("http://www.w3.org/2004/02/skos/core#prefLabel", "release tester") in statements
    # a current concept is not flagged
    assert concept(served, CHEF, "en")["not_current"] is False
