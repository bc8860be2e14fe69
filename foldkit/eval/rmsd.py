"""RMSD after optimal superposition: CA atoms and all common heavy atoms."""

from __future__ import annotations

import numpy as np

from foldkit.eval.superpose import superposed_rmsd


def ca_rmsd(model_ca: np.ndarray, native_ca: np.ndarray) -> float:
    """CA RMSD [A] of matched pairs [N, 3] after Kabsch superposition on all of them (CASP RMS_CA)."""
    return superposed_rmsd(np.asarray(model_ca, dtype=np.float64), np.asarray(native_ca, dtype=np.float64))


def all_atom_rmsd(model_positions: np.ndarray, model_mask: np.ndarray, native_positions: np.ndarray,
                  native_mask: np.ndarray) -> float:
    """RMSD [A] over every atom37 slot present in both (matched residues [K, 37, 3] / [K, 37]).

    Superposed on those same atoms; symmetric side-chain names are taken as written.
    """
    both = (np.asarray(model_mask) > 0) & (np.asarray(native_mask) > 0)     # [K, 37]
    return superposed_rmsd(np.asarray(model_positions, dtype=np.float64)[both],
                           np.asarray(native_positions, dtype=np.float64)[both])
