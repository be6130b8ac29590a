"""The `kll-graph` command line: thin verbs that parse, call one domain function and print.

Every verb reads the same layered settings (defaults → kll-graph.toml → KLL_* → flags); our own
errors (KllError) print as one line and exit 1, never as a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kll_graph.build.fetch import Downloader, fetch_jobtech
from kll_graph.build.pipeline import build as run_build
from kll_graph.build.pipeline import ensure_built
from kll_graph.build.summary import build_summary, graphs_table
from kll_graph.changes import recheck
from kll_graph.changes import report as change_report
from kll_graph.changes.log import ChangeLog
from kll_graph.changes.releases import releases
from kll_graph.exceptions import ConfigError, KllError, MatcherError
from kll_graph.mappings.checks import check_report
from kll_graph.mappings.coverage import coverage, coverage_json, coverage_text
from kll_graph.mappings.evaluation import (
    EVALUATED,
    TABLE_SOURCES,
    evaluate,
    figures_text,
    format_models,
    official_truth,
)
from kll_graph.mappings.matcher import DEFAULT_TYPES, read_vocabularies, suggest
from kll_graph.mappings.matcher import TYPES as MATCH_TYPES
from kll_graph.mappings.official_tables import (
    conversion_summary,
    convert_to_file,
    default_set_id,
)
from kll_graph.mappings.suggestions import (
    candidate_set,
    check_writable,
    reviewed_pairs,
    reviewed_subjects,
    write_candidates,
)
from kll_graph.quality.registry import parse_severities
from kll_graph.quality.render import render
from kll_graph.quality.run import current_report
from kll_graph.replica.dump import write_dump
from kll_graph.replica.launch import exec_replica
from kll_graph.replica.load import load_dump
from kll_graph.review.users import ROLES, TURN_ON, Users
from kll_graph.server import run
from kll_graph.settings import Settings, declared, load_settings
from kll_graph.sparql.query import execute, serialize
from kll_graph.store import CurrentStore, embedded_store


class KllGroup(click.Group):
    """A click group that turns KllError into a clean message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KllError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def progress_printer() -> Callable[[str], None]:
    """Progress lines on stderr, prefixed with the seconds since the command started."""
    started = time.perf_counter()

    def show(message: str) -> None:
        click.echo(f"[{time.perf_counter() - started:6.1f}s] {message}", err=True)

    return show


def settings_from(ctx: click.Context, **flags: Any) -> Settings:
    """Settings for this invocation: the group's --config plus the verb's own flags."""
    config = ctx.find_root().params.get("config")
    return load_settings(config_file=config, **flags)


data_dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Directory holding the sources."
)
store_option = click.option(
    "--store", type=click.Path(path_type=Path), help="Directory of the built stores."
)
mappings_dir_option = click.option(
    "--mappings-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory of the SSSOM mapping sets (the review workbench writes here).",
)


@click.group(cls=KllGroup)
@click.option(
    "--config",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="kll-graph.toml to read (default: ./kll-graph.toml, then the repository's).",
)
@click.version_option(package_name="kll-graph")
def main(config: Path | None) -> None:
    """kll-graph: the JobTech Taxonomy, ESCO and their mappings as a SKOS knowledge graph."""


@main.command()
@data_dir_option
@store_option
@mappings_dir_option
@click.option("--strict", is_flag=True, default=None, help="Fail the build on check errors.")
@click.option(
    "--dump",
    "dump_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also write the new build as a dump into DIR/<build id>/ (see `kll-graph dump`).",
)
@click.pass_context
def build(
    ctx: click.Context,
    data_dir: Path | None,
    store: Path | None,
    mappings_dir: Path | None,
    strict: bool | None,
    dump_dir: Path | None,
) -> None:
    """Build a new store from the configured sources and switch to it."""

    settings = settings_from(
        ctx, data_dir=data_dir, store=store, mappings_dir=mappings_dir, strict=strict
    )
    result = run_build(settings, progress=progress_printer())
    click.echo(build_summary(result.manifest))
    if dump_dir is not None:
        _echo_dump(write_dump(result.path, dump_dir).path)


def _echo_dump(path: Path) -> None:
    click.echo(f"dump written and verified: {path}")


@main.command(name="dump")
@store_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory to write the dump into (as OUT/<build id>/).",
)
@click.pass_context
def dump_command(ctx: click.Context, store: Path | None, out: Path) -> None:
    """Write the current build as a dump: gzipped N-Quads, artifacts, checksummed manifest."""
    settings = settings_from(ctx, store=store)
    _echo_dump(write_dump(CurrentStore(settings.store).get().path, out).path)


@main.group()
def replica() -> None:
    """Engine replicas: load a dump, serve it with no outbound network."""


@replica.command(name="load")
@click.argument("dump", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--location",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="New directory for the replica's engine store (must not exist).",
)
def replica_load(dump: Path, location: Path) -> None:
    """Verify DUMP's checksums, bulk-load it into LOCATION, check the per-graph counts."""
    result = load_dump(dump, location)
    click.echo(
        f"loaded build {result.manifest.build_id} into {result.location}: "
        f"{sum(result.counts.values()):,} triples in {len(result.counts)} graphs, "
        "as the manifest says"
    )


@replica.command(name="serve")
@click.option(
    "--location",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    required=True,
    help="A directory loaded by `kll-graph replica load`.",
)
@click.option("--bind", default="127.0.0.1:7878", show_default=True, help="HOST:PORT to listen on.")
@click.option(
    "--timeout-s",
    type=float,
    help="Seconds a query may run before the engine stops it (default: the query_timeout setting).",
)
@click.pass_context
def replica_serve(ctx: click.Context, location: Path, bind: str, timeout_s: float | None) -> None:
    """Become `oxigraph serve-read-only` on LOCATION, unable to open outbound connections."""
    settings = settings_from(ctx)
    exec_replica(location, bind, timeout_s if timeout_s is not None else settings.query_timeout)


@main.command()
@data_dir_option
@store_option
@mappings_dir_option
@click.option("--host", help="Host to listen on.")
@click.option("--port", type=int, help="Port to listen on; 0 picks a free one.")
@click.option(
    "--backend",
    help="Read the graph from these SPARQL endpoints (comma-separated replica URLs) instead of "
    "the built store.",
)
@click.option(
    "--backend-dump",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --backend: the dump directory of the build the replicas serve (its artifacts).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    data_dir: Path | None,
    store: Path | None,
    mappings_dir: Path | None,
    host: str | None,
    port: int | None,
    backend: str | None,
    backend_dump: Path | None,
) -> None:
    """Serve the current store over HTTP (building first when there is none), or with
    --backend, serve the graph of SPARQL replicas with the artifacts of --backend-dump."""

    settings = settings_from(
        ctx,
        data_dir=data_dir,
        store=store,
        mappings_dir=mappings_dir,
        host=host,
        port=port,
        backend=backend,
        backend_dump=backend_dump,
    )
    if not settings.backend:
        ensure_built(settings, progress=progress_printer())
    run(settings, announce=lambda url: click.echo(f"kll-graph listening on {url}", err=False))


def _read_query(text: str) -> str:
    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read query file {path}: {exc.strerror}") from exc
    return text


@main.command()
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "xml", "csv", "tsv", "ttl", "nt", "jsonld", "rdfxml", "nq", "trig"]),
    help="Result format (default: tsv for SELECT/ASK, ttl for CONSTRUCT/DESCRIBE).",
)
@click.argument("query")
@click.pass_context
def query(ctx: click.Context, store: Path | None, fmt: str | None, query: str) -> None:
    """Run one SPARQL QUERY (text, @file.rq, or - for stdin) on the current store."""

    settings = settings_from(ctx, store=store)
    current = CurrentStore(settings.store).get()
    result = execute(current.store, _read_query(query))
    serialize(result, fmt, sys.stdout.buffer)
    sys.stdout.flush()


@main.command()
@store_option
@click.pass_context
def info(ctx: click.Context, store: Path | None) -> None:
    """List the graphs of the current store, from its catalog."""

    settings = settings_from(ctx, store=store)
    click.echo(graphs_table(CurrentStore(settings.store).get()))


@main.command(name="changes")
@click.argument("source")
@click.option("--from", "from_version", help="The older release (default: the newest pair's).")
@click.option("--to", "to_version", help="The newer release (default: the newest pair's).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(change_report.FORMATS),
    default="text",
    show_default=True,
)
@click.option("--kind", help="Only changes of this kind (added, removed, relabelled, ...).")
@click.option("--limit", type=int, default=50, show_default=True, help="Changes listed (text).")
@store_option
@click.pass_context
def changes_command(
    ctx: click.Context,
    source: str,
    from_version: str | None,
    to_version: str | None,
    fmt: str,
    kind: str | None,
    limit: int,
    store: Path | None,
) -> None:
    """What changed between two releases of a source (computed at build time)."""
    settings = settings_from(ctx, store=store)
    served = CurrentStore(settings.store).get()
    log = ChangeLog.load(served.path)
    pair = change_report.find_pair(releases(served.manifest), log, source, from_version, to_version)
    concepts, mappings_ = change_report.select(log, pair, change_report.check_kind(kind))
    if fmt == "json":
        click.echo(change_report.as_json(pair, concepts, mappings_))
    elif fmt == "csv":
        click.echo(change_report.as_csv(concepts, mappings_), nl=False)
    else:
        click.echo(change_report.as_text(pair, concepts, mappings_, limit or None))


@main.command(name="check")
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="text: summary and first findings; json: everything; html: a page.",
)
@click.option("--strict", is_flag=True, help="Exit non-zero on warnings too (errors always do).")
@click.option(
    "--severity",
    "severities",
    multiple=True,
    metavar="CHECK=LEVEL",
    help="Override a check's severity (error, warning, info or off); repeatable.",
)
@click.option(
    "--rerun", is_flag=True, help="Run the checks again instead of reading the build's report."
)
@click.option("--limit", type=int, default=10, show_default=True, help="Findings per check (text).")
@click.pass_context
def check_command(
    ctx: click.Context,
    store: Path | None,
    fmt: str,
    strict: bool,
    severities: tuple[str, ...],
    rerun: bool,
    limit: int,
) -> None:
    """Report what is wrong in the current store's vocabularies and mappings; exit 1 on errors."""

    settings = settings_from(ctx, store=store)
    report = current_report(settings, rerun=rerun, severities=parse_severities(severities))
    click.echo(render(report, fmt, limit=limit))
    if report.problems(strict=strict):
        ctx.exit(1)


@main.command(name="settings")
@click.pass_context
def show_settings(ctx: click.Context) -> None:
    """Show every setting with its effective value and help."""
    settings = settings_from(ctx)
    click.echo(f"# config file: {settings.config_file or '(none)'}")
    for field in declared():
        click.echo(
            f"{field.name} = {getattr(settings, field.name)!s}    # {field.metadata['help']}"
        )
    for source in settings.sources:
        click.echo(f"source {source.id}: {source.importer} {source.path} ({source.version})")


@main.group()
def mappings() -> None:
    """Mapping sets (SSSOM): convert official tables, check sets, measure coverage."""


@mappings.command(name="import-esco-table")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The .sssom.tsv file to write.",
)
@click.option("--set-id", help="mapping_set_id (default: {base_iri}mappings/{output name}).")
@click.option("--license", "license_", help="Licence IRI of the set (default: unspecified).")
@click.pass_context
def mappings_import_esco_table(
    ctx: click.Context,
    files: tuple[Path, ...],
    output: Path,
    set_id: str | None,
    license_: str | None,
) -> None:
    """Convert ESCO mapping-tool CSV exports (FILE...) into one SSSOM set, JobTech first."""

    settings = settings_from(ctx)
    name = output.name.removesuffix(".tsv").removesuffix(".sssom")
    set_iri = set_id or default_set_id(settings.base_iri, name)
    mset, tables = convert_to_file(list(files), output, set_iri, license=license_ or "")
    click.echo(conversion_summary(mset, tables), err=True)
    click.echo(f"wrote {output}", err=True)


_format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


@mappings.command(name="check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@data_dir_option
@store_option
@click.option("--no-store", is_flag=True, help="Skip the checks against the loaded vocabularies.")
@_format_option
@click.pass_context
def mappings_check(
    ctx: click.Context,
    files: tuple[Path, ...],
    data_dir: Path | None,
    store: Path | None,
    no_store: bool,
    fmt: str,
) -> None:
    """Check mapping sets (FILE..., default: every set a build compiles); exit 1 on errors."""

    settings = settings_from(ctx, data_dir=data_dir, store=store)
    report = check_report(settings, list(files), use_store=not no_store)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(report.to_text())
    if report.errors:
        ctx.exit(1)


@mappings.command(name="coverage")
@store_option
@_format_option
@click.option(
    "--limit",
    type=int,
    default=10,
    show_default=True,
    help="Unmapped concepts listed per type (text; json lists all unless given).",
)
@click.pass_context
def mappings_coverage(ctx: click.Context, store: Path | None, fmt: str, limit: int) -> None:
    """How many JobTech and ESCO concepts of each mapped type have a mapping, and which not."""

    settings = settings_from(ctx, store=store)
    report = coverage(CurrentStore(settings.store).get().store, settings.base_iri)
    if fmt == "json":
        explicit = ctx.get_parameter_source("limit") == click.core.ParameterSource.COMMANDLINE
        data = coverage_json(report, limit if explicit else None)
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        click.echo(coverage_text(report, limit))


@mappings.command(name="recheck")
@store_option
@_format_option
@click.pass_context
def mappings_recheck(ctx: click.Context, store: Path | None, fmt: str) -> None:
    """The mappings whose concepts were deprecated, removed, relabelled or moved since the
    release their set names (change log, else the set's own record against the current one)."""
    settings = settings_from(ctx, store=store)
    found = recheck.served_recheck(CurrentStore(settings.store).get())
    if fmt == "json":
        data = {"counts": recheck.counts(found), "mappings": [r.json() for r in found]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        click.echo(recheck.as_text(found))


def _types(text: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in names if t not in MATCH_TYPES]
    if unknown or not names:
        raise MatcherError(
            f"unknown type {', '.join(unknown) or '(none)'} in --types; "
            f"choose from {', '.join(MATCH_TYPES)}"
        )
    return names


@mappings.command(name="suggest")
@store_option
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("candidates.sssom.tsv"),
    show_default=True,
    help="SSSOM/TSV file to write (replaced atomically).",
)
@click.option(
    "--types",
    "types_text",
    default=",".join(DEFAULT_TYPES),
    show_default=True,
    help="JobTech concept types to match, comma-separated.",
)
@click.option("--per-subject", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Leave out candidates below this confidence.",
)
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Also match concepts that already have a reviewed mapping in a set of the store.",
)
@click.pass_context
def mappings_suggest(
    ctx: click.Context,
    store: Path | None,
    out: Path,
    types_text: str,
    per_subject: int,
    min_confidence: float,
    include_all: bool,
) -> None:
    """Propose ESCO candidates for JobTech concepts, with their evidence, as an SSSOM set."""
    types = _types(types_text)
    check_writable(out)
    settings = settings_from(ctx, store=store)
    served = CurrentStore(settings.store).get()
    progress = progress_printer()
    vocabularies = read_vocabularies(embedded_store(served), settings.base_iri, types, progress)
    skip = set() if include_all else reviewed_subjects(served.store)
    result = suggest(
        vocabularies,
        types,
        per_subject=per_subject,
        min_confidence=min_confidence,
        skip=skip,
        reviewed=reviewed_pairs(served.store),
        progress=progress,
    )
    mset = candidate_set(result, served.manifest, types)
    write_candidates(mset, out)
    skipped = ", ".join(f"{n:,} {t}" for t, n in result.skipped.items() if n)
    click.echo(
        f"{len(mset.mappings):,} candidates written to {out}"
        + (f" (skipped, already reviewed: {skipped}; --all to include them)" if skipped else "")
    )


@mappings.command(name="evaluate")
@data_dir_option
@store_option
@click.option(
    "--build",
    "build_first",
    is_flag=True,
    help="First build a store without the official tables into --store.",
)
@click.option("--fit", "fit_weights", is_flag=True, help="Refit the weights on the fit half.")
@click.option("--fit-calibration", is_flag=True, help="Refit only the calibration on the fit half.")
@click.option(
    "--cross", is_flag=True, help="Also measure two-fold (fit on each half, measure the other)."
)
@_format_option
@click.pass_context
def mappings_evaluate(
    ctx: click.Context,
    data_dir: Path | None,
    store: Path | None,
    build_first: bool,
    fit_weights: bool,
    fit_calibration: bool,
    cross: bool,
    fmt: str,
) -> None:
    """Measure the candidates against Sweden's official tables (on a store built without them)."""
    settings = settings_from(ctx, data_dir=data_dir, store=store)
    progress = progress_printer()
    if build_first:
        without = tuple(s for s in settings.sources if s.id not in TABLE_SOURCES)
        run_build(settings.replace(sources=without), progress=progress)
    served = CurrentStore(settings.store).get()
    present = sorted({g.source for g in served.manifest.graphs} & set(TABLE_SOURCES))
    if present:
        raise MatcherError(
            f"the store in {settings.store} holds the official tables ({', '.join(present)}); "
            "evaluate on a store built without them: add --build and a new --store"
        )
    types = tuple(EVALUATED)
    vocabularies = read_vocabularies(embedded_store(served), settings.base_iri, types, progress)
    truth = official_truth(settings, vocabularies)
    refit = fit_weights or fit_calibration
    result = evaluate(
        vocabularies,
        truth,
        fit_weights=refit,
        keep_weights=fit_calibration and not fit_weights,
        cross=cross,
        progress=progress,
    )
    if fmt == "json":
        fitted = {
            name: {"weights": m.weights, "knots": m.knots} for name, m in result.fitted.items()
        }
        data = {"figures": [f.as_dict() for f in result.figures], "fitted": fitted}
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    click.echo(figures_text(result))
    if refit:
        click.echo("\n" + format_models(result.fitted))


@main.group(name="users")
@click.option(
    "--users-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The users file (default: the users_file setting, KLL_USERS_FILE).",
)
def users_group(users_file: Path | None) -> None:
    """Accounts of the review workbench: add, list, remove, change roles, issue API tokens."""


def _users(ctx: click.Context) -> Users:
    """The users file of this invocation: the group's --users-file, else the setting."""
    flag = ctx.parent.params.get("users_file") if ctx.parent else None
    return Users(settings_from(ctx, users_file=flag).users_file)


def _read_password(stdin: bool) -> str:
    """The password from standard input (one trailing newline dropped); never from an argument,
    where it would end up in the shell history and the process list."""
    if not stdin:
        raise click.UsageError(
            "give the password on standard input and say so with --password-stdin, e.g. "
            "`printf '%s' \"$PASSWORD\" | kll-graph users add NAME --role editor "
            "--password-stdin` (at a terminal it is asked for without echo)"
        )
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    text = sys.stdin.read()
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


@users_group.command(name="add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--orcid", help="The user's ORCID iD; their decisions are signed with it.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_add(
    ctx: click.Context, name: str, role: str, orcid: str | None, password_stdin: bool
) -> None:
    """Add user NAME with a role (the first user creates the users file: the workbench is on)."""
    password = _read_password(password_stdin)
    users = _users(ctx)
    user = users.add(name, role, password, orcid=orcid)
    click.echo(f"added {user.name} ({user.role}) to {users.path}", err=True)


@users_group.command(name="token")
@click.argument("name")
@click.pass_context
def users_token(ctx: click.Context, name: str) -> None:
    """Issue an API token for NAME (for `Authorization: Bearer`); printed once, stored hashed."""
    users = _users(ctx)
    token = users.issue_token(name)
    click.echo(token)
    click.echo(
        f"this token for {name} will not be shown again (only its hash is kept in {users.path});"
        " keep it somewhere safe",
        err=True,
    )


@users_group.command(name="list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List the users: name, role, ORCID and how many API tokens each has."""
    users = _users(ctx)
    if not users.exists():
        click.echo(f"no users file at {users.path}: the workbench is off; `{TURN_ON}`", err=True)
        return
    rows = [("name", "role", "orcid", "tokens")]
    rows += [(u.name, u.role, u.orcid or "-", str(users.token_count(u.name))) for u in users.list()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for name, role, orcid, tokens in rows:
        padded = (
            cell.ljust(width) for cell, width in zip((name, role, orcid), widths, strict=True)
        )
        click.echo("  ".join((*padded, tokens)))


@users_group.command(name="remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Remove user NAME with their tokens; their sign-ins end at their next request."""
    users = _users(ctx)
    users.remove(name)
    click.echo(f"removed {name} from {users.path}", err=True)


@users_group.command(name="role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def users_role(ctx: click.Context, name: str, role: str) -> None:
    """Give user NAME another ROLE (viewer, editor, reviewer, admin)."""
    users = _users(ctx)
    user = users.set_role(name, role)
    click.echo(f"{user.name} is now {user.role}", err=True)


@main.command()
@click.argument("source", type=click.Choice(["jobtech"]))
@click.option("--version", "taxonomy_version", required=True, help="Taxonomy version, e.g. 31.")
@data_dir_option
@click.option(
    "--dest", type=click.Path(path_type=Path), help="Folder to write to (default: the source's)."
)
@click.option("--base-url", help="Download base URL (default: the source's url).")
@click.option(
    "--file",
    "files",
    multiple=True,
    help="Only this file (repeatable), e.g. skills or concepts-and-common-relations "
    "(the complete dump).",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per read.")
@click.option("--retries", type=int, default=3, show_default=True, help="Retries per file.")
@click.option("--force", is_flag=True, help="Download again even if the checksum matches.")
@click.pass_context
def fetch(
    ctx: click.Context,
    source: str,
    taxonomy_version: str,
    data_dir: Path | None,
    dest: Path | None,
    base_url: str | None,
    files: tuple[str, ...],
    timeout: float,
    retries: int,
    force: bool,
) -> None:
    """Download the official files of SOURCE (jobtech) at one version into the data directory."""

    settings = settings_from(ctx, data_dir=data_dir)
    result = fetch_jobtech(
        settings,
        taxonomy_version,
        names=files,
        dest=dest,
        base_url=base_url,
        force=force,
        downloader=Downloader(timeout=timeout, retries=retries),
        progress=progress_printer(),
    )
    for f in result.files:
        click.echo(f"{f.status:<10} {f.size:>12,}  {f.sha256}  {f.path.name}")
    click.echo(f"{len(result.files)} file(s) in {result.dest}; checksums in {result.manifest_path}")
    configured = next(s.version for s in settings.sources if s.importer == "jobtech")
    if configured != result.version:
        click.echo(
            f'note: set version = "{result.version}" for the jobtech source in kll-graph.toml '
            f'(now "{configured}") so the graph and catalog name this version'
        )
