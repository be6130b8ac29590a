"""Set files are changed read-check-write: names never become paths outside the directory, no
If-Match is 428, a stale one 409 with what changed, two writers at once never both land, a
writer killed before its rename leaves the old file whole, and a file after a session of
decisions is valid SSSOM to sssom-py and reads back to the same bytes."""

from __future__ import annotations

import multiprocessing
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from kll_graph.digest import sha256_hex
from kll_graph.exceptions import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionRequiredError,
)
from kll_graph.mappings.checks import file_errors
from kll_graph.mappings.sssom import Mapping, MappingSet, format_sssom, parse_sssom, read_sssom
from kll_graph.review.decisions import Decision, decide, undo_last
from kll_graph.review.setfiles import SetFiles, canonical_text, check_set_name
from kll_graph.settings import REPO_ROOT
from tests.mappings.test_sssom import _validate_with_sssom_py
from tests.review.sets_helpers import ANN, BASE, BO, TODAY, candidate, setup

BAD_NAMES = [
    "../etc/passwd",
    "a/b",
    ".hidden",
    "",
    "x" * 200,
    "Nurses",
    "nurses.sssom",
    "nurses\x00",
    "-dash",
    " nurses",
]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _accept(subject: str, set_name: str = "nurses") -> Decision:
    return Decision(set_name, f"jt:{subject}", f"ESCO:occupation/{subject}", "1", "accept")


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_set_names_are_refused_and_nothing_is_touched(tmp_path: Path, name: str) -> None:
    files = setup(tmp_path / "mappings")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0\n")
    before = _tree(tmp_path)
    attempts: list[Callable[[], object]] = [
        lambda: files.path(name),
        lambda: files.read(name),
        lambda: files.etag(name),
        lambda: files.create(name, "t", ANN),
        lambda: files.change(name, '"x"', lambda m: m, who=ANN),
        lambda: undo_last(files, name, ANN, '"x"'),
    ]
    for attempt in attempts:
        with pytest.raises(BadRequestError, match="not a mapping set name") as err:
            attempt()
        assert err.value.parameter == "set"
    assert _tree(tmp_path) == before


def test_good_names() -> None:
    for name in ("nurses", "a", "0-x_y", "z" * 64):
        assert check_set_name(name) == name


def test_names_lists_the_sets_only(tmp_path: Path) -> None:
    files = setup(tmp_path)
    (tmp_path / "Not A Set.sssom.tsv").write_text("x")
    (tmp_path / "notes.tsv").write_text("x")
    assert files.names() == ["candidates", "nurses"]
    assert not [n for n in files.names() if n.startswith(".")]


def test_an_unknown_set_is_404_naming_the_sets(tmp_path: Path) -> None:
    files = setup(tmp_path)
    with pytest.raises(NotFoundError, match=r"no mapping set named 'ghosts' \(sets: candidates"):
        files.read("ghosts")
    with pytest.raises(NotFoundError):
        files.change("ghosts", '"x"', lambda m: m, who=ANN)
    assert not (tmp_path / "ghosts.sssom.tsv").exists()


# --- create and read ----------------------------------------------------------------------------


def test_create_a_set(tmp_path: Path) -> None:
    files = setup(tmp_path)
    etag = files.create("welders", "Welders", BO, who="bo")
    data = files.path("welders").read_bytes()
    assert etag == f'"{sha256_hex(data)}"' == files.etag("welders")
    mset, read_etag = files.read("welders")
    assert read_etag == etag
    assert mset.set_id == f"{BASE}mappings/welders"
    assert mset.metadata["mapping_set_title"] == "Welders"
    assert mset.metadata["creator_id"] == ["user:bo"]
    assert mset.curie_map["user"] == f"{BASE}users/"
    assert mset.mappings == []
    assert file_errors(read_sssom(files.path("welders"))) == []
    (entry,) = files.audit.entries("welders")
    assert (entry.action, entry.user, entry.etag_after) == ("create", "bo", etag)


def test_create_refuses_an_existing_name(tmp_path: Path) -> None:
    files = setup(tmp_path)
    before = files.path("nurses").read_bytes()
    with pytest.raises(ConflictError, match="exists already"):
        files.create("nurses", "again", BO)
    assert files.path("nurses").read_bytes() == before


def test_create_needs_a_title_and_a_user_iri(tmp_path: Path) -> None:
    files = setup(tmp_path)
    with pytest.raises(BadRequestError, match="title"):
        files.create("welders", "  ", BO)
    with pytest.raises(BadRequestError, match="not a user IRI"):
        files.create("welders", "W", "bo")
    assert not files.path("welders").exists()


# --- If-Match -----------------------------------------------------------------------------------


def test_no_if_match_is_428(tmp_path: Path) -> None:
    files = setup(tmp_path)
    before = files.path("nurses").read_bytes()
    for header in (None, "", "  "):
        with pytest.raises(PreconditionRequiredError, match="If-Match") as err:
            decide(files, _accept("a"), None, ANN, header, today=TODAY)
        assert err.value.status == 428
    assert files.path("nurses").read_bytes() == before


def test_a_stale_etag_is_409_with_the_changes_since(tmp_path: Path) -> None:
    files = setup(tmp_path)
    start = files.etag("nurses")
    first, _row = decide(files, _accept("a"), None, ANN, start, today=TODAY)
    second, _row = decide(files, _accept("b"), None, ANN, first.etag, today=TODAY)
    written = files.path("nurses").read_bytes()
    with pytest.raises(ConflictError, match="changed since your copy") as err:
        decide(files, _accept("c"), None, BO, start, today=TODAY)
    assert err.value.status == 409
    changes = cast(list[dict[str, Any]], err.value.changes)
    assert [c["etag_after"] for c in changes] == [first.etag, second.etag]
    assert [c["after"][0]["subject_id"] for c in changes] == ["jt:a", "jt:b"]
    assert all(c["user"] == ANN for c in changes)
    assert files.path("nurses").read_bytes() == written
    # with the fresh ETag the same decision lands
    third, _row = decide(files, _accept("c"), None, BO, second.etag, today=TODAY)
    assert third.etag == files.etag("nurses")


def test_a_change_that_would_fail_the_file_checks_is_refused(tmp_path: Path) -> None:
    files = setup(tmp_path)
    before = files.path("nurses").read_bytes()
    entries = len(files.audit.entries("nurses"))

    def edit(mset: MappingSet) -> MappingSet:
        row = Mapping(
            {
                "subject_id": "zz:1",
                "predicate_id": "skos:exactMatch",
                "object_id": "ESCO:occupation/1",
                "mapping_justification": "semapv:ManualMappingCuration",
            }
        )
        return MappingSet(mset.curie_map, mset.metadata, [*mset.mappings, row])

    with pytest.raises(BadRequestError, match="prefix 'zz' of 'zz:1' is not declared"):
        files.change("nurses", files.etag("nurses"), edit, who=ANN)
    assert files.path("nurses").read_bytes() == before
    assert len(files.audit.entries("nurses")) == entries
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_edit_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    files = setup(tmp_path)
    etag = files.etag("candidates")
    result = files.change("candidates", etag, lambda m: m, who=ANN)
    assert result.etag == etag and result.entry is None
    assert files.audit.entries("candidates") == []


def test_rows_are_written_in_canonical_order_whatever_the_order_of_decisions(
    tmp_path: Path,
) -> None:
    subjects = ["welder", "baker", "kid_nurse", "aa"]
    texts = []
    for order in (subjects, subjects[::-1]):
        files = setup(tmp_path / "-".join(order))
        for subject in order:
            decide(files, _accept(subject), None, ANN, files.etag("nurses"), today=TODAY)
        texts.append(files.path("nurses").read_text())
    assert texts[0] == texts[1]
    rows = read_sssom(tmp_path / "-".join(subjects) / "nurses.sssom.tsv").mappings
    assert [m.get("subject_id") for m in rows] == sorted(m.get("subject_id") for m in rows)


# --- two writers at once ------------------------------------------------------------------------


def _slow_fsync() -> None:
    """Widen the window between reading and renaming, so overlapping writers really overlap."""
    real = os.fsync

    def slow(fd: Any) -> None:
        time.sleep(0.3)
        real(fd)

    os.fsync = slow


def _write_in_child(directory: str, subject: str, etag: str, barrier: Any, out: Any) -> None:
    _slow_fsync()
    files = SetFiles(Path(directory), BASE)
    barrier.wait()
    try:
        result, _row = decide(files, _accept(subject), None, ANN, etag, today=TODAY)
        out.put(("won", subject, result.etag))
    except ConflictError as exc:
        changes = cast(list[dict[str, Any]], exc.changes)
        out.put(("conflict", subject, [c["etag_after"] for c in changes]))


def test_two_processes_with_the_same_etag_one_wins_one_gets_409(tmp_path: Path) -> None:
    files = setup(tmp_path)
    context = multiprocessing.get_context("spawn")
    for round_number in range(2):
        etag = files.etag("nurses")
        barrier = context.Barrier(2)
        out = context.Queue()
        subjects = [f"r{round_number}_a", f"r{round_number}_b"]
        children = [
            context.Process(target=_write_in_child, args=(str(tmp_path), s, etag, barrier, out))
            for s in subjects
        ]
        for child in children:
            child.start()
        results = sorted(out.get(timeout=60) for _ in children)
        for child in children:
            child.join(timeout=30)
            assert child.exitcode == 0
        assert [r[0] for r in results] == ["conflict", "won"]
        (_c, loser, changes), (_w, winner, winner_etag) = results
        assert changes == [winner_etag]
        assert files.etag("nurses") == winner_etag
        written = read_sssom(files.path("nurses"))
        subjects_written = {m.get("subject_id") for m in written.mappings}
        assert f"jt:{winner}" in subjects_written and f"jt:{loser}" not in subjects_written
        assert file_errors(written) == []


def test_two_threads_with_the_same_etag_one_wins_one_gets_409(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = setup(tmp_path)
    real = os.fsync

    def slow(fd: Any) -> None:
        time.sleep(0.2)
        real(fd)

    monkeypatch.setattr(os, "fsync", slow)
    etag = files.etag("nurses")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(subject: str) -> None:
        barrier.wait()
        try:
            decide(SetFiles(tmp_path, BASE), _accept(subject), None, BO, etag, today=TODAY)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(s,)) for s in ("t_a", "t_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    assert len(read_sssom(files.path("nurses")).mappings) == 1


# --- a writer killed before its rename ----------------------------------------------------------

KILLED_WRITER = """
import os, sys, time
from pathlib import Path

from kll_graph.review.decisions import Decision, decide
from kll_graph.review.setfiles import SetFiles
from tests.review.sets_helpers import ANN, BASE, TODAY


def stop_before_rename(source, target):
    print("written", source, flush=True)
    time.sleep(3600)


os.replace = stop_before_rename
files = SetFiles(Path(sys.argv[1]), BASE)
decision = Decision("nurses", "jt:killed", "ESCO:occupation/killed", "1", "accept")
decide(files, decision, None, ANN, files.etag("nurses"), today=TODAY)
"""


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _w, _x = select.select([process.stdout], [], [], timeout)
    assert ready, "the writer did not reach its rename"
    return process.stdout.readline()


def test_a_writer_killed_between_write_and_rename_leaves_the_old_file(tmp_path: Path) -> None:
    files = setup(tmp_path)
    decide(files, _accept("before"), None, ANN, files.etag("nurses"), today=TODAY)
    before = files.path("nurses").read_bytes()
    entries = len(files.audit.entries("nurses"))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = _read_line(process, 60)
        temporary = Path(line.split()[1])
        # the new content was complete and fsynced in the temporary file when it died
        assert "jt:killed" in temporary.read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert files.path("nurses").read_bytes() == before
    assert file_errors(read_sssom(files.path("nurses"))) == []
    assert len(files.audit.entries("nurses")) == entries
    assert temporary.exists()
    assert not [n for n in files.names() if "killed" in n]
    # the lock died with the writer; the next write lands and clears the leftover
    result, _row = decide(files, _accept("after"), None, ANN, files.etag("nurses"), today=TODAY)
    assert not temporary.exists()
    assert not list(tmp_path.glob(".nurses.sssom.tsv.*"))
    subjects = {m.get("subject_id") for m in read_sssom(files.path("nurses")).mappings}
    assert subjects == {"jt:before", "jt:after"}
    assert result.etag == files.etag("nurses")


# --- a session's file is valid SSSOM ------------------------------------------------------------


def _session(files: SetFiles) -> None:
    """A reviewing session: every kind of decision, a manual mapping, an odd comment, an undo."""
    steps: list[tuple[Decision, Mapping | None, str]] = [
        (
            Decision(
                "nurses",
                "jt:kid_nurse",
                "ESCO:occupation/nurse",
                "3",
                "accept",
                'he said "broader" – åäö | yes',
            ),
            candidate(files, "jt:kid_nurse"),
            BO,
        ),
        (
            Decision("nurses", "jt:welder", "ESCO:occupation/welder", "", "reject", "no"),
            candidate(files, "jt:welder"),
            BO,
        ),
        (
            Decision("nurses", "jt:baker", "ESCO:occupation/baker", "", "unsure"),
            candidate(files, "jt:baker"),
            BO,
        ),
        (Decision("nurses", "jt:cook", "", "", "no-term-found", "none fits"), None, ANN),
        (Decision("nurses", "jt:smith", "ESCO:occupation/smith", "5", "accept"), None, ANN),
        (Decision("nurses", "jt:oops", "ESCO:occupation/oops", "4", "accept"), None, ANN),
    ]
    for decision, cand, user in steps:
        decide(files, decision, cand, user, files.etag("nurses"), today=TODAY)
    undo_last(files, "nurses", ANN, files.etag("nurses"))


def test_a_sessions_file_validates_with_sssom_py_and_round_trips(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = setup(tmp_path)
    _session(files)
    path = files.path("nurses")
    text = path.read_text(encoding="utf-8")
    mset = parse_sssom(text, path)
    assert len(mset.mappings) == 5
    assert file_errors(mset) == []
    assert format_sssom(mset) == text
    assert canonical_text(mset) == text
    assert _validate_with_sssom_py(path, caplog) == 5


def test_a_sessions_file_passes_the_sssom_validate_command(tmp_path: Path) -> None:
    command = shutil.which("sssom", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("the sssom command is not installed beside this Python")
    files = setup(tmp_path)
    _session(files)
    done = subprocess.run(
        [command, "validate", str(files.path("nurses"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # and the command does fail on a broken file, so the pass above means something
    broken = tmp_path / "broken.sssom.tsv"
    broken.write_text(files.path("nurses").read_text().replace("jt:cook", "zz:cook"))
    failed = subprocess.run(
        [command, "validate", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert failed.returncode != 0
