"""Query worker processes: user SPARQL runs here, where it can be stopped for real.

A query running inside the server process cannot be stopped: the engine holds no cancellation
point, and a thread cannot be killed. So every user query runs in a worker process that opens the
build it is given read-only (`store.open_build`), runs the query, and streams the serialized
result back through a pipe in chunks. The server-side :class:`WorkerPool` enforces the limits:

* **Time.** A monitor thread kills (SIGKILL) a worker whose query passed its wall-clock deadline;
  the CPU is free at once, and a fresh worker replaces it. As a second line, each worker sets its
  own RLIMIT_CPU per query, so even a worker whose server died cannot spin forever.
* **Memory.** Each worker limits its data segment (RLIMIT_DATA) to `query_memory_mb`; a query that
  needs more fails its allocation and the worker dies, which the pool reports as a memory error.
* **Fairness.** A query starts in one of `light_lanes` lanes. When it has run `heavy_after`
  seconds it counts as heavy: its lane is freed for new queries, its priority is lowered (nice),
  and it takes one of `heavy_slots` slots. Heavy queries beyond the slots are paused (SIGSTOP) in
  order of arrival until a slot frees, and beyond `max_parked` paused ones they are refused. So
  however many heavy queries run, new short queries always find a lane and the CPU.

Protocol on the pipe (worker to server), each message one `send_bytes`: ``M``+meta once the result
is complete or collected, then ``C``+bytes chunks, then ``E``; a result that fits one chunk as one
``R`` message (meta, body); or ``X``+JSON error. The meta is one byte: ``1`` when the row limit
cut the result, ``0`` when not.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pyoxigraph import QuerySolutions

from kll_graph import exceptions
from kll_graph.exceptions import (
    KllError,
    QueryBusyError,
    QueryCrashError,
    QueryFailedError,
    QueryMemoryError,
    QueryTimeoutError,
    SandboxError,
)
from kll_graph.sparql.formats import FORMATS, collect, write, write_native
from kll_graph.sparql.query import Dataset, execute
from kll_graph.sparql.sandbox import deny_network, network_denied
from kll_graph.store import open_build

#: Bytes a worker gathers before it sends a chunk.
CHUNK_BYTES = 64 * 1024
#: Stack of the thread that runs queries: the engine parses and evaluates recursively, and the
#: query guard's limits keep its depth well within this (about 8x the default 8 MiB).
STACK_BYTES = 64 << 20
#: The exit code of a worker that ran out of memory in Python (the engine aborts instead).
_EXIT_MEMORY = 3
#: What the engine prints when an allocation fails under the worker's memory limit.
_ALLOCATION_FAILED = b"memory allocation of"
#: Extra seconds the reader waits past the deadline for the monitor's kill to show.
_GRACE = 1.0
_TICK = 0.05


@dataclass(frozen=True)
class QueryJob:
    """One query for a worker: the text, its dataset, the build to run on, format and limits."""

    query: str
    build_path: str
    format_name: str
    max_results: int
    timeout: float
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    prefixes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ResultMeta:
    """What the worker reports before the body: whether the row limit cut the result."""

    truncated: bool


_TRUNCATED, _NOT_TRUNCATED = b"1", b"0"


# --- the worker process -------------------------------------------------------------------------


class _PipeWriter:
    """A binary writer that sends what it is given to the server in chunks.

    A result that fits in one chunk goes as one ``R`` message (meta and body together), which
    saves the server two wake-ups per small query; a larger one as ``M``, ``C``... and ``E``.
    """

    def __init__(self, conn: Connection, meta: bytes) -> None:
        self.conn = conn
        self.meta = meta
        self.started = False
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if not self.buffer:
            return
        if not self.started:
            self.conn.send_bytes(b"M" + self.meta)
            self.started = True
        self.conn.send_bytes(b"C" + bytes(self.buffer))
        self.buffer.clear()

    def finish(self) -> None:
        if self.started:
            self.flush()
            self.conn.send_bytes(b"E")
        else:
            self.conn.send_bytes(b"R" + self.meta + bytes(self.buffer))


def _limit_memory(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _limit_cpu(seconds: float) -> None:
    """Let this process use `seconds` more CPU time, then be killed by the kernel (SIGXCPU)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 2
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


class _Stores:
    """The one build a worker has open, reopened when a job names another."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.store: Any = None

    def get(self, path: str) -> Any:

        if path != self.path:
            self.store = None
            self.store = open_build(Path(path))
            self.path = path
        return self.store


def _send_error(conn: Connection, exc: KllError) -> None:
    body = {"class": type(exc).__name__, "message": str(exc)}
    parameter = getattr(exc, "parameter", None)
    if parameter:
        body["parameter"] = parameter
    conn.send_bytes(b"X" + json.dumps(body).encode("utf-8"))


def _execute(store: Any, job: QueryJob) -> Any:

    return execute(
        store,
        job.query,
        Dataset(job.default_graphs, job.named_graphs),
        prefixes=dict(job.prefixes) or None,
    )


def _run_job(conn: Connection, job: QueryJob, stores: _Stores) -> None:
    """Answer one job: the engine writes a result within the row limit and a few MiB itself; a
    bigger one (or a graph, or a boolean) is collected up to the row limit and written in
    chunks. Every error of the engine or a writer is reported as one, never a dead worker."""
    _limit_cpu(job.timeout)
    try:
        store = stores.get(job.build_path)
    except OSError as exc:
        _send_error(conn, KllError(f"the store could not be read: {exc}"))
        return
    try:
        _answer(conn, job, store)
    except KllError as exc:
        _send_error(conn, exc)
    except (MemoryError, BrokenPipeError, EOFError):
        raise
    except Exception as exc:  # an engine or writer error we did not foresee: say what it was
        _send_error(conn, QueryFailedError(f"the query failed: {type(exc).__name__}: {exc}"))


def _answer(conn: Connection, job: QueryJob, store: Any) -> None:

    result = _execute(store, job)
    if isinstance(result, QuerySolutions):
        fmt = next(f for f in FORMATS if f.name == job.format_name and f.kind == "solutions")
        whole = write_native(result, fmt, job.max_results)
        if whole is not None:
            writer = _PipeWriter(conn, _NOT_TRUNCATED)
            writer.write(whole)
            writer.finish()
            return
        # Over the row limit or too big to hold: run it again, collecting up to the limit.
        result = _execute(store, job)
    collected = collect(result, job.max_results)
    fmt = next(f for f in FORMATS if f.name == job.format_name and f.kind == collected.kind)
    # An error half-way sends ``X`` after the chunks so far; the server ends the response there.
    writer = _PipeWriter(conn, _TRUNCATED if collected.truncated else _NOT_TRUNCATED)
    write(collected, fmt, writer)  # type: ignore[arg-type]  # needs write, flush only
    writer.finish()


def worker_main(conn: Connection, memory_mb: int, warm_path: str | None) -> None:
    """The worker: no network (or no queries at all), limited memory, then the job loop on a
    thread with a large stack."""
    refusal: SandboxError | None = None
    try:
        deny_network()
        if not network_denied():
            raise SandboxError("the seccomp filter is in place but sockets can still be made")
    except SandboxError as exc:
        refusal = exc
    _limit_memory(memory_mb)
    threading.stack_size(STACK_BYTES)
    loop = threading.Thread(target=_serve, args=(conn, warm_path, refusal), name="kll-query")
    loop.start()
    loop.join()


def _serve(conn: Connection, warm_path: str | None, refusal: SandboxError | None) -> None:
    """Run jobs until told to stop; where the network could not be cut off, refuse each."""
    stores = _Stores()
    if warm_path and refusal is None:
        with contextlib.suppress(Exception):
            stores.get(warm_path)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        if refusal is not None:
            _send_error(conn, SandboxError(f"SPARQL queries are off on this server: {refusal}"))
            continue
        try:
            _run_job(conn, job, stores)
        except MemoryError:
            with contextlib.suppress(Exception):
                _send_error(conn, QueryMemoryError("out of memory"))
            os._exit(_EXIT_MEMORY)
        except (BrokenPipeError, EOFError):
            return


# --- the server side -----------------------------------------------------------------------------


class _Worker:
    """One worker process (a fresh interpreter) and the server's end of its socket."""

    def __init__(self, memory_mb: int, warm_path: str | None) -> None:
        server_sock, worker_sock = socket.socketpair()
        try:
            command = [
                sys.executable,
                "-m",
                __name__,  # this module: its `__main__` block is the worker
                str(worker_sock.fileno()),
                str(memory_mb),
                warm_path or "",
            ]
            env = {**os.environ, "RUST_BACKTRACE": "0"}
            #: What the worker printed (the engine's last words when it dies), to tell a
            #: failed allocation from a crash.
            self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by kill())
            self.process = subprocess.Popen(
                command,
                pass_fds=(worker_sock.fileno(),),
                stdin=subprocess.DEVNULL,
                stderr=self.stderr,
                env=env,
            )
        finally:
            worker_sock.close()
        self.conn = Connection(server_sock.detach())
        self.reniced = False
        self.dead = False

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """Stop the process at once (a paused one too) and reap it."""
        if not self.dead:
            self.dead = True
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.conn.close()
            self.stderr.close()

    def exit_code(self) -> int | None:
        try:
            return self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def last_words(self, limit: int = 4096) -> bytes:
        """The end of what the worker printed to stderr."""
        with contextlib.suppress(OSError, ValueError):
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(size - limit, 0))
            return self.stderr.read()
        return b""


@dataclass(eq=False)
class _Lease:
    """A query running on a worker."""

    worker: _Worker
    job: QueryJob
    started: float
    deadline: float
    state: str = "light"  # light, heavy, parked, done
    stop_reason: str | None = None  # timeout or busy, when the pool stopped it
    waited: float = 0.0


@dataclass
class PoolStats:
    """A snapshot of the pool, for tests and the health page."""

    idle: int
    light: int
    heavy: int
    parked: int
    #: Processes running (or paused in) a query, and idle ones.
    busy_pids: list[int] = field(default_factory=list)
    idle_pids: list[int] = field(default_factory=list)


class WorkerPool:
    """Worker processes that run user queries within time and memory limits (see module doc)."""

    def __init__(
        self,
        *,
        memory_mb: int,
        heavy_slots: int = 2,
        light_lanes: int | None = None,
        heavy_after: float = 1.0,
        max_parked: int | None = None,
        warm_path: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.memory_mb = memory_mb
        self.heavy_slots = max(heavy_slots, 1)
        self.light_lanes = light_lanes or max(2, self.heavy_slots)
        self.heavy_after = heavy_after
        self.max_parked = self.heavy_slots * 4 if max_parked is None else max_parked
        self.warm_path = warm_path
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._leases: set[_Lease] = set()
        self._parked: collections.deque[_Lease] = collections.deque()
        self._light = 0
        self._heavy = 0
        self._spawning = 0
        self._started = False
        self._closed = False
        self._spawn_lock = threading.Lock()

    # -- lifecycle --

    def start(self) -> None:
        """Start the monitor and the first idle workers (done on first use otherwise)."""
        with self._cond:
            if self._started or self._closed:
                return
            self._started = True
        threading.Thread(target=self._monitor, name="kll-sparql-monitor", daemon=True).start()
        self._replenish()

    def close(self) -> None:
        """Stop every worker; running queries end with an error."""
        with self._cond:
            self._closed = True
            workers = list(self._idle) + [lease.worker for lease in self._leases]
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.kill()

    def stats(self) -> PoolStats:
        with self._cond:
            return PoolStats(
                len(self._idle),
                self._light,
                self._heavy,
                len(self._parked),
                busy_pids=[lease.worker.pid for lease in self._leases],
                idle_pids=[w.pid for w in self._idle],
            )

    def _spawn(self) -> _Worker:
        with self._spawn_lock:
            return _Worker(self.memory_mb, self.warm_path())

    def _replenish(self) -> None:
        """Keep as many idle workers as there are light lanes, started in the background."""
        with self._cond:
            missing = self.light_lanes - len(self._idle) - self._spawning
            if self._closed or missing <= 0:
                return
            self._spawning += missing

        def spawn_some(count: int) -> None:
            for _ in range(count):
                worker: _Worker | None = None
                try:
                    worker = self._spawn()
                finally:
                    with self._cond:
                        self._spawning -= 1
                        if worker is not None and not self._closed:
                            self._idle.append(worker)
                            self._cond.notify_all()
                        elif worker is not None:
                            worker.kill()

        threading.Thread(target=spawn_some, args=(missing,), daemon=True).start()

    # -- running a query --

    def run(self, job: QueryJob) -> QueryStream:
        """Start a query; returns once the worker reports the result's size (or raises).

        Errors: QueryError and friends as the worker raised them, QueryTimeoutError at the
        deadline, QueryMemoryError when the worker ran out of memory, QueryBusyError when no
        lane freed up within the time limit or too many heavy queries are waiting.
        """
        self.start()
        lease = self._acquire(job)
        try:
            self._send(lease)
            meta, whole = self._first(lease)
        except BaseException:
            self._finish(lease, reusable=False)
            raise
        return QueryStream(self, lease, meta, whole)

    def _acquire(self, job: QueryJob) -> _Lease:
        begun = time.monotonic()
        deadline = begun + job.timeout
        with self._cond:
            while self._light >= self.light_lanes:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise QueryBusyError(
                        f"every query lane stayed busy for the whole time limit "
                        f"({job.timeout:g} s); try again shortly"
                    )
                self._cond.wait(remaining)
            self._light += 1
            worker = self._idle.pop() if self._idle else None
        try:
            if worker is None:
                worker = self._spawn()
        except BaseException:
            with self._cond:
                self._light -= 1
                self._cond.notify_all()
            raise
        now = time.monotonic()
        lease = _Lease(worker, job, started=now, deadline=deadline, waited=now - begun)
        with self._cond:
            self._leases.add(lease)
        self._replenish()
        return lease

    def _send(self, lease: _Lease) -> None:
        try:
            lease.worker.conn.send(lease.job)
        except (BrokenPipeError, OSError):
            # The idle worker had died (e.g. killed from outside): use a new one.
            lease.worker.kill()
            lease.worker = self._spawn()
            lease.worker.conn.send(lease.job)

    def _recv(self, lease: _Lease) -> bytes:
        conn = lease.worker.conn
        remaining = lease.deadline - time.monotonic() + _GRACE
        try:
            if conn.poll(max(remaining, 0.0)):
                return conn.recv_bytes()
        except (EOFError, OSError):
            pass
        else:
            # The monitor should have stopped it; make sure.
            with self._cond:
                lease.stop_reason = lease.stop_reason or "timeout"
        raise self._failure(lease)

    def _failure(self, lease: _Lease) -> KllError:
        """The error for a worker that went away mid-query, and the lease closed."""
        reason = lease.stop_reason
        code = None if reason else lease.worker.exit_code()
        words = b"" if reason else lease.worker.last_words()
        self._finish(lease, reusable=False)
        limit = lease.job.timeout
        if reason == "timeout" or code == -signal.SIGXCPU:
            return QueryTimeoutError(
                f"the query ran longer than the limit of {limit:g} s and was stopped; "
                "narrow it (more specific patterns, a LIMIT) and try again"
            )
        if reason == "busy":
            return QueryBusyError(
                "too many long-running queries are waiting already, so this one was stopped; "
                "try again shortly"
            )
        if reason == "closed":
            return QueryBusyError("the query service is shutting down")
        if code == _EXIT_MEMORY or _ALLOCATION_FAILED in words:
            return QueryMemoryError(
                f"the query needed more memory than the limit of {self.memory_mb} MiB and was "
                "stopped; narrow it, or drop ORDER BY / DISTINCT over very many rows"
            )
        return QueryCrashError(
            f"the query engine crashed on this query ({_describe_exit(code)}); the worker was "
            "replaced. Please report the query as a bug"
        )

    def _first(self, lease: _Lease) -> tuple[ResultMeta, bytes | None]:
        """The result's meta, and its whole body when it came in one message."""
        message = self._recv(lease)
        tag, body = message[:1], message[1:]
        if tag == b"M":
            return ResultMeta(body[:1] == _TRUNCATED), None
        if tag == b"R":
            self._finish(lease, reusable=True)
            return ResultMeta(body[:1] == _TRUNCATED), body[1:]
        if tag == b"X":
            error = _error_from(json.loads(body))
            self._finish(lease, reusable=not isinstance(error, QueryMemoryError))
            raise error
        raise RuntimeError(f"query worker sent an unexpected message {tag!r}")

    def _chunks(self, lease: _Lease) -> Iterator[bytes]:
        """The result's chunks, one read ahead: the worker is back in the pool before the last
        chunk is handed on, as servers need not ask for more after the last one."""
        pending: bytes | None = None
        while True:
            message = self._recv(lease)
            tag = message[:1]
            if tag == b"C":
                if pending is not None:
                    yield pending
                pending = message[1:]
            elif tag == b"E":
                self._finish(lease, reusable=True)
                if pending is not None:
                    yield pending
                return
            elif tag == b"X":  # the writer failed half-way: the response cannot be completed
                self._finish(lease, reusable=True)
                raise _error_from(json.loads(message[1:]))
            else:
                raise RuntimeError(f"query worker sent an unexpected message {tag!r}")

    def _finish(self, lease: _Lease, *, reusable: bool) -> None:
        """Close a lease: free its lane or slot, return or stop its worker."""
        with self._cond:
            stop = self._finish_locked(lease, reusable=reusable)
        if stop is not None:
            stop.kill()
            self._replenish()

    def _finish_locked(self, lease: _Lease, *, reusable: bool) -> _Worker | None:
        """The bookkeeping of :meth:`_finish`; returns the worker to stop, if any."""
        if lease.state == "done":
            return None
        self._leases.discard(lease)
        if lease.state == "light":
            self._light -= 1
        elif lease.state == "heavy":
            self._heavy -= 1
            self._unpark_next()
        elif lease.state == "parked":
            with contextlib.suppress(ValueError):
                self._parked.remove(lease)
        lease.state = "done"
        self._cond.notify_all()
        keep = (
            reusable
            and not lease.worker.reniced
            and not self._closed
            and len(self._idle) < self.light_lanes + self.heavy_slots
        )
        if keep:
            self._idle.append(lease.worker)
            return None
        return lease.worker

    # -- the monitor --

    def _monitor(self) -> None:
        while True:
            time.sleep(_TICK)
            to_stop: list[_Worker] = []
            with self._cond:
                if self._closed:
                    return
                now = time.monotonic()
                for lease in list(self._leases):
                    stop = False
                    if now >= lease.deadline:
                        lease.stop_reason = "timeout"
                        stop = True
                    elif lease.state == "light" and now - lease.started >= self.heavy_after:
                        stop = not self._promote(lease)
                    if stop:
                        worker = self._finish_locked(lease, reusable=False)
                        if worker is not None:
                            to_stop.append(worker)
            # Killed here, not by the reader, so the CPU is freed even when nobody reads.
            for worker in to_stop:
                worker.kill()
            if to_stop:
                self._replenish()

    def _promote(self, lease: _Lease) -> bool:
        """A light query turned heavy: free its lane, lower its priority, give it a slot or park
        it. False when it must be stopped instead (too many waiting)."""
        self._light -= 1
        self._cond.notify_all()
        lease.worker.reniced = True
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, lease.worker.pid, 10)
        if self._heavy < self.heavy_slots:
            lease.state = "heavy"
            self._heavy += 1
            return True
        if len(self._parked) < self.max_parked:
            lease.state = "parked"
            lease.worker.signal(signal.SIGSTOP)
            self._parked.append(lease)
            return True
        lease.state = "busy"
        lease.stop_reason = "busy"
        return False

    def _unpark_next(self) -> None:
        while self._parked:
            lease = self._parked.popleft()
            if lease.state != "parked":
                continue
            lease.state = "heavy"
            self._heavy += 1
            lease.worker.signal(signal.SIGCONT)
            return


def _describe_exit(code: int | None) -> str:
    """A worker's exit status in words: 'signal SIGSEGV', 'exit code 1'."""
    if code is None:
        return "no exit status"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"exit code {code}"


def _error_from(body: dict[str, Any]) -> KllError:
    """Rebuild the KllError a worker reported."""
    cls = getattr(exceptions, str(body.get("class")), None)
    message = str(body.get("message", "query failed"))
    if isinstance(cls, type) and issubclass(cls, exceptions.BadRequestError):
        return cls(message, parameter=body.get("parameter"))
    if isinstance(cls, type) and issubclass(cls, KllError):
        with contextlib.suppress(TypeError):
            return cls(message)
    return KllError(message)


class QueryStream:
    """The running result of one query: its meta now, its bytes as they come.

    Iterate to receive chunks; the worker goes back to the pool at the end. Closing early (the
    client went away) stops the worker, as the rest of its output cannot be skipped cheaply.
    """

    def __init__(
        self, pool: WorkerPool, lease: _Lease, meta: ResultMeta, whole: bytes | None = None
    ) -> None:
        self._pool = pool
        self._lease = lease
        self.meta = meta
        self._iterator: Iterator[bytes] = (
            iter([whole]) if whole is not None else pool._chunks(lease)
        )

    def __iter__(self) -> Iterator[bytes]:
        return self._iterator

    def read(self) -> bytes:
        return b"".join(self._iterator)

    def close(self) -> None:
        if self._lease.state != "done":
            self._lease.worker.kill()
            self._pool._finish(self._lease, reusable=False)

    @property
    def worker_pid(self) -> int:
        return self._lease.worker.pid


def _main(argv: list[str]) -> None:
    """Entry point of a worker process: `python -m kll_graph.sparql.workers FD MEMORY_MB [PATH]`."""
    fd, memory_mb = int(argv[0]), int(argv[1])
    warm_path = argv[2] if len(argv) > 2 and argv[2] else None
    worker_main(Connection(fd), memory_mb, warm_path)


if __name__ == "__main__":
    _main(sys.argv[1:])
