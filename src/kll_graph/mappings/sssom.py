"""SSSOM/TSV mapping sets: read, write (canonically) and describe their slots.

A mapping set file is a ``#``-prefixed YAML metadata block (``curie_map``, ``mapping_set_id``,
``license``, ...) followed by a tab-separated table whose header names SSSOM slots. This module
knows the format only: it parses what is there, refuses what cannot be parsed (naming file, line
and column and what was expected), and writes the canonical form of the SSSOM specification
(fixed slot order, sorted rows, condensed set-level values, ``\\n`` line ends) so that a diff in git
shows real changes only. Whether the content is *right* (known prefixes, predicates,
justifications, duplicates ...) is :mod:`kll_graph.mappings.checks`' job.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kll_graph.exceptions import SssomError
from kll_graph.namespaces import OWL, RDF, RDFS, SEMAPV, SKOS, SSSOM, split_iri

if TYPE_CHECKING:
    from _csv import Reader as CsvReader


def _names(text: str) -> tuple[str, ...]:
    """Slot names from a whitespace-separated block: long lists read as a paragraph."""
    return tuple(text.split())


#: Columns of the mappings block in the order of the SSSOM `Mapping` class (canonical order).
MAPPING_SLOTS: tuple[str, ...] = _names(
    """
    record_id subject_id subject_label subject_category predicate_id predicate_label
    predicate_modifier object_id object_label object_category mapping_justification author_id
    author_label reviewer_id reviewer_label creator_id creator_label license subject_type
    subject_source subject_source_version object_type object_source object_source_version
    predicate_type mapping_provider mapping_source mapping_cardinality cardinality_scope
    mapping_tool mapping_tool_id mapping_tool_version mapping_date publication_date review_date
    confidence reviewer_agreement curation_rule curation_rule_text subject_match_field
    object_match_field match_string subject_preprocessing object_preprocessing similarity_score
    similarity_measure see_also issue_tracker_item other comment
    """
)

#: Keys of the metadata block in the order of the SSSOM `MappingSet` class (without mappings).
SET_SLOTS: tuple[str, ...] = _names(
    """
    sssom_version curie_map mapping_set_id mapping_set_version mapping_set_source mapping_set_title
    mapping_set_description mapping_set_confidence creator_id creator_label license subject_type
    subject_source subject_source_version object_type object_source object_source_version
    predicate_type mapping_provider cardinality_scope mapping_tool mapping_tool_id
    mapping_tool_version mapping_date publication_date subject_match_field object_match_field
    subject_preprocessing object_preprocessing similarity_measure curation_rule curation_rule_text
    see_also issue_tracker other comment extension_definitions
    """
)

#: Slots holding several values (`|`-separated in the table, YAML sequences in the metadata).
MULTIVALUED = frozenset(
    _names(
        """
        creator_id creator_label author_id author_label reviewer_id reviewer_label
        mapping_set_source cardinality_scope subject_match_field object_match_field match_string
        subject_preprocessing object_preprocessing curation_rule curation_rule_text see_also
        """
    )
)

#: Slots whose values are identifiers, written as CURIEs.
ENTITY_REFERENCES = frozenset(
    _names(
        """
        record_id subject_id predicate_id object_id mapping_justification author_id reviewer_id
        creator_id subject_source object_source mapping_source mapping_tool_id curation_rule
        subject_match_field object_match_field subject_preprocessing object_preprocessing
        issue_tracker_item
        """
    )
)
#: Slots whose values are full IRIs.
URI_SLOTS = frozenset(
    {
        "license",
        "mapping_provider",
        "see_also",
        "mapping_set_id",
        "mapping_set_source",
        "issue_tracker",
    }
)
DATE_SLOTS = frozenset({"mapping_date", "publication_date", "review_date"})
DOUBLE_SLOTS = frozenset(
    {"confidence", "reviewer_agreement", "similarity_score", "mapping_set_confidence"}
)

#: Set-level slots whose value holds for every mapping unless a mapping has its own
#: ("propagatable" in the specification); the canonical writer condenses them.
PROPAGATABLE: tuple[str, ...] = _names(
    """
    subject_type predicate_type object_type subject_source subject_source_version object_source
    object_source_version mapping_provider cardinality_scope mapping_tool mapping_tool_id
    mapping_tool_version mapping_date subject_match_field object_match_field subject_preprocessing
    object_preprocessing curation_rule curation_rule_text similarity_measure
    """
)

#: Prefixes every SSSOM file may use without declaring them.
BUILTIN_PREFIXES: dict[str, str] = {
    "owl": OWL.iri,
    "rdf": RDF.iri,
    "rdfs": RDFS.iri,
    "semapv": SEMAPV.iri,
    "skos": SKOS.iri,
    "sssom": SSSOM.iri,
}
NO_TERM_FOUND = "sssom:NoTermFound"
#: The SKOS mapping predicates as rows write them; the other modules use these names.
EXACT_MATCH = "skos:exactMatch"
CLOSE_MATCH = "skos:closeMatch"
BROAD_MATCH = "skos:broadMatch"
NARROW_MATCH = "skos:narrowMatch"
RELATED_MATCH = "skos:relatedMatch"
#: The predicates that say two concepts are the same or one holds the other (not only related).
POSITIVE_MATCHES = (EXACT_MATCH, CLOSE_MATCH, BROAD_MATCH, NARROW_MATCH)
#: The licence SSSOM tools record when a set's licence is not known.
UNSPECIFIED_LICENSE = SSSOM["license/unspecified"].value
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
REQUIRED_METADATA = ("mapping_set_id", "license")

_CURIE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*):(\S*)$")


@dataclass
class Mapping:
    """One row of a mapping set: slot name -> text (multivalued slots `|`-joined), and where
    it came from (the line in the file it was read from, or in the table it was converted from)."""

    slots: dict[str, str]
    line: int = 0

    def get(self, slot: str) -> str:
        return self.slots.get(slot, "")

    @property
    def negated(self) -> bool:
        return self.get("predicate_modifier") == "Not"

    @property
    def no_term(self) -> bool:
        """True for "no match found" rows (sssom:NoTermFound on either side)."""
        return NO_TERM_FOUND in (self.get("subject_id"), self.get("object_id"))


@dataclass
class MappingSet:
    """A mapping set: its CURIE map, its set-level metadata and its mappings."""

    curie_map: dict[str, str]
    metadata: dict[str, Any]
    mappings: list[Mapping]
    path: Path | None = None
    #: The header as read (to check columns); empty for sets built in code.
    columns: list[str] = field(default_factory=list)
    #: Line of each metadata key in the file, for findings.
    metadata_lines: dict[str, int] = field(default_factory=dict)
    #: Line of the column header in the file.
    header_line: int = 0
    #: Non-fatal notes from reading (BOM, CR line ends, skipped blank lines).
    notes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def set_id(self) -> str:
        return str(self.metadata.get("mapping_set_id", ""))

    @property
    def name(self) -> str:
        """File name without `.sssom.tsv` (or the last segment of the set id)."""
        if self.path is not None:
            return self.path.name.removesuffix(".tsv").removesuffix(".sssom")
        return self.set_id.rstrip("/").rsplit("/", 1)[-1]

    def prefixes(self) -> dict[str, str]:
        """Declared prefixes plus the built-in ones."""
        return {**self.curie_map, **BUILTIN_PREFIXES}

    def value(self, mapping: Mapping, slot: str) -> str:
        """A mapping's value of a slot, falling back to the set's (propagation)."""
        own = mapping.get(slot)
        if own or slot not in PROPAGATABLE:
            return own
        return join_values(self.metadata.get(slot, ""))


# --- CURIEs ---------------------------------------------------------------------------------


def split_curie(value: str) -> tuple[str, str] | None:
    """Prefix and local part of a CURIE, or None when it is not one (e.g. a full IRI).

    >>> split_curie("jt:h4wH_7kG_UTN")
    ('jt', 'h4wH_7kG_UTN')
    >>> split_curie("http://data.jobtechdev.se/taxonomy/concept/h4wH_7kG_UTN") is None
    True
    """
    if value.startswith(("http://", "https://", "urn:")):
        return None
    match = _CURIE.match(value)
    return (match.group(1), match.group(2)) if match else None


def expand(value: str, prefixes: dict[str, str]) -> str:
    """The full IRI of a CURIE; raises KeyError for an undeclared prefix, ValueError for text
    that is no CURIE.

    >>> expand("skos:exactMatch", BUILTIN_PREFIXES)
    'http://www.w3.org/2004/02/skos/core#exactMatch'
    """
    parts = split_curie(value)
    if parts is None:
        raise ValueError(f"{value!r} is not a CURIE (prefix:local)")
    return prefixes[parts[0]] + parts[1]


def iri_of(value: str, prefixes: MappingOf[str, str]) -> str | None:
    """A CURIE or a full IRI as a full IRI; None when it is neither (an undeclared prefix, free
    text), for readers of rows that a person may have written by hand and that must skip such
    a row rather than fail on it.

    >>> iri_of("skos:exactMatch", BUILTIN_PREFIXES)
    'http://www.w3.org/2004/02/skos/core#exactMatch'
    >>> iri_of("https://example.org/x", {}), iri_of("nope:x", {}), iri_of("free text", {})
    ('https://example.org/x', None, None)
    """
    if value.startswith(("http://", "https://", "urn:")):
        return value
    parts = split_curie(value)
    if parts is None or parts[0] not in prefixes:
        return None
    return prefixes[parts[0]] + parts[1]


def compress(iri: str, prefixes: dict[str, str]) -> str:
    """The CURIE of an IRI under the longest matching prefix; raises KeyError when none fits.

    Unlike :func:`kll_graph.namespaces.compact` (for display, falls back to the IRI), an SSSOM
    file needs a CURIE whatever the local part is.

    >>> compress(SEMAPV.ManualMappingCuration.value, BUILTIN_PREFIXES)
    'semapv:ManualMappingCuration'
    """
    parts = split_iri(iri, prefixes)
    if parts is None:
        raise KeyError(iri)
    return f"{parts[0]}:{parts[1]}"


def split_values(text: str) -> list[str]:
    """Values of a multivalued cell.

    >>> split_values("orcid:1|orcid:2")
    ['orcid:1', 'orcid:2']
    """
    return [part.strip() for part in text.split("|") if part.strip()] if text else []


def join_values(value: Any) -> str:
    """A slot value (text or list) as one cell."""
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    return "" if value is None else str(value)


def format_double(text: str) -> str:
    """A number as the canonical format writes it: at most three decimals, rounded half up.

    >>> format_double("0.95"), format_double("1.0"), format_double("0.12345"), format_double("1e-1")
    ('0.95', '1', '0.123', '0.1')
    """
    number = Decimal(text).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    out = format(number, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out if out not in ("", "-0") else "0"


# --- reading --------------------------------------------------------------------------------


class _TextLoader(yaml.SafeLoader):
    """YAML loader that leaves dates and times as text (SSSOM slots are typed by the schema)."""


_TextLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _metadata_block(
    lines: list[str], path: Path | None
) -> tuple[dict[str, Any], dict[str, int], int]:
    """Parse the leading `#` lines as YAML; returns the mapping, key lines and lines used."""
    block: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        block.append(line[1:])
    if not block:
        return {}, {}, 0
    indents = {len(b) - len(b.lstrip(" ")) for b in block if b.strip()}
    indent = min(indents) if indents else 0
    text = "\n".join(b[indent:] for b in block)
    try:
        data = yaml.load(text, Loader=_TextLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line_no = mark.line + 1 if mark is not None else None
        column = mark.column + 2 + indent if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SssomError(
            f"the metadata block is not valid YAML: {problem}; expected `#key: value` lines",
            path=path,
            line=line_no,
            column=column,
        ) from exc
    if data is None:
        return {}, {}, len(block)
    if not isinstance(data, dict):
        raise SssomError(
            "the metadata block must be YAML `key: value` pairs (a mapping)", path=path, line=1
        )
    key_lines = {}
    for number, b in enumerate(block, 1):
        stripped = b[indent:]
        if stripped and not stripped[0].isspace() and ":" in stripped:
            key_lines[stripped.split(":", 1)[0].strip()] = number
    return data, key_lines, len(block)


def _normalise_metadata(
    data: dict[str, Any], key_lines: dict[str, int], path: Path | None
) -> tuple[dict[str, str], dict[str, Any]]:
    curie_map = data.get("curie_map") or {}
    if not isinstance(curie_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in curie_map.items()
    ):
        raise SssomError(
            "curie_map must map prefix names to IRI prefixes (`#  jt: http://...`)",
            path=path,
            line=key_lines.get("curie_map"),
        )
    metadata: dict[str, Any] = {}
    for key, value in data.items():
        if key == "curie_map" or value is None:
            continue
        if isinstance(value, list):
            metadata[key] = [_scalar_text(v) for v in value if v is not None]
        elif isinstance(value, dict):
            metadata[key] = value
        else:
            text = _scalar_text(value)
            metadata[key] = [text] if key in MULTIVALUED else text
    return dict(curie_map), metadata


def _cell_column(raw: str, index: int) -> int:
    """1-based column where cell `index` starts in a raw (unquoted-tab) line."""
    position = 0
    for _ in range(index):
        found = raw.find("\t", position)
        if found < 0:
            return len(raw) + 1
        position = found + 1
    return position + 1


def parse_sssom(text: str, path: Path | None = None) -> MappingSet:
    """Parse SSSOM/TSV text (embedded metadata mode).

    Raises :class:`SssomError` with line and column for what cannot be parsed: invalid YAML, no
    header, a row with more or fewer cells than the header.
    """
    notes: list[tuple[int, str]] = []
    if text.startswith("\ufeff"):
        text = text[1:]
        notes.append((1, "the file starts with a byte order mark; SSSOM files must not"))
    if "\r" in text:
        notes.append((1, "the file has CR line ends; canonical SSSOM uses LF only"))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    data, key_lines, used = _metadata_block(lines, path)
    curie_map, metadata = _normalise_metadata(data, key_lines, path)
    body = lines[used:]
    while body and body[-1] == "":
        body.pop()
    if not body:
        raise SssomError(
            "no mappings table after the metadata block; expected a tab-separated header line "
            "(subject_id, predicate_id, object_id, mapping_justification, ...)",
            path=path,
            line=used + 1,
            column=1,
        )
    header_line = used + 1
    reader = csv.reader(io.StringIO("\n".join(body)), delimiter="\t", quotechar='"', strict=True)
    try:
        columns = [c.strip() for c in next(reader)]
    except csv.Error as exc:
        raise SssomError(f"header: {exc}", path=path, line=header_line, column=1) from exc
    for index, name in enumerate(columns):
        if not name:
            raise SssomError(
                f"empty column name in the header (column {index + 1}); every column must name "
                "an SSSOM slot",
                path=path,
                line=header_line,
                column=_cell_column(body[0], index),
            )
        if columns.index(name) != index:
            raise SssomError(
                f"column {name!r} appears twice in the header",
                path=path,
                line=header_line,
                column=_cell_column(body[0], index),
            )
    mappings = list(_rows(reader, columns, body, used, path, notes))
    return MappingSet(
        curie_map=curie_map,
        metadata=metadata,
        mappings=mappings,
        path=path,
        columns=columns,
        metadata_lines=key_lines,
        header_line=header_line,
        notes=notes,
    )


def _rows(
    reader: CsvReader,
    columns: list[str],
    body: list[str],
    offset: int,
    path: Path | None,
    notes: list[tuple[int, str]],
) -> Iterator[Mapping]:
    start = 2  # reader.line_num after the header is 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = offset + getattr(reader, "line_num", start)
            raise SssomError(
                f"{exc}; a value with a tab, a line break or a double quote must be enclosed in "
                'double quotes, with inner quotes doubled ("")',
                path=path,
                line=line,
            ) from exc
        line = offset + start
        start = reader.line_num + 1
        if not cells or cells == [""]:
            notes.append((line, "empty line skipped"))
            continue
        if len(cells) != len(columns):
            raw = body[line - offset - 1] if line - offset - 1 < len(body) else ""
            index = min(len(cells), len(columns))
            raise SssomError(
                f"{len(cells)} cells but the header has {len(columns)} columns "
                f"({', '.join(columns)}); expected one tab between cells and no tabs inside "
                "values",
                path=path,
                line=line,
                column=_cell_column(raw, index),
            )
        slots = {
            name: value.strip() for name, value in zip(columns, cells, strict=True) if value.strip()
        }
        yield Mapping(slots, line)


def read_sssom(path: Path) -> MappingSet:
    """Read one `.sssom.tsv` file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SssomError(f"cannot read: {exc.strerror}", path=path) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SssomError(
            "not UTF-8 text; save the file as UTF-8 (SSSOM requires it)",
            path=path,
            line=line,
            column=column,
        ) from exc
    return parse_sssom(text, path)


def mapping_set_files(directory: Path) -> list[Path]:
    """The `*.sssom.tsv` files of a directory, sorted."""
    return sorted(directory.glob("*.sssom.tsv")) if directory.is_dir() else []


# --- canonical writing ------------------------------------------------------------------------


def condense(mset: MappingSet) -> MappingSet:
    """Move values that every mapping shares into the set (SSSOM "condensation").

    A propagatable slot is condensed when all mappings have the same value and the set has none
    or that same one; the mappings then lose their copy.
    """
    metadata = dict(mset.metadata)
    rows = [dict(m.slots) for m in mset.mappings]
    for slot in PROPAGATABLE:
        values = {row.get(slot, "") for row in rows}
        if len(values) != 1 or not rows:
            continue
        (value,) = values
        if not value:
            continue
        current = join_values(metadata.get(slot, ""))
        if current and current != value:
            continue
        metadata[slot] = split_values(value) if slot in MULTIVALUED else value
        for row in rows:
            row.pop(slot, None)
    mappings = [Mapping(row, m.line) for row, m in zip(rows, mset.mappings, strict=True)]
    return MappingSet(
        mset.curie_map,
        metadata,
        mappings,
        mset.path,
        mset.columns,
        mset.metadata_lines,
        mset.header_line,
        mset.notes,
    )


def _cell(slot: str, value: str) -> str:
    if not value:
        return ""
    if slot in MULTIVALUED:
        return "|".join(sorted(set(split_values(value))))
    if slot in DOUBLE_SLOTS:
        try:
            return format_double(value)
        except InvalidOperation:
            return value
    return value


def used_prefixes(mset: MappingSet) -> set[str]:
    """Prefix names used by identifiers anywhere in the set."""
    used: set[str] = set()

    def note(slot: str, value: Any) -> None:
        if slot not in ENTITY_REFERENCES:
            return
        for item in split_values(join_values(value)):
            parts = split_curie(item)
            if parts:
                used.add(parts[0])

    for slot, value in mset.metadata.items():
        note(slot, value)
    for mapping in mset.mappings:
        for slot, value in mapping.slots.items():
            note(slot, value)
    return used


def _yaml_scalar(value: str) -> str:
    """Plain style when YAML reads it back as the same text, else double-quoted."""
    try:
        if value == value.strip() and "\n" not in value:
            loaded = yaml.safe_load(f"k: {value}")
            if (
                isinstance(loaded, dict)
                and loaded.get("k") == value
                and isinstance(loaded["k"], str)
            ):
                return value
    except yaml.YAMLError:
        pass
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _metadata_lines(mset: MappingSet) -> Iterator[str]:
    used = used_prefixes(mset)
    curies = {
        p: iri for p, iri in mset.curie_map.items() if p in used and p not in BUILTIN_PREFIXES
    }
    if curies:
        yield "#curie_map:"
        for prefix in sorted(curies):
            yield f"#  {prefix}: {_yaml_scalar(curies[prefix])}"
    order = {slot: i for i, slot in enumerate(SET_SLOTS)}
    keys = sorted(
        (k for k in mset.metadata if k != "curie_map"),
        key=lambda k: (order.get(k, len(order)), k),
    )
    for key in keys:
        value = mset.metadata[key]
        if value in (None, "", []):
            continue
        if isinstance(value, dict):
            dumped = yaml.safe_dump({key: value}, sort_keys=True, allow_unicode=True).rstrip("\n")
            yield from ("#" + line for line in dumped.split("\n"))
        elif key in MULTIVALUED or isinstance(value, list):
            items = value if isinstance(value, list) else split_values(str(value))
            yield f"#{key}:"
            for item in sorted(set(items)):
                yield f"#  - {_yaml_scalar(item)}"
        else:
            text = format_double(str(value)) if key in DOUBLE_SLOTS else str(value)
            yield f"#{key}: {_yaml_scalar(text)}"


def format_sssom(mset: MappingSet) -> str:
    """The canonical SSSOM/TSV text of a set.

    Condensed; the CURIE map holds the used, non-built-in prefixes, sorted; metadata and
    columns in specification order (unknown columns after, by name); rows sorted on all
    columns; values quoted only when they must be; ``\\n`` line ends.
    """
    mset = condense(mset)
    present = {slot for m in mset.mappings for slot, v in m.slots.items() if v}
    columns = [slot for slot in MAPPING_SLOTS if slot in present]
    columns += sorted(present - set(MAPPING_SLOTS))
    rows = sorted([_cell(c, m.get(c)) for c in columns] for m in mset.mappings)
    out = io.StringIO()
    for line in _metadata_lines(mset):
        out.write(line + "\n")
    writer = csv.writer(
        out, delimiter="\t", quotechar='"', lineterminator="\n", quoting=csv.QUOTE_MINIMAL
    )
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def write_sssom(mset: MappingSet, path: Path) -> None:
    """Write a set canonically (UTF-8, no BOM, LF)."""
    path.write_text(format_sssom(mset), encoding="utf-8", newline="\n")


def mapping_key(mapping: Mapping) -> tuple[str, str, str, str]:
    """What makes two rows "the same mapping": subject, predicate, modifier, object."""
    return (
        mapping.get("subject_id"),
        mapping.get("predicate_id"),
        mapping.get("predicate_modifier"),
        mapping.get("object_id"),
    )


def iter_entity_values(mset: MappingSet) -> Iterable[tuple[Mapping | None, str, str]]:
    """(mapping or None for the metadata, slot, value) for every identifier in the set."""
    for slot, value in mset.metadata.items():
        if slot in ENTITY_REFERENCES:
            for item in split_values(join_values(value)):
                yield None, slot, item
    for mapping in mset.mappings:
        for slot, value in mapping.slots.items():
            if slot in ENTITY_REFERENCES:
                for item in split_values(value) if slot in MULTIVALUED else [value]:
                    yield mapping, slot, item
