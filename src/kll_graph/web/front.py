"""The front between granian and the WSGI app: whole bodies first, then a request thread.

Under granian's WSGI interface a request thread is handed the request as soon as its headers
arrive, and reading the body blocks that thread for as long as the client takes to send it. So
70 connections that each declared a body and sent six bytes of it held every thread of every
server process, and the whole service stopped answering. This front speaks granian's RSGI
interface instead: the body is read on the event loop (where a waiting connection costs no
thread), within `max_request_bytes` and `body_timeout`, and only a complete request is given a
thread of the pool that runs the Flask app. A body that is too slow gets 408, one that is too
big 413 (the JSON error shape in both), and its connection is closed.

The WSGI side is unchanged: the app sees an ordinary environ whose `wsgi.input` holds the whole
body. Responses are sent whole when the app's iterable ends within :data:`BATCH_BYTES`, and
streamed otherwise, each batch fetched by a pool thread (the app's iterable may block, e.g. on a
SPARQL worker) and sent by the loop; a client that goes away ends the iterable early (`close()`),
which stops its query. A body that fails before its first batch is sent becomes a JSON error;
one that fails later cannot be reported: granian's RSGI stream (2.8) has no way to end a body
as failed, so the client would see a shorter 200. Bodies that can fail therefore do their
failing work before the response starts (the SPARQL workers collect a result whole, and answers
from replicas are read whole, `sparql.remote`).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.exceptions import InternalServerError

from kll_graph.exceptions import KllError
from kll_graph.web.errors import error_body

_log = logging.getLogger(__name__)

#: A streamed response is sent in batches of about this many bytes.
BATCH_BYTES = 256 * 1024

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Headers = list[tuple[str, str]]
#: Finds a kept whole response (status line, headers, body) for an environ, or None.
Lookup = Callable[[dict[str, Any]], tuple[str, Headers, bytes] | None]


class BodyError(Exception):
    """A request body that was refused before the app saw it: its status and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Front:
    """The RSGI application granian calls (see the module doc)."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        threads: int,
        max_body_bytes: int,
        body_timeout: float,
        lookup: Lookup | None = None,
    ) -> None:
        self.app = app
        #: The response cache's lookup: a repeated GET is answered here, with no thread hop.
        self.lookup = lookup
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kll-request")

    async def __call__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        try:
            body = await self._body(scope, protocol)
        except BodyError as exc:
            _refuse(protocol, exc)
            return
        environ = wsgi_environ(scope, body)
        kept = self.lookup(environ) if self.lookup is not None else None
        if kept is not None:
            status, headers, whole = kept
            protocol.response_bytes(int(status.split(" ", 1)[0]), list(headers), whole)
            return
        loop = asyncio.get_running_loop()
        call = _Call(self.app, environ)
        try:
            first, done = await loop.run_in_executor(self.pool, call.start)
        except Exception as exc:  # nothing sent yet: the client gets the error in our shape
            await loop.run_in_executor(self.pool, call.close)
            _fail(protocol, call.headers, exc)
            return
        except BaseException:
            await loop.run_in_executor(self.pool, call.close)
            raise
        if done:
            protocol.response_bytes(call.status, call.headers, first)
            return
        await self._stream(loop, protocol, call, first)

    async def _body(self, scope: Any, protocol: Any) -> bytes:
        """The whole body, read within the size and time limits; b"" when there is none."""
        headers = scope.headers
        length = headers.get("content-length")
        if length is None and "transfer-encoding" not in headers:
            return b""
        if length is not None:
            if not length.isdigit():
                raise BodyError(400, "bad_request", f"Content-Length {length!r} is not a number")
            if int(length) > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
            if int(length) == 0:
                return b""
        try:
            async with asyncio.timeout(self.body_timeout):
                return await self._read(protocol)
        except TimeoutError:
            raise BodyError(
                408,
                "request_timeout",
                f"the request body did not arrive within {self.body_timeout:g} s "
                "(setting body_timeout); send it whole and at once",
            ) from None

    async def _read(self, protocol: Any) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in protocol:
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
            parts.append(chunk)
        return b"".join(parts)

    async def _stream(
        self, loop: asyncio.AbstractEventLoop, protocol: Any, call: _Call, first: bytes
    ) -> None:
        transport = protocol.response_stream(call.status, call.headers)
        try:
            batch, done = first, False
            while True:
                if batch:
                    await transport.send_bytes(batch)
                if done:
                    return
                batch, done = await loop.run_in_executor(self.pool, call.more)
        finally:
            await loop.run_in_executor(self.pool, call.close)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class _Call:
    """One call of the WSGI app: its status and headers, and its body in batches."""

    def __init__(self, app: WsgiApp, environ: dict[str, Any]) -> None:
        self.app = app
        self.environ = environ
        self.status = 500
        self.headers: Headers = []
        self.result: Iterable[bytes] | None = None
        self.iterator: Iterator[bytes] | None = None
        self.closed = False

    def start_response(
        self, status: str, headers: Headers, exc_info: Any = None
    ) -> Callable[[bytes], None]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = list(headers)
        return self._no_write

    @staticmethod
    def _no_write(data: bytes) -> None:
        raise RuntimeError("the WSGI write() callable is not supported; return an iterable")

    def start(self) -> tuple[bytes, bool]:
        """Call the app; the first batch of its body and whether that was all."""
        self.result = self.app(self.environ, self.start_response)
        if isinstance(self.result, list | tuple):
            body = b"".join(self.result)
            self.close()
            return body, True
        self.iterator = iter(self.result)
        return self.more()

    def more(self) -> tuple[bytes, bool]:
        """The next batch of the body and whether the body ended with it (then closed)."""
        assert self.iterator is not None
        parts: list[bytes] = []
        size = 0
        for chunk in self.iterator:
            parts.append(chunk)
            size += len(chunk)
            if size >= BATCH_BYTES:
                return b"".join(parts), False
        self.close()
        return b"".join(parts), True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            close = getattr(self.result, "close", None)
            if close is not None:
                close()


def _too_large(limit: int) -> BodyError:
    return BodyError(
        413,
        "request_too_large",
        f"the request body has more than the limit of {limit:,} bytes (setting max_request_bytes)",
    )


def _refuse(protocol: Any, exc: BodyError) -> None:
    """Answer a refused body with the JSON error shape and close the connection (the rest of
    the body, if any, is not read)."""
    body = json.dumps(error_body(exc.status, exc.code, str(exc))).encode("utf-8")
    headers = [("content-type", "application/json"), ("connection", "close")]
    protocol.response_bytes(exc.status, headers, body)


def _fail(protocol: Any, headers: Headers, exc: Exception) -> None:
    """Answer a response whose body failed before any of it was sent (the app's error handlers
    never see an error raised while its body is read) in the JSON error shape, keeping the
    headers that name who answered; the server would send an empty 500. A failure after the
    first batch cannot be told to the client this way: see the module doc."""
    if isinstance(exc, KllError):
        status, code, message = exc.status, exc.code, str(exc)
    else:
        _log.error("a response body failed before it was sent", exc_info=exc)
        status, code = 500, "internal_server_error"
        message = InternalServerError.description or "internal server error"
    body = json.dumps(error_body(status, code, message)).encode("utf-8")
    kept = [(name, value) for name, value in headers if name.lower().startswith("x-kll-")]
    protocol.response_bytes(status, [("content-type", "application/json"), *kept], body)


def _latin1(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def wsgi_environ(scope: Any, body: bytes) -> dict[str, Any]:
    """The WSGI environ of an RSGI request whose body has been read whole."""
    server_host, _, server_port = str(scope.server).rpartition(":")
    client_host, _, client_port = str(scope.client).rpartition(":")
    # WSGI carries the (percent-decoded) path and the query string as the latin-1 reading of
    # their UTF-8 bytes; the query string matters for clients that send letters unencoded.
    path = _latin1(scope.path)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": _latin1(scope.query_string),
        "SERVER_NAME": server_host,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client_host,
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        if key in {"CONTENT_LENGTH", "TRANSFER_ENCODING"}:
            continue  # the body is read: its length is what it is
        key = f"HTTP_{key}"
        if key in environ:
            separator = "; " if key == "HTTP_COOKIE" else ", "
            environ[key] = f"{environ[key]}{separator}{value}"
        else:
            environ[key] = value
    environ["CONTENT_LENGTH"] = str(len(body)) if body else ""
    return environ
