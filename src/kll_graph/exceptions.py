"""The named exceptions of kll-graph.

Everything we raise on purpose derives from :class:`KllError`, so the CLI and the web layer can turn
it into one clear message (or one JSON error shape) and leave real bugs to surface as tracebacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class KllError(Exception):
    """Base of every error that is the user's input or environment rather than our bug."""

    #: HTTP status the web layer answers with when this error reaches it.
    status: int = 500
    #: Short machine-readable code used in the JSON error shape.
    code: str = "error"


class ConfigError(KllError):
    """A setting or `kll-graph.toml` entry is wrong: names the key and what is allowed."""

    code = "config"


class SourceError(KllError):
    """A configured source is missing, unreadable or malformed.

    Carries the source id, the file and, where the parser gives it, line and column, so the build
    can stop with one message a person can act on.
    """

    code = "source"

    def __init__(
        self,
        source_id: str,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.source_id = source_id
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.detail = message
        where = f" in {self.path}" if self.path is not None else ""
        if line is not None:
            where += f" at line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"source '{source_id}'{where}: {message}")


class BuildError(KllError):
    """A build could not complete; the current store was left as it was."""

    code = "build"


class BuildLockedError(BuildError):
    """Another build holds the build lock."""

    code = "build_locked"


class StoreNotFoundError(KllError):
    """No built store exists where one was expected."""

    status = 503
    code = "no_store"


class BadRequestError(KllError):
    """The client sent something we cannot answer; the message says what and where."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        self.parameter = parameter
        super().__init__(message)


class NotFoundError(KllError):
    """The thing asked for does not exist in the served store."""

    status = 404
    code = "not_found"


class QueryError(BadRequestError):
    """A SPARQL query was malformed or not allowed; carries the parser's message."""

    code = "query"


class QueryTimeoutError(KllError):
    """A query ran past its wall-clock limit and was stopped."""

    status = 503
    code = "timeout"


class BackendUnavailableError(KllError):
    """No replica of the remote SPARQL backend answered (all down or unreachable)."""

    status = 503
    code = "backend_unavailable"


class SssomError(KllError):
    """A mapping set (SSSOM/TSV) or a mapping table cannot be read: names the file, the line
    and column where that is known, and what was expected there."""

    status = 400
    code = "sssom"

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.detail = message
        where = str(self.path) if self.path is not None else "<text>"
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}")


class NotAcceptableError(KllError):
    """No media type the client accepts can be produced (HTTP 406); lists what is offered."""

    status = 406
    code = "not_acceptable"

    def __init__(self, message: str, *, offered: tuple[str, ...] = ()) -> None:
        self.offered = offered
        super().__init__(message)


class UnsupportedMediaTypeError(KllError):
    """A request body came in a content type this endpoint does not read (HTTP 415)."""

    status = 415
    code = "unsupported_media_type"


class RequestTooLargeError(KllError):
    """A request (body or query string) is larger than `max_request_bytes` (HTTP 413)."""

    status = 413
    code = "request_too_large"


class UpdateForbiddenError(KllError):
    """SPARQL Update was sent to the read-only endpoint (HTTP 403); says how data does change."""

    status = 403
    code = "update_forbidden"


class QueryMemoryError(KllError):
    """A query needed more memory than one query may use, and was stopped."""

    status = 503
    code = "query_memory"


class QueryBusyError(KllError):
    """Too many long-running queries at once; this one was refused or stopped. Retry later."""

    status = 503
    code = "busy"


class QueryCrashError(KllError):
    """The query worker died of something other than its time or memory limit (the engine
    crashed). The worker is replaced; the query is not run again."""

    status = 500
    code = "query_crashed"


class QueryFailedError(KllError):
    """The engine or a result writer raised an error we did not foresee while answering a query;
    the message is the error's own."""

    status = 500
    code = "query_failed"


class SandboxError(KllError):
    """Query workers cannot be cut off from the network on this platform, so they do not run:
    the SPARQL endpoint refuses to run queries with the network open (it fails closed)."""

    status = 503
    code = "no_sandbox"


class QualityError(BuildError):
    """The quality checks found errors and the build runs strict: the build stops and the
    current store keeps serving."""

    code = "quality"


class FetchError(KllError):
    """`kll-graph fetch` could not download some files; names each with its reason and URL.

    The files that did download are in place and in the fetch manifest; running the same
    command again resumes the rest.
    """

    code = "fetch"

    def __init__(self, failures: Sequence[object], result: object = None) -> None:
        self.failures = failures
        self.result = result
        lines = "\n".join(f"  {failure}" for failure in failures)
        super().__init__(
            f"{len(failures)} file(s) could not be fetched (run the command again to resume):\n"
            + lines
        )


class MatcherError(KllError):
    """The mapping matcher cannot run: an unknown type, a store without the vocabularies it
    matches, an output it cannot write. Says what to do instead."""

    status = 400
    code = "matcher"


class AuthenticationError(KllError):
    """The request needs a signed-in user or an API token, and has neither (HTTP 401)."""

    status = 401
    code = "unauthenticated"


class ForbiddenError(KllError):
    """The user is signed in but their role does not allow this, or a cookie-authenticated
    write came without a valid CSRF token (HTTP 403)."""

    status = 403
    code = "forbidden"


class WorkbenchOffError(KllError):
    """The review workbench is off because no users file exists; says how to turn it on."""

    status = 404
    code = "workbench_off"


class ConflictError(KllError):
    """A write was based on an older version of a mapping set (its ETag no longer matches), or
    the decision clashes with the set's rows (HTTP 409). `changes` says what changed since."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, *, changes: Sequence[object] = ()) -> None:
        self.changes = list(changes)
        super().__init__(message)


class PreconditionRequiredError(KllError):
    """A write to a mapping set came without `If-Match` (HTTP 428): send the set's ETag."""

    status = 428
    code = "precondition_required"


class TooManyAttemptsError(KllError):
    """Too many failed sign-ins for this name or address; retry after `retry_after` seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class DumpError(KllError):
    """A build dump cannot be written, read or loaded: a file missing or altered (its checksum
    differs from the manifest), a manifest of another format, or a loaded replica whose counts
    differ from the manifest. Names the file and says what to do; nothing is left half-made."""

    code = "dump"


class ReplicaError(KllError):
    """A replica cannot be started or switched: the engine binary is missing, the location is
    not a loaded replica, or its network cannot be closed on this platform (it does not start)."""

    code = "replica"
