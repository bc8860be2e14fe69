"""The compiled superposition search against a plain per-seed loop (no retirement), and its rotations."""

import numpy as np

from foldkit.eval.search import SearchConfig, _state_keys, fragment_seeds, search
from foldkit.eval.search_kernel import _horn_rotation, _jacobi_rotation, rotation_from_covariance
from foldkit.eval.superpose import PairMoments, kabsch, rotations_from_covariance as svd_rotations
from tests.eval.helpers import chain_ca, random_rotation


def _plain_search(x, y, radii, cutoffs, d0, config):
    """Every seed x radius followed alone for max_iterations steps; maxima over all superpositions."""
    n = len(x)
    best = np.zeros(len(cutoffs), dtype=int)
    best_tm = 0.0
    for radius in radii:
        for start, length in zip(*fragment_seeds(n, config)):
            active = np.zeros(n, dtype=bool)
            active[start:start + length] = True
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


def test_search_equals_plain_loop_at_tight_radii_and_tiny_sets():
    """Radii below the noise force the k-nearest fallback; every seed length down to 3 residues."""
    rng = np.random.default_rng(5)
    y = chain_ca(24, rng)
    x = y @ random_rotation(rng).T + rng.normal(scale=2.0, size=y.shape)
    radii, cutoffs, d0 = (0.2, 0.5, 3.0), (0.5, 1.0, 2.0, 4.0, 8.0), 1.5
    config = SearchConfig(seeds_per_length=40, max_iterations=8, fixed_lengths=(3, 4))
    outcome = search(PairMoments.of(x, y), radii=radii, cutoffs=cutoffs, d0=d0, config=config)
    counts, tm_sum = _plain_search(x, y, radii, cutoffs, d0, config)
    np.testing.assert_array_equal(outcome.counts, counts)
    assert abs(outcome.tm_sum - tm_sum) < 1e-9
    # the kept transforms reproduce the counts and the TM sum
    moments = PairMoments.of(x, y)
    d2 = moments.deviations_under(outcome.count_rot, outcome.count_trans)
    np.testing.assert_array_equal([(row < c * c).sum() for row, c in zip(d2, cutoffs)], counts)
    d2_tm = moments.deviations_under(outcome.tm_rot[None], outcome.tm_trans[None])[0]
    assert abs((d0 * d0 / (d0 * d0 + d2_tm)).sum() - tm_sum) < 1e-9


def test_state_keys_are_fixed_and_distinct():
    pair_keys, radius_keys = _state_keys(500, 3)
    again = _state_keys(500, 3)
    np.testing.assert_array_equal(pair_keys, again[0])
    rng = np.random.default_rng(3)
    rows = rng.random((200, 500)) < 0.5
    with np.errstate(over="ignore"):
        keys = {int(pair_keys[r].sum(dtype=np.uint64)) for r in rows}
    assert len(keys) == 200
    assert len(set(radius_keys.tolist())) == 3


def test_compiled_rotations_reach_the_svd_optimum():
    """Closed-form and Jacobi quaternion rotations vs SVD, incl. 3-point, planar, reflected, noisy, degenerate sets."""
    rng = np.random.default_rng(7)
    covs = []
    for n_points in (3, 4, 8):
        for noise in (0.0, 0.3, 3.0):
            x = rng.normal(size=(100, n_points, 3))
            rot = np.linalg.qr(rng.normal(size=(100, 3, 3)))[0]
            y = x @ rot + noise * rng.normal(size=x.shape)
            x -= x.mean(1, keepdims=True)
            y -= y.mean(1, keepdims=True)
            covs.append(np.einsum("sni,snj->sij", x, y))
    degenerate = np.zeros((3, 3, 3))
    degenerate[1, 0, 0] = 1.0                      # rank one
    degenerate[2] = np.outer([1.0, 2.0, 0.0], [0.0, 1.0, 1.0])
    covs = np.concatenate(covs + [degenerate])
    out = np.empty(12)
    ours = []
    for cov in covs:
        rotation_from_covariance(np.ascontiguousarray(cov), out)
        ours.append(out[:9].reshape(3, 3).copy())
    ours, ref = np.asarray(ours), svd_rotations(covs)
    assert np.allclose(ours @ np.swapaxes(ours, 1, 2), np.eye(3), atol=1e-10)
    assert np.allclose(np.linalg.det(ours), 1.0, atol=1e-10)
    gain_ours = np.einsum("sij,sji->s", ours, covs)      # the maximised objective tr(R C)
    gain_ref = np.einsum("sij,sji->s", ref, covs)
    assert np.all(gain_ours >= gain_ref - 1e-9 * np.abs(gain_ref).max())
    # the closed form itself serves the regular cases (so the checks above test it, not the
    # SVD fallback) and declines a zero covariance; on rank-one ones it may answer only optimally
    horn_ok = np.array([_horn_rotation(np.ascontiguousarray(c), out) for c in covs])
    assert horn_ok[:-3].mean() > 0.95
    assert not horn_ok[-3]
    # the Jacobi fallback reaches the optimum on every covariance, regular or degenerate
    jacobi = []
    for cov in covs:
        _jacobi_rotation(np.ascontiguousarray(cov), out)
        jacobi.append(out[:9].reshape(3, 3).copy())
    jacobi = np.asarray(jacobi)
    assert np.allclose(jacobi @ np.swapaxes(jacobi, 1, 2), np.eye(3), atol=1e-10)
    assert np.allclose(np.linalg.det(jacobi), 1.0, atol=1e-10)
    gain_jacobi = np.einsum("sij,sji->s", jacobi, covs)
    assert np.all(gain_jacobi >= gain_ref - 1e-9 * np.abs(gain_ref).max())
