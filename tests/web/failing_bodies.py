"""A WSGI app whose bodies fail, behind the front, for granian to serve in
`test_front_failures.py` (granian imports the factory by name)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kll_graph.exceptions import QueryTimeoutError
from kll_graph.web.front import BATCH_BYTES, Front


def _body(path: str) -> Iterator[bytes]:
    if path == "/ok":
        yield b"x" * (3 * BATCH_BYTES)
        return
    if path == "/timeout":
        raise QueryTimeoutError("the query ran past its limit")
    raise RuntimeError("a bug of ours, with a detail the client must not see")


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-KLL-Build", "b1")])
    return _body(environ["PATH_INFO"])


def app() -> Front:
    return Front(wsgi, threads=2, max_body_bytes=1024, body_timeout=5)
