"""lDDT (local Distance Difference Test, Mariani et al. 2013), superposition-free.

Definition (as the classic OpenStructure ``lddt`` program computes it, which
reproduces CASP14's lDDT when no stereochemical filtering is applied):

* pairs: every unordered pair of heavy atoms of the *native* that belong to
  different residues and are closer than the inclusion radius (15 A);
* a pair is conserved at threshold t if both atoms exist in the model and
  |d_model - d_native| < t, for t in 0.5, 1, 2, 4 A;
* global lDDT = conserved / (4 * pairs); atoms or residues absent from the
  model make their pairs non-conserved; model residues absent from the native
  are ignored;
* per-residue lDDT: the same ratio over the pairs that involve the residue;
* symmetric side chains (ASP OD1/OD2, GLU OE1/OE2, PHE and TYR CD1/CD2 +
  CE1/CE2, ARG NH1/NH2, and, as OpenStructure does, VAL CG1/CG2 and LEU
  CD1/CD2): per residue the model naming that scores better is used (decided
  against the rest of the model in its given naming). With this the all-atom
  score reproduces OpenStructure's to 1e-4 on the reference set.

Versus CASP14's published lDDT: CASP additionally ran the stereochemistry
check (``-f``: clashes and bad bonds remove atoms); this module does not, so it
matches OpenStructure without ``-f`` (the ``lddt_allatom`` reference column),
and differs from the official two-decimal CASP value by rounding plus that
filtering (README of ../shared/scoring: 0.003 mean, 0.009 max on the CASP set).
CA-only lDDT (``ca_only=True``) is OpenStructure's ``lddt -c``.
Distances are computed in single precision (as OpenStructure does); on the
reference set this changes no count beyond the 4-decimal agreement.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from scipy.spatial import cKDTree

from foldkit import constants as rc

LDDT_THRESHOLDS = (0.5, 1.0, 2.0, 4.0)
INCLUSION_RADIUS = 15.0

# Equivalent atom names that a model may have swapped: resname -> pairs.
SYMMETRIC_ATOMS: dict[str, tuple[tuple[str, str], ...]] = {
    "ASP": (("OD1", "OD2"),),
    "GLU": (("OE1", "OE2"),),
    "PHE": (("CD1", "CD2"), ("CE1", "CE2")),
    "TYR": (("CD1", "CD2"), ("CE1", "CE2")),
    "ARG": (("NH1", "NH2"),),
    "VAL": (("CG1", "CG2"),),
    "LEU": (("CD1", "CD2"),),
}


@dataclasses.dataclass(frozen=True)
class LddtResult:
    """Global score, [L] per-residue scores (NaN where a residue has no pair), pair counts."""

    score: float
    per_residue: np.ndarray
    n_pairs: int
    n_conserved: int   # summed over the four thresholds


@functools.lru_cache(maxsize=1)
def _swap_permutations() -> np.ndarray:
    """[21, 37] atom37 permutation per restype that swaps the symmetric atom names."""
    perm = np.tile(np.arange(rc.ATOM_TYPE_NUM), (rc.UNK_INDEX + 1, 1))
    for resname, pairs in SYMMETRIC_ATOMS.items():
        aa = rc.aatype_of(resname)
        for a, b in pairs:
            ia, ib = rc.ATOM_ORDER[a], rc.ATOM_ORDER[b]
            perm[aa, ia], perm[aa, ib] = ib, ia
    return perm


@dataclasses.dataclass(frozen=True)
class NativePairs:
    """The native side of lDDT (depends on the native only; reuse it for many models).

    res_of_atom, atom_of_atom: [A] residue and atom37 slot of each native atom
    used; pairs: [P, 2] atom indices; d_native: [P] distances.
    """

    res_of_atom: np.ndarray
    atom_of_atom: np.ndarray
    pairs: np.ndarray
    d_native: np.ndarray
    n_residues: int
    ca_only: bool


def native_pairs(native_positions: np.ndarray, native_mask: np.ndarray, ca_only: bool = False,
                 radius: float = INCLUSION_RADIUS) -> NativePairs:
    """Atom pairs of different residues within ``radius`` in the native ([L, 37, 3] / [L, 37])."""
    mask = np.asarray(native_mask) > 0
    if ca_only:
        keep = np.zeros(rc.ATOM_TYPE_NUM, dtype=bool)
        keep[rc.ATOM_ORDER["CA"]] = True
        mask = mask & keep
    res_of_atom, atom_of_atom = np.nonzero(mask)                                  # [A], [A]
    xyz = np.asarray(native_positions, dtype=np.float32)[res_of_atom, atom_of_atom]  # [A, 3]
    pairs, d_native = _native_pairs(xyz, res_of_atom, radius)                     # [P, 2], [P]
    return NativePairs(res_of_atom=res_of_atom, atom_of_atom=atom_of_atom, pairs=pairs, d_native=d_native,
                       n_residues=len(mask), ca_only=ca_only)


def lddt(model_positions: np.ndarray, model_mask: np.ndarray, native_positions: np.ndarray | None = None,
         native_mask: np.ndarray | None = None, aatype: np.ndarray | None = None, ca_only: bool = False,
         radius: float = INCLUSION_RADIUS, thresholds: tuple[float, ...] = LDDT_THRESHOLDS,
         resolve_symmetry: bool = True, reference: NativePairs | None = None) -> LddtResult:
    """lDDT of a model against a native, residue i of one matching residue i of the other.

    model_positions, native_positions: [L, 37, 3] atom37 coordinates;
    model_mask, native_mask: [L, 37] (a residue absent from the model has an
    all-zero model mask); aatype: [L] native residue types (needed for the
    symmetric-atom handling); ca_only: use CA atoms only; reference: the
    precomputed :func:`native_pairs` (then native_positions/mask are not needed).
    """
    if reference is None:
        reference = native_pairs(native_positions, native_mask, ca_only=ca_only, radius=radius)
    res_of_atom, atom_of_atom = reference.res_of_atom, reference.atom_of_atom
    pairs, d_native, n_res = reference.pairs, reference.d_native, reference.n_residues
    if len(pairs) == 0:
        return LddtResult(score=float("nan"), per_residue=np.full(n_res, np.nan), n_pairs=0, n_conserved=0)
    model_mask = np.asarray(model_mask) > 0
    model_pos = np.asarray(model_positions, dtype=np.float32)
    if resolve_symmetry and not reference.ca_only and aatype is not None:
        model_pos, model_mask = _resolve_symmetry(model_pos, model_mask, np.asarray(aatype), res_of_atom,
                                                  atom_of_atom, pairs, d_native, thresholds)
    conserved = _conserved(model_pos[res_of_atom, atom_of_atom], model_mask[res_of_atom, atom_of_atom],
                           pairs, d_native, thresholds)                     # [P] 0..T
    per_res_total = _per_residue(pairs, res_of_atom, np.full(len(pairs), len(thresholds)), n_res)
    per_res_good = _per_residue(pairs, res_of_atom, conserved, n_res)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_residue = np.where(per_res_total > 0, per_res_good / per_res_total, np.nan)
    total = int(conserved.sum())
    return LddtResult(score=total / (len(thresholds) * len(pairs)), per_residue=per_residue,
                      n_pairs=len(pairs), n_conserved=total)


def _native_pairs(xyz: np.ndarray, res_of_atom: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Unordered atom pairs of different residues closer than ``radius`` in the native, and their distances."""
    pairs = cKDTree(xyz).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return pairs.reshape(0, 2), np.zeros(0)
    pairs = pairs[res_of_atom[pairs[:, 0]] != res_of_atom[pairs[:, 1]]]
    d = _distances(xyz[pairs[:, 0]], xyz[pairs[:, 1]])
    keep = d < radius
    return pairs[keep], d[keep]


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a - b
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def _conserved(model_xyz: np.ndarray, model_present: np.ndarray, pairs: np.ndarray, d_native: np.ndarray,
               thresholds: tuple[float, ...]) -> np.ndarray:
    """Number of thresholds [P] under which each pair's distance is preserved (0 if an atom is missing)."""
    i, j = pairs[:, 0], pairs[:, 1]
    return _count_preserved(model_xyz[i], model_present[i], model_xyz[j], model_present[j], d_native, thresholds)


def _per_residue(pairs: np.ndarray, res_of_atom: np.ndarray, values: np.ndarray, n_res: int) -> np.ndarray:
    """Sum of pair values per residue over the pairs that involve it: [n_res]."""
    return (np.bincount(res_of_atom[pairs[:, 0]], weights=values, minlength=n_res)
            + np.bincount(res_of_atom[pairs[:, 1]], weights=values, minlength=n_res))


def _resolve_symmetry(model_pos, model_mask, aatype, res_of_atom, atom_of_atom, pairs, d_native, thresholds):
    """Swap symmetric atom names in model residues where that scores better (per residue).

    Only pairs with an ambiguous atom on one end can change, so only those are scored.
    """
    perm = _swap_permutations()[np.minimum(aatype, rc.UNK_INDEX)]                  # [L, 37]
    ambiguous = perm[res_of_atom, atom_of_atom] != atom_of_atom                    # [A]
    if not ambiguous.any():
        return model_pos, model_mask
    swapped_pos = np.take_along_axis(model_pos, perm[:, :, None], axis=1)         # [L, 37, 3]
    swapped_mask = np.take_along_axis(model_mask, perm, axis=1)                   # [L, 37]
    orig_xyz = model_pos[res_of_atom, atom_of_atom]                               # [A, 3]
    orig_ok = model_mask[res_of_atom, atom_of_atom]
    swap_xyz = swapped_pos[res_of_atom, atom_of_atom]
    swap_ok = swapped_mask[res_of_atom, atom_of_atom]
    n_res = len(aatype)
    gain = np.zeros(n_res)
    for end in (0, 1):  # swap the residue on one end of a pair, the other end keeps its naming
        sel = ambiguous[pairs[:, end]]
        a, b = pairs[sel, end], pairs[sel, 1 - end]
        dn = d_native[sel]
        base = _count_preserved(orig_xyz[a], orig_ok[a], orig_xyz[b], orig_ok[b], dn, thresholds)
        alt = _count_preserved(swap_xyz[a], swap_ok[a], orig_xyz[b], orig_ok[b], dn, thresholds)
        gain += np.bincount(res_of_atom[a], weights=alt - base, minlength=n_res)
    flip = gain > 0
    if not flip.any():
        return model_pos, model_mask
    model_pos = np.where(flip[:, None, None], swapped_pos, model_pos)
    model_mask = np.where(flip[:, None], swapped_mask, model_mask)
    return model_pos, model_mask


def _count_preserved(xyz_a, ok_a, xyz_b, ok_b, d_native, thresholds):
    """Per pair, the number of thresholds under which |d_model - d_native| stays (0 if an atom is missing)."""
    diff = np.abs(_distances(xyz_a, xyz_b) - d_native)
    # thresholds passed = T - number of thresholds <= diff (thresholds sorted ascending)
    count = len(thresholds) - np.searchsorted(np.sort(np.asarray(thresholds, dtype=np.float64)), diff, side="right")
    return np.where(ok_a & ok_b, count, 0)
