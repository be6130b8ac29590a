"""The build pipeline: formats into graphs, catalog, failure and kill safety, lock, pruning."""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyoxigraph import Dataset, Literal, NamedNode, Quad, RdfFormat, serialize

from kll_graph.build.pipeline import build
from kll_graph.exceptions import BuildLockedError, SourceError
from kll_graph.settings import SAMPLE_DIR, Settings, SourceConfig
from kll_graph.store import CurrentStore, StoreLayout, build_lock
from kll_graph.testing import make_settings

EX = "http://example.org/vocab/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
FORMATS = {
    "ttl": RdfFormat.TURTLE,
    "nt": RdfFormat.N_TRIPLES,
    "nq": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
    "rdf": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
}


def vocabulary(tag: str, size: int = 3) -> list[Quad]:
    """A tiny SKOS vocabulary whose labels carry `tag`, so each graph's triples are its own."""
    quads = []
    for i in range(size):
        concept = NamedNode(f"{EX}{tag}/{i}")
        quads.append(
            Quad(concept, NamedNode(f"{SKOS}prefLabel"), Literal(f"{tag} {i}", language="en"))
        )
        quads.append(
            Quad(
                concept,
                NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                NamedNode(f"{SKOS}Concept"),
            )
        )
    return quads


def write_rdf(path: Path, quads: list[Quad], fmt: RdfFormat, gzipped: bool = False) -> Path:
    data = serialize(
        Dataset(quads) if fmt.supports_datasets else [q.triple for q in quads], format=fmt
    )
    if gzipped:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def rdf_settings(tmp_path: Path, files: dict[str, Path], **changes: object) -> Settings:
    sources = tuple(
        SourceConfig(id=name, importer="rdf", path=path.name, version="1", license="CC0-1.0")
        for name, path in files.items()
    )
    base = make_settings(tmp_path / "store", data_dir=tmp_path)
    return base.replace(sources=sources, **changes)


def count(store: CurrentStore, query: str) -> int:
    row = next(iter(store.store.query(query, use_default_graph_as_union=True)))  # type: ignore[arg-type]
    return int(row[0].value)


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_each_rdf_format_lands_in_its_own_graph(tmp_path: Path, gzipped: bool) -> None:
    files = {
        f"v-{ext}": write_rdf(
            tmp_path / f"v.{ext}{'.gz' if gzipped else ''}", vocabulary(ext), fmt, gzipped
        )
        for ext, fmt in FORMATS.items()
    }
    settings = rdf_settings(tmp_path, files)
    build(settings)
    store = CurrentStore(settings.store)
    for ext in FORMATS:
        graph = f"{settings.base_iri}graph/v-{ext}/1"
        labels = {
            row[0].value
            for row in store.store.query(
                f"SELECT ?l WHERE {{ GRAPH <{graph}> {{ ?c <{SKOS}prefLabel> ?l }} }}"
            )  # type: ignore[union-attr]
        }
        assert labels == {f"{ext} 0", f"{ext} 1", f"{ext} 2"}, ext


def test_catalog_describes_every_graph(tmp_path: Path) -> None:
    file = write_rdf(tmp_path / "voc.ttl", vocabulary("cat", 5), RdfFormat.TURTLE)
    settings = rdf_settings(tmp_path, {"voc": file})
    result = build(settings)
    store = CurrentStore(settings.store).store
    graph = f"{settings.base_iri}graph/voc/1"
    query = f"""
        PREFIX void: <http://rdfs.org/ns/void#> PREFIX dct: <http://purl.org/dc/terms/>
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX spdx: <http://spdx.org/rdf/terms#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        SELECT ?triples ?version ?license ?file ?sha ?importer ?build WHERE {{
          GRAPH <{settings.base_iri}graph/catalog> {{
            <{graph}> void:triples ?triples ; owl:versionInfo ?version ; dct:license ?license ;
               <{settings.base_iri}ontology#importer> ?importer ;
               prov:wasGeneratedBy [ <{settings.base_iri}ontology#buildId> ?build ] ;
               prov:wasDerivedFrom [ dct:identifier ?file ;
                                     spdx:checksum [ spdx:checksumValue ?sha ] ] .
          }} }}"""
    rows = list(store.query(query))  # type: ignore[arg-type]
    assert len(rows) == 1
    row = rows[0]
    assert int(row["triples"].value) == 10
    assert row["version"].value == "1"
    assert row["license"].value == "CC0-1.0"
    assert row["file"].value == "voc.ttl"
    assert row["sha"].value == hashlib.sha256(file.read_bytes()).hexdigest()
    assert row["importer"].value == "rdf"
    assert row["build"].value == result.build_id
    # the manifest agrees with the store
    counted = count(
        CurrentStore(settings.store),
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
    )
    assert [g.triples for g in result.manifest.graphs if g.iri == graph] == [counted]


def test_failed_build_leaves_the_current_store_serving(tmp_path: Path) -> None:
    good = write_rdf(tmp_path / "good.ttl", vocabulary("good"), RdfFormat.TURTLE)
    settings = rdf_settings(tmp_path, {"good": good})
    first = build(settings)
    bad = tmp_path / "bad.nt"
    bad.write_text('<http://a> <http://b> <http://c> .\n<http://a> <http://b> "open .\n')
    broken = rdf_settings(tmp_path, {"good": good, "bad": bad})
    with pytest.raises(SourceError) as info:
        build(broken)
    message = str(info.value)
    assert "source 'bad'" in message and "bad.nt" in message and "line 2" in message
    layout = StoreLayout(settings.store)
    assert layout.current_build() == first.path.resolve()
    assert layout.partial_builds() == []
    store = CurrentStore(settings.store)
    assert store.get().build_id == first.build_id
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") > 0


def test_missing_source_file_is_named(tmp_path: Path) -> None:
    present = write_rdf(tmp_path / "here.ttl", vocabulary("here"), RdfFormat.TURTLE)
    settings = rdf_settings(tmp_path, {"here": present, "gone": tmp_path / "gone.ttl"})
    with pytest.raises(SourceError, match=r"source 'gone'.*missing in data directory.*gone\.ttl"):
        build(settings)


def test_concurrent_build_is_refused(tmp_path: Path) -> None:
    file = write_rdf(tmp_path / "voc.ttl", vocabulary("x"), RdfFormat.TURTLE)
    settings = rdf_settings(tmp_path, {"voc": file})
    with (
        build_lock(StoreLayout(settings.store)),
        pytest.raises(BuildLockedError, match="another build is running"),
    ):
        build(settings)
    assert build(settings).triples > 0  # the lock is free again afterwards


def test_old_builds_are_pruned(tmp_path: Path) -> None:
    file = write_rdf(tmp_path / "voc.ttl", vocabulary("x"), RdfFormat.TURTLE)
    # a query timeout of 1 ms: builds replaced seconds ago are not kept for readers (prune_grace)
    settings = rdf_settings(tmp_path, {"voc": file}, keep_builds=2, query_timeout=0.001)
    ids = [build(settings).build_id for _ in range(3)]
    kept = [p.name for p in StoreLayout(settings.store).finished_builds()]
    assert kept == ids[1:]
    assert CurrentStore(settings.store).get().build_id == ids[-1]


def test_killed_build_leaves_the_old_store_intact(tmp_path: Path) -> None:
    small = write_rdf(tmp_path / "small.ttl", vocabulary("small"), RdfFormat.TURTLE)
    settings = rdf_settings(tmp_path, {"small": small})
    first = build(settings)
    big = tmp_path / "big.nt"
    with big.open("w") as out:
        for i in range(600_000):
            out.write(f'<{EX}s{i}> <{EX}p> "value {i}" .\n')
    config = tmp_path / "big.toml"
    config.write_text(
        f'[settings]\nstore = "{settings.store}"\ndata_dir = "{tmp_path}"\n'
        '[[sources]]\nid = "big"\nimporter = "rdf"\npath = "big.nt"\n'
        '[[sources]]\nid = "big2"\nimporter = "rdf"\npath = "big.nt"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kll_graph", "--config", str(config), "build"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    layout = StoreLayout(settings.store)
    deadline = time.monotonic() + 60
    while not layout.partial_builds() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert layout.partial_builds(), "the build never started"
    time.sleep(0.5)
    assert proc.poll() is None, "the build finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert layout.current_build() == first.path.resolve()
    store = CurrentStore(settings.store)
    assert store.get().build_id == first.build_id
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") > 0
    # the next build cleans the killed one's leftovers and takes the lock freely
    second = build(settings)
    assert layout.partial_builds() == []
    assert CurrentStore(settings.store).get().build_id == second.build_id


def test_sample_is_used_when_no_source_is_present(tmp_settings: Settings) -> None:
    messages: list[str] = []
    result = build(tmp_settings, progress=messages.append)
    assert result.manifest.sample is True
    assert result.manifest.data_dir == SAMPLE_DIR
    assert any("SAMPLE" in m for m in messages)
    built = {s.source for s in result.manifest.graphs}
    assert "ontology" in built


def test_large_ntriples_load_in_parallel_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slices cut at line ends load completely, and an error names its line in the whole file."""
    from kll_graph.importers import rdf

    monkeypatch.setattr(rdf, "PARALLEL_MIN_BYTES", 0)
    lines = [f'<{EX}s{i}> <{EX}p> "v {i}" .\n' for i in range(5000)]
    good = tmp_path / "good.nt"
    good.write_text("".join(lines))
    settings = rdf_settings(tmp_path, {"good": good})
    build(settings)
    graph = f"{settings.base_iri}graph/good/1"
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    assert count(CurrentStore(settings.store), query) == 5000
    lines[4321] = f'<{EX}s4321> <{EX}p> "broken .\n'
    bad = tmp_path / "bad.nt"
    bad.write_text("".join(lines))
    with pytest.raises(SourceError, match=r"bad\.nt at line 4322"):
        build(rdf_settings(tmp_path, {"bad": bad}))


def test_importer_metadata_reaches_the_catalog(sample_store: CurrentStore) -> None:
    """What an importer records in report.metadata is said about its graph in the catalog."""
    served = sample_store.get()
    base = served.manifest.base_iri
    query = f"""SELECT ?value WHERE {{ GRAPH <{base}graph/catalog> {{
        <{base}graph/esco-sv/v1.1.1> <http://purl.org/dc/terms/source> ?value }} }}"""
    values = {row["value"].value for row in served.store.query(query)}  # type: ignore[union-attr]
    assert any("SE_occupations_ESCO-1.1.1" in v for v in values), values
