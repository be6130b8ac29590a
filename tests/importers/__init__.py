"""Tests of `kll_graph.importers`."""
