"""All-atom geometry from residue tables (jnp): torsions, rigid groups, atom14/atom37.

Implements Jumper et al. 2021 supplement Alg. 24 (torsion angles -> frames ->
atom positions from literature coordinates), the torsion angles of a
structure (supplement 1.9.1), the atom14 <-> atom37 gathers and the
pseudo-beta / distogram features used by recycling and templates.

The 8 rigid groups are: backbone, pre-omega, phi, psi, chi1..chi4. The 7
torsions are pre-omega, phi, psi, chi1..chi4, each as (sin, cos).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from foldkit import constants
from foldkit.model.geometry import Rigid, rigid_from_three_points, rot_about_x

NUM_RIGID_GROUPS = 8
NUM_TORSIONS = 7


@functools.lru_cache(maxsize=None)
def _residue_table(name: str) -> np.ndarray:
    """Read-only numpy copy of a residue table, including derived ones."""
    if name in ("chi_atom_indices",):
        array = np.asarray(constants.table("derived_all_atom")[name])
    elif name in ("restype_atom14_to_atom37", "restype_atom37_to_atom14"):
        array = np.asarray(constants.table("derived_make_atom14_masks")[name])
    elif name == "chi_angles_mask":
        array = np.asarray(constants.table(name) + [[0.0] * 4], np.float32)   # + UNK row
    else:
        array = np.asarray(constants.table(name))
    array = array.copy()
    array.setflags(write=False)
    return array


# --------------------------------------------------------------------------- torsions -> frames -> atoms


def torsion_angles_to_frames(aatype: jnp.ndarray, backbone_to_global: Rigid,
                             torsion_sin_cos: jnp.ndarray) -> Rigid:
    """Global frames of the 8 rigid groups of each residue (Alg. 24, lines 1-10).

    aatype [N] int; backbone_to_global: Rigid [N]; torsion_sin_cos [N, 7, 2]
    (unit (sin, cos)). Returns Rigid [N, 8].
    """
    default = Rigid.from_tensor4x4(
        jnp.asarray(_residue_table("restype_rigid_group_default_frame"))[aatype])   # [N, 8]
    # Backbone group: no torsion (sin 0, cos 1); the others rotate about x.
    sin = jnp.concatenate([jnp.zeros_like(torsion_sin_cos[:, :1, 0]), torsion_sin_cos[..., 0]], axis=-1)
    cos = jnp.concatenate([jnp.ones_like(torsion_sin_cos[:, :1, 1]), torsion_sin_cos[..., 1]], axis=-1)
    group_to_parent = default.compose_rot(rot_about_x(sin, cos))                    # [N, 8]
    # chi2..chi4 are children of the previous chi group; everything else of the backbone.
    chi_to_backbone = [group_to_parent.map(lambda x: x[:, 4])]
    for group in (5, 6, 7):
        chi_to_backbone.append(chi_to_backbone[-1].compose(group_to_parent.map(lambda x, g=group: x[:, g])))
    chained = Rigid(*(jnp.stack([getattr(f, field) for f in chi_to_backbone[1:]], axis=1)
                      for field in ("rot", "trans")))                             # [N, 3]
    group_to_backbone = Rigid(
        jnp.concatenate([group_to_parent.rot[:, :5], chained.rot], axis=1),
        jnp.concatenate([group_to_parent.trans[:, :5], chained.trans], axis=1))
    return backbone_to_global.map(lambda x: x[:, None]).compose(group_to_backbone)


def frames_and_literature_positions_to_atom14_pos(aatype: jnp.ndarray, group_to_global: Rigid) -> jnp.ndarray:
    """Atom14 positions [N, 14, 3] from rigid-group frames (Alg. 24, line 11); absent atoms are 0."""
    atom_group = jnp.asarray(_residue_table("restype_atom14_to_rigid_group"))[aatype]        # [N, 14]
    atom_frames = group_to_global.map(
        lambda x: jnp.take_along_axis(x, atom_group.reshape(atom_group.shape + (1,) * (x.ndim - 2)),
                                      axis=1))                                           # [N, 14]
    literature = jnp.asarray(_residue_table("restype_atom14_rigid_group_positions"))[aatype]  # [N, 14, 3]
    atom_mask = jnp.asarray(_residue_table("restype_atom14_mask"))[aatype]                 # [N, 14]
    return atom_frames.apply(literature) * atom_mask[..., None]


# --------------------------------------------------------------------------- atom14 <-> atom37


def _gather_atoms(data: jnp.ndarray, index: jnp.ndarray) -> jnp.ndarray:
    """Per residue, data[r, index[r, a]]: data [N, A, ...], index [N, B] -> [N, B, ...]."""
    index = index.reshape(index.shape + (1,) * (data.ndim - 2))
    return jnp.take_along_axis(data, index.astype(jnp.int32), axis=1)


def atom14_to_atom37(atom14_data: jnp.ndarray, residx_atom37_to_atom14: jnp.ndarray,
                     atom37_atom_exists: jnp.ndarray) -> jnp.ndarray:
    """[N, 14, ...] -> [N, 37, ...]; zero where the atom37 slot does not exist."""
    gathered = _gather_atoms(atom14_data, residx_atom37_to_atom14)
    mask = atom37_atom_exists.reshape(atom37_atom_exists.shape + (1,) * (gathered.ndim - 2))
    return gathered * mask


def atom37_to_atom14(atom37_data: jnp.ndarray, residx_atom14_to_atom37: jnp.ndarray,
                     atom14_atom_exists: jnp.ndarray) -> jnp.ndarray:
    """[N, 37, ...] -> [N, 14, ...]; zero where the atom14 slot does not exist."""
    gathered = _gather_atoms(atom37_data, residx_atom14_to_atom37)
    mask = atom14_atom_exists.reshape(atom14_atom_exists.shape + (1,) * (gathered.ndim - 2))
    return gathered * mask


def atom14_atom37_tables(aatype: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """Per-residue gather indices and existence masks (AlphaFold's ``make_atom14_masks``)."""
    aatype = jnp.asarray(aatype)
    return {
        "residx_atom14_to_atom37": jnp.asarray(_residue_table("restype_atom14_to_atom37"))[aatype],
        "residx_atom37_to_atom14": jnp.asarray(_residue_table("restype_atom37_to_atom14"))[aatype],
        "atom14_atom_exists": jnp.asarray(_residue_table("restype_atom14_mask"), jnp.float32)[aatype],
        "atom37_atom_exists": jnp.asarray(_residue_table("restype_atom37_mask"), jnp.float32)[aatype],
    }


# --------------------------------------------------------------------------- structure -> torsions


def _torsion_atoms(aatype: jnp.ndarray, pos: jnp.ndarray, mask: jnp.ndarray):
    """The 4 atoms of each torsion [B, N, 7, 4, 3] and the torsion mask [B, N, 7]."""
    n_idx, ca_idx, c_idx, o_idx = (constants.ATOM_ORDER[a] for a in ("N", "CA", "C", "O"))

    def previous(x):  # shift by one residue along axis 1, zeros in front
        return jnp.concatenate([jnp.zeros_like(x[:, :1]), x[:, :-1]], axis=1)

    prev_pos, prev_mask = previous(pos), previous(mask)
    backbone_atoms = [  # (4 positions [B, N, 3] each, mask [B, N])
        ([prev_pos[:, :, ca_idx], prev_pos[:, :, c_idx], pos[:, :, n_idx], pos[:, :, ca_idx]],
         prev_mask[:, :, ca_idx] * prev_mask[:, :, c_idx] * mask[:, :, n_idx] * mask[:, :, ca_idx]),
        ([prev_pos[:, :, c_idx], pos[:, :, n_idx], pos[:, :, ca_idx], pos[:, :, c_idx]],
         prev_mask[:, :, c_idx] * mask[:, :, n_idx] * mask[:, :, ca_idx] * mask[:, :, c_idx]),
        ([pos[:, :, n_idx], pos[:, :, ca_idx], pos[:, :, c_idx], pos[:, :, o_idx]],
         mask[:, :, n_idx] * mask[:, :, ca_idx] * mask[:, :, c_idx] * mask[:, :, o_idx]),
    ]
    backbone_pos = jnp.stack([jnp.stack(atoms, axis=-2) for atoms, _ in backbone_atoms], axis=2)  # [B,N,3,4,3]
    backbone_mask = jnp.stack([m for _, m in backbone_atoms], axis=2)                              # [B, N, 3]

    chi_atoms = jnp.asarray(_residue_table("chi_atom_indices"))[aatype]        # [B, N, 4, 4]
    flat = chi_atoms.reshape(chi_atoms.shape[:2] + (16,))
    chi_pos = jnp.take_along_axis(pos, flat[..., None], axis=2).reshape(chi_atoms.shape + (3,))
    chi_atom_mask = jnp.take_along_axis(mask, flat, axis=2).reshape(chi_atoms.shape)
    chi_exists = jnp.asarray(_residue_table("chi_angles_mask"))[aatype]         # [B, N, 4]
    chi_mask = chi_exists * jnp.prod(chi_atom_mask, axis=-1)
    return (jnp.concatenate([backbone_pos, chi_pos], axis=2),                  # [B, N, 7, 4, 3]
            jnp.concatenate([backbone_mask, chi_mask], axis=2))                # [B, N, 7]


def torsion_well_conditioned(aatype: jnp.ndarray, all_atom_pos: jnp.ndarray,
                             relative_tolerance: float = 1e-3, absolute_tolerance: float = 1e-6) -> jnp.ndarray:
    """1 where ``atom37_to_torsion_angles`` is numerically defined, else 0 [B, N, 7].

    A torsion is rounding noise when its frame's y axis is undefined (third
    atom - origin nearly parallel to the x axis) or the fourth atom lies on the
    x axis, while the vectors involved are not exactly zero (all-zero atoms
    give an exact 0 and count as defined). Example: the pre-omega of the first
    residue of a segment whose predecessor's CA and C are both at the origin.
    """
    aatype = jnp.minimum(aatype, constants.UNK_INDEX)
    mask = jnp.ones(all_atom_pos.shape[:-1], all_atom_pos.dtype)
    torsion_pos, _ = _torsion_atoms(aatype, all_atom_pos, mask)
    a, b, c, d = (torsion_pos[..., i, :] for i in range(4))

    def off_axis(vec, axis):  # |component of vec orthogonal to axis| and |vec|
        unit = axis / jnp.maximum(jnp.linalg.norm(axis, axis=-1, keepdims=True), 1e-30)
        perp = vec - jnp.sum(vec * unit, axis=-1, keepdims=True) * unit
        return jnp.linalg.norm(perp, axis=-1), jnp.linalg.norm(vec, axis=-1)

    x_axis = c - b
    noisy = jnp.zeros(x_axis.shape[:-1], bool)
    for vec in (a - c, d - c):
        perp, length = off_axis(vec, x_axis)
        noisy |= (length > absolute_tolerance) & (perp <= relative_tolerance * length)
    return (~noisy).astype(jnp.float32)


def atom37_to_torsion_angles(aatype: jnp.ndarray, all_atom_pos: jnp.ndarray, all_atom_mask: jnp.ndarray,
                             placeholder_for_undefined: bool = False) -> dict[str, jnp.ndarray]:
    """The 7 torsion angles of each residue of a structure (supplement 1.9.1).

    aatype [B, N]; all_atom_pos [B, N, 37, 3]; all_atom_mask [B, N, 37].
    Each torsion is measured from 4 atoms a-b-c-d: a frame is built with b on
    the negative x axis, c at the origin and a in the xy plane; the (z, y)
    coordinates of d give (sin, cos). psi is measured through O and flipped.
    Returns ``torsion_angles_sin_cos`` [B, N, 7, 2], ``alt_torsion_angles_sin_cos``
    (pi-periodic chis flipped) and ``torsion_angles_mask`` [B, N, 7]. With
    ``placeholder_for_undefined``, masked torsions become (sin, cos) = (1, 0).
    """
    aatype = jnp.minimum(aatype, constants.UNK_INDEX)
    torsion_pos, torsion_mask = _torsion_atoms(aatype, all_atom_pos, all_atom_mask)

    frame = rigid_from_three_points(point_on_neg_x_axis=torsion_pos[..., 1, :],
                                    origin=torsion_pos[..., 2, :],
                                    point_on_xy_plane=torsion_pos[..., 0, :])
    fourth = frame.invert().apply(torsion_pos[..., 3, :])                      # [B, N, 7, 3]
    sin_cos = jnp.stack([fourth[..., 2], fourth[..., 1]], axis=-1)
    sin_cos = sin_cos / jnp.sqrt(jnp.sum(jnp.square(sin_cos), axis=-1, keepdims=True) + 1e-8)
    psi_through_oxygen = jnp.asarray([1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0], sin_cos.dtype)
    sin_cos = sin_cos * psi_through_oxygen[:, None]

    pi_periodic = jnp.asarray(_residue_table("chi_pi_periodic"), sin_cos.dtype)[aatype]   # [B, N, 4]
    flip = jnp.concatenate([jnp.ones_like(pi_periodic[..., :3]), 1.0 - 2.0 * pi_periodic], axis=-1)
    alt_sin_cos = sin_cos * flip[..., None]

    if placeholder_for_undefined:
        placeholder = jnp.stack([jnp.ones_like(torsion_mask), jnp.zeros_like(torsion_mask)], axis=-1)
        keep = torsion_mask[..., None]
        sin_cos = sin_cos * keep + placeholder * (1 - keep)
        alt_sin_cos = alt_sin_cos * keep + placeholder * (1 - keep)
    return {"torsion_angles_sin_cos": sin_cos, "alt_torsion_angles_sin_cos": alt_sin_cos,
            "torsion_angles_mask": torsion_mask}


# --------------------------------------------------------------------------- pseudo-beta, distogram


def pseudo_beta(aatype: jnp.ndarray, all_atom_positions: jnp.ndarray,
                all_atom_mask: jnp.ndarray | None = None):
    """CB position (CA for glycine) [..., 3] and, with a mask, its mask [...] (float32)."""
    is_gly = (aatype == constants.RESTYPE_ORDER["G"])
    ca, cb = constants.ATOM_ORDER["CA"], constants.ATOM_ORDER["CB"]
    position = jnp.where(is_gly[..., None], all_atom_positions[..., ca, :], all_atom_positions[..., cb, :])
    if all_atom_mask is None:
        return position
    mask = jnp.where(is_gly, all_atom_mask[..., ca], all_atom_mask[..., cb]).astype(jnp.float32)
    return position, mask


def dgram_from_positions(positions: jnp.ndarray, num_bins: int, min_bin: float, max_bin: float) -> jnp.ndarray:
    """One-hot distance bins [..., N, N, num_bins] of positions [..., N, 3].

    Bin k holds distances in (lower_k, lower_{k+1}) with lower = linspace(min_bin,
    max_bin, num_bins); the last bin is open-ended. Compared on squared distances.
    """
    lower = jnp.square(jnp.linspace(min_bin, max_bin, num_bins, dtype=jnp.float32))
    upper = jnp.concatenate([lower[1:], jnp.asarray([1e8], jnp.float32)])
    dist2 = jnp.sum(jnp.square(positions[..., :, None, :] - positions[..., None, :, :]), axis=-1, keepdims=True)
    return (dist2 > lower).astype(jnp.float32) * (dist2 < upper).astype(jnp.float32)
