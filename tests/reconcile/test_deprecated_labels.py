"""A deprecated concept named by its label resolves to its successor, says so, and is never
auto-matched: on the JobTech importer's full-dump fixture (tests/fixtures/jobtech/dump, with
`deprecated` and `replaced_by`), built into a real store and asked over real HTTP, and on a small
vocabulary with a chain and a cycle of replacements. Also `WildcardMatch` with diacritics."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from kll_graph.build.pipeline import build
from kll_graph.labels.text import fold
from kll_graph.reconcile.properties import _wildcard
from kll_graph.reconcile.query import parse_batch_02, parse_batch_10
from kll_graph.reconcile.service import Reconciler, reconciler_for
from kll_graph.settings import SourceConfig
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer, make_settings
from tests.labels.test_labels import NURSE, fixture_build
from tests.reconcile import spec

FIXTURES = Path(__file__).parents[1] / "fixtures"
JT = "http://data.jobtechdev.se/taxonomy/concept/"
SUCCESSOR = JT + "rQds_YGd_quU"  # Mjukvaruutvecklare
OLD = JT + "old1_OCC_001"  # Programmerare (gammal), alt label Kodare; replaced_by the successor
ORPHAN = JT + "old2_OCC_002"  # Utgått yrke utan ersättare: deprecated, no replacement


def _build(root: Path, data_dir: Path, source: SourceConfig) -> CurrentStore:
    (root / "no-mappings").mkdir(parents=True, exist_ok=True)
    settings = make_settings(
        root / "store", data_dir=data_dir, mappings_dir=root / "no-mappings", sources=(source,)
    )
    build(settings)
    return CurrentStore(settings.store)


@pytest.fixture(scope="module")
def dump_server() -> Iterator[LiveServer]:
    root = Path(tempfile.mkdtemp(prefix="kll-recon-dump-"))
    source = SourceConfig(
        id="jobtech", importer="jobtech", path="dump/concepts-and-common-relations.json"
    )
    store = _build(root, FIXTURES / "jobtech", source)
    (root / "no-mappings").mkdir(exist_ok=True)
    server = LiveServer(make_settings(root / "store", mappings_dir=root / "no-mappings"), store)
    yield server
    server.close()


def _post(server: LiveServer, batch: dict[str, Any], **params: str) -> dict[str, Any]:
    response = requests.post(
        server.url + "/reconcile", data={"queries": json.dumps(batch)}, params=params, timeout=30
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    spec.need_specs()
    spec.check("0.2", "reconciliation-result-batch", answer)
    return answer


@pytest.mark.parametrize("text", ["Programmerare (gammal)", "programmerare gammal", "Kodare"])
def test_a_deprecated_label_gives_the_successor_over_http(
    dump_server: LiveServer, text: str
) -> None:
    answer = _post(dump_server, {"q0": {"query": text}})
    result = answer["q0"]["result"]
    assert result, text
    top = result[0]
    assert top["id"] == SUCCESSOR
    assert top["match"] is False  # found through a deprecated label: never an auto-match
    assert f"ersätter utgånget «Programmerare (gammal)» <{OLD}>" in top["description"]
    features = {f["id"]: f["value"] for f in top["features"]}
    assert features["deprecated"] is True and features["code_match"] is False
    assert all(c["id"] != OLD for c in result)


def test_the_successor_of_a_deprecated_label_keeps_to_the_type(dump_server: LiveServer) -> None:
    asked = {"query": "Kodare", "type": "occupation-name"}
    assert _post(dump_server, {"q0": asked})["q0"]["result"][0]["id"] == SUCCESSOR
    skills = _post(dump_server, {"q0": {**asked, "type": "skill"}})["q0"]["result"]
    assert all(c["id"] != SUCCESSOR for c in skills)
    should = _post(dump_server, {"q0": {**asked, "type": "skill", "type_strict": "should"}})
    (other,) = [c for c in should["q0"]["result"] if c["id"] == SUCCESSOR]
    assert other["match"] is False and other["score"] < 50


def test_the_successor_by_id_is_still_an_identifier_match(dump_server: LiveServer) -> None:
    top = _post(dump_server, {"q0": {"query": "old1_OCC_001"}})["q0"]["result"][0]
    assert top["id"] == SUCCESSOR and top["match"] is True and top["score"] == 100


def test_a_deprecated_label_without_a_successor_finds_nothing_of_it(
    dump_server: LiveServer,
) -> None:
    result = _post(dump_server, {"q0": {"query": "Utgått yrke utan ersättare"}})["q0"]["result"]
    assert all(c["id"] != ORPHAN for c in result)
    assert not any(c["match"] for c in result)


def test_the_10_answer_names_the_replaced_concept(dump_server: LiveServer) -> None:
    body = {"queries": [{"conditions": [{"matchType": "name", "propertyValue": "Kodare"}]}]}
    response = requests.post(dump_server.url + "/reconcile/v1/match", json=body, timeout=30)
    assert response.status_code == 200
    answer = response.json()
    spec.check("1.0-draft", "reconciliation-result-batch", answer)
    top = answer["results"][0]["candidates"][0]
    assert top["id"] == SUCCESSOR and top["match"] is False
    assert "ersätter utgånget «Programmerare (gammal)»" in top["description"]


# --- a current concept with the label wins; chains and cycles of replacements


CHAIN = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix owl:  <http://www.w3.org/2002/07/owl#> .
@prefix dct:  <http://purl.org/dc/terms/> .
@prefix kll:  <https://w3id.org/kll-graph/ontology#> .
@prefix jt:   <http://data.jobtechdev.se/taxonomy/concept/> .
@prefix sch:  <https://w3id.org/kll-graph/scheme/jobtech/> .
sch:occupation-name a skos:ConceptScheme ; skos:prefLabel "Yrkesbenämning"@sv .
jt:A a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Stenhuggare"@sv ; owl:deprecated true ; dct:isReplacedBy jt:B .
jt:B a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Stenarbetare"@sv ; owl:deprecated true ; dct:isReplacedBy jt:C .
jt:C a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Stenhuggare och stenarbetare"@sv .
jt:D a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Lampputsare"@sv ; owl:deprecated true ; dct:isReplacedBy jt:E .
jt:E a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Lykttändare"@sv ; owl:deprecated true ; dct:isReplacedBy jt:D .
jt:F a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Smed"@sv ; owl:deprecated true ; dct:isReplacedBy jt:G .
jt:G a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Klensmed"@sv .
jt:H a skos:Concept ; kll:conceptType "occupation-name" ; skos:inScheme sch:occupation-name ;
    skos:prefLabel "Smed"@sv .
"""


@pytest.fixture(scope="module")
def chain() -> Reconciler:
    root = Path(tempfile.mkdtemp(prefix="kll-recon-chain-"))
    (root / "data").mkdir()
    (root / "data" / "chain.ttl").write_text(CHAIN, encoding="utf-8")
    store = _build(root, root / "data", SourceConfig(id="chain", importer="rdf", path="chain.ttl"))
    return reconciler_for(store.get())


def _top(rec: Reconciler, text: str) -> Any:
    (answer,) = rec.reconcile(parse_batch_02({"q0": {"query": text}}), "sv")
    return answer.ranked


def test_a_chain_of_replacements_is_followed_to_the_current_concept(chain: Reconciler) -> None:
    for text in ("Stenhuggare", "Stenarbetare"):
        top = _top(chain, text)[0]
        assert chain.index.uris[top.concept] == JT + "C", text
        assert top.deprecated and not top.match


def test_a_cycle_of_replacements_gives_no_successor(chain: Reconciler) -> None:
    assert chain.successors(chain.index.position[JT + "D"]) == []
    assert _top(chain, "Lampputsare") == []


def test_a_current_concept_with_the_label_comes_before_a_successor(chain: Reconciler) -> None:
    ranked = _top(chain, "Smed")
    assert [chain.index.uris[s.concept] for s in ranked[:2]] == [JT + "H", JT + "G"]
    assert ranked[0].score > ranked[1].score and ranked[1].deprecated
    # a deprecated namesake makes the label shared: no auto-match
    assert not ranked[0].match


# --- WildcardMatch folds as the label index does


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("sjukskoterska*", "Sjuksköterska, grundutbildad", True),
        ("Sjuksköt*", "Sjuksköterska, grundutbildad", True),
        ("SJUKSKÖTERSKA, *", "Sjuksköterska, grundutbildad", True),
        ("*grundutbildad", "Sjuksköterska, grundutbildad", True),
        ("sjuksk?terska*", "Sjuksköterska, grundutbildad", True),
        ("sjukskoterskor*", "Sjuksköterska, grundutbildad", False),
        ("Mjukvaru- och system*", "Mjukvaru- och systemutvecklare m.fl.", True),
        ("Mjukvaru och system*", "Mjukvaru- och systemutvecklare m.fl.", True),
        ("25?2", "2512", True),
        ("25*", "2221", False),
    ],
)
def test_wildcard_patterns_fold_case_diacritics_and_punctuation(
    pattern: str, text: str, expected: bool
) -> None:
    assert bool(_wildcard(pattern).fullmatch(fold(text))) is expected


@pytest.mark.parametrize(
    ("value", "support"),
    [
        ("grundutbildade sjukskoterskor", 1),
        ("grundutbildade sjukskoterska", -1),
        ("grundutbildade sjukskot*", 1),
        ("Grundutb*", 1),
    ],
)
def test_a_wildcard_broader_condition_with_diacritics(value: str, support: int) -> None:
    rec = reconciler_for(fixture_build()[1].get())
    condition = {
        "matchType": "property",
        "propertyId": "broader",
        "propertyValue": value,
        "matchQualifier": "WildcardMatch",
    }
    name = {"matchType": "name", "propertyValue": "Sjuksköterska, grundutbildad"}
    body = {"queries": [{"conditions": [name, condition], "type": "occupation-name"}]}
    (answer,) = rec.reconcile(parse_batch_10(body), "sv")
    top = answer.ranked[0]
    assert rec.index.uris[top.concept] == NURSE
    assert top.agree - top.disagree == support
