"""Read a ``foldkit predict`` record folder for viewing.

Layout used (see foldkit.predict.outputs): ``ranked_<k>.pdb`` best first
(pLDDT in the B-factors), ``ranking_debug.json`` whose ``order`` names the
prediction behind each rank, ``scores_<name>.json`` (``plddt``, ``mean_plddt``,
``ptm``) and ``pae_<name>.json`` in the AlphaFold DB format (written only for
models with a PAE head). Only ``ranked_*.pdb`` is required; pLDDT falls back
to the B-factors when a scores file is missing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from foldkit.errors import InputError
from foldkit.io.structure import read_structure
from foldkit.protein import Protein
from foldkit.viz.colors import residue_plddt

RANKED_PATTERN = re.compile(r"^ranked_(\d+)\.pdb$")


@dataclasses.dataclass(frozen=True)
class RankedModel:
    """One ranked prediction of a record."""

    rank: int
    name: str                 # prediction name ('model_1_ptm_seed_0') or the file stem
    path: Path
    protein: Protein          # b_factors = pLDDT
    plddt: np.ndarray         # [L] 0-100
    pae: np.ndarray | None    # [L, L] Å, None without a PAE file
    max_pae: float | None
    ptm: float | None

    @property
    def mean_plddt(self) -> float:
        return float(np.mean(self.plddt))

    @property
    def label(self) -> str:
        ptm = "" if self.ptm is None else f", pTM {self.ptm:.2f}"
        return f"rank {self.rank}: {self.name} (pLDDT {self.mean_plddt:.1f}{ptm})"


@dataclasses.dataclass(frozen=True)
class PredictionFolder:
    path: Path
    models: tuple[RankedModel, ...]   # best first
    ranking_metric: str | None


def _load_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read: {error}", path=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg}", path=str(path), line=error.lineno,
                         column=error.colno) from None


def read_pae_json(path: Path) -> tuple[np.ndarray, float]:
    """(PAE [L, L], max PAE) from an AlphaFold DB PAE file (current or the older residue1/residue2 form)."""
    content = _load_json(path)
    entry = content[0] if isinstance(content, list) and content else content
    if not isinstance(entry, dict):
        raise InputError("expected a list with one object (AlphaFold DB PAE format)", path=str(path))
    if "predicted_aligned_error" in entry:
        try:
            pae = np.asarray(entry["predicted_aligned_error"], dtype=np.float32)
        except (TypeError, ValueError):
            raise InputError("'predicted_aligned_error' is not a numeric matrix", path=str(path)) from None
    elif {"residue1", "residue2", "distance"} <= set(entry):
        r1 = np.asarray(entry["residue1"], dtype=np.int64)
        r2 = np.asarray(entry["residue2"], dtype=np.int64)
        n = int(max(r1.max(initial=0), r2.max(initial=0)))
        pae = np.zeros((n, n), dtype=np.float32)
        pae[r1 - 1, r2 - 1] = np.asarray(entry["distance"], dtype=np.float32)
    else:
        raise InputError("no 'predicted_aligned_error' matrix (AlphaFold DB PAE format)", path=str(path))
    if pae.ndim != 2 or pae.shape[0] != pae.shape[1]:
        raise InputError(f"PAE matrix has shape {pae.shape}, expected square [L, L]", path=str(path))
    max_pae = entry.get("max_predicted_aligned_error")
    return pae, float(max_pae) if max_pae is not None else float(pae.max(initial=0.0))


def _ranked_files(folder: Path) -> list[tuple[int, Path]]:
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := RANKED_PATTERN.match(p.name))]
    return sorted(found)


def read_prediction_folder(outdir: str | Path, max_models: int | None = None) -> PredictionFolder:
    """The ranked models of one ``foldkit predict`` record folder, best first."""
    folder = Path(outdir)
    if not folder.is_dir():
        raise InputError("not a folder (expected a foldkit predict output folder)", path=str(folder))
    ranked = _ranked_files(folder)
    if not ranked:
        records = sorted(p.name for p in folder.iterdir() if p.is_dir() and _ranked_files(p))
        hint = (f"; it holds record folders, pick one: {', '.join(records[:8])}" if records
                else " (expected ranked_0.pdb, ... from foldkit predict)")
        raise InputError(f"no ranked_*.pdb files{hint}", path=str(folder))
    ranking_path = folder / "ranking_debug.json"
    ranking = _load_json(ranking_path) if ranking_path.is_file() else {}
    order = ranking.get("order", []) if isinstance(ranking, dict) else []
    models = []
    for rank, path in ranked[:max_models]:
        protein = read_structure(path)
        name = str(order[rank]) if rank < len(order) else path.stem
        scores_path = folder / f"scores_{name}.json"
        scores = _load_json(scores_path) if scores_path.is_file() else {}
        plddt = np.asarray(scores.get("plddt", residue_plddt(protein)), dtype=np.float64)
        if plddt.shape != (len(protein),):
            raise InputError(f"'plddt' has {plddt.size} values but {path.name} has {len(protein)} residues",
                             path=str(scores_path))
        pae, max_pae = None, None
        pae_path = folder / f"pae_{name}.json"
        if pae_path.is_file():
            pae, max_pae = read_pae_json(pae_path)
            if pae.shape[0] != len(protein):
                raise InputError(f"PAE is {pae.shape[0]}x{pae.shape[0]} but {path.name} has {len(protein)} "
                                 "residues", path=str(pae_path))
        ptm = scores.get("ptm")
        models.append(RankedModel(rank=rank, name=name, path=path, protein=protein, plddt=plddt, pae=pae,
                                  max_pae=max_pae, ptm=None if ptm is None else float(ptm)))
    metric = ranking.get("ranking_metric") if isinstance(ranking, dict) else None
    return PredictionFolder(path=folder, models=tuple(models), ranking_metric=metric)
