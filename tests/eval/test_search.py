"""The batched superposition search against a plain per-seed loop (no merging, no retirement)."""

import numpy as np

from foldkit.eval.search import SearchConfig, _StateHashes, fragment_seeds, search
from foldkit.eval.superpose import PairMoments, kabsch
from tests.eval.helpers import chain_ca, random_rotation


def _plain_search(x, y, radii, cutoffs, d0, config):
    """Every seed x radius followed alone for max_iterations steps; maxima over all superpositions."""
    n = len(x)
    best = np.zeros(len(cutoffs), dtype=int)
    best_tm = 0.0
    for radius in radii:
        for seed in fragment_seeds(n, config):
            active = seed > 0
            for _ in range(config.max_iterations):
                rot, trans = kabsch(x[active], y[active])
                d2 = (((x @ rot.T + trans) - y) ** 2).sum(1)
                best = np.maximum(best, [(d2 < c * c).sum() for c in cutoffs])
                best_tm = max(best_tm, float((1.0 / (1.0 + d2 / d0 ** 2)).sum()))
                selected = d2 < radius * radius
                if selected.sum() < config.min_selected:
                    selected = np.zeros(n, dtype=bool)
                    selected[np.argsort(d2, kind="stable")[:config.min_selected]] = True
                if (selected == active).all():
                    break
                active = selected
    return best, best_tm


def test_search_equals_plain_per_seed_loop():
    rng = np.random.default_rng(11)
    y = chain_ca(70, rng)
    x = y @ random_rotation(rng).T + rng.normal(scale=1.2, size=y.shape)
    x[35:] += np.array([3.0, 0.0, 0.0])              # a shifted half: several competing optima
    radii, cutoffs, d0 = (0.5, 1.0, 2.0, 4.0), (0.5, 1.0, 2.0, 4.0, 8.0), 3.0
    config = SearchConfig(seeds_per_length=8, max_iterations=6)
    outcome = search(PairMoments.of(x, y), radii=radii, cutoffs=cutoffs, d0=d0, config=config)
    counts, tm_sum = _plain_search(x, y, radii, cutoffs, d0, config)
    np.testing.assert_array_equal(outcome.counts, counts)
    assert abs(outcome.tm_sum - tm_sum) < 1e-9


def test_state_hashes_are_exact_and_distinguish_radii():
    hashes = _StateHashes(500, 3)
    rng = np.random.default_rng(3)
    rows = (rng.random((40, 500)) < 0.5).astype(np.float64)
    keys = hashes.keys(rows, np.zeros(40, dtype=int))
    # the same rows in another batch order give bit-identical keys
    perm = rng.permutation(40)
    np.testing.assert_array_equal(hashes.keys(rows[perm], np.zeros(40, dtype=int)), keys[perm])
    assert len(np.unique(keys)) == 40
    assert not np.isin(hashes.keys(rows, np.ones(40, dtype=int)), keys).any()
