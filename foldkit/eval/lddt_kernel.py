"""Compiled (numba) loops of :mod:`foldkit.eval.lddt`: native pair list and preserved-distance counts.

Distances are single precision, as OpenStructure computes them: each
coordinate difference, the sum of squares and the square root in float32.
Compiled on first use and cached on disk (see :mod:`foldkit.eval.search_kernel`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _distance32(xyz_a, a, xyz_b, b):
    dx = xyz_a[a, 0] - xyz_b[b, 0]
    dy = xyz_a[a, 1] - xyz_b[b, 1]
    dz = xyz_a[a, 2] - xyz_b[b, 2]
    return np.sqrt(dx * dx + dy * dy + dz * dz)


@njit(cache=True)
def native_pair_list(xyz, residue_start, radius):
    """Atom pairs (i < j) of different residues closer than ``radius``, and their distances.

    xyz: [A, 3] float32 atoms grouped by residue; residue_start: [L + 1] first atom of
    each residue (residue r owns atoms residue_start[r] .. residue_start[r + 1] - 1).
    Residue pairs farther apart than radius plus both residues' extents are skipped whole, and
    so is an atom farther from the other residue's centre than radius plus that residue's extent.
    Returns pairs [P, 2] int64, distances [P] float32.
    """
    n_res = residue_start.shape[0] - 1
    centre = np.zeros((n_res, 3))
    extent = np.zeros(n_res)
    for r in range(n_res):
        lo, hi = residue_start[r], residue_start[r + 1]
        if hi == lo:
            continue
        for a in range(lo, hi):
            for k in range(3):
                centre[r, k] += xyz[a, k]
        for k in range(3):
            centre[r, k] /= hi - lo
        for a in range(lo, hi):
            d2 = 0.0
            for k in range(3):
                d2 += (xyz[a, k] - centre[r, k]) ** 2
            extent[r] = max(extent[r], np.sqrt(d2))
    capacity = 1024
    pairs = np.empty((capacity, 2), dtype=np.int64)
    dist = np.empty(capacity, dtype=np.float32)
    n = 0
    r32 = np.float32(radius)
    r2_32 = r32 * r32
    for r in range(n_res):
        for s in range(r + 1, n_res):
            reach = radius + extent[r] + extent[s] + 1e-3
            d2 = 0.0
            for k in range(3):
                d2 += (centre[r, k] - centre[s, k]) ** 2
            if d2 >= reach * reach:
                continue
            for a in range(residue_start[r], residue_start[r + 1]):
                d2 = 0.0
                for k in range(3):
                    d2 += (xyz[a, k] - centre[s, k]) ** 2
                if d2 >= (radius + extent[s] + 1e-3) ** 2:
                    continue
                xa, ya, za = xyz[a, 0], xyz[a, 1], xyz[a, 2]
                for b in range(residue_start[s], residue_start[s + 1]):
                    dx, dy, dz = xa - xyz[b, 0], ya - xyz[b, 1], za - xyz[b, 2]
                    dd = dx * dx + dy * dy + dz * dz
                    if dd > r2_32:
                        continue
                    d = np.sqrt(dd)
                    if d < r32:
                        if n == capacity:
                            capacity *= 2
                            grown = np.empty((capacity, 2), dtype=np.int64)
                            grown[:n] = pairs[:n]
                            pairs = grown
                            grown_d = np.empty(capacity, dtype=np.float32)
                            grown_d[:n] = dist[:n]
                            dist = grown_d
                        pairs[n, 0] = a
                        pairs[n, 1] = b
                        dist[n] = d
                        n += 1
    return pairs[:n].copy(), dist[:n].copy()


@njit(cache=True, inline="always")
def _n_preserved(xyz_a, ok_a, a, xyz_b, ok_b, b, d_native, thresholds):
    """Number of thresholds t with |d_model - d_native| < t (0 if either atom is missing)."""
    if not (ok_a[a] and ok_b[b]):
        return 0
    diff = abs(_distance32(xyz_a, a, xyz_b, b) - d_native)
    count = 0
    for t in thresholds:
        count += np.int64(diff < t)
    return count


@njit(cache=True)
def preserved_counts(xyz, ok, alt_xyz, alt_ok, ambiguous, res_of_atom, pairs, d_native, thresholds, n_res,
                     resolve_symmetry):
    """Per-residue preserved-distance counts, after choosing each residue's better atom naming.

    xyz, alt_xyz: [A, 3] float32 model atoms at the native's atoms, in the given and in the
    swapped naming of symmetric side chains; ok, alt_ok: [A] present; ambiguous: [A] atom has
    a symmetric partner; pairs: [P, 2]; d_native: [P] float32; thresholds: [T].
    A residue takes the swapped naming when that preserves more of its pairs whose other
    end keeps its given naming. Returns (total count, per-residue counts [L], per-residue
    pair totals [L] (T per pair), the [L] swapped flags).
    """
    swapped = np.zeros(n_res, dtype=np.bool_)
    if resolve_symmetry:
        gain = np.zeros(n_res, dtype=np.int64)
        for p in range(pairs.shape[0]):
            for end in range(2):
                a, b = pairs[p, end], pairs[p, 1 - end]
                if ambiguous[a]:
                    gain[res_of_atom[a]] += (_n_preserved(alt_xyz, alt_ok, a, xyz, ok, b, d_native[p], thresholds)
                                             - _n_preserved(xyz, ok, a, xyz, ok, b, d_native[p], thresholds))
        swapped = gain > 0
    use_xyz = xyz.copy()
    use_ok = ok.copy()
    for a in range(xyz.shape[0]):
        if swapped[res_of_atom[a]]:
            use_xyz[a] = alt_xyz[a]
            use_ok[a] = alt_ok[a]
    good = np.zeros(n_res, dtype=np.int64)
    n_pairs = np.zeros(n_res, dtype=np.int64)
    conserved = 0
    # pairs come in blocks of one residue pair: sum locally, add to the residues when the block ends
    block_a, block_b, block_count, block_pairs = -1, -1, 0, 0
    for p in range(pairs.shape[0]):
        a, b = pairs[p, 0], pairs[p, 1]
        c = 0
        if use_ok[a] and use_ok[b]:
            diff = abs(_distance32(use_xyz, a, use_xyz, b) - d_native[p])
            for t in thresholds:
                c += np.int64(diff < t)
        conserved += c
        ra, rb = res_of_atom[a], res_of_atom[b]
        if ra != block_a or rb != block_b:
            if block_pairs:
                good[block_a] += block_count
                good[block_b] += block_count
                n_pairs[block_a] += block_pairs
                n_pairs[block_b] += block_pairs
            block_a, block_b, block_count, block_pairs = ra, rb, 0, 0
        block_count += c
        block_pairs += 1
    if block_pairs:
        good[block_a] += block_count
        good[block_b] += block_count
        n_pairs[block_a] += block_pairs
        n_pairs[block_b] += block_pairs
    return conserved, good, n_pairs * thresholds.shape[0], swapped
