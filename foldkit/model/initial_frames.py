"""Backbone frames the structure module starts from.

``identity`` is AlphaFold2's start: every residue at the origin with the
identity rotation (the "black hole" initialisation of Jumper et al. 2021,
suppl. 1.8). It is the default and the only choice for AlphaFold2 weights.

``helix`` starts every residue on an ideal right-handed α-helix laid out by
residue number (φ -57°, ψ -47°, ω 180°, Engh & Huber bond lengths and angles),
so the first layer already sees a chain with sensible local geometry. The
helix is a screw motion: residue k's frame is ``T^k`` applied to residue 0's,
with ``T`` a rotation by ``theta`` about the helix axis (z) and a rise ``h``
along it, so frames follow from a traced residue index without a loop.
Frames use AlphaFold's convention (origin CA, x along CA - N, C in the xy
plane; :func:`foldkit.model.geometry.rigid_from_three_points`).
"""

from __future__ import annotations

import dataclasses
import functools

import jax.numpy as jnp
import numpy as np

from foldkit.model.geometry import QuatRigid, quat_multiply, rot_to_quat

INITIAL_FRAMES = ("identity", "helix")

# ideal backbone geometry (Å, degrees)
BOND_N_CA, BOND_CA_C, BOND_C_N = 1.458, 1.525, 1.329
ANGLE_N_CA_C, ANGLE_CA_C_N, ANGLE_C_N_CA = 111.2, 116.2, 121.7
HELIX_PHI, HELIX_PSI, OMEGA = -57.0, -47.0, 180.0


@dataclasses.dataclass(frozen=True)
class HelixScrew:
    """The helix as a screw about z: per-residue turn ``theta`` (rad) and rise (Å), residue 0's frame."""

    theta: float
    rise: float
    rot0: np.ndarray     # [3, 3] rotation of residue 0
    trans0: np.ndarray   # [3] CA of residue 0 (Å)


def _place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, torsion: float) -> np.ndarray:
    """Atom d bonded to c with |cd| = bond, angle bcd and torsion abcd (degrees): natural extension."""
    angle, torsion = np.radians(angle), np.radians(torsion)
    bc = (c - b) / np.linalg.norm(c - b)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    local = np.array([-np.cos(angle), np.sin(angle) * np.cos(torsion), np.sin(angle) * np.sin(torsion)])
    return c + bond * np.stack([bc, np.cross(n, bc), n], axis=-1) @ local


def helix_backbone(num_res: int) -> np.ndarray:
    """N, CA, C of an ideal α-helix [num_res, 3, 3] (Å), built atom by atom."""
    n = np.zeros(3)
    ca = np.array([BOND_N_CA, 0.0, 0.0])
    angle = np.radians(180.0 - ANGLE_N_CA_C)
    c = ca + BOND_CA_C * np.array([np.cos(angle), np.sin(angle), 0.0])
    atoms = [(n, ca, c)]
    for _ in range(num_res - 1):
        n_next = _place(n, ca, c, BOND_C_N, ANGLE_CA_C_N, HELIX_PSI)
        ca_next = _place(ca, c, n_next, BOND_N_CA, ANGLE_C_N_CA, OMEGA)
        c_next = _place(c, n_next, ca_next, BOND_CA_C, ANGLE_N_CA_C, HELIX_PHI)
        n, ca, c = n_next, ca_next, c_next
        atoms.append((n, ca, c))
    return np.asarray(atoms)


def backbone_frames(backbone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotations [L, 3, 3] and translations [L, 3] of N, CA, C triples [L, 3, 3] (AlphaFold convention)."""
    n, ca, c = backbone[:, 0], backbone[:, 1], backbone[:, 2]
    e0 = ca - n
    e0 /= np.linalg.norm(e0, axis=-1, keepdims=True)
    v1 = c - ca
    e1 = v1 - np.sum(v1 * e0, axis=-1, keepdims=True) * e0
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    return np.stack([e0, e1, np.cross(e0, e1)], axis=-1), ca


@functools.lru_cache(maxsize=1)
def helix_screw() -> HelixScrew:
    """Screw parameters of the ideal helix, with its axis moved onto z."""
    rot, trans = backbone_frames(helix_backbone(3))
    step_rot = rot[1] @ rot[0].T                                            # T = F1 ∘ F0⁻¹
    step_trans = trans[1] - step_rot @ trans[0]
    theta = float(np.arccos(np.clip((np.trace(step_rot) - 1.0) / 2.0, -1.0, 1.0)))
    axis = np.array([step_rot[2, 1] - step_rot[1, 2], step_rot[0, 2] - step_rot[2, 0],
                     step_rot[1, 0] - step_rot[0, 1]])
    axis /= np.linalg.norm(axis)
    rise = float(step_trans @ axis)
    point = np.linalg.lstsq(np.eye(3) - step_rot, step_trans - rise * axis, rcond=None)[0]   # on the axis
    # rotation taking the axis onto z (Rodrigues), then residue 0's frame in those coordinates
    v, cos = np.cross(axis, [0.0, 0.0, 1.0]), float(axis[2])
    skew = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    to_z = np.eye(3) + skew + skew @ skew / (1.0 + cos)
    return HelixScrew(theta=theta, rise=rise, rot0=to_z @ rot[0], trans0=to_z @ (trans[0] - point))


def helix_frames(residue_index: jnp.ndarray, position_scale: float) -> QuatRigid:
    """Frames [L] of the ideal helix at residue numbers [L], translations in the structure module's units."""
    screw = helix_screw()
    k = (residue_index - residue_index[0]).astype(jnp.float32)             # [L]
    angle = screw.theta * k                                                  # [L] turn about z
    turn = jnp.stack([jnp.cos(0.5 * angle), jnp.zeros_like(k), jnp.zeros_like(k), jnp.sin(0.5 * angle)],
                     axis=-1)                                                # [L, 4]
    quat = quat_multiply(turn, rot_to_quat(jnp.asarray(screw.rot0, jnp.float32)))   # [L, 4]
    x0, y0, z0 = (float(v) for v in screw.trans0)
    trans = jnp.stack([x0 * jnp.cos(angle) - y0 * jnp.sin(angle), x0 * jnp.sin(angle) + y0 * jnp.cos(angle),
                       z0 + screw.rise * k], axis=-1)                        # [L, 3] Å
    return QuatRigid(quat, trans / position_scale)


def initial_frames(kind: str, num_res: int, residue_index: jnp.ndarray | None, position_scale: float) -> QuatRigid:
    """The structure module's starting frames [num_res] (``kind`` in :data:`INITIAL_FRAMES`)."""
    if kind == "identity":
        return QuatRigid.identity((num_res,))
    if kind == "helix":
        index = jnp.arange(num_res) if residue_index is None else jnp.asarray(residue_index)
        return helix_frames(index, position_scale)
    raise ValueError(f"unknown initial_frames {kind!r}; choose from {INITIAL_FRAMES}")
