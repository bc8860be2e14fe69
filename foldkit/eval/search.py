"""Superposition search shared by GDT and TM-score (vectorised over seeds).

Both metrics are maxima over rigid superpositions. The search starts from
seed superpositions on contiguous fragments of several lengths (as LGA and the
TM-score program do), then refines every seed by iterative re-superposition
on the residue pairs that lie under a selection radius, until the selected set
stops changing (at most ``max_iterations`` superpositions per seed). All seeds
advance together: one step is two matrix products and one batched closed-form
rotation (see :mod:`foldkit.eval.superpose`). Every state (selected set,
radius) is superposed once: rows that reach a state already superposed, by
themselves (converged) or by another row in this or an earlier step, retire,
since their further path repeats one already followed at least as far (exact
integer hashes of the states, so the maxima are those of the full search).

Every superposition met on the way is scored at every GDT cutoff and for
TM-score; the search keeps the best transform for each.
"""

from __future__ import annotations

import dataclasses

import numpy as np

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


class _Tracker:
    """Keeps the per-cutoff maximum counts and the maximum TM sum."""

    def __init__(self, cutoffs: np.ndarray, d0: float | None):
        self.cut2 = np.asarray(cutoffs, dtype=np.float64) ** 2
        self.d0sq = None if d0 is None else d0 * d0
        c = len(cutoffs)
        self.counts = np.full(c, -1, dtype=np.int64)
        self.count_rot = np.tile(np.eye(3), (c, 1, 1))
        self.count_trans = np.zeros((c, 3))
        self.tm_sum = -1.0
        self.tm_rot = np.eye(3)
        self.tm_trans = np.zeros(3)
        self.n = 0

    def update(self, d2: np.ndarray, rot: np.ndarray, trans: np.ndarray) -> None:
        self.n += len(d2)
        for k, c2 in enumerate(self.cut2):
            counts = np.count_nonzero(d2 < c2, axis=1)                    # [S]
            best = int(counts.argmax())
            if counts[best] > self.counts[k]:
                self.counts[k] = counts[best]
                self.count_rot[k], self.count_trans[k] = rot[best], trans[best]
        if self.d0sq is not None:
            terms = d2 + self.d0sq                                          # [S, N], in place below
            np.reciprocal(terms, out=terms)
            tm = terms.sum(1) * self.d0sq                                   # [S] sum of 1/(1+d2/d0^2)
            i = int(tm.argmax())
            if tm[i] > self.tm_sum:
                self.tm_sum = float(tm[i])
                self.tm_rot, self.tm_trans = rot[i], trans[i]


def fragment_seeds(n: int, config: SearchConfig) -> np.ndarray:
    """0/1 seed weights [S, N] from contiguous fragments of several lengths."""
    lengths = {int(round(f * n)) for f in config.seed_fractions} | set(config.fixed_lengths)
    lengths = sorted(l for l in lengths if config.min_selected <= l <= n) or [n]
    rows = []
    for length in lengths:
        n_starts = n - length + 1
        starts = np.unique(np.linspace(0, n_starts - 1, min(n_starts, config.seeds_per_length)).round().astype(int))
        for s in starts:
            row = np.zeros(n)
            row[s:s + length] = 1.0
            rows.append(row)
    return np.asarray(rows)


class _StateHashes:
    """Exact hashes of refinement states (0/1 selection row, radius) as complex numbers.

    Two random integer weights per residue (and per radius, as if it were one
    more residue): a state's key is the sum over its selected residues. The
    weights are small enough that every sum is an integer below 2^53, so the
    keys are exact whatever the summation order, and comparable across calls.
    """

    def __init__(self, n: int, n_radii: int):
        bits = max(8, 52 - int(np.ceil(np.log2(n + n_radii + 1))))
        rng = np.random.default_rng(12345)
        self.residue = rng.integers(1, 2 ** bits, size=(n, 2)).astype(np.float64)     # [N, 2]
        self.radius = rng.integers(1, 2 ** bits, size=(n_radii, 2)).astype(np.float64)  # [R, 2]

    def keys(self, rows: np.ndarray, radius_index: np.ndarray) -> np.ndarray:
        k = rows @ self.residue + self.radius[radius_index]                            # [S, 2]
        return k[:, 0] + 1j * k[:, 1]


def _first_occurrences(keys: np.ndarray) -> np.ndarray:
    """Indices of the first row of every distinct key, in row order."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.ones(len(keys), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    return np.sort(order[starts])


def _contained(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """[S] whether each key occurs in ``sorted_keys`` (sorted ascending)."""
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


def refine(moments: PairMoments, seeds: np.ndarray, radii: np.ndarray, tracker: _Tracker,
           config: SearchConfig) -> None:
    """Iterate superpose -> select pairs under the row's radius -> superpose, all rows at once.

    seeds: [S, N] 0/1 start sets; radii: [R] selection radii; every seed is run
    with every radius (S*R rows advancing together; the seeds' own
    superpositions do not depend on the radius, so they are computed once).
    A row retires when its next state (selection, radius) was already
    superposed, by itself (converged) or by any other row in this or an earlier
    iteration: from there on its trajectory repeats one already followed at
    least as far.
    """
    n = seeds.shape[1]
    hashes = _StateHashes(n, len(radii))
    r2_of = np.asarray(radii, dtype=np.float64) ** 2
    seeds = seeds[_first_occurrences(hashes.keys(seeds, np.zeros(len(seeds), dtype=int)))]
    r_index = np.repeat(np.arange(len(radii)), len(seeds))                    # [R*S], radius-major
    seen = np.sort(hashes.keys(np.tile(seeds, (len(radii), 1)), r_index))     # states superposed so far
    rot, trans = moments.superpose_centred(seeds)
    d2 = moments.deviations_under(rot, trans)                                 # [S, N]
    tracker.update(d2, rot, trans)
    d2 = np.tile(d2, (len(radii), 1))                                         # [R*S, N]
    k_min = min(config.min_selected, n)
    for _ in range(config.max_iterations - 1):
        selected = (d2 < r2_of[r_index][:, None]).astype(np.float64)
        too_few = selected.sum(1) < k_min
        if too_few.any():  # fall back to the k_min closest pairs
            nearest = np.argpartition(d2[too_few], k_min - 1, axis=1)[:, :k_min]
            fix = np.zeros((int(too_few.sum()), n))
            np.put_along_axis(fix, nearest, 1.0, axis=1)
            selected[too_few] = fix
        keys = hashes.keys(selected, r_index)
        keep = np.nonzero(~_contained(keys, seen))[0]
        keep = keep[_first_occurrences(keys[keep])]
        if not len(keep):
            break
        active, r_index = selected[keep], r_index[keep]
        seen = np.sort(np.concatenate([seen, keys[keep]]))
        rot, trans = moments.superpose_centred(active)
        d2 = moments.deviations_under(rot, trans)                             # [S, N]
        tracker.update(d2, rot, trans)


def search(moments: PairMoments, radii: tuple[float, ...], cutoffs: tuple[float, ...] = CURVE_CUTOFFS,
           d0: float | None = None, config: SearchConfig = SearchConfig()) -> SearchOutcome:
    """Run the seeded refinement once per selection radius; keep the maxima.

    radii: selection radii (GDT cutoffs, TM-score's d0_search ...); cutoffs:
    the distances at which pair counts are maximised; d0: TM-score d0 (None: no TM).
    """
    n = len(moments.x)
    tracker = _Tracker(np.asarray(cutoffs), d0)
    if n == 0:
        tracker.counts[:] = 0
        tracker.tm_sum = 0.0
    else:
        distinct_radii = np.asarray(list(dict.fromkeys(float(r) for r in radii)))   # equal radii: equal runs
        refine(moments, fragment_seeds(n, config), distinct_radii, tracker, config)
    return SearchOutcome(cutoffs=np.asarray(cutoffs), counts=tracker.counts, count_rot=tracker.count_rot,
                         count_trans=tracker.count_trans, tm_sum=max(tracker.tm_sum, 0.0),
                         tm_rot=tracker.tm_rot, tm_trans=tracker.tm_trans, n_superpositions=tracker.n)
