"""The check registry: severities, what a check yields, and the ``@check`` decorator.

A check is a function of a :class:`~kll_graph.quality.context.CheckContext` that yields
:class:`Flag` s (a resource and what is wrong with it); ``@check`` registers it under a stable id
with a default severity, a title and an explanation. The runner turns flags into findings.
Severities are shared with the mapping checks (:mod:`kll_graph.mappings.checks`), so one report
model counts both. The SKOS checks register themselves when :mod:`kll_graph.quality.skos` is
imported, which the package does: importing anything from ``kll_graph.quality`` registers all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kll_graph.exceptions import ConfigError
from kll_graph.settings import Settings

if TYPE_CHECKING:
    from kll_graph.quality.context import CheckContext

ERROR = "error"
WARNING = "warning"
INFO = "info"
#: Severities from most to least serious; "off" in an override disables a check.
SEVERITIES = (ERROR, WARNING, INFO)
OFF = "off"


@dataclass(frozen=True)
class Flag:
    """What a check function yields: the resource it flags, what is wrong, and where (the
    runner adds the check, the severity, the label and the vocabulary to make a finding)."""

    concept: str
    message: str
    graph: str | None = None
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One registered check."""

    id: str
    title: str
    severity: str
    explanation: str
    run: Callable[[CheckContext], Iterable[Flag]]


_REGISTRY: dict[str, Check] = {}


def check(
    id: str, title: str, severity: str, explanation: str
) -> Callable[[Callable[[CheckContext], Iterable[Flag]]], Callable[[CheckContext], Iterable[Flag]]]:
    """Decorator: register a check function under a stable id."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity of {id} must be one of {SEVERITIES}")

    def register(func: Callable[[CheckContext], Iterable[Flag]]) -> Callable[..., Iterable[Flag]]:
        _REGISTRY[id] = Check(id, title, severity, " ".join(explanation.split()), func)
        return func

    return register


def registered_checks() -> list[Check]:
    """Every check, in registration order (the order reports list them)."""
    return list(_REGISTRY.values())


def parse_severities(text: str | Iterable[str]) -> dict[str, str]:
    """Severity overrides from ``id=level`` pairs (comma-separated text or a list of pairs).

    >>> parse_severities("orphan-concept=warning, shacl=off")
    {'orphan-concept': 'warning', 'shacl': 'off'}
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    overrides: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, sep, level = item.partition("=")
        name, level = name.strip(), level.strip().lower()
        if not sep or name not in _REGISTRY:
            known = ", ".join(_REGISTRY)
            raise ConfigError(
                f"check severity {item!r}: expected CHECK=LEVEL with CHECK one of: {known}"
            )
        if level not in (*SEVERITIES, OFF):
            raise ConfigError(
                f"check severity {item!r}: level must be one of {', '.join((*SEVERITIES, OFF))}"
            )
        overrides[name] = level
    return overrides


def configured_severities(settings: Settings) -> dict[str, str]:
    """Overrides from the `check_severity` setting (``id=level,...``)."""
    return parse_severities(settings.check_severity)
