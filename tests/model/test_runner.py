"""Runner: input checks, bfloat16 compute, jit reuse across calls."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.model import config as config_lib, params as params_lib
from foldkit.model.runner import ModelRunner, RunnerConfig, predict_from_features
from tests.conftest import AF2_REFERENCE


@pytest.fixture(scope="module")
def tiny_model_3():
    cfg = config_lib.from_case_config(AF2_REFERENCE / "tiny_model_3_config.json")
    params = params_lib.load_params(AF2_REFERENCE / "tiny_model_3_params.npz")
    with np.load(AF2_REFERENCE / "tiny_model_3_features.npz") as npz:
        features = {k: npz[k] for k in npz.files}
    return cfg, params, features


def test_wrong_batch_and_missing_features_refused(tiny_model_3):
    cfg, params, features = tiny_model_3
    one_slice = {k: v[:1] for k, v in features.items()}
    with pytest.raises(InputError, match="needs 2"):
        predict_from_features(cfg, params, one_slice)
    without_msa = {k: v for k, v in features.items() if k != "msa_feat"}
    with pytest.raises(InputError, match="msa_feat"):
        predict_from_features(cfg, params, without_msa)
    with pytest.raises(InputError, match="leading batch axis"):
        predict_from_features(cfg, params, {k: v[0] for k, v in features.items()})
    bad = dict(features, msa_mask=features["msa_mask"][:, :, :30])
    with pytest.raises(InputError, match="msa_mask"):
        predict_from_features(cfg, params, bad)


@pytest.mark.slow
def test_bfloat16_close_to_float32(tiny_model_3):
    cfg, params, features = tiny_model_3
    runner32 = ModelRunner(cfg, params, RunnerConfig())
    full = runner32.predict(features)
    half = predict_from_features(cfg, params, features, bfloat16=True)
    assert half["representations/pair"].dtype == np.float32
    for key in ("structure_module/final_atom_positions", "confidence/plddt"):
        assert np.all(np.isfinite(half[key]))
    # bf16 has ~3 significant digits: positions within a few tenths of an Angstrom on this tiny case
    ca_error = np.abs(half["structure_module/final_atom_positions"][:, 1]
                      - full["structure_module/final_atom_positions"][:, 1]).max()
    assert ca_error < 1.0, ca_error
    assert np.abs(half["confidence/plddt"] - full["confidence/plddt"]).max() < 2.0
    # a second call of the same runner reuses the compiled function
    again = runner32.predict(features)
    np.testing.assert_array_equal(again["confidence/plddt"], full["confidence/plddt"])


def test_matmul_precision_setting_reaches_the_trace(tiny_model_3, monkeypatch):
    """RunnerConfig.matmul_precision is the jax setting while the network is traced (full float32
    on CPU either way, so the outputs are identical)."""
    import jax

    from foldkit.model import runner as runner_lib

    seen = []
    original = runner_lib._jitted_apply

    def spying_jitted_apply(*args):
        apply = original(*args)

        def call(params, batch):
            seen.append(jax.config.jax_default_matmul_precision)
            return apply(params, batch)
        return call

    monkeypatch.setattr(runner_lib, "_jitted_apply", spying_jitted_apply)
    cfg, params, features = tiny_model_3
    default = ModelRunner(cfg, params, RunnerConfig()).predict(features)
    highest = ModelRunner(cfg, params, RunnerConfig(matmul_precision="highest")).predict(features)
    assert seen == [None, "highest"]
    np.testing.assert_array_equal(default["confidence/plddt"], highest["confidence/plddt"])
