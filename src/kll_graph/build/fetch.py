"""`kll-graph fetch`: download a source's official files into the data directory.

For the JobTech Taxonomy, version N of each dataset file is published at
``{url}version/{N}/query/{name}/{name}.json`` (the source's `url` in `kll-graph.toml`, by default
https://data.jobtechdev.se/taxonomy/). Each file is downloaded to ``<name>.json.part`` and renamed
into place only when complete and valid JSON, so a half-written file is never read by a build.
Downloads have a timeout, are retried with backoff on network errors and 5xx answers, and resume
where they stopped (HTTP Range) both within one run and across runs. The sha256, size and URL of
every file land in ``fetch-manifest.json`` next to the files; a file whose checksum still matches
the manifest for the same version is not downloaded again. Files that fail are named, each with
its reason, after the others have been fetched.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kll_graph.digest import sha256_file
from kll_graph.exceptions import ConfigError, FetchError
from kll_graph.settings import Settings, SourceConfig

Progress = Callable[[str], None]

#: The official JobTech dataset files (without `.json`), as in ../shared/data/jobtech.
JOBTECH_DATASETS: tuple[str, ...] = (
    "concept-types",
    "concepts-describing-occupation-experience-in-years",
    "concepts-describing-working-hours",
    "countries",
    "eu-regions",
    "isco-level-4-groups",
    "keyword-concepts-with-relations",
    "keyword-concepts",
    "languages",
    "occupations-with-no-edcuational-requirements",
    "self-employment-type-concepts",
    "skills",
    "sni-hierarchy",
    "sni-level-1",
    "sni-level-2",
    "sni-level-3",
    "sni-level-4",
    "sni-level-5",
    "ssyk-level-1-groups",
    "ssyk-level-2-groups",
    "ssyk-level-4-groups-with-related-occupations",
    "ssyk-level-4-groups",
    "ssyk-level-4-with-related-isco-level-4-groups",
    "substitutability-relations-between-occupations",
    "sun-field-hierarchy-level-1",
    "sun-field-hierarchy-level-2",
    "sun-field-hierarchy-level-3",
    "sun-field-hierarchy",
    "sun-level-hierarchy-level-2",
    "sun-level-hierarchy-level-3",
    "sun-level-hierarchy",
    "the-ssyk-hierarchy-with-occupations",
    "wage-type-concepts",
)
#: The complete per-version dump; fetched when asked for by name (`--file`).
JOBTECH_DUMP = "concepts-and-common-relations"
DEFAULT_JOBTECH_URL = "https://data.jobtechdev.se/taxonomy/"
MANIFEST = "fetch-manifest.json"
PART = ".part"
CHUNK = 1 << 16
USER_AGENT = "kll-graph-fetch"


def jobtech_url(base_url: str, version: str, name: str) -> str:
    """The URL of one JobTech dataset file of one taxonomy version.

    >>> jobtech_url("https://data.jobtechdev.se/taxonomy/", "31", "skills")
    'https://data.jobtechdev.se/taxonomy/version/31/query/skills/skills.json'
    """
    base = base_url if base_url.endswith("/") else base_url + "/"
    return f"{base}version/{version}/query/{name}/{name}.json"


@dataclass
class FetchedFile:
    """One file that is in place: downloaded, resumed, or already there unchanged."""

    name: str
    url: str
    path: Path
    sha256: str
    size: int
    status: str


@dataclass
class FileFailure:
    """One file that could not be fetched, and why."""

    name: str
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason} ({self.url})"


@dataclass
class FetchResult:
    """What a fetch did."""

    source: str
    version: str
    dest: Path
    files: list[FetchedFile] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)

    @property
    def manifest_path(self) -> Path:
        return self.dest / MANIFEST


class TransientError(Exception):
    """A failure worth retrying (network trouble, a 5xx answer, a cut-off body)."""


class PermanentError(Exception):
    """A failure that retrying will not fix (404, a body that is not JSON)."""


@dataclass
class Downloader:
    """Downloads one URL to a file with timeout, retries with backoff, and resume."""

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    progress: Progress = lambda message: None

    def download(self, url: str, target: Path) -> str:
        """Fetch `url` into `target` (via `target.part`); returns "downloaded" or "resumed"."""
        part = target.with_name(target.name + PART)
        resumed = False
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                wait = self.backoff * 2 ** (attempt - 1)
                self.progress(
                    f"{target.name}: retry {attempt}/{self.retries} in {wait:.1f} s ({last})"
                )
                time.sleep(wait)
            try:
                resumed = self._once(url, part, target.name) or resumed
                break
            except TransientError as exc:
                last = exc
        else:
            raise TransientError(f"gave up after {self.retries + 1} attempts: {last}")
        check_json(part)
        os.replace(part, target)
        return "resumed" if resumed else "downloaded"

    def _once(self, url: str, part: Path, name: str) -> bool:
        """One request; appends to `part` when the server honours the Range. True if resumed."""
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and have:
                part.unlink()  # our partial file does not fit the server's: start over
                raise TransientError("range not satisfiable; restarting from zero") from exc
            if exc.code >= 500 or exc.code in (408, 429):
                raise TransientError(f"HTTP {exc.code} {exc.reason}") from exc
            raise PermanentError(f"HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientError(f"cannot connect: {reason}") from exc
        with response:
            resuming = have > 0 and response.status == 206
            if have and not resuming:
                have = 0  # the server sent the whole file: start over
            if resuming:
                self.progress(f"{name}: resuming at {have:,} bytes")
            self._write(response, part, have, name)
        return resuming

    def _write(self, response: Any, part: Path, have: int, name: str) -> None:
        expected = response.headers.get("Content-Length")
        total = have + int(expected) if expected is not None else None
        received = 0
        next_report = 4 << 20
        with part.open("ab" if have else "wb") as out:
            try:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    if received >= next_report:
                        self.progress(f"{name}: {have + received:,} bytes")
                        next_report += 4 << 20
            except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
                raise TransientError(f"cut off after {have + received:,} bytes: {exc!r}") from exc
        if total is not None and have + received < total:
            raise TransientError(f"cut off after {have + received:,} of {total:,} bytes")


def check_json(path: Path) -> None:
    """A downloaded body must be JSON (an HTML error page is not); else drop it."""
    try:
        with path.open("rb") as handle:
            json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        path.unlink()
        raise PermanentError(f"the server's answer is not JSON ({exc})") from exc


def read_manifest(dest: Path) -> dict[str, Any]:
    """The manifest of a download folder, or an empty one."""
    path = dest / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{path}: unreadable fetch manifest ({exc}); delete it to start over"
        ) from exc
    return document if isinstance(document, dict) else {}


def write_manifest(result: FetchResult, base_url: str) -> None:
    """Merge this run's files into the manifest (atomically)."""
    old = read_manifest(result.dest)
    files = old.get("files", {}) if old.get("version") == result.version else {}
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    for f in result.files:
        entry = {"url": f.url, "sha256": f.sha256, "bytes": f.size}
        previous = files.get(f.path.name, {})
        entry["fetched"] = previous.get("fetched", now) if f.status == "unchanged" else now
        files[f.path.name] = entry
    document = {
        "source": result.source,
        "version": result.version,
        "base_url": base_url,
        "files": dict(sorted(files.items())),
    }
    tmp = result.manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, result.manifest_path)


def _unchanged(target: Path, manifest: dict[str, Any], version: str) -> str | None:
    """The sha256 of a file already fetched for this version and untouched since, else None."""
    entry = manifest.get("files", {}).get(target.name)
    if manifest.get("version") != version or not entry or not target.is_file():
        return None
    digest = sha256_file(target)
    return digest if digest == entry.get("sha256") else None


def jobtech_source(settings: Settings) -> SourceConfig:
    """The configured source that uses the `jobtech` importer."""
    for source in settings.sources:
        if source.importer == "jobtech":
            return source
    raise ConfigError("no source with importer 'jobtech' in the configuration")


def fetch_jobtech(
    settings: Settings,
    version: str,
    *,
    names: tuple[str, ...] = (),
    dest: Path | None = None,
    base_url: str | None = None,
    force: bool = False,
    downloader: Downloader | None = None,
    progress: Progress = lambda message: None,
) -> FetchResult:
    """Download version `version` of the JobTech dataset files; raise FetchError naming failures.

    `names` picks files (default: every dataset file; `concepts-and-common-relations` is the
    complete dump). `dest` defaults to the jobtech source's path in the data directory.
    """
    version = str(version).strip()
    if not version.isdigit():
        raise ConfigError(
            f"--version must be a taxonomy version number such as 31, got {version!r}"
        )
    source = jobtech_source(settings)
    base = base_url or source.url or DEFAULT_JOBTECH_URL
    folder = dest or source.resolve(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = tuple(n.removesuffix(".json") for n in names) or JOBTECH_DATASETS
    loader = downloader or Downloader(progress=progress)
    loader.progress = progress
    manifest = {} if force else read_manifest(folder)
    result = FetchResult(source.id, version, folder)
    for i, name in enumerate(wanted, 1):
        url = jobtech_url(base, version, name)
        target = folder / f"{name}.json"
        progress(f"[{i}/{len(wanted)}] {name}.json")
        digest = _unchanged(target, manifest, version)
        status = "unchanged"
        if digest is None:
            try:
                status = loader.download(url, target)
            except (TransientError, PermanentError, OSError) as exc:
                result.failures.append(FileFailure(f"{name}.json", url, str(exc)))
                progress(f"{name}.json: FAILED: {exc}")
                continue
            digest = sha256_file(target)
        result.files.append(FetchedFile(name, url, target, digest, target.stat().st_size, status))
    write_manifest(result, base)
    if result.failures:
        raise FetchError(result.failures, result)
    return result
