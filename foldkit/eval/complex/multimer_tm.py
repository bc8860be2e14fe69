"""Multi-chain TM-score normalised by the target: sequence-dependent and sequence-independent.

* ``seqdep``: CA pairs from the chain mapping and the per-chain sequence
  alignments, TM-score maximised over superpositions by foldkit's TM search
  (US-align ``-TMscore 7`` style); d0 and the normalisation use L = all target residues.
* ``tm_score``: sequence-independent, as US-align ``-mm 1`` (MM-align) defines it:
  the best TM-score over residue alignments within the mapped chain pairs and
  superpositions. Starting from the sequence-dependent superposition and from
  each mapped chain's own, TM-align's iteration is run: align every mapped chain
  pair by dynamic programming on the superposed distances
  (:mod:`tm_dp_kernel`), re-superpose on the new pairs, until the score stops
  rising. The sequence alignment itself counts as one candidate, so the result
  is never below ``seqdep``; like any such search it can find a better optimum
  than US-align's heuristic.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from foldkit.eval.complex.residue_map import ResidueMap
from foldkit.eval.complex.structure import CA, Complex
from foldkit.eval.complex.tm_dp_kernel import dp_align
from foldkit.eval.search import SearchConfig, search
from foldkit.eval.superpose import PairMoments
from foldkit.eval.tm import TmResult, tm_d0, tm_from_search, tm_search_radius

GAP_OPENS = (-0.6, 0.0)
MAX_REFINEMENTS = 8
REFINE_CONFIG = SearchConfig(seed_fractions=(1.0, 0.5, 0.25), fixed_lengths=(), seeds_per_length=6,
                             max_iterations=10)


@dataclasses.dataclass(frozen=True)
class ChainCa:
    """CA traces of one mapped chain pair: all residues with CA, and the sequence-aligned pairs."""

    target_chain: int
    model_chain: int
    target_residues: np.ndarray   # [Nt] global residue index of each CA
    model_residues: np.ndarray    # [Nm]
    target_xyz: np.ndarray        # [Nt, 3]
    model_xyz: np.ndarray         # [Nm, 3]
    seq_target: np.ndarray        # [K] indices into target_xyz
    seq_model: np.ndarray         # [K] indices into model_xyz


def mapped_chain_ca(target: Complex, model: Complex, mapping: ResidueMap) -> list[ChainCa]:
    out = []
    for t, m in mapping.mapped_pairs:
        t_res = np.arange(target.chain_start[t], target.chain_start[t + 1])
        m_res = np.arange(model.chain_start[m], model.chain_start[m + 1])
        t_res, m_res = t_res[target.mask[t_res, CA]], m_res[model.mask[m_res, CA]]
        partner = mapping.target_to_model[t_res]
        m_pos = np.full(model.n_residues, -1, dtype=np.int64)
        m_pos[m_res] = np.arange(len(m_res))
        keep = (partner >= 0) & (m_pos[np.maximum(partner, 0)] >= 0)
        out.append(ChainCa(t, m, t_res, m_res, target.positions[t_res, CA].astype(np.float64),
                           model.positions[m_res, CA].astype(np.float64), np.flatnonzero(keep),
                           m_pos[partner[keep]]))
    return out


def sequence_pairs(chains: list[ChainCa]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([c.model_xyz[c.seq_model] for c in chains] or [np.zeros((0, 3))])
    y = np.concatenate([c.target_xyz[c.seq_target] for c in chains] or [np.zeros((0, 3))])
    return x, y


def _tm(x: np.ndarray, y: np.ndarray, n_target: int, config: SearchConfig = SearchConfig()) -> TmResult:
    d0 = tm_d0(n_target)
    moments = PairMoments.of(x, y)
    outcome = search(moments, radii=(tm_search_radius(d0),), cutoffs=(4.0,), d0=d0, config=config)
    return tm_from_search(outcome, moments, n_target, d0)


def _transform(result: TmResult) -> np.ndarray:
    return np.concatenate([result.rotation.reshape(9), result.translation]).astype(np.float64)


@dataclasses.dataclass(frozen=True)
class MultimerTm:
    """tm_score: sequence-independent (US-align -mm 1 style); seqdep_tm: sequence-dependent (-TMscore 7 style);
    the best alignment (model_residues[k] <-> target_residues[k], global residue indices) and its
    superposition (model -> target, x R^T + t)."""

    tm_score: float
    seqdep_tm: float
    n_target: int
    d0: float
    model_residues: np.ndarray
    target_residues: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray

    @property
    def n_aligned(self) -> int:
        return len(self.model_residues)


def _dp_pairs(chains: list[ChainCa], tf: np.ndarray, d0sq: float, gap_open: float) -> tuple[np.ndarray, np.ndarray]:
    """Structure-based alignment of every mapped chain pair under transform ``tf``: [K] indices per chain list."""
    mi_all, ti_all = [], []
    for c in chains:
        mi, ti = dp_align(c.model_xyz, c.target_xyz, tf, d0sq, gap_open)
        mi_all.append(c.model_residues[mi])
        ti_all.append(c.target_residues[ti])
    return np.concatenate(mi_all), np.concatenate(ti_all)


def multimer_tm(target: Complex, model: Complex, mapping: ResidueMap) -> MultimerTm:
    n_target = int(target.mask[:, CA].sum())
    chains = mapped_chain_ca(target, model, mapping)
    x, y = sequence_pairs(chains)
    empty = np.zeros(0, dtype=np.int64)
    if len(x) == 0:
        return MultimerTm(0.0, 0.0, n_target, tm_d0(n_target), empty, empty, np.eye(3), np.zeros(3))
    model_ca = model.positions[:, CA].astype(np.float64)
    target_ca = target.positions[:, CA].astype(np.float64)
    seqdep = _tm(x, y, n_target)
    best = seqdep
    best_pairs = (np.concatenate([c.model_residues[c.seq_model] for c in chains]),
                  np.concatenate([c.target_residues[c.seq_target] for c in chains]))
    d0sq = seqdep.d0 ** 2
    starts = [seqdep] + [_tm(c.model_xyz[c.seq_model], c.target_xyz[c.seq_target], n_target, REFINE_CONFIG)
                         for c in chains if len(chains) > 1 and len(c.seq_model) >= 3]
    for start, gap_open in itertools.product(starts, GAP_OPENS):
        current, score = start, -1.0
        for _ in range(MAX_REFINEMENTS):
            mi, ti = _dp_pairs(chains, _transform(current), d0sq, gap_open)
            if len(mi) < 3:
                break
            refined = _tm(model_ca[mi], target_ca[ti], n_target, REFINE_CONFIG)
            if refined.tm_score <= score + 1e-6:
                break
            current, score = refined, refined.tm_score
            if refined.tm_score > best.tm_score:
                best, best_pairs = refined, (mi, ti)
    if best is not seqdep:      # a full search on the best alignment found
        final = _tm(model_ca[best_pairs[0]], target_ca[best_pairs[1]], n_target)
        best = final if final.tm_score > best.tm_score else best
    return MultimerTm(tm_score=best.tm_score, seqdep_tm=seqdep.tm_score, n_target=n_target, d0=seqdep.d0,
                      model_residues=best_pairs[0], target_residues=best_pairs[1], rotation=best.rotation,
                      translation=best.translation)
