"""Compiled (numba) loops of :mod:`foldkit.eval.lddt`: native pair list and preserved-distance counts.

Pairs are kept in blocks, one per pair of residues (residue r < residue s,
atoms of r before atoms of s), so per-residue sums are made once per block.
Distances are single precision, as OpenStructure computes them: each
coordinate difference, the sum of squares and the square root in float32. A
missing model atom has NaN coordinates, so every comparison involving it fails
and its pairs count as not preserved without a branch.
Compiled on first use and cached on disk (see :mod:`foldkit.compiled`).
"""

from __future__ import annotations

import numpy as np

from foldkit.compiled import compiled


@compiled
def _residue_spheres(xyz, residue_start):
    """Centre [L, 3] and radius [L] of a sphere around each residue's atoms (zero for empty residues)."""
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
    return centre, extent


@compiled
def native_pair_list(xyz, residue_start, radius):
    """Atom pairs of different residues closer than ``radius``, in residue-pair blocks.

    xyz: [A, 3] float32 atoms grouped by residue; residue_start: [L + 1] first atom of
    each residue (residue r owns atoms residue_start[r] .. residue_start[r + 1] - 1).
    Residue pairs whose spheres are farther apart than ``radius`` are skipped whole.
    Returns pairs [P, 2] int64 (first atom in the lower residue), distances [P] float32,
    block_start [B + 1] (block k = pairs block_start[k] .. block_start[k + 1] - 1) and
    block_residues [B, 2].
    """
    n_res = residue_start.shape[0] - 1
    centre, extent = _residue_spheres(xyz, residue_start)
    # candidate residue pairs and an exact bound on the pairs they can give
    near = []
    bound = 0
    for r in range(n_res):
        for s in range(r + 1, n_res):
            reach = radius + extent[r] + extent[s] + 1e-3
            d2 = 0.0
            for k in range(3):
                d2 += (centre[r, k] - centre[s, k]) ** 2
            if d2 < reach * reach:
                near.append((r, s))
                bound += (residue_start[r + 1] - residue_start[r]) * (residue_start[s + 1] - residue_start[s])
    pairs = np.empty((bound, 2), dtype=np.int64)
    dist = np.empty(bound, dtype=np.float32)
    block_start = np.empty(len(near) + 1, dtype=np.int64)
    block_residues = np.empty((len(near), 2), dtype=np.int64)
    r32 = np.float32(radius)
    n, n_blocks = 0, 0
    for r, s in near:
        first = n
        for a in range(residue_start[r], residue_start[r + 1]):
            xa, ya, za = xyz[a, 0], xyz[a, 1], xyz[a, 2]
            for b in range(residue_start[s], residue_start[s + 1]):
                dx, dy, dz = xa - xyz[b, 0], ya - xyz[b, 1], za - xyz[b, 2]
                d = np.sqrt(dx * dx + dy * dy + dz * dz)
                if d < r32:
                    pairs[n, 0] = a
                    pairs[n, 1] = b
                    dist[n] = d
                    n += 1
        if n > first:
            block_start[n_blocks] = first
            block_residues[n_blocks, 0] = r
            block_residues[n_blocks, 1] = s
            n_blocks += 1
    block_start[n_blocks] = n
    return pairs[:n].copy(), dist[:n].copy(), block_start[:n_blocks + 1].copy(), block_residues[:n_blocks].copy()


@compiled(inline="always")
def _n_preserved(xyz_a, a, xyz_b, b, d_native, thresholds):
    """Number of thresholds t with |d_model - d_native| < t (0 if either atom is NaN, i.e. missing)."""
    dx = xyz_a[a, 0] - xyz_b[b, 0]
    dy = xyz_a[a, 1] - xyz_b[b, 1]
    dz = xyz_a[a, 2] - xyz_b[b, 2]
    diff = abs(np.sqrt(dx * dx + dy * dy + dz * dz) - d_native)
    count = 0
    for t in thresholds:
        count += np.int64(diff < t)
    return count


@compiled
def _better_swapped(xyz, alt_xyz, ambiguous, res_of_atom, pairs, d_native, thresholds, block_start,
                    block_residues, n_res):
    """[L] whether each residue preserves more of its pairs with an ambiguous atom in the swapped
    naming (the other end of each pair in its given naming)."""
    residue_ambiguous = np.zeros(n_res, dtype=np.bool_)
    for a in range(ambiguous.shape[0]):
        if ambiguous[a]:
            residue_ambiguous[res_of_atom[a]] = True
    gain = np.zeros(n_res, dtype=np.int64)
    for k in range(block_start.shape[0] - 1):
        for end in range(2):
            r = block_residues[k, end]
            if not residue_ambiguous[r]:
                continue
            for p in range(block_start[k], block_start[k + 1]):
                a, b = pairs[p, end], pairs[p, 1 - end]
                if ambiguous[a]:
                    gain[r] += (_n_preserved(alt_xyz, a, xyz, b, d_native[p], thresholds)
                                - _n_preserved(xyz, a, xyz, b, d_native[p], thresholds))
    return gain > 0


@compiled
def preserved_counts(xyz, alt_xyz, ambiguous, res_of_atom, pairs, d_native, thresholds, block_start,
                     block_residues, n_res, resolve_symmetry):
    """Per-residue preserved-distance counts, after choosing each residue's better atom naming.

    xyz, alt_xyz: [A, 3] float32 model atoms at the native's atoms (NaN where missing), in the
    given and in the swapped naming of symmetric side chains; ambiguous: [A] atom has a
    symmetric partner; pairs [P, 2], d_native [P] float32, block_start [B + 1], block_residues
    [B, 2]: from :func:`native_pair_list`; thresholds: [T].
    A residue takes the swapped naming when that preserves more of its pairs whose other
    end keeps its given naming. Returns (total count, per-residue counts [L]).
    """
    use_xyz = xyz
    if resolve_symmetry:
        swapped = _better_swapped(xyz, alt_xyz, ambiguous, res_of_atom, pairs, d_native, thresholds,
                                  block_start, block_residues, n_res)
        use_xyz = xyz.copy()
        for a in range(xyz.shape[0]):
            if swapped[res_of_atom[a]]:
                use_xyz[a] = alt_xyz[a]
    good = np.zeros(n_res, dtype=np.int64)
    conserved = 0
    for k in range(block_start.shape[0] - 1):
        count = 0
        for p in range(block_start[k], block_start[k + 1]):
            count += _n_preserved(use_xyz, pairs[p, 0], use_xyz, pairs[p, 1], d_native[p], thresholds)
        conserved += count
        good[block_residues[k, 0]] += count
        good[block_residues[k, 1]] += count
    return conserved, good
