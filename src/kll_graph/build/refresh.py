"""The mapping refresh: a new build from the current one with only the mapping graphs made again.

A decision in the review workbench changes one SSSOM file; a full build (a minute on the real
data) is far too slow to show it "within seconds". The vocabularies have not changed, so a
refresh copies the current store instead of importing them again:

snapshot the set files → checkpoint the current store (RocksDB hard links: milliseconds) → drop
the graphs of the "mappings" source and their entries in the catalog → import the snapshot →
describe the new graphs in the catalog → reuse the artifacts that do not read mappings (label
index, quality report) → the mapping checks and coverage again → manifest (`refreshed_from`) →
rename → switch → prune.

It runs under the build lock, like a build, and anything that fails before the switch leaves the
current build serving and removes the partial one. The servers notice the new build as they
notice any other (the `current` link; everything per build is kept per ServedBuild), so SPARQL,
the lookup API and the pages follow at their next request.

What a refresh reads from the vocabularies (the concepts the mapping checks and the coverage
look up: seconds on the real data) does not change between refreshes of one build's
vocabularies, so a :class:`RefreshCache` keeps it; the :class:`Refresher` of a server process
holds one and warms it when it starts.

The quality report is reused as it is: four of its checks (mapping-clash, mapping-within-scheme,
dangling-link, orphan-concept) also read the mapping triples, and running them takes about nine
seconds on the real data, so they stay as the build that ran them found them (its id is
recorded as ``steps.checks.from_build``) until the next full build. The mapping checks, which
see the sets themselves, run on every refresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store

from kll_graph import __version__
from kll_graph.build.catalog import catalog_quads
from kll_graph.build.context import Progress, SourceResult
from kll_graph.build.pipeline import _catalog_entries, _import_source, new_build_id
from kll_graph.build.releases import source_key
from kll_graph.changes.log import CHANGES_FILE
from kll_graph.digest import sha256_file
from kll_graph.exceptions import (
    BuildError,
    BuildLockedError,
    KllError,
    SourceError,
    StoreNotFoundError,
)
from kll_graph.labels.layout import INDEX_FILE
from kll_graph.mappings.checks import FINDINGS_FILE, SUMMARY_FINDINGS, Vocabulary, check_sets
from kll_graph.mappings.coverage import (
    COVERAGE_FILE,
    ConceptSides,
    concept_sides,
    coverage_json,
    coverage_of,
    set_mappings,
)
from kll_graph.mappings.sources import MAPPING_IMPORTERS, source_sets
from kll_graph.mappings.sssom import MappingSet, mapping_set_files, read_sssom
from kll_graph.namespaces import PROV, SH, catalog_iri
from kll_graph.plan import DataPlan, builtin_sources
from kll_graph.quality.registry import ERROR
from kll_graph.quality.render import counts_text
from kll_graph.quality.report import REPORT_FILE, summarize
from kll_graph.settings import Settings, SourceConfig
from kll_graph.sparql.query import select_named
from kll_graph.store import (
    MANIFEST,
    OXIGRAPH_DIR,
    PARTIAL,
    Manifest,
    StoreLayout,
    build_lock,
    open_build,
    prune,
    prune_grace,
    read_manifest,
    switch_current,
    write_manifest,
)

log = logging.getLogger(__name__)

#: The builtin source a refresh makes again (:func:`kll_graph.plan.builtin_sources`).
MAPPINGS_SOURCE = "mappings"
#: Artifacts of the current build that read no mapping, linked into the refreshed build (the
#: change log compares configured releases, which a refresh leaves as they are).
REUSED = (INDEX_FILE, REPORT_FILE, CHANGES_FILE)
#: Artifacts a refresh writes again (what the mapping checks and coverage steps write).
REMADE = (FINDINGS_FILE, COVERAGE_FILE)
#: Where the set files are copied before they are read, inside the partial build.
SNAPSHOT = ".mapping-files"
#: How a build step's warning about the mapping checks begins (replaced by the new one).
CHECKS_WARNING = "mapping checks:"
#: Seconds a refresh waits for a running build or refresh before it gives up.
LOCK_WAIT = 120.0


# --- what a refresh keeps between runs ------------------------------------------------------------


@dataclass
class RefreshCache:
    """What the mapping checks and the coverage read from the vocabularies, for the build whose
    vocabularies they are (its `origin`: the full build a chain of refreshes started from), and
    the configured mapping sets (the official tables), by their files' size and time.

    Safe to share between threads: one lock around each read.
    """

    origin: str | None = None
    vocabulary: Vocabulary | None = None
    sides: ConceptSides | None = None
    tables: dict[tuple[Any, ...], list[MappingSet]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _for(self, origin: str) -> None:
        if origin != self.origin:
            self.origin, self.vocabulary, self.sides = origin, None, None

    def vocabulary_of(self, origin: str, store: Store, base_iri: str) -> Vocabulary:
        with self._lock:
            self._for(origin)
            if self.vocabulary is None:
                self.vocabulary = Vocabulary.from_store(store, base_iri)
            return self.vocabulary

    def sides_of(self, origin: str, store: Store, base_iri: str) -> ConceptSides:
        with self._lock:
            self._for(origin)
            if self.sides is None:
                self.sides = concept_sides(store, base_iri)
            return self.sides

    def configured_sets(self, source: SourceConfig, path: Path, base_iri: str) -> list[MappingSet]:
        """The sets of one configured mapping source, read again only when its files changed."""
        files = [path] if path.is_file() else mapping_set_files(path)
        key = (source.id, source.path, base_iri, *((f, *_stamp(f)) for f in files))
        with self._lock:
            sets = self.tables.get(key)
            if sets is None:
                self.tables = {k: v for k, v in self.tables.items() if k[0] != source.id}
                sets = self.tables[key] = source_sets(source, path, base_iri)
            return sets

    def warm(self, settings: Settings, current: Path | None = None) -> None:
        """Read what the next refresh needs from the current build, ahead of it."""
        current = current or StoreLayout(settings.store).current_build()
        if current is None:
            return
        manifest = read_manifest(current)
        store = open_build(current)
        origin = vocabularies_from(manifest)
        self.vocabulary_of(origin, store, manifest.base_iri)
        self.sides_of(origin, store, manifest.base_iri)
        for source, path in _configured_mapping_sources(settings, manifest):
            self.configured_sets(source, path, manifest.base_iri)


def _release(exc: BaseException) -> None:
    """Let go of what the frames of a failed refresh hold, the new store above all: RocksDB
    writes its files again when it closes, which must happen before its directory goes."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


def vocabularies_from(manifest: Manifest) -> str:
    """The build whose vocabulary graphs a build holds: itself, or for a refreshed build the
    full build its chain of refreshes started from."""
    refresh = manifest.steps.get("refresh")
    origin = refresh.get("vocabularies_from") if isinstance(refresh, dict) else None
    return str(origin or manifest.build_id)


# --- the refresh ----------------------------------------------------------------------------------


def refresh_mappings(
    settings: Settings,
    *,
    progress: Progress = lambda message: None,
    cache: RefreshCache | None = None,
    wait: float = LOCK_WAIT,
) -> Path:
    """Make the mapping graphs of the current build again from the mapping files, in a new build
    that becomes current; return the current build's directory afterwards (the same one when
    the mapping files have not changed since it was made: nothing to do).

    Raises a KllError (SourceError for a broken set file, BuildLockedError when another build
    holds the lock for longer than `wait` seconds, StoreNotFoundError with no build to refresh)
    with the current build untouched.
    """
    layout = StoreLayout(settings.store)
    with build_lock(layout, wait=wait):
        current = layout.current_build()
        if current is None:
            raise StoreNotFoundError(
                f"no built store in {settings.store} to refresh; run `kll-graph build` first"
            )
        build_id = new_build_id()
        work = layout.builds / f"{build_id}{PARTIAL}"
        work.mkdir(parents=True)
        try:
            made = _Refresh(settings, current, work, build_id, cache or RefreshCache(), progress)
            changed = made.run()
        except BaseException as exc:
            _release(exc)
            shutil.rmtree(work, ignore_errors=True)
            raise
        if not changed:
            shutil.rmtree(work, ignore_errors=True)
            return current
        final = layout.builds / build_id
        work.rename(final)
        switch_current(layout, final)
        prune(layout, settings.keep_builds, grace=prune_grace(settings.query_timeout))
        progress(f"build {build_id} is current (refreshed from {made.old.build_id})")
        return final


class _Refresh:
    """One refresh, step by step, into the partial directory `work`."""

    def __init__(
        self,
        settings: Settings,
        current: Path,
        work: Path,
        build_id: str,
        cache: RefreshCache,
        progress: Progress,
    ) -> None:
        self.settings = settings
        self.current = current
        self.work = work
        self.build_id = build_id
        self.cache = cache
        self.progress = progress
        self.old = read_manifest(current)
        self.raw: dict[str, Any] = json.loads((current / MANIFEST).read_text(encoding="utf-8"))
        self.started = datetime.now(UTC)
        self.clock = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.warnings: list[str] = []
        #: Change in the catalog triples a build counts in its total (the set descriptions the
        #: mapping importer writes there, counted with the graphs before the catalog is made).
        self.described = 0
        if self.old.base_iri != settings.base_iri:
            raise BuildError(
                f"the current build was made with base IRI {self.old.base_iri}, the settings say "
                f"{settings.base_iri}; a refresh cannot change it: run `kll-graph build`"
            )

    @contextlib.contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[phase] = round(time.perf_counter() - started, 3)

    def run(self) -> bool:
        """Make the new build in `work`; False (and nothing made) when nothing changed."""
        snapshot = self.work / SNAPSHOT
        with self._timed("snapshot"):
            files = _snapshot(self.settings.mappings_dir, snapshot)
        if files == recorded_mapping_files(self.current, self.old):
            self.progress(f"the mapping files are as build {self.old.build_id} read them")
            return False
        with self._timed("checkpoint"):
            open_build(self.current).backup(str(self.work / OXIGRAPH_DIR))
        store = Store(str(self.work / OXIGRAPH_DIR))
        with self._timed("drop"):
            dropped = self._drop(store)
        with self._timed("import"):
            result = self._import(store, snapshot)
        with self._timed("catalog"):
            entries = self._catalog(store, result)
        with self._timed("reuse"):
            self._reuse()
        ours = _read_sets(snapshot, self.settings.mappings_dir) if result is not None else []
        shutil.rmtree(snapshot)
        with self._timed("mapping_checks"):
            sets, checks = self._check(store, ours)
        with self._timed("coverage"):
            self._coverage(store, sets)
        store.flush()
        del store  # closes RocksDB before the directory is renamed
        self._manifest(entries, result, files, checks, dropped)
        return True

    # -- the store --------------------------------------------------------------------------------

    def _drop(self, store: Store) -> list[str]:
        """Remove the mapping graphs of the current build and what the catalog says of them."""
        graphs = [g.iri for g in self.old.graphs if g.source == MAPPINGS_SOURCE]
        catalog = catalog_iri(self.settings.base_iri)
        sets: set[NamedNode] = set()
        for iri in graphs:
            graph = NamedNode(iri)
            store.remove_graph(graph)
            for quad in list(store.quads_for_pattern(graph, None, None, catalog)):
                if quad.predicate == PROV.wasDerivedFrom and isinstance(quad.object, NamedNode):
                    sets.add(quad.object)
                    self.described -= 1
                _remove_tree(store, quad, catalog)
        for set_node in sets:
            if next(store.quads_for_pattern(None, PROV.wasDerivedFrom, set_node, catalog), None):
                continue  # another graph still derives from it
            for quad in list(store.quads_for_pattern(set_node, None, None, catalog)):
                self.described -= _remove_tree(store, quad, catalog, follow=(SH.declare,))
        return graphs

    def _import(self, store: Store, snapshot: Path) -> SourceResult | None:
        """Import the snapshot of the mapping files as the build imports `mappings/`."""
        source = _mappings_source(self.settings.replace(mappings_dir=snapshot))
        if source is None:
            self.progress("no mapping files: the refreshed build has no mapping sets of ours")
            return None
        catalog = catalog_iri(self.settings.base_iri)
        before = _size(store, catalog)
        try:
            result = _import_source(self.settings, store, source, Path("/"), self.progress)
        except SourceError as exc:
            raise _named_outside(exc, snapshot, self.settings.mappings_dir) from exc
        self.described += _size(store, catalog) - before
        return result

    def _catalog(self, store: Store, result: SourceResult | None) -> list[dict[str, Any]]:
        """Describe the new graphs (and this refresh) in the catalog, as a build does."""
        if result is None:
            return []
        counts = _count(store, [g.iri for g in result.graphs])
        plan = DataPlan(self.old.data_dir, (), self.old.sample)
        entries = _catalog_entries(plan, [result], counts)
        base = self.settings.base_iri
        catalog = catalog_iri(base)
        store.bulk_extend(
            catalog_quads(
                base,
                self.build_id,
                _xsd(self.started),
                _xsd(datetime.now(UTC)),
                entries,
                self.old.sample,
            )
        )
        store.add(
            Quad(
                NamedNode(f"{base}build/{self.build_id}"),
                PROV.wasInformedBy,
                NamedNode(f"{base}build/{self.old.build_id}"),
                catalog,
            )
        )
        return [
            {
                "iri": e.iri,
                "title": e.title,
                "source": e.source_id,
                "version": e.version,
                "triples": e.triples,
            }
            for e in entries
        ]

    # -- the artifacts ----------------------------------------------------------------------------

    def _reuse(self) -> None:
        for name in REUSED:
            source = self.current / name
            if source.exists():
                _link_or_copy(source, self.work / name)

    def _check(
        self, store: Store, ours: list[MappingSet]
    ) -> tuple[list[MappingSet], dict[str, Any] | None]:
        """The mapping checks step (:func:`kll_graph.build.steps.mapping_checks`) over the same
        sets in the same order, with the vocabulary and the configured sets from the cache."""
        sets: list[MappingSet] = []
        for source, path in _configured_mapping_sources(self.settings, self.old):
            sets += self.cache.configured_sets(source, path, self.settings.base_iri)
        sets += ours
        if not sets:
            return sets, None
        self.progress(f"checking {len(sets)} mapping set(s)")
        vocabulary = self.cache.vocabulary_of(self.origin, store, self.settings.base_iri)
        findings = check_sets(sets, vocabulary)
        summary = summarize(findings)
        (self.work / FINDINGS_FILE).write_text(
            json.dumps([f.file_json() for f in findings], ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        if findings:
            self.warnings.append(
                f"{CHECKS_WARNING} {counts_text(findings)}; see `kll-graph mappings check`"
            )
        if self.settings.strict and summary["errors"]:
            raise BuildError(
                f"mapping checks found {summary['errors']} error(s) and strict is set; first: "
                + str(next(f for f in findings if f.severity == ERROR))
            )
        return sets, {
            "sets": [m.set_id for m in sets],
            **summary,
            "findings_file": FINDINGS_FILE,
            "first_findings": [str(f) for f in findings[:SUMMARY_FINDINGS]],
        }

    def _coverage(self, store: Store, sets: list[MappingSet]) -> None:
        sides = self.cache.sides_of(self.origin, store, self.settings.base_iri)
        report = coverage_json(coverage_of(sides, set_mappings(sets)), limit=0)
        (self.work / COVERAGE_FILE).write_text(
            json.dumps(report, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @property
    def origin(self) -> str:
        return vocabularies_from(self.old)

    # -- the manifest ------------------------------------------------------------------------------

    def _manifest(
        self,
        entries: list[dict[str, Any]],
        result: SourceResult | None,
        files: dict[str, str],
        checks: dict[str, Any] | None,
        dropped: list[str],
    ) -> None:
        raw = self.raw
        kept = [g for g in raw["graphs"] if g["source"] != MAPPINGS_SOURCE]
        at = next(
            (i for i, g in enumerate(raw["graphs"]) if g["source"] == MAPPINGS_SOURCE),
            len(kept),
        )
        graphs = kept[:at] + entries + kept[at:]
        sources = {k: v for k, v in raw["sources"].items() if k != MAPPINGS_SOURCE}
        if result is not None:
            sources[MAPPINGS_SOURCE] = {
                "seconds": round(result.seconds, 2),
                "counts": result.counts,
                "notes": result.notes,
                "warnings": result.warnings,
            }
        steps = dict(raw["steps"])
        for step in ("labels", "checks"):
            if step in steps:
                steps[step] = {"from_build": self.old.build_id, **steps[step]}
        steps.pop("mappings", None)
        if checks is not None:
            steps["mappings"] = checks
        steps["coverage"] = {"file": COVERAGE_FILE}
        steps["refresh"] = {
            "from": self.old.build_id,
            "vocabularies_from": self.origin,
            "mapping_files": files,
            "dropped_graphs": dropped,
            "reused": [name for name in REUSED if (self.work / name).exists()],
            "seconds": self.seconds,
        }
        warnings = [w for w in raw["warnings"] if not w.startswith(CHECKS_WARNING)]
        manifest = {
            **raw,
            "build_id": self.build_id,
            "kll_graph_version": __version__,
            "started": self.started.isoformat(),
            "seconds": round(time.perf_counter() - self.clock, 2),
            "triples": self.old.triples
            + self.described
            + sum(int(g["triples"]) for g in entries)
            - sum(g.triples for g in self.old.graphs if g.source == MAPPINGS_SOURCE),
            "graphs": graphs,
            "sources": sources,
            "steps": steps,
            "warnings": warnings + self.warnings,
            "refreshed_from": self.old.build_id,
        }
        Manifest.from_json(manifest)  # the layout it claims, checked before it is written
        write_manifest(self.work, manifest)


# --- helpers --------------------------------------------------------------------------------------


def _snapshot(mappings_dir: Path, snapshot: Path) -> dict[str, str]:
    """Copy the set files (as they are now) into `snapshot`; their names and SHA-256.

    A refresh reads, checksums and records the copies, so a decision written while it runs is
    either wholly in this build or left for the next refresh, never half-recorded as done.
    """
    snapshot.mkdir()
    files = {}
    for file in mapping_set_files(mappings_dir):
        copy = snapshot / file.name
        try:
            shutil.copyfile(file, copy)
        except FileNotFoundError:
            continue  # removed since it was listed
        files[file.name] = sha256_file(copy)
    return files


def recorded_mapping_files(build_dir: Path, manifest: Manifest) -> dict[str, str]:
    """The set files (name -> SHA-256) the mapping graphs of a build were made from: recorded
    by a refresh in its manifest; for a full build, as its catalog describes the files of the
    "mappings" source (the set files among them)."""
    refresh = manifest.steps.get("refresh")
    if isinstance(refresh, dict) and isinstance(refresh.get("mapping_files"), dict):
        return {str(k): str(v) for k, v in refresh["mapping_files"].items()}
    rows = select_named(
        open_build(build_dir),
        "refresh_mapping_files",
        catalog=NamedNode(manifest.catalog_graph),
        source=Literal(MAPPINGS_SOURCE),
    )
    return {
        row["name"].value: row["sha256"].value
        for row in rows
        if row["name"].value.endswith(".sssom.tsv")
    }


def _remove_tree(
    store: Store, quad: Quad, graph: NamedNode, follow: tuple[NamedNode, ...] = ()
) -> int:
    """Remove `quad` and, below its object when it is a blank node (a file, a checksum) or
    reached by one of the `follow` predicates (a prefix declaration), every quad about it;
    how many quads went."""
    store.remove(quad)
    removed = 1
    target = quad.object
    if isinstance(target, BlankNode) or (
        isinstance(target, NamedNode) and quad.predicate in follow
    ):
        for below in list(store.quads_for_pattern(target, None, None, graph)):
            removed += _remove_tree(store, below, graph, follow)
    return removed


def _size(store: Store, graph: NamedNode) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, graph))


def _mappings_source(settings: Settings) -> SourceConfig | None:
    """The builtin "mappings" source of these settings (None without a set file)."""
    return next((s for s in builtin_sources(settings) if s.id == MAPPINGS_SOURCE), None)


def _configured_mapping_sources(
    settings: Settings, manifest: Manifest
) -> list[tuple[SourceConfig, Path]]:
    """The configured mapping sources (the official tables) the build imported, with their
    paths in its data directory: their sets are checked with ours."""
    return [
        (s, s.resolve(manifest.data_dir))
        for s in settings.sources
        if s.importer in MAPPING_IMPORTERS and source_key(s) in manifest.sources
    ]


def _read_sets(snapshot: Path, mappings_dir: Path) -> list[MappingSet]:
    """The snapshot's sets, named by their files in the mappings directory (as findings say)."""
    sets = []
    for file in mapping_set_files(snapshot):
        mset = read_sssom(file)
        mset.path = mappings_dir.resolve() / file.name
        sets.append(mset)
    return sets


def _named_outside(exc: SourceError, snapshot: Path, mappings_dir: Path) -> SourceError:
    """The import's error about a snapshot copy, naming the file in the mappings directory."""
    path = exc.path
    if path is not None and path.parent == snapshot:
        path = mappings_dir / path.name
    return SourceError(exc.source_id, exc.detail, path=path, line=exc.line, column=exc.column)


def _count(store: Store, graphs: list[NamedNode]) -> dict[str, int]:
    """Triples in each of `graphs` (the whole store is counted by a build; these are few)."""
    return {g.value: sum(1 for _ in store.quads_for_pattern(None, None, None, g)) for g in graphs}


def _xsd(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (the artifacts are never written again), a copy across file systems."""
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)


# --- one refresher per server process -------------------------------------------------------------


class Refresher:
    """Refreshes the mapping graphs in the background whenever asked, one refresh at a time.

    A write to a set file calls :meth:`request` and returns; the refresher's thread waits a
    moment (`debounce`) so that writes landing together are refreshed together, then runs
    :func:`refresh_mappings`. A request made while a refresh runs makes one more refresh after
    it, so the last write is always in. Failures are logged and kept in :attr:`last_error`;
    when another build holds the lock for long, the refresh is tried again `retry` seconds
    later. Several server processes may each have one: the build lock orders them, and a
    refresh that finds the files as the current build read them makes nothing.

    With `warm`, the cache is filled when the thread starts, and again when a full build
    brings new vocabularies (looked for every `rewarm` seconds while idle), so that no
    decision waits for it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        debounce: float = 0.1,
        retry: float = 5.0,
        wait: float = LOCK_WAIT,
        warm: bool = True,
        rewarm: float = 10.0,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.debounce = debounce
        self.retry = retry
        self.wait = wait
        self.warm = warm
        self.rewarm = rewarm
        self._seen: Path | None = None  # the build the cache was last checked against
        self.progress = progress or (lambda message: log.debug("%s", message))
        self.cache = RefreshCache()
        self.last_error: BaseException | None = None
        self.last_build: Path | None = None
        self.runs = 0
        self._cond = threading.Condition()
        self._pending = False
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="kll-refresh", daemon=True)

    @classmethod
    def for_app(cls, settings: Settings) -> Refresher:
        """A started refresher for a server process (`create_app`), its cache warming."""
        refresher = cls(settings)
        refresher.start()
        return refresher

    def start(self) -> None:
        with self._cond:
            self._busy = self.warm  # warming counts as busy: wait_idle waits for it
        self._thread.start()

    def request(self) -> None:
        """Ask for a refresh (returns at once)."""
        with self._cond:
            self._pending = True
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no refresh is asked for or running; False when `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._pending or self._busy), timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop the thread after the refresh it is running, if any."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        if self.warm:
            self._warm()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed, self.rewarm)
                if self._closed:
                    return
                self._busy = True
                idle = not self._pending
            if idle:
                self._warm_if_new()
                continue
            time.sleep(self.debounce)  # let writes that land together be refreshed together
            with self._cond:
                self._pending = False
            again = self._refresh()
            with self._cond:
                if again and not self._closed:
                    self._cond.wait_for(lambda: self._closed, self.retry)
                    self._pending = True
                self._busy = False
                self._cond.notify_all()

    def _warm(self) -> None:
        try:
            self._seen = StoreLayout(self.settings.store).current_build()
            self.cache.warm(self.settings, self._seen)
        except Exception:  # a refresh will read what it needs itself
            log.exception("warming the mapping refresh cache failed")
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _warm_if_new(self) -> None:
        """Warm again when the current build has other vocabularies than the cache holds."""
        if self.warm and self._new_vocabularies():
            self._warm()  # ends busy itself
            return
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def _new_vocabularies(self) -> bool:
        try:
            current = StoreLayout(self.settings.store).current_build()
            if current is None or current == self._seen:
                return False
            self._seen = current
            return vocabularies_from(read_manifest(current)) != self.cache.origin
        except KllError:
            return False

    def _refresh(self) -> bool:
        """One refresh; True when it should be tried again (the lock was held too long)."""
        try:
            self.last_build = refresh_mappings(
                self.settings, progress=self.progress, cache=self.cache, wait=self.wait
            )
            self.last_error = None
            return False
        except BuildLockedError as exc:
            self.last_error = exc
            log.warning("mapping refresh: %s; trying again in %g s", exc, self.retry)
            return True
        except KllError as exc:
            self.last_error = exc
            log.error("mapping refresh failed, the current build keeps serving: %s", exc)
            return False
        except Exception as exc:
            self.last_error = exc
            log.exception("mapping refresh failed, the current build keeps serving")
            return False
        finally:
            self.runs += 1
