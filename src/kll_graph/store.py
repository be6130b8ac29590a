"""Store lifecycle: build directories, the build lock, the atomic switch and reopening on change.

Layout under the store root (``--store``, ``$KLL_STORE``, ``./var/store``)::

    builds/<build-id>/oxigraph/   the Oxigraph store, written once by a build, then only read
    builds/<build-id>/build.json  the build manifest (graphs, counts, timings; :class:`Manifest`)
    builds/<build-id>.partial/    a build in progress (or one that was killed)
    current -> builds/<build-id>  symlink, replaced atomically to switch
    .build.lock                   held (flock) by the one running build

Oxigraph allows one writer and forbids reading while another process writes, so a served store
is never written: a build writes a new directory and the switch only swaps the symlink. Readers
hold the Store they opened until they finish, so in-flight queries end on the store they began on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Protocol, TypeVar, cast

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    Store,
    Triple,
    Variable,
)

from kll_graph.exceptions import BuildLockedError, StoreNotFoundError

T = TypeVar("T")

MANIFEST = "build.json"
OXIGRAPH_DIR = "oxigraph"
PARTIAL = ".partial"


@dataclass(frozen=True)
class StoreLayout:
    """Paths under one store root."""

    root: Path

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def lock(self) -> Path:
        return self.root / ".build.lock"

    def current_build(self) -> Path | None:
        """The build directory `current` points to, or None before the first build."""
        try:
            target = os.readlink(self.current)
        except (FileNotFoundError, OSError):
            return None
        path = (self.root / target).resolve()
        return path if (path / MANIFEST).is_file() else None

    def finished_builds(self) -> list[Path]:
        """Finished build directories, oldest first (build ids sort by time)."""
        if not self.builds.is_dir():
            return []
        return sorted(
            p for p in self.builds.iterdir() if p.is_dir() and not p.name.endswith(PARTIAL)
        )

    def partial_builds(self) -> list[Path]:
        if not self.builds.is_dir():
            return []
        return sorted(p for p in self.builds.iterdir() if p.name.endswith(PARTIAL))


#: How often a waiting :func:`build_lock` tries the lock again, in seconds.
LOCK_POLL = 0.02


def _try_lock(handle: IO[str], wait: float) -> bool:
    """Take the lock on `handle`, trying for up to `wait` seconds (polling, so that a thread
    waiting for it can give up: a blocking flock cannot be interrupted from another thread)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
        time.sleep(LOCK_POLL)


@contextlib.contextmanager
def build_lock(layout: StoreLayout, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the build lock; a second build gets a clear BuildLockedError at once, or after
    `wait` seconds when the caller would rather wait its turn (a mapping refresh waits for a
    running build or refresh to finish, then makes its own).

    flock is released by the kernel when the holder dies, even by SIGKILL, so a killed build
    never leaves a stale lock behind.
    """
    layout.root.mkdir(parents=True, exist_ok=True)
    with layout.lock.open("a+") as handle:
        if not _try_lock(handle, wait):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            waited = f"; waited {wait:g} s" if wait else ""
            raise BuildLockedError(
                f"another build is running on {layout.root} ({holder}{waited}); "
                "wait for it to finish, then build again"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def switch_current(layout: StoreLayout, build_dir: Path) -> None:
    """Point `current` at a finished build, atomically (symlink then rename over)."""
    tmp = layout.root / f".current.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(os.path.relpath(build_dir, layout.root), tmp)
    os.replace(tmp, layout.current)


def prune_grace(query_timeout: float) -> float:
    """How long a replaced build is kept for the requests still reading it: twice the longest a
    query may run (a query's answer streams while it runs). Removing a build a reader still has
    open makes the engine's memory run away, so every prune keeps them this long."""
    return 2 * query_timeout


def prune(layout: StoreLayout, keep: int, *, grace: float = 0.0) -> list[Path]:
    """Remove all but the newest `keep` finished builds (never the current one) and partials.

    With `grace`, a build replaced less than `grace` seconds ago is kept too, whatever `keep`
    says: a request or query that began on it may still be reading it, and a store whose files
    vanish under a reader does not fail cleanly (the engine's memory runs away). Mapping
    refreshes make builds seconds apart, so they pass the longest a query may run.

    Call only while holding the build lock: a partial directory is then certainly dead.
    """
    current = layout.current_build()
    removed: list[Path] = []
    for partial in layout.partial_builds():
        shutil.rmtree(partial, ignore_errors=True)
        removed.append(partial)
    finished = layout.finished_builds()
    old = finished[: max(len(finished) - max(keep, 1), 0)]
    for build, successor in zip(old, finished[1:], strict=False):
        if current is not None and build.resolve() == current:
            continue
        if grace and _replaced_within(successor, grace):
            break  # builds after it were replaced later still
        shutil.rmtree(build, ignore_errors=True)
        removed.append(build)
    return removed


def _replaced_within(successor: Path, seconds: float) -> bool:
    """Whether the build before `successor` stopped being the newest less than `seconds` ago
    (its successor's manifest is written just before the switch)."""
    try:
        written = (successor / MANIFEST).stat().st_mtime
    except OSError:
        return False
    return time.time() - written < seconds


#: The layout of a build directory this code reads: `build.json`'s fields and the files next to
#: it (label index, quality report, mapping coverage ...). Raise it when a build made before the
#: change could not be served as it is; such a build is refused with a message to rebuild, so no
#: reader carries fallbacks for older layouts.
MANIFEST_LAYOUT = 1
REBUILD = "rebuild with `kll-graph build`"


def _refuse(source: str, why: str) -> StoreNotFoundError:
    return StoreNotFoundError(f"{source}: {why}; {REBUILD}")


def _older(source: str, what: str) -> StoreNotFoundError:
    return _refuse(source, f"built by an older kll-graph layout ({what})")


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    """`data[key]`, checked to be of `kind` (a bool is not a number here)."""
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise _refuse(source, f"{key!r} is not {_kind_name(kind)} but {type(value).__name__}")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _kinds(kind))


def _strings(data: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    values = _require(data, key, list, source)
    if not all(isinstance(v, str) for v in values):
        raise _refuse(source, f"{key!r} is not a list of strings")
    return tuple(values)


@dataclass(frozen=True)
class GraphRecord:
    """One graph of a build, as the manifest lists it."""

    iri: str
    title: str
    source: str
    version: str
    triples: int

    @classmethod
    def from_json(cls, data: object, source: str) -> GraphRecord:
        if not isinstance(data, dict):
            raise _refuse(source, "an entry of 'graphs' is not an object")
        try:
            return cls(
                iri=_require(data, "iri", str, source),
                title=_require(data, "title", str, source),
                source=_require(data, "source", str, source),
                version=_require(data, "version", str, source),
                triples=_require(data, "triples", int, source),
            )
        except KeyError as exc:
            raise _older(source, f"a graph has no {exc}") from None


@dataclass(frozen=True)
class SourceRecord:
    """What one configured source reported when it was imported."""

    seconds: float
    counts: Mapping[str, int]
    notes: tuple[str, ...]
    warnings: tuple[str, ...]

    @classmethod
    def from_json(cls, data: object, source: str) -> SourceRecord:
        if not isinstance(data, dict):
            raise _refuse(source, "an entry of 'sources' is not an object")
        try:
            counts = _require(data, "counts", dict, source)
            return cls(
                seconds=float(_require(data, "seconds", (int, float), source)),
                counts=MappingProxyType(dict(counts)),
                notes=_strings(data, "notes", source),
                warnings=_strings(data, "warnings", source),
            )
        except KeyError as exc:
            raise _older(source, f"a source has no {exc}") from None


@dataclass(frozen=True)
class Manifest:
    """A build's `build.json`, read and checked once: what was built, from what, when, and what
    each build step recorded.

    The pipeline writes the file as a plain dict (:func:`write_manifest`); reading goes through
    :meth:`from_json`, which refuses a manifest of another layout (:data:`MANIFEST_LAYOUT`) with
    a StoreNotFoundError that says to rebuild, so the code reading it can rely on every field.
    `steps` stays untyped: each build step records its own summary there.
    """

    layout: int
    build_id: str
    kll_graph_version: str
    started: datetime
    seconds: float
    sample: bool
    data_dir: Path
    base_iri: str
    catalog_graph: str
    triples: int
    graphs: tuple[GraphRecord, ...]
    sources: Mapping[str, SourceRecord]
    skipped_sources: tuple[str, ...]
    steps: Mapping[str, Any]
    warnings: tuple[str, ...]
    #: The build this one was made from by a mapping refresh (:mod:`kll_graph.build.refresh`):
    #: its vocabulary graphs are that build's, its mapping graphs new. None for a full build.
    refreshed_from: str | None = None

    @classmethod
    def from_json(cls, data: object, source: str = MANIFEST) -> Manifest:
        """The manifest in `data` (the parsed `build.json`); `source` names it in messages.

        >>> Manifest.from_json({"build_id": "b1", "triples": 3})
        Traceback (most recent call last):
        ...
        kll_graph.exceptions.StoreNotFoundError: build.json: built by an older kll-graph layout \
(no 'layout'); rebuild with `kll-graph build`
        """
        if not isinstance(data, dict):
            raise _refuse(source, "not a JSON object")
        if "layout" not in data:
            raise _older(source, "no 'layout'")
        layout = _require(data, "layout", int, source)
        if layout < MANIFEST_LAYOUT:
            raise _older(source, f"layout {layout}, this kll-graph reads {MANIFEST_LAYOUT}")
        if layout > MANIFEST_LAYOUT:
            raise StoreNotFoundError(
                f"{source}: built by a newer kll-graph layout ({layout}, this kll-graph reads "
                f"{MANIFEST_LAYOUT}); upgrade kll-graph, or {REBUILD}"
            )
        try:
            return cls._fields(data, layout, source)
        except KeyError as exc:
            raise _older(source, f"no {exc}") from None

    @classmethod
    def _fields(cls, data: dict[str, Any], layout: int, source: str) -> Manifest:
        started = _require(data, "started", str, source)
        try:
            when = datetime.fromisoformat(started)
        except ValueError:
            raise _refuse(source, f"'started' is not a date and time: {started!r}") from None
        if when.tzinfo is None:
            raise _refuse(source, f"'started' has no time zone: {started!r}")
        graphs = _require(data, "graphs", list, source)
        sources = _require(data, "sources", dict, source)
        steps = _require(data, "steps", dict, source)
        return cls(
            layout=layout,
            build_id=_require(data, "build_id", str, source),
            kll_graph_version=_require(data, "kll_graph_version", str, source),
            started=when,
            seconds=float(_require(data, "seconds", (int, float), source)),
            sample=_require(data, "sample", bool, source),
            data_dir=Path(_require(data, "data_dir", str, source)),
            base_iri=_require(data, "base_iri", str, source),
            catalog_graph=_require(data, "catalog_graph", str, source),
            triples=_require(data, "triples", int, source),
            graphs=tuple(GraphRecord.from_json(g, source) for g in graphs),
            sources=MappingProxyType(
                {str(k): SourceRecord.from_json(v, source) for k, v in sources.items()}
            ),
            skipped_sources=_strings(data, "skipped_sources", source),
            steps=MappingProxyType(dict(steps)),
            warnings=_strings(data, "warnings", source),
            refreshed_from=(
                _require(data, "refreshed_from", str, source) if "refreshed_from" in data else None
            ),
        )

    @property
    def finished(self) -> datetime:
        """When the build finished (its start plus its duration), to the second, in UTC."""
        end = self.started + timedelta(seconds=self.seconds)
        return end.astimezone(UTC).replace(microsecond=0)


def read_manifest(build_dir: Path) -> Manifest:
    """The manifest of a finished build (StoreNotFoundError saying to rebuild when it is of
    another layout or unreadable)."""
    path = build_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _refuse(str(path), f"unreadable build manifest ({exc})") from None
    return Manifest.from_json(data, str(path))


def write_manifest(build_dir: Path, manifest: Mapping[str, Any]) -> None:
    """Write a manifest (atomically), with the layout it has (:data:`MANIFEST_LAYOUT` if none)."""
    data = {"layout": MANIFEST_LAYOUT, **manifest}
    tmp = build_dir / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, build_dir / MANIFEST)


class GraphStore(Protocol):
    """What the read paths ask of a graph: the part of pyoxigraph's Store they use.

    Two implementations: the embedded :class:`pyoxigraph.Store` of a build (the default) and a
    remote SPARQL 1.1 endpoint (:class:`kll_graph.sparql.remote.RemoteStore`), so every surface
    reads the same way whether the graph is in this process or on replicas.
    """

    def query(
        self,
        query: str,
        /,
        *,
        base_iri: str | None = None,
        prefixes: dict[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: NamedNode
        | BlankNode
        | DefaultGraph
        | list[NamedNode | BlankNode | DefaultGraph]
        | None = None,
        named_graphs: list[NamedNode | BlankNode] | None = None,
        substitutions: dict[Variable, NamedNode | BlankNode | Literal | Triple] | None = None,
    ) -> QuerySolutions | QueryBoolean | QueryTriples: ...

    def quads_for_pattern(
        self,
        subject: NamedNode | BlankNode | Triple | None,
        predicate: NamedNode | None,
        object: NamedNode | BlankNode | Literal | Triple | None,
        graph_name: NamedNode | BlankNode | DefaultGraph | None = None,
        /,
    ) -> Iterator[Quad]: ...


def open_build(build_dir: Path) -> Store:
    """Open a finished build's Oxigraph store read-only."""
    return Store.read_only(str(build_dir / OXIGRAPH_DIR))


class _Memo:
    """Values computed once per key, for as long as the owning ServedBuild lives.

    A lock per key: the first caller computes while the others asking for the same key wait
    for its value (other keys are not held up). A `make` that raises stores nothing, so the
    next caller tries again. `make` must not ask for its own key (that would deadlock).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._values: dict[str, object] = {}

    def get(self, key: str, make: Callable[[], T]) -> T:
        try:
            return cast(T, self._values[key])
        except KeyError:
            pass
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            if key in self._values:
                return cast(T, self._values[key])
            value = make()
            self._values[key] = value
            return value


@dataclass(frozen=True)
class ServedBuild:
    """One opened build: its read-only store, directory and manifest.

    Values derived from one build (indexes, counts, coverage) are kept with :meth:`memo`, so
    they live exactly as long as the build is served: when a new build is switched in,
    CurrentStore drops the old ServedBuild and its memo goes with it once the last request
    holding it ends. No cache keyed by build id, no eviction to get wrong.
    """

    path: Path
    store: GraphStore
    manifest: Manifest
    _memo: _Memo = field(default_factory=_Memo, init=False, compare=False, repr=False)

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """`make()` computed once for this build and `key`, even when many threads ask at once."""
        return self._memo.get(key, make)


class BuildSource(Protocol):
    """Where an app gets the build it serves per request: :class:`CurrentStore` (the embedded
    store, following `current`) or a remote backend's one build
    (:class:`kll_graph.sparql.remote.RemoteBuilds`)."""

    def get(self) -> ServedBuild: ...


def embedded_store(served: ServedBuild) -> Store:
    """The served build's store as the embedded engine, for the work that needs the engine in
    this process (the matcher scans whole vocabularies); a remote backend is refused."""
    if not isinstance(served.store, Store):
        raise StoreNotFoundError(
            f"build {served.build_id} is read from a remote SPARQL backend here; this command "
            "needs the built store on this machine (`--store DIR`)"
        )
    return served.store


class CurrentStore:
    """The build `current` points to, reopened when a new build is switched in.

    Servers call :meth:`get` per request; while the link is unchanged it costs one readlink
    (resolving and checking the build directory takes ten times as long, so that is done only
    when the link changed). Someone holding an older ServedBuild keeps using it until they
    drop it.
    """

    def __init__(self, root: Path) -> None:
        self.layout = StoreLayout(root)
        self._lock = threading.Lock()
        self._served: ServedBuild | None = None
        self._link: str | None = None

    def get(self) -> ServedBuild:
        try:
            link: str | None = os.readlink(self.layout.current)
        except OSError:
            link = None
        served = self._served
        if served is not None and link is not None and link == self._link:
            return served
        path = self.layout.current_build()
        if path is None:
            if served is not None:
                return served
            raise StoreNotFoundError(
                f"no built store in {self.layout.root}; run `kll-graph build` first"
            )
        if served is not None and served.path == path:
            self._link = link
            return served
        with self._lock:
            if self._served is None or self._served.path != path:
                manifest = read_manifest(path)  # first: a build of another layout is not opened
                self._served = ServedBuild(path, open_build(path), manifest)
            self._link = link
            return self._served

    @property
    def store(self) -> GraphStore:
        return self.get().store
