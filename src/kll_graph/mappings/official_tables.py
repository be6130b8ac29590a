"""ESCO mapping-tool CSV exports (Sweden's official ESCO mapping tables) converted to SSSOM.

The exports have a preamble (project name, author, version date, and both classifications with
their versions), then a header ``Classification 1 URI, ..., Classification 2 URI|ID, ...,
Mapping relation[, Editorial note]`` and one row per relation. ESCO is classification 1, the
subject of the table; in our sets the Swedish (JobTech) concept is the subject and the ESCO
concept the object, so each relation is inverted (broad and narrow swap).

Quirks of the real files, each handled here and reported:

- a UTF-8 byte order mark; a spreadsheet artefact line ``Column1,Column2,...`` before the preamble;
- one file whose every line is a `;`-separated spreadsheet row whose cells, joined with commas,
  are the original CSV line (lines with commas are wrapped in quotes with doubled inner quotes,
  and one line is split over two cells);
- bare JobTech ids (``SNvc_SeK_9aH``) instead of URIs in one file;
- ``no relation`` rows, with only one side filled in: they become ``sssom:NoTermFound`` rows
  (never a ``skos:*Match`` triple);
- a few rows whose label was quoted twice, which splits it over two cells and pushes the relation
  one cell right, or which moved the relation into the URL cell: the relation is recovered and
  the row says so in its comment; rows with no relation anywhere are skipped with a warning;
- version dates that are an Excel day number (``45243``) or an unfilled template
  (``csv_generator$today@...``).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from kll_graph.exceptions import SssomError
from kll_graph.mappings.sssom import (
    NO_TERM_FOUND,
    RELATED_MATCH,
    UNSPECIFIED_LICENSE,
    Mapping,
    MappingSet,
    write_sssom,
)
from kll_graph.namespaces import ESCO_DATA, INVERSE_MATCH, JOBTECH_CONCEPT

#: The prefixes of converted sets. `ESCO` is upper case on purpose: in SPARQL `esco:` is the
#: ESCO *model* namespace, while these are ESCO concept IRIs.
CURIE_MAP = {"ESCO": ESCO_DATA.iri, "jt": JOBTECH_CONCEPT.iri}
JUSTIFICATION = "semapv:ManualMappingCuration"
#: The relation written for "no relation" rows (with sssom:NoTermFound on the missing side):
#: not even a related match was found.
NO_MATCH_PREDICATE = RELATED_MATCH
#: The relations a table may state (ESCO first) → the predicate written (JobTech first).
RELATIONS = {f"skos:{name}": f"skos:{inverse}" for name, inverse in INVERSE_MATCH.items()}
NO_RELATION = "no relation"
#: Classification 1 concept types of the mapping tool -> ESCO concept scheme of the objects.
_ESCO_SCHEMES = {"occupation": "occupations", "isco": "isco", "skill": "skills"}
_JOBTECH_ID = re.compile(r"^[0-9A-Za-z]{4}_[0-9A-Za-z]{3}_[0-9A-Za-z]{3}$")
_PLACEHOLDER_AUTHORS = {"", "default-author", "n/a"}
_EMPTY = {"", "n/a", "na", "-"}
#: Header names of the export, to our field names.
_COLUMNS = {
    "classification 1 uri": "esco",
    "classification 1 preflabel": "esco_label",
    "classification 1 url": "esco_url",
    "classification 2 uri": "jobtech",
    "classification 2 id": "jobtech",
    "classification 2 preflabel": "jobtech_label",
    "classification 2 url": "jobtech_url",
    "mapping relation": "relation",
    "editorial note": "note",
}
_REQUIRED = ("esco", "jobtech", "relation")


@dataclass
class TableRow:
    """One relation of a mapping table, as the table states it (ESCO first)."""

    line: int
    esco: str
    esco_label: str
    jobtech: str
    jobtech_label: str
    relation: str
    note: str = ""
    repair: str = ""


@dataclass
class EscoTable:
    """A parsed mapping-tool export: its preamble, rows and what reading it met."""

    path: Path
    preamble: dict[str, str]
    rows: list[TableRow]
    #: Relation text as written, per row (before the direction swap); "" for blank.
    relations: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    semicolon_rows: bool = False
    bom: bool = False

    @property
    def data_rows(self) -> int:
        return sum(self.relations.values())


# --- reading the CSV ------------------------------------------------------------------------


def _cells(line: str, semicolon_rows: bool) -> list[str]:
    """The CSV cells of one physical line (undoing the `;`-wrapped spreadsheet rows)."""
    if semicolon_rows:
        parts = next(csv.reader([line], delimiter=";", quotechar='"'))
        line = ",".join(parts)
    return next(csv.reader([line], delimiter=",", quotechar='"')) if line else []


def _is_header(cells: list[str]) -> bool:
    return bool(cells) and cells[0].strip().lower() == "classification 1 uri"


def _decode(path: Path) -> tuple[str, bool]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SssomError(f"cannot read: {exc.strerror}", path=path) from exc
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8-sig"), bom
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SssomError(
            "not UTF-8 text; export the table as UTF-8 CSV", path=path, line=line
        ) from exc


def read_esco_table(path: Path) -> EscoTable:
    """Parse one export; raises SssomError (file, line, column) for what cannot be read."""
    text, bom = _decode(path)
    lines = text.splitlines()
    header_at = next(
        (i for i, line in enumerate(lines) if line.lower().startswith("classification 1 uri")),
        None,
    )
    if header_at is None:
        raise SssomError(
            "no header line starting with 'Classification 1 URI'; expected an ESCO mapping-tool "
            "CSV export (preamble, then 'Classification 1 URI, Classification 1 PrefLabel, ...')",
            path=path,
        )
    semicolon_rows = lines[header_at].rstrip().endswith(";")
    table = EscoTable(path, {}, [], semicolon_rows=semicolon_rows, bom=bom)
    if bom:
        table.notes.append("starts with a UTF-8 byte order mark")
    if semicolon_rows:
        table.notes.append("every line is a ';'-separated spreadsheet row; cells re-joined")
    for number, line in enumerate(lines[:header_at], 1):
        cells = [c.strip() for c in _cells(line, semicolon_rows)]
        if len(cells) >= 2 and cells[0] and not cells[0].lower().startswith("column"):
            table.preamble[cells[0]] = cells[1]
        elif cells and cells[0].lower().startswith("column"):
            table.notes.append(f"line {number}: spreadsheet column-name line ignored")
    header = [c.strip().lower() for c in _cells(lines[header_at], semicolon_rows)]
    index = _column_index(header, path, header_at + 1)
    width = max(index.values()) + 1
    for number, line in enumerate(lines[header_at + 1 :], header_at + 2):
        if not line.strip(" ,;\t"):
            continue
        row = _row(_cells(line, semicolon_rows), index, width, number, path, table)
        if row is not None:
            table.rows.append(row)
    return table


def _column_index(header: list[str], path: Path, line: int) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        if name in _COLUMNS and _COLUMNS[name] not in index:
            index[_COLUMNS[name]] = position
    missing = [name for name in _REQUIRED if name not in index]
    if missing:
        raise SssomError(
            f"header lacks column(s) for {', '.join(missing)}; expected 'Classification 1 URI', "
            "'Classification 2 URI' (or 'Classification 2 ID') and 'Mapping relation'",
            path=path,
            line=line,
        )
    return index


def _known_relation(text: str) -> str | None:
    value = text.strip().strip(',"').strip()
    if value in RELATIONS:
        return value
    if value.lower() == NO_RELATION:
        return NO_RELATION
    return None


def _row(
    cells: list[str], index: dict[str, int], width: int, line: int, path: Path, table: EscoTable
) -> TableRow | None:
    rel_at = index["relation"]
    relation_text = cells[rel_at].strip() if rel_at < len(cells) else ""
    relation = _known_relation(relation_text) if relation_text else None
    repair = ""
    if relation is None:
        cells, relation, repair = _recover_relation(cells, index)
    if relation is None and relation_text:
        raise SssomError(
            f"unknown mapping relation {relation_text!r}; expected one of "
            f"{', '.join(RELATIONS)} or 'no relation'",
            path=path,
            line=line,
            column=rel_at + 1,
        )
    cells = (cells + [""] * width)[: max(width, len(cells))]
    table.relations[relation or ""] += 1
    if relation is None:
        table.warnings.append(f"line {line}: blank mapping relation; row skipped")
        return None
    if repair:
        table.warnings.append(f"line {line}: {repair}")

    def get(name: str) -> str:
        position = index.get(name)
        return cells[position].strip() if position is not None else ""

    return TableRow(
        line=line,
        esco=_esco_uri(get("esco"), path, line, index["esco"] + 1),
        esco_label=get("esco_label"),
        jobtech=_jobtech_id(get("jobtech"), path, line, index["jobtech"] + 1),
        jobtech_label=_clean_label(get("jobtech_label")),
        relation=relation,
        note=get("note"),
        repair=repair,
    )


def _recover_relation(cells: list[str], index: dict[str, int]) -> tuple[list[str], str | None, str]:
    """Find the relation of a row whose cells were shifted or merged by stray quotes.

    Two shapes occur: a label quoted twice splits over several cells and pushes the relation
    right (the label cells are joined back), or the relation was swallowed into the cell before
    it (``",skos:broadMatch"``). Returns the repaired cells, the relation (None when the row has
    none anywhere: a blank relation) and what was done.
    """
    rel_at = index["relation"]
    for shift in range(1, len(cells) - rel_at):
        found = _known_relation(cells[rel_at + shift])
        if not found:
            continue
        labels = [index[k] for k in ("jobtech_label", "esco_label") if k in index]
        quoted = [at for at in labels if cells[at].lstrip().startswith('"')]
        for at in quoted or labels[:1]:
            joined = ",".join(cells[at : at + shift + 1])
            repaired = [*cells[:at], joined, *cells[at + shift + 1 :]]
            if _known_relation(repaired[rel_at]) == found:
                return (
                    repaired,
                    found,
                    (
                        f"a label split over {shift + 1} cells by stray quotes was joined back, "
                        f"which put relation {found} in its column"
                    ),
                )
    skip = {rel_at, *(index[k] for k in ("esco_label", "jobtech_label", "note") if k in index)}
    for position, cell in enumerate(cells):
        found = _known_relation(cell) if position not in skip else None
        if found:
            return (
                cells,
                found,
                (
                    f"relation {found} stood in column {position + 1} instead of {rel_at + 1} "
                    "(a misquoted cell) and was taken from there"
                ),
            )
    return cells, None, ""


def _clean_label(label: str) -> str:
    """Undo the stray quoting of a re-joined label: ``"Elitidrott"," erfarenhet"``."""
    if label.count('"') >= 2 and label.startswith('"'):
        return re.sub(r'"\s*,\s*"', ", ", label).strip('"').strip()
    return label


def _esco_uri(value: str, path: Path, line: int, column: int) -> str:
    if not value:
        return ""
    if not value.startswith(ESCO_DATA.iri):
        raise SssomError(
            f"classification 1 value {value!r} is not an ESCO URI; expected {ESCO_DATA.iri}...",
            path=path,
            line=line,
            column=column,
        )
    return value


def _jobtech_id(value: str, path: Path, line: int, column: int) -> str:
    """The JobTech concept id of a URI or bare id."""
    if not value:
        return ""
    concept_id = value.removeprefix(JOBTECH_CONCEPT.iri)
    if not _JOBTECH_ID.match(concept_id):
        raise SssomError(
            f"classification 2 value {value!r} is neither a JobTech concept URI ({JOBTECH_CONCEPT}"
            "...) nor a bare JobTech id such as SNvc_SeK_9aH",
            path=path,
            line=line,
            column=column,
        )
    return concept_id


# --- converting ---------------------------------------------------------------------------------


def excel_or_iso_date(text: str) -> str | None:
    """A preamble date as ISO text: ISO kept, an Excel day number converted, anything else None.

    >>> excel_or_iso_date("2022-03-30"), excel_or_iso_date("45243"), excel_or_iso_date("csv$today")
    ('2022-03-30', '2023-11-13', None)
    """
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    if re.fullmatch(r"\d{5}", text):  # spreadsheet serial day (1899-12-30 epoch)
        return (date(1899, 12, 30) + timedelta(days=int(text))).isoformat()
    return None


def _preamble_value(table: EscoTable, key: str) -> str:
    value = table.preamble.get(key, "").strip()
    return "" if value.lower() in _EMPTY else value


def _object_source(esco_uri: str) -> str:
    segment = esco_uri[len(ESCO_DATA.iri) :].split("/", 1)[0]
    scheme = _ESCO_SCHEMES.get(segment)
    return f"ESCO:concept-scheme/{scheme}" if scheme else ""


def _mapping(row: TableRow, table: EscoTable) -> Mapping | None:
    slots: dict[str, str] = {"mapping_justification": JUSTIFICATION}
    esco = "ESCO:" + row.esco[len(ESCO_DATA.iri) :] if row.esco else ""
    jobtech = f"jt:{row.jobtech}" if row.jobtech else ""
    if row.relation == NO_RELATION:
        if not esco and not jobtech:
            table.warnings.append(f"line {row.line}: 'no relation' with neither concept; skipped")
            return None
        slots["predicate_id"] = NO_MATCH_PREDICATE
        if esco and jobtech:
            slots["predicate_modifier"] = "Not"
    else:
        if not esco or not jobtech:
            side = "ESCO" if not esco else "JobTech"
            table.warnings.append(
                f"line {row.line}: {row.relation} without a {side} concept; row skipped"
            )
            return None
        slots["predicate_id"] = RELATIONS[row.relation]
    slots["subject_id"] = jobtech or NO_TERM_FOUND
    slots["object_id"] = esco or NO_TERM_FOUND
    if row.jobtech_label and jobtech:
        slots["subject_label"] = row.jobtech_label
    if row.esco_label and esco:
        slots["object_label"] = row.esco_label
    source = _object_source(row.esco) if row.esco else ""
    if source:
        slots["object_source"] = source
    comments = [
        c
        for c in (row.note, f"source table line {row.line}: {row.repair}" if row.repair else "")
        if c
    ]
    if comments:
        slots["comment"] = " / ".join(comments)
    author = table.preamble.get("Mapping project author", "").strip()
    if author.lower() not in _PLACEHOLDER_AUTHORS:
        slots["author_label"] = author
    return Mapping(slots, row.line)


def _describe(tables: list[EscoTable]) -> str:
    first = tables[0]

    def classification(n: int) -> str:
        parts = [
            _preamble_value(first, f"Classification {n} {key}")
            for key in ("Name", "Concept type", "Version", "Language")
        ]
        name, kind, version, language = parts
        return (
            f"{name} ({kind or 'unknown type'}, version {version or 'unknown'}, {language or '?'})"
        )

    names = ", ".join(t.path.name for t in tables)
    return (
        f"Converted by kll-graph from the ESCO mapping-tool export(s) {names}: "
        f"project '{_preamble_value(first, 'Mapping project name')}', "
        f"classification 1 {classification(1)}, classification 2 {classification(2)}. "
        "The table states ESCO -> Swedish; here the JobTech concept is the subject, so broad "
        "and narrow are swapped; 'no relation' rows use sssom:NoTermFound."
    )


_SHARED_KEYS = (
    "Mapping project name",
    "Classification 1 Name",
    "Classification 1 Version",
    "Classification 2 Name",
    "Classification 2 Version",
)


def _check_same_project(tables: list[EscoTable]) -> None:
    first = tables[0]
    for other in tables[1:]:
        for key in _SHARED_KEYS:
            if _preamble_value(first, key) != _preamble_value(other, key):
                raise SssomError(
                    f"{key!r} is {_preamble_value(other, key)!r} here but "
                    f"{_preamble_value(first, key)!r} in {first.path.name}; tables of different "
                    "projects or versions make different sets: convert them separately",
                    path=other.path,
                )


def tables_to_set(
    tables: list[EscoTable],
    set_id: str,
    *,
    license: str = "",
    source_url: str = "",
) -> MappingSet:
    """One mapping set from one or more exports of the same project (JobTech subject)."""
    if not tables:
        raise SssomError("no mapping table given")
    _check_same_project(tables)
    first = tables[0]
    mappings = [m for t in tables for row in t.rows if (m := _mapping(row, t)) is not None]
    metadata: dict[str, object] = {
        "mapping_set_id": set_id,
        "mapping_set_title": _preamble_value(first, "Mapping project name") or first.path.stem,
        "mapping_set_description": _describe(tables),
        "license": license or UNSPECIFIED_LICENSE,
        "subject_type": "skos concept",
        "object_type": "skos concept",
        "mapping_tool": "ESCO mapping tool",
    }
    version = _preamble_value(first, "Mapping project version")
    if version:
        metadata["mapping_set_version"] = version
    if source_url.startswith(("http://", "https://")):
        metadata["mapping_set_source"] = [source_url]
    for n, slot in ((2, "subject_source_version"), (1, "object_source_version")):
        value = _preamble_value(first, f"Classification {n} Version")
        if value:
            metadata[slot] = value
    landing_pages = (
        _preamble_value(t, f"Classification {n} Landing page") for t in tables for n in (1, 2)
    )
    pages = sorted({page for page in landing_pages if page.startswith("http")})
    if pages:
        metadata["see_also"] = pages
    comments = []
    raw_date = _preamble_value(first, "Mapping project version date")
    iso = excel_or_iso_date(raw_date) if raw_date else None
    if iso:
        metadata["mapping_date"] = iso
        if iso != raw_date:
            comments.append(f"version date {raw_date!r} read as a spreadsheet day number: {iso}")
    elif raw_date:
        comments.append(f"version date {raw_date!r} is not a date; no mapping date recorded")
    if comments:
        metadata["comment"] = "; ".join(comments)
    return MappingSet(dict(CURIE_MAP), metadata, mappings)


def convert_tables(
    paths: list[Path], set_id: str, *, license: str = "", source_url: str = ""
) -> tuple[MappingSet, list[EscoTable]]:
    """Read exports and convert them to one set; the tables carry counts and warnings."""
    tables = [read_esco_table(p) for p in paths]
    return tables_to_set(tables, set_id, license=license, source_url=source_url), tables


def default_set_id(base_iri: str, name: str) -> str:
    """The id of a converted set under our base IRI.

    >>> default_set_id("https://w3id.org/kll-graph/", "se-skills-esco")
    'https://w3id.org/kll-graph/mappings/se-skills-esco'
    """
    return f"{base_iri}mappings/{name}"


def convert_to_file(
    paths: list[Path], out: Path, set_id: str, *, license: str = ""
) -> tuple[MappingSet, list[EscoTable]]:
    """Convert exports and write the set canonically to `out` (the CLI verb)."""

    mset, tables = convert_tables(paths, set_id, license=license)
    write_sssom(mset, out)
    return mset, tables


def conversion_summary(mset: MappingSet, tables: list[EscoTable]) -> str:
    """What a conversion read and wrote, for the terminal."""
    lines = []
    for table in tables:
        counts = ", ".join(f"{k or 'blank'} {v:,}" for k, v in sorted(table.relations.items()))
        lines.append(f"{table.path.name}: {table.data_rows:,} rows ({counts})")
        lines += [f"  note: {note}" for note in table.notes]
        lines += [f"  warning: {warning}" for warning in table.warnings]
    negated = sum(m.negated for m in mset.mappings)
    no_term = sum(m.no_term for m in mset.mappings)
    lines.append(
        f"{len(mset.mappings):,} mappings written ({no_term:,} no-match rows, "
        f"{negated:,} negated), set {mset.set_id}"
    )
    return "\n".join(lines)
