"""The users file: hashing, tokens, checks, atomic 0600 writes, and `kll-graph users` through
click's runner, on real files in a temporary directory."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kll_graph.cli import main
from kll_graph.exceptions import (
    BadRequestError,
    ConfigError,
    ConflictError,
    NotFoundError,
    WorkbenchOffError,
)
from kll_graph.review import users as users_module
from kll_graph.review.users import (
    MIN_PASSWORD_CHARS,
    ROLES,
    TOKEN_COST,
    TokenCache,
    User,
    Users,
    check_orcid,
    check_secret,
    hash_secret,
)

PASSWORD = "correct horse battery staple"
ORCID = "0000-0002-1825-0097"  # ORCID's own documented example, with a valid check character


@pytest.fixture
def users(tmp_path: Path) -> Users:
    return Users(tmp_path / "config" / "users.json")


# --- hashing -------------------------------------------------------------------------------------


def test_hash_round_trip_and_wrong_secret() -> None:
    stored = hash_secret(PASSWORD)
    assert stored.startswith("scrypt$15$8$1$")
    assert PASSWORD not in stored
    assert check_secret(PASSWORD, stored)
    assert not check_secret(PASSWORD + "!", stored)
    assert not check_secret("", stored)
    # a fresh salt every time: the same password never hashes alike
    assert hash_secret(PASSWORD) != stored


def test_hash_is_unicode_normalised() -> None:
    composed, decomposed = "lösenord på svenska", "lo\u0308senord pa\u030a svenska"
    assert composed != decomposed
    assert check_secret(decomposed, hash_secret(composed))


def test_hand_edited_hash_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="scrypt"):
        check_secret(PASSWORD, "md5$abc")
    stored = hash_secret(PASSWORD).split("$")
    stored[1] = "30"  # 2^30 blocks: gigabytes per sign-in
    with pytest.raises(ConfigError, match="out-of-range"):
        check_secret(PASSWORD, "$".join(stored))


# --- users ---------------------------------------------------------------------------------------


def test_no_file_is_workbench_off(users: Users) -> None:
    assert not users.exists()
    assert users.list() == []
    assert users.verify_password("anna", PASSWORD) is None
    with pytest.raises(WorkbenchOffError) as caught:
        users.require()
    assert "kll-graph users add NAME --role admin --password-stdin" in str(caught.value)
    assert "users_file" in str(caught.value)


def test_add_verify_and_wrong_password(users: Users) -> None:
    anna = users.add("anna", "reviewer", PASSWORD, orcid=ORCID)
    assert anna == User("anna", "reviewer", ORCID)
    assert users.exists()
    assert users.verify_password("anna", PASSWORD) == anna
    assert users.verify_password("anna", PASSWORD.upper()) is None
    assert users.verify_password("bert", PASSWORD) is None
    assert users.verify_password("anna", "x" * 2000) is None
    text = users.path.read_text()
    assert PASSWORD not in text and "scrypt$" in text


def test_roles_include_the_lower_ones() -> None:
    reviewer = User("r", "reviewer")
    assert reviewer.can("viewer") and reviewer.can("editor") and reviewer.can("reviewer")
    assert not reviewer.can("admin")
    assert User("v", "viewer").can("viewer") and not User("v", "viewer").can("editor")
    with pytest.raises(BadRequestError, match="viewer, editor, reviewer, admin"):
        reviewer.can("owner")


def test_identifier_is_orcid_or_minted() -> None:
    base = "https://data.example/kll/"
    assert User("anna", "editor", ORCID).identifier(base) == f"https://orcid.org/{ORCID}"
    assert User("bert", "editor").identifier(base) == "https://data.example/kll/users/bert"


@pytest.mark.parametrize(
    ("name", "role", "password", "orcid", "message"),
    [
        ("../etc", "editor", PASSWORD, None, "lowercase letters a-z"),
        ("anna\x00", "editor", PASSWORD, None, "not allowed"),
        ("Anna", "editor", PASSWORD, None, "not allowed"),
        ("a" * 65, "editor", PASSWORD, None, "at most 64"),
        ("", "editor", PASSWORD, None, "not allowed"),
        ("anna", "owner", PASSWORD, None, "viewer, editor, reviewer, admin"),
        ("anna", "editor", "short", None, f"at least {MIN_PASSWORD_CHARS}"),
        ("anna", "editor", "x" * 1025, None, "at most 1024"),
        ("anna", "editor", PASSWORD, "0000-0002-1825-0098", "not an ORCID"),
        ("anna", "editor", PASSWORD, "orcid", "not an ORCID"),
    ],
)
def test_bad_input_says_what_is_wrong(
    users: Users, name: str, role: str, password: str, orcid: str | None, message: str
) -> None:
    with pytest.raises(BadRequestError, match=message):
        users.add(name, role, password, orcid=orcid)
    assert not users.path.exists()  # nothing written


def test_orcid_as_iri_is_kept_bare() -> None:
    assert check_orcid(f"https://orcid.org/{ORCID}") == ORCID
    assert check_orcid("0000-0002-9079-593X") == "0000-0002-9079-593X"  # X as check character


def test_duplicate_and_missing_users(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    with pytest.raises(ConflictError, match="exists already"):
        users.add("anna", "admin", PASSWORD)
    with pytest.raises(NotFoundError, match=r"no user 'bert'.*users: anna"):
        users.remove("bert")
    with pytest.raises(NotFoundError):
        users.set_role("bert", "admin")
    with pytest.raises(NotFoundError):
        users.issue_token("bert")


def test_set_role_and_remove(users: Users) -> None:
    users.add("anna", "viewer", PASSWORD)
    users.add("bert", "editor", PASSWORD)
    assert users.set_role("anna", "admin") == User("anna", "admin")
    assert users.get("anna") == User("anna", "admin")
    users.remove("bert")
    assert [u.name for u in users.list()] == ["anna"]
    assert users.verify_password("bert", PASSWORD) is None


def test_account_id_changes_when_a_name_is_reused(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    first = users.account_id("anna")
    users.remove("anna")
    assert users.account_id("anna") is None
    users.add("anna", "editor", PASSWORD)
    assert users.account_id("anna") not in (None, first)


def test_secret_key_is_made_once(users: Users) -> None:
    with pytest.raises(WorkbenchOffError):
        users.secret_key()
    users.add("anna", "editor", PASSWORD)
    key = users.secret_key()
    assert len(key) == 32
    users.add("bert", "editor", PASSWORD)
    assert Users(users.path).secret_key() == key


def test_secret_key_added_to_a_file_without_one(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    data = json.loads(users.path.read_text())
    data["secret_key"] = ""
    users.path.write_text(json.dumps(data))
    key = users.secret_key()
    assert json.loads(users.path.read_text())["secret_key"] == key.hex()


def test_malformed_file_is_a_config_error(users: Users) -> None:
    users.path.parent.mkdir(parents=True)
    users.path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        users.list()
    users.path.write_text(json.dumps({"kll_graph_users": 1, "users": {"anna": {"role": "god"}}}))
    with pytest.raises(ConfigError, match="role 'god'"):
        Users(users.path).list()


# --- tokens --------------------------------------------------------------------------------------


def test_token_shown_once_and_verified(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    token = users.issue_token("anna")
    assert token.startswith("kll_") and len(token.split("_", 2)[2]) == 43
    assert token.split("_", 2)[2] not in users.path.read_text()  # only its hash is kept
    assert users.token_count("anna") == 1
    fresh = Users(users.path)  # another process: no memory of it
    assert fresh.verify_token(token) == User("anna", "editor")
    assert fresh.verify_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert fresh.verify_token("kll_0000000000000000_" + "a" * 43) is None
    assert fresh.verify_token("Bearer " + token) is None
    assert fresh.verify_token("") is None


def test_token_of_a_removed_user_fails_even_when_remembered(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    users.add("bert", "editor", PASSWORD)
    token = users.issue_token("anna")
    server = Users(users.path)
    assert server.verify_token(token) is not None
    assert len(server.tokens) == 1  # remembered
    Users(users.path).remove("anna")  # the CLI, another object (another process)
    assert server.verify_token(token) is None


def test_role_change_reaches_a_remembered_token(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    token = users.issue_token("anna")
    server = Users(users.path)
    assert server.verify_token(token) == User("anna", "editor")
    Users(users.path).set_role("anna", "viewer")
    assert server.verify_token(token) == User("anna", "viewer")


def test_verified_token_costs_no_second_hash(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    token = users.issue_token("anna")
    server = Users(users.path)
    started = time.perf_counter()
    server.verify_token(token)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(100):
        assert server.verify_token(token) is not None
    hundred = time.perf_counter() - started
    assert hundred < first, (first, hundred)  # 100 remembered checks < one scrypt


def test_token_cache_is_bounded_and_expires() -> None:
    cache = TokenCache(size=2, seconds=0.05)
    anna = User("anna", "editor")
    for token in ("a", "b", "c"):
        cache.put(token, anna, "v1")
    assert len(cache) == 2 and cache.get("a", "v1") is None and cache.get("c", "v1") == anna
    assert cache.get("c", "v2") is None  # another version of the file
    cache.put("d", anna, "v1")
    time.sleep(0.06)
    assert cache.get("d", "v1") is None


def test_token_hash_uses_token_cost(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    users.issue_token("anna")
    stored = json.loads(users.path.read_text())["users"]["anna"]["tokens"][0]["hash"]
    assert stored.startswith(f"scrypt${TOKEN_COST.log_n}$")


# --- the file on disk ----------------------------------------------------------------------------


def test_file_mode_is_0600(users: Users) -> None:
    users.add("anna", "editor", PASSWORD)
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600
    users.path.chmod(0o644)
    users.issue_token("anna")  # every write makes a new file
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600


def test_failed_write_leaves_the_old_file(users: Users, monkeypatch: pytest.MonkeyPatch) -> None:
    users.add("anna", "editor", PASSWORD)
    before = users.path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        users.add("bert", "editor", PASSWORD)
    monkeypatch.undo()
    assert users.path.read_bytes() == before
    assert sorted(p.name for p in users.path.parent.iterdir()) == ["users.json", "users.json.lock"]
    assert [u.name for u in Users(users.path).list()] == ["anna"]


def test_concurrent_writers_lose_nothing(users: Users) -> None:
    users.add("admin", "admin", PASSWORD)
    errors: list[BaseException] = []

    def issue() -> None:
        try:
            Users(users.path).issue_token("admin")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Users(users.path).token_count("admin") == 6


def test_roles_are_in_rank_order() -> None:
    assert ROLES == ("viewer", "editor", "reviewer", "admin")
    assert users_module.NAME_PATTERN.fullmatch("anna.berg-2_x")


# --- the command line ----------------------------------------------------------------------------


def cli(users_file: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KLL_")}
    result = CliRunner(env=unset).invoke(
        main, ["users", "--users-file", str(users_file), *args], input=input
    )
    return result.exit_code, result.stdout, result.stderr


def test_cli_add_list_token_role_remove(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    code, _, err = cli(path, "add", "anna", "--role", "admin", "--password-stdin", input=PASSWORD)
    assert code == 0, err
    assert "added anna (admin)" in err
    code, _, err = cli(
        path, "add", "bert", "--role", "editor", "--orcid", ORCID, "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert Users(path).verify_password("bert", PASSWORD) is not None  # the newline is dropped
    code, token, err = cli(path, "token", "anna")
    assert code == 0
    token = token.strip()
    assert "will not be shown again" in err and token not in err
    assert Users(path).verify_token(token) == User("anna", "admin")
    code, out, _ = cli(path, "list")
    lines = out.splitlines()
    assert lines[0].split() == ["name", "role", "orcid", "tokens"]
    assert lines[1].split() == ["anna", "admin", "-", "1"]
    assert lines[2].split() == ["bert", "editor", ORCID, "0"]
    assert "scrypt" not in out and "$" not in out
    code, _, err = cli(path, "role", "bert", "reviewer")
    assert code == 0 and "bert is now reviewer" in err
    code, _, _ = cli(path, "remove", "anna")
    assert code == 0
    assert Users(path).verify_token(token) is None
    assert [u.name for u in Users(path).list()] == ["bert"]


def test_cli_refuses_a_password_argument(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    code, _, err = cli(path, "add", "anna", "--role", "admin", input=PASSWORD)
    assert code == 2 and "--password-stdin" in err
    code, _, err = cli(path, "add", "anna", "--role", "admin", "--password", PASSWORD)
    assert code == 2 and "No such option" in err
    assert not path.exists()


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    code, _, err = cli(path, "add", "../x", "--role", "admin", "--password-stdin", input=PASSWORD)
    assert code == 1 and err.startswith("error: user name '../x' is not allowed")
    code, _, err = cli(path, "add", "anna", "--role", "admin", "--password-stdin", input="short")
    assert code == 1 and "at least 12" in err and "Traceback" not in err
    code, _, err = cli(path, "add", "anna", "--role", "owner", "--password-stdin", input=PASSWORD)
    assert code == 2 and "viewer" in err and "admin" in err
    cli(path, "add", "anna", "--role", "admin", "--password-stdin", input=PASSWORD)
    code, _, err = cli(path, "add", "anna", "--role", "admin", "--password-stdin", input=PASSWORD)
    assert code == 1 and "exists already" in err
    code, _, err = cli(path, "token", "nobody")
    assert code == 1 and "no user 'nobody'" in err
    code, _, err = cli(path, "remove", "nobody")
    assert code == 1 and "no user 'nobody'" in err


def test_cli_list_without_file_says_how_to_start(tmp_path: Path) -> None:
    code, out, err = cli(tmp_path / "none.json", "list")
    assert code == 0 and out == ""
    assert "workbench is off" in err and "--password-stdin" in err


def test_cli_reads_the_users_file_setting(tmp_path: Path) -> None:
    path = tmp_path / "from-env.json"
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KLL_")}
    env["KLL_USERS_FILE"] = str(path)
    result = CliRunner(env=env).invoke(
        main, ["users", "add", "anna", "--role", "viewer", "--password-stdin"], input=PASSWORD
    )
    assert result.exit_code == 0, result.stderr
    assert Users(path).get("anna") == User("anna", "viewer")
