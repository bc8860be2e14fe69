"""All-atom geometry of the AlphaFold-Multimer model (jnp): frames, atoms, chi angles.

The torsion -> rigid-group frames -> atom14 steps (Jumper et al. 2021,
Alg. 24) are the same computation as in the monomer model and come from
:mod:`foldkit.model.all_atom` (re-exported here so the multimer code has one
place to call). What the multimer model does differently:

* atom14 <-> atom37 and the atom masks are looked up from ``aatype`` alone
  (``atom14_to_atom37(atom14, aatype)``, ``atom14_mask``, ``atom37_mask``);
* template rows of the MSA use only the chi angles of the template
  structure (``compute_chi_angles``: atan2 dihedrals, no backbone torsions);
* template backbone frames are built with x along C - CA and N in the xy
  plane (``make_backbone_affine``), not the monomer's Gram-Schmidt on
  (C, CA, N).

Frames are :class:`~foldkit.model.geometry.Rigid` (``[..., 3, 4]`` arrays via
:mod:`foldkit.model.multimer_geometry`).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from foldkit import constants
from foldkit.model import all_atom
from foldkit.model.geometry import Rigid
from foldkit.model.multimer_geometry import dihedral_angle, rigid_from_reference_points

# Same computation as the monomer model's (Alg. 24): one implementation, re-exported.
torsion_angles_to_frames = all_atom.torsion_angles_to_frames
frames_and_literature_positions_to_atom14_pos = all_atom.frames_and_literature_positions_to_atom14_pos

NUM_CHI = 4


@functools.lru_cache(maxsize=None)
def _chi_tables() -> tuple[np.ndarray, np.ndarray]:
    """Atom37 indices of the 4 atoms of each chi [21, 4, 4] and which chis exist [21, 4] (UNK: none)."""
    indices = np.asarray(constants.table("derived_all_atom")["chi_atom_indices"], np.int32)
    exists = np.asarray(list(constants.table("chi_angles_mask")) + [[0.0] * NUM_CHI], np.float32)
    return indices, exists


# --------------------------------------------------------------------------- masks, atom14 <-> atom37


def atom14_mask(aatype: jnp.ndarray) -> jnp.ndarray:
    """Which atom14 slots each residue type has [..., 14] (float32; UNK has none)."""
    return all_atom.atom14_atom37_tables(aatype)["atom14_atom_exists"]


def atom37_mask(aatype: jnp.ndarray) -> jnp.ndarray:
    """Which atom37 slots each residue type has [..., 37] (float32; UNK has none)."""
    return all_atom.atom14_atom37_tables(aatype)["atom37_atom_exists"]


def atom14_to_atom37(atom14_data: jnp.ndarray, aatype: jnp.ndarray) -> jnp.ndarray:
    """[N, 14, ...] -> [N, 37, ...] by residue type; atoms the type lacks are 0."""
    tables = all_atom.atom14_atom37_tables(aatype)
    return all_atom.atom14_to_atom37(atom14_data, tables["residx_atom37_to_atom14"], tables["atom37_atom_exists"])


def atom37_to_atom14(atom37_data: jnp.ndarray, aatype: jnp.ndarray) -> jnp.ndarray:
    """[N, 37, ...] -> [N, 14, ...] by residue type; atoms the type lacks are 0."""
    tables = all_atom.atom14_atom37_tables(aatype)
    return all_atom.atom37_to_atom14(atom37_data, tables["residx_atom14_to_atom37"], tables["atom14_atom_exists"])


# --------------------------------------------------------------------------- chi angles, backbone frames


def compute_chi_angles(positions: jnp.ndarray, mask: jnp.ndarray,
                       aatype: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Side-chain chi angles of a structure.

    positions [..., N, 37, 3], mask [..., N, 37], aatype [..., N] (leading
    axes, e.g. templates, are batch axes). Returns ``chi_angles`` [..., N, 4]
    in radians (the dihedral of each chi's 4 atoms; a chi the residue type
    lacks uses atom 0 four times and gives 0) and ``chi_mask`` [..., N, 4]
    (the chi exists for the type and all 4 atoms are present).
    """
    indices_table, exists_table = _chi_tables()
    aatype = jnp.asarray(aatype)
    atom_indices = jnp.asarray(indices_table)[aatype]                           # [..., N, 4, 4]
    flat = atom_indices.reshape(atom_indices.shape[:-2] + (NUM_CHI * 4,))       # [..., N, 16]
    atoms = jnp.take_along_axis(positions, flat[..., None], axis=-2)            # [..., N, 16, 3]
    atoms = atoms.reshape(atom_indices.shape + (3,))                            # [..., N, 4, 4, 3]
    chi_angles = dihedral_angle(*(atoms[..., k, :] for k in range(4)))          # [..., N, 4]
    atoms_present = jnp.take_along_axis(jnp.asarray(mask), flat, axis=-1).reshape(atom_indices.shape)
    chi_mask = jnp.asarray(exists_table)[aatype] * jnp.prod(atoms_present, axis=-1).astype(jnp.float32)
    return chi_angles, chi_mask


def make_backbone_affine(positions: jnp.ndarray, mask: jnp.ndarray,
                         aatype: jnp.ndarray) -> tuple[Rigid, jnp.ndarray]:
    """Backbone frame of each residue from its N, CA, C atoms.

    positions [..., N, 37, 3], mask [..., N, 37]; aatype is accepted for the
    reference's signature (the frame does not depend on it). Returns the
    Rigid [..., N] (origin CA, x along C - CA, N in the xy plane with y > 0)
    and its mask [..., N] = mask_N * mask_CA * mask_C.
    """
    del aatype
    n, ca, c = (constants.ATOM_ORDER[name] for name in ("N", "CA", "C"))
    rigid = rigid_from_reference_points(positions[..., n, :], positions[..., ca, :], positions[..., c, :])
    backbone_mask = mask[..., n] * mask[..., ca] * mask[..., c]
    return rigid, backbone_mask
