"""Gather the models of one target under CASP names, plus an index of where each came from.

foldkit's ``ranked_<i>.pdb`` (best first) become ``<TARGET>TS<group>_<i+1>.pdb``;
existing CASP-named files are copied under their own names. The index
(tab-separated: ``model``, ``group``, ``model_index``, ``source``,
``source_model``, ``rank``, ``mean_plddt``, ``ptm``) lets the report tell which
foldkit model and seed each CASP model is. Used by the rule ``collect_models``
(``script:``).
"""

import csv
import json
import shutil
import sys
from pathlib import Path

INDEX_COLUMNS = ["model", "group", "model_index", "source", "source_model", "rank", "mean_plddt", "ptm"]


def _parse_name(stem: str):
    from foldkit.eval.casp import parse_model_name
    return parse_model_name(stem)


def predicted_models(record_dir: Path, target: str, group: str, max_models: int) -> list[tuple[Path, dict]]:
    """(ranked file, index row) for the first ``max_models`` ranked models of a foldkit record folder."""
    ranking = json.loads((record_dir / "ranking_debug.json").read_text())
    order = ranking["order"]
    chosen = []
    for rank, source_model in enumerate(order[:max_models]):
        ranked = record_dir / f"ranked_{rank}.pdb"
        if not ranked.is_file():
            raise SystemExit(f"{ranked} missing (foldkit output incomplete?)")
        ptm = ranking.get("ptm", {}).get(source_model)
        chosen.append((ranked, {
            "model": f"{target}TS{group}_{rank + 1}", "group": group, "model_index": rank + 1,
            "source": str(ranked), "source_model": source_model, "rank": rank,
            "mean_plddt": f"{ranking['plddts'][source_model]:.2f}",
            "ptm": "" if ptm is None else f"{ptm:.4f}"}))
    return chosen


def existing(paths: list[Path]) -> list[tuple[Path, dict]]:
    """(file, index row) for existing CASP-named model files (kept under their own names)."""
    from foldkit.eval.casp import structure_stem
    chosen = []
    for path in paths:
        name = _parse_name(structure_stem(path))
        chosen.append((path, {
            "model": name.stem, "group": name.group, "model_index": name.model_index or "",
            "source": str(path), "source_model": f"TS{name.group}_{name.model_index or 1}", "rank": "",
            "mean_plddt": "", "ptm": ""}))
    return chosen


def collect(target: str, group: str, max_models: int, record_dir: Path | None, existing_paths: list[Path],
            models_dir: Path, index_path: Path) -> int:
    """Write ``models_dir/<CASP name>.pdb`` files and the index; returns the number of models."""
    chosen = (predicted_models(record_dir, target, group, max_models) if record_dir else []) + existing(existing_paths)
    if not chosen:
        raise SystemExit(f"{target}: no model to score (no prediction and no existing model file)")
    models_dir.mkdir(parents=True, exist_ok=True)
    seen: dict[str, str] = {}
    for source, row in chosen:
        destination = models_dir / f"{row['model']}.pdb"
        if row["model"] in seen:
            raise SystemExit(f"{target}: two models are named {row['model']}: {seen[row['model']]} and {source} "
                             "(choose another group code)")
        seen[row["model"]] = str(source)
        shutil.copyfile(source, destination)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    with index_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=INDEX_COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for _, row in chosen)
    return len(chosen)


if "snakemake" in globals():
    smk = globals()["snakemake"]
    ranked = smk.input.get("ranking")
    count = collect(target=smk.wildcards.target, group=str(smk.params.group), max_models=int(smk.params.max_models),
                    record_dir=Path(ranked).parent if ranked else None,
                    existing_paths=[Path(p) for p in smk.input.get("existing", [])],
                    models_dir=Path(smk.output.models), index_path=Path(smk.output.index))
    Path(smk.log[0]).write_text(f"{smk.wildcards.target}: {count} models -> {smk.output.models}\n")
elif __name__ == "__main__":
    sys.exit("run through the casp_benchmark workflow (rule collect_models)")
