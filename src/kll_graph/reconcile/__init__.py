"""Reconciliation: the W3C Reconciliation API's domain logic, for both versions, without Flask.

A reconciliation client (OpenRefine and the like) sends batches of names, codes and ids and wants
for each the concepts they may mean, scored 0-100, with `match: true` on the one it can take
without asking. This package answers from the label index and the read model:

- :mod:`~kll_graph.reconcile.types`: the types a query can ask for, with umbrella types;
- :mod:`~kll_graph.reconcile.query`: 0.2 and 1.0 query batches, checked, in one shape;
- :mod:`~kll_graph.reconcile.graph`: broader concepts, mappings and ESCO UUIDs per build;
- :mod:`~kll_graph.reconcile.properties`: the properties to match and to extend;
- :mod:`~kll_graph.reconcile.scoring`: named features, scores and the auto-match rule;
- :mod:`~kll_graph.reconcile.service`: candidates, ranked, in each version's result shape;
- :mod:`~kll_graph.reconcile.extend`: data extension, property proposals, preview data;
- :mod:`~kll_graph.reconcile.manifest`: the manifests and suggest answers.
"""

from kll_graph.reconcile.query import MAX_BATCH, Query, parse_batch_02, parse_batch_10
from kll_graph.reconcile.service import Reconciler, reconciler_for, result_02, result_10

__all__ = [
    "MAX_BATCH",
    "Query",
    "Reconciler",
    "parse_batch_02",
    "parse_batch_10",
    "reconciler_for",
    "result_02",
    "result_10",
]
