"""A build as a dump: every quad as gzipped N-Quads, the build's artifacts, and a manifest.

A dump is what travels from the machine that builds to the machines that serve: engine replicas
load its quads (:mod:`kll_graph.replica.load`), app processes read its artifacts (label index,
coverage, quality report). Layout of ``OUT/<build_id>/``::

    graph.nq.gz      all quads of the build, gzipped N-Quads
    labels.idx ...   the build's artifacts, byte for byte as in the build directory
    manifest.json    {"format": 1, "build_id", "created", "graphs": {iri: triples}, "triples",
                      "files": {name: sha256}}

The manifest is written last and the directory appears under its final name by one rename, so
a dump either is complete or does not exist. :func:`verify_dump` checks every file against the
manifest before anyone trusts a byte of it.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, cast

from pyoxigraph import DefaultGraph, QuerySolutions, RdfFormat, Store

from kll_graph.digest import sha256_file
from kll_graph.exceptions import DumpError
from kll_graph.files import fsync_directory
from kll_graph.store import MANIFEST, OXIGRAPH_DIR, read_manifest

#: The dump layout this code writes and reads; a reader refuses any other.
DUMP_FORMAT = 1
DUMP_MANIFEST = "manifest.json"
QUADS = "graph.nq.gz"
#: The build's artifacts a dump carries (those present are copied; build.json always is).
ARTIFACTS = (
    MANIFEST,
    "labels.idx",
    "mapping-coverage.json",
    "mapping-findings.json",
    "quality.json",
    "changes.json",
    "changes.sqlite",
)
#: The key of the default graph in the manifest's per-graph counts (it has no IRI).
DEFAULT_GRAPH = ""


@dataclass(frozen=True)
class DumpManifest:
    """A dump's `manifest.json`, read and checked: which build, what it holds, every checksum."""

    path: Path
    build_id: str
    created: str
    graphs: Mapping[str, int]
    triples: int
    files: Mapping[str, str]

    @property
    def quads(self) -> Path:
        return self.path / QUADS

    @classmethod
    def from_json(cls, path: Path, data: object) -> DumpManifest:
        """The manifest of the dump at `path`; DumpError naming what is wrong with it."""
        where = path / DUMP_MANIFEST
        if not isinstance(data, dict):
            raise DumpError(f"{where}: not a JSON object; this is not a kll-graph dump")
        if data.get("format") != DUMP_FORMAT:
            raise DumpError(
                f"{where}: dump format {data.get('format')!r}, this kll-graph reads "
                f"{DUMP_FORMAT}; dump the build again with this version (`kll-graph dump`)"
            )
        try:
            graphs = {str(k): int(v) for k, v in dict(data["graphs"]).items()}
            files = {str(k): str(v) for k, v in dict(data["files"]).items()}
            manifest = cls(
                path=path,
                build_id=str(data["build_id"]),
                created=str(data["created"]),
                graphs=MappingProxyType(graphs),
                triples=int(data["triples"]),
                files=MappingProxyType(files),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DumpError(f"{where}: missing or malformed field ({exc})") from None
        if sum(graphs.values()) != manifest.triples:
            raise DumpError(
                f"{where}: the per-graph counts add up to {sum(graphs.values())}, "
                f"not the {manifest.triples} triples it states"
            )
        for name in (QUADS, MANIFEST):
            if name not in files:
                raise DumpError(f"{where}: lists no checksum for {name}")
        return manifest


def verify_dump(path: Path) -> DumpManifest:
    """The manifest of the dump at `path`, after checking every file it lists against its
    SHA-256 and that no file is there that it does not list. DumpError on the first mismatch,
    naming the file: a dump that fails here must not be loaded or served."""
    path = Path(path)
    where = path / DUMP_MANIFEST
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DumpError(
            f"{where} not found; DUMP must be a directory written by `kll-graph dump`"
        ) from None
    except (OSError, ValueError) as exc:
        raise DumpError(f"{where}: unreadable ({exc})") from None
    manifest = DumpManifest.from_json(path, data)
    for name, expected in manifest.files.items():
        file = path / name
        if Path(name).name != name:
            raise DumpError(f"{where}: file name {name!r} is not a plain name")
        if not file.is_file():
            raise DumpError(f"{file}: listed in the manifest but missing; copy the dump again")
        actual = sha256_file(file)
        if actual != expected:
            raise DumpError(
                f"{file}: checksum {actual[:16]}… differs from the manifest's "
                f"{expected[:16]}…; the file was altered or truncated, copy the dump again"
            )
    extra = sorted(p.name for p in path.iterdir() if p.name not in {*manifest.files, DUMP_MANIFEST})
    if extra:
        raise DumpError(f"{path}: files the manifest does not list: {', '.join(extra)}")
    return manifest


def graph_counts(store: Store) -> dict[str, int]:
    """Triples per graph (the default graph under DEFAULT_GRAPH when it holds any), counted
    by the engine, so a dump and the replica loaded from it are compared alike."""
    counts: dict[str, int] = {}
    result = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(result, QuerySolutions)
    for row in result:
        counts[row["g"].value] = int(row["n"].value)
    default = sum(1 for _ in store.quads_for_pattern(None, None, None, DefaultGraph()))
    if default:
        counts[DEFAULT_GRAPH] = default
    return counts


def write_dump(build_dir: Path, out: Path) -> DumpManifest:
    """Dump the finished build at `build_dir` into ``out/<build_id>/`` (see the module doc).

    Written under a temporary name and renamed when complete; an existing dump of the same
    build is verified and returned as it is (dumping twice is harmless), a damaged one refused.
    """
    build = read_manifest(build_dir)
    final = out / build.build_id
    if final.exists():
        return verify_dump(final)
    out.mkdir(parents=True, exist_ok=True)
    work = out / f".{build.build_id}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        manifest = _write_into(build_dir, build.build_id, work)
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    fsync_directory(out)
    return DumpManifest.from_json(final, manifest)


def _write_into(build_dir: Path, build_id: str, work: Path) -> dict[str, Any]:
    store = Store.read_only(str(build_dir / OXIGRAPH_DIR))
    counts = graph_counts(store)
    # mtime=0: the same build always gives the same bytes, so its checksum is the same too.
    with (
        (work / QUADS).open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as handle,
    ):
        store.dump(cast(IO[bytes], handle), RdfFormat.N_QUADS)
    del store
    for name in ARTIFACTS:
        if (build_dir / name).is_file():
            shutil.copyfile(build_dir / name, work / name)
    files = {p.name: sha256_file(p) for p in sorted(work.iterdir())}
    manifest = {
        "format": DUMP_FORMAT,
        "build_id": build_id,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "graphs": counts,
        "triples": sum(counts.values()),
        "files": files,
    }
    for file in work.iterdir():
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
    (work / DUMP_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest
