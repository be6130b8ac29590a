"""Store lifecycle: build directories, the build lock, the atomic switch and reopening on change.

Layout under the store root (``--store``, ``$KLL_STORE``, ``./var/store``)::

    builds/<build-id>/oxigraph/   the Oxigraph store, written once by a build, then only read
    builds/<build-id>/build.json  the build manifest (graphs, counts, timings)
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from pyoxigraph import Store

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


@contextlib.contextmanager
def build_lock(layout: StoreLayout) -> Iterator[None]:
    """Hold the build lock; a second build gets a clear BuildLockedError at once.

    flock is released by the kernel when the holder dies, even by SIGKILL, so a killed build
    never leaves a stale lock behind.
    """
    layout.root.mkdir(parents=True, exist_ok=True)
    with layout.lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BuildLockedError(
                f"another build is running on {layout.root} ({holder}); "
                "wait for it to finish, then build again"
            ) from None
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


def prune(layout: StoreLayout, keep: int) -> list[Path]:
    """Remove all but the newest `keep` finished builds (never the current one) and partials.

    Call only while holding the build lock: a partial directory is then certainly dead.
    """
    current = layout.current_build()
    removed: list[Path] = []
    for partial in layout.partial_builds():
        shutil.rmtree(partial, ignore_errors=True)
        removed.append(partial)
    finished = layout.finished_builds()
    old = finished[: max(len(finished) - max(keep, 1), 0)]
    for build in old:
        if current is not None and build.resolve() == current:
            continue
        shutil.rmtree(build, ignore_errors=True)
        removed.append(build)
    return removed


def read_manifest(build_dir: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    return manifest


def write_manifest(build_dir: Path, manifest: dict[str, Any]) -> None:
    tmp = build_dir / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, build_dir / MANIFEST)


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
    store: Store
    manifest: dict[str, Any]
    _memo: _Memo = field(default_factory=_Memo, init=False, compare=False, repr=False)

    @property
    def build_id(self) -> str:
        return str(self.manifest["build_id"])

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """`make()` computed once for this build and `key`, even when many threads ask at once."""
        return self._memo.get(key, make)


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
                self._served = ServedBuild(path, open_build(path), read_manifest(path))
            self._link = link
            return self._served

    @property
    def store(self) -> Store:
        return self.get().store
