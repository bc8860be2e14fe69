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
reference set this changes no count beyond the 4-decimal agreement. The pair
loops run compiled (:mod:`foldkit.eval.lddt_kernel`).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from foldkit import constants as rc
from foldkit.eval.lddt_kernel import native_pair_list, preserved_counts

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
    used; pairs: [P, 2] atom indices; d_native: [P] distances; the pairs come in
    blocks of one residue pair: block_start [B + 1], block_residues [B, 2].
    """

    res_of_atom: np.ndarray
    atom_of_atom: np.ndarray
    pairs: np.ndarray
    d_native: np.ndarray
    block_start: np.ndarray
    block_residues: np.ndarray
    n_residues: int
    ca_only: bool

    def pairs_per_residue(self) -> np.ndarray:
        """[L] number of pairs that involve each residue."""
        sizes = np.diff(self.block_start)
        return (np.bincount(self.block_residues[:, 0], weights=sizes, minlength=self.n_residues)
                + np.bincount(self.block_residues[:, 1], weights=sizes, minlength=self.n_residues))


def native_pairs(native_positions: np.ndarray, native_mask: np.ndarray, ca_only: bool = False,
                 radius: float = INCLUSION_RADIUS) -> NativePairs:
    """Atom pairs of different residues within ``radius`` in the native ([L, 37, 3] / [L, 37])."""
    mask = np.asarray(native_mask) > 0
    if ca_only:
        keep = np.zeros(rc.ATOM_TYPE_NUM, dtype=bool)
        keep[rc.ATOM_ORDER["CA"]] = True
        mask = mask & keep
    res_of_atom, atom_of_atom = np.nonzero(mask)                                  # [A], [A] grouped by residue
    xyz = np.asarray(native_positions, dtype=np.float32)[res_of_atom, atom_of_atom]  # [A, 3]
    residue_start = np.searchsorted(res_of_atom, np.arange(len(mask) + 1))        # [L + 1]
    pairs, d_native, block_start, block_residues = native_pair_list(xyz, residue_start, float(radius))
    return NativePairs(res_of_atom=res_of_atom, atom_of_atom=atom_of_atom, pairs=pairs, d_native=d_native,
                       block_start=block_start, block_residues=block_residues, n_residues=len(mask),
                       ca_only=ca_only)


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
    model_pos = np.asarray(model_positions, dtype=np.float32).copy()              # [L, 37, 3]
    model_pos[~(np.asarray(model_mask) > 0)] = np.nan                            # missing atoms never match
    resolve = bool(resolve_symmetry and not reference.ca_only and aatype is not None)
    if resolve:
        perm = _swap_permutations()[np.minimum(np.asarray(aatype), rc.UNK_INDEX)]  # [L, 37]
        alt_atom = perm[res_of_atom, atom_of_atom]                              # [A] swapped-name slot
    else:
        alt_atom = atom_of_atom
    conserved, good = preserved_counts(
        model_pos[res_of_atom, atom_of_atom], model_pos[res_of_atom, alt_atom], alt_atom != atom_of_atom,
        res_of_atom, pairs, d_native, np.asarray(thresholds, dtype=np.float64), reference.block_start,
        reference.block_residues, n_res, resolve)
    total = reference.pairs_per_residue() * len(thresholds)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_residue = np.where(total > 0, good / total, np.nan)
    return LddtResult(score=conserved / (len(thresholds) * len(pairs)), per_residue=per_residue,
                      n_pairs=len(pairs), n_conserved=int(conserved))
