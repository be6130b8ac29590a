"""Concepts of older releases on the bundled sample, over real HTTP: the sample's 2020 dump holds
legacy id 6521 (`6TQs_8i6_per`), which the current datasets lack. It must resolve by legacy id
and label, come back flagged as not in the current release, and have a concept page that says
so plainly, with its label; current concepts keep ranking first."""

from __future__ import annotations

import re
from urllib.parse import quote

import requests
from pyoxigraph import Literal, NamedNode

from kll_graph.importers.jobtech import scheme_iri
from kll_graph.labels.layout import PREF
from kll_graph.labels.lookup import index_for
from kll_graph.namespaces import SKOS, graph_iri, kll
from kll_graph.quality.report import read_report
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer
from tests.web.test_api import check_against_spec, get

JT = "http://data.jobtechdev.se/taxonomy/concept/"
OLDER = JT + "6TQs_8i6_per"
OLDER_LABEL = "Enhetschef inom social omsorg/Föreståndare inom social omsorg"
#: A current occupation name of the sample, to compare ranking with.
NURSE = JT + "bXNH_MNX_dUR"


def test_the_dump_gives_type_and_the_newer_table_label_and_last_release(
    sample_store: CurrentStore,
) -> None:
    """The 2020 dump and the occupation table of taxonomy v18 both name the concept, under the
    same label: the dump (the only source that states types) gives its type, legacy id and the
    label (stated once in the default graph, where it was first said); the table, the newer
    release, is the one `kll:lastSeenIn` names."""
    served = sample_store.get()
    base = served.manifest.base_iri
    k = kll(base)
    dump = graph_iri(base, "jobtech-legacy", "2020-06-24")
    table = graph_iri(base, "se-occupations-esco", "taxonomy-v18-esco-v1.1.1")
    node = NamedNode(OLDER)

    def stated(graph: NamedNode) -> set[tuple[str, str]]:
        quads = served.store.quads_for_pattern(node, None, None, graph)
        return {(q.predicate.value, q.object.value) for q in quads}

    assert (k.conceptType.value, "occupation-name") in stated(dump)
    assert (k.legacyAmsId.value, "6521") in stated(dump)
    assert (SKOS.prefLabel.value, OLDER_LABEL) in stated(dump)
    assert (k.lastSeenIn.value, table.value) in stated(table)
    assert {q.graph_name for q in served.store.quads_for_pattern(node, SKOS.prefLabel, None)} == {
        dump
    }
    assert {q.object for q in served.store.quads_for_pattern(node, k.lastSeenIn, None)} == {table}
    # current concepts are not marked, and the older one is no top concept of today's scheme
    assert not list(served.store.quads_for_pattern(NamedNode(NURSE), k.lastSeenIn, None))
    assert not list(served.store.quads_for_pattern(node, SKOS.topConceptOf, None))


def test_the_term_is_declared_in_the_ontology(sample_store: CurrentStore) -> None:
    served = sample_store.get()
    k = kll(served.manifest.base_iri)
    labels = {
        q.object.language: q.object.value
        for q in served.store.quads_for_pattern(k.lastSeenIn, SKOS.prefLabel, None)
    } or {
        q.object.language: q.object.value
        for q in served.store.quads_for_pattern(
            k.lastSeenIn, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), None
        )
    }
    assert set(labels) == {"sv", "en"}
    definitions = list(served.store.quads_for_pattern(k.lastSeenIn, SKOS.definition, None))
    assert {q.object.language for q in definitions} == {"sv", "en"}


def test_resolve_by_legacy_id_and_by_label(sample_server: LiveServer) -> None:
    payload = {"queries": ["6521", OLDER_LABEL, "6TQs_8i6_per"], "limit": 1}
    response = requests.post(sample_server.url + "/api/v1/resolve", json=payload, timeout=30)
    body = check_against_spec("/api/v1/resolve", "post", response)
    tops = [r["candidates"][0] for r in body["results"]]
    assert [t["uri"] for t in tops] == [OLDER] * 3
    assert [t["matched"]["kind"] for t in tops] == ["legacyId", "prefLabel", "id"]
    assert all(t["not_current"] for t in tops)
    assert tops[0]["label"] == OLDER_LABEL
    assert tops[0]["last_seen"]["source"] == "se-occupations-esco"
    assert tops[0]["last_seen"]["version"] == "taxonomy-v18-esco-v1.1.1"
    assert tops[0]["type"]["id"] == "occupation-name"


def test_autocomplete_and_search_flag_it(sample_server: LiveServer) -> None:
    body = check_against_spec(
        "/api/v1/autocomplete", "get", get(sample_server, "/api/v1/autocomplete", q="enhetsch")
    )
    hit = next(r for r in body["results"] if r["uri"] == OLDER)
    assert (hit["not_current"], hit["label"]) == (True, OLDER_LABEL)
    current = get(sample_server, "/api/v1/autocomplete", q="sjuksköterska").json()["results"]
    assert current and not any(r["not_current"] for r in current)
    assert all(r["last_seen"] is None for r in current)
    search = check_against_spec(
        "/api/v1/search", "get", get(sample_server, "/api/v1/search", q="omsorg")
    )
    assert [r["uri"] for r in search["results"] if r["not_current"]] == [OLDER]


def test_current_concepts_rank_first_within_a_tier(sample_store: CurrentStore) -> None:
    """The same match on an older concept and a current one: the current one comes first."""
    index = index_for(sample_store.get())
    older, nurse = index.concept_number(OLDER), index.concept_number(NURSE)
    assert older is not None and nurse is not None
    assert index.concept_not_current[older] and not index.concept_not_current[nurse]
    # same kind of entry (the preferred label): the older concept's static score is larger
    # whatever the label, since the retired bit outranks type, length and order
    pref = {
        c: next(e for e in index.entries_of(c) if index.entry_kind[e] == PREF)
        for c in (older, nurse)
    }
    assert index.entry_static[pref[nurse]] < index.entry_static[pref[older]]
    assert not index.concept_deprecated[older]  # flagged, not hidden as deprecated ones are


def test_concept_page_says_so_with_label_and_mappings(sample_server: LiveServer) -> None:
    page = requests.get(
        sample_server.url + "/page?uri=" + quote(OLDER, safe=""),
        params={"lang": "en"},
        timeout=30,
    )
    assert page.status_code == 200
    html = page.text
    assert f"<h1>{OLDER_LABEL}</h1>" in html
    assert 'data-not-current="true"' in html
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "This concept is not in the current release; it is known from another one." in text
    assert "Last seen in:" in text and "taxonomy-v18-esco-v1.1.1" in text
    api = check_against_spec(
        "/api/v1/concepts", "get", get(sample_server, "/api/v1/concepts", uri=OLDER)
    )
    assert (api["not_current"], api["label"]) == (True, OLDER_LABEL)
    assert api["last_seen"]["version"] == "taxonomy-v18-esco-v1.1.1"
    assert api["legacy_ids"] == ["6521"]
    current = get(sample_server, "/api/v1/concepts", uri=NURSE).json()
    assert (current["not_current"], current["last_seen"]) == (False, None)


def test_quality_checks_leave_older_concepts_out(sample_store: CurrentStore) -> None:
    """The checks run, and none flags the older concept (an orphan or a label twin, were it
    current: the real data's regions and occupations have successors with the same label)."""
    served = sample_store.get()
    report = read_report(served.path)
    assert report is not None
    statuses = {r.id: r.status for r in report.results}
    assert statuses["orphan-concept"] in {"passed", "findings"}
    assert statuses["duplicate-preflabel"] in {"passed", "findings"}
    assert all(OLDER not in (f.concept, *f.related) for f in report.findings)


TABLE_ONLY = JT + "PNes_JEh_hiT"
TABLE_ONLY_LABEL = "Liftskötare/Lifttekniker"


def test_a_concept_only_a_table_names_gets_the_tables_label(
    sample_store: CurrentStore, sample_server: LiveServer
) -> None:
    served = sample_store.get()
    base = served.manifest.base_iri
    k = kll(base)
    table = graph_iri(base, "se-occupations-esco", "taxonomy-v18-esco-v1.1.1")
    node = NamedNode(TABLE_ONLY)
    stated = {(q.predicate.value, q.object) for q in served.store.quads_for_pattern(
        node, None, None, table
    )}  # fmt: skip
    assert (SKOS.prefLabel.value, Literal(TABLE_ONLY_LABEL, language="sv")) in stated
    assert (k.lastSeenIn.value, table) in stated
    # no source states its type: the table's Swedish side is occupation names
    assert (k.conceptType.value, Literal("occupation-name")) in stated
    assert (SKOS.inScheme.value, scheme_iri(base, "occupation-name")) in stated
    # no other graph labels it, and the dump's concept keeps its own label only (no second one)
    assert {q.graph_name for q in served.store.quads_for_pattern(node, SKOS.prefLabel, None)} == {
        table
    }
    older_labels = list(served.store.quads_for_pattern(NamedNode(OLDER), SKOS.prefLabel, None))
    assert len(older_labels) == 1
    body = check_against_spec(
        "/api/v1/autocomplete", "get", get(sample_server, "/api/v1/autocomplete", q="liftsköt")
    )
    hit = next(r for r in body["results"] if r["uri"] == TABLE_ONLY)
    assert (hit["label"], hit["not_current"]) == (TABLE_ONLY_LABEL, True)
    assert hit["type"]["id"] == "occupation-name"
    assert hit["last_seen"]["source"] == "se-occupations-esco"
    page = requests.get(
        sample_server.url + "/page?uri=" + quote(TABLE_ONLY, safe=""),
        params={"lang": "sv"},
        timeout=30,
    )
    assert page.status_code == 200 and f"<h1>{TABLE_ONLY_LABEL}</h1>" in page.text
    assert 'data-not-current="true"' in page.text


def test_the_older_concepts_mapping_shows_on_its_page(sample_server: LiveServer) -> None:
    api = get(sample_server, "/api/v1/concepts", uri=OLDER).json()
    assert [(m["predicate"], m["uri"]) for m in api["mappings"]] == [
        ("skos:broadMatch", "http://data.europa.eu/esco/isco/C1344")
    ]
