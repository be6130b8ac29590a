"""Tests of `kll_graph.labels`."""
