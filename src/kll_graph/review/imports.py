"""Importing a mapping file into a set, with a preview: upload → checks → added, changed and
removed rows → confirm (or drop: nothing is kept between the two requests).

The uploaded file becomes the set's rows; the set keeps its own metadata (id, title, licence),
and the file's prefixes join the set's. An SSSOM TSV file is read as it is; an ESCO
mapping-tool CSV export (the format of Sweden's official tables) is converted first. The file
must pass the same file checks a build applies, so an import can never leave a set the next
build refuses. The confirm is sent with the set's ETag, so the preview a person approved is the
change that lands (409 when the set changed in between).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kll_graph.exceptions import BadRequestError, SssomError
from kll_graph.mappings.checks import file_errors
from kll_graph.mappings.official_tables import convert_tables
from kll_graph.mappings.sssom import Mapping, MappingSet, iri_of, parse_sssom
from kll_graph.review.setfiles import ChangeResult, SetFiles, check_set_name, propagate

FORMATS = ("sssom", "esco-csv")
#: Rows a preview lists of each kind (the counts are always complete).
PREVIEW_ROWS = 200


@dataclass(frozen=True)
class Preview:
    """What confirming an upload would do to a set."""

    set: str
    exists: bool
    upload: MappingSet
    added: list[Mapping]
    changed: list[tuple[Mapping, Mapping]]
    removed: list[Mapping]

    def json(self) -> dict[str, Any]:
        return {
            "set": self.set,
            "new_set": not self.exists,
            "counts": {
                "rows": len(self.upload.mappings),
                "added": len(self.added),
                "changed": len(self.changed),
                "removed": len(self.removed),
            },
            "added": [dict(m.slots) for m in self.added[:PREVIEW_ROWS]],
            "changed": [
                {"before": dict(a.slots), "after": dict(b.slots)}
                for a, b in self.changed[:PREVIEW_ROWS]
            ],
            "removed": [dict(m.slots) for m in self.removed[:PREVIEW_ROWS]],
        }


def read_upload(content: str, kind: str, base_iri: str, name: str) -> MappingSet:
    """The uploaded text as a mapping set (BadRequestError/SssomError saying where it is wrong)."""
    if kind not in FORMATS:
        raise BadRequestError(f"format {kind[:30]!r} is unknown; use one of {', '.join(FORMATS)}")
    if not content.strip():
        raise BadRequestError("the uploaded file is empty", parameter="content")
    if kind == "sssom":
        mset = parse_sssom(content, Path(f"upload-{name}.sssom.tsv"))
    else:
        mset = _convert_csv(content, base_iri, name)
    errors = file_errors(mset)
    if errors:
        first = errors[0]
        raise SssomError(
            f"{first.check}: {first.slot + ': ' if first.slot else ''}{first.message}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            path="upload",
            line=first.line,
        )
    return mset


def _convert_csv(content: str, base_iri: str, name: str) -> MappingSet:
    """An ESCO mapping-tool CSV export, converted by the official-tables converter (which reads
    a file, so the text goes through a private temporary file that is removed at once)."""
    with tempfile.TemporaryDirectory(prefix="kll-import-") as tmp:
        path = Path(tmp) / f"{name}.csv"
        path.write_text(content, encoding="utf-8")
        mset, _tables = convert_tables([path], f"{base_iri}mappings/{name}")
    mset.path = None
    return mset


def _key(mset: MappingSet, row: Mapping) -> tuple[str, str]:
    slots = _expanded_slots(mset, row)
    return slots["subject_id"], slots["object_id"]


def preview(files: SetFiles, name: str, content: str, kind: str) -> Preview:
    """Compare the upload with the set's rows, by pair (subject and object as full IRIs)."""
    name = check_set_name(name)
    upload = propagate(read_upload(content, kind, files.base_iri, name))  # as sets are read
    exists = name in files.names()
    current = files.read(name)[0] if exists else MappingSet({}, {}, [])
    old = {_key(current, m): m for m in current.mappings}
    new = {_key(upload, m): m for m in upload.mappings}
    added = [m for k, m in new.items() if k not in old]
    removed = [m for k, m in old.items() if k not in new]
    changed = [
        (old[k], m)
        for k, m in new.items()
        if k in old and _expanded_slots(current, old[k]) != _expanded_slots(upload, m)
    ]
    return Preview(name, exists, upload, added, changed, removed)


def _expanded_slots(mset: MappingSet, row: Mapping) -> dict[str, str]:
    """A row's slots with its ids as IRIs, so the same row under other prefixes is unchanged."""
    prefixes = mset.prefixes()
    out = dict(row.slots)
    for slot in ("subject_id", "object_id"):
        value = out.get(slot, "")
        out[slot] = iri_of(value, prefixes) or value
    return out


def apply(
    files: SetFiles, found: Preview, user_iri: str, if_match: str | None, *, request_id: str = ""
) -> ChangeResult:
    """Write the previewed upload into its set (creating the set when it is new)."""
    if not found.exists:
        title = str(found.upload.metadata.get("mapping_set_title") or found.set)
        if_match = files.create(found.set, title, user_iri, request_id=request_id, who=user_iri)

    def edit(mset: MappingSet) -> MappingSet:
        curie_map = {**found.upload.curie_map, **mset.curie_map}
        return MappingSet(
            curie_map,
            dict(mset.metadata),
            list(found.upload.mappings),
            mset.path,
            mset.columns,
            mset.metadata_lines,
            mset.header_line,
            mset.notes,
        )

    try:
        return files.change(
            found.set, if_match, edit, who=user_iri, request_id=request_id, action="import"
        )
    except SssomError as exc:  # the merged set fails a check the upload alone passed
        raise BadRequestError(f"the import would leave set {found.set!r} invalid: {exc}") from exc
