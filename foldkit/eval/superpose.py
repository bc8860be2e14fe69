"""Optimal rigid superposition (Kabsch), single and batched over many subsets.

Convention: a transform ``(R, t)`` maps model coordinates onto the native,
``x_sup = x @ R.T + t``.

The batched path evaluates several superpositions at once. Each is defined
by a 0/1 weight row over the N residue pairs; all the sums Kabsch needs
(counts, centroids, cross-covariance) are linear in the weights, so one
matrix product ``W @ moments`` gives them for every row, and one more matrix
product gives the squared deviations of every residue under every transform.
The GDT/TM search uses the same per-pair moments in compiled form
(:mod:`foldkit.eval.search_kernel`).
"""

from __future__ import annotations

import dataclasses

import numpy as np


def kabsch(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rotation ``R`` [3, 3] and translation ``t`` [3] minimising sum w |x R^T + t - y|^2.

    x, y: [N, 3] paired coordinates (model, native); weights: [N] or None.
    """
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    moments = PairMoments.of(x, y)
    rot, trans = moments.superpose(w[None, :])
    return rot[0], trans[0]


def apply(rot: np.ndarray, trans: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Apply ``(R, t)`` to points x [..., 3]."""
    return x @ rot.T + trans


def rotations_from_covariance(cov: np.ndarray) -> np.ndarray:
    """Proper rotations [S, 3, 3] maximising tr(R C) for cross-covariances C [S, 3, 3] (SVD).

    ``cov[s] = sum (x - mx)(y - my)^T`` (model rows, native columns); the
    result maps centred model coordinates onto centred native coordinates.
    """
    u, _, vt = np.linalg.svd(np.asarray(cov, dtype=np.float64))   # [S,3,3], [S,3], [S,3,3]
    v = np.swapaxes(vt, -1, -2)
    ut = np.swapaxes(u, -1, -2)
    det = np.linalg.det(v @ ut)                        # [S]
    v[..., 2] *= np.where(det < 0, -1.0, 1.0)[:, None]  # reflection fix on the weakest axis
    return v @ ut


@dataclasses.dataclass(frozen=True)
class PairMoments:
    """Per-pair moment features that make Kabsch and deviations matrix products.

    features: [N, 16] = (x_i*y_j (9), x (3), y (3), 1) per residue pair;
    sq_norms: [N] = |x|^2 + |y|^2; x, y: [N, 3] centred on the native centroid.
    """

    x: np.ndarray
    y: np.ndarray
    features: np.ndarray
    sq_norms: np.ndarray
    offset: np.ndarray   # [3] native centroid that was subtracted

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> "PairMoments":
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        offset = y.mean(axis=0) if len(y) else np.zeros(3)
        x = x - offset     # a common shift keeps the algebra small-valued
        y = y - offset
        n = len(x)
        feats = np.empty((n, 16))
        feats[:, :9] = (x[:, :, None] * y[:, None, :]).reshape(n, 9)
        feats[:, 9:12] = x
        feats[:, 12:15] = y
        feats[:, 15] = 1.0
        return cls(x=x, y=y, features=feats, sq_norms=(x * x).sum(1) + (y * y).sum(1), offset=offset)

    def superpose(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kabsch for every weight row. weights [S, N] -> R [S, 3, 3], t [S, 3] (original frame)."""
        rot, trans = self.superpose_centred(weights)
        # undo the shift: x_sup = (x - o) R^T + t' + o
        trans = trans + self.offset - self.offset @ np.swapaxes(rot, -1, -2)
        return rot, trans

    def superpose_centred(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kabsch for every weight row [S, N], in the frame of ``self.x``/``self.y`` (shifted by -offset)."""
        sums = np.asarray(weights, dtype=np.float64) @ self.features     # [S, 16]
        count = np.maximum(sums[:, 15], 1e-12)[:, None]                   # [S, 1]
        mx = sums[:, 9:12] / count                                        # [S, 3]
        my = sums[:, 12:15] / count
        cov = sums[:, :9].reshape(-1, 3, 3) - count[:, :, None] * mx[:, :, None] * my[:, None, :]
        rot = rotations_from_covariance(cov)                              # [S, 3, 3]
        trans = my - np.einsum("sij,sj->si", rot, mx)                     # [S, 3]
        return rot, trans

    def squared_deviations(self, weights: np.ndarray) -> np.ndarray:
        """Superpose on each weight row, return |x_sup - y|^2 for every pair: [S, N]."""
        rot, trans = self.superpose_centred(weights)
        return self.deviations_under(rot, trans)

    def deviations_under(self, rot: np.ndarray, trans: np.ndarray) -> np.ndarray:
        """|x R^T + t - y|^2 [S, N] for transforms in the centred frame, as one matrix product.

        |Rx + t - y|^2 = |x|^2 + |y|^2 + |t|^2 - 2 y.Rx + 2 (R^T t).x - 2 t.y
        """
        s = len(rot)
        coef = np.empty((s, 16))
        coef[:, :9] = -2.0 * rot.reshape(s, 9)      # sum_ij R_ij x_j y_i -> features x_j*y_i at [j*3+i]
        coef[:, :9] = coef[:, :9].reshape(s, 3, 3).transpose(0, 2, 1).reshape(s, 9)
        coef[:, 9:12] = 2.0 * np.einsum("sij,si->sj", rot, trans)
        coef[:, 12:15] = -2.0 * trans
        coef[:, 15] = (trans * trans).sum(1)
        d2 = coef @ self.features.T                                       # [S, N]
        d2 += self.sq_norms[None, :]
        return np.maximum(d2, 0.0, out=d2)


def superposed_rmsd(x: np.ndarray, y: np.ndarray) -> float:
    """RMSD [A] of paired points x, y [N, 3] after optimal superposition."""
    if len(x) == 0:
        return float("nan")
    rot, trans = kabsch(x, y)
    diff = apply(rot, trans, x) - y
    return float(np.sqrt((diff * diff).sum(1).mean()))


def paired_points(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate two [N, 3] arrays of paired points and keep the pairs where ``mask`` [N] is set."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"expected two [N, 3] arrays, got {x.shape} and {y.shape}")
    if mask is not None:
        keep = np.asarray(mask).astype(bool)
        x, y = x[keep], y[keep]
    return x, y
