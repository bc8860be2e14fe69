"""Compiled (numba) search for residue pairs of different chains closer than a cutoff.

Residues are spheres around their atoms (the lDDT kernel's bounding spheres);
a residue pair is only examined atom by atom when its spheres come within the
cutoff. Compiled on first use and cached on disk (see :mod:`foldkit.compiled`).
"""

from __future__ import annotations

import numpy as np

from foldkit.compiled import compiled
from foldkit.eval.lddt_kernel import _residue_spheres


@compiled
def interchain_pairs(xyz, residue_start, chain_start, cutoff):
    """Residue pairs of different chains whose closest atoms are closer than ``cutoff``.

    xyz: [A, 3] float64 atoms grouped by residue; residue_start: [R + 1];
    chain_start: [C + 1] first residue of each chain (chains are runs of residues).
    Returns first [P], second [P] (global residue indices, first in the lower chain)
    and the closest atom distance [P] float64.
    """
    n_res = residue_start.shape[0] - 1
    n_chains = chain_start.shape[0] - 1
    centre, extent = _residue_spheres(xyz, residue_start)
    first, second, dist = [], [], []
    cut2 = cutoff * cutoff
    for c in range(n_chains):
        for r in range(chain_start[c], chain_start[c + 1]):
            if residue_start[r + 1] == residue_start[r]:
                continue
            for s in range(chain_start[c + 1], n_res):
                if residue_start[s + 1] == residue_start[s]:
                    continue
                reach = cutoff + extent[r] + extent[s]
                d2 = 0.0
                for k in range(3):
                    d2 += (centre[r, k] - centre[s, k]) ** 2
                if d2 >= reach * reach:
                    continue
                best = np.inf
                for a in range(residue_start[r], residue_start[r + 1]):
                    for b in range(residue_start[s], residue_start[s + 1]):
                        e2 = 0.0
                        for k in range(3):
                            e2 += (xyz[a, k] - xyz[b, k]) ** 2
                        if e2 < best:
                            best = e2
                if best < cut2:
                    first.append(r)
                    second.append(s)
                    dist.append(np.sqrt(best))
    out_first = np.empty(len(first), dtype=np.int64)
    out_second = np.empty(len(first), dtype=np.int64)
    out_dist = np.empty(len(first), dtype=np.float64)
    for k in range(len(first)):
        out_first[k] = first[k]
        out_second[k] = second[k]
        out_dist[k] = dist[k]
    return out_first, out_second, out_dist
