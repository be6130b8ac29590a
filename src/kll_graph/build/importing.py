"""The importers a source can name (the `importer` key of a `[[sources]]` entry), in one table.

Listed here, not registered by decorators on import, so the whole set is visible in one place and
nothing depends on which modules happen to be imported. A new format: write its importer in
`kll_graph.importers` (or beside its domain, as the mapping importers are) and add one line.
"""

from __future__ import annotations

from kll_graph.exceptions import ConfigError
from kll_graph.importers import Importer, compat, esco, jobtech, jobtech_legacy, rdf
from kll_graph.mappings import importer as mapping_importer
from kll_graph.mappings.sources import SSSOM_IMPORTER, TABLE_IMPORTER

IMPORTERS: dict[str, Importer] = {
    "rdf": rdf.import_rdf,
    "jobtech": jobtech.import_jobtech,
    "jobtech-legacy": jobtech_legacy.import_jobtech_legacy,
    "esco": esco.import_esco,
    "esco-sv-labels": esco.import_esco_labels,
    SSSOM_IMPORTER: mapping_importer.import_sssom,
    TABLE_IMPORTER: mapping_importer.import_esco_table,
}

#: Graphs derived from imported ones, by the importer of the source each derives from: the derived
#: source's id and the function that writes it (reading the store as imported so far). A derived
#: source has the version, licence and attribution of the source it derives from, and no files.
DERIVED: dict[str, tuple[str, Importer]] = {
    "esco": ("esco-compat", compat.import_esco_compat),
    "jobtech": ("jobtech-compat", compat.import_jobtech_compat),
}


def get_importer(name: str) -> Importer:
    """The importer named `name`; a ConfigError lists the known ones."""
    try:
        return IMPORTERS[name]
    except KeyError:
        known = ", ".join(sorted(IMPORTERS))
        raise ConfigError(f"unknown importer '{name}'; known importers: {known}") from None


def importer_names() -> list[str]:
    return sorted(IMPORTERS)
