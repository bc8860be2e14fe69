"""Score a whole CASP-style target set: jobs, worker, result rows, resumable CSV output.

Monomer units are scored by :func:`score_model_file` (one row per model and reference); assembly units
(CASP oligomer names: ``H1106TS427_1`` against ``natives/H1106.pdb``, ``T1106TS427_1o`` against
``natives/T1106o.pdb``) by :func:`score_complex_file` (one row per model plus one row per native interface).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import os
import re
from pathlib import Path

import numpy as np

from foldkit.errors import FoldkitError
from foldkit.io.atomic import atomic_writer
from foldkit.eval.casp import ModelFile, ModelName, Reference, structure_stem
from foldkit.eval.scores import native_lddt_pairs, score_structures
from foldkit.eval.search import CURVE_CUTOFFS
from foldkit.protein import Protein

SCORE_COLUMNS = ("target", "domain", "model", "group", "model_index", "gdt_ts", "gdt_ha", "tm_score", "lddt",
                 "lddt_ca", "rmsd_ca", "n_common")
KEY_COLUMNS = ("target", "domain", "model", "model_index")
CURVE_COLUMNS = KEY_COLUMNS + tuple(f"{c:g}" for c in CURVE_CUTOFFS)
# assembly (complex) units: CASP oligomer model names and their units
OLIGOMER_MODEL = re.compile(r"^(?P<target>[TH]\d{4})TS(?P<group>\d{3})(?:_(?P<model>\d+))?(?P<oligo>o)?$")


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
    interfaces: list[dict] = dataclasses.field(default_factory=list)   # complex units: one row per interface


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


# ---------------------------------------------------------------------------------------------- assemblies

@dataclasses.dataclass(frozen=True)
class ComplexModelFile:
    """A model file of an assembly unit (``name.target`` is the unit, e.g. T1106o or H1106) and its native."""

    path: Path
    name: ModelName
    native: Path


def complex_score_columns() -> tuple[str, ...]:
    from foldkit.eval.complex.report import COMPLEX_COLUMNS

    return SCORE_COLUMNS + tuple(c for c in COMPLEX_COLUMNS if c not in SCORE_COLUMNS)


def interface_columns() -> tuple[str, ...]:
    from foldkit.eval.complex.report import INTERFACE_COLUMNS

    return KEY_COLUMNS + ("group",) + INTERFACE_COLUMNS


def plan_complex_set(models_dir: str | os.PathLike, natives_dir: str | os.PathLike
                     ) -> tuple[list[ComplexModelFile], list[tuple[Path, str]]]:
    """Model files named for an assembly unit (``H1106TS427_1``, ``T1106TS427_1o``) whose native
    (``H1106.pdb``, ``T1106o.pdb``) exists. Returns (files, problems: ``o`` models without native)."""
    natives = {}
    for path in sorted(Path(natives_dir).rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            natives.setdefault(structure_stem(path), path)
    files, problems = [], []
    for path in sorted(Path(models_dir).rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        match = OLIGOMER_MODEL.match(structure_stem(path))
        if not match or (match["target"].startswith("T") and not match["oligo"]):
            continue
        unit = match["target"] + ("o" if match["oligo"] else "")
        name = ModelName(stem=structure_stem(path), target=unit, group=match["group"],
                         model_index=None if match["model"] is None else int(match["model"]), domain="")
        if unit in natives:
            files.append(ComplexModelFile(path=path, name=name, native=natives[unit]))
        elif match["oligo"]:      # H models without an assembly native are left to the monomer planning
            problems.append((path, f"no assembly reference {unit} found in {natives_dir}"))
    return files, problems


@functools.lru_cache(maxsize=8)
def load_complex_reference(path: Path):
    """A native assembly and its precomputed scoring data (cached per process)."""
    from foldkit.eval.complex.scoring import TargetData
    from foldkit.eval.complex.structure import read_complex

    return TargetData.of(read_complex(path))


def score_complex_file(model_file: ComplexModelFile, done: frozenset = frozenset()) -> FileResult:
    """Score every model of one assembly model file against its native; never raises on bad input."""
    from foldkit.eval.complex.report import complex_row, interface_rows
    from foldkit.eval.complex.scoring import score_complex
    from foldkit.eval.complex.structure import complex_from_chains
    from foldkit.io.structure import read_structure_file

    result = FileResult(rows=[], curves=[], problems=[])
    name = model_file.name
    try:
        structure = read_structure_file(model_file.path)
        numbers = structure.model_numbers
        target = load_complex_reference(model_file.native)
    except FoldkitError as exc:
        result.problems.append((str(model_file.path), str(exc)))
        return result
    for number in numbers:
        index = name.model_index if (len(numbers) == 1 and name.model_index is not None) else number
        model_name = name.stem if len(numbers) == 1 else f"{name.stem.split('TS')[0]}TS{name.group}_{index}" + (
            "o" if name.target.endswith("o") else "")
        key = (name.target, "", model_name, str(index))
        if key in done:
            result.skipped += 1
            continue
        try:
            model = complex_from_chains(structure.chains(number), name=str(model_file.path))
            scores = score_complex(model, target, per_chain=False)
        except FoldkitError as exc:
            result.problems.append((str(model_file.path), f"vs {model_file.native.name}: {exc}"))
            continue
        base = {**dict(zip(KEY_COLUMNS, key)), "group": name.group}
        result.rows.append({**base, "gdt_ts": _fmt(100.0 * scores.rigid.gdt_ts, 2),
                            "gdt_ha": _fmt(100.0 * scores.rigid.gdt_ha, 2), "tm_score": _fmt(scores.tm.tm_score, 4),
                            "lddt": _fmt(scores.lddt.lddt.score, 4), "lddt_ca": _fmt(scores.lddt.bb_lddt.score, 4),
                            "rmsd_ca": _fmt(scores.rigid.rmsd, 3), "n_common": str(scores.rigid.n_pairs),
                            **complex_row(scores)})
        result.interfaces.extend({**base, **row} for row in interface_rows(scores))
    return result
