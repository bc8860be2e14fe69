"""Property tests of the heads, confidence metrics, lDDT and FAPE (beyond the goldens)."""

from __future__ import annotations

import json

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model import confidence, heads
from foldkit.model.fape import frame_aligned_point_error
from foldkit.model.heads_config import HeadsConfig, PredictedAlignedErrorConfig
from foldkit.model.lddt import lddt
from tests.conftest import AF2_REFERENCE

PAE_BREAKS = np.linspace(0.0, 31.0, 63, dtype=np.float32)


def _random_rotations(rng: np.random.Generator, count: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(count, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    q[np.linalg.det(q) < 0, :, 0] *= -1
    return q.astype(np.float32)  # [count, 3, 3], proper rotations


# ---------------------------------------------------------------- confidence

@pytest.mark.parametrize("case", ["tiny_model_1_ptm", "tiny_model_3"])
def test_confidence_metrics_match_whole_model_reference(case, af2_reference):
    with np.load(AF2_REFERENCE / f"{case}_outputs.npz", allow_pickle=False) as data:
        ref = {key: data[key] for key in data.files}
    ours = confidence.confidence_metrics(ref)
    expected = sorted(key for key in ref if key.startswith("confidence/"))
    assert sorted(ours) == expected
    atol = {"plddt": 1e-3, "ranking_confidence": 1e-3, "predicted_aligned_error": 1e-3,
            "aligned_confidence_probs": 1e-4, "ptm": 1e-5, "max_predicted_aligned_error": 0.0}
    for key in expected:
        diff = np.max(np.abs(ours[key].astype(np.float64) - ref[key]))
        print(f"{case} {key}: max_abs={diff:.3g}")
        assert ours[key].shape == ref[key].shape
        assert diff <= atol[key.split("/")[1]], key


def test_confidence_metrics_accepts_nested_outputs():
    rng = np.random.default_rng(0)
    flat = {"predicted_lddt/logits": rng.normal(size=(9, 50)).astype(np.float32),
            "predicted_aligned_error/logits": rng.normal(size=(9, 9, 64)).astype(np.float32),
            "predicted_aligned_error/breaks": PAE_BREAKS}
    nested = {"predicted_lddt": {"logits": flat["predicted_lddt/logits"]},
              "predicted_aligned_error": {"logits": flat["predicted_aligned_error/logits"],
                                          "breaks": PAE_BREAKS}}
    a, b = confidence.confidence_metrics(flat), confidence.confidence_metrics(nested)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_plddt_range():
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=20.0, size=(64, 50)).astype(np.float32)
    values = np.asarray(confidence.plddt(logits))
    assert values.min() >= 0.0 and values.max() <= 100.0
    confident_high = np.full((3, 50), -1e4, np.float32)
    confident_high[:, -1] = 1e4
    confident_low = confident_high[:, ::-1].copy()
    np.testing.assert_allclose(confidence.plddt(confident_high), 99.0, atol=1e-4)  # last bin centre
    np.testing.assert_allclose(confidence.plddt(confident_low), 1.0, atol=1e-4)    # first bin centre
    np.testing.assert_allclose(confidence.plddt(np.zeros((2, 50), np.float32)), 50.0, atol=1e-4)


def _peaked_pae_logits(num_res: int, bin_index: int) -> np.ndarray:
    logits = np.full((num_res, num_res, 64), -1e4, np.float32)
    logits[..., bin_index] = 1e4
    return logits


def test_ptm_of_perfect_confident_prediction_is_close_to_one():
    ptm = float(confidence.predicted_tm_score(_peaked_pae_logits(100, 0), PAE_BREAKS))
    assert 0.99 < ptm <= 1.0
    pae = confidence.predicted_aligned_error(_peaked_pae_logits(5, 0), PAE_BREAKS)
    np.testing.assert_allclose(pae["predicted_aligned_error"], 0.25, atol=1e-6)  # first bin centre
    assert float(pae["max_predicted_aligned_error"]) == 31.75


def test_ptm_of_hopeless_prediction_is_small():
    ptm = float(confidence.predicted_tm_score(_peaked_pae_logits(100, 63), PAE_BREAKS))
    assert ptm < 0.05


def test_ptm_with_unit_weights_equals_unweighted():
    logits = np.random.default_rng(2).normal(size=(25, 25, 64)).astype(np.float32)
    unweighted = float(confidence.predicted_tm_score(logits, PAE_BREAKS))
    weighted = float(confidence.predicted_tm_score(logits, PAE_BREAKS, np.ones(25, np.float32)))
    assert weighted == pytest.approx(unweighted, abs=1e-7)


def test_ptm_ignores_a_low_confidence_frame_outside_the_weights():
    """A residue with weight 0 can be neither the best frame nor an aligned residue."""
    logits = _peaked_pae_logits(30, 40)     # mediocre everywhere
    logits[29] = _peaked_pae_logits(30, 0)[0]  # padded row 29 looks perfect as a frame
    weights = np.ones(30, np.float32)
    weights[29] = 0.0
    unpadded = float(confidence.predicted_tm_score(logits[:29, :29], PAE_BREAKS))
    masked = float(confidence.predicted_tm_score(logits, PAE_BREAKS, weights))
    assert masked == pytest.approx(unpadded, abs=1e-6)
    assert float(confidence.predicted_tm_score(logits, PAE_BREAKS)) > masked + 0.01


def test_confidence_on_padded_length_ignores_padding_when_weighted():
    rng = np.random.default_rng(3)
    num_res, padded = 30, 40
    plddt_logits = rng.normal(scale=3.0, size=(padded, 50)).astype(np.float32)
    pae_logits = rng.normal(scale=3.0, size=(padded, padded, 64)).astype(np.float32)
    pae_logits[num_res:, :, 0] = 50.0  # padding rows/columns claim perfect confidence
    pae_logits[:, num_res:, 0] = 50.0
    plddt_logits[num_res:, -1] = 50.0
    mask = (np.arange(padded) < num_res).astype(np.float32)

    def outputs(length):
        return {"predicted_lddt/logits": plddt_logits[:length],
                "predicted_aligned_error/logits": pae_logits[:length, :length],
                "predicted_aligned_error/breaks": PAE_BREAKS}

    reference = confidence.confidence_metrics(outputs(num_res))
    padded_metrics = confidence.confidence_metrics(outputs(padded), residue_weights=mask)
    for key in ("confidence/ptm", "confidence/ranking_confidence", "confidence/max_predicted_aligned_error"):
        assert float(padded_metrics[key]) == pytest.approx(float(reference[key]), abs=1e-5), key
    np.testing.assert_allclose(padded_metrics["confidence/plddt"][:num_res], reference["confidence/plddt"],
                               atol=1e-4)
    np.testing.assert_allclose(padded_metrics["confidence/predicted_aligned_error"][:num_res, :num_res],
                               reference["confidence/predicted_aligned_error"], atol=1e-4)
    unweighted = confidence.confidence_metrics(outputs(padded))
    assert float(unweighted["confidence/ptm"]) > float(reference["confidence/ptm"]) + 0.01
    assert float(unweighted["confidence/ranking_confidence"]) > float(reference["confidence/ranking_confidence"])


def test_confidence_functions_jit():
    logits = np.random.default_rng(4).normal(size=(12, 12, 64)).astype(np.float32)
    weights = np.ones(12, np.float32)
    eager = confidence.predicted_tm_score(logits, PAE_BREAKS, weights)
    jitted = jax.jit(confidence.predicted_tm_score)(logits, PAE_BREAKS, weights)
    assert float(jitted) == pytest.approx(float(eager), abs=1e-7)


# ---------------------------------------------------------------- heads

_FULL_SIZES = {"single": 384, "pair": 128, "msa": 256, "structure_module": 384}


def test_full_size_head_params_match_the_official_spec(af2_reference):
    preset = json.loads((AF2_REFERENCE / "config_model_1_ptm.json").read_text())
    config = HeadsConfig.from_dict(preset["model"]["heads"])
    assert config.active_heads() == ("distogram", "experimentally_resolved", "masked_msa",
                                     "predicted_aligned_error", "predicted_lddt")
    spec = json.loads((AF2_REFERENCE / "param_spec_model_1_ptm.json").read_text())
    prefix = "alphafold/alphafold_iteration/"
    head_names = ("distogram_head", "experimentally_resolved_head", "masked_msa_head",
                  "predicted_aligned_error_head", "predicted_lddt_head")
    expected = {p["key"][len(prefix):]: tuple(p["shape"]) for p in spec["params"]
                if p["key"].startswith(prefix) and p["key"][len(prefix):].split("/")[0] in head_names}
    num_res, num_seq = 8, 4
    reps = {"single": jnp.zeros((num_res, 384)), "pair": jnp.zeros((num_res, num_res, 128)),
            "msa": jnp.zeros((num_seq, num_res, 256)), "structure_module": jnp.zeros((num_res, 384))}

    def forward(representations):
        return heads.apply_heads(config, representations)

    params = jax.eval_shape(hk.transform(forward).init, jax.random.PRNGKey(0), reps)
    ours = {f"{module}//{name}": tuple(value.shape) for module, group in params.items()
            for name, value in group.items()}
    assert ours == expected
    shapes = jax.eval_shape(hk.transform(forward).apply, params, None, reps)
    assert shapes["distogram/logits"].shape == (num_res, num_res, 64)
    assert shapes["masked_msa/logits"].shape == (num_seq, num_res, 23)
    assert shapes["experimentally_resolved/logits"].shape == (num_res, 37)
    assert shapes["predicted_lddt/logits"].shape == (num_res, 50)
    assert shapes["predicted_aligned_error/logits"].shape == (num_res, num_res, 64)
    assert shapes["predicted_aligned_error/breaks"].shape == (63,)


def test_heads_config_without_ptm_disables_pae(af2_reference):
    preset = json.loads((AF2_REFERENCE / "config_model_3.json").read_text())
    config = HeadsConfig.from_dict(preset["model"]["heads"])
    assert "predicted_aligned_error" not in config.active_heads()
    reps = {"single": jnp.zeros((5, 384)), "pair": jnp.zeros((5, 5, 128)),
            "msa": jnp.zeros((3, 5, 256)), "structure_module": jnp.zeros((5, 384))}
    forward = hk.transform(lambda r: heads.apply_heads(config, r))
    params = jax.eval_shape(forward.init, jax.random.PRNGKey(0), reps)
    head_modules = {path.split("/")[0] for path in params}
    assert head_modules == {"distogram_head", "experimentally_resolved_head", "masked_msa_head",
                            "predicted_lddt_head"}
    outputs = jax.eval_shape(forward.apply, params, None, reps)
    assert not any(key.startswith("predicted_aligned_error/") for key in outputs)
    with pytest.raises(ValueError, match="unknown config keys"):
        PredictedAlignedErrorConfig.from_dict({"num_bins": 64, "typo": 1})


def test_distogram_logits_are_symmetric_with_random_weights():
    class _Global:
        zero_init = False

    pair = jax.random.normal(jax.random.PRNGKey(1), (6, 6, 16))
    forward = hk.transform(lambda p: heads.DistogramHead(HeadsConfig().distogram, _Global())({"pair": p}))
    params = forward.init(jax.random.PRNGKey(2), pair)
    logits = np.asarray(forward.apply(params, None, pair)["distogram/logits"])
    assert np.abs(logits).max() > 0
    np.testing.assert_allclose(logits, np.swapaxes(logits, 0, 1), atol=1e-6)


# ---------------------------------------------------------------- FAPE and lDDT

def _random_frames_and_points(seed: int, num_frames: int = 9, num_points: int = 14):
    rng = np.random.default_rng(seed)
    rot = _random_rotations(rng, num_frames)
    trans = rng.normal(scale=5.0, size=(num_frames, 3)).astype(np.float32)
    points = rng.normal(scale=8.0, size=(num_points, 3)).astype(np.float32)
    return rot, trans, points


def _fape(pred, target, clamp=10.0, scale=10.0):
    (p_rot, p_trans, p_pts), (t_rot, t_trans, t_pts) = pred, target
    return float(frame_aligned_point_error(p_rot, p_trans, t_rot, t_trans, np.ones(len(p_rot), np.float32),
                                           p_pts, t_pts, np.ones(len(p_pts), np.float32),
                                           length_scale=scale, l1_clamp_distance=clamp))


def test_fape_of_identical_structures_is_epsilon_floor():
    structure = _random_frames_and_points(5)
    assert _fape(structure, structure) == pytest.approx(np.sqrt(1e-4) / 10.0, rel=1e-3)


def test_fape_is_invariant_to_a_global_rigid_motion():
    pred, target = _random_frames_and_points(6), _random_frames_and_points(7)
    rotation = _random_rotations(np.random.default_rng(8), 1)[0]
    shift = np.array([3.0, -7.0, 11.0], np.float32)
    moved = (rotation @ pred[0], pred[1] @ rotation.T + shift, pred[2] @ rotation.T + shift)
    assert _fape(moved, target) == pytest.approx(_fape(pred, target), rel=1e-5)
    assert _fape(pred, target, clamp=10.0) <= _fape(pred, target, clamp=None)
    assert _fape(pred, target, scale=20.0) == pytest.approx(_fape(pred, target, scale=10.0) / 2, rel=1e-6)


def test_lddt_is_one_for_a_rigidly_moved_copy_and_lower_for_a_distorted_one():
    rng = np.random.default_rng(9)
    true = rng.normal(scale=6.0, size=(1, 20, 3)).astype(np.float32)
    rotation = _random_rotations(rng, 1)[0]
    moved = true @ rotation.T + np.float32(4.0)
    mask = np.ones((1, 20, 1), np.float32)
    np.testing.assert_allclose(lddt(moved, true, mask), 1.0, atol=1e-6)
    np.testing.assert_allclose(lddt(moved, true, mask, per_residue=True), 1.0, atol=1e-6)
    distorted = true + rng.normal(scale=1.5, size=true.shape).astype(np.float32)
    score = float(lddt(distorted, true, mask)[0])
    assert 0.0 < score < 0.9
    per_residue = np.asarray(lddt(distorted, true, mask, per_residue=True))
    assert per_residue.shape == (1, 20) and np.all((per_residue >= 0) & (per_residue <= 1))
