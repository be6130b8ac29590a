"""A whole deployment on one machine: engine replicas, app processes and HAProxy, on free ports.

What `make cluster` runs (through `deploy/cluster.py`), and what the replica tests and
`benchmarks/bench_cluster.py` start. A *generation* is one build served end to end: its replicas
(loaded from the build's dump, network closed), an HAProxy section in front of them, and app
processes reading that build (through the replicas when `kll-graph serve --backend` is there,
else from the store). The public frontend routes to the apps of exactly one generation, so no
response mixes builds.

Switching to a new build (:meth:`Cluster.switch`) never stops serving: the new generation is
started beside the old one and smoke-tested (counts checked when loading, build id asked of
every replica by SPARQL, `/-/health` of every app), then HAProxy is reloaded with the new apps
(its old worker finishes the requests it holds: the drain), and only then is the old generation
stopped.

With `direct_sparql`, the public `/sparql` goes from HAProxy straight to the public generation's
replicas (`backend sparql_direct`) after the pre-filter `deploy/sparql_prefilter.lua`, which
applies the apps' limits and refusals cheaply and leaves every case it is unsure of to the apps
(docs/deploy.md, "The direct path"). The replicas cannot connect anywhere and only read, so the
pre-filter is a second line, not the one safety rests on.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from kll_graph.exceptions import ReplicaError
from kll_graph.namespaces import PREFIXES, kll
from kll_graph.replica.dump import DumpManifest, write_dump
from kll_graph.replica.launch import spawn_replica, wait_for_url, wait_until_answering
from kll_graph.replica.load import load_dump
from kll_graph.settings import Settings, load_settings
from kll_graph.sparql.query import default_dataset, named_query
from kll_graph.sparql.remote import request_prologue
from kll_graph.store import StoreLayout, open_build

#: The HAProxy configuration template shipped in deploy/ (read from the repository checkout).
TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "haproxy.cfg.tmpl"
#: The pre-filter of the direct SPARQL path, loaded by HAProxy (`lua-load`).
PREFILTER = TEMPLATE.with_name("sparql_prefilter.lua")
#: Seconds HAProxy gives a replica beyond the engine's own query limit before it closes the
#: connection (`timeout server` of the direct path: the engine should have answered by then).
DIRECT_GRACE = 2
#: Queries one replica may be sent within one engine time limit on the direct path. The engine
#: (oxigraph 0.5.13 with --timeout-s) starts a thread for every query that lives for the whole
#: limit, however quick the query, with about four memory mappings each: past vm.max_map_count
#: (65,530 by default) it cannot start a thread and aborts. Measured: about 1,800 queries/s for
#: 10 s killed a replica; 390/s held 3,146 threads and 12,676 mappings. This keeps a replica
#: at half the default limit; more are answered 503 `busy` at once (docs/deploy.md).
DIRECT_QUERIES_PER_LIMIT = 8000
#: Global lines of the direct path: the pre-filter, and buffers that hold a request while the
#: pre-filter rewrites it (a query of up to 16 KiB goes direct; longer ones through the apps).
DIRECT_GLOBAL = "    lua-load {lua}\n    tune.bufsize 65536\n    tune.maxrewrite 16384"
#: The direct path's backend. `timeout server` closes a replica connection that stays silent
#: past the engine's limit (a 504 to the client; the engine may go on computing, see
#: docs/deploy.md). Only requests that never reached a replica, or that one dropped without an
#: answer, are retried on the other: a query that ran into its time limit is not run twice.
DIRECT_BACKEND = """backend sparql_direct
    balance leastconn
    # connections to the replicas are kept open and reused (the apps' sections close them)
    option http-keep-alive
    timeout server {timeout}
    # at most {cap} queries per engine time limit across the replicas (DIRECT_QUERIES_PER_LIMIT)
    # (only queries let through count, so a flood does not shut out everyone else)
    stick-table type integer size 1 expire {window}s store http_req_rate({window}s)
{busy} if {{ int(1),table_http_req_rate(sparql_direct) ge {cap} }}
    http-request track-sc0 int(1)
    retry-on conn-failure empty-response
    option httpchk
    http-check send meth GET uri /query?query=ASK%7B%7D ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    http-response set-header X-KLL-Replica %s
    http-response del-header Server
{engine_errors}
    http-response set-header Access-Control-Allow-Origin "*"
    http-response set-header Access-Control-Expose-Headers "X-KLL-Build, X-KLL-Replica"
{errors}
{servers}
"""
#: Seconds HAProxy waits between health checks; three failures take a server out, two passes
#: bring it back (deploy/haproxy.cfg.tmpl).
CHECK_INTERVAL = 1.0


#: HAProxy's own answers on the direct path, in the apps' JSON error shape (web/errors.py).
DIRECT_ERRORS = {
    504: ("timeout", "the query ran longer than the time limit; make it more selective"),
    503: ("backend_unavailable", "no engine replica is available; try again shortly"),
}


def http_error_line(status: int, code: str, message: str) -> str:
    """An `http-error` directive answering `status` with the JSON error shape."""
    body = json.dumps({"error": {"status": status, "code": code, "message": message}})
    return f"    http-error status {status} content-type application/json string '{body}'"


#: The engine's own errors (plain text) as the apps' JSON error shape, its message kept.
ENGINE_ERRORS = {
    400: "query",
    406: "not_acceptable",
    415: "unsupported_media_type",
    500: "query_failed",
}


def engine_error_lines() -> str:
    """Rules that wrap an engine error's text in the JSON error shape (the bodies are short:
    HAProxy waits for them, at most a second)."""
    statuses = " ".join(str(s) for s in ENGINE_ERRORS)
    lines = [
        f"    http-response wait-for-body time 1s if {{ status {statuses} }}",
        f"    http-response set-var(txn.engine_error) res.body,json(utf8s) "
        f"if {{ status {statuses} }}",
    ]
    for status, code in ENGINE_ERRORS.items():
        body = (
            f'{{"error": {{"status": {status}, "code": "{code}", '
            f'"message": "%[var(txn.engine_error)]"}}}}'
        )
        lines.append(
            f"    http-response return status {status} content-type application/json "
            f"lf-string '{body}' hdr X-KLL-Replica %s if {{ status {status} }}"
        )
    return "\n".join(lines)


#: The direct path's answer when the replicas have had their share of queries (see
#: DIRECT_QUERIES_PER_LIMIT): the app's 503 `busy`, with Retry-After.
DIRECT_BUSY = (
    "    http-request return status 503 content-type application/json string '{}' hdr Retry-After 1"
).format(
    json.dumps(
        {
            "error": {
                "status": 503,
                "code": "busy",
                "message": "the SPARQL endpoint is answering as many queries as it can; "
                "try again in a second",
            }
        }
    )
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], wait: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited after `wait` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Part:
    """One process of the cluster: its role, name in HAProxy, address and process."""

    role: str
    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class Generation:
    """One build served end to end (see the module doc)."""

    build_id: str
    dump: Path
    replica_port: int
    #: Percent-encoded Protocol parameters giving the engine the embedded store's dataset when a
    #: query names none ("-": none, the replicas' own default graph is that dataset).
    dataset: str = "-"
    replicas: list[Part] = field(default_factory=list)
    apps: list[Part] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return "g" + "".join(c for c in self.build_id if c.isalnum())

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.replica_port}/query"


def app_backend_supported() -> bool:
    """Whether this kll-graph's `serve` reads from remote replicas (`--backend`)."""
    done = subprocess.run(
        [sys.executable, "-m", "kll_graph", "serve", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "--backend" in done.stdout


class Cluster:
    """Replicas, apps and HAProxy under `work` (logs, config, replica stores, dumps, state)."""

    def __init__(
        self,
        work: Path,
        store: Path,
        *,
        replicas: int = 2,
        apps: int = 2,
        timeout_s: float = 10.0,
        port: int = 0,
        use_backend: bool | None = None,
        direct_sparql: bool = False,
        direct_queries_per_limit: int = DIRECT_QUERIES_PER_LIMIT,
        settings: Settings | None = None,
    ) -> None:
        self.work = work.resolve()
        self.store = store.resolve()
        self.replica_count = replicas
        self.app_count = apps
        self.timeout_s = timeout_s
        self.port = port or free_port()
        self.use_backend = app_backend_supported() if use_backend is None else use_backend
        self.direct_sparql = direct_sparql
        self.direct_queries_per_limit = direct_queries_per_limit
        #: Limits and prefixes the pre-filter applies as the apps do (the apps read the same).
        self.settings = settings or load_settings()
        self.generations: list[Generation] = []
        #: The generation whose apps the public frontend routes to.
        self.public: Generation | None = None
        self.haproxy: subprocess.Popen[bytes] | None = None
        self.logs = self.work / "logs"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def current(self) -> Generation:
        return self.generations[-1]

    # -- starting and stopping ------------------------------------------------------------

    def start(self) -> None:
        """Serve the store's current build: replicas, apps, HAProxy in front."""
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            generation = self._start_generation(self._dump())
            self.generations.append(generation)
            self.public = generation
            self._write_config()
            if self.haproxy is None:
                self._start_haproxy()
            else:
                self._reload_haproxy()
            wait_for_url(f"{self.url}/-/health", 30)
            self._save_state()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop everything: HAProxy first (no new requests), then apps, then replicas."""
        if self.haproxy is not None:
            stop_process(self.haproxy)
            self.haproxy = None
        for generation in self.generations:
            self._stop_generation(generation)
        self.generations.clear()
        self.public = None
        with contextlib.suppress(FileNotFoundError):
            (self.work / "cluster.json").unlink()

    def switch(self) -> bool:
        """Serve the store's current build if it is not the one served (module doc); False when
        it already is. On any failure before the reload the old generation keeps serving."""
        dump = self._dump()
        if dump.build_id == self.current.build_id:
            return False
        old = self.current
        new = self._start_generation(dump)
        self.generations.append(new)
        self.public = new
        try:
            self._write_config()
            self._reload_haproxy()
        except BaseException:
            self.generations.remove(new)
            self.public = old
            self._stop_generation(new)
            self._write_config()
            raise
        # Drain: requests the old apps hold finish; HAProxy stops sending them new ones.
        time.sleep(2 * CHECK_INTERVAL)
        self.generations.remove(old)
        self._write_config()
        self._reload_haproxy()
        self._stop_generation(old)
        self._save_state()
        return True

    def restart(self, part: Part) -> None:
        """Start a part again on its own port (after it died); HAProxy's health check takes it
        back into rotation within two check intervals."""
        stop_process(part.proc)
        generation = next(g for g in self.generations if part in [*g.replicas, *g.apps])
        if part.role == "replica":
            location = self.work / "replicas" / generation.build_id
            log = self.logs / f"replica-{part.name}.log"
            part.proc = spawn_replica(location, part.address, self.timeout_s, log=log)
        else:
            part.proc = self._start_app(generation, 0, port=part.port).proc
        self._save_state()

    # -- generations -----------------------------------------------------------------------

    def _dump(self) -> DumpManifest:
        build = StoreLayout(self.store).current_build()
        if build is None:
            raise ReplicaError(f"no build in {self.store}; run `kll-graph build` first")
        return write_dump(build, self.work / "dumps")

    def _start_generation(self, dump: DumpManifest) -> Generation:
        generation = Generation(dump.build_id, dump.path, free_port())
        generation.dataset = self._dataset_params(dump.build_id)
        location = self.work / "replicas" / dump.build_id
        if not location.exists():
            load_dump(dump.path, location)
        try:
            for i in range(self.replica_count):
                port = free_port()
                log = self.logs / f"replica-{generation.tag}-{i + 1}.log"
                proc = spawn_replica(location, f"127.0.0.1:{port}", self.timeout_s, log=log)
                part = Part("replica", f"r{i + 1}_{generation.tag}", port, proc)
                generation.replicas.append(part)
                self._smoke_test(part, dump.build_id)
            if self.use_backend:
                # the apps read through HAProxy's section for this generation's replicas
                self.generations.append(generation)
                self._write_config()
                self.generations.remove(generation)
                if self.haproxy is None:
                    self._start_haproxy()
                else:
                    self._reload_haproxy()
                wait_until_answering(generation.backend_url, 30)
            for i in range(self.app_count):
                generation.apps.append(self._start_app(generation, i + 1))
        except BaseException:
            self._stop_generation(generation)
            raise
        return generation

    def _dataset_params(self, build_id: str) -> str:
        """The dataset the direct path gives a query that names none: "-" (none) when the build
        leaves graphs out of the default graph, as the replicas were loaded with the graphs it
        keeps copied into their own default graph (`replica.load.default_graph_copy`); else the
        union of all graphs (`union-default-graph`)."""
        store = open_build(StoreLayout(self.store).builds / build_id)
        return "-" if default_dataset(store) is not None else "&union-default-graph="

    def _smoke_test(self, replica: Part, build_id: str) -> None:
        """The replica answers SPARQL and holds `build_id` (its counts were checked at load)."""
        url = f"http://{replica.address}/query"
        body = urllib.parse.urlencode({"query": named_query("build_id")}).encode()
        request = urllib.request.Request(url, body, {"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            rows = json.load(response)["results"]["bindings"]
        held = [row["build_id"]["value"] for row in rows]
        if held != [build_id]:
            raise ReplicaError(f"replica {replica.name} holds build {held}, not {build_id}")

    def _start_app(self, generation: Generation, number: int, port: int = 0) -> Part:
        port = port or free_port()
        args = [sys.executable, "-m", "kll_graph", "serve", "--host", "127.0.0.1"]
        args += ["--port", str(port)]
        if self.use_backend:
            args += ["--backend", generation.backend_url, "--backend-dump", str(generation.dump)]
        else:
            args += ["--store", str(self.store)]
        env = {**os.environ, "KLL_PROXY_HOPS": "1", "KLL_QUERY_TIMEOUT": str(self.timeout_s)}
        log = self.logs / f"app-{generation.tag}-{number}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        part = Part("app", f"app{number}_{generation.tag}", port, proc)
        try:
            wait_for_url(f"http://{part.address}/-/health", 120, proc)
        except BaseException:
            stop_process(proc)
            raise
        return part

    def _stop_generation(self, generation: Generation) -> None:
        for part in [*generation.apps, *generation.replicas]:
            stop_process(part.proc)

    # -- HAProxy ---------------------------------------------------------------------------

    def config_text(self) -> str:
        """HAProxy's configuration for the generations running (the last one is public)."""
        sections = []
        for generation in self.generations:
            servers = "\n".join(
                f"    server {r.name} {r.address} check maxconn 16" for r in generation.replicas
            )
            sections.append(
                f"listen replicas_{generation.tag}\n"
                f"    bind 127.0.0.1:{generation.replica_port}\n"
                "    option httpchk\n"
                "    http-check send meth GET uri /query?query=ASK%7B%7D ver HTTP/1.1 "
                "hdr Host localhost\n"
                "    http-check expect status 200\n"
                f'    http-response set-header X-KLL-Replica "%s {generation.build_id}"\n'
                f"{servers}\n"
            )
        public = self.public.apps if self.public else []
        apps = "\n".join(f"    server {a.name} {a.address} check maxconn 8" for a in public)
        direct = self.direct_sparql and self.public is not None
        return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
            bind=f"127.0.0.1:{self.port}",
            run=str(self.work),
            inter=f"{int(CHECK_INTERVAL * 1000)}ms",
            server_timeout=f"{int(self.timeout_s) + 5}s",
            app_servers=apps or "    # no app processes yet",
            replica_sections="\n".join(sections),
            max_body=str(self.settings.max_request_bytes),
            build=self.public.build_id if self.public else "none",
            global_extra=DIRECT_GLOBAL.format(lua=PREFILTER) if direct else "",
            public_rules=self._direct_rules() if direct else "",
            direct_backend=self._direct_backend() if direct else "",
        )

    def _direct_rules(self) -> str:
        """The frontend's pre-filter call and routing for the direct path."""
        assert self.public is not None
        prologue = request_prologue(None, {**PREFIXES, "kll": kll(self.settings.base_iri).iri})
        args = [
            self.public.build_id,
            str(self.settings.max_request_bytes),
            str(self.settings.max_query_depth),
            str(self.settings.max_query_operators),
            self.public.dataset,
            urllib.parse.quote(prologue, safe=""),
        ]
        return (
            "    # the direct path: /sparql queries to the replicas after the pre-filter; its\n"
            "    # replica connections are kept open (HAProxy takes the stronger of the\n"
            "    # frontend's and the backend's modes: the apps' backend still closes its own)\n"
            "    option http-keep-alive\n"
            f"    http-request lua.kll_sparql {' '.join(args)} "
            "if { path /sparql } { method GET POST }\n"
            "    use_backend sparql_direct if { var(txn.kll_direct) -m found }"
        )

    def _direct_backend(self) -> str:
        """The public generation's replicas as the direct path's backend."""
        assert self.public is not None
        servers = "\n".join(
            f"    server {r.name} {r.address} check maxconn 16" for r in self.public.replicas
        )
        window = max(1, round(self.timeout_s))
        errors = "\n".join(http_error_line(s, *what) for s, what in DIRECT_ERRORS.items())
        return DIRECT_BACKEND.format(
            timeout=f"{window + DIRECT_GRACE}s",
            window=window,
            cap=self.direct_queries_per_limit * len(self.public.replicas),
            busy=DIRECT_BUSY,
            engine_errors=engine_error_lines(),
            errors=errors,
            servers=servers,
        )

    def _write_config(self) -> None:
        path = self.work / "haproxy.cfg"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.config_text(), encoding="utf-8")
        check = subprocess.run(
            ["haproxy", "-c", "-q", "-f", str(tmp)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise ReplicaError(f"HAProxy refused the configuration {tmp}: {check.stderr.strip()}")
        os.replace(tmp, path)

    def _start_haproxy(self) -> None:
        if self.haproxy is not None:
            return
        log = (self.logs / "haproxy.log").open("ab")
        with log:
            self.haproxy = subprocess.Popen(
                ["haproxy", "-W", "-f", str(self.work / "haproxy.cfg")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _reload_haproxy(self) -> None:
        """SIGUSR2 to the master: a new worker takes new connections with the new
        configuration; the old one finishes what it holds, then exits."""
        assert self.haproxy is not None
        self.haproxy.send_signal(signal.SIGUSR2)
        time.sleep(0.5)

    def _save_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "url": self.url,
            "build_id": self.current.build_id,
            "backend": self.use_backend,
            "haproxy": self.haproxy.pid if self.haproxy else None,
            "replicas": [
                {"name": p.name, "url": f"http://{p.address}/query", "pid": p.proc.pid}
                for p in self.current.replicas
            ],
            "apps": [
                {"name": p.name, "url": f"http://{p.address}", "pid": p.proc.pid}
                for p in self.current.apps
            ],
        }
        (self.work / "cluster.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
