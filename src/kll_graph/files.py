"""Replacing a file so that a crash leaves the old one or the new one, never a torn one.

One helper for every file kll-graph rewrites in place (the users file, the mapping sets the
workbench writes, the matcher's candidates): a temporary file in the same directory, created
with the wanted mode, written and fsynced, renamed over the target, then the directory fsynced
so the rename itself survives a power cut. On any failure the temporary file is removed and the
old file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def replace_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` (see the module docstring); raises the OSError that stopped it."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
