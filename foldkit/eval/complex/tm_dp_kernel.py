"""Compiled (numba) structure-based alignment step of the multi-chain TM-score refinement.

Given a superposition, two CA traces are aligned by dynamic programming on the
score S_ij = 1 / (1 + d_ij^2 / d0^2) with a gap-opening penalty and free gap
extension and free end gaps, the iteration TM-align publishes (Zhang & Skolnick
2005): a gap step after a match step pays ``gap_open``, further gap steps are
free. Compiled on first use and cached on disk (see :mod:`foldkit.compiled`).
"""

from __future__ import annotations

import numpy as np

from foldkit.compiled import compiled

_DIAG, _UP, _LEFT = 0, 1, 2


@compiled
def dp_align(x, y, tf, d0sq, gap_open):
    """Align x [N, 3] (moved by transform ``tf`` [12]: R row-major, then t) onto y [M, 3].

    Returns the aligned pairs: x indices [K] and y indices [K], in order.
    """
    n, m = x.shape[0], y.shape[0]
    xs = np.empty((n, 3))
    for i in range(n):
        for k in range(3):
            xs[i, k] = tf[3 * k] * x[i, 0] + tf[3 * k + 1] * x[i, 1] + tf[3 * k + 2] * x[i, 2] + tf[9 + k]
    score = np.zeros((n + 1, m + 1))
    move = np.zeros((n + 1, m + 1), dtype=np.int8)
    for i in range(1, n + 1):
        move[i, 0] = _UP
    for j in range(1, m + 1):
        move[0, j] = _LEFT
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            dx = xs[i - 1, 0] - y[j - 1, 0]
            dy = xs[i - 1, 1] - y[j - 1, 1]
            dz = xs[i - 1, 2] - y[j - 1, 2]
            diag = score[i - 1, j - 1] + d0sq / (d0sq + dx * dx + dy * dy + dz * dz)
            up = score[i - 1, j] + (gap_open if move[i - 1, j] == _DIAG else 0.0)
            left = score[i, j - 1] + (gap_open if move[i, j - 1] == _DIAG else 0.0)
            if diag >= up and diag >= left:
                score[i, j], move[i, j] = diag, _DIAG
            elif up >= left:
                score[i, j], move[i, j] = up, _UP
            else:
                score[i, j], move[i, j] = left, _LEFT
    xi = np.empty(min(n, m), dtype=np.int64)
    yi = np.empty(min(n, m), dtype=np.int64)
    k = 0
    i, j = n, m
    while i > 0 and j > 0:
        step = move[i, j]
        if step == _DIAG:
            xi[k] = i - 1
            yi[k] = j - 1
            k += 1
            i -= 1
            j -= 1
        elif step == _UP:
            i -= 1
        else:
            j -= 1
    return xi[:k][::-1].copy(), yi[:k][::-1].copy()
