"""Tests of `kll_graph.web`."""
