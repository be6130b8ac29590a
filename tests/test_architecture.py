"""The architecture holds: imports point one way, no module imports in a circle, and
docs/architecture.md lists every module there is.

The layers are read from the page itself (its "Layers" list), so the rule has one declaration
and the test and the newcomer's guide cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PAGE = ROOT / "docs" / "architecture.md"


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package's `__init__` by the package's)."""
    found = {}
    for path in sorted((SRC / "kll_graph").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules of ours an import statement loads (a `from pkg import sub` loads `pkg.sub`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        name = ".".join([*base, node.module] if node.module else base)
    else:
        name = node.module or ""
    return [
        f"{name}.{alias.name}" if f"{name}.{alias.name}" in MODULES else name
        for alias in node.names
    ]


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of ours it imports, counting imports inside functions."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges.update(n for n in _imported(module, path, node) if n in MODULES)
        edges.discard(module)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def layers() -> list[list[str]]:
    """The layers of docs/architecture.md, lowest first: each item of its "Layers" list names
    modules or packages in backticks."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    items = [line for line in section.splitlines() if re.match(r"\d+\. ", line)]
    return [re.findall(r"`(kll_graph[\w.]*)`", item) for item in items]


def layer_of(module: str, table: list[list[str]]) -> int:
    """The layer of the longest name in the table that is the module or a package above it."""
    best, rank = "", -1
    for number, names in enumerate(table):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best, rank = name, number
    return rank


def test_the_import_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert "kll_graph.sparql.query" in graph["kll_graph.sparql.service"]
    assert "kll_graph.web.api" in graph["kll_graph.web.app"]  # `from kll_graph.web import api`


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_in_a_circle() -> None:
    assert cycles(import_graph()) == []


def test_every_module_has_a_layer() -> None:
    table = layers()
    assert len(table) >= 5, "docs/architecture.md lost its Layers list"
    unplaced = [m for m in MODULES if layer_of(m, table) < 0]
    assert unplaced == [], f"add these to the Layers of docs/architecture.md: {unplaced}"


def test_nothing_imports_upward() -> None:
    table = layers()
    upward = [
        f"{module} (layer {layer_of(module, table) + 1}) imports {target} "
        f"(layer {layer_of(target, table) + 1})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer_of(target, table) > layer_of(module, table)
    ]
    assert upward == []


def test_no_top_level_module_carries_a_package_prefix() -> None:
    top = [m.rsplit(".", 1)[1] for m in MODULES if m.count(".") == 1]
    packages = {m.split(".")[1] for m in MODULES if m.count(".") >= 2}
    prefixed = [m for m in top if any(m.startswith(p + "_") for p in packages | {"mapping"})]
    assert prefixed == []


def test_no_internal_code_is_named_in_a_string() -> None:
    """Import it instead: a name in a string hides the dependency from readers and from the
    tests above. Allowed: `__name__`-built names (granian and the worker process take one)."""
    named = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.strip()
                if re.fullmatch(r"kll_graph(\.\w+)+(:\w+)?", text):
                    named.append(f"{module}: {text!r}")
            if isinstance(node, ast.Attribute) and node.attr in {"resolve_name", "import_module"}:
                named.append(f"{module}: {node.attr}")
    assert named == []


def test_every_lazy_import_says_why() -> None:
    """An import inside a function is only for a heavy optional dependency, with a comment on
    its line saying why; everything else is imported at the top, where readers look."""
    silent = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Import | ast.ImportFrom)
                    and "#" not in lines[node.lineno - 1]
                ):
                    silent.append(f"{module}:{node.lineno}")
    assert silent == []


def listed_paths() -> set[str]:
    """The paths the page's package tree names, one per line: `sparql/` or `sparql/query.py`."""
    text = PAGE.read_text(encoding="utf-8")
    tree = text.split("## Package tree", 1)[1].split("```", 2)[1]
    return {line.split()[0] for line in tree.splitlines() if line.strip()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_architecture_page_lists_the_module(module: str) -> None:
    path = MODULES[module].relative_to(SRC / "kll_graph")
    expected = f"{path.parent.as_posix()}/" if path.name == "__init__.py" else path.as_posix()
    if expected == "./":
        return  # the package itself: the page is about it
    assert expected in listed_paths(), f"docs/architecture.md does not list {expected}"


def test_the_architecture_page_lists_nothing_that_is_gone() -> None:
    gone = [p for p in listed_paths() if not (SRC / "kll_graph" / p).exists()]
    assert gone == []
