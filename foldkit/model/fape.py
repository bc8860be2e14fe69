"""Frame aligned point error (FAPE, Jumper et al. 2021 supplement 1.9.2, Algorithm 28).

Every position is expressed in the local coordinates of every frame, once
with the predicted frames and positions and once with the true ones; FAPE is
the mean distance between the two, optionally clamped, divided by a length
scale. Frames are rotations ``rot`` [..., 3, 3] (``rot[..., i, j]``: row i,
column j, x/y/z order; local -> global) and translations ``trans`` [..., 3].
"""

from __future__ import annotations

import jax.numpy as jnp


def to_local(rot: jnp.ndarray, trans: jnp.ndarray, points: jnp.ndarray) -> jnp.ndarray:
    """Coordinates of every point in every frame: R^T (x - t).

    rot [..., F, 3, 3], trans [..., F, 3], points [..., P, 3] -> [..., F, P, 3].
    """
    offsets = points[..., None, :, :] - trans[..., :, None, :]  # [..., F, P, 3]
    return jnp.einsum("...fji,...fpj->...fpi", rot, offsets)


def frame_aligned_point_error(pred_rot: jnp.ndarray, pred_trans: jnp.ndarray,
                              target_rot: jnp.ndarray, target_trans: jnp.ndarray,
                              frames_mask: jnp.ndarray, pred_positions: jnp.ndarray,
                              target_positions: jnp.ndarray, positions_mask: jnp.ndarray,
                              length_scale: float, l1_clamp_distance: float | None = None,
                              epsilon: float = 1e-4) -> jnp.ndarray:
    """FAPE between predicted and target frames/positions.

    pred_rot, target_rot [..., F, 3, 3]; pred_trans, target_trans [..., F, 3];
    frames_mask [..., F]; pred_positions, target_positions [..., P, 3];
    positions_mask [..., P]. The per-pair error sqrt(|Δ|² + epsilon) is
    clamped at ``l1_clamp_distance`` (None: unclamped), divided by
    ``length_scale`` and averaged over masked frame/position pairs. Returns [...].
    """
    local_pred = to_local(pred_rot, pred_trans, pred_positions)  # [..., F, P, 3]
    local_target = to_local(target_rot, target_trans, target_positions)  # [..., F, P, 3]
    error = jnp.sqrt(jnp.sum(jnp.square(local_pred - local_target), axis=-1) + epsilon)  # [..., F, P]
    if l1_clamp_distance is not None:
        error = jnp.clip(error, 0.0, l1_clamp_distance)
    pair_mask = frames_mask[..., :, None] * positions_mask[..., None, :]  # [..., F, P]
    total = jnp.sum(error / length_scale * pair_mask, axis=(-2, -1))
    normaliser = jnp.sum(frames_mask, axis=-1) * jnp.sum(positions_mask, axis=-1)
    return total / (epsilon + normaliser)
