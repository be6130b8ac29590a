"""The label index on a tiny fixture vocabulary (tests/fixtures/labels/vocab.ttl), one edge case
per concept: folding, prefixes, words, compounds, typos, codes, ids, ranking, filters, the build
step and loading per build."""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Store

from kll_graph.build.pipeline import build
from kll_graph.exceptions import BadRequestError
from kll_graph.labels.compile import build_index
from kll_graph.labels.index import LabelIndex
from kll_graph.labels.layout import INDEX_FILE
from kll_graph.labels.lookup import (
    autocomplete,
    check_query,
    index_for,
    parse_resolve_request,
    resolve,
    search,
)
from kll_graph.labels.text import fold
from kll_graph.namespaces import graph_iri
from kll_graph.settings import Settings, SourceConfig
from kll_graph.store import CurrentStore
from kll_graph.testing import make_settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "labels"
JT = "http://data.jobtechdev.se/taxonomy/concept/"
SYSTEMUTVECKLARE = JT + "rQds_YGd_quU"
SPELUTVECKLARE = JT + "fg7B_yov_smw"
DATAKONSULT = JT + "Old0_Dep_001"
SSYK_2512 = JT + "DJh5_yyF_hEM"
ISCO_2512 = JT + "Isco_251_2AA"
NURSE = JT + "bXNH_MNX_dUR"
LAKARE = JT + "Lak0_Occ_555"
LAKARE_GROUP = JT + "Lak0_Grp_444"
ESCO_DEV = "http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"
ESCO_ISCO_2512 = "http://data.europa.eu/esco/isco/C2512"
ESCO_PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


def fixture_settings(root: Path, vocab: str = "vocab.ttl") -> Settings:
    """Settings that build only the fixture vocabulary (and the ontology) into `root`."""
    (root / "no-mappings").mkdir(parents=True, exist_ok=True)
    return make_settings(
        root / "store",
        data_dir=FIXTURES,
        mappings_dir=root / "no-mappings",
        sources=(SourceConfig(id="vocab", importer="rdf", path=vocab),),
    )


@functools.cache
def fixture_build() -> tuple[Settings, CurrentStore]:
    """One build of the fixture vocabulary per test session (shared by the label and API tests)."""
    root = Path(tempfile.mkdtemp(prefix="kll-labels-"))
    settings = fixture_settings(root)
    build(settings)
    return settings, CurrentStore(settings.store)


@pytest.fixture(scope="session")
def labels_store() -> CurrentStore:
    return fixture_build()[1]


@pytest.fixture(scope="session")
def index(labels_store: CurrentStore) -> LabelIndex:
    return index_for(labels_store.get())


def uris(result: dict) -> list[str]:
    return [r["uri"] for r in result["results"]]


def first(index: LabelIndex, q: str, **kw: object) -> dict:
    results = autocomplete(index, q, **kw)["results"]  # type: ignore[arg-type]
    assert results, f"nothing found for {q!r}"
    return results[0]


# --- normalisation -------------------------------------------------------------------------------


def test_fold_makes_swedish_and_english_spellings_meet() -> None:
    assert fold("LÄKARE") == fold("läkare") == fold("lakare") == "lakare"
    assert fold("Sjuksköterska, grundutbildad") == "sjukskoterska grundutbildad"
    assert fold("naïve café") == "naive cafe"
    assert fold("ﬁnance") == "finance"  # compatibility ligature
    assert fold("C#") == "c#"
    assert fold("...") == ""


# --- matching and ranking ------------------------------------------------------------------------


def test_exact_preferred_label_ranks_first(index: LabelIndex) -> None:
    hit = first(index, "Systemutvecklare")
    assert hit["uri"] == SYSTEMUTVECKLARE
    assert hit["matched"] == {
        "text": "Systemutvecklare",
        "kind": "prefLabel",
        "lang": "sv",
        "how": "exact",
    }
    assert hit["score"] == 100


def test_exact_alternative_label(index: LabelIndex) -> None:
    hit = first(index, "programmerare")
    assert hit["uri"] == SYSTEMUTVECKLARE
    assert hit["label"] == "Systemutvecklare"
    assert (hit["matched"]["kind"], hit["matched"]["how"]) == ("altLabel", "exact")
    assert hit["score"] == 95


def test_exact_preferred_before_exact_alternative(index: LabelIndex) -> None:
    # preferred label of an ESCO occupation, alternative label of a JobTech occupation name:
    # the kind of label outranks the concept type
    results = autocomplete(index, "Specialistsjuksköterska")["results"]
    assert [r["matched"]["kind"] for r in results[:2]] == ["prefLabel", "altLabel"]
    assert (
        results[0]["uri"]
        == "http://data.europa.eu/esco/occupation/nurse0000-0000-0000-0000-000000000000"
    )


def test_exact_alternative_before_prefix(index: LabelIndex) -> None:
    # "Python" is an English alt label of the ESCO skill; "Python, programmeringsspråk" a prefix
    results = autocomplete(index, "python")["results"]
    assert results[0]["uri"] == ESCO_PYTHON
    assert results[0]["matched"]["how"] == "exact"
    assert results[1]["matched"]["how"] == "prefix"


def test_diacritics_folded_but_exact_spelling_ranks_higher(index: LabelIndex) -> None:
    folded = first(index, "lakare")
    assert folded["label"] == "Läkare"
    exact = first(index, "läkare")
    assert exact["score"] > folded["score"]
    # two keywords that differ only by a diacritic: the exact spelling wins either way
    assert first(index, "kör")["label"] == "Kör"
    assert first(index, "kor")["label"] == "Kor"


def test_ties_broken_by_concept_type(index: LabelIndex) -> None:
    # the occupation name "Läkare" comes before the SSYK group of the same name
    results = autocomplete(index, "Läkare")["results"]
    assert [r["uri"] for r in results[:2]] == [LAKARE, LAKARE_GROUP]
    assert results[0]["type"]["id"] == "occupation-name"


def test_label_prefix(index: LabelIndex) -> None:
    hit = first(index, "systemutv")
    assert hit["uri"] == SYSTEMUTVECKLARE
    assert hit["matched"]["how"] == "prefix"


def test_word_prefix_in_any_order(index: LabelIndex) -> None:
    hit = first(index, "dev soft")
    assert hit["uri"] == ESCO_DEV
    assert hit["matched"]["how"] == "word"
    # with no language asked, the label shown is in the language the query matched in
    assert hit["label"] == "software developer"
    assert first(index, "mjukvaruutv")["label"] == "mjukvaruutvecklare"


def test_compound_parts_find_swedish_compounds(index: LabelIndex) -> None:
    found = uris(autocomplete(index, "utvecklare", lang="sv", limit=20))
    assert SYSTEMUTVECKLARE in found and SPELUTVECKLARE in found
    hit = next(
        r for r in autocomplete(index, "utvecklare")["results"] if r["uri"] == SPELUTVECKLARE
    )
    assert hit["matched"]["how"] == "compound"
    nurses = uris(autocomplete(index, "sköterska", limit=20))
    assert NURSE in nurses and JT + "Zkb1_Ut7_4Ev" in nurses


def test_one_typo_in_longer_words(index: LabelIndex) -> None:
    hit = first(index, "Systemutvecklre")
    assert hit["uri"] == SYSTEMUTVECKLARE
    assert hit["matched"]["how"] == "typo"
    assert first(index, "sjukskoterka")["uri"] == NURSE
    assert first(index, "sotfware developer")["uri"] == ESCO_DEV  # transposition
    # short words get no typo tolerance
    assert autocomplete(index, "kcok")["results"] == []


def test_hidden_label_matches_but_is_never_displayed(index: LabelIndex) -> None:
    hit = first(index, "Systemutveklare")
    assert hit["uri"] == SYSTEMUTVECKLARE
    assert hit["matched"]["kind"] == "hiddenLabel"
    assert hit["label"] == "Systemutvecklare"
    hit = first(index, "sofware developer", lang="en")
    assert hit["label"] == "software developer"


def test_codes_with_and_without_code_system(index: LabelIndex) -> None:
    both = uris(autocomplete(index, "2512"))
    assert both[0] == SSYK_2512  # ssyk-level-4 ranks before isco-level-4
    assert {ISCO_2512, ESCO_ISCO_2512} <= set(both)
    assert uris(autocomplete(index, "SSYK 2512")) == [SSYK_2512]
    assert uris(autocomplete(index, "ssyk-2012: 2512")) == [SSYK_2512]
    isco = set(uris(autocomplete(index, "ISCO 2512")))
    assert isco == {ISCO_2512, ESCO_ISCO_2512}
    assert set(uris(autocomplete(index, "ISCO C2512"))) == isco
    assert ESCO_ISCO_2512 in uris(autocomplete(index, "C2512"))
    hit = first(index, "SSYK 2512")
    assert hit["matched"] == {"text": "2512", "kind": "notation", "lang": None, "how": "exact"}
    assert hit["notation"] == "2512"
    assert hit["notations"][0]["system"] == "SSYK2012"


def test_code_prefix_autocompletes(index: LabelIndex) -> None:
    found = uris(autocomplete(index, "251"))
    assert SSYK_2512 in found and ESCO_DEV in found  # ESCO code 2512.4


def test_ids_legacy_ids_and_uris(index: LabelIndex) -> None:
    assert first(index, "rQds_YGd_quU")["matched"]["kind"] == "id"
    assert first(index, "rqds_ygd_quu")["uri"] == SYSTEMUTVECKLARE
    legacy = first(index, "7618")
    assert (legacy["uri"], legacy["matched"]["kind"]) == (SYSTEMUTVECKLARE, "legacyId")
    assert first(index, SYSTEMUTVECKLARE)["matched"]["kind"] == "uri"
    assert first(index, "jt:rQds_YGd_quU")["uri"] == SYSTEMUTVECKLARE
    assert first(index, ESCO_DEV)["uri"] == ESCO_DEV


def test_deprecated_excluded_unless_asked_then_pointing_to_replacement(index: LabelIndex) -> None:
    assert DATAKONSULT not in uris(autocomplete(index, "Datakonsult"))
    assert DATAKONSULT not in uris(autocomplete(index, "5555"))
    hit = first(index, "Datakonsult", include_deprecated=True)
    assert hit["uri"] == DATAKONSULT
    assert hit["deprecated"] is True
    assert [r["uri"] for r in hit["replaced_by"]] == [SYSTEMUTVECKLARE]
    assert hit["replaced_by"][0]["label"] == "Systemutvecklare"


def test_result_says_vocabulary_scheme_type_and_broader(index: LabelIndex) -> None:
    hit = first(index, "Spelutvecklare")
    assert hit["scheme"] == {
        "id": "jobtech/occupation-name",
        "uri": "https://w3id.org/kll-graph/scheme/jobtech/occupation-name",
        "label": "Yrkesbenämning",
        "vocabulary": "vocab",
    }
    assert hit["type"]["label"] == "Yrkesbenämning"
    assert hit["broader"] == {"uri": SSYK_2512, "label": "Mjukvaru- och systemutvecklare m.fl."}
    english = first(index, "Spelutvecklare", lang="sv")
    assert english["scheme"]["label"] == "Yrkesbenämning"
    esco = first(index, "software developer")
    assert esco["scheme"]["id"] == "esco/occupations"
    assert esco["type"]["id"] == "esco:Occupation"


# --- filters -------------------------------------------------------------------------------------


def test_language_filter(index: LabelIndex) -> None:
    assert ESCO_DEV in uris(autocomplete(index, "developer", lang="en"))
    assert autocomplete(index, "developer", lang="sv")["results"] == []
    hit = first(index, "mjukvaruutvecklare", lang="sv")
    assert hit["matched"]["lang"] == "sv"
    # codes have no language: they match whatever language is asked
    assert first(index, "SSYK 2512", lang="en")["uri"] == SSYK_2512


def test_scheme_and_type_filters(index: LabelIndex) -> None:
    by_type = uris(autocomplete(index, "utvecklare", types=["occupation-name"], limit=50))
    assert by_type and all(u.startswith(JT) for u in by_type)
    assert ESCO_DEV not in by_type
    scheme_uri = "http://data.europa.eu/esco/concept-scheme/occupations"
    by_id = uris(autocomplete(index, "utvecklare", schemes=["esco/occupations"]))
    assert by_id == uris(autocomplete(index, "utvecklare", schemes=[scheme_uri]))
    assert ESCO_DEV in by_id and SYSTEMUTVECKLARE not in by_id
    both = set(uris(autocomplete(index, "2512", types=["ssyk-level-4", "esco:ISCOGroup"])))
    assert both == {SSYK_2512, ESCO_ISCO_2512}


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"lang": "xx"}, "lang"),
        ({"lang": "not a language"}, "lang"),
        ({"schemes": ["no/such-scheme"]}, "scheme"),
        ({"types": ["no-such-type"]}, "type"),
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
    ],
)
def test_bad_filters_name_the_parameter(index: LabelIndex, kwargs: dict, parameter: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        autocomplete(index, "utvecklare", **kwargs)
    assert caught.value.parameter == parameter


def test_query_checks() -> None:
    with pytest.raises(BadRequestError, match="required"):
        check_query("   ")
    with pytest.raises(BadRequestError, match="at most 200"):
        check_query("x" * 201)
    assert check_query("x" * 200) == "x" * 200


# --- search ---------------------------------------------------------------------------------------


def test_search_total_facets_and_pages(index: LabelIndex) -> None:
    everything = search(index, "utvecklare", limit=100)
    assert everything["total"] == len(everything["results"]) >= 5
    type_counts = {f["id"]: f["count"] for f in everything["facets"]["types"]}
    expected: dict[str, int] = {}
    for r in everything["results"]:
        expected[r["type"]["id"]] = expected.get(r["type"]["id"], 0) + 1
    assert type_counts == expected
    scheme_counts = {f["id"]: f["count"] for f in everything["facets"]["schemes"]}
    assert scheme_counts["jobtech/occupation-name"] == sum(
        1 for r in everything["results"] if r["scheme"]["id"] == "jobtech/occupation-name"
    )
    pages = [search(index, "utvecklare", offset=o, limit=2)["results"] for o in range(0, 10, 2)]
    assert [r["uri"] for page in pages for r in page] == uris(everything)
    assert search(index, "utvecklare", offset=1000)["results"] == []


def test_search_ranks_like_autocomplete(index: LabelIndex) -> None:
    for q in ("lakare", "2512", "utvecklare", "dev soft", "python"):
        assert uris(search(index, q, limit=5)) == uris(autocomplete(index, q, limit=5)), q


def test_one_and_two_letter_queries_rank_like_longer_ones(index: LabelIndex) -> None:
    """Short queries take a precomputed path; it must agree with the general one."""
    for q, kwargs in [
        ("s", {}),
        ("sy", {}),
        ("l", {"lang": "sv"}),
        ("p", {"types": ["skill", "esco:Skill"]}),
        ("d", {"include_deprecated": True}),
        ("c+", {}),
    ]:
        short = autocomplete(index, q, limit=20, **kwargs)  # type: ignore[arg-type]
        everything = search(index, q, limit=20, **kwargs)  # type: ignore[arg-type]
        assert short["results"], q
        assert uris(short) == uris(everything), (q, kwargs)
    assert uris(autocomplete(index, "d")) == [
        u for u in uris(autocomplete(index, "d", include_deprecated=True)) if u != DATAKONSULT
    ]


def test_nothing_matches_cleanly(index: LabelIndex) -> None:
    assert autocomplete(index, "zzzzqqqq")["results"] == []
    assert search(index, "???")["total"] == 0
    assert search(index, "\x00\ud800")["results"] == []


# --- resolve --------------------------------------------------------------------------------------


def test_resolve_batch_in_order_with_unmatched_said_plainly(index: LabelIndex) -> None:
    queries, options = parse_resolve_request(
        {
            "queries": [
                "Systemutvecklare",
                {"q": "2512", "type": "isco-level-4"},
                "7618",
                "no such occupation",
                {"q": "developer", "lang": "en", "scheme": ["esco/occupations"]},
            ],
            "limit": 2,
        }
    )
    result = resolve(index, queries, **options)
    first_uris = [r["candidates"][0]["uri"] if r["candidates"] else None for r in result["results"]]
    assert first_uris == [SYSTEMUTVECKLARE, ISCO_2512, SYSTEMUTVECKLARE, None, ESCO_DEV]
    unmatched = result["results"][3]
    assert unmatched["matched"] is False
    assert unmatched["message"] == "nothing matched 'no such occupation'"
    assert (result["matched"], result["unmatched"]) == (4, 1)
    assert all(len(r["candidates"]) <= 2 for r in result["results"])


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        (None, "body"),
        ([], "body"),
        ({}, "queries"),
        ({"queries": []}, "queries"),
        ({"queries": ["x"] * 1001}, "queries"),
        ({"queries": ["ok", ""]}, "queries[1]"),
        ({"queries": ["ok", 5]}, "queries[1]"),
        ({"queries": [{"q": "x" * 201}]}, "queries[0].q"),
        ({"queries": [{"text": "x"}]}, "queries[0]"),
        ({"queries": ["x"], "limit": 11}, "limit"),
        ({"queries": ["x"], "limit": "3"}, "limit"),
        ({"queries": ["x"], "extra": 1}, "extra"),
    ],
)
def test_resolve_bad_requests(body: object, parameter: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_resolve_request(body)
    assert caught.value.parameter == parameter


def test_resolve_bad_filter_names_the_item(index: LabelIndex) -> None:
    queries, options = parse_resolve_request({"queries": ["a", {"q": "b", "type": "nope"}]})
    with pytest.raises(BadRequestError) as caught:
        resolve(index, queries, **options)
    assert caught.value.parameter == "queries[1].type"


# --- build step, files and loading ----------------------------------------------------------------


def test_build_writes_index_and_summary(labels_store: CurrentStore) -> None:
    served = labels_store.get()
    assert (served.path / INDEX_FILE).is_file()
    summary = served.manifest.steps["labels"]
    index = index_for(served)
    assert summary["concepts"] == index.concept_count == 21
    assert summary["labels"] == index.label_count
    assert index_for(served) is index  # loaded once per build


def test_new_build_brings_new_index(tmp_path: Path) -> None:
    settings = fixture_settings(tmp_path)
    build(settings)
    current = CurrentStore(settings.store)
    old = index_for(current.get())
    edited = tmp_path / "data" / "vocab.ttl"
    edited.parent.mkdir()
    text = (FIXTURES / "vocab.ttl").read_text(encoding="utf-8")
    edited.write_text(text.replace('"Spelutvecklare"@sv', '"Spelprogrammerare"@sv'), "utf-8")
    build(settings.replace(data_dir=edited.parent))
    new = index_for(current.get())
    assert new is not old
    assert uris(autocomplete(new, "Spelprogrammerare")) == [SPELUTVECKLARE]
    assert uris(autocomplete(old, "Spelprogrammerare")) == []


def test_build_without_index_file_builds_in_memory(tmp_path: Path) -> None:
    _settings, store = fixture_build()
    source = store.get().path
    copy = tmp_path / "store" / "builds" / source.name
    shutil.copytree(source, copy)
    (copy / INDEX_FILE).unlink()
    (tmp_path / "store" / "current").symlink_to(copy)
    index = index_for(CurrentStore(tmp_path / "store").get())
    assert first(index, "Systemutvecklare")["uri"] == SYSTEMUTVECKLARE


def test_any_skos_vocabulary_is_indexed_generically() -> None:
    """A plain SKOS vocabulary (no JobTech or ESCO terms) gets types, schemes and labels."""
    store = Store()
    store.load(
        path=str(FIXTURES / "generic.ttl"),
        format=RdfFormat.TURTLE,
        to_graph=graph_iri("https://example.org/kll/", "thesaurus", "1"),
    )
    index = build_index(store, "https://example.org/kll/")
    hit = autocomplete(index, "rivers")["results"][0]
    assert hit["uri"] == "http://example.org/thesaurus/rivers"
    # only skos:Concept: the scheme says what kind of concept it is
    assert hit["type"] == {"id": "geo", "label": "Geography thesaurus", "uri": None}
    assert hit["scheme"]["id"] == "geo"
    assert hit["scheme"]["label"] == "Geography thesaurus"
    assert hit["scheme"]["vocabulary"] == "thesaurus"
    assert hit["broader"]["label"] == "Water bodies"
    assert first(index, "vattendrag")["uri"] == "http://example.org/thesaurus/rivers"
    assert first(index, "GEO-7")["matched"]["kind"] == "notation"
    assert index.concept_count == 2
