"""Score a whole CASP-style target set: jobs, worker, result rows, resumable CSV output."""

from __future__ import annotations

import csv
import dataclasses
import functools
from pathlib import Path

import numpy as np

from foldkit.errors import FoldkitError
from foldkit.io.atomic import atomic_writer
from foldkit.eval.casp import ModelFile, Reference
from foldkit.eval.scores import native_lddt_pairs, score_structures
from foldkit.eval.search import CURVE_CUTOFFS
from foldkit.protein import Protein

SCORE_COLUMNS = ("target", "domain", "model", "group", "model_index", "gdt_ts", "gdt_ha", "tm_score", "lddt",
                 "lddt_ca", "rmsd_ca", "n_common")
KEY_COLUMNS = ("target", "domain", "model", "model_index")
CURVE_COLUMNS = KEY_COLUMNS + tuple(f"{c:g}" for c in CURVE_CUTOFFS)


def row_key(row: dict) -> tuple[str, str, str, str]:
    """Identity of a result row (what resume compares)."""
    return tuple(str(row[k]) for k in KEY_COLUMNS)


@dataclasses.dataclass
class FileResult:
    """What one model file produced: score rows, GDT curve rows, (path, message) problems, pairs skipped."""

    rows: list[dict]
    curves: list[dict]
    problems: list[tuple[str, str]]
    skipped: int = 0


@functools.lru_cache(maxsize=32)
def load_reference(path: Path, residue_ranges: tuple[tuple[int, int], ...] | None) -> tuple[Protein, tuple]:
    """A native, cut to ``residue_ranges`` when given, and its lDDT pairs (cached per process)."""
    from foldkit.io.structure import read_structure

    native = read_structure(path)
    if residue_ranges:
        numbers = native.residue_index
        keep = np.zeros(len(native), dtype=bool)
        for lo, hi in residue_ranges:
            keep |= (numbers >= lo) & (numbers <= hi)
        native = native.select(keep)
    return native, native_lddt_pairs(native)


def _fmt(value: float, digits: int) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def score_model_file(model_file: ModelFile, done: frozenset = frozenset(), align: bool = False,
                     force: bool = False) -> FileResult:
    """Score every model in one file against each of its references; never raises on bad input."""
    from foldkit.io.structure import read_ts_models

    result = FileResult(rows=[], curves=[], problems=[])
    name = model_file.name
    try:
        models = read_ts_models(model_file.path)
    except FoldkitError as exc:
        result.problems.append((str(model_file.path), str(exc)))
        return result
    if not models:
        result.problems.append((str(model_file.path), "no models in file"))
        return result
    for number, model in models:
        index = name.model_index if (len(models) == 1 and name.model_index is not None) else number
        model_name = name.stem if len(models) == 1 else name.with_model(index)
        for ref in model_file.references:
            key = (name.target, ref.domain, model_name, str(index))
            if key in done:
                result.skipped += 1
                continue
            try:
                native, lddt_refs = load_reference(ref.path, ref.residue_ranges)
                scores = score_structures(model, native, align=align, force=force, lddt_references=lddt_refs,
                                          model_name=str(model_file.path), native_name=_ref_label(ref))
            except FoldkitError as exc:
                result.problems.append((str(model_file.path), f"vs {ref.unit}: {exc}"))
                continue
            base = dict(zip(KEY_COLUMNS, key))
            result.rows.append({**base, "group": name.group, "gdt_ts": _fmt(scores.gdt_ts, 2),
                                "gdt_ha": _fmt(scores.gdt_ha, 2), "tm_score": _fmt(scores.tm_score, 4),
                                "lddt": _fmt(scores.lddt, 4), "lddt_ca": _fmt(scores.lddt_ca, 4),
                                "rmsd_ca": _fmt(scores.rmsd_ca, 3), "n_common": str(scores.n_common)})
            result.curves.append({**base, **{f"{c:g}": _fmt(p, 2) for c, p in scores.gdt_cutoffs.items()}})
    return result


def _ref_label(ref: Reference) -> str:
    return str(ref.path) + (f" (cut to {ref.unit})" if ref.residue_ranges else "")


def read_rows(path: Path, columns: tuple[str, ...]) -> list[dict]:
    """Rows of an earlier output CSV (empty when absent); rows lacking a column are dropped."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not set(KEY_COLUMNS) <= set(reader.fieldnames):
            return []
        return [row for row in reader if all(row.get(c) is not None for c in columns)]


def write_rows_atomic(path: Path, rows: list[dict], columns: tuple[str, ...]) -> None:
    """Write a CSV through a temporary file in the same folder and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=_sort_key)
    with atomic_writer(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _sort_key(row: dict) -> tuple:
    index = str(row.get("model_index", ""))
    return (row.get("target", ""), row.get("domain", ""), row.get("group", ""), row.get("model", ""),
            int(index) if index.isdigit() else 0)
