"""Importers of mapping sets: our SSSOM files, and the official ESCO mapping tables.

- ``sssom``: every ``*.sssom.tsv`` of a directory (the build adds ``mappings/`` as source
  "mappings"); each file is one set and one named graph ``{source graph}/{file name}``.
- ``esco-mapping-table``: one ESCO mapping-tool CSV export configured in ``kll-graph.toml``,
  converted at build time (never committed) into one set in the source's own graph; option
  ``set_id`` overrides the set IRI ``{base}mappings/{source id}``. A concept the table names
  that no source imported before it labels (one of an older release the loaded data lacks) gets
  the table's label in the table's graph, with `kll:lastSeenIn` that graph, so it can be found;
  it gets no type, so the mapping checks still say it is in no loaded vocabulary.

A file with errors (see :mod:`kll_graph.mappings.checks`) stops the build with its file, line and
what was expected; the checks that need the loaded vocabularies run later as a build step.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kll_graph.exceptions import SourceError, SssomError
from kll_graph.importers import ImportContext
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
from kll_graph.namespaces import JOBTECH_CONCEPT, SKOS, catalog_iri, kll


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
    _label_unlabelled(ctx, mset, table)


#: The side of a row (SSSOM slot prefix) -> the preamble key of its labels' language (the table
#: states ESCO -> Swedish, so classification 1 is ESCO, the object here).
_LABEL_LANGUAGE = {"subject": "Classification 2 Language", "object": "Classification 1 Language"}


def _label_unlabelled(ctx: ImportContext, mset: MappingSet, table: EscoTable) -> None:
    """The table's label for each concept it names that nothing loaded so far labels."""
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
    k, g = kll(ctx.base_iri), ctx.graph
    quads: list[Quad] = []
    labelled = 0
    for iri, literal in sorted(named.items()):
        node = NamedNode(iri)
        if next(ctx.store.quads_for_pattern(node, SKOS.prefLabel, None), None) is not None:
            continue
        labelled += 1
        quads += [Quad(node, SKOS.prefLabel, literal, g), Quad(node, k.lastSeenIn, g, g)]
        if iri.startswith(JOBTECH_CONCEPT.iri):
            quads.append(Quad(node, k.jobtechId, Literal(iri[len(JOBTECH_CONCEPT.iri) :]), g))
    ctx.add(quads)
    ctx.report.counts["concepts labelled only by this table"] = labelled
