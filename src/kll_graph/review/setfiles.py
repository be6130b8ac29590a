"""The mapping set files of the mappings directory, as the workbench reads and changes them.

A set is named by its file name without ``.sssom.tsv``; a client only ever sends that name, and
:meth:`SetFiles.path` is the one place a name becomes a path, so no request can reach a file
outside the directory. Every change is read-check-write under an exclusive lock of that set:

1. take the set's lock (``.<name>.lock`` beside it, ``flock``: one holder across processes and
   threads);
2. read the file and compare its ETag with the client's ``If-Match`` (none: 428; another: 409
   with the audit entries the client missed);
3. apply the edit, write the canonical text to a temporary file in the same directory, fsync it,
   check it with :func:`kll_graph.mappings.checks.file_errors` (a file the build would refuse
   never replaces a good one), rename it over the set and fsync the directory;
4. append the audit entry (:mod:`kll_graph.review.audit`).

So two reviewers deciding at once are serialised: the second one's ETag no longer matches and
gets a 409, never a silent overwrite; and a crash at any point leaves the old file or the new
one, never a torn one (temporary files a killed writer left are removed by the next write).

Rows are handled *propagated*: set-level values that SSSOM propagates to every row
(``mapping_tool``, ``mapping_date``, ``subject_source_version`` ...) are copied into the rows on
reading, so a row taken from one set keeps its evidence in another; before writing they leave
the set level (:func:`settle`), so a manual row added to a tool's set does not inherit the tool.
The canonical writer condenses what the rows share again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kll_graph.digest import sha256_hex
from kll_graph.exceptions import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionRequiredError,
    SssomError,
)
from kll_graph.files import replace_atomically
from kll_graph.mappings.checks import file_errors
from kll_graph.mappings.sssom import (
    BUILTIN_PREFIXES,
    PROPAGATABLE,
    REQUIRED_COLUMNS,
    Mapping,
    MappingSet,
    format_sssom,
    join_values,
    parse_sssom,
)
from kll_graph.namespaces import ESCO_DATA, JOBTECH_CONCEPT
from kll_graph.review.audit import AuditEntry, AuditLog, Row, now_utc, row_dict

#: What a set name may be: lower-case letters, digits, `_` and `-`, at most 64, no dot first.
SET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SET_SUFFIX = ".sssom.tsv"
#: The licence of a set started in the workbench unless the caller names another.
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
#: The prefixes a new set declares (as the official tables and the matcher's sets do).
SET_PREFIXES = {"ESCO": ESCO_DATA.iri, "jt": JOBTECH_CONCEPT.iri}
#: Set-level slots that describe the vocabularies of the whole set: a row added without them
#: takes the set's value (the tool, dates, measures and versions of other rows it does not).
INHERITED = ("subject_type", "object_type", "predicate_type", "subject_source", "object_source")
#: Seconds a change waits for another change of the same set before giving up with a 409.
LOCK_TIMEOUT = 15.0
#: How many problems a refused write names.
SHOWN_PROBLEMS = 5

#: The namespace of ORCID iDs.
ORCID = "https://orcid.org/"
#: What the last segment of a user's IRI may be (it becomes a CURIE's local part).
USER_LOCAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")

#: An edit: the set as it is now (propagated) -> the set it should become.
Edit = Callable[[MappingSet], MappingSet]


def check_set_name(name: object) -> str:
    """The name if it is a valid set name; BadRequestError (parameter ``set``) otherwise.

    >>> check_set_name("nurses")
    'nurses'
    """
    if not isinstance(name, str) or not SET_NAME.fullmatch(name):
        shown = repr(name)[:80]
        raise BadRequestError(
            f"{shown} is not a mapping set name: use 1-64 lower-case letters, digits, '_' and "
            "'-', starting with a letter or digit (the file name without .sssom.tsv)",
            parameter="set",
        )
    return name


def etag_of(data: bytes) -> str:
    """The ETag of a file's bytes: the quoted hex SHA-256 (a strong validator)."""
    return f'"{sha256_hex(data)}"'


def propagate(mset: MappingSet) -> MappingSet:
    """The set with its propagatable set-level values copied into every row that has none.

    The set keeps them too (a set whose rows all go keeps describing itself); :func:`settle`
    takes them out again before writing.
    """
    moved = {
        slot: join_values(mset.metadata[slot])
        for slot in PROPAGATABLE
        if join_values(mset.metadata.get(slot, ""))
    }
    mappings = [
        Mapping({**moved, **{k: v for k, v in m.slots.items() if v}}, m.line) for m in mset.mappings
    ]
    return _with(mset, dict(mset.metadata), mappings)


def settle(mset: MappingSet) -> MappingSet:
    """The set as it is written after an edit: rows that lack a slot describing the set's
    vocabularies (``subject_type``, ``object_source`` ...) take the set's value; then, when
    there are rows, the propagatable values leave the set level (the rows hold them, and the
    canonical writer condenses what they share). So a row added to a tool's set does not
    inherit the tool, its date or its similarity measure. A set left without rows keeps only
    the values that describe its vocabularies."""
    if not mset.mappings:
        metadata = {
            k: v for k, v in mset.metadata.items() if k not in PROPAGATABLE or k in INHERITED
        }
        return _with(mset, metadata, [])
    inherited = {
        slot: join_values(mset.metadata[slot])
        for slot in INHERITED
        if join_values(mset.metadata.get(slot, ""))
    }
    mappings = [
        Mapping({**inherited, **{k: v for k, v in m.slots.items() if v}}, m.line)
        for m in mset.mappings
    ]
    metadata = {k: v for k, v in mset.metadata.items() if k not in PROPAGATABLE}
    return _with(mset, metadata, mappings)


def _with(mset: MappingSet, metadata: dict[str, Any], mappings: list[Mapping]) -> MappingSet:
    return MappingSet(
        dict(mset.curie_map),
        metadata,
        mappings,
        mset.path,
        mset.columns,
        mset.metadata_lines,
        mset.header_line,
        mset.notes,
    )


@dataclass(frozen=True)
class ChangeResult:
    """What a change left: the set as now written (propagated), its ETag, and the audit entry
    (None when the edit changed nothing and so nothing was written)."""

    mset: MappingSet
    etag: str
    entry: AuditEntry | None


class SetFiles:
    """The SSSOM sets of one mappings directory: list, read, create and change them safely."""

    def __init__(self, mappings_dir: Path, base_iri: str, *, license: str = CC0) -> None:
        self.directory = Path(mappings_dir)
        self.base_iri = base_iri
        self.license = license
        self.audit = AuditLog(self.directory)

    # --- names and paths ------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """The file of a set; the name is checked, so the path stays in the directory."""
        return self.directory / f"{check_set_name(name)}{SET_SUFFIX}"

    def names(self) -> list[str]:
        """The sets of the directory, sorted (files whose names are no set names are left out)."""
        if not self.directory.is_dir():
            return []
        found = (p.name.removesuffix(SET_SUFFIX) for p in self.directory.glob(f"*{SET_SUFFIX}"))
        return sorted(n for n in found if SET_NAME.fullmatch(n))

    def _existing(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none"
            raise NotFoundError(f"no mapping set named {name!r} (sets: {known})")
        return path

    # --- reading --------------------------------------------------------------------------

    def read(self, name: str) -> tuple[MappingSet, str]:
        """A set (rows propagated) and its ETag, from one read of the file."""
        path = self._existing(name)
        data = path.read_bytes()
        return propagate(_parse(data, path)), etag_of(data)

    def etag(self, name: str) -> str:
        """The set's current ETag."""
        return etag_of(self._existing(name).read_bytes())

    # --- writing --------------------------------------------------------------------------

    def create(
        self, name: str, title: str, creator_iri: str, *, request_id: str = "", who: str = ""
    ) -> str:
        """Start a new, empty set; returns its ETag. ConflictError when the name is taken."""
        path = self.path(name)
        title = " ".join(title.split())
        if not title:
            raise BadRequestError("a new set needs a title", parameter="title")
        with self._locked(name):
            if path.exists():
                raise ConflictError(f"a mapping set named {name!r} exists already")
            text = canonical_text(self._new_set(name, title, creator_iri))
            _check(text, path)
            etag = self._replace(path, text, mode=0o644)
            entry = AuditEntry(
                time=now_utc(),
                user=who or creator_iri,
                set=name,
                action="create",
                request_id=request_id,
                etag_before="",
                etag_after=etag,
            )
            self.audit.append(entry)
        return etag

    def _new_set(self, name: str, title: str, creator_iri: str) -> MappingSet:
        curie_map, creator = with_user_prefix(dict(SET_PREFIXES), creator_iri)
        metadata: dict[str, object] = {
            "mapping_set_id": f"{self.base_iri}mappings/{name}",
            "mapping_set_title": title,
            "license": self.license,
            "creator_id": [creator],
            "subject_type": "skos concept",
            "object_type": "skos concept",
        }
        return MappingSet(curie_map, metadata, [], self.path(name))

    def change(
        self,
        name: str,
        if_match: str | None,
        edit: Edit,
        *,
        who: str,
        request_id: str = "",
        action: str = "decision",
        batch: str | None = None,
        undoes: str | None = None,
    ) -> ChangeResult:
        """Read-check-write one set under its lock (see the module docstring).

        Raises PreconditionRequiredError without `if_match`, ConflictError (with the audit
        entries since the client's ETag) when it is stale, NotFoundError for an unknown set,
        BadRequestError when the edited set would not pass the file checks, and whatever the
        edit raises; in each case the file is untouched.
        """
        if if_match is None or not if_match.strip():
            raise PreconditionRequiredError(
                f"send the set's ETag in If-Match to change {name!r} (GET the set to learn it)"
            )
        self._existing(name)
        with self._locked(name):
            path = self._existing(name)  # again: it may have gone while we waited
            data = path.read_bytes()
            etag = etag_of(data)
            if etag not in _etags(if_match):
                changes = self.audit.entries_since(name, if_match.strip())
                raise ConflictError(
                    f"mapping set {name!r} changed since your copy ({len(changes)} change(s) "
                    "listed); reload it and decide again",
                    changes=[c.to_json() for c in changes],
                )
            old = propagate(_parse(data, path))
            new = settle(edit(old))
            new.path = path
            text = canonical_text(new)
            if text.encode("utf-8") == data:
                return ChangeResult(old, etag, None)
            written = propagate(_check(text, path))
            before, after = _diff(old.mappings, written.mappings)
            new_etag = self._replace(path, text, mode=_mode(path))
            entry = AuditEntry(
                time=now_utc(),
                user=who,
                set=name,
                action=action,
                request_id=request_id,
                etag_before=etag,
                etag_after=new_etag,
                before=before,
                after=after,
                batch=batch,
                undoes=undoes,
            )
            self.audit.append(entry)
        return ChangeResult(written, new_etag, entry)

    def _replace(self, path: Path, text: str, *, mode: int) -> str:
        """Write `text` over `path` atomically (:func:`kll_graph.files.replace_atomically`)."""
        data = text.encode("utf-8")
        replace_atomically(path, data, mode)
        return etag_of(data)

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """Hold the set's exclusive lock; temporary files found under it are stale."""
        if not self.directory.is_dir():
            raise NotFoundError(f"the mappings directory {self.directory} does not exist")
        fd = os.open(self.directory / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _acquire(fd, name)
            self._clean_temporaries(name)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _clean_temporaries(self, name: str) -> None:
        for stale in self.directory.glob(f".{name}{SET_SUFFIX}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()


def canonical_text(mset: MappingSet) -> str:
    """The set's canonical SSSOM/TSV text; a set without rows still gets a header (the
    required columns), so it stays a readable SSSOM file."""
    text = format_sssom(mset)
    if not mset.mappings and text.endswith("\n\n"):
        text = text[:-1] + "\t".join(REQUIRED_COLUMNS) + "\n"
    return text


def with_user_prefix(curie_map: dict[str, str], iri: str) -> tuple[dict[str, str], str]:
    """A person's IRI as a CURIE, and the CURIE map with a prefix for it added when none
    names its namespace exactly (ORCID iDs get ``orcid``, workbench users ``user``).

    >>> with_user_prefix({}, "https://orcid.org/0000-0002-1825-0097")
    ({'orcid': 'https://orcid.org/'}, 'orcid:0000-0002-1825-0097')
    >>> with_user_prefix({"user": "https://example.org/u/"}, "https://w3id.org/k/users/ann")
    ({'user': 'https://example.org/u/', 'user2': 'https://w3id.org/k/users/'}, 'user2:ann')
    """
    cut = max(iri.rfind("/"), iri.rfind("#")) + 1
    namespace, local = iri[:cut], iri[cut:]
    if not iri.startswith(("http://", "https://")) or not USER_LOCAL.fullmatch(local):
        raise BadRequestError(f"{iri!r} is not a user IRI (https://.../<name>)", parameter="user")
    known = {**curie_map, **BUILTIN_PREFIXES}
    for prefix, declared in sorted(known.items()):
        if declared == namespace:
            return curie_map, f"{prefix}:{local}"
    stem = "orcid" if namespace == ORCID else "user"
    prefix, number = stem, 1
    while prefix in known:
        number += 1
        prefix = f"{stem}{number}"
    return {**curie_map, prefix: namespace}, f"{prefix}:{local}"


def _acquire(fd: int, name: str) -> None:
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise ConflictError(
                    f"mapping set {name!r} is busy with another change; try again"
                ) from None
            time.sleep(0.01)


def _etags(header: str) -> set[str]:
    """The ETags an If-Match header lists (comma-separated)."""
    return {part.strip() for part in header.split(",") if part.strip()}


def _parse(data: bytes, path: Path) -> MappingSet:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SssomError("not UTF-8 text", path=path) from exc
    return parse_sssom(text, path)


def _check(text: str, path: Path) -> MappingSet:
    """The parsed text, or BadRequestError naming what the file checks refuse in it."""
    try:
        mset = parse_sssom(text, path)
    except SssomError as exc:
        raise BadRequestError(f"the change would make an unreadable file: {exc}") from exc
    errors = file_errors(mset)
    if errors:
        shown = "; ".join(f"{e.slot or 'line ' + str(e.line)}: {e.message}" for e in errors)
        more = len(errors) - SHOWN_PROBLEMS
        raise BadRequestError(
            f"the change was not written: the file would fail its checks: {shown}"
            + (f" (and {more} more)" if more > 0 else "")
        )
    return mset


def _diff(old: list[Mapping], new: list[Mapping]) -> tuple[list[Row], list[Row]]:
    """Rows that went and rows that came (as canonical dicts; multisets, in file order).

    Rows are first matched as read (cheap: most rows of a big set are untouched and read back
    alike); only the rest are put in canonical form and matched again.
    """
    old_left = _unmatched(old, new)
    new_left = _unmatched(new, old)
    old_rows = [row_dict(m.slots) for m in old_left]
    new_rows = [row_dict(m.slots) for m in new_left]
    gone = Counter(_key(r) for r in old_rows) - Counter(_key(r) for r in new_rows)
    came = Counter(_key(r) for r in new_rows) - Counter(_key(r) for r in old_rows)
    return _take(old_rows, gone), _take(new_rows, came)


def _unmatched(rows: list[Mapping], others: list[Mapping]) -> list[Mapping]:
    """The rows of `rows` left over when each is paired with an identical one of `others`."""
    available = Counter(frozenset(m.slots.items()) for m in others)
    left = []
    for m in rows:
        key = frozenset(m.slots.items())
        if available[key] > 0:
            available[key] -= 1
        else:
            left.append(m)
    return left


def _key(row: Row) -> frozenset[tuple[str, str]]:
    return frozenset(row.items())


def _take(rows: list[Row], wanted: Counter[frozenset[tuple[str, str]]]) -> list[Row]:
    out = []
    for row in rows:
        key = _key(row)
        if wanted[key] > 0:
            wanted[key] -= 1
            out.append(row)
    return out


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644
