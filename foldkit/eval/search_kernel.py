"""Compiled (numba) inner loop of the superposition search of :mod:`foldkit.eval.search`.

One refinement step is: Kabsch on the selected pairs (their 16 moment sums,
see :class:`foldkit.eval.superpose.PairMoments`), deviations of every pair
under that transform, the pair counts under every cutoff and the TM sum, then
the next selection (pairs under the row's radius). Each step is a few fused
passes over the N pairs, ~1 us for 250 pairs instead of numpy's ~3 us plus
the per-batch overhead. Rotations come from Horn's quaternion matrix in closed
form (top eigenvalue by Newton on its characteristic polynomial, eigenvector
from the adjugate), with cyclic Jacobi sweeps on the same matrix for
degenerate covariances. Superposed states are remembered in an open-addressing
set of their 64-bit keys.

Functions are compiled on first use and cached on disk (``cache=True``): the
first scoring call of a fresh installation takes ~10 s (all kernels), later
processes load the cached machine code in ~0.2 s. Array expressions and numba's
typed dict are avoided on purpose: they cost seconds of compilation.
"""

from __future__ import annotations

import numpy as np

from foldkit.compiled import compiled

# A transform is 12 doubles: R row-major (9), then t (3); x_sup = R x + t.
TRANSFORM_SIZE = 12


@compiled
def _minor3(b, skip_r, skip_c):
    """Determinant of the 3x3 minor of the 4x4 ``b`` without row ``skip_r`` and column ``skip_c``."""
    r0 = 1 if skip_r == 0 else 0
    r1 = r0 + 1 + (1 if skip_r == r0 + 1 else 0)
    r2 = 3 if skip_r != 3 else 2
    c0 = 1 if skip_c == 0 else 0
    c1 = c0 + 1 + (1 if skip_c == c0 + 1 else 0)
    c2 = 3 if skip_c != 3 else 2
    return (b[r0, c0] * (b[r1, c1] * b[r2, c2] - b[r1, c2] * b[r2, c1])
            - b[r0, c1] * (b[r1, c0] * b[r2, c2] - b[r1, c2] * b[r2, c0])
            + b[r0, c2] * (b[r1, c0] * b[r2, c1] - b[r1, c1] * b[r2, c0]))


@compiled
def _det4(b):
    return (b[0, 0] * _minor3(b, 0, 0) - b[0, 1] * _minor3(b, 0, 1)
            + b[0, 2] * _minor3(b, 0, 2) - b[0, 3] * _minor3(b, 0, 3))


@compiled
def _horn_matrix(cov):
    """Horn's symmetric 4x4 matrix K(C): its top eigenvector is the optimal unit quaternion."""
    k = np.empty((4, 4))
    k[0, 0] = cov[0, 0] + cov[1, 1] + cov[2, 2]
    k[1, 1] = cov[0, 0] - cov[1, 1] - cov[2, 2]
    k[2, 2] = -cov[0, 0] + cov[1, 1] - cov[2, 2]
    k[3, 3] = -cov[0, 0] - cov[1, 1] + cov[2, 2]
    k[0, 1] = k[1, 0] = cov[1, 2] - cov[2, 1]
    k[0, 2] = k[2, 0] = cov[2, 0] - cov[0, 2]
    k[0, 3] = k[3, 0] = cov[0, 1] - cov[1, 0]
    k[1, 2] = k[2, 1] = cov[0, 1] + cov[1, 0]
    k[1, 3] = k[3, 1] = cov[2, 0] + cov[0, 2]
    k[2, 3] = k[3, 2] = cov[1, 2] + cov[2, 1]
    return k


@compiled
def _quaternion_rotation(q, out):
    """Rotation matrix (row-major into ``out[:9]``) of the quaternion q = (w, x, y, z), normalised here."""
    norm = np.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    w, x, y, z = q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm
    out[0] = w * w + x * x - y * y - z * z
    out[1] = 2.0 * (x * y - w * z)
    out[2] = 2.0 * (x * z + w * y)
    out[3] = 2.0 * (x * y + w * z)
    out[4] = w * w - x * x + y * y - z * z
    out[5] = 2.0 * (y * z - w * x)
    out[6] = 2.0 * (x * z - w * y)
    out[7] = 2.0 * (y * z + w * x)
    out[8] = w * w - x * x - y * y + z * z


@compiled
def _horn_rotation(cov, out):
    """Rotation (row-major into ``out[:9]``) maximising tr(R C), C = sum (x - mx)(y - my)^T.

    Returns False when the top eigenvalue of Horn's matrix is (nearly)
    degenerate, so that its eigenvector is ill-defined, or when the rotation
    found does not reach that eigenvalue; the caller then uses Jacobi sweeps.
    """
    k = _horn_matrix(cov)
    frob2 = 0.0
    for i in range(3):
        for j in range(3):
            frob2 += cov[i, j] * cov[i, j]
    det_c = (cov[0, 0] * (cov[1, 1] * cov[2, 2] - cov[1, 2] * cov[2, 1])
             - cov[0, 1] * (cov[1, 0] * cov[2, 2] - cov[1, 2] * cov[2, 0])
             + cov[0, 2] * (cov[1, 0] * cov[2, 1] - cov[1, 1] * cov[2, 0]))
    # det(K - l I) = l^4 + c2 l^2 + c1 l + c0; its roots are real, so Newton from an
    # upper bound (sqrt(3 |C|^2) >= s1 + s2 + s3) decreases monotonically onto the largest.
    c2 = -2.0 * frob2
    c1 = -8.0 * det_c
    c0 = _det4(k)
    lam = np.sqrt(3.0 * frob2)
    for _ in range(60):
        lam2 = lam * lam
        f = lam2 * lam2 + c2 * lam2 + c1 * lam + c0
        df = 4.0 * lam2 * lam + 2.0 * c2 * lam + c1
        if df <= 0.0:
            break
        step = f / df
        if step > 0.0:
            lam -= step
        if step <= 1e-12 * lam:
            break
    # adj(K - l1 I) = prod_{k>1} (l_k - l1) q q^T: its largest column is the quaternion.
    for i in range(4):
        k[i, i] -= lam
    best, j_best = -1.0, 0
    for j in range(4):
        d = abs(_minor3(k, j, j))
        if d > best:
            best, j_best = d, j
    q = np.empty(4)
    for i in range(4):
        m = _minor3(k, j_best, i)
        q[i] = m if (i + j_best) % 2 == 0 else -m
    norm = np.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if not (best > 1e-10 * max(abs(lam), 1e-300) ** 3) or not (norm > 0.0):
        return False
    _quaternion_rotation(q, out)
    # q^T K q = tr(R C) must reach the top eigenvalue; near a double root Newton can stop
    # early and leave an arbitrary q, which this catches.
    gain = 0.0
    for i in range(3):
        for j in range(3):
            gain += out[3 * i + j] * cov[j, i]
    return gain >= lam - 1e-8 * abs(lam)


@compiled
def _jacobi_rotation(cov, out):
    """The same rotation from Horn's matrix diagonalised by cyclic Jacobi sweeps (any covariance).

    Where the top eigenvalue is repeated, every vector of its eigenspace is an optimal quaternion.
    """
    a = _horn_matrix(cov)
    v = np.eye(4)
    for _ in range(60):
        off = 0.0
        for p in range(3):
            for q in range(p + 1, 4):
                off += a[p, q] * a[p, q]
        if off <= 1e-30 * (1.0 + a[0, 0] ** 2 + a[1, 1] ** 2 + a[2, 2] ** 2 + a[3, 3] ** 2):
            break
        for p in range(3):
            for q in range(p + 1, 4):
                if a[p, q] == 0.0:
                    continue
                # the plane rotation (c, s) that zeroes a[p, q]: t = tan(angle), smaller root
                theta = (a[q, q] - a[p, p]) / (2.0 * a[p, q])
                t = (1.0 if theta >= 0.0 else -1.0) / (abs(theta) + np.sqrt(theta * theta + 1.0))
                c = 1.0 / np.sqrt(t * t + 1.0)
                s = t * c
                for k in range(4):          # A <- A J (columns p, q)
                    akp, akq = a[k, p], a[k, q]
                    a[k, p] = c * akp - s * akq
                    a[k, q] = s * akp + c * akq
                for k in range(4):          # A <- J^T A (rows p, q)
                    apk, aqk = a[p, k], a[q, k]
                    a[p, k] = c * apk - s * aqk
                    a[q, k] = s * apk + c * aqk
                for k in range(4):          # V <- V J
                    vkp, vkq = v[k, p], v[k, q]
                    v[k, p] = c * vkp - s * vkq
                    v[k, q] = s * vkp + c * vkq
    top = 0
    for i in range(1, 4):
        if a[i, i] > a[top, top]:
            top = i
    q = np.empty(4)
    for i in range(4):
        q[i] = v[i, top]
    _quaternion_rotation(q, out)


@compiled
def rotation_from_covariance(cov, out):
    """Proper rotation into ``out[:9]`` maximising tr(R C) for the 3x3 cross-covariance ``cov``."""
    if not _horn_rotation(cov, out):
        _jacobi_rotation(cov, out)


@compiled
def transform_from_sums(sums, cov, tf):
    """Kabsch transform ``tf`` [12] from the 16 moment sums of a selection (x_i y_j (9), x (3), y (3), count)."""
    n = max(sums[15], 1e-12)
    for i in range(3):
        for j in range(3):
            cov[i, j] = sums[3 * i + j] - sums[9 + i] * sums[12 + j] / n
    rotation_from_covariance(cov, tf)
    for i in range(3):
        tf[9 + i] = (sums[12 + i] - (tf[3 * i] * sums[9] + tf[3 * i + 1] * sums[10] + tf[3 * i + 2] * sums[11])) / n


@compiled(fastmath=True)
def _deviations(xt, yt, tf, d2):
    """d2 [N] = |R x + t - y|^2 for coordinates xt, yt [3, N]."""
    for i in range(xt.shape[1]):
        a = tf[0] * xt[0, i] + tf[1] * xt[1, i] + tf[2] * xt[2, i] + tf[9] - yt[0, i]
        b = tf[3] * xt[0, i] + tf[4] * xt[1, i] + tf[5] * xt[2, i] + tf[10] - yt[1, i]
        c = tf[6] * xt[0, i] + tf[7] * xt[1, i] + tf[8] * xt[2, i] + tf[11] - yt[2, i]
        d2[i] = a * a + b * b + c * c


@compiled
def _count_under(d2, limit):
    count = 0
    for i in range(d2.shape[0]):
        count += np.int64(d2[i] < limit)
    return count


@compiled(fastmath=True, error_model="numpy")   # no zero-division branch: vectorises
def _tm_sum(d2, d0sq):
    """sum_i 1 / (1 + d_i^2 / d0^2)."""
    s = 0.0
    for i in range(d2.shape[0]):
        s += 1.0 / (d0sq + d2[i])
    return s * d0sq


@compiled
def _record(d2, tf, cut2, d0sq, counts, count_tf, tm_best, tm_tf):
    """Keep ``tf`` wherever it beats the best count under a cutoff or the best TM sum."""
    for k in range(cut2.shape[0]):
        count = _count_under(d2, cut2[k])
        if count > counts[k]:
            counts[k] = count
            for j in range(TRANSFORM_SIZE):
                count_tf[k, j] = tf[j]
    if d0sq > 0.0:
        s = _tm_sum(d2, d0sq)
        if s > tm_best[0]:
            tm_best[0] = s
            for j in range(TRANSFORM_SIZE):
                tm_tf[j] = tf[j]


@compiled(fastmath=True)
def _weighted_sums(feats, weight, sums):
    """sums [16] = feats [16, N] @ weight [N]."""
    for j in range(16):
        s = 0.0
        row = feats[j]
        for i in range(weight.shape[0]):
            s += row[i] * weight[i]
        sums[j] = s


@compiled
def _select(d2, r2, feats, pair_keys, k_min, weight, sums):
    """Select the pairs with d2 < r2 (or the k_min nearest if fewer); their moment sums; the selection's key."""
    key = np.uint64(0)
    count = 0
    for i in range(d2.shape[0]):
        chosen = d2[i] < r2
        weight[i] = np.float64(chosen)
        count += np.int64(chosen)
        key += pair_keys[i] if chosen else np.uint64(0)
    if count < k_min:
        key = np.uint64(0)
        weight[:] = 0.0
        for _ in range(k_min):      # the k_min nearest, ties to the lower index
            nearest = -1
            for i in range(d2.shape[0]):
                if weight[i] == 0.0 and (nearest < 0 or d2[i] < d2[nearest]):
                    nearest = i
            weight[nearest] = 1.0
            key += pair_keys[nearest]
    _weighted_sums(feats, weight, sums)
    return key


@compiled
def _key_table(max_keys):
    """Empty open-addressing set for up to ``max_keys`` uint64 keys: (slots, used), half full at most."""
    size = 2
    while size < 2 * max_keys:
        size *= 2
    return np.zeros(size, dtype=np.uint64), np.zeros(size, dtype=np.bool_)


@compiled
def _insert_key(slots, used, key):
    """Add ``key`` to the set; False if it was already there. Keys are random sums: low bits hash them."""
    mask = np.uint64(slots.shape[0] - 1)
    i = key & mask
    while used[i]:
        if slots[i] == key:
            return False
        i = (i + np.uint64(1)) & mask
    used[i] = True
    slots[i] = key
    return True


@compiled
def search_kernel(xt, yt, feats, seed_start, seed_length, radius2, cut2, d0sq, max_iterations, k_min,
                  pair_keys, radius_keys):
    """Seeded iterative refinement; maxima of the counts under ``cut2`` and of the TM sum.

    xt, yt: [3, N] model / native coordinates (same frame); feats: [16, N] per-pair moments;
    seed_start, seed_length: [S] contiguous seed fragments; radius2: [R] squared selection
    radii; cut2: [C] squared cutoffs; d0sq: TM d0^2 (<= 0: no TM); pair_keys [N], radius_keys [R]:
    random uint64 whose wrapping sums identify a state (selection, radius).

    Every seed is superposed once; then every (radius, seed) row is refined, all rows a step
    at a time: select the pairs under the row's radius, superpose on them, for at most
    ``max_iterations`` superpositions per row. A row stops when its next state was already
    reached (by itself: converged; or by another row at this or an earlier step), since
    from there on it would repeat a path already followed at least as far; so every state
    of every seed's capped trajectory is superposed and scored, once. Two different states share
    a key with probability ~2^-64 per pair of states.

    Returns counts [C], count_tf [C, 12], tm_sum, tm_tf [12], number of superpositions.
    """
    n = xt.shape[1]
    n_seeds = seed_start.shape[0]
    counts = np.full(cut2.shape[0], -1, dtype=np.int64)
    count_tf = np.zeros((cut2.shape[0], TRANSFORM_SIZE))
    tm_best = np.full(1, -1.0)
    tm_tf = np.zeros(TRANSFORM_SIZE)
    tf = np.empty(TRANSFORM_SIZE)
    cov = np.empty((3, 3))
    sums = np.empty(16)
    weight = np.empty(n)
    seed_d2 = np.empty((n_seeds, n))
    seed_keys = np.empty(n_seeds, dtype=np.uint64)
    n_superposed = 0
    for s in range(n_seeds):
        seed_keys[s] = 0
        for i in range(n):
            inside = seed_start[s] <= i < seed_start[s] + seed_length[s]
            weight[i] = 1.0 if inside else 0.0
            seed_keys[s] += pair_keys[i] if inside else np.uint64(0)
        _weighted_sums(feats, weight, sums)
        transform_from_sums(sums, cov, tf)
        _deviations(xt, yt, tf, seed_d2[s])
        _record(seed_d2[s], tf, cut2, d0sq, counts, count_tf, tm_best, tm_tf)
        n_superposed += 1
    # every state (selection, radius) superposed so far; at most one per row and step
    seen_keys, seen_used = _key_table(radius2.shape[0] * n_seeds * max_iterations)
    for r in range(radius2.shape[0]):
        for s in range(n_seeds):
            _insert_key(seen_keys, seen_used, seed_keys[s] + radius_keys[r])
    # all (radius, seed) rows advance together, step by step, so that a state is always
    # first reached at its earliest step and no path is followed twice
    n_rows = radius2.shape[0] * n_seeds
    row_d2 = np.empty((n_rows, n))
    row_radius = np.empty(n_rows, dtype=np.int64)
    active = np.empty(n_rows, dtype=np.int64)
    for r in range(radius2.shape[0]):
        for s in range(n_seeds):
            row = r * n_seeds + s
            for i in range(n):
                row_d2[row, i] = seed_d2[s, i]
            row_radius[row] = r
            active[row] = row
    n_active = n_rows
    for step in range(1, max_iterations):
        n_next = 0
        for k in range(n_active):
            row = active[k]
            r = row_radius[row]
            d2 = row_d2[row]
            key = _select(d2, radius2[r], feats, pair_keys, k_min, weight, sums) + radius_keys[r]
            if not _insert_key(seen_keys, seen_used, key):
                continue
            transform_from_sums(sums, cov, tf)
            _deviations(xt, yt, tf, d2)
            _record(d2, tf, cut2, d0sq, counts, count_tf, tm_best, tm_tf)
            n_superposed += 1
            active[n_next] = row
            n_next += 1
        n_active = n_next
        if n_active == 0:
            break
    return counts, count_tf, tm_best[0], tm_tf, n_superposed
