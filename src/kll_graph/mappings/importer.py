"""Importers of mapping sets: our SSSOM files, and the official ESCO mapping tables.

- ``sssom``: every ``*.sssom.tsv`` of a directory (the build adds ``mappings/`` as source
  "mappings"); each file is one set and one named graph ``{source graph}/{file name}``.
- ``esco-mapping-table``: one ESCO mapping-tool CSV export configured in ``kll-graph.toml``,
  converted at build time (never committed) into one set in the source's own graph; option
  ``set_id`` overrides the set IRI ``{base}mappings/{source id}``. A concept the table names
  that no current release holds (one of an older release the loaded data lacks) gets the
  table's label in the table's graph, with `kll:lastSeenIn` that graph, so it can be found; a
  JobTech one that no source typed gets the type of the table's Swedish side (occupation name or
  skill, from the preamble; option ``jobtech_type``). Which release's label wins is settled after
  the import (:mod:`kll_graph.importers.older`).

A file with errors (see :mod:`kll_graph.mappings.checks`) stops the build with its file, line and
what was expected; the checks that need the loaded vocabularies run later as a build step.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kll_graph.exceptions import SourceError, SssomError
from kll_graph.importers import ImportContext
from kll_graph.importers.jobtech import scheme_iri
from kll_graph.importers.older import is_current, is_typed, scheme_quads, typed_quads
from kll_graph.mappings.checks import file_errors
from kll_graph.mappings.official_tables import EscoTable
from kll_graph.mappings.rdf import set_quads
from kll_graph.mappings.sources import table_set
from kll_graph.mappings.sssom import (
    NO_TERM_FOUND,
    MappingSet,
    expand,
    mapping_set_files,
    read_sssom,
)
from kll_graph.namespaces import JOBTECH_CONCEPT, RDF, SKOS, catalog_iri, kll


def _source_error(ctx: ImportContext, exc: SssomError) -> SourceError:
    return ctx.fail(exc.detail, path=exc.path, line=exc.line, column=exc.column)


def _refuse_errors(ctx: ImportContext, mset: MappingSet) -> None:
    errors = file_errors(mset)
    if errors:
        first = errors[0]
        more = (
            f" (and {len(errors) - 1} more; run `kll-graph mappings check`)"
            if len(errors) > 1
            else ""
        )
        raise ctx.fail(
            f"{first.check}: {first.slot + ': ' if first.slot else ''}{first.message}{more}",
            path=mset.path,
            line=first.line,
        )


def _compile(ctx: ImportContext, mset: MappingSet, graph: NamedNode) -> None:
    ctx.add(set_quads(mset, graph, catalog_iri(ctx.base_iri), ctx.base_iri))
    kinds: Counter[str] = Counter()
    for mapping in mset.mappings:
        if mapping.no_term:
            kinds["no_match_rows"] += 1
        elif mapping.negated:
            kinds["negated_rows"] += 1
        else:
            kinds["mappings"] += 1
    ctx.report.counts.update(kinds)
    ctx.report.counts["sets"] += 1


def import_sssom(ctx: ImportContext) -> None:
    """Compile every `*.sssom.tsv` of the source directory, one named graph per file."""
    files = mapping_set_files(ctx.path) if ctx.path.is_dir() else [ctx.path]
    if not files or not files[0].exists():
        raise ctx.fail("no *.sssom.tsv file here")
    set_ids: dict[str, Path] = {}
    for file in files:
        ctx.progress(f"compiling {file.name}")
        try:
            mset = read_sssom(file)
        except SssomError as exc:
            raise _source_error(ctx, exc) from exc
        _refuse_errors(ctx, mset)
        if mset.set_id in set_ids:
            raise ctx.fail(
                f"mapping_set_id {mset.set_id} is also the id of {set_ids[mset.set_id].name}; "
                "every set needs its own id",
                path=file,
                line=mset.metadata_lines.get("mapping_set_id"),
            )
        set_ids[mset.set_id] = file
        title = str(mset.metadata.get("mapping_set_title") or mset.name)
        graph = ctx.extra_graph(mset.name, f"mapping set {title}")
        _compile(ctx, mset, graph)
        for line, note in mset.notes:
            ctx.report.warn(f"{file.name}:{line}: {note}")


def import_esco_table(ctx: ImportContext) -> None:
    """Convert one official ESCO mapping table and compile it into the source's graph."""
    if not ctx.path.is_file():
        raise ctx.fail("file not found")
    ctx.progress(f"converting {ctx.path.name}")
    try:
        mset, table = table_set(ctx.source, ctx.path, ctx.base_iri)
    except SssomError as exc:
        raise _source_error(ctx, exc) from exc
    _refuse_errors(ctx, mset)
    ctx.report.counts["table_rows"] += table.data_rows
    for relation, count in sorted(table.relations.items()):
        name = (relation or "blank").removeprefix("skos:").replace(" ", "_")
        ctx.report.counts[f"table_{name}"] += count
    for note in table.notes:
        ctx.report.note(f"{ctx.path.name}: {note}")
    for warning in table.warnings:
        ctx.report.warn(f"{ctx.path.name}: {warning}")
    _compile(ctx, mset, ctx.graph)
    _older_concepts(ctx, mset, table)


#: The side of a row (SSSOM slot prefix) -> the preamble key of its labels' language (the table
#: states ESCO -> Swedish, so classification 1 is ESCO, the object here).
_LABEL_LANGUAGE = {"subject": "Classification 2 Language", "object": "Classification 1 Language"}
#: What the table's ESCO side holds (its preamble's "Classification 1 Concept type") -> the JobTech
#: concept type of its Swedish side; option ``jobtech_type`` overrides it.
_JOBTECH_TYPE = {"occupation": "occupation-name", "skill": "skill", "skills": "skill"}


def _jobtech_type(ctx: ImportContext, table: EscoTable) -> str | None:
    """The type a concept only this table names gets: stated, or read from the preamble."""
    stated = ctx.source.options.get("jobtech_type")
    if stated:
        return str(stated)
    kind = table.preamble.get("Classification 1 Concept type", "").strip().lower()
    return _JOBTECH_TYPE.get(kind)


def _named(mset: MappingSet, table: EscoTable) -> dict[str, Literal]:
    """Every concept a table names, with the table's label for it (in the side's language)."""
    prefixes = mset.prefixes()
    named: dict[str, Literal] = {}
    for mapping in mset.mappings:
        for side, key in _LABEL_LANGUAGE.items():
            value, label = mapping.get(f"{side}_id"), mapping.get(f"{side}_label")
            if not value or value == NO_TERM_FOUND or not label:
                continue
            try:
                iri = expand(value, prefixes)
            except (KeyError, ValueError):
                continue
            language = table.preamble.get(key, "").strip().lower() or None
            named.setdefault(iri, Literal(label, language=language))
    return named


def _older_concepts(ctx: ImportContext, mset: MappingSet, table: EscoTable) -> None:
    """What the table knows of each concept it names that no current release holds: its label
    and `kll:lastSeenIn` in the table's graph (the build step that settles older concepts keeps
    the newest release's label), and, for a JobTech concept no source typed, the type the table's
    side implies."""
    k, g = kll(ctx.base_iri), ctx.graph
    jobtech_type = _jobtech_type(ctx, table)
    quads: list[Quad] = []
    counts: Counter[str] = Counter()
    for iri, literal in sorted(_named(mset, table).items()):
        node = NamedNode(iri)
        if is_current(ctx.store, ctx.base_iri, node, ctx.ignore_graphs):
            continue
        counts["concepts of older releases named by this table"] += 1
        quads += [Quad(node, SKOS.prefLabel, literal, g), Quad(node, k.lastSeenIn, g, g)]
        if not iri.startswith(JOBTECH_CONCEPT.iri):
            continue
        concept_id = iri[len(JOBTECH_CONCEPT.iri) :]
        if jobtech_type and not is_typed(ctx.store, node):
            counts["concepts typed only by this table"] += 1
            quads += typed_quads(ctx.base_iri, node, concept_id, jobtech_type, g)
        elif next(ctx.store.quads_for_pattern(node, k.jobtechId, None), None) is None:
            # stated once: the engine counts a triple two default graphs hold twice
            quads.append(Quad(node, k.jobtechId, Literal(concept_id), g))
    if counts["concepts typed only by this table"] and jobtech_type:
        scheme = scheme_iri(ctx.base_iri, jobtech_type)
        if next(ctx.store.quads_for_pattern(scheme, RDF.type, SKOS.ConceptScheme), None) is None:
            quads += scheme_quads(ctx.base_iri, jobtech_type, g)
    ctx.add(quads)
    ctx.report.counts.update(counts)
    if counts["concepts typed only by this table"]:
        ctx.report.note(
            f"{counts['concepts typed only by this table']} concept(s) no other source holds: "
            f"typed {jobtech_type} from the table's side"
        )
