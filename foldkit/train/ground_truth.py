"""Training targets computed from a chain's atom37 coordinates (jnp, jittable, one chain).

Everything the losses compare against (Jumper et al. 2021 suppl. 1.9):
backbone frames, the 8 rigid-group frames and their pi-rotated alternatives,
atom14 positions with the symmetric-atom alternatives, torsion angles,
pseudo-beta. Backbone-only chains (``full_atom`` = 0) get an idealised CB for
the pseudo-beta (the literature CB of the residue type placed in the true
backbone frame); their side-chain targets stay masked by the atom mask.

Frame conventions are those of the structure module's outputs: the backbone
frame has its origin at CA, x along CA->C and N in the xy plane (y > 0);
group frames follow AlphaFold's base atoms (psi: CA, C, O; chi k: atoms
1..3 of the chi's four atoms).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from foldkit import constants as rc
from foldkit.model import all_atom
from foldkit.model.geometry import Rigid, rigid_from_three_points

N, CA, C, CB, O = (rc.ATOM_ORDER[a] for a in ("N", "CA", "C", "CB", "O"))
BACKBONE_ATOM37 = (N, CA, C, O)
NUM_GROUPS = 8


@functools.lru_cache(maxsize=None)
def group_tables() -> dict[str, np.ndarray]:
    """Per residue type (21 incl. UNK): base atoms of each rigid group and which groups exist.

    ``base_atoms`` [21, 8, 3] atom37 indices (point on -x, origin, point in xy plane),
    ``group_exists`` [21, 8], ``group_is_ambiguous`` [21, 8] (pi-periodic chi groups).
    """
    base = np.zeros((21, NUM_GROUPS, 3), np.int32)
    exists = np.zeros((21, NUM_GROUPS), np.float32)
    ambiguous = np.zeros((21, NUM_GROUPS), np.float32)
    chi_atoms = rc.table("chi_angles_atoms")
    chi_periodic = np.asarray(rc.table("chi_pi_periodic"), np.float32)
    for restype in range(21):
        base[restype, 0] = (CA, CA, N)          # backbone: built separately (x along CA->C)
        exists[restype, 0] = 1.0
        base[restype, 3] = (CA, C, O)           # psi group
        exists[restype, 3] = 1.0
        if restype == 20:
            continue
        for k, atoms in enumerate(chi_atoms[rc.resname_of(restype)]):
            base[restype, 4 + k] = [rc.ATOM_ORDER[a] for a in atoms[1:4]]
            exists[restype, 4 + k] = 1.0
            ambiguous[restype, 4 + k] = chi_periodic[restype, k]
    return {"base_atoms": base, "group_exists": exists, "group_is_ambiguous": ambiguous}


@functools.lru_cache(maxsize=None)
def atom14_swap_tables() -> dict[str, np.ndarray]:
    """``swap_index`` [21, 14] (atom14 slot of the symmetric partner, else itself) and
    ``is_ambiguous`` [21, 14] (1 for atoms renamed by a 180° flip: ASP OD1/OD2, ...)."""
    names = rc.table("restype_name_to_atom14_names")
    swaps = rc.table("residue_atom_renaming_swaps")
    swap_index = np.tile(np.arange(14, dtype=np.int32), (21, 1))
    ambiguous = np.zeros((21, 14), np.float32)
    for restype in range(20):
        resname = rc.resname_of(restype)
        slots = names[resname]
        for first, second in swaps.get(resname, {}).items():
            i, j = slots.index(first), slots.index(second)
            swap_index[restype, i], swap_index[restype, j] = j, i
            ambiguous[restype, i] = ambiguous[restype, j] = 1.0
    return {"swap_index": swap_index, "is_ambiguous": ambiguous}


def backbone_frames(atom37_positions: jnp.ndarray, atom37_mask: jnp.ndarray) -> tuple[Rigid, jnp.ndarray]:
    """True backbone frames Rigid [L] from N, CA, C and their mask [L] (all three observed)."""
    n, ca, c = (atom37_positions[:, i] for i in (N, CA, C))
    # rigid_from_three_points puts x along origin - point_on_neg_x_axis = C - CA
    frames = rigid_from_three_points(point_on_neg_x_axis=2.0 * ca - c, origin=ca, point_on_xy_plane=n)
    mask = atom37_mask[:, N] * atom37_mask[:, CA] * atom37_mask[:, C]
    return frames, mask


def rigid_group_frames(aatype: jnp.ndarray, atom37_positions: jnp.ndarray,
                       atom37_mask: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """True frames of the 8 rigid groups: ``rot`` [L, 8, 3, 3], ``trans`` [L, 8, 3],
    ``exists`` [L, 8] (group defined and its 3 base atoms observed), ``alt_rot`` (pi-periodic
    chi groups turned 180° about x) and ``is_ambiguous`` [L, 8]."""
    tables = group_tables()
    base = jnp.asarray(tables["base_atoms"])[aatype]                          # [L, 8, 3]
    points = jnp.take_along_axis(atom37_positions[:, None], base[..., None], axis=2)  # [L, 8, 3, 3]
    base_mask = jnp.prod(jnp.take_along_axis(atom37_mask[:, None], base, axis=2), axis=-1)   # [L, 8]
    frames = rigid_from_three_points(points[..., 0, :], points[..., 1, :], points[..., 2, :])
    backbone, backbone_mask = backbone_frames(atom37_positions, atom37_mask)
    rot = frames.rot.at[:, 0].set(backbone.rot)
    trans = frames.trans.at[:, 0].set(backbone.trans)
    base_mask = base_mask.at[:, 0].set(backbone_mask)
    exists = jnp.asarray(tables["group_exists"])[aatype] * base_mask
    ambiguous = jnp.asarray(tables["group_is_ambiguous"])[aatype]
    flip = jnp.asarray(np.diag([1.0, -1.0, -1.0]), rot.dtype)
    flipped = jnp.einsum("...ij,jk->...ik", rot, flip)
    alt_rot = jnp.where(ambiguous[..., None, None] > 0, flipped, rot)
    # undefined groups get the identity so that no NaN reaches the (masked) loss
    eye = jnp.broadcast_to(jnp.eye(3, dtype=rot.dtype), rot.shape)
    rot = jnp.where(exists[..., None, None] > 0, rot, eye)
    alt_rot = jnp.where(exists[..., None, None] > 0, alt_rot, eye)
    return {"rot": rot, "trans": trans * exists[..., None], "exists": exists, "alt_rot": alt_rot,
            "is_ambiguous": ambiguous}


def atom14_ground_truth(aatype: jnp.ndarray, atom37_positions: jnp.ndarray,
                        atom37_mask: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """atom14 targets: ``gt_positions`` [L, 14, 3], ``gt_exists`` [L, 14], the swapped
    ``alt_gt_positions`` / ``alt_gt_exists`` and ``is_ambiguous`` [L, 14]."""
    maps = all_atom.atom14_atom37_tables(aatype)
    positions = all_atom.atom37_to_atom14(atom37_positions, maps["residx_atom14_to_atom37"],
                                          maps["atom14_atom_exists"])
    exists = all_atom.atom37_to_atom14(atom37_mask, maps["residx_atom14_to_atom37"], maps["atom14_atom_exists"])
    swaps = atom14_swap_tables()
    swap_index = jnp.asarray(swaps["swap_index"])[aatype]                       # [L, 14]
    alt_positions = jnp.take_along_axis(positions, swap_index[..., None], axis=1)
    alt_exists = jnp.take_along_axis(exists, swap_index, axis=1)
    return {"gt_positions": positions, "gt_exists": exists, "alt_gt_positions": alt_positions,
            "alt_gt_exists": alt_exists, "is_ambiguous": jnp.asarray(swaps["is_ambiguous"])[aatype],
            "atom_exists": maps["atom14_atom_exists"]}


def ideal_cb(aatype: jnp.ndarray, frames: Rigid) -> jnp.ndarray:
    """CB at its literature position in the given backbone frames [L, 3]."""
    literature = jnp.asarray(np.asarray(rc.table("restype_atom37_rigid_group_positions"), np.float32))
    return frames.apply(literature[aatype, CB])


def pseudo_beta_truth(aatype: jnp.ndarray, atom37_positions: jnp.ndarray, atom37_mask: jnp.ndarray,
                      full_atom: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Pseudo-beta [L, 3] (CB; CA for glycine) and its mask [L]; for a backbone-only chain
    (``full_atom`` = 0) the CB is the ideal one built from N, CA and C."""
    frames, frame_mask = backbone_frames(atom37_positions, atom37_mask)
    cb = jnp.where(full_atom > 0, atom37_positions[:, CB], ideal_cb(aatype, frames))
    cb_mask = jnp.where(full_atom > 0, atom37_mask[:, CB], frame_mask)
    is_gly = aatype == rc.RESTYPE_ORDER["G"]
    position = jnp.where(is_gly[:, None], atom37_positions[:, CA], cb)
    mask = jnp.where(is_gly, atom37_mask[:, CA], cb_mask)
    return position, mask.astype(jnp.float32)


def ground_truth(aatype: jnp.ndarray, atom37_positions: jnp.ndarray, atom37_mask: jnp.ndarray,
                 full_atom: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """All targets of one (cropped, padded) chain; padding rows have mask 0 everywhere.

    aatype [L] int; atom37_positions [L, 37, 3]; atom37_mask [L, 37]; full_atom [] (0/1).
    """
    atom37_mask = atom37_mask.astype(jnp.float32) * all_atom.atom14_atom37_tables(aatype)["atom37_atom_exists"]
    frames, frame_mask = backbone_frames(atom37_positions, atom37_mask)
    torsions = all_atom.atom37_to_torsion_angles(aatype[None], atom37_positions[None], atom37_mask[None])
    torsions = {k: v[0] for k, v in torsions.items()}
    atom14 = atom14_ground_truth(aatype, atom37_positions, atom37_mask)
    groups = rigid_group_frames(aatype, atom37_positions, atom37_mask)
    beta, beta_mask = pseudo_beta_truth(aatype, atom37_positions, atom37_mask, full_atom)
    out = {
        "all_atom_positions": atom37_positions, "all_atom_mask": atom37_mask,
        "backbone_rot": frames.rot, "backbone_trans": frames.trans, "backbone_mask": frame_mask,
        "pseudo_beta": beta, "pseudo_beta_mask": beta_mask,
        "full_atom": jnp.asarray(full_atom, jnp.float32),
    }
    out.update(torsions)
    out.update({f"atom14_{k}": v for k, v in atom14.items()})
    out.update({f"rigidgroups_{k}": v for k, v in groups.items()})
    return out
