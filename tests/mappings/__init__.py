"""Tests of `kll_graph.mappings`."""
