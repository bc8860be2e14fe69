"""lDDT as AlphaFold2 computes it for the pLDDT training target (supplement 1.9.6).

The local Distance Difference Test (Mariani et al. 2013), without stereochemistry
checks: for every pair of distinct points whose *true* distance is below
``cutoff``, score the fraction of the thresholds 0.5, 1, 2 and 4 Å that the
predicted distance is within. Used on Cα atoms for the pLDDT target and for
lDDT-Cα metrics inside the model; the CASP scorer lives in ``foldkit/eval``.
"""

from __future__ import annotations

import jax.numpy as jnp

LDDT_THRESHOLDS = (0.5, 1.0, 2.0, 4.0)  # Å


def _distance_matrix(points: jnp.ndarray) -> jnp.ndarray:
    """Pairwise distances (with a 1e-10 floor under the square root).  [..., N, 3] -> [..., N, N]"""
    deltas = points[..., :, None, :] - points[..., None, :, :]
    return jnp.sqrt(1e-10 + jnp.sum(jnp.square(deltas), axis=-1))


def lddt(predicted_points: jnp.ndarray, true_points: jnp.ndarray, true_points_mask: jnp.ndarray,
         cutoff: float = 15.0, per_residue: bool = False) -> jnp.ndarray:
    """lDDT of ``predicted_points`` against ``true_points``, in [0, 1].

    predicted_points, true_points [B, N, 3]; true_points_mask [B, N, 1] (1 =
    resolved). Pairs are scored when both points are resolved, distinct, and
    their true distance is below ``cutoff`` Å. Returns [B] (all scored pairs
    pooled) or, with ``per_residue``, [B, N] (pairs pooled per first point; a
    point without scored pairs gets ~1e-10 / 1e-10 = 1).
    """
    true_dist = _distance_matrix(true_points)  # [B, N, N]
    pred_dist = _distance_matrix(predicted_points)  # [B, N, N]
    num_points = true_points.shape[-2]
    mask = true_points_mask[..., 0]  # [B, N]
    scored_pairs = ((true_dist < cutoff).astype(true_dist.dtype)
                    * mask[..., :, None] * mask[..., None, :]
                    * (1.0 - jnp.eye(num_points, dtype=true_dist.dtype)))  # [B, N, N]
    dist_error = jnp.abs(true_dist - pred_dist)
    pair_score = sum((dist_error < t).astype(true_dist.dtype) for t in LDDT_THRESHOLDS) / len(LDDT_THRESHOLDS)
    axes = (-1,) if per_residue else (-2, -1)
    normaliser = 1.0 / (1e-10 + jnp.sum(scored_pairs, axis=axes))
    return normaliser * (1e-10 + jnp.sum(scored_pairs * pair_score, axis=axes))
