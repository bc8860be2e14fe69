"""The casp_benchmark report: per-target and per-model summaries, plots, report.md and report.html.

Reads what ``foldkit score-set`` wrote (scores.csv, summary.csv, gdt_curves.png),
the model index of each target (which foldkit model and seed each CASP model
is, with its pLDDT) and domains.tsv (CASP classification of each unit).

Where one model was submitted both full-length and trimmed to a domain
(``T1084TS427_1`` and ``T1084TS427_1-D1``), both score the domain; the
summaries keep the trimmed one (the file CASP assessed) so no model counts
twice. scores.csv keeps every pair.

Used by the rule ``report`` (``script:``); :func:`write_report` also works on
its own.
"""

import base64
import csv
import dataclasses
import html
import shutil
import statistics
from datetime import datetime, timezone
from pathlib import Path

SCORE_FIELDS = ("gdt_ts", "gdt_ha", "tm_score", "lddt", "lddt_ca", "rmsd_ca")


@dataclasses.dataclass(frozen=True)
class ScoredModel:
    """One (model, evaluation unit) row of scores.csv with what the index knows about the model."""

    unit: str            # T1084-D1 or T1084
    target: str
    domain: str
    model: str           # CASP model name (file stem)
    group: str
    model_index: int
    scores: dict         # SCORE_FIELDS -> float
    source_model: str    # foldkit model + seed (predictions) or TS<group>_<n> (existing models)
    mean_plddt: float | None


@dataclasses.dataclass(frozen=True)
class Table:
    """A titled table: column names and rows of already formatted cells."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


def read_index(paths: list[Path]) -> dict[str, dict]:
    """model name -> index row (from collect_models)."""
    index = {}
    for path in paths:
        with Path(path).open(newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                index[row["model"]] = row
    return index


def read_domains(path: Path | None) -> dict[str, dict]:
    """unit -> domains.tsv row; {} without a file."""
    if path is None or not Path(path).is_file():
        return {}
    with Path(path).open(newline="") as handle:
        return {row["unit"]: row for row in csv.DictReader(handle, delimiter="\t") if row.get("unit")}


def read_scores(path: Path, index: dict[str, dict]) -> list[ScoredModel]:
    """Rows of scores.csv, joined with the model index."""
    rows = []
    with Path(path).open(newline="") as handle:
        for row in csv.DictReader(handle):
            if not row.get("gdt_ts"):
                continue   # a pair that failed to score
            entry = index.get(row["model"], {})
            plddt = entry.get("mean_plddt") or ""
            rows.append(ScoredModel(
                unit=row["target"] + (f"-{row['domain']}" if row["domain"] else ""), target=row["target"],
                domain=row["domain"], model=row["model"], group=row["group"],
                model_index=int(row["model_index"] or 1),
                scores={field: float(row[field]) for field in SCORE_FIELDS if row.get(field)},
                source_model=entry.get("source_model") or f"TS{row['group']}_{row['model_index'] or 1}",
                mean_plddt=float(plddt) if plddt else None))
    return rows


def assessed(rows: list[ScoredModel]) -> list[ScoredModel]:
    """One row per (group, model number, unit): a domain-trimmed file wins over the full-length one."""
    chosen: dict[tuple, ScoredModel] = {}
    for row in rows:
        key = (row.group, row.model_index, row.unit)
        trimmed = "-D" in row.model
        if key not in chosen or (trimmed and "-D" not in chosen[key].model):
            chosen[key] = row
    return sorted(chosen.values(), key=lambda r: (r.target, r.domain, r.group, r.model_index))


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _fmt(value, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def per_target(rows: list[ScoredModel], domains: dict[str, dict]) -> list[dict]:
    """One summary row per (evaluation unit, group)."""
    groups: dict[tuple[str, str], list[ScoredModel]] = {}
    for row in rows:
        groups.setdefault((row.unit, row.group), []).append(row)
    summary = []
    for (unit, group), members in groups.items():
        best = max(members, key=lambda r: r.scores["gdt_ts"])
        first = min(members, key=lambda r: r.model_index)
        info = domains.get(unit, {})
        summary.append({
            "unit": unit, "target": members[0].target, "domain": members[0].domain,
            "classification": info.get("classification", ""), "native_residues": info.get("native_n_residues", ""),
            "group": group, "models": len(members),
            "model1": first.model, "model1_gdt_ts": _fmt(first.scores["gdt_ts"]),
            "model1_plddt": _fmt(first.mean_plddt),
            "best_model": best.model, "best_gdt_ts": _fmt(best.scores["gdt_ts"]),
            "mean_gdt_ts": _fmt(_mean([r.scores["gdt_ts"] for r in members])),
            "best_gdt_ha": _fmt(max(r.scores.get("gdt_ha", 0.0) for r in members)),
            "best_tm_score": _fmt(max(r.scores.get("tm_score", 0.0) for r in members), 4),
            "best_lddt": _fmt(max(r.scores.get("lddt", 0.0) for r in members), 4),
        })
    return summary


def per_model(rows: list[ScoredModel]) -> list[dict]:
    """One summary row per predictor model: (group, source model), averaged over the units it was scored on."""
    groups: dict[tuple[str, str], list[ScoredModel]] = {}
    for row in rows:
        groups.setdefault((row.group, row.source_model), []).append(row)
    summary = []
    for (group, source_model), members in sorted(groups.items()):
        gdt = [r.scores["gdt_ts"] for r in members]
        plddts = [r.mean_plddt for r in members if r.mean_plddt is not None]
        summary.append({
            "group": group, "model": source_model, "units": len({r.unit for r in members}),
            "targets": len({r.target for r in members}),
            "mean_gdt_ts": _fmt(_mean(gdt)), "median_gdt_ts": _fmt(statistics.median(gdt)),
            "mean_gdt_ha": _fmt(_mean([r.scores["gdt_ha"] for r in members if "gdt_ha" in r.scores])),
            "mean_tm_score": _fmt(_mean([r.scores["tm_score"] for r in members if "tm_score" in r.scores]), 4),
            "mean_lddt": _fmt(_mean([r.scores["lddt"] for r in members if "lddt" in r.scores]), 4),
            "mean_rmsd_ca": _fmt(_mean([r.scores["rmsd_ca"] for r in members if "rmsd_ca" in r.scores]), 3),
            "mean_plddt": _fmt(_mean(plddts)),
        })
    return summary


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with Path(path).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def plot_gdt_by_unit(rows: list[dict], path: Path) -> None:
    """Grouped bars: model-1 GDT_TS of every unit, one colour per group."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    units = sorted({r["unit"] for r in rows})
    groups = sorted({r["group"] for r in rows})
    width = 0.8 / max(len(groups), 1)
    figure, axes = plt.subplots(figsize=(max(4.0, 0.6 * len(units) * max(len(groups), 1) + 2), 3.6))
    for offset, group in enumerate(groups):
        values = {r["unit"]: float(r["model1_gdt_ts"]) for r in rows if r["group"] == group}
        xs = [i + (offset - (len(groups) - 1) / 2) * width for i in range(len(units))]
        axes.bar(xs, [values.get(u, 0.0) for u in units], width=width, label=f"group {group}")
    axes.set_xticks(range(len(units)), units, rotation=45, ha="right")
    axes.set_ylim(0, 100)
    axes.set_ylabel("GDT_TS of model 1")
    axes.set_title("GDT_TS per evaluation unit")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def read_group_summary(path: Path) -> Table:
    with Path(path).open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [row for row in reader if row]
    return Table("Groups (foldkit score-set summary, CASP z-scores)", header, rows,
                 "sum_z: sum over units of the per-unit z-score of GDT_TS (CASP style); 0 with a single group.")


def _table_of(title: str, rows: list[dict], columns: list[str], note: str = "") -> Table:
    return Table(title, columns, [[str(r.get(c, "")) for c in columns] for r in rows], note)


def markdown(tables: list[Table], facts: list[str], images: list[tuple[str, str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["# foldkit CASP benchmark", ""] + [f"- {fact}" for fact in facts] + [""]
    for table in tables:
        lines += [f"## {table.title}", ""]
        if table.note:
            lines += [table.note, ""]
        lines.append("| " + " | ".join(map(cell, table.columns)) + " |")
        lines.append("|" + "---|" * len(table.columns))
        lines += ["| " + " | ".join(map(cell, row)) + " |" for row in table.rows]
        lines.append("")
    for caption, file_name in images:
        lines += [f"## {caption}", "", f"![{caption}]({file_name})", ""]
    return "\n".join(lines)


def html_page(tables: list[Table], facts: list[str], images: list[tuple[str, Path]]) -> str:
    """One self-contained page: tables, facts and the PNGs embedded as base64."""
    esc = html.escape
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<title>foldkit CASP benchmark</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:80em}"
             "table{border-collapse:collapse;margin-bottom:1.5em;font-size:90%}"
             "th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}"
             "th{background:#eee}td:first-child,th:first-child{text-align:left}"
             "img{max-width:100%;border:1px solid #ddd}</style></head><body>",
             "<h1>foldkit CASP benchmark</h1>", "<ul>"]
    parts += [f"<li>{esc(fact)}</li>" for fact in facts]
    parts.append("</ul>")
    for table in tables:
        parts.append(f"<h2>{esc(table.title)}</h2>")
        if table.note:
            parts.append(f"<p>{esc(table.note)}</p>")
        parts.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in table.columns) + "</tr></thead>")
        parts.append("<tbody>" + "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                                         for row in table.rows) + "</tbody></table>")
    for caption, path in images:
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        parts.append(f"<h2>{esc(caption)}</h2><img alt=\"{esc(caption)}\" src=\"data:image/png;base64,{data}\">")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


PER_TARGET_COLUMNS = ["unit", "target", "domain", "classification", "native_residues", "group", "models",
                      "model1", "model1_gdt_ts", "model1_plddt", "best_model", "best_gdt_ts", "mean_gdt_ts",
                      "best_gdt_ha", "best_tm_score", "best_lddt"]
PER_MODEL_COLUMNS = ["group", "model", "targets", "units", "mean_gdt_ts", "median_gdt_ts", "mean_gdt_ha",
                     "mean_tm_score", "mean_lddt", "mean_rmsd_ca", "mean_plddt"]


def write_report(scores: Path, group_summary: Path, curves_png: Path, index_files: list[Path],
                 domains: Path | None, targets: list[str], outputs: dict[str, Path]) -> dict:
    """Write every report file; ``outputs`` keys: md, html, per_target, per_model, curves, by_unit.

    Returns counts for the log.
    """
    index = read_index(index_files)
    all_rows = read_scores(scores, index)
    if not all_rows:
        raise SystemExit(f"{scores}: no scored model")
    rows = assessed(all_rows)
    targets_rows = sorted(per_target(rows, read_domains(domains)), key=lambda r: (r["target"], r["domain"], r["group"]))
    model_rows = per_model(rows)
    for path in outputs.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_csv(outputs["per_target"], targets_rows, PER_TARGET_COLUMNS)
    write_csv(outputs["per_model"], model_rows, PER_MODEL_COLUMNS)
    shutil.copyfile(curves_png, outputs["curves"])
    plot_gdt_by_unit(targets_rows, outputs["by_unit"])

    scored_targets = sorted({r.target for r in rows})
    missing = [t for t in targets if t not in scored_targets]
    facts = [f"generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"targets ({len(scored_targets)}): {', '.join(scored_targets)}",
             f"evaluation units: {len({r.unit for r in rows})}; scored pairs in scores.csv: {len(all_rows)} "
             f"({len(rows)} after keeping one file per model and unit)",
             f"groups: {', '.join(sorted({r.group for r in rows}))}"]
    if missing:
        facts.append(f"targets without any scored model: {', '.join(missing)}")
    tables = [
        read_group_summary(group_summary),
        _table_of("Per model", model_rows, PER_MODEL_COLUMNS,
                  "Averages over the evaluation units each predictor model was scored on. GDT 0-100, "
                  "TM-score and lDDT 0-1, RMSD in Å; pLDDT is foldkit's own confidence (predictions only)."),
        _table_of("Per target (evaluation unit)", targets_rows, PER_TARGET_COLUMNS,
                  "model1: the top-ranked model of the group; best: highest GDT_TS among its models."),
    ]
    images = [("GDT_TS of model 1 per evaluation unit", Path(outputs["by_unit"])),
              ("GDT curves (fraction of residues under each distance cutoff)", Path(outputs["curves"]))]
    Path(outputs["md"]).write_text(markdown(tables, facts, [(c, Path(p).name) for c, p in images]))
    Path(outputs["html"]).write_text(html_page(tables, facts, images))
    return {"pairs": len(all_rows), "assessed": len(rows), "targets": len(scored_targets)}


if "snakemake" in globals():
    smk = globals()["snakemake"]
    counts = write_report(
        scores=Path(smk.input.scores), group_summary=Path(smk.input.summary), curves_png=Path(smk.input.curves_png),
        index_files=[Path(p) for p in smk.input.index], domains=Path(smk.input.domains[0]) if smk.input.domains else None,
        targets=list(smk.params.targets),
        outputs={key: Path(getattr(smk.output, key)) for key in ("md", "html", "per_target", "per_model", "curves",
                                                                 "by_unit")})
    Path(smk.log[0]).write_text(f"report: {counts}\n")
