"""The local cluster under faults: replicas and apps killed under load, a new build rolled out.

Real processes throughout: two replicas (`kll-graph replica serve`), two apps (`kll-graph
serve`, reading the replicas when `--backend` exists), HAProxy, and client threads. A few
seconds of load each; the long runs are in benchmarks/bench_cluster.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import urlopen

import pytest

from kll_graph.build.pipeline import build
from kll_graph.replica.cluster import CHECK_INTERVAL, Cluster
from kll_graph.replica.traffic import Traffic, failures
from kll_graph.testing import make_settings

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs HAProxy")

CLIENTS = 4


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cluster") / "store"
    build(make_settings(root))
    return root


@pytest.fixture(scope="module")
def cluster(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("cluster-work"), store, timeout_s=5)
    running.start()
    yield running
    running.stop()


def _traffic(cluster: Cluster) -> Traffic:
    address = urlsplit(cluster.url)
    assert address.hostname is not None and address.port is not None
    return Traffic(address.hostname, address.port, CLIENTS)


def test_cluster_answers_through_haproxy(cluster: Cluster) -> None:
    outcomes = _traffic(cluster).run_for(1.5)
    assert len(outcomes) > 10
    assert failures(outcomes) == []
    assert {o.build for o in outcomes} == {cluster.current.build_id}


def test_replica_answers_name_their_build(cluster: Cluster) -> None:
    """Through the replica section the apps use, each answer names the replica and its build."""
    query = urlencode({"query": "ASK {}"})
    with urlopen(f"{cluster.current.backend_url}?{query}", timeout=10) as response:
        named = response.headers["X-KLL-Replica"]
    replicas = {r.name for r in cluster.current.replicas}
    assert named.split()[0] in replicas
    assert named.split()[1] == cluster.current.build_id


def test_replica_killed_under_load_then_rejoins(cluster: Cluster) -> None:
    victim = cluster.current.replicas[0]
    traffic = _traffic(cluster).start()
    time.sleep(1)
    os.kill(victim.proc.pid, signal.SIGKILL)
    time.sleep(3)
    outcomes = traffic.stop()
    assert failures(outcomes) == []
    assert len(outcomes) > 10
    cluster.restart(victim)
    time.sleep(3 * CHECK_INTERVAL)
    outcomes = _traffic(cluster).run_for(1.5)
    assert failures(outcomes) == []
    assert victim.proc.poll() is None


def test_app_killed_under_load_is_routed_around(cluster: Cluster) -> None:
    victim = cluster.current.apps[0]
    traffic = _traffic(cluster).start()
    time.sleep(1)
    os.kill(victim.proc.pid, signal.SIGKILL)
    time.sleep(3)
    outcomes = traffic.stop()
    assert failures(outcomes) == []
    cluster.restart(victim)
    time.sleep(3 * CHECK_INTERVAL)
    assert failures(_traffic(cluster).run_for(1.5)) == []


def test_new_build_rolled_out_under_load(cluster: Cluster, store: Path) -> None:
    old = cluster.current.build_id
    new = build(make_settings(store)).manifest.build_id
    traffic = _traffic(cluster).start()
    time.sleep(0.5)
    assert cluster.switch()
    switched = time.monotonic()
    time.sleep(1)
    outcomes = traffic.stop()
    assert failures(outcomes) == []
    assert {o.build for o in outcomes} <= {old, new}
    assert {o.build for o in outcomes if o.ended > switched + 0.5} == {new}
    assert cluster.current.build_id == new
    assert len(cluster.generations) == 1


def test_service_through_the_cluster_makes_no_connection(cluster: Cluster) -> None:
    """Through the public /sparql (the apps refuse it) and straight to the replica section (the
    replicas cannot connect): a socket listening on loopback sees no connection either way."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(1)
        port = listener.getsockname()[1]
        query = urlencode(
            {"query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}"}
        )
        with pytest.raises(HTTPError) as refused:
            urlopen(f"{cluster.url}/sparql?{query}", timeout=10)
        assert refused.value.code == 400
        with urlopen(f"{cluster.current.backend_url}?{query}", timeout=10) as response:
            assert b"Permission denied" in response.read()
        with pytest.raises(TimeoutError):
            listener.accept()
