"""kll-graph: the JobTech Taxonomy, ESCO and their mappings as one SKOS knowledge graph."""

__version__ = "0.1.0"
