"""Importers of mapping sets: our SSSOM files, and the official ESCO mapping tables.

- ``sssom``: every ``*.sssom.tsv`` of a directory (the build adds ``mappings/`` as source
  "mappings"); each file is one set and one named graph ``{source graph}/{file name}``.
- ``esco-mapping-table``: one ESCO mapping-tool CSV export configured in ``kll-graph.toml``,
  converted at build time (never committed) into one set in the source's own graph; option
  ``set_id`` overrides the set IRI ``{base}mappings/{source id}``.

A file with errors (see :mod:`kll_graph.mapping_checks`) stops the build with its file, line and
what was expected; the checks that need the loaded vocabularies run later as a build step.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pyoxigraph import NamedNode

from kll_graph.esco_tables import EscoTable, convert_tables, default_set_id
from kll_graph.exceptions import SourceError, SssomError
from kll_graph.importers import ImportContext, register
from kll_graph.mapping_checks import file_errors
from kll_graph.mapping_rdf import set_quads
from kll_graph.namespaces import catalog_iri
from kll_graph.settings import Settings, SourceConfig
from kll_graph.sssom import MappingSet, mapping_set_files, read_sssom

SSSOM_IMPORTER = "sssom"
TABLE_IMPORTER = "esco-mapping-table"
MAPPING_IMPORTERS = (SSSOM_IMPORTER, TABLE_IMPORTER)


def table_set(source: SourceConfig, path: Path, base_iri: str) -> tuple[MappingSet, EscoTable]:
    """The mapping set of one configured official table (converted from the CSV)."""
    set_id = str(source.options.get("set_id") or default_set_id(base_iri, source.id))
    mset, tables = convert_tables([path], set_id, license=source.license, source_url=source.url)
    mset.path = path
    return mset, tables[0]


def source_sets(source: SourceConfig, path: Path, base_iri: str) -> list[MappingSet]:
    """Every mapping set a mapping source holds (for the checks and the CLI)."""
    if source.importer == TABLE_IMPORTER:
        return [table_set(source, path, base_iri)[0]]
    return [read_sssom(file) for file in mapping_set_files(path)]


def configured_sets(settings: Settings) -> list[MappingSet]:
    """The sets a build of these settings compiles: the configured official tables present in
    the data directory (or the bundled sample) and every file of the mappings directory."""
    from kll_graph.build import builtin_sources, plan_sources

    plan = plan_sources(settings)
    sets: list[MappingSet] = []
    for source in plan.sources:
        if source.importer in MAPPING_IMPORTERS:
            sets += source_sets(source, source.resolve(plan.data_dir), settings.base_iri)
    for source in builtin_sources(settings):
        if source.importer in MAPPING_IMPORTERS:
            sets += source_sets(source, Path(source.path), settings.base_iri)
    return sets


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


@register(SSSOM_IMPORTER)
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


@register(TABLE_IMPORTER)
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


def load_set_file(path: Path, base_iri: str) -> MappingSet:
    """One set from a path given on the command line: SSSOM/TSV, or an ESCO table CSV."""
    if path.suffix.lower() == ".csv":
        name = path.name.removesuffix(".csv")
        mset, _tables = convert_tables([path], default_set_id(base_iri, name))
        mset.path = path
        return mset
    return read_sssom(path)
