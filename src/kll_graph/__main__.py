"""`python -m kll_graph` runs the CLI."""

from kll_graph.cli import main

main()
