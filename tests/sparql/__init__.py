"""Tests of `kll_graph.sparql`."""
