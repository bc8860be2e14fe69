"""Shared inputs of the viz tests: example structures, pLDDT patterns, py3Dmol call parsing,
a foldkit predict record folder written in its documented layout."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np

from foldkit.io.structure import read_structure, write_pdb
from foldkit.protein import Protein
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "structures"
NATIVE = EXAMPLES / "T1030-D2.pdb"
MODEL = EXAMPLES / "T1030TS427_1-D2.pdb"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def with_plddt(protein: Protein, plddt: np.ndarray) -> Protein:
    """``protein`` with per-residue pLDDT [L] in the B-factors of its present atoms."""
    return protein.replace(b_factors=(np.asarray(plddt, np.float32)[:, None] * protein.atom_mask).astype(np.float32))


def stepped_plddt(n: int) -> np.ndarray:
    """[n] values cycling through all four bands and their exact boundaries (90, 70, 50 belong below)."""
    pattern = np.array([95.0, 90.0, 80.0, 70.0, 60.0, 50.0, 30.0, 90.01])
    return pattern[np.arange(n) % len(pattern)]


def example_native(plddt: np.ndarray | None = None) -> Protein:
    protein = read_structure(NATIVE)
    return protein if plddt is None else with_plddt(protein, plddt)


def viewer_calls(js: str, method: str) -> list[list]:
    """JSON arguments of every ``viewer_...<method>(...)`` call py3Dmol recorded in ``js``."""
    calls = []
    pattern = re.compile(r"viewer(?:grid)?_UNIQUEID(?:\[\d+\]\[\d+\])?\." + method + r"\((.*)\);$")
    for line in js.splitlines():
        match = pattern.search(line.strip())
        if match:
            calls.append(json.loads(f"[{match.group(1)}]"))
    return calls


def png_pixels(png: bytes) -> np.ndarray:
    """[H, W, C] float pixels of PNG bytes."""
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def rotated(protein: Protein, angle: float = 0.7, shift=(5.0, -3.0, 2.0)) -> Protein:
    """A rigidly moved copy (rotation about z, then translation)."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    moved = protein.atom_positions.astype(np.float64) @ rot.T + np.asarray(shift)
    return protein.replace(atom_positions=(moved * protein.atom_mask[..., None]).astype(np.float32))


def write_prediction_folder(folder: Path, n_models: int = 3, with_pae: bool = True) -> dict:
    """A record folder in the ``foldkit predict`` layout: ranked_<k>.pdb (pLDDT in B-factors),
    scores_<name>.json, pae_<name>.json (AlphaFold DB format), ranking_debug.json.

    ranked_k is the native moved rigidly (so overlays can be checked) with its own pLDDT; returns
    what was written: names (best first), plddt and pae per name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    native = read_structure(NATIVE)
    n = len(native)
    rng = np.random.default_rng(0)
    names = [f"model_{k + 1}_ptm_seed_0" for k in range(n_models)]
    ptms = {name: 0.8 - 0.1 * k for k, name in enumerate(names)}
    written = {"names": names, "plddt": {}, "pae": {}, "ptm": ptms}
    for rank, name in enumerate(names):
        plddt = np.round(np.clip(85 - 15 * rank + 12 * np.sin(np.arange(n) / 7.0), 5, 99), 2)
        protein = with_plddt(rotated(native, angle=0.4 * rank, shift=(3.0 * rank, 0.0, 0.0)), plddt)
        write_pdb(protein, folder / f"ranked_{rank}.pdb")
        pae = np.round(rng.uniform(0.5, 25.0, (n, n)), 2)
        scores = {"model": name.rsplit("_seed_", 1)[0], "seed": 0, "msa_mode": "single_sequence",
                  "plddt": plddt.tolist(), "mean_plddt": round(float(plddt.mean()), 2), "ptm": ptms[name],
                  "max_pae": 31.75 if with_pae else None, "ranking_confidence": ptms[name]}
        (folder / f"scores_{name}.json").write_text(json.dumps(scores))
        if with_pae:
            (folder / f"pae_{name}.json").write_text(json.dumps(
                [{"predicted_aligned_error": pae.tolist(), "max_predicted_aligned_error": 31.75}]))
        written["plddt"][name] = plddt
        written["pae"][name] = pae
    ranking = {"ranking_metric": "ptm", "plddts": {k: float(v.mean()) for k, v in written["plddt"].items()},
               "ptm": ptms, "order": names}
    (folder / "ranking_debug.json").write_text(json.dumps(ranking))
    return written
