"""Ranking on the real data (JobTech Taxonomy datasets, ESCO v1.1.1 with Swedish labels, the
legacy id dump): what a user typing or resolving these strings should get first."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from kll_graph.labels.index import LabelIndex
from kll_graph.labels.lookup import autocomplete, index_for, parse_resolve_request, resolve
from kll_graph.store import CurrentStore

pytestmark = pytest.mark.realdata

JT = "http://data.jobtechdev.se/taxonomy/concept/"
ESCO = "http://data.europa.eu/esco/"
NURSE = JT + "bXNH_MNX_dUR"  # Sjuksköterska, grundutbildad
MJUKVARUUTVECKLARE = JT + "rQds_YGd_quU"
LAKARE = JT + "9K3i_XD4_Kyy"
SSYK_2512 = JT + "DJh5_yyF_hEM"
ISCO_2512 = JT + "LK6x_1Gn_piH"
ESCO_ISCO_2512 = ESCO + "isco/C2512"
ESCO_SOFTWARE_DEVELOPER = ESCO + "occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"
ESCO_PYTHON = ESCO + "skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


@pytest.fixture(scope="module")
def index(real_store: CurrentStore) -> LabelIndex:
    return index_for(real_store.get())


def top(index: LabelIndex, q: str, n: int = 10, **kw: object) -> list[dict]:
    return autocomplete(index, q, limit=n, **kw)["results"]  # type: ignore[arg-type]


def uris(hits: list[dict]) -> list[str]:
    return [h["uri"] for h in hits]


def test_index_covers_the_real_vocabularies(index: LabelIndex) -> None:
    flags = zip(index.concept_type.tolist(), index.concept_not_current.tolist(), strict=True)
    kinds = [(index.types[t].id, bool(older)) for t, older in flags]
    types = Counter(t for t, older in kinds if not older)
    assert types["occupation-name"] == 2412
    # the 2020 dump's occupation names that the datasets lack are there too, flagged as older
    assert Counter(t for t, older in kinds if older)["occupation-name"] > 1000
    assert types["skill"] == 6657
    assert types["esco:Occupation"] == 3007
    assert types["esco:Skill"] == 13896
    assert index.label_count > 150_000
    assert {"sv", "en"} <= set(index.languages)


def test_swedish_occupation_exact_and_without_diacritics(index: LabelIndex) -> None:
    exact = top(index, "Läkare")[0]
    assert (exact["uri"], exact["matched"]["how"], exact["score"]) == (LAKARE, "exact", 100)
    folded = top(index, "lakare")[0]
    assert folded["uri"] == LAKARE and folded["label"] == "Läkare"
    assert folded["score"] < exact["score"]
    assert top(index, "sjukskoterska")[0]["uri"] == NURSE
    assert top(index, "Sjuksköterska")[0]["uri"] == NURSE


def test_prefix_while_typing(index: LabelIndex) -> None:
    assert NURSE in uris(top(index, "sjukskö", types=["occupation-name"]))
    hits = top(index, "mjukvaruutv", types=["occupation-name"])
    assert hits[0]["uri"] == MJUKVARUUTVECKLARE
    assert hits[0]["broader"]["uri"] == SSYK_2512


def test_compound_parts_of_swedish_occupations(index: LabelIndex) -> None:
    hits = top(index, "utvecklare", n=50, types=["occupation-name"])
    found = uris(hits)
    assert MJUKVARUUTVECKLARE in found
    assert JT + "fg7B_yov_smw" in found  # Systemutvecklare/Programmerare
    compound = next(h for h in hits if h["uri"] == MJUKVARUUTVECKLARE)
    assert compound["matched"]["how"] == "compound"
    # words ("GIS-utvecklare") rank before compound parts ("Mjukvaruutvecklare")
    hows = [h["matched"]["how"] for h in hits]
    assert hows.index("compound") > hows.index("word")
    nurses = uris(top(index, "sköterska", n=50, types=["occupation-name"]))
    assert {JT + "CQBS_ZSZ_ViP", JT + "n2Tp_B8E_gED", NURSE} <= set(nurses)


def test_one_typo(index: LabelIndex) -> None:
    hit = top(index, "snikare")[0]
    assert hit["label"].lower() == "snickare"
    assert hit["matched"]["how"] == "typo"
    assert top(index, "sjuksköterksa", types=["occupation-name"])[0]["uri"] == NURSE


def test_english_esco_occupations_and_skills(index: LabelIndex) -> None:
    hit = top(index, "software developer")[0]
    assert (hit["uri"], hit["matched"]["how"]) == (ESCO_SOFTWARE_DEVELOPER, "exact")
    assert hit["scheme"]["vocabulary"] == "esco"
    assert hit["type"]["id"] == "esco:Occupation"
    python = top(index, "python", lang="en")[0]
    assert python["uri"] == ESCO_PYTHON
    assert python["label"] == "Python (computer programming)"
    # English filter: no Swedish labels match
    assert all(h["matched"]["lang"] in (None, "en") for h in top(index, "developer", lang="en"))


def test_swedish_labels_of_esco(index: LabelIndex) -> None:
    hits = top(index, "programvaruutv", lang="sv", schemes=["esco/occupations"])
    assert uris(hits)[0] == ESCO_SOFTWARE_DEVELOPER
    assert hits[0]["label"] == "programvaruutvecklare"
    # the same concept asked in English shows its English label
    english = top(index, "software developer", lang="en")[0]
    assert (english["uri"], english["label"]) == (ESCO_SOFTWARE_DEVELOPER, "software developer")


def test_ssyk_and_isco_codes(index: LabelIndex) -> None:
    assert uris(top(index, "2512"))[0] == SSYK_2512
    assert uris(top(index, "SSYK 2512")) == [SSYK_2512]
    assert set(uris(top(index, "ISCO 2512"))) == {ISCO_2512, ESCO_ISCO_2512}
    assert set(uris(top(index, "isco-08 C2512"))) == {ISCO_2512, ESCO_ISCO_2512}
    hit = top(index, "SSYK 2512")[0]
    assert hit["notations"][0]["system"] == "SSYK2012"
    assert hit["label"] == "Mjukvaru- och systemutvecklare m.fl."


def test_jobtech_ids_legacy_ids_and_uris(index: LabelIndex) -> None:
    assert uris(top(index, "bXNH_MNX_dUR", n=1)) == [NURSE]
    legacy = top(index, "7296", types=["occupation-name"])[0]
    assert (legacy["uri"], legacy["matched"]["kind"]) == (NURSE, "legacyId")
    assert uris(top(index, "7239", types=["occupation-name"], n=1)) == [LAKARE]
    assert uris(top(index, ESCO_PYTHON, n=1)) == [ESCO_PYTHON]


def test_deprecated_concepts_are_left_out_unless_asked(index: LabelIndex) -> None:
    deprecated = np.flatnonzero(index.concept_deprecated)
    if not len(deprecated):
        pytest.skip("the real data in ../shared/data marks no concept deprecated")
    concept = int(deprecated[0])
    label = index.label(concept)
    assert index.uris[concept] not in uris(top(index, label, n=50))
    hit = next(h for h in top(index, label, n=50, include_deprecated=True) if h["deprecated"])
    assert hit["replaced_by"] or index.replaced_by.get(concept) is None


def test_resolve_a_real_batch(index: LabelIndex) -> None:
    strings = ["Sjuksköterska, grundutbildad", "software developer", "SSYK 2512", "7239", "qqqzzz"]
    queries, options = parse_resolve_request({"queries": strings * 200, "limit": 1})
    result = resolve(index, queries, **options)
    firsts = [r["candidates"][0]["uri"] if r["matched"] else None for r in result["results"][:5]]
    assert firsts == [NURSE, ESCO_SOFTWARE_DEVELOPER, SSYK_2512, LAKARE, None]
    assert (result["matched"], result["unmatched"]) == (800, 200)


def test_every_jobtech_concept_type_has_its_class_uri(index: LabelIndex) -> None:
    """The API's `type.uri` of a JobTech result is its kll class, e.g. kll:OccupationName."""
    hit = top(index, "Systemutvecklare", 1, lang="sv")[0]
    assert hit["type"]["id"] == "occupation-name"
    assert hit["type"]["uri"] == "https://w3id.org/kll-graph/ontology#OccupationName"
    jobtech = [t for t in index.types if "-" in t.id and "/" not in t.id]
    assert len(jobtech) >= 20
    assert [t.id for t in jobtech if t.iri is None] == []
