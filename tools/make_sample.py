"""Write the bundled sample (src/kll_graph/sample/) from the real data, in the real formats.

The sample is a few dozen real, linked concepts: three SSYK-4 groups (2512 software developers,
2221 nurses, 5120 cooks) with their occupation names and parents, the ISCO-08 groups they relate
to, the ESCO occupations they are mapped to, those occupations' essential skills that Sweden's
skills table maps to JobTech skills, and the mapping rows in between. Only facts are kept (ids,
labels, codes, relations); definitions and descriptions are left empty.

    python tools/make_sample.py [--data-dir ../shared/data]

Rerun it when the sample should change; the files it writes are reviewed like code.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "kll_graph" / "sample"
JT = "http://data.jobtechdev.se/taxonomy/concept/"
SSYK_GROUPS = ("2512", "2221", "5120")
MAX_SKILLS = 30
MAX_KEYWORDS = 8
#: Dump entries kept although the datasets lack them: concepts of an older release (a manager
#: in social care, legacy id 6521, that the occupation mapping table of taxonomy v18 names).
OLDER_RELEASE = ("6TQs_8i6_per",)
#: Occupations of an older release whose occupation-table rows are kept (with the ESCO concepts
#: they map to, but not those concepts' skills): the one above, and a lift operator that only the
#: table names (neither the dump nor the datasets have it).
OLDER_MAPPED = ("6TQs_8i6_per", "PNes_JEh_hiT")
csv.field_size_limit(1 << 30)
PROSE = {"definition", "description", "scopeNote", "Description", "Scope note"}


def read_text(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        return handle.read()


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(read_text(path)))
    return list(reader.fieldnames or []), list(reader)


def write_csv(path: Path, header: list[str], rows: Iterable[dict[str, str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if k in PROSE else v) for k, v in row.items()})
            count += 1
    return count


def jobtech_json(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["data"]["concepts"]  # type: ignore[no-any-return]


def prune(concept: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """A concept with prose dropped and relation lists cut to kept ids (recursively)."""
    out: dict[str, Any] = {}
    for key, value in concept.items():
        if key == "definition":
            continue
        if isinstance(value, list):
            out[key] = [prune(v, keep) for v in value if v.get("id") in keep]
        else:
            out[key] = value
    return out


def write_jobtech(path: Path, concepts: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"data": {"concepts": concepts}}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )


def walk(concepts: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Every nested concept with the ids of its ancestors."""
    stack = [(c, []) for c in concepts]
    while stack:
        concept, ancestors = stack.pop()
        yield concept, ancestors
        for child in concept.get("narrower", []):
            stack.append((child, [*ancestors, concept["id"]]))


def mapping_lines(path: Path) -> tuple[list[str], list[str]]:
    """A mapping-table export split into its preamble+header lines and its data lines, raw."""
    raw = path.read_bytes().decode("utf-8")
    lines = raw.splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if "Classification 1 URI" in line)
    return lines[: header_at + 1], lines[header_at + 1 :]


def mapping_row(line: str) -> list[str]:
    """Parse one data line, undoing the skills table's trailing ';' and quote wrapping."""
    text = line.rstrip("\r\n")
    if text.endswith(";"):
        text = text[:-1]
        if text.startswith('"') and text.endswith('"'):
            text = text[1:-1].replace('""', '"')
    return next(csv.reader([text]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    data = parser.parse_args().data_dir
    jt_dir = data / "jobtech" / "taxonomy-datasets"
    esco_dir = data / "esco" / "v1.1.1"
    shutil.rmtree(OUT / "jobtech", ignore_errors=True)
    shutil.rmtree(OUT / "esco", ignore_errors=True)

    # JobTech: the three groups, their occupation names and ancestors.
    hierarchy = jobtech_json(jt_dir / "the-ssyk-hierarchy-with-occupations.json")
    keep: set[str] = set()
    for concept, ancestors in walk(hierarchy):
        if concept.get("type") == "ssyk-level-4" and concept.get("ssyk_code_2012") in SSYK_GROUPS:
            keep.update([*ancestors, concept["id"]])
            keep.update(child["id"] for child in concept.get("narrower", []))
    occupations = {
        c["id"] for c, _ in walk(hierarchy) if c["id"] in keep and c["type"] == "occupation-name"
    }
    isco = jobtech_json(jt_dir / "ssyk-level-4-with-related-isco-level-4-groups.json")
    for concept in isco:
        if concept["id"] in keep:
            keep.update(r["id"] for r in concept.get("related", []))

    # ESCO occupations mapped to our occupation names (full URIs in the v1.1.1 table).
    occ_table = data / "jobtech" / "esco-mappings" / "SE_occupations_ESCO-1.1.1_taxonomy-v18.csv"
    occ_head, occ_lines = mapping_lines(occ_table)
    occ_kept = [ln for ln in occ_lines if any(f"{JT}{i}," in ln for i in occupations)]
    esco_occ = {mapping_row(ln)[0] for ln in occ_kept if "/esco/occupation/" in ln}
    older_kept = [ln for ln in occ_lines if any(f"{JT}{i}," in ln for i in OLDER_MAPPED)]
    occ_kept += older_kept

    # Their essential skills that Sweden's skills table maps to JobTech skills.
    _, relations = read_csv(esco_dir / "relations" / "occupationSkillRelations.csv.gz")
    essential = {
        r["skillUri"]
        for r in relations
        if r["occupationUri"] in esco_occ and r["relationType"] == "essential"
    }
    skill_table = (
        data / "jobtech" / "esco-mappings" / "SE_skills_ESCO-1.0.9_taxonomy-v21_2023-11-30.csv"
    )
    skill_head, skill_lines = mapping_lines(skill_table)
    skill_kept = []
    jt_skills: set[str] = set()
    esco_skills: set[str] = set()
    for line in skill_lines:
        row = mapping_row(line)
        if (
            len(row) > 6
            and row[0] in essential
            and row[6] in {"skos:exactMatch", "skos:closeMatch"}
        ):
            if len(esco_skills) >= MAX_SKILLS and row[0] not in esco_skills:
                continue
            skill_kept.append(line)
            esco_skills.add(row[0])
            jt_skills.add(row[3].removeprefix(JT))
    keep |= jt_skills

    substitutes = jobtech_json(jt_dir / "substitutability-relations-between-occupations.json")
    keywords = [
        c
        for c in jobtech_json(jt_dir / "keyword-concepts-with-relations.json")
        if any(r["id"] in occupations for r in c.get("related", []))
    ][:MAX_KEYWORDS]
    keep.update(c["id"] for c in keywords)

    out_jt = OUT / "jobtech" / "taxonomy-datasets"
    out_jt.mkdir(parents=True, exist_ok=True)
    (out_jt / "concept-types.json").write_text(
        (jt_dir / "concept-types.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    roots = [prune(c, keep) for c in hierarchy if c["id"] in keep]
    write_jobtech(out_jt / "the-ssyk-hierarchy-with-occupations.json", roots)
    write_jobtech(
        out_jt / "ssyk-level-4-with-related-isco-level-4-groups.json",
        [prune(c, keep) for c in isco if c["id"] in keep],
    )
    write_jobtech(
        out_jt / "isco-level-4-groups.json",
        [
            prune(c, keep)
            for c in jobtech_json(jt_dir / "isco-level-4-groups.json")
            if c["id"] in keep
        ],
    )
    write_jobtech(
        out_jt / "substitutability-relations-between-occupations.json",
        [prune(c, keep) for c in substitutes if c["id"] in keep],
    )
    write_jobtech(
        out_jt / "skills.json",
        [prune(c, keep) for c in jobtech_json(jt_dir / "skills.json") if c["id"] in keep],
    )
    write_jobtech(
        out_jt / "keyword-concepts-with-relations.json", [prune(c, keep) for c in keywords]
    )

    legacy = json.loads(
        (data / "jobtech" / "legacy-id-mapping" / "concept-to-taxonomy.json").read_text(
            encoding="utf-8"
        )
    )
    out_legacy = OUT / "jobtech" / "legacy-id-mapping" / "concept-to-taxonomy.json"
    out_legacy.parent.mkdir(parents=True, exist_ok=True)
    out_legacy.write_text(
        json.dumps(
            {k: v for k, v in legacy.items() if k in keep or k in OLDER_RELEASE},
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )

    out_maps = OUT / "jobtech" / "esco-mappings"
    out_maps.mkdir(parents=True, exist_ok=True)
    (out_maps / occ_table.name).write_bytes("".join(occ_head + occ_kept).encode("utf-8"))
    (out_maps / skill_table.name).write_bytes("".join(skill_head + skill_kept).encode("utf-8"))

    # ESCO: occupations and their ancestors, skills and theirs, relations among what is kept.
    _, occ_broader = read_csv(esco_dir / "relations" / "broaderRelationsOccPillar.csv")
    _, skill_broader = read_csv(esco_dir / "relations" / "broaderRelationsSkillPillar.csv.gz")
    esco_keep = set(esco_occ) | esco_skills | {mapping_row(ln)[0] for ln in older_kept}
    for edges in (occ_broader, skill_broader):
        changed = True
        while changed:
            before = len(esco_keep)
            esco_keep |= {e["broaderUri"] for e in edges if e["conceptUri"] in esco_keep}
            changed = len(esco_keep) != before
    out_en = OUT / "esco" / "v1.1.1" / "en"
    out_rel = OUT / "esco" / "v1.1.1" / "relations"
    for source in sorted((esco_dir / "en").iterdir()):
        header, rows = read_csv(source)
        name = source.name.removesuffix(".gz")
        if name.startswith("conceptSchemes"):
            for row in rows:
                tops = [u for u in row["hasTopConcept"].split(", ") if u.strip() in esco_keep]
                row["hasTopConcept"] = ", ".join(tops)
            kept = rows
        elif name.startswith("skillsHierarchy"):
            kept = [
                r
                for r in rows
                if any(r[f"Level {i} URI"] in esco_keep for i in range(4) if r[f"Level {i} URI"])
                and all(
                    not r[f"Level {i} URI"] or r[f"Level {i} URI"] in esco_keep for i in range(4)
                )
            ]
        else:
            kept = [r for r in rows if r["conceptUri"] in esco_keep]
        write_csv(out_en / name, header, kept)
    rel_filters = {
        "broaderRelationsOccPillar.csv": lambda r: r["conceptUri"] in esco_keep,
        "broaderRelationsSkillPillar.csv.gz": lambda r: r["conceptUri"] in esco_keep,
        "occupationSkillRelations.csv.gz": lambda r: (
            r["occupationUri"] in esco_keep and r["skillUri"] in esco_keep
        ),
        "skillSkillRelations.csv.gz": lambda r: (
            r["originalSkillUri"] in esco_keep and r["relatedSkillUri"] in esco_keep
        ),
    }
    for name, keep_row in rel_filters.items():
        header, rows = read_csv(esco_dir / "relations" / name)
        write_csv(out_rel / name.removesuffix(".gz"), header, (r for r in rows if keep_row(r)))
    header, rows = read_csv(
        data / "esco" / "derived" / "sv_preflabels_from_jobtech_mappings.csv.gz"
    )
    for row in rows:
        row["sourceFile"] = Path(row["sourceFile"]).name
    sv_plain = OUT / "esco" / "derived" / "sv_preflabels_from_jobtech_mappings.csv"
    write_csv(sv_plain, header, (r for r in rows if r["conceptUri"] in esco_keep))
    with gzip.GzipFile(sv_plain.with_suffix(".csv.gz"), "wb", mtime=0) as handle:
        handle.write(sv_plain.read_bytes())
    sv_plain.unlink()
    print(
        f"JobTech concepts {len(keep)}, ESCO concepts {len(esco_keep)}, "
        f"occupation mappings {len(occ_kept)}, skill mappings {len(skill_kept)}"
    )


if __name__ == "__main__":
    main()
