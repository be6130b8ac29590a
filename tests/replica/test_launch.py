"""A launched replica: serves the build it was loaded with, cannot connect out, stops runaways."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from kll_graph.exceptions import ReplicaError
from kll_graph.replica.dump import verify_dump
from kll_graph.replica.launch import spawn_replica
from kll_graph.replica.sandbox import outbound_filter
from kll_graph.sparql.query import named_query
from kll_graph.testing import free_port

from .conftest import TIMEOUT_S

JSON = {"Accept": "application/sparql-results+json"}
#: The dataset every query to a replica names (the replica's own default graph is empty).
UNION = {"union-default-graph": ""}


def test_build_id_is_readable_by_sparql(replica_url: str, sample_dump: Path) -> None:
    response = requests.post(
        replica_url, data={"query": named_query("build_id")}, headers=JSON, timeout=10
    )
    rows = response.json()["results"]["bindings"]
    assert [row["build_id"]["value"] for row in rows] == [verify_dump(sample_dump).build_id]


def test_service_makes_no_connection(replica_url: str) -> None:
    """A SERVICE to a socket listening on loopback: the engine tries, the kernel refuses the
    connect, and the socket never sees a connection."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(2)
        port = listener.getsockname()[1]
        query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
        response = requests.post(replica_url, data={"query": query}, headers=JSON, timeout=10)
        assert "Permission denied" in response.text
        with pytest.raises(TimeoutError):
            listener.accept()


def test_runaway_query_is_stopped_and_others_answered(replica_url: str) -> None:
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) < STR(?f)) }"
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        data = {"query": runaway, **UNION}
        response = requests.post(replica_url, data=data, headers=JSON, timeout=60)
        outcome["seconds"] = time.monotonic() - started
        outcome["text"] = response.text

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    data = {"query": "ASK { ?s ?p ?o }", **UNION}
    light = requests.post(replica_url, data=data, headers=JSON, timeout=5)
    assert light.json()["boolean"] is True
    # without a dataset the replica reads its own default graph, which the build leaves empty
    bare = requests.post(replica_url, data={"query": "ASK { ?s ?p ?o }"}, headers=JSON, timeout=5)
    assert bare.json()["boolean"] is False
    assert thread.is_alive(), "the runaway query ended before the light one was asked"
    thread.join(60)
    assert "cancelled" in str(outcome["text"])
    assert float(str(outcome["seconds"])) < TIMEOUT_S + 10


def test_a_directory_that_is_not_a_replica_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ReplicaError, match="is not a replica loaded by"):
        spawn_replica(tmp_path, f"127.0.0.1:{free_port()}", 1, wait=10)


def test_filter_sizes() -> None:
    assert len(outbound_filter("aarch64")) == len(outbound_filter("x86_64"))
    with pytest.raises(ReplicaError, match="no seccomp table"):
        outbound_filter("riscv64")
