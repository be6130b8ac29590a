"""Settings, declared once as data and layered: defaults, `kll-graph.toml`, `KLL_*` env, flags.

Each setting is one dataclass field whose metadata carries its help text; the CLI, the docs and the
TOML validation all read that one declaration, so a new setting is one line here.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kll_graph.exceptions import ConfigError
from kll_graph.namespaces import DEFAULT_BASE_IRI

#: The repository root (this file lives in src/kll_graph/).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The bundled sample: a small dataset in the real source formats, laid out like a data directory.
SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
CONFIG_NAME = "kll-graph.toml"
ENV_PREFIX = "KLL_"


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _to_positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    number = int(value)
    if number < 0:
        raise ValueError("expected a number >= 0")
    return number


def _to_positive_float(value: Any) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("expected a number > 0")
    return number


def _to_iri(value: Any) -> str:
    text = str(value)
    if not text.startswith(("http://", "https://")) or not text.endswith(("/", "#")):
        raise ValueError("expected an http(s) IRI ending in '/' or '#'")
    return text


def _to_optional_path(value: Any) -> Path | None:
    """A path, or None for an empty value."""
    return Path(value) if str(value).strip() else None


def setting(default: Any, help: str, convert: Callable[[Any], Any] = str) -> Any:
    """Declare one setting: its default, its help text and how to read it from text."""
    return field(default=default, metadata={"help": help, "convert": convert})


@dataclass(frozen=True)
class SourceConfig:
    """One source of the graph as `kll-graph.toml` lists it under `[[sources]]`."""

    id: str
    importer: str
    path: str
    version: str = "unknown"
    url: str = ""
    license: str = ""
    attribution: str = ""
    optional: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Of several releases of one source (entries with one id), the one shown by default.
    current: bool = True
    #: The release's publication date (ISO 8601), when known.
    date: str = ""

    def resolve(self, data_dir: Path) -> Path:
        """The source's path inside a data directory."""
        return data_dir / self.path


@dataclass(frozen=True)
class Settings:
    """Every setting of kll-graph; see `kll-graph settings` for the effective values."""

    data_dir: Path = setting(Path("data"), "Directory holding the source files.", Path)
    store: Path = setting(Path("var/store"), "Directory of the built stores.", Path)
    base_iri: str = setting(
        DEFAULT_BASE_IRI,
        "Base IRI under which kll-graph mints IRIs (graphs, schemes, ontology).",
        _to_iri,
    )
    keep_builds: int = setting(3, "How many finished builds to keep.", _to_positive_int)
    host: str = setting("127.0.0.1", "Host the server listens on.")
    port: int = setting(8000, "Port the server listens on; 0 picks a free one.", _to_positive_int)
    processes: int = setting(
        0, "HTTP server processes sharing the port; 0 runs one per CPU.", _to_positive_int
    )
    threads: int = setting(
        32,
        "Request threads of each HTTP server process; most wait on SPARQL query workers, so "
        "there must be more than the long-running queries a process lets wait.",
        _to_positive_int,
    )
    query_timeout: float = setting(
        30.0, "Wall-clock limit of one SPARQL query, in seconds.", _to_positive_float
    )
    query_memory_mb: int = setting(
        2048, "Memory limit of one SPARQL query worker, in MiB.", _to_positive_int
    )
    query_workers: int = setting(2, "SPARQL worker processes.", _to_positive_int)
    query_cache_mb: int = setting(
        64,
        "Size of the SPARQL result cache of each server process, in MiB; 0 turns it off.",
        _to_positive_int,
    )
    response_cache_mb: int = setting(
        64,
        "Size of the cache of whole responses to repeated GET requests (lookups, SPARQL "
        "results) of each server process, in MiB; 0 turns it off.",
        _to_positive_int,
    )
    max_results: int = setting(100_000, "Most rows or triples one query returns.", _to_positive_int)
    max_request_bytes: int = setting(
        1_000_000, "Largest request body accepted, in bytes.", _to_positive_int
    )
    proxy_hops: int = setting(
        0,
        "How many reverse proxies (load balancer, TLS terminator) stand in front of the server "
        "and set X-Forwarded-For and X-Forwarded-Proto; their values are believed only from "
        "that many hops, so the sign-in rate limits see the client's address and cookies get "
        "the Secure flag behind a TLS proxy. 0 (the default) believes no such header.",
        _to_positive_int,
    )
    body_timeout: float = setting(
        10.0,
        "Seconds a client has to send a whole request body; a slower body is answered 408 and "
        "its connection closed, before any request thread is given to it.",
        _to_positive_float,
    )
    max_query_depth: int = setting(
        100,
        "Deepest nesting of braces, parentheses and brackets a SPARQL query may have.",
        _to_positive_int,
    )
    max_query_operators: int = setting(
        2_000,
        "Most operators and joins (. , ; | / && || + - * = < > ! ^ UNION OPTIONAL MINUS) a "
        "SPARQL query may have outside VALUES blocks; the engine recurses over their chains.",
        _to_positive_int,
    )
    max_json_depth: int = setting(
        32, "Deepest nesting of arrays and objects a JSON request body may have.", _to_positive_int
    )
    ontology_dir: Path = setting(REPO_ROOT / "ontology", "Directory of the ontology files.", Path)
    mappings_dir: Path = setting(
        REPO_ROOT / "mappings", "Directory of the SSSOM mapping sets.", Path
    )
    users_file: Path = setting(
        Path.home() / ".config" / "kll-graph" / "users.json",
        "The review workbench's users, roles and password and token hashes (written by "
        "`kll-graph users`); kept outside the repository, never committed. Without it the "
        "workbench is off.",
        Path,
    )
    session_hours: float = setting(
        12.0, "Hours a sign-in to the review workbench lasts.", _to_positive_float
    )
    review_refresh: bool = setting(
        True,
        "After each write of the review workbench, make the mapping graphs again in a new build "
        "made from the current one and switch to it, so SPARQL, the API and the pages show the "
        "decision within seconds; off leaves them for the next `kll-graph build`.",
        _to_bool,
    )
    strict: bool = setting(False, "Fail the build on check errors.", _to_bool)
    compat_graphs: bool = setting(
        True,
        "Derive the compatibility graphs (esco-compat, jobtech-compat: skos:broaderTransitive, "
        "ESCO's labelled facets and node-literal descriptions) so ESCO-shaped queries run.",
        _to_bool,
    )
    check_severity: str = setting(
        "", "Check severity overrides: id=level pairs, comma-separated (error, warning, info, off)."
    )
    uri_spaces: str = setting(
        "",
        "Concept URI prefixes answered at their own path (comma-separated), when deployed "
        "at their host, e.g. http://data.jobtechdev.se/taxonomy/concept/.",
    )
    backend: str = setting(
        "",
        "SPARQL 1.1 endpoints to read the graph from (comma-separated URLs of replicas serving "
        "one build, e.g. http://127.0.0.1:7878/query); empty reads the built store in this "
        "process (the default).",
    )
    backend_dump: Path | None = setting(
        None,
        "With `backend`: the dump directory (written by `kll-graph dump`) of the build the "
        "replicas serve; the app takes its artifacts (label index, coverage, quality) from it.",
        _to_optional_path,
    )
    sources: tuple[SourceConfig, ...] = ()
    config_file: Path | None = None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (Settings are immutable)."""
        return dataclasses.replace(self, **changes)


def declared() -> list[dataclasses.Field[Any]]:
    """The declared settings (fields with help), in declaration order."""
    return [f for f in dataclasses.fields(Settings) if "help" in f.metadata]


def _convert(name: str, value: Any, origin: str) -> Any:
    fields = {f.name: f for f in declared()}
    if name not in fields:
        allowed = ", ".join(sorted(fields))
        raise ConfigError(f"{origin}: unknown setting '{name}'; allowed: {allowed}")
    try:
        return fields[name].metadata["convert"](value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: setting '{name}' = {value!r}: {exc}") from exc


_SOURCE_KEYS = {f.name for f in dataclasses.fields(SourceConfig)}


def _source(entry: Any, index: int, origin: str) -> SourceConfig:
    where = f"{origin}: [[sources]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = set(entry) - _SOURCE_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_SOURCE_KEYS))}"
        )
    for key in ("id", "importer", "path"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ConfigError(f"{where}: '{key}' is required and must be a non-empty string")
    if not entry["id"].replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{where}: id {entry['id']!r} may hold only letters, digits, - and _")
    options = entry.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: 'options' must be a table")
    try:
        optional = _to_bool(entry.get("optional", False))
    except ValueError as exc:
        raise ConfigError(f"{where}: 'optional': {exc}") from exc
    try:
        current = _to_bool(entry.get("current", False))  # an only release is made current
    except ValueError as exc:
        raise ConfigError(f"{where}: 'current': {exc}") from exc
    flags = {"options", "optional", "current"}
    return SourceConfig(
        **{k: str(v) for k, v in entry.items() if k not in flags},
        optional=optional,
        options=options,
        current=current,
    )


def check_releases(sources: Sequence[SourceConfig], origin: str) -> tuple[SourceConfig, ...]:
    """Several entries with one id are releases of one source: their versions must differ and
    exactly one must say `current = true`. Returns the entries with `current` settled (False for
    the unmarked releases of a source with several); a ConfigError names the entries."""
    by_id: dict[str, list[tuple[int, SourceConfig]]] = {}
    for index, source in enumerate(sources):
        by_id.setdefault(source.id, []).append((index, source))
    settled = list(sources)
    for source_id, entries in by_id.items():
        if len(entries) == 1:
            settled[entries[0][0]] = dataclasses.replace(entries[0][1], current=True)
            continue
        named = ", ".join(f"[[sources]] #{i + 1} (version {s.version!r})" for i, s in entries)
        versions = [s.version for _, s in entries]
        if len(set(versions)) < len(versions):
            raise ConfigError(
                f"{origin}: source {source_id!r} lists one version twice: {named}; "
                "give each release its own version"
            )
        marked = [s for _, s in entries if s.current]
        if len(marked) != 1:
            how = "none is" if not marked else f"{len(marked)} are"
            raise ConfigError(
                f"{origin}: source {source_id!r} has {len(entries)} releases, {named}, and "
                f"{how} marked current; put `current = true` on exactly one of them"
            )
    return tuple(settled)


def read_config(path: Path) -> tuple[dict[str, Any], tuple[SourceConfig, ...]]:
    """Read `kll-graph.toml`: its `[settings]` table (converted) and its `[[sources]]`."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(document) - {"settings", "sources"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown table(s) {', '.join(sorted(unknown))}; allowed: settings, sources"
        )
    values = {
        name: _convert(name, value, f"{path} [settings]")
        for name, value in document.get("settings", {}).items()
    }
    raw_sources = document.get("sources", [])
    sources = tuple(_source(entry, i, str(path)) for i, entry in enumerate(raw_sources))
    return values, check_releases(sources, str(path))


def find_config(env: Mapping[str, str]) -> Path | None:
    """`$KLL_CONFIG`, else `./kll-graph.toml`, else the repository's own, else none."""
    if env.get(f"{ENV_PREFIX}CONFIG"):
        return Path(env[f"{ENV_PREFIX}CONFIG"])
    for candidate in (Path.cwd() / CONFIG_NAME, REPO_ROOT / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Layer defaults, the config file, `KLL_*` variables and explicit overrides (flags).

    Overrides that are None are ignored, so CLI options can be passed straight through.
    """
    env = os.environ if env is None else env
    path = config_file or find_config(env)
    values: dict[str, Any] = {}
    sources: tuple[SourceConfig, ...] = ()
    if path is not None:
        values, sources = read_config(path)
    for f in declared():
        key = ENV_PREFIX + f.name.upper()
        if env.get(key):
            values[f.name] = _convert(f.name, env[key], f"environment variable {key}")
    for name, value in overrides.items():
        if value is not None:
            values[name] = _convert(name, value, f"option --{name.replace('_', '-')}")
    return Settings(**values, sources=sources, config_file=path)
