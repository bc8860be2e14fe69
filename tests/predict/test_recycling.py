"""The one-iteration recycling loop: equals AlphaFold2's forward pass (golden), early stop, determinism."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model import config as config_lib, params as params_lib
from foldkit.model.runner import RunnerConfig
from foldkit.predict.recycling import CompiledIterations, ca_distance_change, run_with_recycling
from foldkit.testing.cases_model import output_kind
from foldkit.testing.compare import OutputCheck, compare
from tests.conftest import AF2_REFERENCE

CASE = "tiny_model_1_ptm"


@pytest.fixture(scope="module")
def golden():
    cfg = config_lib.from_case_config(AF2_REFERENCE / f"{CASE}_config.json")
    params = jax.tree.map(jnp.asarray, params_lib.load_params(AF2_REFERENCE / f"{CASE}_params.npz"))
    with np.load(AF2_REFERENCE / f"{CASE}_features.npz") as npz:
        features = {k: npz[k] for k in npz.files}
    with np.load(AF2_REFERENCE / f"{CASE}_outputs.npz") as npz:
        outputs = {k: npz[k] for k in npz.files}
    return cfg, params, features, outputs


@pytest.fixture(scope="module")
def compiled():
    return CompiledIterations(RunnerConfig())


def test_loop_without_early_stop_matches_alphafold_golden(golden, compiled):
    cfg, params, features, reference = golden
    result = run_with_recycling(cfg, params, features, compiled, cfg.model.num_recycle, tolerance=0.0)
    assert result.num_recycles == cfg.model.num_recycle == 1 and not result.early_stopped
    assert len(result.distance_changes) == 1 and result.distance_changes[0] > 0
    names = ["structure_module/final_atom_positions", "confidence/plddt", "confidence/ptm",
             "confidence/predicted_aligned_error", "representations/pair", "predicted_lddt/logits"]
    for name in names:
        check = compare(OutputCheck(name, result.outputs[name], output_kind(name)), reference[name])
        assert check.passed, (name, check.max_abs, check.detail)


def test_early_stop_and_determinism(golden, compiled):
    cfg, params, features, _ = golden
    # 3 recycles need 4 batch slices; repeat the golden slices (model reads slice r at iteration r)
    four = {k: np.concatenate([v, v], axis=0) for k, v in features.items()}
    full = run_with_recycling(cfg, params, four, compiled, 3, tolerance=0.0)
    assert full.num_recycles == 3 and len(full.distance_changes) == 3 and not full.early_stopped
    assert full.compile_seconds == 0.0     # same shapes as the golden test: compiled function reused
    stopped = run_with_recycling(cfg, params, four, compiled, 3, tolerance=1e6)
    assert stopped.num_recycles == 1 and stopped.early_stopped
    np.testing.assert_array_equal(stopped.distance_changes, full.distance_changes[:1])
    # a tolerance between the 1st and 2nd change stops after the 2nd recycle
    changes = full.distance_changes
    if changes[1] < changes[0]:
        middle = run_with_recycling(cfg, params, four, compiled, 3, tolerance=(changes[0] + changes[1]) / 2)
        assert middle.num_recycles == 2 and middle.early_stopped
    again = run_with_recycling(cfg, params, four, compiled, 3, tolerance=0.0)
    np.testing.assert_array_equal(again.outputs["structure_module/final_atom_positions"],
                                  full.outputs["structure_module/final_atom_positions"])


def test_ca_distance_change_is_frame_invariant():
    rng = np.random.default_rng(0)
    ca = rng.normal(size=(30, 3)) * 10
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    moved = ca @ rotation.T + np.array([5.0, -3.0, 2.0])
    assert ca_distance_change(ca, moved) == pytest.approx(0.0, abs=1e-9)
    stretched = ca * 1.1
    d = np.linalg.norm(ca[:, None] - ca[None], axis=-1)
    assert ca_distance_change(ca, stretched) == pytest.approx(np.sqrt(np.mean((0.1 * d) ** 2)), rel=1e-9)
