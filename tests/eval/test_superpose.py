import numpy as np

from foldkit.eval.superpose import PairMoments, apply, kabsch, superposed_rmsd
from tests.eval.helpers import chain_ca, random_rotation


def test_kabsch_recovers_a_rigid_motion():
    rng = np.random.default_rng(0)
    y = chain_ca(60, rng)
    rot, trans = random_rotation(rng), np.array([10.0, -4.0, 25.0])
    x = (y - trans) @ rot          # so that x R^T + t = y
    r, t = kabsch(x, y)
    np.testing.assert_allclose(r, rot, atol=1e-9)
    np.testing.assert_allclose(t, trans, atol=1e-8)
    assert superposed_rmsd(x, y) < 1e-9


def test_kabsch_never_reflects():
    rng = np.random.default_rng(1)
    y = chain_ca(40, rng)
    x = y * np.array([-1.0, 1.0, 1.0])      # mirror image: best proper rotation is not exact
    r, _ = kabsch(x, y)
    assert np.linalg.det(r) > 0.999
    assert superposed_rmsd(x, y) > 0.5


def test_batched_deviations_equal_single_superpositions():
    rng = np.random.default_rng(2)
    y = chain_ca(80, rng)
    x = y @ random_rotation(rng).T + rng.normal(scale=1.5, size=y.shape) + 7.0
    weights = (rng.random((6, 80)) < 0.4).astype(float)
    d2 = PairMoments.of(x, y).squared_deviations(weights)
    for w, row in zip(weights, d2):
        r, t = kabsch(x, y, w)
        np.testing.assert_allclose(((apply(r, t, x) - y) ** 2).sum(1), row, atol=1e-8)
    rot, trans = PairMoments.of(x, y).superpose(weights)
    for w, r_b, t_b in zip(weights, rot, trans):
        r, t = kabsch(x, y, w)
        np.testing.assert_allclose(r_b, r, atol=1e-10)
        np.testing.assert_allclose(t_b, t, atol=1e-8)
