"""ESCO importers: the official CSV packages as ESCO-compatible SKOS, and Swedish ESCO labels.

``esco`` reads ESCO's CSV downloads (v1.1.x and v1.2.x): the classification package of one or
more languages and the language-independent relations package, given as the downloaded zip
files, a folder (of zips and/or CSVs), or one ``.csv``/``.csv.gz`` file. It keeps ESCO's own URIs
and vocabulary (``http://data.europa.eu/esco/model#``) so that queries written for ESCO's SPARQL
endpoint keep working; docs/esco.md lists what differs from ESCO's RDF dumps and why.

``esco-sv-labels`` reads a table of Swedish preferred labels of ESCO concepts (conceptUri,
prefLabel_sv, ...) into ``skos:prefLabel``@sv in the source's own graph.

Speed matters (the full v1.1.1 package is ~700k triples): rows are read with ``csv.reader``, terms
are built directly as pyoxigraph objects (IRIs cached) and handed to ``ctx.add`` in large batches.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pyoxigraph import Literal, NamedNode, Quad

from kll_graph.importers import ImportContext
from kll_graph.namespaces import (
    DCT,
    ESCO,
    ESCO_DATA,
    ESCO_ISCO,
    ESCO_SCHEME,
    RDF,
    SKOS,
    XSD,
    Namespace,
)

#: ISO 25964 SKOS extension: ESCO publishes the publication status as iso-thes:status.
ISOTHES = Namespace("http://purl.org/iso25964/skos-thes#")
#: ESCO's datatype of ISCO-08 codes in its RDF (``"2654"^^<.../Notation/ISCO08>``).
ISCO08_NOTATION = ESCO_DATA["Notation/ISCO08"]

#: A cell can be large (conceptSchemes_en.csv lists 8,836 top concepts in one cell).
csv.field_size_limit(1 << 28)

#: Quads handed to the store per call.
BATCH = 200_000

#: The options an "esco" source may carry under [sources.options].
OPTIONS = {
    "partial": "true: load a package with missing files (each is reported with what it would "
    "have provided); default false: a missing file stops the build",
    "languages": 'list of language codes whose language files to load, e.g. ["en", "sv"]; '
    "default: every language present",
}

#: CSV skillType values -> ESCO skill-type IRIs.
SKILL_TYPES = {
    "skill/competence": "skill",
    "skill": "skill",
    "competence": "competence",
    "knowledge": "knowledge",
}
RELATION_TYPES = {"essential": "Essential", "optional": "Optional"}


@dataclass(frozen=True)
class Kind:
    """One kind of file in an ESCO CSV package (``occupations_en.csv`` is kind ``occupations``)."""

    name: str
    provides: str
    localized: bool
    required: bool = True
    loaded: bool = True
    #: Columns without which a file of this kind cannot be read.
    needs: tuple[str, ...] = ()
    #: Every column we know (others are reported as unknown, and ignored).
    known: tuple[str, ...] = ()
    #: Collections: the ESCO concept scheme the collection is published as.
    scheme: str = ""


_CONCEPT_COLS = (
    "conceptType",
    "conceptUri",
    "preferredLabel",
    "altLabels",
    "hiddenLabels",
    "status",
    "modifiedDate",
    "scopeNote",
    "definition",
    "inScheme",
    "description",
)
_COLLECTION_COLS = (
    "conceptType",
    "conceptUri",
    "preferredLabel",
    "status",
    "skillType",
    "reuseLevel",
    "altLabels",
    "description",
    "broaderConceptUri",
    "broaderConceptPT",
)
_BROADER_COLS = ("conceptType", "conceptUri", "broaderType", "broaderUri")


def _collection(name: str, what: str, scheme: str) -> Kind:
    return Kind(
        name,
        f"membership of the {what} collection (concept scheme <{ESCO_SCHEME.iri}{scheme}>)",
        localized=True,
        needs=("conceptUri",),
        known=_COLLECTION_COLS,
        scheme=ESCO_SCHEME.iri + scheme,
    )


KINDS: tuple[Kind, ...] = (
    Kind(
        "conceptSchemes",
        "the ESCO concept schemes with their labels and top concepts",
        localized=True,
        needs=("conceptSchemeUri",),
        known=(
            "conceptType",
            "conceptSchemeUri",
            "preferredLabel",
            "title",
            "status",
            "description",
            "hasTopConcept",
        ),
    ),
    Kind(
        "ISCOGroups",
        "the ISCO-08 groups with their codes and labels",
        localized=True,
        needs=("conceptUri", "code"),
        known=(*_CONCEPT_COLS, "code"),
    ),
    Kind(
        "skillGroups",
        "the skill groups with their codes and labels",
        localized=True,
        needs=("conceptUri",),
        known=(*_CONCEPT_COLS, "code"),
    ),
    Kind(
        "occupations",
        "the occupations with labels, descriptions, ESCO codes and ISCO groups",
        localized=True,
        needs=("conceptUri",),
        known=(*_CONCEPT_COLS, "iscoGroup", "regulatedProfessionNote", "code"),
    ),
    Kind(
        "skills",
        "the skills and knowledge concepts with labels, skill type and reuse level",
        localized=True,
        needs=("conceptUri",),
        known=(*_CONCEPT_COLS, "skillType", "reuseLevel"),
    ),
    _collection(
        "digitalSkillsCollection", "digital skills", "6c930acd-c104-4ece-acf7-f44fd7333036"
    ),
    _collection("greenSkillsCollection", "green skills", "green"),
    _collection("languageSkillsCollection", "language skills", "skill-language-groups"),
    _collection("transversalSkillsCollection", "transversal skills", "skill-transversal-groups"),
    _collection("digCompSkillsCollection", "DigComp skills", "digcomp"),
    _collection("researchSkillsCollection", "research skills", "research"),
    _collection(
        "researchOccupationsCollection",
        "research occupations",
        "8ae4b9f3-507e-4057-a145-2f96f0132613",
    ),
    Kind(
        "occupationSkillRelations",
        "the essential and optional skills of each occupation (esco:relatedEssentialSkill, "
        "esco:relatedOptionalSkill)",
        localized=False,
        needs=("occupationUri", "relationType", "skillUri"),
        known=("occupationUri", "relationType", "skillType", "skillUri"),
    ),
    Kind(
        "skillSkillRelations",
        "the essential and optional skills related to each skill",
        localized=False,
        needs=("originalSkillUri", "relationType", "relatedSkillUri"),
        known=(
            "originalSkillUri",
            "originalSkillType",
            "relationType",
            "relatedSkillType",
            "relatedSkillUri",
        ),
    ),
    Kind(
        "broaderRelationsOccPillar",
        "skos:broader/narrower of the occupation pillar (occupations and ISCO groups)",
        localized=False,
        needs=("conceptUri", "broaderUri"),
        known=_BROADER_COLS,
    ),
    Kind(
        "broaderRelationsSkillPillar",
        "skos:broader/narrower of the skill pillar (skills and skill groups)",
        localized=False,
        needs=("conceptUri", "broaderUri"),
        known=_BROADER_COLS,
    ),
    Kind(
        "skillsHierarchy",
        "a flat view of the skill groups (already given by skillGroups and "
        "broaderRelationsSkillPillar)",
        localized=True,
        required=False,
        loaded=False,
    ),
    Kind(
        "dictionary",
        "the column dictionary of the package",
        localized=True,
        required=False,
        loaded=False,
    ),
)
KIND_BY_NAME = {k.name: k for k in KINDS}
_FILE_NAME = re.compile(r"^(?P<kind>[A-Za-z]+)(?:_(?P<lang>[a-z]{2,3}(?:-[A-Za-z]{2,8})?))?$")
_VERSION_IN_NAME = re.compile(r"v(\d+\.\d+(?:\.\d+)?)")


# --- the files of a package ------------------------------------------------------------------


@dataclass(frozen=True)
class PackageFile:
    """One CSV of a package: a plain/gzipped file, or a member of a zip."""

    display: str
    name: str
    opener: Callable[[], IO[str]]
    path: Path
    kind: Kind | None = None
    language: str | None = None

    def open(self) -> IO[str]:
        return self.opener()


def _csv_stem(name: str) -> str | None:
    lower = name.lower()
    for ext in (".csv.gz", ".csv"):
        if lower.endswith(ext):
            return name[: -len(ext)]
    return None


def _text(raw: IO[bytes], gzipped: bool) -> IO[str]:
    stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _classify(display: str, name: str, opener: Callable[[], IO[str]], path: Path) -> PackageFile:
    stem = _csv_stem(name) or name
    match = _FILE_NAME.match(stem)
    kind = KIND_BY_NAME.get(match["kind"]) if match else None
    language = match["lang"] if match else None
    return PackageFile(display, name, opener, path, kind, language)


def _zip_files(path: Path) -> Iterator[PackageFile]:
    with zipfile.ZipFile(path) as archive:
        members = sorted(i.filename for i in archive.infolist() if not i.is_dir())
    for member in members:
        name = member.rsplit("/", 1)[-1]
        if _csv_stem(name) is None:
            continue

        def opener(member: str = member, name: str = name) -> IO[str]:
            archive = zipfile.ZipFile(path)
            return _text(archive.open(member), name.lower().endswith(".gz"))

        yield _classify(f"{path}!/{member}", name, opener, path)


def _plain_file(path: Path) -> PackageFile:
    def opener() -> IO[str]:
        return _text(path.open("rb"), path.name.lower().endswith(".gz"))

    return _classify(str(path), path.name, opener, path)


def package_files(path: Path) -> list[PackageFile]:
    """Every CSV of a package at `path`: a .zip, a .csv/.csv.gz, or a folder of those."""
    if path.is_file():
        return list(_zip_files(path)) if path.suffix.lower() == ".zip" else [_plain_file(path)]
    files: list[PackageFile] = []
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        if item.suffix.lower() == ".zip":
            files.extend(_zip_files(item))
        elif _csv_stem(item.name) is not None:
            files.append(_plain_file(item))
    return files


# --- cell helpers ----------------------------------------------------------------------------


def split_multi(cell: str) -> list[str]:
    """Values of a multi-valued cell: one per line (ESCO also ends lines with ',' in URI lists).

    >>> split_multi("head of technical\\r\\ntechnical manager\\n")
    ['head of technical', 'technical manager']
    >>> split_multi("http://a/x,\\nhttp://a/y")
    ['http://a/x', 'http://a/y']
    >>> split_multi("")
    []
    """
    if not cell:
        return []
    return [v for v in (part.strip().strip(",").strip() for part in cell.split("\n")) if v]


def split_pipes(cell: str) -> list[str]:
    """Values of a ' | '-separated cell, as the collection files write URI lists.

    >>> split_pipes("http://a/x | http://a/y")
    ['http://a/x', 'http://a/y']
    """
    return [v.strip() for v in cell.split("|") if v.strip()]


def isco_uri(code: str) -> str:
    """ESCO's IRI of an ISCO-08 group code.

    >>> isco_uri("2654")
    'http://data.europa.eu/esco/isco/C2654'
    """
    return ESCO_ISCO.iri + f"C{code}"


# --- the loader ------------------------------------------------------------------------------


class RowError(Exception):
    """A cell that cannot become RDF; the loader adds file and line."""


@dataclass
class Table:
    """An open CSV: its header (column -> index) and the rows with their first line number."""

    file: PackageFile
    columns: dict[str, int]
    rows: Iterator[tuple[int, list[str]]]


@dataclass
class EscoLoader:
    """Turns the files of one ESCO package into quads of the source's graph."""

    ctx: ImportContext
    batch: list[Quad] = field(default_factory=list)
    emitted: int = 0
    iris: dict[str, NamedNode] = field(default_factory=dict)
    concepts: dict[str, set[str]] = field(default_factory=dict)
    relation_ends: dict[str, set[str]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    loaded_kinds: set[str] = field(default_factory=set)
    seen: set[tuple[str, str]] = field(default_factory=set)
    #: Line where the row being read starts (for error messages).
    line: int = 0

    # -- output ------------------------------------------------------------------------------

    def emit(self, s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        self.batch.append(Quad(s, p, o, self.ctx.graph))
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.ctx.add(self.batch)
            self.emitted += len(self.batch)
            self.batch = []

    def iri(self, value: str) -> NamedNode:
        node = self.iris.get(value)
        if node is None:
            try:
                node = NamedNode(value)
            except ValueError:
                raise RowError(f"not an IRI: {value!r}") from None
            self.iris[value] = node
        return node

    # -- reading -----------------------------------------------------------------------------

    def open_table(self, file: PackageFile, handle: IO[str]) -> Table:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise self.ctx.fail("empty file (no header row)", path=Path(file.display)) from None
        except csv.Error as exc:
            raise self.ctx.fail(
                f"cannot parse the header: {exc}", path=Path(file.display), line=1
            ) from exc
        columns = {name.strip(): i for i, name in enumerate(header)}
        self.check_columns(file, columns)
        return Table(file, columns, self.iter_rows(file, reader, len(header)))

    def iter_rows(
        self, file: PackageFile, reader: Any, width: int
    ) -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self.ctx.fail(
                    f"cannot parse the row: {exc}", path=Path(file.display), line=line
                ) from exc
            if row and len(row) != width:
                raise self.ctx.fail(
                    f"the row has {len(row)} fields, the header has {width}",
                    path=Path(file.display),
                    line=line,
                )
            if row:
                self.line = line
                yield line, row
            line = reader.line_num + 1

    def check_columns(self, file: PackageFile, columns: dict[str, int]) -> None:
        kind = file.kind
        assert kind is not None
        missing = [c for c in kind.needs if c not in columns]
        if missing:
            raise self.ctx.fail(
                f"{kind.name} file without column(s) {', '.join(missing)}; its columns are "
                f"{', '.join(columns)}. Is this an ESCO {kind.name} CSV?",
                path=Path(file.display),
                line=1,
            )
        unknown = [c for c in columns if c not in kind.known and not _is_label_column(kind, c)]
        for name in unknown:
            self.ctx.report.warn(f"{file.display}: unknown column '{name}' (ignored)")

    def load(self, file: PackageFile) -> None:
        """Read one file with the handler of its kind; bad cells name the file and line."""
        kind = file.kind
        assert kind is not None
        handler: Callable[[Table], None] = getattr(self, "_" + _handler_name(kind))
        self.ctx.progress(f"reading {file.name}")
        with file.open() as handle:
            table = self.open_table(file, handle)
            try:
                handler(table)
            except RowError as exc:
                raise self.ctx.fail(str(exc), path=Path(file.display), line=self.line) from exc
        self.loaded_kinds.add(kind.name)
        self.counts["files"] += 1

    def first_time(self, kind: str, uri: str) -> bool:
        """True once per concept and kind: language-independent facts are written once."""
        key = (kind, uri)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    # -- concept files -----------------------------------------------------------------------

    def _texts(self, s: NamedNode, table: Table, row: list[str], lang: str) -> None:
        """Labels and notes of one row, tagged with the file's language.

        ESCO's CSV repeats the preferred label among the alternative labels; SKOS requires the
        label kinds to be disjoint (integrity condition S13), so those copies are dropped.
        """
        col = table.columns
        pref_col = col.get("preferredLabel")
        pref = row[pref_col].strip() if pref_col is not None else ""
        for column, predicate, multi in _TEXT_COLUMNS:
            i = col.get(column)
            if i is None or not row[i]:
                continue
            values = split_multi(row[i]) if multi else [row[i].strip()]
            for value in values:
                if not value:
                    continue
                if multi and value == pref:
                    self.counts["labels_equal_to_preferred_dropped"] += 1
                    continue
                self.emit(s, predicate, Literal(value, language=lang))
                self.counts[f"labels_{lang}"] += predicate in _LABEL_PREDICATES

    def _common(self, s: NamedNode, table: Table, row: list[str]) -> None:
        """Status, modified date and schemes: the same in every language file."""
        col = table.columns
        if (i := col.get("status")) is not None and row[i]:
            self.emit(s, ISOTHES.status, Literal(row[i].strip()))
        if (i := col.get("modifiedDate")) is not None and row[i]:
            self.emit(s, DCT.modified, _datetime(row[i].strip()))
        if (i := col.get("inScheme")) is not None:
            for scheme in split_multi(row[i]):
                self.emit(s, SKOS.inScheme, self.iri(scheme))

    def _concept_rows(
        self, table: Table, kind: str, types: tuple[NamedNode, ...]
    ) -> Iterator[tuple[NamedNode, list[str], bool]]:
        lang = table.file.language or "en"
        uri_col = table.columns["conceptUri"]
        known = self.concepts.setdefault(kind, set())
        for _line, row in table.rows:
            uri = row[uri_col].strip()
            if not uri:
                raise RowError("empty conceptUri")
            s = self.iri(uri)
            first = self.first_time(kind, uri)
            known.add(uri)
            if first:
                for t in types:
                    self.emit(s, RDF.type, t)
                self._common(s, table, row)
            self._texts(s, table, row, lang)
            yield s, row, first

    def _concept_schemes(self, table: Table) -> None:
        lang = table.file.language or "en"
        col = table.columns
        known = self.concepts.setdefault("schemes", set())
        for _line, row in table.rows:
            uri = row[col["conceptSchemeUri"]].strip()
            s = self.iri(uri)
            known.add(uri)
            for column, predicate in (
                ("preferredLabel", SKOS.prefLabel),
                ("title", DCT.title),
                ("description", DCT.description),
            ):
                if (i := col.get(column)) is not None and row[i].strip():
                    self.emit(s, predicate, Literal(row[i].strip(), language=lang))
            if not self.first_time("schemes", uri):
                continue
            self.emit(s, RDF.type, SKOS.ConceptScheme)
            if (i := col.get("status")) is not None and row[i]:
                self.emit(s, ISOTHES.status, Literal(row[i].strip()))
            if (i := col.get("hasTopConcept")) is not None:
                for top in split_multi(row[i]):
                    t = self.iri(top)
                    self.emit(s, SKOS.hasTopConcept, t)
                    self.emit(t, SKOS.topConceptOf, s)
                    self.counts["top_concepts"] += 1

    def _isco_groups(self, table: Table) -> None:
        code_col = table.columns["code"]
        for s, row, first in self._concept_rows(table, "isco_groups", (SKOS.Concept,)):
            code = row[code_col].strip()
            if first and code:
                self.emit(s, SKOS.notation, Literal(code))
                self.emit(s, SKOS.notation, Literal(code, datatype=ISCO08_NOTATION))

    def _skill_groups(self, table: Table) -> None:
        code_col = table.columns.get("code")
        for s, row, first in self._concept_rows(table, "skill_groups", (SKOS.Concept,)):
            if first and code_col is not None and row[code_col].strip():
                self.emit(s, SKOS.notation, Literal(row[code_col].strip()))

    def _occupations(self, table: Table) -> None:
        col = table.columns
        types = (SKOS.Concept, ESCO.Occupation, ESCO.MemberConcept)
        for s, row, first in self._concept_rows(table, "occupations", types):
            if not first:
                continue
            if (i := col.get("code")) is not None and row[i].strip():
                self.emit(s, SKOS.notation, Literal(row[i].strip()))
            if (i := col.get("iscoGroup")) is not None and row[i].strip():
                group = isco_uri(row[i].strip())
                self.emit(s, ESCO.memberOfISCOGroup, self.iri(group))
                self.relation_ends.setdefault("isco_groups", set()).add(group)
            if (i := col.get("regulatedProfessionNote")) is not None and row[i].strip():
                note = row[i].strip()
                value = self.iri(note) if note.startswith("http") else Literal(note)
                self.emit(s, ESCO.regulatedProfessionNote, value)

    def _skills(self, table: Table) -> None:
        col = table.columns
        types = (SKOS.Concept, ESCO.Skill, ESCO.MemberConcept)
        for s, row, first in self._concept_rows(table, "skills", types):
            if not first:
                continue
            if (i := col.get("skillType")) is not None and row[i].strip():
                self.emit(s, ESCO.skillType, self._skill_type(row[i].strip()))
            if (i := col.get("reuseLevel")) is not None and row[i].strip():
                self.emit(s, ESCO.skillReuseLevel, self._reuse_level(row[i].strip()))

    def _skill_type(self, value: str) -> NamedNode:
        if value.startswith("http"):
            return self.iri(value)
        slug = SKILL_TYPES.get(value)
        if slug is None:
            raise RowError(f"unknown skillType {value!r}; expected one of {', '.join(SKILL_TYPES)}")
        return self.iri(f"{ESCO_DATA.iri}skill-type/{slug}")

    def _reuse_level(self, value: str) -> NamedNode:
        if value.startswith("http"):
            return self.iri(value)
        if not re.fullmatch(r"[a-z]+(?:-[a-z]+)*", value):
            raise RowError(f"unknown reuseLevel {value!r}")
        return self.iri(f"{ESCO_DATA.iri}skill-reuse-level/{value}")

    def _collection(self, table: Table) -> None:
        kind = table.file.kind
        assert kind is not None
        scheme = self.iri(kind.scheme)
        uri_col = table.columns["conceptUri"]
        pillar = "occupations" if "Occupations" in kind.name else "skills"
        # Without the pillar's own file (a partial package), the collection rows are the only
        # description of their concepts: take types, labels and skill facets from them.
        describe = pillar not in self.loaded_kinds
        for _line, row in table.rows:
            uri = row[uri_col].strip()
            if not uri or not self.first_time(kind.name, uri):
                continue
            s = self.iri(uri)
            self.emit(s, SKOS.inScheme, scheme)
            self.counts[kind.name] += 1
            if describe:
                self._describe_from_collection(s, table, row, pillar)

    def _describe_from_collection(
        self, s: NamedNode, table: Table, row: list[str], pillar: str
    ) -> None:
        col = table.columns
        lang = table.file.language or "en"
        if (i := col.get("preferredLabel")) is not None and row[i].strip():
            self.emit(s, SKOS.prefLabel, Literal(row[i].strip(), language=lang))
        if (i := col.get("description")) is not None and row[i].strip():
            self.emit(s, DCT.description, Literal(row[i].strip(), language=lang))
        if not self.first_time(pillar, s.value):
            return
        self.concepts.setdefault(pillar, set()).add(s.value)
        self.counts[f"{pillar}_from_collections"] += 1
        cls = ESCO.Occupation if pillar == "occupations" else ESCO.Skill
        for t in (SKOS.Concept, cls, ESCO.MemberConcept):
            self.emit(s, RDF.type, t)
        if (i := col.get("status")) is not None and row[i].strip():
            self.emit(s, ISOTHES.status, Literal(row[i].strip()))
        if (i := col.get("altLabels")) is not None:
            pref_col = col.get("preferredLabel")
            pref = row[pref_col].strip() if pref_col is not None else ""
            for label in split_pipes(row[i]):
                if label != pref:  # SKOS S13: preferred and alternative labels are disjoint
                    self.emit(s, SKOS.altLabel, Literal(label, language=lang))
        if (i := col.get("skillType")) is not None and row[i].strip():
            self.emit(s, ESCO.skillType, self._skill_type(row[i].strip()))
        if (i := col.get("reuseLevel")) is not None and row[i].strip():
            self.emit(s, ESCO.skillReuseLevel, self._reuse_level(row[i].strip()))

    # -- relation files ----------------------------------------------------------------------

    def _relations(self, table: Table, subject: str, object_: str, counter: str) -> None:
        col = table.columns
        s_col, o_col, t_col = col[subject], col[object_], col["relationType"]
        subjects = self.relation_ends.setdefault(subject, set())
        objects = self.relation_ends.setdefault(object_, set())
        for _line, row in table.rows:
            kind = RELATION_TYPES.get(row[t_col].strip())
            if kind is None:
                raise RowError(f"relationType {row[t_col]!r}: expected 'essential' or 'optional'")
            s, o = self.iri(row[s_col].strip()), self.iri(row[o_col].strip())
            self.emit(s, ESCO[f"related{kind}Skill"], o)
            self.emit(o, ESCO[f"is{kind}SkillFor"], s)
            subjects.add(s.value)
            objects.add(o.value)
            self.counts[counter] += 1
            self.counts[f"{counter}_{kind.lower()}"] += 1

    def _occupation_skill_relations(self, table: Table) -> None:
        self._relations(table, "occupationUri", "skillUri", "occupation_skill_relations")

    def _skill_skill_relations(self, table: Table) -> None:
        self._relations(table, "originalSkillUri", "relatedSkillUri", "skill_skill_relations")

    def _broader(self, table: Table, counter: str) -> None:
        col = table.columns
        c_col, b_col = col["conceptUri"], col["broaderUri"]
        ct_col, bt_col = col.get("conceptType"), col.get("broaderType")
        for _line, row in table.rows:
            c, b = self.iri(row[c_col].strip()), self.iri(row[b_col].strip())
            self.emit(c, SKOS.broader, b)
            self.emit(b, SKOS.narrower, c)
            self.counts[counter] += 1
            if ct_col is not None and bt_col is not None:
                self.counts[f"{counter}:{row[ct_col]}->{row[bt_col]}"] += 1

    def _broader_occ(self, table: Table) -> None:
        self._broader(table, "broader_occupation_pillar")

    def _broader_skill(self, table: Table) -> None:
        self._broader(table, "broader_skill_pillar")


_TEXT_COLUMNS: tuple[tuple[str, NamedNode, bool], ...] = (
    ("preferredLabel", SKOS.prefLabel, False),
    ("altLabels", SKOS.altLabel, True),
    ("hiddenLabels", SKOS.hiddenLabel, True),
    ("definition", SKOS.definition, False),
    ("scopeNote", SKOS.scopeNote, False),
    ("description", DCT.description, False),
)
_LABEL_PREDICATES = {SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel}
_HANDLERS = {
    "conceptSchemes": "concept_schemes",
    "ISCOGroups": "isco_groups",
    "skillGroups": "skill_groups",
    "occupations": "occupations",
    "skills": "skills",
    "occupationSkillRelations": "occupation_skill_relations",
    "skillSkillRelations": "skill_skill_relations",
    "broaderRelationsOccPillar": "broader_occ",
    "broaderRelationsSkillPillar": "broader_skill",
}


def _handler_name(kind: Kind) -> str:
    return "collection" if kind.scheme else _HANDLERS[kind.name]


def _is_label_column(kind: Kind, column: str) -> bool:
    """v1.2.x relation files repeat the labels of their concepts (occupationLabel, skillLabel
    ...): known to be there, and ignored because the concept files carry the labels."""
    return not kind.localized and column.endswith("Label")


def _datetime(value: str) -> Literal:
    """ESCO's modifiedDate as xsd:dateTime (a bare date as xsd:date)."""
    if "T" in value:
        return Literal(value, datatype=XSD.dateTime)
    return Literal(value, datatype=XSD.date)


# --- the package as a whole ------------------------------------------------------------------


@dataclass
class Plan:
    """Which files to load, which were skipped, and which a complete package would add."""

    load: list[PackageFile]
    skipped: list[str]
    missing: list[str]
    languages: list[str]
    layout: str


def _expected_name(kind: Kind, language: str | None) -> str:
    return f"{kind.name}_{language}.csv" if language else f"{kind.name}.csv"


def plan_package(files: list[PackageFile], languages: frozenset[str] | None, single: bool) -> Plan:
    """Choose the files to load and list what a complete package would also hold."""
    load: list[PackageFile] = []
    skipped: list[str] = []
    seen_relations: set[str] = set()
    for file in files:
        kind = file.kind
        if kind is None:
            skipped.append(f"{file.display}: not a file of an ESCO CSV package (ignored)")
        elif not kind.loaded:
            skipped.append(f"{file.display}: {kind.provides}; not loaded")
        elif kind.localized and languages is not None and (file.language or "en") not in languages:
            skipped.append(f"{file.display}: language '{file.language}' not in option languages")
        elif not kind.localized and kind.name in seen_relations:
            skipped.append(f"{file.display}: {kind.name} already read from another file")
        else:
            if not kind.localized:
                seen_relations.add(kind.name)
            load.append(file)
    order = {k.name: i for i, k in enumerate(KINDS)}
    load.sort(key=lambda f: (order[f.kind.name if f.kind else ""], f.language or "", f.display))
    # A language file without a language suffix is read as English (see EscoLoader._texts).
    langs = sorted({f.language or "en" for f in load if f.kind and f.kind.localized})
    suffixed = any(f.language for f in files if f.kind and not f.kind.localized)
    layout = "v1.2 (language-suffixed relation files)" if suffixed else "v1.1 (relations package)"
    missing: list[str] = []
    if not single:
        present: set[tuple[str, str | None]] = {
            (f.kind.name, (f.language or "en") if f.kind.localized else None)
            for f in load
            if f.kind
        }
        for kind in KINDS:
            if not kind.required:
                continue
            wanted: list[tuple[str, str | None]] = (
                [(kind.name, lang) for lang in (langs or ["en"])]
                if kind.localized
                else [(kind.name, None)]
            )
            for name, lang in wanted:
                if (name, lang) not in present:
                    label = lang if kind.localized else (langs[0] if suffixed and langs else None)
                    missing.append(f"{_expected_name(kind, label)}: {kind.provides}")
    return Plan(load, skipped, missing, langs, layout)


def _options(ctx: ImportContext) -> tuple[bool, frozenset[str] | None]:
    options = dict(ctx.source.options)
    partial = options.pop("partial", False)
    if not isinstance(partial, bool):
        raise ctx.fail(f"option partial = {partial!r}: expected true or false")
    languages = options.pop("languages", None)
    if languages is not None and (
        not isinstance(languages, list) or not all(isinstance(x, str) for x in languages)
    ):
        raise ctx.fail(f'option languages = {languages!r}: expected a list like ["en", "sv"]')
    options.pop("base_iri", None)
    for name in options:
        ctx.report.warn(
            f"unknown option '{name}' for the esco importer (ignored); known: {', '.join(OPTIONS)}"
        )
    return partial, (frozenset(languages) if languages is not None else None)


def _check_version(ctx: ImportContext, files: list[PackageFile]) -> None:
    """Warn when a zip's name states another ESCO version than the source's."""
    wanted = ctx.source.version.lstrip("v")
    for zip_path in sorted({f.path for f in files if f.path.suffix.lower() == ".zip"}):
        match = _VERSION_IN_NAME.search(zip_path.name)
        if match and match.group(1) != wanted:
            ctx.report.warn(
                f"{zip_path.name} says ESCO v{match.group(1)} but the source version is "
                f"{ctx.source.version}; the graph IRI carries the source version"
            )


def _cross_check(loader: EscoLoader) -> None:
    """Relations and ISCO links to concepts the package does not define, as warnings."""
    checks = (
        ("occupationUri", "occupations", "occupations", "occupationSkillRelations occupations"),
        ("skillUri", "skills", "skills", "occupationSkillRelations skills"),
        ("originalSkillUri", "skills", "skills", "skillSkillRelations skills"),
        ("relatedSkillUri", "skills", "skills", "skillSkillRelations related skills"),
        ("isco_groups", "isco_groups", "ISCOGroups", "occupations' ISCO groups"),
    )
    for ends, kind, file_kind, what in checks:
        if file_kind not in loader.loaded_kinds or ends not in loader.relation_ends:
            continue
        unknown = sorted(loader.relation_ends[ends] - loader.concepts[kind])
        if unknown:
            sample = ", ".join(unknown[:3])
            loader.ctx.report.warn(
                f"{len(unknown)} URI(s) in {what} are not in the {kind} file: {sample}"
            )


def import_esco(ctx: ImportContext) -> None:
    """Load an ESCO CSV package (zips, folder or single CSV) into the source's graph."""
    if not ctx.path.exists():
        raise ctx.fail("not found; expected ESCO's CSV zip(s), a folder of CSVs or one CSV")
    partial, languages = _options(ctx)
    files = package_files(ctx.path)
    if not any(f.kind for f in files):
        raise ctx.fail(
            "no ESCO CSV here (expected files such as occupations_en.csv, skills_en.csv.gz, "
            "occupationSkillRelations.csv, or ESCO's zip downloads)"
        )
    single = ctx.path.is_file() and ctx.path.suffix.lower() != ".zip"
    plan = plan_package(files, languages, single)
    for message in plan.skipped:
        ctx.report.note(message)
    if plan.missing and not partial:
        raise ctx.fail(
            "incomplete ESCO package; missing: "
            + "; ".join(plan.missing)
            + ". Add the files, or set partial = true under [sources.options] to load the rest"
        )
    for message in plan.missing:
        ctx.report.warn(f"missing {message} (partial package: loaded the rest)")
    ctx.report.lacks.extend(plan.missing)
    _check_version(ctx, files)
    loader = EscoLoader(ctx)
    for file in plan.load:
        loader.load(file)
    loader.flush()
    _cross_check(loader)
    _report(ctx, loader, plan)


def _report(ctx: ImportContext, loader: EscoLoader, plan: Plan) -> None:
    counts = ctx.report.counts
    for kind in ("occupations", "skills", "isco_groups", "skill_groups", "schemes"):
        if kind in loader.concepts:
            counts[kind] = len(loader.concepts[kind])
    counts.update(loader.counts)
    counts["quads_emitted"] = loader.emitted
    ctx.report.note(f"package layout {plan.layout}; languages {', '.join(plan.languages) or '-'}")
    if plan.missing:
        ctx.report.note("partial package: " + str(len(plan.missing)) + " file(s) missing")


# --- Swedish (or other) preferred labels from a table -----------------------------------------

_PREF_COLUMN = re.compile(r"^prefLabel_(?P<lang>[a-z]{2,3}(?:-[A-Za-z]{2,8})?)$")


def import_esco_labels(ctx: ImportContext) -> None:
    """Load conceptUri + prefLabel_<lang> rows as skos:prefLabel@<lang> in the source's graph.

    Made for esco/derived/sv_preflabels_from_jobtech_mappings.csv.gz (Swedish labels taken from
    Sweden's official ESCO mapping tables); any CSV with those columns works.
    """
    if not ctx.path.is_file():
        raise ctx.fail("not found; expected a CSV (or .csv.gz) with conceptUri,prefLabel_sv")
    file = _plain_file(ctx.path)
    graph = ctx.graph
    loader = EscoLoader(ctx)
    kinds: Counter[str] = Counter()
    sources: set[str] = set()
    seen: set[tuple[str, str]] = set()
    with file.open() as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader, None)
        if header is None:
            raise ctx.fail("empty file (no header row)")
        columns = {name.strip(): i for i, name in enumerate(header)}
        labels = [(i, m["lang"]) for name, i in columns.items() if (m := _PREF_COLUMN.match(name))]
        if "conceptUri" not in columns or not labels:
            raise ctx.fail(
                f"expected columns conceptUri and prefLabel_<language>; found {', '.join(columns)}",
                line=1,
            )
        uri_col = columns["conceptUri"]
        kind_col, source_col = columns.get("conceptKind"), columns.get("sourceFile")
        known = {"conceptUri", "conceptKind", "escoVersionStatedInMappingFile", "sourceFile"}
        for name in columns:
            if name not in known and not _PREF_COLUMN.match(name):
                ctx.report.warn(f"unknown column '{name}' (ignored)")
        line = 2
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise ctx.fail(
                        f"the row has {len(row)} fields, the header has {len(header)}", line=line
                    )
                uri = row[uri_col].strip()
                s = loader.iri(uri)
                for i, lang in labels:
                    value = row[i].strip()
                    if not value:
                        continue
                    if (uri, lang) in seen:
                        ctx.report.warn(f"line {line}: a second {lang} label for {uri} (kept both)")
                    seen.add((uri, lang))
                    label = Literal(value, language=lang)
                    loader.batch.append(Quad(s, SKOS.prefLabel, label, graph))
                    ctx.report.counts[f"labels_{lang}"] += 1
                if kind_col is not None:
                    kinds[row[kind_col].strip() or "unknown"] += 1
                if source_col is not None and row[source_col].strip():
                    sources.add(row[source_col].strip())
                line = reader.line_num + 1
        except csv.Error as exc:
            raise ctx.fail(f"cannot parse the row: {exc}", line=line) from exc
        except RowError as exc:
            raise ctx.fail(str(exc), line=line) from exc
    loader.flush()
    for kind, n in sorted(kinds.items()):
        ctx.report.counts[f"concepts_{kind}"] = n
    for source in sorted(sources):
        ctx.report.metadata.append((DCT.source, Literal(source)))
    ctx.report.note(
        "labels derived from: " + (", ".join(sorted(sources)) if sources else "(not stated)")
    )
