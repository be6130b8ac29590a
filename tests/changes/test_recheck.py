"""Mappings follow their concepts (#19, item 5), on the bundled sample: its official tables name
taxonomy releases 18 and 21, which no change log covers, so the sets' own records speak. A
concept only the 2020 dump holds is `removed`; a JobTech label the table recorded that is not
the concept's current preferred label is `relabelled`; a row whose recorded label is current is
not listed. Expected values are read from the store here, not from the code under test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode

from kll_graph.build.pipeline import build
from kll_graph.changes import recheck
from kll_graph.changes.served import served_releases
from kll_graph.changes.versions import mapping_graphs
from kll_graph.cli import main
from kll_graph.labels.lookup import index_for
from kll_graph.mappings.sssom import MappingSet, iri_of
from kll_graph.mappings.status import ASSERTED, row_status
from kll_graph.namespaces import RDF, SKOS, graph_iri
from kll_graph.review.queue import build_queue
from kll_graph.settings import REPO_ROOT, load_settings
from kll_graph.store import CurrentStore
from tests.web.test_changes_api import CHEF, _make_newer

OLDER = "http://data.jobtechdev.se/taxonomy/concept/6TQs_8i6_per"


def _current_labels(current: CurrentStore, iri: str) -> set[str]:
    served = current.get()
    graph = graph_iri(served.manifest.base_iri, "jobtech", "unknown")
    quads = served.store.quads_for_pattern(NamedNode(iri), SKOS.prefLabel, None, graph)
    return {q.object.value for q in quads if isinstance(q.object, Literal)}


@pytest.fixture(scope="module")
def found(sample_store: CurrentStore) -> list[recheck.Recheck]:
    return recheck.for_build(sample_store.get())


@pytest.fixture(scope="module")
def sets(sample_store: CurrentStore) -> list[MappingSet]:
    return recheck.served_sets(sample_store.get())


def test_a_concept_of_an_older_release_only_is_removed(
    found: list[recheck.Recheck], sets: list[MappingSet]
) -> None:
    rows = [
        row
        for mset in sets
        for row in mset.mappings
        if iri_of(row.get("subject_id"), mset.prefixes()) == OLDER
        and row_status(row) in ASSERTED
        and not row.negated
    ]
    assert rows, "the sample's table maps the 2020-dump concept"
    listed = [r for r in found if r.concept == OLDER]
    assert {r.kind for r in listed} == {"removed"}
    assert len(listed) == len(rows)
    assert all(r.side == "subject" and r.since == "18" for r in listed)


def test_relabelled_exactly_where_the_recorded_label_is_not_current(
    sample_store: CurrentStore, found: list[recheck.Recheck], sets: list[MappingSet]
) -> None:
    relabelled = {(r.set, r.subject, r.object) for r in found if r.kind == "relabelled"}
    expected = set()
    for mset in sets:
        for row in mset.mappings:
            subject = iri_of(row.get("subject_id"), mset.prefixes())
            target = iri_of(row.get("object_id"), mset.prefixes())
            if row_status(row) not in ASSERTED or row.negated or not subject or not target:
                continue
            current = _current_labels(sample_store, subject)
            recorded = row.get("subject_label")
            if current and recorded and recorded not in current:
                expected.add((mset.name, subject, target))
    subject_side = {
        (r.set, r.subject, r.object)
        for r in found
        if r.kind == "relabelled" and r.side == "subject"
    }
    assert expected, "the sample has labels changed since the table's release"
    assert subject_side == expected
    assert relabelled >= expected
    for item in found:
        if item.kind == "relabelled":
            assert item.before and item.after and item.before != item.after
            assert item.evidence == "the set's own record"


def test_unchanged_mappings_are_not_listed(
    found: list[recheck.Recheck], sets: list[MappingSet]
) -> None:
    total = sum(len(m.mappings) for m in sets)
    assert 0 < len({(r.set, r.subject, r.object) for r in found}) < total


def test_version_key() -> None:
    assert recheck.version_key("v1.2.0") == recheck.version_key("ESCO 1.2.0") == "1.2.0"
    assert recheck.version_key("taxonomy-v21-esco-v1.0.9") == "1.0.9"


def test_cli_lists_them_as_text_and_json(sample_store: CurrentStore, tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(sample_store.layout.root)
    config = str(REPO_ROOT / "kll-graph.toml")
    result = runner.invoke(
        main, ["--config", config, "mappings", "recheck", "--store", store, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["removed"] >= 1
    assert {m["concept"] for m in data["mappings"] if m["kind"] == "removed"} >= {OLDER}
    text = runner.invoke(main, ["--config", config, "mappings", "recheck", "--store", store])
    assert text.exit_code == 0
    assert text.output.splitlines()[0].endswith(")")
    assert "mappings to re-check (" in text.output


def test_the_review_queue_puts_them_under_recheck(
    sample_store: CurrentStore, found: list[recheck.Recheck], sets: list[MappingSet]
) -> None:
    served = sample_store.get()
    by_name = {mset.name: mset for mset in sets}
    without = build_queue(by_name, index_for(served))
    items = build_queue(by_name, index_for(served), (), recheck.pairs_to_recheck(served, sets))
    queued = {(i.subject, i.object) for i in items if i.kind == "recheck"}
    before = {(i.subject, i.object) for i in without if i.kind == "recheck"}
    assert queued == before | {r.pair for r in found}
    assert queued - before, "the changed labels add items the queue did not have"


# --- the real data ------------------------------------------------------------------------------


def test_on_the_real_data_each_reason_holds_in_the_store(real_store: CurrentStore) -> None:
    """Every mapping listed on the set's own record is checked here against the store: a
    `removed` concept has no type in any current release graph (or is only known from an older
    release; ESCO's Swedish labels, taken from the tables, may still name it); a `relabelled`
    one has current preferred labels, none of them the label the set recorded (`before`)."""
    served = real_store.get()
    found = recheck.served_recheck(served)
    counts = recheck.counts(found)
    assert counts.get("removed", 0) > 1000  # the tables name many concepts of older releases
    assert counts.get("relabelled", 0) > 100
    releases = served_releases(served)
    current = [
        NamedNode(g)
        for r in releases
        if r.current
        for g in (r.graphs or (r.graph,))
        if g not in mapping_graphs(served)
    ]
    index = index_for(served)
    by_key = {(m.name, r): m for m in recheck.served_sets(served) for r in ("subject", "object")}
    sample = [r for r in found if r.evidence == "the set's own record"][::25]
    assert sample
    for item in sample:
        node = NamedNode(item.concept)
        labels = {
            q.object.value
            for g in current
            for q in served.store.quads_for_pattern(node, SKOS.prefLabel, None, g)
        }
        if item.kind == "removed":  # no current release says what it is
            number = index.concept_number(item.concept)
            typed = [
                q for g in current for q in served.store.quads_for_pattern(node, RDF.type, None, g)
            ]
            assert not typed or (number is not None and index.concept_not_current[number])
        elif item.kind == "relabelled":
            assert labels and item.before not in labels, item
            assert (item.set, item.side) in by_key


# --- where the change log covers the set's release ----------------------------------------------


def test_the_change_log_speaks_where_it_covers_the_sets_release(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The sample's occupation table names ESCO 1.1.1; with a v1.2.0 made current in which the
    occupation "chef" is relabelled, every curated mapping to chef is listed from the change
    log (v1.1.1 → v1.2.0), with the label it had and has."""
    root = tmp_path_factory.mktemp("recheck-log")
    data = root / "data"
    shutil.copytree(REPO_ROOT / "src" / "kll_graph" / "sample", data)
    _make_newer(data)
    config = (REPO_ROOT / "kll-graph.toml").read_text(encoding="utf-8")
    older = 'version = "v1.1.1"\ncurrent = true\n'
    assert older in config
    config = config.replace(older, 'version = "v1.1.1"\n').replace(
        'version = "v1.2.0"\n', 'version = "v1.2.0"\ncurrent = true\n'
    )
    (root / "kll-graph.toml").write_text(config, encoding="utf-8")
    settings = load_settings(config_file=root / "kll-graph.toml", env={}).replace(
        store=root / "store", data_dir=data
    )
    build(settings)
    served = CurrentStore(settings.store).get()
    found = recheck.served_recheck(served)
    from_log = [r for r in found if r.evidence == "change log esco v1.1.1 → v1.2.0"]
    chef_rows = {
        (iri_of(row.get("subject_id"), mset.prefixes()), CHEF)
        for mset in recheck.served_sets(served, served_releases(served))
        for row in mset.mappings
        if iri_of(row.get("object_id"), mset.prefixes()) == CHEF
        and row_status(row) in ASSERTED
        and not row.negated
    }
    assert chef_rows
    relabelled = {
        r.pair
        for r in from_log
        if r.concept == CHEF and (r.before, r.after) == ("chef", "head chef")
    }
    assert relabelled == chef_rows
    assert all(r.side == "object" and r.since == "1.1.1" for r in from_log)
