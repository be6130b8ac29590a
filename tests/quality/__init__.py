"""Tests of `kll_graph.quality`."""
