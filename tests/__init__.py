"""kll-graph tests."""
