"""Resume state and atomic output files of a prediction run.

Every file is written to a temporary name in its folder and renamed into
place (``os.replace``), so a reader never sees half a file. A record is
finished when its marker ``finished.json`` exists; it is written last and
holds the record's summary row plus the settings that produced it. A re-run
skips finished records (unless ``--overwrite``), refuses to mix settings in
one output folder, and removes temporary files a killed run left behind.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_write_bytes, atomic_write_text, is_stale_temporary  # noqa: F401

FINISHED_MARKER = "finished.json"
SUMMARY_FILE = "summary.csv"
SUMMARY_COLUMNS = ("id", "length", "best_model", "mean_plddt", "ptm", "seconds", "folder", "iptm",
                   "ranking_confidence")


# --------------------------------------------------------------------------- atomic writes

def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        return _json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def atomic_write_json(path: str | os.PathLike, value: Any, indent: int | None = 1) -> None:
    text = json.dumps(_json_ready(value), indent=indent, separators=None if indent else (",", ":"))
    atomic_write_bytes(path, (text + "\n").encode())


def atomic_write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Arrays as npz (refusing object arrays: the file must load without pickle)."""
    for key, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise ValueError(f"array {key!r} has object dtype")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write_bytes(path, buffer.getvalue())


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files (``.<name>.<random>.tmp``) a killed run left in ``folder``."""
    removed = []
    if folder.is_dir():
        for path in folder.iterdir():
            if is_stale_temporary(path):
                path.unlink()
                removed.append(path)
    return removed


_OUTPUT_FILES = re.compile(r"^(ranked_\d+\.pdb|ranked_0\.cif|model_.+_seed_-?\d+\.pdb|"
                           r"(scores|pae|confidence)_model_.+_seed_-?\d+\.json|ranking_debug\.json|timings\.json|"
                           r"plddt\.png|pae\.png|msa_coverage\.png|features\.npz|msa\.a3m|finished\.json)$")


def clear_record_outputs(folder: Path) -> list[Path]:
    """Delete the files a previous (unfinished or overwritten) prediction wrote; other files are kept."""
    marker = folder / FINISHED_MARKER
    if marker.is_file():
        marker.unlink()          # first: a folder without its marker is never taken as finished
    removed = remove_temporaries(folder)
    if folder.is_dir():
        for path in folder.iterdir():
            if _OUTPUT_FILES.match(path.name) and path.is_file():
                path.unlink()
                removed.append(path)
    return removed


# --------------------------------------------------------------------------- records

@dataclasses.dataclass(frozen=True)
class SummaryRow:
    """One line of ``summary.csv``: the record's best prediction (for a complex, ``length`` is the residue
    count of all chains, ``iptm`` its interface pTM; ``ranking_confidence`` is what ranked it: 0.8 ipTM +
    0.2 pTM for a complex, else pTM, else mean pLDDT)."""

    id: str
    length: int
    best_model: str
    mean_plddt: float
    ptm: float | None
    seconds: float
    folder: str
    iptm: float | None = None
    ranking_confidence: float | None = None

    def as_csv(self) -> list[str]:
        def number(value: float | None) -> str:
            return "" if value is None else f"{value:.4f}"

        return [self.id, str(self.length), self.best_model, f"{self.mean_plddt:.2f}", number(self.ptm),
                f"{self.seconds:.1f}", self.folder, number(self.iptm), number(self.ranking_confidence)]


def finished_state(record_dir: Path) -> dict | None:
    """The marker content of a finished record, or None when it is not finished."""
    marker = record_dir / FINISHED_MARKER
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None  # cannot happen with atomic writes; treat as unfinished


def check_same_settings(record_dir: Path, state: Mapping, settings: Mapping) -> None:
    """A finished record made with other settings is an error (mixing would make the folder lie)."""
    previous = state.get("settings", {})
    changed = sorted(k for k in set(previous) | set(settings) if previous.get(k) != settings.get(k))
    if changed:
        details = "; ".join(f"{k}: {previous.get(k)!r} -> {settings.get(k)!r}" for k in changed)
        raise InputError(f"this record was predicted with other settings ({details}); pass --overwrite to "
                         "redo it or choose another output folder", path=str(record_dir))


def write_finished(record_dir: Path, row: SummaryRow, settings: Mapping) -> None:
    atomic_write_json(record_dir / FINISHED_MARKER, {"summary": dataclasses.asdict(row), "settings": settings})


def summary_row_of(state: Mapping) -> SummaryRow:
    return SummaryRow(**state["summary"])


def write_summary(outdir: Path, rows: Iterable[SummaryRow]) -> Path:
    """``summary.csv`` (one row per finished record), atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow(row.as_csv())
    path = outdir / SUMMARY_FILE
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path
