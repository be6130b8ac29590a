"""The HTML lookup pages on the bundled sample over real HTTP: content, languages, facets and
paging, ETags, and clear error pages for bad input (never a stack trace)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from pyoxigraph import NamedNode

from kll_graph.labels.lookup import index_for
from kll_graph.store import CurrentStore
from kll_graph.testing import LiveServer
from kll_graph.web import i18n
from tests.web.test_linked_data import BROWSER_ACCEPT, NURSE, NURSE_LABEL, Answer, get

ESCO_NURSE = "http://data.europa.eu/esco/occupation/87d0795a-d41f-47ee-979f-0ab7d73836e7"
SYSTEM_DEVELOPER = "http://data.jobtechdev.se/taxonomy/concept/fg7B_yov_smw"


class Page(HTMLParser):
    """A parsed page: its text, its links (href, text) and the text of elements by id."""

    VOID: ClassVar[set[str]] = {"br", "img", "input", "link", "meta", "hr", "source", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.by_id: dict[str, str] = {}
        self.attrs: list[tuple[str, dict[str, str]]] = []
        self._stack: list[tuple[str, dict[str, str], list[str]]] = []
        self._text: list[str] = []
        self.feed(html)

    BLOCKS: ClassVar[set[str]] = {
        "td",
        "th",
        "tr",
        "li",
        "p",
        "div",
        "dt",
        "dd",
        "br",
        "h1",
        "h2",
        "h3",
        "section",
    }

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self._text.append(" ")
        values = {k: v or "" for k, v in attrs}
        self.attrs.append((tag, values))
        if tag not in self.VOID:
            self._stack.append((tag, values, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self._text.append(" ")
        while self._stack:
            name, values, parts = self._stack.pop()
            text = " ".join("".join(parts).split())
            if self._stack:
                self._stack[-1][2].append("".join(parts))
            if name == "a" and "href" in values:
                self.links.append((values["href"], text))
            if "id" in values:
                self.by_id[values["id"]] = text
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._stack:
            self._stack[-1][2].append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self._text).split())

    def hrefs(self, prefix: str) -> list[str]:
        return [href for href, _ in self.links if href.startswith(prefix)]

    def link_texts(self, prefix: str) -> list[str]:
        return [text for href, text in self.links if href.startswith(prefix)]


def page(server: LiveServer, path: str, lang: str = "sv", **headers: str) -> tuple[Answer, Page]:
    answer = get(server.url, path, Accept=BROWSER_ACCEPT, Accept_Language=lang, **headers)
    return answer, Page(answer.body.decode())


def concept_path(uri: str) -> str:
    return "/page?uri=" + quote(uri, safe="")


def uris_linked(p: Page) -> list[str]:
    return [parse_qs(urlsplit(h).query)["uri"][0] for h in p.hrefs("/page?uri=")]


# --- home -------------------------------------------------------------------------------------


def test_home_shows_vocabularies_counts_build_and_sample_banner(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    served = sample_store.get()
    index = index_for(served)
    answer, p = page(sample_server, "/")
    assert answer.status == 200
    counts: dict[str, int] = {}
    for scheme in index.concept_scheme.tolist():
        vocabulary = index.schemes[scheme].vocabulary if scheme >= 0 else ""
        counts[vocabulary or ""] = counts.get(vocabulary or "", 0) + 1
    assert f"{counts['jobtech']} begrepp" in p.text
    assert f"{counts['esco']} begrepp" in p.text
    assert "JobTech Taxonomy" in p.text and "ESCO" in p.text
    assert served.build_id in p.text
    assert "EXEMPLET" in p.text  # the sample banner
    search_input = next(a for tag, a in p.attrs if tag == "input" and a.get("id") == "q")
    assert search_input["name"] == "q"
    assert any(tag == "label" and a.get("for") == "q" for tag, a in p.attrs)
    assert len(p.hrefs("/scheme?id=")) >= 8


# --- search -----------------------------------------------------------------------------------


def test_search_finds_by_swedish_prefix_with_facets(sample_server: LiveServer) -> None:
    answer, p = page(sample_server, "/search?q=sjuksk")
    assert answer.status == 200
    assert NURSE in uris_linked(p)
    assert NURSE_LABEL in p.link_texts("/page?uri=")
    assert "Begreppsschema" in p.text and "Typ" in p.text
    boxes = [a for tag, a in p.attrs if tag == "input" and a.get("type") == "checkbox"]
    assert {"scheme", "type", "include_deprecated"} <= {b["name"] for b in boxes}
    assert "/api/v1/search?q=sjuksk" in " ".join(p.hrefs("/api/v1/search"))


def test_search_facet_filters_results(sample_server: LiveServer) -> None:
    _, everything = page(sample_server, "/search?q=sjuksk")
    _, jobtech = page(sample_server, "/search?q=sjuksk&scheme=jobtech/occupation-name")
    all_uris, filtered = set(uris_linked(everything)), uris_linked(jobtech)
    assert filtered
    assert ESCO_NURSE in all_uris
    assert ESCO_NURSE not in filtered
    assert all(u.startswith("http://data.jobtechdev.se/") for u in filtered)


def test_search_in_english_keeps_matching_swedish_labels(sample_server: LiveServer) -> None:
    _, p = page(sample_server, "/search?q=sjuksk", lang="en")
    assert NURSE in uris_linked(p)
    assert "Concept scheme" in p.text


def test_search_pages(sample_server: LiveServer, sample_store: CurrentStore) -> None:
    from kll_graph import labels

    total = labels.search(index_for(sample_store.get()), "s", limit=1)["total"]
    assert total > 20, "the sample should have more than one page of results for 's'"
    _, first = page(sample_server, "/search?q=s")
    _, second = page(sample_server, "/search?q=s&page=2")
    assert set(uris_linked(first)).isdisjoint(uris_linked(second))
    assert any("page=2" in h for h, t in first.links if "Nästa" in t)


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/search?q=s&page=0", 400, "'page'"),
        ("/search?q=s&page=abc", 400, "'page'"),
        ("/search?q=s&page=99999999999999999999", 400, "'page'"),
        ("/search?q=s&page=400", 404, "page"),
        ("/search?q=s&page=9999", 400, "narrow the search"),
        ("/search?q=" + "x" * 300, 400, "200"),
        ("/search?q=s&scheme=nope", 400, "nope"),
    ],
)
def test_search_bad_input_is_a_clear_page(
    sample_server: LiveServer, path: str, status: int, fragment: str
) -> None:
    answer, p = page(sample_server, path)
    assert answer.status == status
    assert answer.header("Content-Type").startswith("text/html")
    assert fragment in p.text
    assert "Traceback" not in p.text


def test_empty_search_shows_the_form(sample_server: LiveServer) -> None:
    answer, p = page(sample_server, "/search")
    assert answer.status == 200
    assert any(tag == "input" and a.get("name") == "q" for tag, a in p.attrs)


def test_suggest_labels_in_the_ui_language_and_names_vocabulary_and_type(
    sample_server: LiveServer,
) -> None:
    import json

    answer = get(sample_server.url, "/suggest?q=systemutv&lang=en")
    results = json.loads(answer.body)["results"]
    developer = next(r for r in results if r["uri"] == SYSTEM_DEVELOPER)
    assert developer["scheme"]["vocabulary_label"] == "JobTech Taxonomy"
    assert developer["type"]["label"] == "Occupation name"
    swedish = json.loads(get(sample_server.url, "/suggest?q=systemutv&lang=sv").body)["results"]
    assert next(r for r in swedish if r["uri"] == SYSTEM_DEVELOPER)["type"]["label"] == (
        "Yrkesbenämning"
    )
    assert get(sample_server.url, "/suggest?q=&lang=sv").status == 400
    assert get(sample_server.url, "/suggest?q=ab&limit=9999").status == 400


# --- the concept page ---------------------------------------------------------------------------


def test_concept_page_of_a_jobtech_occupation(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    answer, p = page(sample_server, concept_path(NURSE))
    assert answer.status == 200
    assert p.by_id["h-map"].startswith("Mappningar")
    served = sample_store.get()
    # the path up: every ancestor by skos:broader, read from the store independently
    ancestors = [
        row["b"].value
        for row in served.store.query(
            f"SELECT ?b WHERE {{ <{NURSE}> <http://www.w3.org/2004/02/skos/core#broader>+ ?b }}",
            use_default_graph_as_union=True,
        )
    ]
    assert len(ancestors) >= 3
    index = index_for(served)
    path_text = " ".join(t for _, t in p.links)
    for uri in ancestors:
        assert index.label(index.concept_number(uri), "sv") in path_text
    # mappings to ESCO with their target's label and provenance
    assert ESCO_NURSE in uris_linked(p)
    assert "Exakt motsvarighet" in p.text
    assert "ManualMappingCuration" in p.text
    # legacy id, sources and formats
    assert "7296" in p.text
    assert "https://atlas.jobtechdev.se/taxonomy/bXNH_MNX_dUR" in [h for h, _ in p.links]
    for ext in ("ttl", "jsonld", "rdf", "nt"):
        assert f"/data.{ext}?uri=" + quote(NURSE, safe="") in [h for h, _ in p.links]
    sparql = next(h for h in p.hrefs("/sparql?query="))
    query = parse_qs(urlsplit(sparql).query)["query"][0]
    assert f"<{NURSE}>" in query
    result = served.store.query(query, use_default_graph_as_union=True)
    assert any(row["value"] == NamedNode(ESCO_NURSE) for row in result)  # type: ignore[union-attr]


def test_concept_page_of_an_esco_occupation_lists_essential_skills(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    served = sample_store.get()
    skills = {
        row["s"].value
        for row in served.store.query(
            f"SELECT ?s WHERE {{ <{ESCO_NURSE}> "
            "<http://data.europa.eu/esco/model#relatedEssentialSkill> ?s }",
            use_default_graph_as_union=True,
        )
    }
    assert skills
    _, p = page(sample_server, concept_path(ESCO_NURSE), lang="en")
    assert p.by_id["h-essential_skills"].startswith("Essential skills")
    assert skills <= set(uris_linked(p))
    assert any("esco.ec.europa.eu/en/classification/occupation?uri=" in h for h, _ in p.links)
    # the JobTech concept mapped to it, seen from the ESCO side
    assert NURSE in uris_linked(p)


def test_concept_page_shows_substitutability_with_percentages(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    from kll_graph import concepts

    doc = concepts.concept(sample_store.get(), SYSTEM_DEVELOPER, "sv")
    subst = doc["substitutability"]["can_substitute"] + doc["substitutability"]["substituted_by"]
    assert subst, "the sample developer has substitutability relations"
    _, p = page(sample_server, concept_path(SYSTEM_DEVELOPER))
    assert "Utbytbarhet" in p.text
    for item in subst:
        assert item["uri"] in uris_linked(p)
        if item["percentage"] is not None:
            assert f"{item['percentage']} %" in p.text


def test_long_lists_are_paged(sample_server: LiveServer, sample_store: CurrentStore) -> None:
    from kll_graph import concepts
    from kll_graph.concepts import browse

    doc = concepts.concept(sample_store.get(), ESCO_NURSE, "sv")
    for name in browse.PAGED_LISTS:
        shown = browse.paged(doc[name], 1, browse.LIST_PAGE, name, f"{name}_page")
        assert len(shown["items"]) <= browse.LIST_PAGE
    answer, _ = page(sample_server, concept_path(ESCO_NURSE) + "&narrower_page=5")
    assert answer.status == 404
    answer, p = page(sample_server, concept_path(ESCO_NURSE) + "&essential_skills_page=x")
    assert answer.status == 400
    assert "essential_skills_page" in p.text


@pytest.mark.parametrize(
    ("uri", "status"),
    [
        ("http://data.jobtechdev.se/taxonomy/concept/no_such_one", 404),
        ("not a uri", 400),
        ("", 400),
    ],
)
def test_concept_page_bad_input(sample_server: LiveServer, uri: str, status: int) -> None:
    answer, p = page(sample_server, concept_path(uri))
    assert answer.status == status
    assert answer.header("Content-Type").startswith("text/html")
    assert "Traceback" not in p.text
    assert any(tag == "form" and a.get("action") == "/search" for tag, a in p.attrs)


def test_not_found_page_suggests_concepts(sample_server: LiveServer) -> None:
    answer, p = page(sample_server, "/yrken/sjukskoterska")
    assert answer.status == 404
    assert "Menade du" in p.text
    assert NURSE in uris_linked(p) or any(
        "sjuksköterska" in t.lower() for t in p.link_texts("/page?uri=")
    )


def test_unknown_paths_stay_json_for_machines(sample_server: LiveServer) -> None:
    for path, accept in [("/api/v1/nope", BROWSER_ACCEPT), ("/nope", "*/*")]:
        answer = get(sample_server.url, path, Accept=accept)
        assert answer.status == 404
        assert answer.header("Content-Type").startswith("application/json")


# --- schemes, mappings, about ------------------------------------------------------------------


def test_scheme_page_tree_has_toggles_and_links(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    from kll_graph import concepts

    top = concepts.top_concepts(sample_store.get(), "jobtech/ssyk-level-1", "sv")
    answer, p = page(sample_server, "/scheme?id=jobtech/ssyk-level-1")
    assert answer.status == 200
    assert {i["uri"] for i in top["items"]} <= set(uris_linked(p))
    toggles = [a for tag, a in p.attrs if tag == "button" and "toggle" in a.get("class", "")]
    openable = {i["uri"] for i in top["items"] if i["narrower_count"]}
    assert openable
    assert {t["data-uri"] for t in toggles} == openable
    assert all(t["aria-expanded"] == "false" and "aria-label" in t for t in toggles)
    assert get(sample_server.url, "/scheme?id=nope", Accept=BROWSER_ACCEPT).status == 404
    assert get(sample_server.url, "/schemes", Accept=BROWSER_ACCEPT).status == 200


def test_mapping_set_page_counts_and_coverage(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    served = sample_store.get()
    graph = next(g.iri for g in served.manifest.graphs if g.source == "se-occupations-esco")
    rows = list(
        served.store.query(
            "SELECT DISTINCT ?g ?s ?o WHERE { GRAPH ?g { ?s ?p ?o "
            "VALUES ?p { <http://www.w3.org/2004/02/skos/core#exactMatch> "
            "<http://www.w3.org/2004/02/skos/core#closeMatch> "
            "<http://www.w3.org/2004/02/skos/core#broadMatch> "
            "<http://www.w3.org/2004/02/skos/core#narrowMatch> "
            "<http://www.w3.org/2004/02/skos/core#relatedMatch> } } }",
            substitutions={__import__("pyoxigraph").Variable("g"): NamedNode(graph)},
        )
    )
    index = index_for(served)
    occupations = {r["s"].value for r in rows if r["s"].value.startswith("http://data.jobtech")}
    occupation_type = index.types[index.type_by_id["occupation-name"]]
    _, listing = page(sample_server, "/mappings")
    assert "/mappings/se-occupations-esco" in listing.hrefs("/mappings/")
    from kll_graph.mappings import coverage

    report = coverage.coverage(served.store, served.manifest.base_iri)
    assert any(report.values())
    for side in report.values():
        for cov in side:
            assert f"{cov.type} {cov.percent} % {cov.mapped} av {cov.total}" in listing.text
    answer, p = page(sample_server, "/mappings/se-occupations-esco")
    assert answer.status == 200
    mapped = sum(
        1
        for u in occupations
        if index.type_info(index.concept_number(u), "sv")["id"] == "occupation-name"
    )
    assert re.search(rf"Yrkesbenämning.*?{mapped} av {occupation_type.count}", p.text)
    assert get(sample_server.url, "/mappings/nope", Accept=BROWSER_ACCEPT).status == 404


def test_about_page_lists_catalog_and_attributions(
    sample_server: LiveServer, sample_store: CurrentStore
) -> None:
    answer, p = page(sample_server, "/about", lang="en")
    assert answer.status == 200
    assert "© European Union" in p.text
    assert "Arbetsförmedlingen" in p.text
    for graph in sample_store.get().manifest.graphs:
        assert graph.iri in p.text
        assert graph.version in p.text


# --- languages and caching -----------------------------------------------------------------------


def test_language_from_accept_language(sample_server: LiveServer) -> None:
    _, sv = page(sample_server, "/", lang="sv-SE,sv;q=0.9")
    _, en = page(sample_server, "/", lang="en-GB,en;q=0.9")
    assert "Sök begrepp" in sv.text
    assert "Search concepts" in en.text
    assert any(tag == "html" and a["lang"] == "sv" for tag, a in sv.attrs)
    assert any(tag == "html" and a["lang"] == "en" for tag, a in en.attrs)


def test_language_switch_sets_a_cookie_that_wins(sample_server: LiveServer) -> None:
    answer, p = page(sample_server, "/?lang=en", lang="sv")
    assert "Search concepts" in p.text
    assert f"{i18n.COOKIE}=en" in answer.header("Set-Cookie")
    _, later = page(sample_server, "/", lang="sv", Cookie=f"{i18n.COOKIE}=en")
    assert "Search concepts" in later.text
    _, switched = page(sample_server, concept_path(NURSE), lang="en")
    switch = [h for h, t in switched.links if t == "Svenska"]
    assert switch and "lang=sv" in switch[0] and "uri=" in switch[0]


def test_unknown_language_is_400(sample_server: LiveServer) -> None:
    answer, p = page(sample_server, concept_path(NURSE) + "&lang=klingon")
    assert answer.status == 400
    assert "klingon" in p.text and "sv, en" in p.text


def test_every_ui_string_has_both_languages() -> None:
    assert i18n.missing_translations() == []


def test_pages_have_etags_and_answer_304(sample_server: LiveServer) -> None:
    first, _ = page(sample_server, concept_path(NURSE))
    etag = first.header("ETag")
    assert etag
    assert {"accept-language", "cookie"} <= first.vary
    again, _ = page(sample_server, concept_path(NURSE), If_None_Match=etag)
    assert again.status == 304
    english, _ = page(sample_server, concept_path(NURSE), lang="en")
    assert english.header("ETag") != etag
