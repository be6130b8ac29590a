"""The compatibility graphs on small stores where each part decides the answer, and in a build
(listed in the catalog, turned off by the `compat_graphs` setting)."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions, Store

from kll_graph.build.pipeline import build
from kll_graph.importers import ImportContext
from kll_graph.importers.compat import ancestors, import_esco_compat, import_jobtech_compat
from kll_graph.namespaces import DCT, ESCO, PREFIXES, SKOS, graph_iri
from kll_graph.settings import Settings, SourceConfig
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings

E = "http://data.europa.eu/esco/"
JT = "http://data.jobtechdev.se/taxonomy/concept/"
SOURCE = NamedNode("urn:source")


def _store(*triples: tuple[str, NamedNode, str | Literal]) -> Store:
    store = Store()
    for s, p, o in triples:
        obj = o if isinstance(o, Literal) else NamedNode(o)
        store.add(Quad(NamedNode(s), p, obj, SOURCE))
    return store


def _run(store: Store, function: object, source_id: str) -> tuple[ImportContext, NamedNode]:
    settings: Settings = make_settings(Path("/nonexistent"))
    graph = graph_iri(settings.base_iri, source_id, "v1")
    source = SourceConfig(id=source_id, importer="derived", path="", version="v1")
    ctx = ImportContext(source=source, path=Path("/"), graph=graph, settings=settings, store=store)
    function(ctx)  # type: ignore[operator]
    return ctx, graph


PROLOGUE = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())


def _rows(store: Store, query: str) -> list[tuple[str, ...]]:
    result = store.query(PROLOGUE + query, use_default_graph_as_union=True)
    assert isinstance(result, QuerySolutions)
    return sorted(tuple(term.value for term in row) for row in result)


def test_ancestors_skip_the_concept_itself_even_on_a_cycle() -> None:
    found = ancestors({"a": {"b"}, "b": {"c", "a"}, "c": set(), "d": {"a"}})
    assert found["a"] == {"b", "c"}
    assert found["d"] == {"a", "b", "c"}
    assert found["b"] == {"a", "c"}


def test_esco_broader_transitive_follows_broader_and_narrower_within_esco() -> None:
    store = _store(
        (E + "occupation/dev", SKOS.broader, E + "isco/C2512"),
        (E + "isco/C251", SKOS.narrower, E + "isco/C2512"),  # stated on the broader side
        (E + "isco/C251", SKOS.broader, E + "isco/C25"),
        (E + "isco/C25", SKOS.broader, "http://example.org/elsewhere"),  # not ESCO: not followed
    )
    ctx, graph = _run(store, import_esco_compat, "esco-compat")
    rows = _rows(
        store,
        f"SELECT ?a WHERE {{ GRAPH <{graph.value}> {{ <{E}occupation/dev> "
        "skos:broaderTransitive ?a } }",
    )
    assert rows == [(E + "isco/C25",), (E + "isco/C251",), (E + "isco/C2512",)]
    assert ctx.report.counts["broader_transitive"] == 3 + 2 + 1


def test_an_esco_shaped_query_finds_a_skill_under_an_isced_field_with_its_labelled_type() -> None:
    skill = E + "skill/s1"
    store = _store(
        (skill, SKOS.broader, E + "isced-f/0611"),
        (E + "isced-f/0611", SKOS.broader, E + "isced-f/061"),
        (E + "isced-f/061", SKOS.broader, E + "isced-f/06"),
        (skill, ESCO.skillType, E + "skill-type/knowledge"),
        (skill, ESCO.skillReuseLevel, E + "skill-reuse-level/cross-sector"),
        (E + "occupation/o1", ESCO.regulatedProfessionNote, E + "regulated-professions/regulated"),
    )
    _run(store, import_esco_compat, "esco-compat")
    rows = _rows(
        store,
        f"""SELECT ?s ?label ?scheme WHERE {{
          ?s skos:broaderTransitive* <{E}isced-f/06> ; esco:skillType ?t .
          ?t skos:prefLabel ?label ; skos:inScheme ?scheme .
        }}""",
    )
    assert rows == [(skill, "knowledge", E + "concept-scheme/skill-type")]
    levels = _rows(store, "SELECT ?l WHERE { ?s esco:skillReuseLevel/skos:prefLabel ?l }")
    assert levels == [("cross sector",)]
    note = "SELECT ?l WHERE { ?s esco:regulatedProfessionNote/skos:prefLabel ?l }"
    assert _rows(store, note) == [("regulated",)]
    schemes = _rows(store, "SELECT ?c WHERE { ?c a skos:ConceptScheme }")
    assert len(schemes) == 3


def test_esco_descriptions_also_come_as_node_literals() -> None:
    occupation = E + "occupation/o1"
    text = Literal("Develops software.", language="en")
    store = _store((occupation, DCT.description, text))
    _run(store, import_esco_compat, "esco-compat")
    rows = _rows(
        store,
        f"""SELECT ?d ?lang WHERE {{
          <{occupation}> dct:description ?n . ?n a esco:NodeLiteral ;
            esco:nodeLiteral ?d ; esco:language ?lang .
          FILTER(datatype(?lang) = xsd:language)
        }}""",
    )
    assert rows == [("Develops software.", "en")]
    plain = _rows(
        store, f"SELECT ?d WHERE {{ <{occupation}> dct:description ?d FILTER isLiteral(?d) }}"
    )
    assert plain == [("Develops software.",)]  # our own shape stays beside ESCO's


def test_jobtech_broader_transitive_along_ssyk() -> None:
    store = _store(
        (JT + "name", SKOS.broader, JT + "ssyk4"),
        (JT + "ssyk4", SKOS.broader, JT + "ssyk3"),
        (JT + "ssyk3", SKOS.broader, JT + "ssyk2"),
        (JT + "ssyk4", SKOS.broader, E + "isco/C2512"),  # a link out of JobTech: not followed
    )
    _, graph = _run(store, import_jobtech_compat, "jobtech-compat")
    rows = _rows(
        store,
        f"SELECT ?a WHERE {{ GRAPH <{graph.value}> {{ <{JT}name> skos:broaderTransitive ?a }} }}",
    )
    assert rows == [(JT + "ssyk2",), (JT + "ssyk3",), (JT + "ssyk4",)]


def _compat_graphs(settings: Settings) -> list[str]:
    served = CurrentStore(settings.store).get()
    return sorted(g.iri for g in served.manifest.graphs if "compat/" in g.iri)


def test_a_build_lists_the_compat_graphs_in_the_catalog_and_the_setting_turns_them_off(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "on")
    build(settings)
    graphs = _compat_graphs(settings)
    assert [g.rsplit("/", 2)[-2] for g in graphs] == ["esco-compat", "jobtech-compat"]
    catalog = CurrentStore(settings.store).get().store
    listed = _rows(
        catalog, "SELECT ?g WHERE { ?g a void:Dataset FILTER(CONTAINS(STR(?g), 'compat/')) }"
    )
    assert [row[0] for row in listed] == graphs
    off = make_settings(tmp_path / "off", compat_graphs=False)
    build(off)
    assert _compat_graphs(off) == []
