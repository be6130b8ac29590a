"""The review workbench's domain logic: who may review (users, roles, passwords, API tokens),
the queue of what is waiting for a decision, and how decisions are written into the SSSOM set
files with their audit trail. No Flask here: `kll_graph.web` adapts it to HTTP and
`kll_graph.cli` to the command line."""
