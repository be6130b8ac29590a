"""Serving the app with granian: one port, several server processes, no Python on the socket.

Python holds the GIL for every request it handles, so one process uses one core however many
threads it has. `kll-graph serve` therefore runs `settings.processes` server processes (one per
CPU by default) under granian, whose HTTP layer is written in Rust: the processes share the
listening port (SO_REUSEPORT on Linux) and each builds its own app with :func:`app`, so each has
its own label index, result cache and SPARQL worker pool. Parsing HTTP in Rust also took about a
quarter off the cost of a small request here, measured against waitress (a Python HTTP server).

The server processes are started by granian, not by us, so they cannot be handed the
:class:`Settings` object: :func:`run` puts the effective settings in an environment variable,
and :func:`app` rebuilds exactly those settings from it.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

from kll_graph.exceptions import ConfigError
from kll_graph.settings import Settings, declared, load_settings
from kll_graph.web.app import build_source, create_app
from kll_graph.web.front import Front

#: Environment variable carrying the effective settings from `run` to the server processes.
SETTINGS_ENV = "KLL_SERVE_SETTINGS"


def process_count(settings: Settings) -> int:
    """How many server processes to run: the setting, or one per CPU when it is 0."""
    return settings.processes or os.cpu_count() or 1


def export_settings(settings: Settings) -> str:
    """The settings as JSON that :func:`import_settings` turns back into equal settings."""
    values = {f.name: getattr(settings, f.name) for f in declared()}
    config = str(settings.config_file) if settings.config_file else None
    return json.dumps({"config_file": config, "values": values}, default=str)


def import_settings(text: str) -> Settings:
    """Settings from :func:`export_settings`: the same config file, every value as a flag."""
    data = json.loads(text)
    config = data.get("config_file")
    return load_settings(Path(config) if config else None, **data["values"])


def app() -> Front:
    """The app of one server process (granian's factory): the Flask app behind the front that
    reads request bodies before a thread is given to them, its SPARQL workers already warm."""
    text = os.environ.get(SETTINGS_ENV)
    settings = import_settings(text) if text else load_settings()
    application = create_app(settings)
    sparql = application.extensions.get("kll.sparql")
    if sparql is not None and sparql.pool is not None:
        sparql.pool.start()  # warm the query workers before the first request, not during it
    responses = application.extensions.get("kll.responses")
    return Front(
        application,
        threads=settings.threads,
        max_body_bytes=settings.max_request_bytes,
        body_timeout=settings.body_timeout,
        lookup=responses.lookup if responses is not None else None,
    )


def check_backend(settings: Settings) -> None:
    """Refuse to start on a remote backend the app could not serve: no dump directory, no
    build's artifacts in it, or no replica answering with that build (the error says which)."""
    source = build_source(settings)
    close = getattr(source, "close", None)
    if close is not None:
        close()


def run(settings: Settings, *, announce: Callable[[str], None]) -> None:
    """Listen on settings.host:settings.port (0 = a free port), announce the URL once the server
    answers, and serve until interrupted (SIGINT or SIGTERM)."""

    if settings.backend:  # a wrong backend is said here, once, not by each server process dying
        check_backend(settings)
    os.environ[SETTINGS_ENV] = export_settings(settings)
    # Fresh interpreters rather than forks: a fork copies whatever lock another thread of this
    # process holds at that moment (the announcer's import of a codec hung every server process
    # that way), and a respawn after a crash forks again long after threads exist.
    multiprocessing.set_start_method("spawn", force=True)
    address = _ip_address(settings.host)
    holder = None
    port = settings.port
    if port == 0:
        holder, port = _reserve_port(address)
    else:
        _check_port(address, port)
    server = Server(
        f"{__name__}:app",  # granian imports the app factory below by name
        address=address,
        port=port,
        interface=Interfaces.RSGI,
        factory=True,
        workers=process_count(settings),
        log_level=LogLevels.warning,
        respawn_failed_workers=True,
    )
    # Granian warns when a process may have more threads than about twice the CPUs; ours mostly
    # wait on query workers (see the `threads` setting), so that advice does not apply.
    logging.getLogger("_granian").addFilter(_NotTheThreadAdvice())
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    url = f"http://{host}:{port}/"
    server.on_startup(lambda: _announce_when_up(address, port, url, announce))
    try:
        server.serve()
    finally:
        if holder is not None:
            holder.close()


def _ip_address(host: str) -> str:
    """The IP address to listen on for a host name or address (granian takes addresses only)."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on host {host!r}: {exc}; give an IP address or a "
            "name this machine resolves (setting host, or --host)"
        ) from None
    return str(found[0][4][0])


class _NotTheThreadAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads" not in record.getMessage()


def _reserve_port(host: str) -> tuple[socket.socket, int]:
    """A free port, kept ours by a bound (not listening) SO_REUSEPORT socket: the server
    processes bind the same port beside it, and nothing else can take it in between."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, 0))
    return holder, int(holder.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    """Fail with a clear message, before any server process starts, when the address is taken
    (granian would raise from deep inside its start-up)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror}; stop what uses it, or pick "
                "another port with --port (0 picks a free one)"
            ) from None


def _announce_when_up(
    host: str, port: int, url: str, announce: Callable[[str], None], seconds: float = 120
) -> None:
    """Announce the URL from a thread once a connection succeeds, so whoever reads the
    announcement (a person, a test, a supervisor) can use the server at once."""

    def wait() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=1):
                    announce(url)
                    return
            except OSError:
                time.sleep(0.05)

    threading.Thread(target=wait, name="kll-announce", daemon=True).start()
