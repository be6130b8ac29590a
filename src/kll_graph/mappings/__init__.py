"""Mapping sets end to end: SSSOM files in `mappings/` and Sweden's official ESCO mapping tables.

`sssom` reads and writes SSSOM/TSV; `official_tables` converts the official tables' CSV exports to
SSSOM; `sources` says which sets a source holds; `importer` compiles a set into RDF through `rdf`
(SKOS match triples plus SSSOM/RDF provenance); `checks` finds malformed files and mappings that
contradict each other or the vocabularies; `coverage` counts what is mapped; `sets` is the read
model of the mapping-set pages. `matcher` proposes candidates for unmapped concepts from the
vocabularies alone, `suggestions` writes them as a set, and `evaluation` measures them against
the official tables.
"""

from kll_graph.mappings.sssom import Mapping, MappingSet, read_sssom, write_sssom

__all__ = ["Mapping", "MappingSet", "read_sssom", "write_sssom"]
