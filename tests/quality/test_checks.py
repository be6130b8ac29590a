"""Quality checks on tiny fixture vocabularies: each defect gives exactly its finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from kll_graph.build.pipeline import build
from kll_graph.exceptions import ConfigError, QualityError
from kll_graph.quality import (
    Check,
    Flag,
    configured_severities,
    read_report,
    registered_checks,
    run_checks,
)
from kll_graph.store import CurrentStore
from tests.quality.support import CHECK_FIXTURES, OTHER, VOC, build_fixture, fixture_settings

CHECK_IDS = [c.id for c in registered_checks()]
FIXTURE_GRAPH = "https://w3id.org/kll-graph/graph/fixture/test"

#: check id -> (concept the finding names, its label, related resources, words in the message)
EXPECTED: dict[str, tuple[str, str, list[str], str]] = {
    "orphan-concept": (VOC + "z", "Ensling", [], "no broader"),
    "hierarchy-cycle": (VOC + "d", "Golvläggare", [VOC + "e"], "cycle of 2"),
    "missing-preflabel-main-language": (VOC + "z", "Bricklayer", [], "no preferred label in 'sv'"),
    "multiple-preflabels": (VOC + "b", "Byggsnickare", [], "2 preferred labels in 'sv'"),
    "label-overlap": (VOC + "b", "Snickare", [], "skos:altLabel and skos:prefLabel"),
    "duplicate-preflabel": (VOC + "b", "Snickare", [VOC + "z"], "shares the preferred label"),
    "missing-top-concepts": (VOC + "scheme2", "Fler yrken", [], "no top concept"),
    "top-concept-has-broader": (VOC + "b", "Snickare", [VOC + "a"], "top concept of Yrken"),
    "related-in-hierarchy": (VOC + "a", "Hantverkare", [VOC + "b"], "skos:related"),
    "mapping-clash": (
        OTHER + "x",
        "Snickare (annan klassifikation)",
        [VOC + "b"],
        "as both exactMatch and narrowMatch",
    ),
    "mapping-within-scheme": (VOC + "b", "Snickare", [VOC + "c"], "skos:closeMatch"),
    "deprecated-without-replacement": (VOC + "old", "Gammalt yrke", [], "no replacement"),
    "replacement-chain": (
        VOC + "old",
        "Äldre yrke",
        [VOC + "dep", VOC + "b"],
        f"chain ends at {VOC}b",
    ),
    "replacement-cycle": (VOC + "p", "Yrke P", [VOC + "q"], "cycle of 2"),
    "dangling-link": (VOC + "c", "Målare", [VOC + "missing"], "skos:related points to"),
    "definition-repeats-label": (VOC + "c", "Målare", [], 'definition "Målare."'),
    "shacl": (VOC + "c", "Målare", ["http://example.org/code/7131"], "skos:notation: A notation"),
}


def test_every_check_has_one_defect_fixture() -> None:
    fixtures = {p.stem for p in CHECK_FIXTURES.glob("*.ttl")} - {"clean"}
    assert fixtures == set(CHECK_IDS) == set(EXPECTED)


def test_every_check_explains_itself() -> None:
    for chk in registered_checks():
        assert chk.severity in {"error", "warning", "info"}
        assert len(chk.explanation) > 150, chk.id
        assert "Fix" in chk.explanation, f"{chk.id} should say how to fix it"


def test_clean_fixture_gives_no_finding(tmp_path: Path) -> None:
    _settings, result = build_fixture(tmp_path, "clean.ttl")
    report = read_report(result.path)
    assert report is not None
    assert [r.status for r in report.results] == ["passed"] * len(CHECK_IDS)
    assert report.findings == []
    assert result.manifest.steps["checks"]["findings"] == 0
    assert report.vocabularies["fixture"]["languages"] == {FIXTURE_GRAPH: "sv"}


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_each_defect_gives_exactly_its_finding(tmp_path: Path, check_id: str) -> None:
    _settings, result = build_fixture(tmp_path, "clean.ttl", f"{check_id}.ttl")
    report = read_report(result.path)
    assert report is not None
    assert [r.id for r in report.failed] == []
    assert [(f.check, f.concept) for f in report.findings] == [(check_id, EXPECTED[check_id][0])]
    finding = report.findings[0]
    _concept, label, related, words = EXPECTED[check_id]
    assert finding.label == label
    assert finding.related == tuple(related)
    assert words in finding.message
    assert finding.graph == FIXTURE_GRAPH
    assert finding.vocabulary == "fixture"
    assert finding.severity == next(c.severity for c in registered_checks() if c.id == check_id)
    counts = result.manifest.steps["checks"]["by_check"]
    assert counts[check_id] == 1 and sum(counts.values()) == 1


def test_shacl_results_are_carried_to_every_concept_of_a_group(tmp_path: Path) -> None:
    """Two concepts with the same defect are validated as one group yet both reported, each
    with its own offending value."""
    settings = fixture_settings(tmp_path, "clean.ttl", "shacl.ttl")
    extra = settings.data_dir / "voc" / "more.ttl"
    extra.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        f"<{VOC}b> skos:notation <http://example.org/code/7115> .\n",
        encoding="utf-8",
    )
    build(settings)
    report = read_report(CurrentStore(settings.store).get().path)
    assert report is not None
    shacl = [f for f in report.findings if f.check == "shacl"]
    assert [(f.concept, f.message.split("(value ")[-1]) for f in shacl] == [
        (VOC + "b", "http://example.org/code/7115)"),
        (VOC + "c", "http://example.org/code/7131)"),
    ]


def test_a_crashing_check_is_reported_failed_and_the_others_still_run(tmp_path: Path) -> None:
    settings, _ = build_fixture(tmp_path, "clean.ttl", "dangling-link.ttl")
    served = CurrentStore(settings.store).get()

    def crash(ctx: object) -> list[Flag]:
        """Expects numeric concept ids, which the fixture does not have."""
        rows = ctx.select("check_deprecated")  # type: ignore[attr-defined]
        return [Flag(str(int(r["concept"].value.rsplit("/")[-1])), "never") for r in rows]

    broken = Check("numeric-ids", "Crashes on non-numeric ids", "error", "x", crash)
    report = run_checks(served.store, settings, checks=[broken, *registered_checks()])
    first = report.results[0]
    assert (first.id, first.status) == ("numeric-ids", "failed")
    assert first.error == "ValueError: invalid literal for int() with base 10: 'dep'"
    assert [r.status for r in report.results[1:]].count("findings") == 1
    assert report.problems() == 1 + 1  # the dangling link plus the failed check


def test_severity_overrides_and_off(tmp_path: Path) -> None:
    settings, _ = build_fixture(tmp_path, "clean.ttl", "orphan-concept.ttl")
    store = CurrentStore(settings.store).get().store
    report = run_checks(store, settings, severities={"orphan-concept": "error"})
    assert report.by_severity() == {"error": 1, "warning": 0, "info": 0}
    assert report.with_severities({"orphan-concept": "off"}).findings == []
    quiet = run_checks(store, settings, severities={"orphan-concept": "off"})
    assert "orphan-concept" not in [r.id for r in quiet.results]
    only = run_checks(store, settings, only=["orphan-concept", "shacl"])
    assert [r.id for r in only.results] == ["orphan-concept", "shacl"]
    with pytest.raises(ConfigError, match="unknown check"):
        run_checks(store, settings, only=["no-such-check"])


def test_strict_build_fails_on_errors_and_keeps_the_current_store(tmp_path: Path) -> None:
    _settings, first = build_fixture(tmp_path, "clean.ttl")
    settings = fixture_settings(tmp_path, "clean.ttl", "dangling-link.ttl", strict=True)
    with pytest.raises(QualityError, match="1 error"):
        build(settings)
    assert CurrentStore(settings.store).get().path == first.path
    relaxed = build(settings.replace(strict=False))
    assert any("quality checks: 1 error" in w for w in relaxed.manifest.warnings)


def test_strict_build_passes_with_warnings_only(tmp_path: Path) -> None:
    _settings, result = build_fixture(tmp_path, "clean.ttl", "duplicate-preflabel.ttl", strict=True)
    assert result.manifest.steps["checks"]["by_severity"]["warning"] == 1


def test_docs_list_every_check_and_operation() -> None:
    from kll_graph.build.normalize import OPERATIONS
    from kll_graph.settings import REPO_ROOT

    docs = (REPO_ROOT / "docs" / "quality.md").read_text(encoding="utf-8")
    for name in [*CHECK_IDS, *OPERATIONS]:
        assert f"| `{name}` |" in docs, name


def test_check_severity_setting_applies_to_builds(tmp_path: Path) -> None:
    """`check_severity` in kll-graph.toml (or KLL_CHECK_SEVERITY) reaches the build's checks."""
    from kll_graph.settings import load_settings

    config = tmp_path / "kll-graph.toml"
    config.write_text('[settings]\ncheck_severity = "orphan-concept=off"\n')
    settings = load_settings(config_file=config, env={})
    assert configured_severities(settings) == {"orphan-concept": "off"}
    env = {"KLL_CHECK_SEVERITY": "shacl=off"}
    assert configured_severities(load_settings(config_file=config, env=env)) == {"shacl": "off"}
