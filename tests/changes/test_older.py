"""Concepts of older releases settled after the import (kll_graph.changes.older): the newest
release's label wins, older differing labels stay findable as hidden labels, `kll:lastSeenIn`
names the newest release, and the default graph (the current releases) holds each settled
statement once. On a small real pyoxigraph store, then on the real data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from kll_graph.changes.older import Ranking, ranking, settle_older_concepts
from kll_graph.mappings.official_tables import convert_tables
from kll_graph.namespaces import SKOS, graph_iri, kll
from kll_graph.store import CurrentStore

BASE = "https://example.org/kll/"
K = kll(BASE)
C = NamedNode("http://data.jobtechdev.se/taxonomy/concept/AAAA_BBB_CCC")
DUMP = NamedNode(BASE + "graph/dump/2020")
OLD_TABLE = NamedNode(BASE + "graph/table/v1")
NEW_TABLE = NamedNode(BASE + "graph/table/v2")


def _record(graph: NamedNode, date: str | None, current: bool = True) -> dict[str, Any]:
    return {"graph": graph.value, "graphs": [graph.value], "date": date, "current": current}


def test_ranking_by_date_and_listing_order() -> None:
    records = [
        _record(DUMP, "2020-06-24"),
        _record(OLD_TABLE, "2022-03-30", current=False),
        # undated: no older than the release listed before it, and after it in the listing
        _record(NEW_TABLE, None),
    ]
    ranked = ranking(records)
    assert ranked.newest_first == (NEW_TABLE.value, OLD_TABLE.value, DUMP.value)
    assert ranked.left_out == {OLD_TABLE.value}
    # a later-listed release with an older date ranks by its date
    swapped = ranking([_record(NEW_TABLE, "2023-01-01"), _record(DUMP, "2020-01-01")])
    assert swapped.newest_first == (NEW_TABLE.value, DUMP.value)


def _store(labels: dict[NamedNode, str]) -> Store:
    store = Store()
    for graph, label in labels.items():
        store.add(Quad(C, SKOS.prefLabel, Literal(label, language="sv"), graph))
        store.add(Quad(C, K.lastSeenIn, graph, graph))
    return store


def _in(store: Store, predicate: NamedNode, graph: NamedNode) -> set[str]:
    return {q.object.value for q in store.quads_for_pattern(C, predicate, None, graph)}


ALL_SHOWN = Ranking((NEW_TABLE.value, OLD_TABLE.value, DUMP.value), frozenset())


def test_the_newest_label_wins_and_the_older_one_is_hidden() -> None:
    store = _store({DUMP: "Gyminstruktör", NEW_TABLE: "Träningsinstruktör"})
    settled = settle_older_concepts(store, BASE, ALL_SHOWN)
    assert (settled.concepts, settled.relabelled, settled.hidden, settled.moved) == (1, 1, 1, 1)
    labels = list(store.quads_for_pattern(C, SKOS.prefLabel, None))
    assert [(q.object.value, q.graph_name) for q in labels] == [("Träningsinstruktör", NEW_TABLE)]
    assert _in(store, SKOS.hiddenLabel, DUMP) == {"Gyminstruktör"}
    marks = list(store.quads_for_pattern(C, K.lastSeenIn, None))
    assert [(q.object, q.graph_name) for q in marks] == [(NEW_TABLE, NEW_TABLE)]


def test_equal_labels_are_stated_once_in_the_default_graph() -> None:
    store = _store({DUMP: "Kabeltekniker", NEW_TABLE: "Kabeltekniker"})
    settled = settle_older_concepts(store, BASE, ALL_SHOWN)
    assert settled.relabelled == 0
    # it stays where it was first said (so the dump's release still shows it), once
    labels = list(store.quads_for_pattern(C, SKOS.prefLabel, None))
    assert [q.graph_name for q in labels] == [DUMP]
    assert not list(store.quads_for_pattern(C, SKOS.hiddenLabel, None))
    assert _in(store, K.lastSeenIn, NEW_TABLE) == {NEW_TABLE.value}
    query = f"SELECT ?l WHERE {{ ?c <{SKOS.prefLabel.value}> ?l }}"
    rows = store.query(query, default_graph=[DUMP, NEW_TABLE])
    assert [r["l"].value for r in rows] == ["Kabeltekniker"]


def test_a_left_out_release_keeps_the_statements_and_the_default_graph_gets_them_once() -> None:
    """The newest label is in a release the default graph leaves out (an older release of a
    source with several): the default graph still shows it, once, in the newest graph it holds
    the concept in; the left-out release states it too."""
    store = _store({DUMP: "Chefsdesigner", OLD_TABLE: "Designchef"})
    ranked = Ranking((OLD_TABLE.value, DUMP.value), frozenset({OLD_TABLE.value}))
    settle_older_concepts(store, BASE, ranked)
    assert _in(store, SKOS.prefLabel, DUMP) == {"Designchef"}
    assert _in(store, SKOS.prefLabel, OLD_TABLE) == {"Designchef"}
    assert _in(store, SKOS.hiddenLabel, DUMP) == {"Chefsdesigner"}
    assert _in(store, K.lastSeenIn, DUMP) == {OLD_TABLE.value}
    assert _in(store, K.lastSeenIn, OLD_TABLE) == {OLD_TABLE.value}


def test_one_hidden_label_in_the_default_graph_for_two_older_releases() -> None:
    store = _store({DUMP: "Flyttkarl", OLD_TABLE: "Flyttkarl", NEW_TABLE: "Expressarbetare"})
    settle_older_concepts(store, BASE, ALL_SHOWN)
    hidden = list(store.quads_for_pattern(C, SKOS.hiddenLabel, None))
    assert [(q.object.value, q.graph_name) for q in hidden] == [("Flyttkarl", OLD_TABLE)]


def test_labels_are_settled_per_language() -> None:
    store = _store({DUMP: "Kock"})
    store.add(Quad(C, SKOS.prefLabel, Literal("Cook", language="en"), NEW_TABLE))
    store.add(Quad(C, K.lastSeenIn, NEW_TABLE, NEW_TABLE))
    settle_older_concepts(store, BASE, ALL_SHOWN)
    assert (_in(store, SKOS.prefLabel, DUMP), _in(store, SKOS.prefLabel, NEW_TABLE)) == (
        {"Kock"},
        {"Cook"},
    )
    assert not list(store.quads_for_pattern(C, SKOS.hiddenLabel, None))


def test_current_concepts_are_left_alone() -> None:
    store = Store()
    current = NamedNode("http://data.jobtechdev.se/taxonomy/concept/curr_ent_000")
    store.add(Quad(current, SKOS.prefLabel, Literal("Kock", language="sv"), DUMP))
    store.add(Quad(current, SKOS.prefLabel, Literal("Köksmästare", language="sv"), NEW_TABLE))
    assert settle_older_concepts(store, BASE, ALL_SHOWN).concepts == 0
    assert len(store) == 2


# --- the real data ------------------------------------------------------------------------------
TABLES = "jobtech/esco-mappings/"
V18 = "SE_occupations_ESCO-1.1.1_taxonomy-v18.csv"


def _table_labels(path: Path) -> dict[str, str]:
    """JobTech concept id -> the table's label for it (its Swedish side)."""
    mset, _ = convert_tables([path], "https://example.org/set")
    found: dict[str, str] = {}
    for mapping in mset.mappings:
        subject, label = mapping.get("subject_id") or "", mapping.get("subject_label")
        if label:
            found[subject.rsplit("/", 1)[-1].split(":")[-1]] = str(label)
    return found


def test_real_data_older_concepts_take_the_v18_tables_label(
    real_store: CurrentStore, shared_data: Path
) -> None:
    """Concepts the current datasets lack that the 2020 dump and the taxonomy v18 table both
    name under different labels: the table is newer, so its label is the preferred one in the
    default graph, the API and the index, and the dump's stays a hidden label."""
    served = real_store.get()
    base = served.manifest.base_iri
    k = kll(base)
    dump_graph = graph_iri(base, "jobtech-legacy", "2020-06-24")
    v18_graph = graph_iri(base, "se-occupations-esco", "taxonomy-v18-esco-v1.1.1")
    dump = json.loads(
        (shared_data / "jobtech/legacy-id-mapping/concept-to-taxonomy.json").read_text("utf-8")
    )
    v18 = _table_labels(shared_data / TABLES / V18)
    older = {
        q.subject.value.rsplit("/", 1)[-1]
        for q in served.store.quads_for_pattern(None, k.lastSeenIn, None)
    }
    differing = {
        c: (dump[c]["preferredLabel"], label)
        for c, label in v18.items()
        if c in older and c in dump and dump[c]["preferredLabel"] != label
    }
    assert len(differing) >= 20  # 30 in the data of 2026
    for concept_id, (old, new) in differing.items():
        node = NamedNode("http://data.jobtechdev.se/taxonomy/concept/" + concept_id)
        labels = {
            q.object.value for q in served.store.quads_for_pattern(node, SKOS.prefLabel, None)
        }
        assert labels == {new}, concept_id
        hidden = served.store.quads_for_pattern(node, SKOS.hiddenLabel, None, dump_graph)
        assert old in {q.object.value for q in hidden}, concept_id
        seen = {q.object for q in served.store.quads_for_pattern(node, k.lastSeenIn, None)}
        assert seen == {v18_graph}, concept_id


@pytest.mark.parametrize(
    ("file", "concept_type"),
    [(V18, "occupation-name"), ("SE_skills_ESCO-1.0.9_taxonomy-v21_2023-11-30.csv", "skill")],
)
def test_real_data_concepts_only_a_table_names_are_typed(
    real_store: CurrentStore, shared_data: Path, file: str, concept_type: str
) -> None:
    """A JobTech concept that neither the datasets nor the dump hold gets the type of the
    table's Swedish side, with its class and scheme, in the table's graph."""
    served = real_store.get()
    k = kll(served.manifest.base_iri)
    dump = json.loads(
        (shared_data / "jobtech/legacy-id-mapping/concept-to-taxonomy.json").read_text("utf-8")
    )
    older = {
        q.subject.value.rsplit("/", 1)[-1]
        for q in served.store.quads_for_pattern(None, k.lastSeenIn, None)
    }
    only_table = sorted(
        c for c in _table_labels(shared_data / TABLES / file) if c in older and c not in dump
    )
    assert only_table
    for concept_id in only_table:
        node = NamedNode("http://data.jobtechdev.se/taxonomy/concept/" + concept_id)
        types = {q.object.value for q in served.store.quads_for_pattern(node, k.conceptType, None)}
        assert types == {concept_type}, concept_id
        assert next(served.store.quads_for_pattern(node, SKOS.inScheme, None), None) is not None
