"""Rigid scores of a complex (OpenStructure's ``rmsd``, ``oligo_gdtts``, ``oligo_gdtha``).

OpenStructure computes them on their own chain mapping (QSMapR): among the
complete mappings, the one whose CA atoms superpose with the lowest RMSD. Here
every such mapping is scored at once from per-chain-pair moment sums (Kabsch
needs only sums, :class:`foldkit.eval.superpose.PairMoments`); beyond
``MAX_ENUMERATED`` mappings the QS mapping is kept. Then:

* rmsd: CA RMSD after one Kabsch superposition on all mapped pairs;
* oligo_gdtts / oligo_gdtha: GDT over all mapped CA pairs, normalised by the
  target's CA count (fractions 0-1), with foldkit's GDT search.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.complex.alignment import ChainGroups
from foldkit.eval.complex.mapping import MAX_ENUMERATED, count_mappings, enumerate_mappings
from foldkit.eval.complex.multimer_tm import mapped_chain_ca, sequence_pairs
from foldkit.eval.complex.residue_map import PairAlignments, residue_map
from foldkit.eval.complex.structure import CA, Complex
from foldkit.eval.gdt import gdt
from foldkit.eval.superpose import apply, kabsch, rotations_from_covariance


@dataclasses.dataclass(frozen=True)
class RigidScores:
    rmsd: float
    gdt_ts: float        # 0-1
    gdt_ha: float        # 0-1
    n_pairs: int
    chain_map: tuple[int, ...]
    rotation: np.ndarray
    translation: np.ndarray


def _pair_sums(target: Complex, model: Complex, alignments: PairAlignments, t: int, m: int,
               offset: np.ndarray) -> np.ndarray:
    """[17] moment sums of the CA pairs of target chain t / model chain m: x_i y_j (9), x (3), y (3), n, |x|^2+|y|^2."""
    chain_map = [-1] * len(target.chains)
    chain_map[t] = m
    x, y = sequence_pairs(mapped_chain_ca(target, model, residue_map(alignments, tuple(chain_map))))
    x, y = x - offset, y - offset
    return np.concatenate([(x.T @ y).reshape(9), x.sum(0), y.sum(0), [len(x), (x * x).sum() + (y * y).sum()]])


def _rmsd_of_sums(sums: np.ndarray) -> np.ndarray:
    """[N] minimal RMSD from [N, 17] moment sums."""
    n = np.maximum(sums[:, 15], 1e-12)
    mx, my = sums[:, 9:12] / n[:, None], sums[:, 12:15] / n[:, None]
    cov = sums[:, :9].reshape(-1, 3, 3) - n[:, None, None] * mx[:, :, None] * my[:, None, :]
    rot = rotations_from_covariance(cov)                                  # [N, 3, 3]
    gain = np.einsum("nij,nji->n", rot, cov)
    spread = sums[:, 16] - n * ((mx * mx).sum(1) + (my * my).sum(1))
    return np.sqrt(np.maximum(spread - 2.0 * gain, 0.0) / n)


def rigid_mapping(target: Complex, model: Complex, groups: ChainGroups, alignments: PairAlignments,
                  fallback: tuple[int, ...], max_enumerated: int = MAX_ENUMERATED) -> tuple[int, ...]:
    """The complete chain mapping with the lowest CA RMSD (``fallback`` when there are too many)."""
    if count_mappings(groups) <= 1 or count_mappings(groups) > max_enumerated:
        return fallback
    maps = enumerate_mappings(groups, len(target.chains))
    complete = (maps >= 0).sum(1)
    maps = maps[complete == complete.max()]
    offset = target.positions[target.mask[:, CA], CA].astype(np.float64).mean(0)
    cache: dict[tuple[int, int], np.ndarray] = {}
    sums = np.zeros((len(maps), 17))
    for t in range(maps.shape[1]):
        for m in np.unique(maps[:, t]):
            if m < 0:
                continue
            if (t, m) not in cache:
                cache[(t, int(m))] = _pair_sums(target, model, alignments, t, int(m), offset)
            sums[maps[:, t] == m] += cache[(t, int(m))]
    best = int(np.argmin(_rmsd_of_sums(sums)))
    return tuple(int(m) for m in maps[best])


def rigid_scores(target: Complex, model: Complex, groups: ChainGroups, alignments: PairAlignments,
                 chain_map: tuple[int, ...], search_mapping: bool = True) -> RigidScores:
    """Rigid scores on the lowest-RMSD mapping (``search_mapping``) or on ``chain_map`` as given."""
    if search_mapping:
        chain_map = rigid_mapping(target, model, groups, alignments, chain_map)
    n_target = int(target.mask[:, CA].sum())
    x, y = sequence_pairs(mapped_chain_ca(target, model, residue_map(alignments, chain_map)))
    if len(x) < 3:
        return RigidScores(float("nan"), 0.0, 0.0, len(x), chain_map, np.eye(3), np.zeros(3))
    rot, trans = kabsch(x, y)
    d = apply(rot, trans, x) - y
    result = gdt(x, y, n_reference=n_target)
    return RigidScores(rmsd=float(np.sqrt((d * d).sum(1).mean())), gdt_ts=result.gdt_ts / 100.0,
                       gdt_ha=result.gdt_ha / 100.0, n_pairs=len(x), chain_map=chain_map, rotation=rot,
                       translation=trans)
