"""`version=` on the concept API, pages and RDF documents (#19), over real HTTP on the sample:
a concept shown as one release's graphs have it; a version its sources lack is a 404 that lists
the ones they have."""

from __future__ import annotations

import requests
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from kll_graph.testing import LiveServer

CHEF = "http://data.europa.eu/esco/occupation/1009be17-7efd-45f1-a033-566bf179c588"
OLDER = "http://data.jobtechdev.se/taxonomy/concept/6TQs_8i6_per"
OLDER_LABEL = "Enhetschef inom social omsorg/Föreståndare inom social omsorg"


def _get(server: LiveServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=30)


def test_the_api_shows_the_release_and_the_others(sample_server: LiveServer) -> None:
    doc = _get(sample_server, "/api/v1/concepts", uri=CHEF, version="v1.1.1").json()
    assert doc["version"]["version"] == "v1.1.1"
    assert "esco" in doc["version"]["sources"]
    assert doc["prefLabel"]["en"] == "chef"
    assert "v1.1.1" in doc["versions"]
    older = _get(sample_server, "/api/v1/concepts", uri=OLDER, version="2020-06-24").json()
    assert older["prefLabel"]["sv"] == OLDER_LABEL
    assert older["version"]["sources"] == ["jobtech-legacy"]


def test_an_unknown_version_is_a_404_listing_the_known_ones(sample_server: LiveServer) -> None:
    response = _get(sample_server, "/api/v1/concepts", uri=CHEF, version="v9.9")
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "'v9.9'" in message and "v1.1.1" in message
    page = _get(sample_server, "/page", uri=CHEF, version="v9.9", lang="en")
    assert page.status_code == 404
    assert "v1.1.1" in page.text
    rdf = _get(sample_server, "/data.ttl", uri=CHEF, version="v9.9")
    assert rdf.status_code == 404


def test_the_page_says_which_release_it_shows(sample_server: LiveServer) -> None:
    page = _get(sample_server, "/page", uri=CHEF, version="v1.1.1", lang="en")
    assert page.status_code == 200
    assert 'data-version="v1.1.1"' in page.text
    assert "As in release v1.1.1" in page.text
    plain = _get(sample_server, "/page", uri=CHEF, lang="en")
    assert "data-version=" not in plain.text
    assert page.headers["ETag"] != plain.headers["ETag"]


def test_the_rdf_document_holds_only_that_release(sample_server: LiveServer) -> None:
    response = _get(sample_server, "/data.ttl", uri=OLDER, version="2020-06-24")
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    labels = {str(o) for o in graph.objects(URIRef(OLDER), SKOS.prefLabel)}
    assert labels == {OLDER_LABEL}
    whole = Graph().parse(data=_get(sample_server, "/data.ttl", uri=OLDER).text, format="turtle")
    assert len(graph) < len(whole)  # the mapping table's statements are not of that release
    again = requests.get(
        f"{sample_server.url}/data.ttl",
        params={"uri": OLDER, "version": "2020-06-24"},
        headers={"If-None-Match": response.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304
