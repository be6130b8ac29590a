"""SHA-256 checksums as hex text: of a file (read in chunks) and of bytes.

One helper for every checksum we write or compare (source files in the catalog, downloads in the
fetch manifest, ETags), so they are all computed alike. The cache keys of :mod:`kll_graph.lru`
are another matter: a tagged encoding of structured keys, kept there.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Bytes read from a file at a time.
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_hex(*chunks: bytes) -> str:
    """Hex SHA-256 of the chunks one after the other (as if joined).

    >>> sha256_hex(b"a", b"bc") == sha256_hex(b"abc")
    True
    >>> sha256_hex(b"")[:12]
    'e3b0c44298fc'
    """
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
