"""Structural violations (Jumper et al. 2021 suppl. 1.9.11), jnp, one chain: the loss and the masks.

Terms, each a flat-bottom excess beyond ``tolerance_factor`` standard deviations
of the literature values in ``foldkit.constants``:

* peptide bond C(i)-N(i+1) length and the angles CA-C-N and C-N-CA
  (``between_res_*``; proline values for a following proline), for residues
  whose numbers differ by 1;
* clashes between atoms of different residues closer than the sum of their
  van der Waals radii minus ``overlap_tolerance`` (peptide C-N and
  disulfide SG-SG pairs excepted);
* intra-residue distances outside ``atom14_dists_bounds_overlap1.5_tol12``.

:func:`violation_loss` averages the excesses (training); :func:`violation_masks`
flags the residues and atoms where any excess is positive (the check Amber
relax runs after each minimisation). Both read the same per-element excesses,
computed with jax.numpy for jax arrays (traced in training) and with numpy
otherwise.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from foldkit import constants as rc

C14, N14, CA14 = 2, 0, 1     # atom14 slots of C, N, CA
SG14 = 5                     # atom14 slot of CYS SG
PRO = rc.RESTYPE_ORDER["P"]
CYS = rc.RESTYPE_ORDER["C"]
MASK_BLOCK = 64              # residues per block of the clash search in violation_masks
# AlphaFold2's violation check measures the CA-C-N cosine error in units of the C-N bond-length deviation
# (0.014) instead of the cosine's own (0.0311): the flags AlphaFold v2.3.2 raises on the relax reference
# inputs (shared/reference/relax, e.g. af_with_violations residues 59-60) require it.
AF2_CA_C_N_STDDEV = float(rc.table("between_res_bond_length_stddev_c_n")[0])


@functools.lru_cache(maxsize=None)
def _atom14_radii() -> np.ndarray:
    """Van der Waals radius of every atom14 slot [21, 14] (0 for empty slots)."""
    radii = rc.table("van_der_waals_radius")
    names = rc.table("restype_name_to_atom14_names")
    table = np.zeros((21, 14), np.float32)
    for restype, resname in enumerate(rc.table("resnames")):
        for slot, name in enumerate(names[resname]):
            if name:
                table[restype, slot] = radii[name[0]]
    return table


@functools.lru_cache(maxsize=None)
def _bounds() -> tuple[np.ndarray, np.ndarray]:
    bounds = rc.table("atom14_dists_bounds_overlap1.5_tol12")
    return np.asarray(bounds["lower_bound"], np.float32), np.asarray(bounds["upper_bound"], np.float32)


def _xp(array):
    """The array module of ``array``: jax.numpy for jax arrays and tracers (training), numpy otherwise
    (the relax check, which then runs without compiling anything)."""
    return jnp if isinstance(array, jax.Array) else np


def _relu(xp, v):
    return jax.nn.relu(v) if xp is jnp else np.maximum(v, 0.0)


def _distance(a, b):
    xp = _xp(a)
    return xp.sqrt(1e-6 + xp.sum(xp.square(a - b), axis=-1))


def _unit(v):
    xp = _xp(v)
    return v / xp.sqrt(1e-6 + xp.sum(xp.square(v), axis=-1, keepdims=True))


def _pair_one_hot(a: int, b: int) -> np.ndarray:
    """[14, 14] 1 at (a, b)."""
    table = np.zeros((14, 14), np.float32)
    table[a, b] = 1.0
    return table


def peptide_bond_excess(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray,
                        residue_index: jnp.ndarray, tolerance_factor: float = 12.0,
                        ca_c_n_stddev: float | None = None) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
    """Per peptide bond (i, i+1): its mask [L-1] and the excess of the bond length and of the cosines
    of CA-C-N and C-N-CA over ``tolerance_factor`` standard deviations ([L-1] each, 0 within tolerance).

    ``ca_c_n_stddev`` replaces the literature deviation of the CA-C-N cosine (None keeps it);
    :data:`AF2_CA_C_N_STDDEV` is the one AlphaFold2's violation check applies.
    """
    xp = _xp(atom14)
    this_c, next_n = atom14[:-1, C14], atom14[1:, N14]
    this_ca, next_ca = atom14[:-1, CA14], atom14[1:, CA14]
    mask = (atom14_mask[:-1, C14] * atom14_mask[1:, N14] * atom14_mask[:-1, CA14] * atom14_mask[1:, CA14]
            * (residue_index[1:] - residue_index[:-1] == 1))                           # [L-1]
    next_is_pro = (aatype[1:] == PRO).astype(xp.float32)
    ideal = xp.asarray(rc.table("between_res_bond_length_c_n"), xp.float32)
    stddev = xp.asarray(rc.table("between_res_bond_length_stddev_c_n"), xp.float32)
    bond_ideal = ideal[0] * (1 - next_is_pro) + ideal[1] * next_is_pro
    bond_std = stddev[0] * (1 - next_is_pro) + stddev[1] * next_is_pro
    bond_error = xp.abs(_distance(this_c, next_n) - bond_ideal)
    cos_ca_c_n = xp.sum(_unit(this_ca - this_c) * _unit(next_n - this_c), axis=-1)
    cos_c_n_ca = xp.sum(_unit(this_c - next_n) * _unit(next_ca - next_n), axis=-1)
    ca_c_n = rc.table("between_res_cos_angles_ca_c_n")
    c_n_ca = rc.table("between_res_cos_angles_c_n_ca")
    ca_c_n_std = ca_c_n[1] if ca_c_n_stddev is None else ca_c_n_stddev
    return mask, {"bond_c_n": _relu(xp, bond_error - tolerance_factor * bond_std),
                  "angle_ca_c_n": _relu(xp, xp.abs(cos_ca_c_n - ca_c_n[0]) - tolerance_factor * ca_c_n_std),
                  "angle_c_n_ca": _relu(xp, xp.abs(cos_c_n_ca - c_n_ca[0]) - tolerance_factor * c_n_ca[1])}


def backbone_violations(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray,
                        residue_index: jnp.ndarray, tolerance_factor: float = 12.0) -> dict[str, jnp.ndarray]:
    """Mean flat-bottom errors of the peptide bond length and its two angles (3 scalars)."""
    mask, excess = peptide_bond_excess(atom14, aatype, atom14_mask, residue_index, tolerance_factor)
    xp = _xp(atom14)
    return {name: xp.sum(value * mask) / (1e-6 + xp.sum(mask)) for name, value in excess.items()}


def clash_excess(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray, residue_index: jnp.ndarray,
                 overlap_tolerance: float = 1.5, rows: slice = slice(None)) -> jnp.ndarray:
    """[B, 14, L, 14] overlap beyond tolerance of atoms of residues ``rows`` with atoms of later residues
    (0 where no clash; peptide C-N and CYS SG-SG pairs excluded)."""
    xp = _xp(atom14)
    num_res = atom14.shape[0]
    row_index = xp.arange(num_res)[rows]                                              # [B]
    dist = _distance(atom14[rows][:, :, None, None], atom14[None, None])              # [B, 14, L, 14]
    pair_mask = atom14_mask[rows][:, :, None, None] * atom14_mask[None, None]
    radii = xp.asarray(_atom14_radii())[aatype]                                      # [L, 14]
    lower = radii[rows][:, :, None, None] + radii[None, None] - overlap_tolerance
    other = (row_index[:, None] < xp.arange(num_res)[None, :]).astype(xp.float32)   # i < j, [B, L]
    peptide = ((residue_index[None, :] - residue_index[rows][:, None]) == 1).astype(xp.float32)
    c_n = xp.asarray(_pair_one_hot(C14, N14))
    is_cys = (aatype == CYS).astype(xp.float32)
    sg_sg = xp.asarray(_pair_one_hot(SG14, SG14))
    excluded = (peptide[:, None, :, None] * c_n[None, :, None, :]
                + (is_cys[rows][:, None] * is_cys[None, :])[:, None, :, None] * sg_sg[None, :, None, :])
    clash_mask = pair_mask * other[:, None, :, None] * (1.0 - xp.clip(excluded, 0.0, 1.0))
    return clash_mask * _relu(xp, lower - dist)


def within_residue_excess(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray) -> jnp.ndarray:
    """[L, 14, 14] distance of each atom pair of a residue outside its bounds (0 within them)."""
    xp = _xp(atom14)
    within = _distance(atom14[:, :, None], atom14[:, None, :])                       # [L, 14, 14]
    lower_b, upper_b = (xp.asarray(t)[aatype] for t in _bounds())                   # [L, 14, 14]
    within_mask = (atom14_mask[:, :, None] * atom14_mask[:, None, :]
                   * (1.0 - xp.eye(14, dtype=xp.float32))[None] * (upper_b > 0))
    return within_mask * (_relu(xp, lower_b - within) + _relu(xp, within - upper_b))


def clash_and_bounds(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray,
                     residue_index: jnp.ndarray, overlap_tolerance: float = 1.5) -> dict[str, jnp.ndarray]:
    """Between-residue clash and within-residue bound errors, summed and divided by the atom count."""
    xp = _xp(atom14)
    clash = xp.sum(clash_excess(atom14, aatype, atom14_mask, residue_index, overlap_tolerance))
    bounds = 0.5 * xp.sum(within_residue_excess(atom14, aatype, atom14_mask))
    num_atoms = 1e-6 + xp.sum(atom14_mask)
    return {"clash": clash / num_atoms, "within_residue": bounds / num_atoms}


def violation_loss(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray, residue_index: jnp.ndarray,
                   tolerance_factor: float = 12.0, overlap_tolerance: float = 1.5) -> jnp.ndarray:
    """Sum of all violation terms of predicted atom14 positions [L, 14, 3] (0 for ideal geometry)."""
    terms = backbone_violations(atom14, aatype, atom14_mask, residue_index, tolerance_factor)
    terms.update(clash_and_bounds(atom14, aatype, atom14_mask, residue_index, overlap_tolerance))
    return sum(terms.values())


def violation_masks(atom14: np.ndarray, aatype: np.ndarray, atom14_mask: np.ndarray, residue_index: np.ndarray,
                    tolerance_factor: float = 12.0, overlap_tolerance: float = 1.5,
                    ca_c_n_stddev: float | None = None) -> dict[str, np.ndarray]:
    """Where the structure violates (any excess above 0), as numpy masks.

    ``peptide_bond`` [L] residues on either side of a violating peptide bond; ``clash_atoms`` [L, 14]
    atoms in a between-residue clash; ``within_residue_atoms`` [L, 14] atoms with an intra-residue
    distance out of bounds; ``per_residue`` [L] the union (a residue with any of them), AlphaFold's
    ``total_per_residue_violations_mask``. The clash search runs in blocks of residues (bounded memory).
    ``ca_c_n_stddev``: as in :func:`peptide_bond_excess`.
    """
    atom14, aatype = np.asarray(atom14, np.float32), np.asarray(aatype)
    atom14_mask, residue_index = np.asarray(atom14_mask, np.float32), np.asarray(residue_index)
    num_res = atom14.shape[0]
    bond_mask, excess = peptide_bond_excess(atom14, aatype, atom14_mask, residue_index, tolerance_factor,
                                            ca_c_n_stddev)
    bad_bond = (sum(excess.values()) * bond_mask) > 0                                     # [L-1]
    peptide_bond = np.zeros(num_res, bool)
    peptide_bond[:-1] |= bad_bond
    peptide_bond[1:] |= bad_bond
    clash_atoms = np.zeros((num_res, 14), bool)
    for start in range(0, num_res, MASK_BLOCK):
        rows = slice(start, min(start + MASK_BLOCK, num_res))
        clashing = clash_excess(atom14, aatype, atom14_mask, residue_index, overlap_tolerance, rows) > 0
        # clashing: [B, 14, L, 14]
        clash_atoms[rows] |= clashing.any(axis=(2, 3))
        clash_atoms |= clashing.any(axis=(0, 1))
    within_residue_atoms = (within_residue_excess(atom14, aatype, atom14_mask) > 0).any(axis=-1)
    per_residue = peptide_bond | clash_atoms.any(axis=-1) | within_residue_atoms.any(axis=-1)
    return {"peptide_bond": peptide_bond, "clash_atoms": clash_atoms,
            "within_residue_atoms": within_residue_atoms, "per_residue": per_residue}
