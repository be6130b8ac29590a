"""Tests of `kll_graph.build`."""
