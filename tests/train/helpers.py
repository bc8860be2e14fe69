"""Shared builders for the training tests: ideal structures with known frames and torsions."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from foldkit.model import all_atom
from foldkit.model.geometry import Rigid, quat_to_rot


def random_rotations(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    quat = rng.normal(size=shape + (4,))
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    return np.asarray(quat_to_rot(jnp.asarray(quat, jnp.float32)))


def ideal_structure(aatype: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Atoms built from random backbone frames and torsions (Alg. 24) and what built them.

    Returns aatype [L], backbone rot/trans, torsion sin/cos [L, 7, 2], group frames
    (Rigid arrays [L, 8]), atom14 [L, 14, 3], atom37 positions [L, 37, 3] and mask [L, 37].
    """
    rng = np.random.default_rng(seed)
    num_res = len(aatype)
    rot = random_rotations(rng, (num_res,))
    trans = rng.normal(scale=6.0, size=(num_res, 3)).astype(np.float32)
    angles = rng.uniform(-np.pi, np.pi, size=(num_res, 7))
    sin_cos = np.stack([np.sin(angles), np.cos(angles)], axis=-1).astype(np.float32)
    aatype_j = jnp.asarray(aatype, jnp.int32)
    backbone = Rigid(jnp.asarray(rot), jnp.asarray(trans))
    groups = all_atom.torsion_angles_to_frames(aatype_j, backbone, jnp.asarray(sin_cos))
    atom14 = all_atom.frames_and_literature_positions_to_atom14_pos(aatype_j, groups)
    tables = all_atom.atom14_atom37_tables(aatype_j)
    atom37 = all_atom.atom14_to_atom37(atom14, tables["residx_atom37_to_atom14"], tables["atom37_atom_exists"])
    return {"aatype": np.asarray(aatype, np.int32), "backbone_rot": rot, "backbone_trans": trans,
            "sin_cos": sin_cos, "group_rot": np.asarray(groups.rot), "group_trans": np.asarray(groups.trans),
            "atom14": np.asarray(atom14), "atom37": np.asarray(atom37),
            "atom37_mask": np.asarray(tables["atom37_atom_exists"])}
