"""Which mapping sets a source holds: our SSSOM files, or an official ESCO mapping table
converted on reading. The importer compiles these sets; the checks and the CLI read them too.
"""

from __future__ import annotations

from pathlib import Path

from kll_graph.mappings.official_tables import EscoTable, convert_tables, default_set_id
from kll_graph.mappings.sssom import MappingSet, mapping_set_files, read_sssom
from kll_graph.plan import builtin_sources, plan_sources
from kll_graph.settings import Settings, SourceConfig

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
    plan = plan_sources(settings)
    sets: list[MappingSet] = []
    for source in plan.sources:
        if source.importer in MAPPING_IMPORTERS:
            sets += source_sets(source, source.resolve(plan.data_dir), settings.base_iri)
    for source in builtin_sources(settings):
        if source.importer in MAPPING_IMPORTERS:
            sets += source_sets(source, Path(source.path), settings.base_iri)
    return sets


def load_set_file(path: Path, base_iri: str) -> MappingSet:
    """One set from a path given on the command line: SSSOM/TSV, or an ESCO table CSV."""
    if path.suffix.lower() == ".csv":
        name = path.name.removesuffix(".csv")
        mset, _tables = convert_tables([path], default_set_id(base_iri, name))
        mset.path = path
        return mset
    return read_sssom(path)
