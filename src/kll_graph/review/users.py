"""The users of the review workbench: one JSON file of names, roles, password and token hashes.

The file (setting `users_file`, by default outside the repository) is the workbench's switch:
without it the workbench is off. It holds, per user, a role from :data:`ROLES`, an optional
ORCID (so the user's decisions name them by it), a scrypt hash of the password and the scrypt
hashes of their API tokens; and, once, a random secret key the web layer signs with. Nothing in
it is a secret in clear, but it is written with mode 0600 all the same: hashes are for slowing an
attacker down, not for publishing.

Why scrypt: it is memory-hard (a guess costs memory as well as time, so graphics cards gain
little) and it is in the standard library (`hashlib.scrypt`). Each hash carries its own salt and
parameters, so the cost can be raised later without breaking the hashes already written.

Tokens look like ``kll_<id>_<secret>``: the id finds the stored hash without trying every
user's, and the secret (256 random bits) is what is hashed. Scripts call the API many times a
second, so a token once verified is remembered for a short while (see :class:`TokenCache`)
instead of paying one scrypt per request; the memory is dropped whenever the file changes, so a
removed user or token stops working at the next request.

Every write is read, change, write under a lock: the new text goes to a temporary file in the
same directory, is fsynced and renamed over the old one, so a crash leaves the old file or the
new one, never a torn one.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kll_graph.exceptions import (
    BadRequestError,
    ConfigError,
    ConflictError,
    NotFoundError,
    WorkbenchOffError,
)
from kll_graph.files import replace_atomically

#: The roles, lowest first; each includes the rights of the ones before it.
ROLES: tuple[str, ...] = ("viewer", "editor", "reviewer", "admin")
#: A user name: lowercase ASCII letters, digits, `.`, `_` and `-`, starting with a letter or a
#: digit, at most 64 characters (it becomes part of an IRI and of log lines).
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
NAME_RULE = (
    "lowercase letters a-z, digits, '.', '_' and '-', starting with a letter or a digit, "
    "at most 64 characters"
)
MIN_PASSWORD_CHARS = 12
#: Longer passwords are refused: nobody types them, and they only cost hashing time.
MAX_PASSWORD_CHARS = 1024
#: An ORCID iD: four groups of four digits, the last character a digit or X (a checksum).
ORCID_PATTERN = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
ORCID_PREFIX = "https://orcid.org/"
#: The command that turns the workbench on, for messages.
TURN_ON = "kll-graph users add NAME --role admin --password-stdin"

TOKEN_PREFIX = "kll"
_TOKEN = re.compile(r"kll_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
#: How long a verified token is remembered, in seconds, and how many are.
TOKEN_CACHE_SECONDS = 60.0
TOKEN_CACHE_SIZE = 256

FORMAT_VERSION = 1


# --- hashing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's parameters: log2 of N (CPU and memory), r (block size), p (parallelism).

    Memory used is 128 * r * N bytes: 32 MiB for passwords (about 0.1 s here), 16 MiB for tokens,
    whose secret is random and long, so the hash is there in case the file leaks, not to slow
    guessing of something a person chose."""

    log_n: int
    r: int = 8
    p: int = 1

    def memory(self) -> int:
        return 128 * self.r * (1 << self.log_n)


PASSWORD_COST = ScryptCost(15)
TOKEN_COST = ScryptCost(14)
#: Bounds on the parameters read back from a file, so a hand-edited entry cannot ask for
#: gigabytes per sign-in.
_MAX_LOG_N, _MAX_R, _MAX_P = 20, 32, 4
_KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(secret: bytes, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        secret,
        salt=salt,
        n=1 << cost.log_n,
        r=cost.r,
        p=cost.p,
        maxmem=cost.memory() + (1 << 20),
        dklen=_KEY_BYTES,
    )


def hash_secret(secret: str, cost: ScryptCost = PASSWORD_COST) -> str:
    """`scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64) of a secret, with a fresh salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(_normalized(secret), salt, cost)
    return f"scrypt${cost.log_n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def check_secret(secret: str, stored: str) -> bool:
    """Whether `secret` hashes to `stored` (compared in constant time). A stored value that is
    not a hash of ours is a ConfigError: the file was edited by hand and is wrong."""
    try:
        scheme, log_n, r, p, salt, digest = stored.split("$")
        cost = ScryptCost(int(log_n), int(r), int(p))
        salt_bytes, expected = base64.b64decode(salt), base64.b64decode(digest)
    except ValueError as exc:
        raise ConfigError(f"a stored hash is not scrypt$N$r$p$salt$hash: {exc}") from exc
    if scheme != "scrypt" or not (
        1 <= cost.log_n <= _MAX_LOG_N and 1 <= cost.r <= _MAX_R and 1 <= cost.p <= _MAX_P
    ):
        raise ConfigError(f"a stored hash has unknown or out-of-range parameters: {stored[:40]}")
    return hmac.compare_digest(_scrypt(_normalized(secret), salt_bytes, cost), expected)


def _normalized(secret: str) -> bytes:
    """A password as bytes, in Unicode NFC, so 'å' typed as one or as two code points match."""
    return unicodedata.normalize("NFC", secret).encode("utf-8", "surrogatepass")


#: Hashed for names that do not exist, so "no such user" takes as long as "wrong password".
_DUMMY_PASSWORD = hash_secret("not a password of anyone", PASSWORD_COST)
_DUMMY_TOKEN = hash_secret("not a token of anyone", TOKEN_COST)


# --- users ---------------------------------------------------------------------------------------


def check_role(role: str) -> str:
    """`role` if it is one of :data:`ROLES`, else a BadRequestError listing them."""
    if role not in ROLES:
        raise BadRequestError(
            f"unknown role {role[:40]!r}; the roles are {', '.join(ROLES)} (each includes the "
            "ones before it)",
            parameter="role",
        )
    return role


def check_name(name: str) -> str:
    """`name` if it is a valid user name, else a BadRequestError saying what is allowed."""
    if not NAME_PATTERN.fullmatch(name):
        raise BadRequestError(
            f"user name {name[:70]!r} is not allowed: use {NAME_RULE}", parameter="name"
        )
    return name


def check_password(password: str) -> str:
    """`password` if it is long enough (and not absurdly long), else a BadRequestError."""
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_PASSWORD_CHARS:
        raise BadRequestError(
            f"the password has {length} characters; use at least {MIN_PASSWORD_CHARS} "
            "(a few unrelated words make a good one)",
            parameter="password",
        )
    if length > MAX_PASSWORD_CHARS:
        raise BadRequestError(
            f"the password has {length} characters; at most {MAX_PASSWORD_CHARS} are accepted",
            parameter="password",
        )
    return password


def check_orcid(orcid: str) -> str:
    """An ORCID iD (bare, or as its https://orcid.org/ IRI) checked and made bare, or a
    BadRequestError. The last character is the ISO 7064 11,2 checksum of the others."""
    bare = orcid.strip().removeprefix(ORCID_PREFIX).removeprefix("http://orcid.org/")
    if not ORCID_PATTERN.fullmatch(bare) or _orcid_checksum(bare[:-1]) != bare[-1]:
        raise BadRequestError(
            f"{orcid[:60]!r} is not an ORCID iD (like 0000-0002-1825-0097, with a valid last "
            "check character)",
            parameter="orcid",
        )
    return bare


def _orcid_checksum(digits: str) -> str:
    total = 0
    for char in digits.replace("-", ""):
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


@dataclass(frozen=True)
class User:
    """A user as the workbench sees one: name, role and ORCID (no hashes)."""

    name: str
    role: str
    orcid: str | None = None

    def can(self, role: str) -> bool:
        """Whether this user has `role` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(check_role(role))

    def identifier(self, base_iri: str) -> str:
        """The IRI that names this user in mapping rows (author_id, reviewer_id) and the audit
        log: their ORCID when they have one, else one minted under the base IRI."""
        if self.orcid:
            return ORCID_PREFIX + self.orcid
        return f"{base_iri}users/{self.name}"


# --- the verified-token memory -------------------------------------------------------------------


class TokenCache:
    """Tokens verified lately, by the SHA-256 of the token: at most `size`, each for `seconds`,
    and each only for the version of the users file it was verified against (`signature`), so a
    verification that finishes after the file changed is never served.

    A fast hash is enough for the key: only tokens that did verify get in, and they are random."""

    def __init__(self, size: int = TOKEN_CACHE_SIZE, seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self.size = size
        self.seconds = seconds
        self._entries: OrderedDict[bytes, tuple[float, object, User]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8")).digest()

    def get(self, token: str, signature: object) -> User | None:
        key = self.key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, seen, user = entry
            if expires < time.monotonic() or seen != signature:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return user

    def put(self, token: str, user: User, signature: object) -> None:
        key = self.key(token)
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, signature, user)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# --- the users file ------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature(path: Path) -> tuple[int, ...] | None:
    """What changes when the file is replaced or written: inode, size, modification times."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace the users file with `data` (mode 0600), making its folder private when new."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    replace_atomically(path, data, mode)


class Users:
    """One users file: reading (re-read whenever it changes on disk), checks, atomic writes.

    Safe to share between the threads of a server process; several processes (server workers,
    the CLI) coordinate through the file itself and a lock file beside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.tokens = TokenCache()
        self._lock = threading.Lock()
        self._seen: tuple[tuple[int, ...] | None, dict[str, Any]] = ((-1,), _empty())

    # reading

    def exists(self) -> bool:
        return self.path.is_file()

    def require(self) -> None:
        """WorkbenchOffError (saying how to turn it on) when there is no users file. The message
        names the setting, not the path: it reaches web clients."""
        if not self.exists():
            raise WorkbenchOffError(
                "the review workbench is off: there is no users file. Turn it on with "
                f"`{TURN_ON}` on the server (the users_file setting, or KLL_USERS_FILE, names "
                "the file; keep it outside the repository)"
            )

    def _data(self) -> dict[str, Any]:
        return self._current()[1]

    def _current(self) -> tuple[tuple[int, ...] | None, dict[str, Any]]:
        """The file's signature and content, parsed again only when the file changed (and then
        the verified tokens are forgotten); an absent file reads as no users."""
        signature = _signature(self.path)
        with self._lock:
            if signature == self._seen[0]:
                return self._seen
        data = self._read() if signature is not None else _empty()
        with self._lock:
            self._seen = (signature, data)
            self.tokens.clear()
        return signature, data

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _empty()
        except OSError as exc:
            raise ConfigError(f"cannot read the users file {self.path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the users file {self.path} is not valid JSON: {exc}") from exc
        return _validated(data, self.path)

    def get(self, name: str) -> User | None:
        entry = self._data()["users"].get(name)
        return _user(name, entry) if entry is not None else None

    def list(self) -> builtins.list[User]:
        """Every user, by name."""
        users = self._data()["users"]
        return [_user(name, users[name]) for name in sorted(users)]

    def token_count(self, name: str) -> int:
        return len(self._entry(self._data(), name)["tokens"])

    def account_id(self, name: str) -> str | None:
        """A random id given to a user when added: a session names it, so a user removed and
        added again under the same name does not inherit the old sessions."""
        entry = self._data()["users"].get(name)
        return str(entry["account"]) if entry is not None else None

    def secret_key(self) -> bytes:
        """The random key of this installation (made with the file): the web layer derives
        session keys and sign-in form tokens from it. A file without one gets one."""
        self.require()
        key = self._data().get("secret_key")
        if not key:
            with self._change() as data:
                data["secret_key"] = data.get("secret_key") or secrets.token_hex(32)
                key = data["secret_key"]
        return bytes.fromhex(str(key))

    # verifying

    def verify_password(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs, else None. An unknown name costs a hash too, so
        the time taken does not tell which names exist."""
        if len(password) > MAX_PASSWORD_CHARS:
            return None
        entry = self._data()["users"].get(name)
        if entry is None:
            check_secret(password, _DUMMY_PASSWORD)
            return None
        if not check_secret(password, entry["password"]):
            return None
        return _user(name, entry)

    def issue_token(self, name: str) -> str:
        """A new API token for `name`: returned once, only its hash is kept."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self._change() as data:
            entry = self._entry(data, name)
            entry["tokens"].append(
                {"id": token_id, "hash": hash_secret(secret, TOKEN_COST), "created": _now()}
            )
        return f"{TOKEN_PREFIX}_{token_id}_{secret}"

    def verify_token(self, token: str) -> User | None:
        """The user a token belongs to, or None (malformed, unknown, revoked, user removed)."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        signature, data = self._current()
        remembered = self.tokens.get(token, signature)
        if remembered is not None:
            return remembered
        token_id, secret = match.groups()
        for name, entry in data["users"].items():
            for stored in entry["tokens"]:
                if hmac.compare_digest(stored["id"], token_id):
                    if not check_secret(secret, stored["hash"]):
                        return None
                    user = _user(name, entry)
                    self.tokens.put(token, user, signature)
                    return user
        check_secret(secret, _DUMMY_TOKEN)
        return None

    # writing

    def add(self, name: str, role: str, password: str, orcid: str | None = None) -> User:
        """Add a user; the first one creates the file (and the secret key)."""
        check_name(name)
        check_role(role)
        check_password(password)
        bare = check_orcid(orcid) if orcid else None
        with self._change() as data:
            if name in data["users"]:
                raise ConflictError(
                    f"user '{name}' exists already in {self.path}; change the role with "
                    f"`kll-graph users role {name} ROLE`, or remove the user first"
                )
            data["users"][name] = {
                "role": role,
                "orcid": bare,
                "account": secrets.token_hex(8),
                "password": hash_secret(password),
                "tokens": [],
                "created": _now(),
            }
            data["secret_key"] = data.get("secret_key") or secrets.token_hex(32)
        return User(name, role, bare)

    def remove(self, name: str) -> None:
        """Remove a user with their tokens; their sessions end at their next request."""
        with self._change() as data:
            self._entry(data, name)
            del data["users"][name]

    def set_role(self, name: str, role: str) -> User:
        check_role(role)
        with self._change() as data:
            entry = self._entry(data, name)
            entry["role"] = role
        return _user(name, entry)

    def _entry(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        entry = data["users"].get(name)
        if entry is None:
            known = ", ".join(sorted(data["users"])[:20]) or "none"
            raise NotFoundError(f"no user {name[:70]!r} in {self.path} (users: {known})")
        return entry  # type: ignore[no-any-return]  # validated on reading

    @contextlib.contextmanager
    def _change(self) -> Iterator[dict[str, Any]]:
        """Read the file afresh under the lock file, let the caller change it, write it back
        atomically. Nothing is written when the caller raises."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            data = self._read()
            yield data
            text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            write_atomic(self.path, text.encode("utf-8"))
        finally:
            os.close(descriptor)  # releases the lock
        self._data()


def _empty() -> dict[str, Any]:
    return {"kll_graph_users": FORMAT_VERSION, "secret_key": "", "users": {}}


def _user(name: str, entry: dict[str, Any]) -> User:
    return User(name, str(entry["role"]), entry.get("orcid") or None)


def _validated(data: Any, path: Path) -> dict[str, Any]:
    """The parsed file, checked enough that the rest of this module can trust its shape."""

    def wrong(what: str) -> ConfigError:
        return ConfigError(f"the users file {path} is not one kll-graph wrote: {what}")

    if not isinstance(data, dict) or not isinstance(data.get("users"), dict):
        raise wrong("expected an object with a 'users' object")
    if data.get("kll_graph_users") != FORMAT_VERSION:
        raise wrong(f"expected kll_graph_users = {FORMAT_VERSION}")
    key = data.get("secret_key", "")
    if not isinstance(key, str) or (key and not re.fullmatch(r"[0-9a-f]{64}", key)):
        raise wrong("secret_key must be 64 hexadecimal digits")
    for name, entry in data["users"].items():
        if not isinstance(entry, dict) or not NAME_PATTERN.fullmatch(name):
            raise wrong(f"user {name[:70]!r} is not a valid name with an object")
        if entry.get("orcid") is not None and not isinstance(entry.get("orcid"), str):
            raise wrong(f"user '{name}' has an ORCID that is not text")
        if entry.get("role") not in ROLES:
            raise wrong(f"user '{name}' has role {entry.get('role')!r}; roles: {', '.join(ROLES)}")
        if not isinstance(entry.get("password"), str) or not isinstance(entry.get("account"), str):
            raise wrong(f"user '{name}' lacks a password hash or an account id")
        tokens = entry.setdefault("tokens", [])
        if not isinstance(tokens, list) or not all(
            isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("hash"), str)
            for t in tokens
        ):
            raise wrong(f"user '{name}' has tokens that are not {{id, hash}} objects")
    return data
