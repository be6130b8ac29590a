"""Settings layer defaults, kll-graph.toml, KLL_* environment and flags; bad input is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from kll_graph.exceptions import ConfigError
from kll_graph.settings import REPO_ROOT, Settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kll-graph.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_without_config(tmp_path: Path) -> None:
    settings = load_settings(config_file=write(tmp_path, ""), env={})
    assert settings.store == Path("var/store")
    assert settings.data_dir == Path("data")
    assert settings.keep_builds == Settings().keep_builds == 3


def test_each_layer_overrides_the_one_before(tmp_path: Path) -> None:
    config = write(tmp_path, '[settings]\nkeep_builds = 5\nport = 9000\nstore = "from-toml"\n')
    env = {"KLL_PORT": "9100", "KLL_STORE": "from-env"}
    settings = load_settings(config_file=config, env=env, store=Path("from-flag"))
    assert settings.keep_builds == 5  # toml over default
    assert settings.port == 9100  # env over toml
    assert settings.store == Path("from-flag")  # flag over env
    assert load_settings(config_file=config, env=env, store=None).store == Path("from-env")


def test_unknown_setting_names_key_and_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'stroe'.*allowed:.*store"):
        load_settings(config_file=write(tmp_path, "[settings]\nstroe = 'x'\n"), env={})


def test_bad_value_names_key_and_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'keep_builds' = -1: expected a number >= 0"):
        load_settings(config_file=write(tmp_path, "[settings]\nkeep_builds = -1\n"), env={})
    with pytest.raises(ConfigError, match=r"KLL_BASE_IRI.*ending in '/' or '#'"):
        load_settings(config_file=write(tmp_path, ""), env={"KLL_BASE_IRI": "https://x.org/a"})


def test_source_entries_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[\[sources\]\] #1: 'importer' is required"):
        load_settings(config_file=write(tmp_path, '[[sources]]\nid = "a"\npath = "x"\n'), env={})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) paht"):
        text = '[[sources]]\nid = "a"\nimporter = "rdf"\npaht = "x"\n'
        load_settings(config_file=write(tmp_path, text), env={})
    with pytest.raises(ConfigError, match=r"source .a. lists one version twice"):
        one = '[[sources]]\nid = "a"\nimporter = "rdf"\npath = "x"\n'
        load_settings(config_file=write(tmp_path, one + one), env={})


def test_malformed_toml_is_reported_with_its_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_file=write(tmp_path, "[settings\n"), env={})


def test_repository_config_lists_the_sources() -> None:
    settings = load_settings(config_file=REPO_ROOT / "kll-graph.toml", env={})
    ids = {s.id for s in settings.sources}
    assert {"jobtech", "esco", "esco-sv", "se-occupations-esco", "se-skills-esco"} <= ids
    assert all(s.url for s in settings.sources)
