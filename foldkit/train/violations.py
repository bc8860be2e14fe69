"""Structural violation loss (Jumper et al. 2021 suppl. 1.9.11), jnp, one chain.

Terms, each a flat-bottom penalty beyond ``tolerance_factor`` standard deviations
of the literature values in ``foldkit.constants``:

* peptide bond C(i)-N(i+1) length and the angles CA-C-N and C-N-CA
  (``between_res_*``; proline values for a following proline), for residues
  whose numbers differ by 1;
* clashes between atoms of different residues closer than the sum of their
  van der Waals radii minus ``overlap_tolerance`` (peptide C-N and
  disulfide SG-SG pairs excepted);
* intra-residue distances outside ``atom14_dists_bounds_overlap1.5_tol12``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from foldkit import constants as rc

C14, N14, CA14 = 2, 0, 1     # atom14 slots of C, N, CA
PRO = rc.RESTYPE_ORDER["P"]
CYS = rc.RESTYPE_ORDER["C"]


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


def _distance(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    return jnp.sqrt(1e-6 + jnp.sum(jnp.square(a - b), axis=-1))


def _unit(v: jnp.ndarray) -> jnp.ndarray:
    return v / jnp.sqrt(1e-6 + jnp.sum(jnp.square(v), axis=-1, keepdims=True))


def backbone_violations(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray,
                        residue_index: jnp.ndarray, tolerance_factor: float = 12.0) -> dict[str, jnp.ndarray]:
    """Mean flat-bottom errors of the peptide bond length and its two angles (3 scalars)."""
    this_c, next_n = atom14[:-1, C14], atom14[1:, N14]
    this_ca, next_ca = atom14[:-1, CA14], atom14[1:, CA14]
    mask = (atom14_mask[:-1, C14] * atom14_mask[1:, N14] * atom14_mask[:-1, CA14] * atom14_mask[1:, CA14]
            * (residue_index[1:] - residue_index[:-1] == 1))                           # [L-1]
    next_is_pro = (aatype[1:] == PRO).astype(jnp.float32)
    ideal = jnp.asarray(rc.table("between_res_bond_length_c_n"), jnp.float32)
    stddev = jnp.asarray(rc.table("between_res_bond_length_stddev_c_n"), jnp.float32)
    bond_ideal = ideal[0] * (1 - next_is_pro) + ideal[1] * next_is_pro
    bond_std = stddev[0] * (1 - next_is_pro) + stddev[1] * next_is_pro
    bond_error = jnp.abs(_distance(this_c, next_n) - bond_ideal)
    cos_ca_c_n = jnp.sum(_unit(this_ca - this_c) * _unit(next_n - this_c), axis=-1)
    cos_c_n_ca = jnp.sum(_unit(this_c - next_n) * _unit(next_ca - next_n), axis=-1)
    ca_c_n = rc.table("between_res_cos_angles_ca_c_n")
    c_n_ca = rc.table("between_res_cos_angles_c_n_ca")

    def flat_bottom(error, std):
        return jnp.sum(jax.nn.relu(error - tolerance_factor * std) * mask) / (1e-6 + jnp.sum(mask))

    return {"bond_c_n": flat_bottom(bond_error, bond_std),
            "angle_ca_c_n": flat_bottom(jnp.abs(cos_ca_c_n - ca_c_n[0]), ca_c_n[1]),
            "angle_c_n_ca": flat_bottom(jnp.abs(cos_c_n_ca - c_n_ca[0]), c_n_ca[1])}


def clash_and_bounds(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray,
                     residue_index: jnp.ndarray, overlap_tolerance: float = 1.5) -> dict[str, jnp.ndarray]:
    """Between-residue clash and within-residue bound errors, summed and divided by the atom count."""
    num_res = atom14.shape[0]
    dist = _distance(atom14[:, :, None, None], atom14[None, None])                    # [L, 14, L, 14]
    pair_mask = atom14_mask[:, :, None, None] * atom14_mask[None, None]
    radii = jnp.asarray(_atom14_radii())[aatype]                                     # [L, 14]
    lower = radii[:, :, None, None] + radii[None, None] - overlap_tolerance
    other = (jnp.arange(num_res)[:, None] < jnp.arange(num_res)[None, :]).astype(jnp.float32)  # i < j
    peptide = ((residue_index[None, :] - residue_index[:, None]) == 1).astype(jnp.float32)
    c_n = jnp.zeros((14, 14)).at[C14, N14].set(1.0)
    is_cys = (aatype == CYS).astype(jnp.float32)
    sg_sg = jnp.zeros((14, 14)).at[5, 5].set(1.0)
    excluded = (peptide[:, None, :, None] * c_n[None, :, None, :]
                + (is_cys[:, None] * is_cys[None, :])[:, None, :, None] * sg_sg[None, :, None, :])
    clash_mask = pair_mask * other[:, None, :, None] * (1.0 - jnp.clip(excluded, 0.0, 1.0))
    clash = jnp.sum(clash_mask * jax.nn.relu(lower - dist))

    lower_b, upper_b = (jnp.asarray(t)[aatype] for t in _bounds())                  # [L, 14, 14]
    within = jnp.einsum("iaib->iab", dist)                                           # [L, 14, 14]
    within_mask = (atom14_mask[:, :, None] * atom14_mask[:, None, :]
                   * (1.0 - jnp.eye(14))[None] * (upper_b > 0))
    bounds = 0.5 * jnp.sum(within_mask * (jax.nn.relu(lower_b - within) + jax.nn.relu(within - upper_b)))
    num_atoms = 1e-6 + jnp.sum(atom14_mask)
    return {"clash": clash / num_atoms, "within_residue": bounds / num_atoms}


def violation_loss(atom14: jnp.ndarray, aatype: jnp.ndarray, atom14_mask: jnp.ndarray, residue_index: jnp.ndarray,
                   tolerance_factor: float = 12.0, overlap_tolerance: float = 1.5) -> jnp.ndarray:
    """Sum of all violation terms of predicted atom14 positions [L, 14, 3] (0 for ideal geometry)."""
    terms = backbone_violations(atom14, aatype, atom14_mask, residue_index, tolerance_factor)
    terms.update(clash_and_bounds(atom14, aatype, atom14_mask, residue_index, overlap_tolerance))
    return sum(terms.values())
