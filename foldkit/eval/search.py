"""Superposition search shared by GDT and TM-score.

Both metrics are maxima over rigid superpositions. The search starts from
seed superpositions on contiguous fragments of several lengths (as LGA and the
TM-score program do), then refines every seed by iterative re-superposition
on the residue pairs that lie under a selection radius, until the selected set
stops changing (at most ``max_iterations`` superpositions per seed), once per
selection radius. A seed's path stops early when it reaches a (selection,
radius) state already superposed at the same or an earlier step, since it
would then repeat a path already followed at least as far, so the maxima are
those of the full search. The loop runs compiled (:mod:`foldkit.eval.search_kernel`).

Every superposition met on the way is scored at every GDT cutoff and for
TM-score; the search keeps the best transform for each.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.search_kernel import search_kernel
from foldkit.eval.superpose import PairMoments

GDT_TS_CUTOFFS = (1.0, 2.0, 4.0, 8.0)
GDT_HA_CUTOFFS = (0.5, 1.0, 2.0, 4.0)
# Cutoffs tracked by every search: 0.5 .. 10 A in 0.5 A steps (CASP GDT plots).
CURVE_CUTOFFS = tuple(0.5 * k for k in range(1, 21))


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """How hard to search.

    seed_fractions: fragment lengths as fractions of N (also ``min_seed`` and
    ``fixed_lengths`` residues); seeds_per_length: start positions per length
    (evenly spread, every position when N is small); max_iterations per seed.
    """

    seed_fractions: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125, 0.0625)
    fixed_lengths: tuple[int, ...] = (4,)
    seeds_per_length: int = 32
    max_iterations: int = 10
    min_selected: int = 3


@dataclasses.dataclass
class SearchOutcome:
    """Best results over all superpositions tried (centred frame of ``moments``).

    counts: [C] max pairs under each of ``cutoffs``; count_rot/count_trans: the
    transform achieving it; tm_sum: max sum of 1/(1+(d/d0)^2); tm_rot/tm_trans.
    """

    cutoffs: np.ndarray
    counts: np.ndarray
    count_rot: np.ndarray
    count_trans: np.ndarray
    tm_sum: float
    tm_rot: np.ndarray
    tm_trans: np.ndarray
    n_superpositions: int = 0


def fragment_seeds(n: int, config: SearchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous seed fragments of several lengths: starts [S] and lengths [S] (no repeats)."""
    lengths = {int(round(f * n)) for f in config.seed_fractions} | set(config.fixed_lengths)
    lengths = sorted(l for l in lengths if config.min_selected <= l <= n) or [n]
    starts, sizes = [], []
    for length in lengths:
        n_starts = n - length + 1
        chosen = np.unique(np.linspace(0, n_starts - 1, min(n_starts, config.seeds_per_length)).round())
        starts.extend(int(s) for s in chosen)
        sizes.extend([length] * len(chosen))
    return np.asarray(starts, dtype=np.int64), np.asarray(sizes, dtype=np.int64)


def _state_keys(n: int, n_radii: int) -> tuple[np.ndarray, np.ndarray]:
    """Random uint64 per pair [N] and per radius [R]: a state's key is their wrapping sum."""
    rng = np.random.default_rng(12345)
    keys = rng.integers(0, np.iinfo(np.uint64).max, size=n + n_radii, dtype=np.uint64, endpoint=True)
    return keys[:n], keys[n:]


def search(moments: PairMoments, radii: tuple[float, ...], cutoffs: tuple[float, ...] = CURVE_CUTOFFS,
           d0: float | None = None, config: SearchConfig = SearchConfig()) -> SearchOutcome:
    """Seeded refinement at every selection radius; the maxima over all superpositions tried.

    radii: selection radii (GDT cutoffs, TM-score's d0_search ...); cutoffs:
    the distances at which pair counts are maximised; d0: TM-score d0 (None: no TM).
    """
    n = len(moments.x)
    n_cut = len(cutoffs)
    if n == 0:
        return SearchOutcome(cutoffs=np.asarray(cutoffs), counts=np.zeros(n_cut, dtype=np.int64),
                             count_rot=np.tile(np.eye(3), (n_cut, 1, 1)), count_trans=np.zeros((n_cut, 3)),
                             tm_sum=0.0, tm_rot=np.eye(3), tm_trans=np.zeros(3))
    distinct_radii = np.asarray(list(dict.fromkeys(float(r) for r in radii)))   # equal radii: equal runs
    starts, lengths = fragment_seeds(n, config)
    pair_keys, radius_keys = _state_keys(n, len(distinct_radii))
    counts, count_tf, tm_sum, tm_tf, n_superposed = search_kernel(
        np.ascontiguousarray(moments.x.T), np.ascontiguousarray(moments.y.T),
        np.ascontiguousarray(moments.features.T), starts, lengths, distinct_radii ** 2,
        np.asarray(cutoffs, dtype=np.float64) ** 2, -1.0 if d0 is None else float(d0) ** 2,
        int(config.max_iterations), int(min(config.min_selected, n)), pair_keys, radius_keys)
    return SearchOutcome(cutoffs=np.asarray(cutoffs), counts=counts, count_rot=count_tf[:, :9].reshape(-1, 3, 3),
                         count_trans=count_tf[:, 9:], tm_sum=max(float(tm_sum), 0.0),
                         tm_rot=tm_tf[:9].reshape(3, 3), tm_trans=tm_tf[9:], n_superpositions=int(n_superposed))
