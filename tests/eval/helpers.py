"""Synthetic structures for the evaluator tests."""

from __future__ import annotations

import numpy as np

from foldkit import constants as rc
from foldkit.protein import Protein


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random proper rotation [3, 3]."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def chain_ca(n: int, rng: np.random.Generator) -> np.ndarray:
    """A compact random-walk CA trace [n, 3] with 3.8 A steps."""
    steps = rng.normal(size=(n, 3))
    steps = 3.8 * steps / np.linalg.norm(steps, axis=1, keepdims=True)
    xyz = np.cumsum(steps, axis=0)
    return xyz - xyz.mean(0)


def protein_from_ca(ca: np.ndarray, sequence: str | None = None, start: int = 1) -> Protein:
    """A CA-only (plus CB for non-Gly) Protein."""
    n = len(ca)
    sequence = sequence or "A" * n
    pos = np.zeros((n, 37, 3))
    mask = np.zeros((n, 37))
    pos[:, rc.ATOM_ORDER["CA"]] = ca
    mask[:, rc.ATOM_ORDER["CA"]] = 1
    aatype = np.array([rc.RESTYPE_ORDER[a] for a in sequence])
    return Protein(aatype=aatype, atom_positions=pos, atom_mask=mask, residue_index=np.arange(start, start + n))
