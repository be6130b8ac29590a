"""Each IRI base is declared once, in `kll_graph.namespaces`, and the match predicates' inverse
is what SKOS says it is.

The source is read with `ast`, so a base written out in a string literal anywhere else under
src/kll_graph fails here (docstrings and doctests are prose, not literals that start with an IRI).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kll_graph import namespaces
from kll_graph.namespaces import (
    INVERSE_MATCH,
    MATCH_PREDICATES,
    SKOS,
    Namespace,
    compact,
    split_iri,
)

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kll_graph"

#: Every IRI base `namespaces` declares: its Namespace objects and its IRI constants.
BASES = sorted(
    {value.iri for value in vars(namespaces).values() if isinstance(value, Namespace)}
    | {
        value
        for value in vars(namespaces).values()
        if isinstance(value, str) and value.startswith(("http://", "https://"))
    }
)


def _literals_with_base(path: Path) -> list[tuple[int, str]]:
    """(line, literal) of each string literal of a module that starts with a declared base."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(tuple(BASES))
    ]


def test_bases_are_found() -> None:
    assert SKOS.iri in BASES
    assert "http://data.europa.eu/esco/" in BASES
    assert "http://data.jobtechdev.se/taxonomy/concept/" in BASES


def test_the_check_sees_a_written_out_base(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""Doc naming http://data.europa.eu/esco/ in prose."""\n'
        'X = f"http://data.europa.eu/esco/isco/C{1}"\n'
    )
    assert _literals_with_base(module) == [(2, "http://data.europa.eu/esco/isco/C")]


def test_no_module_writes_out_an_iri_base() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == "namespaces.py":
            continue
        found += [f"{relative}:{line}: {text!r}" for line, text in _literals_with_base(path)]
    assert not found, "IRI bases written out; import them from kll_graph.namespaces:\n" + (
        "\n".join(found)
    )


def test_inverse_match_is_an_involution_swapping_broad_and_narrow() -> None:
    assert set(INVERSE_MATCH) == set(MATCH_PREDICATES)
    assert all(INVERSE_MATCH[INVERSE_MATCH[name]] == name for name in MATCH_PREDICATES)
    assert INVERSE_MATCH["broadMatch"] == "narrowMatch"
    assert INVERSE_MATCH["narrowMatch"] == "broadMatch"
    symmetric = set(MATCH_PREDICATES) - {"broadMatch", "narrowMatch"}
    assert symmetric == {"exactMatch", "closeMatch", "relatedMatch"}
    assert all(INVERSE_MATCH[name] == name for name in symmetric)


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        (SKOS.exactMatch.value, "skos:exactMatch"),
        ("http://data.jobtechdev.se/taxonomy/concept/iugg_Qq9_QHH", "jt:iugg_Qq9_QHH"),
        ("http://data.europa.eu/esco/model#Skill", "esco:Skill"),  # longest namespace wins
        ("http://example.org/x", "http://example.org/x"),
        (SKOS.iri + "a/b", SKOS.iri + "a/b"),  # not a plain name: the IRI stays
    ],
)
def test_compact(iri: str, expected: str) -> None:
    assert compact(iri) == expected


def test_split_iri_takes_the_longest_namespace() -> None:
    prefixes = {"a": "http://x.org/", "b": "http://x.org/y/"}
    assert split_iri("http://x.org/y/z", prefixes) == ("b", "z")
    assert split_iri("http://other.org/z", prefixes) is None
