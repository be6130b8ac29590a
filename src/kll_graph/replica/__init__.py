"""Replicas: a build shipped as a dump and served by engine replicas with no outbound network.

`dump` writes a build as gzipped N-Quads plus its artifacts and a checksummed manifest, and
verifies one (`verify_dump`, used by both the loader and app processes reading the artifacts);
`load` bulk-loads a verified dump into a new engine location and checks the counts; `sandbox`
is the seccomp filter that lets a replica listen but never connect; `launch` starts
`oxigraph serve-read-only` under it.
"""

from kll_graph.replica.dump import DumpManifest, verify_dump, write_dump
from kll_graph.replica.load import load_dump, replica_build

__all__ = ["DumpManifest", "load_dump", "replica_build", "verify_dump", "write_dump"]
