"""The mapping refresh on the bundled sample: a new build with new mapping graphs and the same
vocabularies, the same result as a full build, nothing made when nothing changed, a broken file
refused with the current build serving, review status in the graph, the background refresher,
and a decision visible over real HTTP (`kll-graph serve`, two processes) within 5 s."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import BlankNode, NamedNode, Store

from kll_graph.build.catalog import count_triples
from kll_graph.build.pipeline import build
from kll_graph.build.refresh import (
    MAPPINGS_SOURCE,
    REMADE,
    REUSED,
    Refresher,
    refresh_mappings,
)
from kll_graph.exceptions import BuildLockedError, SourceError, StoreNotFoundError
from kll_graph.mappings.coverage import COVERAGE_FILE, coverage, coverage_json
from kll_graph.settings import Settings
from kll_graph.store import (
    MANIFEST,
    OXIGRAPH_DIR,
    StoreLayout,
    build_lock,
    open_build,
    read_manifest,
)
from kll_graph.testing import clean_env, make_settings, serving

BASE = "https://w3id.org/kll-graph/"
KLL = f"{BASE}ontology#"
JT = "http://data.jobtechdev.se/taxonomy/concept/"
ESCO_OCC = "http://data.europa.eu/esco/occupation/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
#: Occupations of the bundled sample that its official tables do not map to each other:
#: Databasanalytiker / data warehouse designer (the set the store is built with),
#: Databasutvecklare / data warehouse designer (a new decision) and
#: Mobilutvecklare / ICT system architect (a matcher's candidate).
KEPT_JT, KEPT_ESCO = "vpAN_viS_cFV", "1562c7a3-c7d9-419d-b9b6-db26610bcf84"
NEW_JT, NEW_ESCO = "rz2m_96d_vyF", "1562c7a3-c7d9-419d-b9b6-db26610bcf84"
CAND_JT, CAND_ESCO = "n2kJ_qFK_x2K", "e1c72b5f-4c5c-487c-a6df-e84b64a51dae"

HEADER = "subject_id\tpredicate_id\tobject_id\tmapping_justification\tauthor_id\treviewer_id\n"


def set_file(name: str, *rows: str) -> str:
    """A set file of one mapping set with `rows` (tab-separated, in HEADER's columns)."""
    return (
        "#curie_map:\n"
        "#  ESCO: http://data.europa.eu/esco/\n"
        "#  jt: http://data.jobtechdev.se/taxonomy/concept/\n"
        "#  orcid: https://orcid.org/\n"
        f"#mapping_set_id: https://example.org/sets/{name}\n"
        f"#mapping_set_title: {name}\n"
        "#license: https://creativecommons.org/publicdomain/zero/1.0/\n"
        + HEADER
        + "".join(row + "\n" for row in rows)
    )


def row(jt: str, predicate: str, esco: str, status: str = "reviewed") -> str:
    """A row with the slots that give it `status` (reviewed, curated or candidate)."""
    justification, author, reviewer = {
        "reviewed": (
            "semapv:ManualMappingCuration",
            "orcid:0000-0001-0000-0001",
            "orcid:0000-0002-0000-0002",
        ),
        "curated": ("semapv:ManualMappingCuration", "orcid:0000-0001-0000-0001", ""),
        "candidate": ("semapv:LexicalMatching", "", ""),
    }[status]
    return (
        f"jt:{jt}\tskos:{predicate}\tESCO:occupation/{esco}\t{justification}\t{author}\t{reviewer}"
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The sample built with one set file of ours (one curated mapping)."""
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "nurses.sssom.tsv").write_text(
        set_file("nurses", row(KEPT_JT, "exactMatch", KEPT_ESCO, "curated")), encoding="utf-8"
    )
    configured = make_settings(tmp_path / "store", mappings_dir=mappings)
    build(configured)
    return configured


def current(settings: Settings) -> Path:
    path = StoreLayout(settings.store).current_build()
    assert path is not None
    return path


def ask(store: Store, query: str) -> bool:
    return bool(store.query(query, use_default_graph_as_union=True))


def has_match(store: Store, jt: str, predicate: str, esco: str) -> bool:
    return ask(
        store,
        f"ASK {{ GRAPH ?g {{ <{JT}{jt}> <{SKOS}{predicate}> <{ESCO_OCC}{esco}> }} }}",
    )


def status_of(store: Store, jt: str, esco: str) -> list[str]:
    query = f"""PREFIX owl: <http://www.w3.org/2002/07/owl#>
        SELECT ?status WHERE {{ ?m owl:annotatedSource <{JT}{jt}> ;
          owl:annotatedTarget <{ESCO_OCC}{esco}> ; <{KLL}reviewStatus> ?status }}"""
    return [r["status"].value for r in store.query(query, use_default_graph_as_union=True)]


def vocabulary_counts(build_dir: Path) -> dict[str, int]:
    """Triples per graph, counted in the store, of every graph but ours and the catalog."""
    manifest = read_manifest(build_dir)
    ours = {g.iri for g in manifest.graphs if g.source == MAPPINGS_SOURCE}
    counts = count_triples(open_build(build_dir))
    return {g: n for g, n in counts.items() if g not in ours and g != manifest.catalog_graph}


def test_a_new_set_file_becomes_a_new_build_with_the_same_vocabularies(settings: Settings) -> None:
    before = current(settings)
    (settings.mappings_dir / "apps.sssom.tsv").write_text(
        set_file("apps", row(NEW_JT, "exactMatch", NEW_ESCO)), encoding="utf-8"
    )
    after = refresh_mappings(settings)
    assert after != before and current(settings) == after
    manifest, old = read_manifest(after), read_manifest(before)
    assert manifest.refreshed_from == old.build_id != manifest.build_id
    assert manifest.steps["refresh"]["from"] == old.build_id
    assert sorted(manifest.steps["refresh"]["mapping_files"]) == [
        "apps.sssom.tsv",
        "nurses.sssom.tsv",
    ]
    # the vocabularies were copied, not imported again: every graph but ours counts the same
    assert vocabulary_counts(after) == vocabulary_counts(before)
    assert len(vocabulary_counts(after)) > 5
    assert manifest.sources.keys() == old.sources.keys()
    # the new mapping is in the new build, with its status; the old build never saw it
    store = open_build(after)
    assert has_match(store, NEW_JT, "exactMatch", NEW_ESCO)
    assert status_of(store, NEW_JT, NEW_ESCO) == [f"{KLL}Reviewed"]
    assert has_match(store, KEPT_JT, "exactMatch", KEPT_ESCO)
    assert not has_match(open_build(before), NEW_JT, "exactMatch", NEW_ESCO)
    # the manifest and the catalog count the new graph alike, and the total adds up
    graph = f"{BASE}graph/mappings/working-copy/apps"
    record = next(g for g in manifest.graphs if g.iri == graph)
    assert record.triples == count_triples(store)[graph] > 0
    catalog = f"""PREFIX void: <http://rdfs.org/ns/void#> PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX sssom: <https://w3id.org/sssom/>
        ASK {{ GRAPH <{BASE}graph/catalog> {{ <{graph}> void:triples {record.triples} ;
          prov:wasDerivedFrom <https://example.org/sets/apps> .
          <https://example.org/sets/apps> a sssom:MappingSet .
          <{BASE}build/{manifest.build_id}> prov:wasInformedBy <{BASE}build/{old.build_id}> }} }}"""
    assert ask(store, catalog)


def _catalog_about(store: Store, graph: str, catalog: str) -> set[tuple[str, str]]:
    """What the catalog says of a graph, without the blank nodes (files) and the build."""
    return {
        (q.predicate.value, str(q.object))
        for q in store.quads_for_pattern(NamedNode(graph), None, None, NamedNode(catalog))
        if not isinstance(q.object, BlankNode) and not q.predicate.value.endswith("wasGeneratedBy")
    }


def test_a_refresh_gives_what_a_full_build_of_the_same_files_gives(
    settings: Settings, tmp_path: Path
) -> None:
    (settings.mappings_dir / "nurses.sssom.tsv").write_text(
        set_file(
            "nurses",
            row(KEPT_JT, "exactMatch", KEPT_ESCO, "reviewed"),
            row(CAND_JT, "broadMatch", CAND_ESCO, "candidate"),
        ),
        encoding="utf-8",
    )
    (settings.mappings_dir / "apps.sssom.tsv").write_text(
        set_file(
            "apps",
            row(NEW_JT, "closeMatch", NEW_ESCO, "curated"),
            row("no_such_id", "exactMatch", NEW_ESCO),
        ),
        encoding="utf-8",
    )
    refreshed = refresh_mappings(settings)
    full = build(settings.replace(store=tmp_path / "full")).path
    ours, theirs = read_manifest(refreshed), read_manifest(full)
    assert [(g.iri, g.source, g.triples) for g in ours.graphs] == [
        (g.iri, g.source, g.triples) for g in theirs.graphs
    ]
    assert ours.triples == theirs.triples
    store, other = open_build(refreshed), open_build(full)
    for graph in (g.iri for g in ours.graphs if g.source == MAPPINGS_SOURCE):
        assert set(store.quads_for_pattern(None, None, None, NamedNode(graph))) == set(
            other.quads_for_pattern(None, None, None, NamedNode(graph))
        )
        assert _catalog_about(store, graph, ours.catalog_graph) == _catalog_about(
            other, graph, theirs.catalog_graph
        )
    # the mapping checks and the coverage say the same (the checks found the unknown concept)
    for name in REMADE:
        assert json.loads((refreshed / name).read_text()) == json.loads((full / name).read_text())
    assert any("no_such_id" in f for f in ours.steps["mappings"]["first_findings"])
    assert {k: v for k, v in ours.steps["mappings"].items()} == dict(theirs.steps["mappings"])
    assert [w for w in ours.warnings if w.startswith("mapping checks")] == [
        w for w in theirs.warnings if w.startswith("mapping checks")
    ]


def test_every_artifact_of_a_build_is_reused_or_made_again(settings: Settings) -> None:
    before = current(settings)
    (settings.mappings_dir / "apps.sssom.tsv").write_text(
        set_file("apps", row(NEW_JT, "exactMatch", NEW_ESCO)), encoding="utf-8"
    )
    after = refresh_mappings(settings)
    made = {p.name for p in before.iterdir()}
    assert made <= {MANIFEST, OXIGRAPH_DIR, *REUSED, *REMADE}, "a new artifact: reuse or remake it"
    assert {p.name for p in after.iterdir()} == made
    for name in (n for n in REUSED if (before / n).exists()):  # linked, not copied
        assert (after / name).stat().st_ino == (before / name).stat().st_ino
    manifest = read_manifest(after)
    assert manifest.steps["checks"]["from_build"] == read_manifest(before).build_id
    assert manifest.steps["labels"]["concepts"] == read_manifest(before).steps["labels"]["concepts"]


def test_unchanged_files_make_no_new_build(settings: Settings) -> None:
    built = current(settings)
    assert refresh_mappings(settings) == built  # as the full build read them (its catalog)
    (settings.mappings_dir / "apps.sssom.tsv").write_text(
        set_file("apps", row(NEW_JT, "exactMatch", NEW_ESCO)), encoding="utf-8"
    )
    refreshed = refresh_mappings(settings)
    assert refreshed != built
    assert refresh_mappings(settings) == refreshed  # as the refresh recorded them
    assert current(settings) == refreshed
    assert len(StoreLayout(settings.store).finished_builds()) == 2
    assert not StoreLayout(settings.store).partial_builds()


def test_a_broken_set_file_is_refused_and_the_current_build_keeps_serving(
    settings: Settings,
) -> None:
    built = current(settings)
    broken = settings.mappings_dir / "apps.sssom.tsv"
    broken.write_text(
        set_file("apps", row(NEW_JT, "exactMatch", NEW_ESCO)).replace(
            "skos:exactMatch", "skos:sameish"
        ),
        encoding="utf-8",
    )
    with pytest.raises(SourceError) as refused:
        refresh_mappings(settings)
    assert refused.value.path == settings.mappings_dir / "apps.sssom.tsv"  # not the copy read
    assert refused.value.line == 9
    assert current(settings) == built
    layout = StoreLayout(settings.store)
    assert layout.finished_builds() == [built] and not layout.partial_builds()
    assert not list(built.parent.glob("*.partial"))
    broken.unlink()
    assert refresh_mappings(settings) == built  # back as it was: nothing to do


def test_a_candidate_is_not_asserted_but_carries_its_status(settings: Settings) -> None:
    (settings.mappings_dir / "candidates.sssom.tsv").write_text(
        set_file("candidates", row(NEW_JT, "exactMatch", NEW_ESCO, "candidate")), encoding="utf-8"
    )
    store = open_build(refresh_mappings(settings))
    assert not has_match(store, NEW_JT, "exactMatch", NEW_ESCO)
    assert status_of(store, NEW_JT, NEW_ESCO) == [f"{KLL}Candidate"]
    assert status_of(store, KEPT_JT, KEPT_ESCO) == [f"{KLL}Curated"]


def test_a_removed_set_file_takes_its_graph_and_description_along(settings: Settings) -> None:
    built = read_manifest(current(settings))
    (settings.mappings_dir / "nurses.sssom.tsv").unlink()
    after = refresh_mappings(settings)
    manifest = read_manifest(after)
    assert not [g for g in manifest.graphs if g.source == MAPPINGS_SOURCE]
    assert MAPPINGS_SOURCE in built.sources and MAPPINGS_SOURCE not in manifest.sources
    store = open_build(after)
    assert not has_match(store, KEPT_JT, "exactMatch", KEPT_ESCO)
    graph = NamedNode(f"{BASE}graph/mappings/working-copy/nurses")
    assert graph not in set(store.named_graphs())
    catalog = NamedNode(manifest.catalog_graph)
    assert not list(store.quads_for_pattern(graph, None, None, catalog))
    assert not list(
        store.quads_for_pattern(NamedNode("https://example.org/sets/nurses"), None, None, catalog)
    )
    assert not list(store.quads_for_pattern(None, None, None, graph))
    # and no blank node of the catalog is left hanging (files and checksums went with it)
    objects = {q.object for q in store.quads_for_pattern(None, None, None, catalog)}
    subjects = {q.subject for q in store.quads_for_pattern(None, None, None, catalog)}
    assert {s for s in subjects if isinstance(s, BlankNode)} <= objects


def test_no_build_to_refresh_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="kll-graph build"):
        refresh_mappings(make_settings(tmp_path / "store"))


def test_the_build_lock_can_be_waited_for(settings: Settings) -> None:
    layout = StoreLayout(settings.store)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with build_lock(layout):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    started = time.monotonic()
    with pytest.raises(BuildLockedError, match=r"waited 0\.2 s"), build_lock(layout, wait=0.2):
        pass
    assert 0.2 <= time.monotonic() - started < 2
    threading.Timer(0.3, release.set).start()
    with build_lock(layout, wait=10):
        assert not holder.is_alive() or release.is_set()
    holder.join(10)


def test_replaced_builds_are_kept_while_a_query_may_still_read_them(settings: Settings) -> None:
    quick = settings.replace(keep_builds=1)
    for i in range(3):
        (settings.mappings_dir / "apps.sssom.tsv").write_text(
            set_file(
                "apps", row(NEW_JT, ["exactMatch", "closeMatch", "relatedMatch"][i], NEW_ESCO)
            ),
            encoding="utf-8",
        )
        refresh_mappings(quick)
    layout = StoreLayout(settings.store)
    assert len(layout.finished_builds()) == 4  # all replaced within twice the query timeout
    (settings.mappings_dir / "apps.sssom.tsv").unlink()
    refresh_mappings(quick.replace(query_timeout=0.001))
    assert layout.finished_builds() == [current(settings)]


def test_the_refresher_coalesces_requests_and_retries_a_held_lock(settings: Settings) -> None:
    refresher = Refresher(settings, debounce=0.05, retry=0.2, wait=0.1)
    refresher.start()
    try:
        assert refresher.wait_idle(30)
        assert refresher.cache.vocabulary is not None  # warmed
        before = current(settings)
        for i in range(5):  # five writes at once: one refresh (two if the thread woke between)
            (settings.mappings_dir / f"set{i}.sssom.tsv").write_text(
                set_file(f"set{i}", row(NEW_JT, "exactMatch", NEW_ESCO)), encoding="utf-8"
            )
            refresher.request()
        assert refresher.wait_idle(30)
        assert refresher.last_error is None and 1 <= refresher.runs <= 2
        assert refresher.last_build == current(settings) != before
        assert len(read_manifest(current(settings)).steps["refresh"]["mapping_files"]) == 6
        # another build holds the lock: the refresher says so and tries again until it gets it
        layout = StoreLayout(settings.store)
        (settings.mappings_dir / "set0.sssom.tsv").unlink()
        with build_lock(layout):
            refresher.request()
            time.sleep(0.5)
            assert isinstance(refresher.last_error, BuildLockedError)
            assert not refresher.wait_idle(0.1)  # still waiting to try again
        assert refresher.wait_idle(30)
        assert refresher.last_error is None
        assert (
            "set0.sssom.tsv"
            not in read_manifest(current(settings)).steps["refresh"]["mapping_files"]
        )
        # a broken file: logged and kept, the current build still serves
        serving_now = current(settings)
        (settings.mappings_dir / "set1.sssom.tsv").write_text("not a set\n", encoding="utf-8")
        refresher.request()
        assert refresher.wait_idle(30)
        assert isinstance(refresher.last_error, SourceError)
        assert current(settings) == serving_now
    finally:
        refresher.close(10)


def test_the_refresher_warms_again_when_a_full_build_brings_new_vocabularies(
    settings: Settings,
) -> None:
    refresher = Refresher(settings, rewarm=0.05)
    refresher.start()
    try:
        assert refresher.wait_idle(30)
        assert refresher.cache.origin == read_manifest(current(settings)).build_id
        (settings.mappings_dir / "apps.sssom.tsv").write_text(
            set_file("apps", row(NEW_JT, "exactMatch", NEW_ESCO)), encoding="utf-8"
        )
        refresher.request()
        assert refresher.wait_idle(30)
        built = read_manifest(current(settings)).refreshed_from
        assert refresher.cache.origin == built  # a refresh keeps the vocabularies: same cache
        rebuilt = build(settings).build_id
        deadline = time.monotonic() + 20
        while refresher.cache.origin != rebuilt:
            assert time.monotonic() < deadline, "the cache was not warmed for the new build"
            time.sleep(0.05)
        assert refresher.wait_idle(30)
        assert refresher.cache.vocabulary is not None and refresher.cache.sides is not None
    finally:
        refresher.close(10)


def _sparql_ask(url: str, query: str) -> bool:
    request = urllib.request.Request(
        url + "sparql?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return bool(json.load(response)["boolean"])


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_a_decision_is_visible_over_http_within_five_seconds(settings: Settings) -> None:
    """A real `kll-graph serve` (two processes, caches on); the refresher in this process, as it
    runs in the server process that wrote the file."""
    env = {**clean_env(), "KLL_PROCESSES": "2", "KLL_QUERY_WORKERS": "1"}
    refresher = Refresher(settings, debounce=0.1)
    refresher.start()
    query = f"ASK {{ <{JT}{NEW_JT}> <{SKOS}exactMatch> <{ESCO_OCC}{NEW_ESCO}> }}"
    try:
        assert refresher.wait_idle(30)
        with serving("serve", "--store", str(settings.store), "--port", "0", env=env) as (_, url):
            for _ in range(4):  # both processes have answered (and cached) the old answer
                assert _sparql_ask(url, query) is False
            concept = f"{url}api/v1/concepts/{NEW_JT}"
            assert NEW_ESCO not in json.dumps(_get_json(concept))
            started = time.monotonic()
            (settings.mappings_dir / "apps.sssom.tsv").write_text(
                set_file("apps", row(NEW_JT, "exactMatch", NEW_ESCO)), encoding="utf-8"
            )
            refresher.request()
            while not _sparql_ask(url, query):
                assert time.monotonic() - started < 5, "not visible in SPARQL within 5 s"
                time.sleep(0.05)
            seconds = time.monotonic() - started
            for _ in range(4):  # every process, not one: new connections spread over both
                assert _sparql_ask(url, query) is True
            # the lookup API and the concept page show it too, with its provenance
            mappings = _get_json(concept)["mappings"]
            found = [m for m in mappings if m["uri"] == f"{ESCO_OCC}{NEW_ESCO}"]
            assert found and found[0]["provenance"]["reviewStatus"].endswith("Reviewed")
            page = f"{url}page?" + urllib.parse.urlencode({"uri": f"{JT}{NEW_JT}"})
            with urllib.request.urlopen(page, timeout=10) as response:
                assert NEW_ESCO in response.read().decode("utf-8")
            assert time.monotonic() - started < 5
    finally:
        refresher.close(10)
    print(f"decision visible in SPARQL after {seconds:.2f} s")


def test_candidates_and_unsure_rows_do_not_count_as_mapped(settings: Settings) -> None:
    """Coverage counts what a person stands behind: the refresh's coverage (from the sets) and
    the store's (from the mapping nodes) agree that a candidate maps nothing yet."""
    lonely = "7Ngz_tJ4_hZ3"  # a sample occupation name no set maps
    (settings.mappings_dir / "candidates.sssom.tsv").write_text(
        set_file("candidates", row(lonely, "exactMatch", NEW_ESCO, "candidate")), encoding="utf-8"
    )
    build_dir = refresh_mappings(settings)
    report = coverage(open_build(build_dir), settings.base_iri)
    unmapped = {uri for entry in report["jobtech"] for uri, _label in entry.unmapped}
    assert f"{JT}{lonely}" in unmapped
    assert f"{JT}{KEPT_JT}" not in unmapped
    written = json.loads((build_dir / COVERAGE_FILE).read_text(encoding="utf-8"))
    assert written == coverage_json(report, limit=0)
    # reviewed, the same row maps it
    (settings.mappings_dir / "candidates.sssom.tsv").write_text(
        set_file("candidates", row(lonely, "exactMatch", NEW_ESCO, "reviewed")), encoding="utf-8"
    )
    report = coverage(open_build(refresh_mappings(settings)), settings.base_iri)
    assert f"{JT}{lonely}" not in {u for e in report["jobtech"] for u, _label in e.unmapped}
