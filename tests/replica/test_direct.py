"""The direct SPARQL path: HAProxy sends public `/sparql` queries straight to the replicas after
its pre-filter (deploy/sparql_prefilter.lua), and the answers match the embedded store's.

Real processes: two replicas, two apps and HAProxy (`Cluster(direct_sparql=True)`) on the
sample build, compared with the embedded `/sparql` of a live server on the same build. A response
that went the direct way carries `X-KLL-Replica` (set only by HAProxy's direct backend).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from pyoxigraph import QuerySolutions

from kll_graph.cli import main
from kll_graph.namespaces import PREFIXES
from kll_graph.replica.cluster import CHECK_INTERVAL, DIRECT_GRACE, Cluster
from kll_graph.replica.traffic import Traffic, failures, sparql_path
from kll_graph.settings import SAMPLE_DIR
from kll_graph.sparql.query import execute
from kll_graph.store import CurrentStore, StoreLayout, open_build
from kll_graph.testing import LiveServer

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs HAProxy")

JSON = {"Accept": "application/sparql-results+json"}
#: Seconds a query may run on this cluster's replicas.
LIMIT_S = 2
#: Queries a replica is sent within LIMIT_S (the production default is thousands).
PER_LIMIT = 60
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(STR(?c) < STR(?i)) }"
)
#: Queries that lean on what the apps add: default prefixes (skos:, kll: undeclared), GRAPH ?g
#: over every graph, a query's own FROM, and the three Protocol forms.
QUERIES = [
    "SELECT ?c ?l WHERE { ?c skos:prefLabel ?l } ORDER BY ?c ?l LIMIT 40",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "ASK { ?s a skos:Concept }",
    "SELECT ?b WHERE { ?x kll:buildId ?b }",
    "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/kll-graph/graph/catalog> WHERE { ?s ?p ?o }",
    "PREFIX s: <http://www.w3.org/2004/02/skos/core#>\n"
    "SELECT ?c WHERE { ?c a s:Concept ; s:prefLabel ?l FILTER(CONTAINS(?l, 'from')) } LIMIT 5",
]


@pytest.fixture(scope="module")
def cluster(
    sample_store: CurrentStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    running = Cluster(
        tmp_path_factory.mktemp("direct-work"),
        sample_store.layout.root,
        timeout_s=LIMIT_S,
        direct_sparql=True,
        direct_queries_per_limit=PER_LIMIT,
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sparql(cluster: Cluster) -> str:
    return f"{cluster.url}/sparql"


def _rows(answer: dict[str, Any]) -> object:
    if "boolean" in answer:
        return answer["boolean"]
    return sorted(
        sorted((name, term["type"], term["value"]) for name, term in row.items())
        for row in answer["results"]["bindings"]
    )


def _ask(url: str, query: str, form: str, extra: dict[str, str] | None = None) -> requests.Response:
    if form == "get":
        params = {"query": query, **(extra or {})}
        return requests.get(url, params=params, headers=JSON, timeout=30)
    if form == "post-form":
        return requests.post(url, data={"query": query}, headers=JSON, timeout=30)
    headers = {**JSON, "Content-Type": "application/sparql-query"}
    return requests.post(url, data=query.encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("form", ["get", "post-form", "post-direct"])
def test_direct_answers_match_the_embedded_store(
    sparql: str, sample_server: LiveServer, cluster: Cluster, form: str
) -> None:
    for query in QUERIES:
        direct = _ask(sparql, query, form)
        embedded = _ask(f"{sample_server.url}/sparql", query, form)
        assert direct.status_code == 200, (query, direct.text)
        assert embedded.status_code == 200, (query, embedded.text)
        assert direct.headers["X-KLL-Replica"] in {r.name for r in cluster.current.replicas}
        assert direct.headers["X-KLL-Build"] == cluster.current.build_id
        assert _rows(direct.json()) == _rows(embedded.json()), query
    counted = _ask(sparql, QUERIES[1], form).json()["results"]["bindings"]
    assert len(counted) > 3  # GRAPH ?g sees the named graphs


def _error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert "X-KLL-Replica" not in response.headers


def test_service_refused_and_replicas_make_no_connection(sparql: str, cluster: Cluster) -> None:
    """The pre-filter refuses SERVICE; sent to a replica anyway (as a query the pre-filter missed
    would be), the engine cannot connect: the listening socket sees nothing either way."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(1)
        port = listener.getsockname()[1]
        query = f"SELECT * WHERE {{ SeRvIcE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}"
        for form in ("get", "post-form", "post-direct"):
            _error(_ask(sparql, query, form), 400, "query")
        replica = f"http://{cluster.current.replicas[0].address}/query"
        assert "Permission denied" in _ask(replica, query, "get").text
        with pytest.raises(TimeoutError):
            listener.accept()


def test_updates_refused(sparql: str) -> None:
    update = "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }"
    posted = requests.post(
        sparql, data=update, headers={"Content-Type": "application/sparql-update"}, timeout=10
    )
    _error(posted, 403, "update_forbidden")
    _error(requests.post(sparql, data={"update": update}, timeout=10), 403, "update_forbidden")
    _error(requests.get(sparql, params={"update": update}, timeout=10), 403, "update_forbidden")
    _error(_ask(sparql, update, "get"), 403, "update_forbidden")
    _error(_ask(sparql, "LOAD <http://127.0.0.1:1/x>", "post-form"), 403, "update_forbidden")
    assert _ask(sparql, "ASK { ?s ?p ?o }", "get").json()["boolean"] is True


def test_oversize_refused_and_long_queries_go_through_the_apps(
    sparql: str, cluster: Cluster
) -> None:
    limit = cluster.settings.max_request_bytes
    padding = "#" + "x" * limit + "\n"
    _error(_ask(sparql, padding + "ASK {}", "post-direct"), 413, "request_too_large")
    _error(_ask(sparql, padding + "ASK {}", "post-form"), 413, "request_too_large")
    # under the limit but longer than the pre-filter rewrites: answered, by an app
    long = _ask(sparql, "#" + "x" * 100_000 + "\nASK { ?s ?p ?o }", "post-direct")
    assert long.status_code == 200 and long.json()["boolean"] is True
    assert "X-KLL-Replica" not in long.headers
    deep = "ASK { FILTER(" + "(" * 150 + "1" + ")" * 150 + ") }"
    _error(_ask(sparql, deep, "get"), 400, "query")


def test_runaway_query_is_stopped_and_others_are_served(sparql: str) -> None:
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        response = _ask(sparql, RUNAWAY, "get")
        outcome["seconds"] = time.monotonic() - started
        outcome["status"] = response.status_code
        outcome["text"] = response.text

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    light = _ask(sparql, "ASK { ?s a skos:Concept }", "get")
    assert light.json()["boolean"] is True
    assert "X-KLL-Replica" in light.headers
    assert time.monotonic() - started < LIMIT_S
    assert thread.is_alive(), "the runaway query ended before the light one was asked"
    thread.join(60)
    assert outcome["seconds"] < LIMIT_S + DIRECT_GRACE + 3
    # stopped by the engine (its error) or by HAProxy's timeout server (504, JSON)
    assert outcome["status"] != 200 or "cancelled" in outcome["text"], outcome


def test_every_response_names_the_build(sparql: str, cluster: Cluster) -> None:
    build = cluster.current.build_id
    responses = [
        _ask(sparql, "ASK {}", "get"),  # direct
        _ask(sparql, "SELECT WHERE", "get"),  # the engine's syntax error
        _ask(sparql, "SERVICE", "get"),  # the pre-filter's refusal
        requests.get(sparql, params={"query": "ASK {}", "format": "json"}, timeout=10),  # apps
        requests.get(sparql, headers={"Accept": "text/html"}, timeout=10),  # the query page
        requests.get(f"{cluster.url}/no-such-page", timeout=10),
        requests.post(sparql, data=b"x" * 2_000_000, timeout=10),  # HAProxy's 413
    ]
    assert [r.headers.get("X-KLL-Build") for r in responses] == [build] * len(responses)
    assert [r.status_code for r in responses] == [200, 400, 400, 200, 200, 404, 413]
    assert "X-KLL-Replica" in responses[0].headers
    assert "X-KLL-Replica" in responses[1].headers
    assert "X-KLL-Replica" not in responses[3].headers
    # the engine's syntax error, in the apps' error shape with the engine's message
    assert responses[1].json()["error"]["code"] == "query"
    assert "error at 1:" in responses[1].json()["error"]["message"]


def test_graph_results_default_to_turtle(sparql: str) -> None:
    query = "CONSTRUCT WHERE { ?s a skos:Concept } LIMIT 3"
    for accept in ("*/*", None):
        headers = {"Accept": accept}  # None: no Accept header at all
        answer = requests.get(sparql, params={"query": query}, headers=headers, timeout=10)
        assert answer.status_code == 200
        assert "X-KLL-Replica" in answer.headers
        assert answer.headers["Content-Type"].startswith("text/turtle")
        assert "Concept" in answer.text


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("TEXT/CSV;q=0.9, application/sparql-results+json;q=0.1", "text/csv"),
    ],
)
def test_csv_and_tsv_answers_go_through_the_apps(sparql: str, accept: str, media_type: str) -> None:
    """A cut answer in CSV or TSV parses as whole, so only the apps (which hold it) may send it."""
    query = "SELECT ?c WHERE { ?c a skos:Concept } ORDER BY ?c LIMIT 3"
    answer = requests.get(sparql, params={"query": query}, headers={"Accept": accept}, timeout=10)
    assert answer.status_code == 200
    assert "X-KLL-Replica" not in answer.headers
    assert answer.headers["Content-Type"].startswith(media_type)
    assert len(answer.text.strip().splitlines()) == 4  # the header and three rows
    same_as_json = requests.get(sparql, params={"query": query}, headers=JSON, timeout=10)
    assert "X-KLL-Replica" in same_as_json.headers


def test_the_pre_filter_is_loaded_only_when_asked(tmp_path: Path, cluster: Cluster) -> None:
    assert "lua.kll_sparql" in cluster.config_text()
    plain = Cluster(tmp_path, cluster.store, port=1)
    assert "lua-load" not in plain.config_text()
    assert "kll_sparql" not in plain.config_text()


def test_queries_over_the_replicas_share_are_answered_busy(sparql: str, cluster: Cluster) -> None:
    """More queries within one time limit than the replicas may start threads for: the rest are
    503 `busy` at once, the replicas keep serving, and the window moves on."""
    time.sleep(LIMIT_S + 0.5)  # the earlier tests' queries have left the window
    statuses: list[int] = []

    def burst() -> None:
        with requests.Session() as session:
            for _ in range(50):
                answer = session.get(sparql, params={"query": "ASK {}"}, headers=JSON, timeout=10)
                statuses.append(answer.status_code)
                if answer.status_code == 503:
                    assert answer.json()["error"]["code"] == "busy"
                    assert answer.headers["X-KLL-Build"] == cluster.current.build_id

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cap = PER_LIMIT * len(cluster.current.replicas)
    assert set(statuses) == {200, 503}
    # all of the cap when the burst fits in one window (more when the window moved on meanwhile)
    assert statuses.count(200) >= cap
    time.sleep(LIMIT_S + 0.5)
    assert _ask(sparql, "ASK { ?s ?p ?o }", "get").status_code == 200
    assert all(r.proc.poll() is None for r in cluster.current.replicas)


#: A query naming its own graph: the engine must not widen it to the union.
CATALOG_COUNT = (
    "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/kll-graph/graph/catalog> WHERE { ?s ?p ?o }"
)


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Path]]:
    """A build with two ESCO releases (the sample's, and a copy as an older one: its graph is
    left out of the default graph), served by a direct-path cluster."""
    root = tmp_path_factory.mktemp("direct-releases")
    for version in ("v1.1.1", "v1.0"):
        shutil.copytree(SAMPLE_DIR / "esco" / "v1.1.1", root / "data" / "esco" / version)
    config = root / "kll-graph.toml"
    entry = '[[sources]]\nid = "esco"\nimporter = "esco"\n'
    config.write_text(
        f'[settings]\nstore = "{root / "store"}"\ndata_dir = "{root / "data"}"\n'
        f'{entry}path = "esco/v1.1.1"\nversion = "v1.1.1"\ncurrent = true\n'
        f'{entry}path = "esco/v1.0"\nversion = "v1.0"\n',
        encoding="utf-8",
    )
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KLL_")}
    built = CliRunner(env=unset).invoke(main, ["--config", str(config), "build"])
    assert built.exit_code == 0, built.output
    running = Cluster(root / "work", root / "store", timeout_s=LIMIT_S, direct_sparql=True)
    running.start()
    yield running, config
    running.stop()


def test_direct_dataset_is_the_current_releases(two_releases: tuple[Cluster, Path]) -> None:
    """With an older release in the store, a query that names no graph sees the current
    releases only, `GRAPH ?g` sees every graph, and FROM holds: as in the embedded store. The
    replicas hold the current releases in their own default graph (copied at load), so such a
    query is sent with no dataset."""
    cluster = two_releases[0]
    assert cluster.current.dataset == "-"
    build = StoreLayout(cluster.store).current_build()
    assert build is not None
    embedded = open_build(build)
    counts = [
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
        "SELECT (COUNT(*) AS ?n) WHERE { ?c a skos:Concept }",
        "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/kll-graph/graph/esco/v1.0> "
        "WHERE { ?s ?p ?o }",
    ]
    found = []
    app = f"http://{cluster.current.apps[0].address}/sparql"
    for query in [*counts, CATALOG_COUNT]:
        direct = _ask(f"{cluster.url}/sparql", query, "get")
        assert "X-KLL-Replica" in direct.headers
        rows = execute(embedded, query, prefixes=PREFIXES)
        assert isinstance(rows, QuerySolutions)
        expected = next(iter(rows))["n"].value
        found.append(direct.json()["results"]["bindings"][0]["n"]["value"])
        assert found[-1] == expected, query
        # the apps reading the replicas (the path of queries the pre-filter leaves to them)
        through_app = _ask(app, query, "get").json()["results"]["bindings"][0]["n"]["value"]
        assert through_app == expected, query
    # the replica's own default graph is the copy of the current releases, not the union
    replica = f"http://{cluster.current.replicas[0].address}/query"
    bare = _ask(replica, counts[0], "get").json()["results"]["bindings"][0]["n"]["value"]
    union = _ask(replica, counts[0], "get", {"union-default-graph": ""})
    assert bare == found[0]
    assert int(union.json()["results"]["bindings"][0]["n"]["value"]) > int(bare)
    assert int(found[3]) > 0 and int(found[1]) > 2


def test_new_build_rolled_out_under_direct_load(two_releases: tuple[Cluster, Path]) -> None:
    """A switch while clients query the direct path: no failure, every answer names the old or
    the new build, and after the switch only the new one."""
    cluster, config = two_releases
    old = cluster.current.build_id
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KLL_")}
    assert CliRunner(env=unset).invoke(main, ["--config", str(config), "build"]).exit_code == 0
    address = urlsplit(cluster.url)
    assert address.hostname is not None and address.port is not None
    traffic = Traffic(address.hostname, address.port, 4, paths=sparql_path).start()
    time.sleep(0.5)
    assert cluster.switch()
    switched = time.monotonic()
    time.sleep(1.5)
    outcomes = traffic.stop()
    new = cluster.current.build_id
    assert new != old
    assert failures(outcomes) == []
    assert {o.status for o in outcomes} == {200}
    assert {o.build for o in outcomes} <= {old, new}
    assert {o.build for o in outcomes if o.ended > switched + 0.5} == {new}
    # the new build's replicas were loaded with the current releases in their default graph
    assert cluster.current.dataset == "-"
    replica = f"http://{cluster.current.replicas[0].address}/query"
    count = _ask(replica, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "get")
    assert int(count.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_replica_killed_under_direct_load(two_releases: tuple[Cluster, Path]) -> None:
    """The direct backend keeps the health checks and retries: a replica SIGKILLed while
    clients query fails no request, and it rejoins when restarted."""
    cluster = two_releases[0]
    victim = cluster.current.replicas[0]
    address = urlsplit(cluster.url)
    assert address.hostname is not None and address.port is not None
    traffic = Traffic(address.hostname, address.port, 4, paths=sparql_path).start()
    time.sleep(1)
    os.kill(victim.proc.pid, signal.SIGKILL)
    time.sleep(3)
    outcomes = traffic.stop()
    assert len(outcomes) > 20
    assert failures(outcomes) == []
    cluster.restart(victim)
    time.sleep(3 * CHECK_INTERVAL)
    served_by = set()
    for _ in range(20):
        answer = _ask(f"{cluster.url}/sparql", "ASK { ?s ?p ?o }", "get")
        assert answer.status_code == 200
        served_by.add(answer.headers["X-KLL-Replica"])
    assert victim.name in served_by
