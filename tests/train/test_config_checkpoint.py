"""Training config files and atomic, pickle-free checkpoints."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from foldkit.errors import InputError
from foldkit.model.alphafold import param_spec_from_init
from foldkit.train import checkpoint as ckpt
from foldkit.train.config import load_config
from foldkit.train.loop import learning_rate_schedule
from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / "foldkit" / "train" / "configs"


@pytest.mark.parametrize("name", ["tiny", "mini"])
def test_example_configs_load(name):
    config = load_config(CONFIGS / f"{name}.json")
    tree = config.model_tree()
    assert tree["model"]["num_recycle"] == config.num_recycle
    assert config.alphafold_config().has_pae_head


def test_mini_is_small_enough_to_ship():
    spec = param_spec_from_init(load_config(CONFIGS / "mini.json").alphafold_config())
    size_mb = 4 * sum(int(np.prod(shape)) for shape in spec.values()) / 1e6
    assert size_mb <= 20.0
    # same module tree as the full model: every module of the mini model is a module of model_3_ptm
    from foldkit.model.params import packaged_spec
    full = {key.rsplit("//", 1)[0] for key in packaged_spec("model_3_ptm")}
    assert {key.rsplit("//", 1)[0] for key in spec} <= full


def test_bad_configs_are_clear_errors(tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"name": "x",\n "steps": }')
    with pytest.raises(InputError, match="line 2"):
        load_config(bad_json)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"stepz": 3}))
    with pytest.raises(InputError, match="stepz"):
        load_config(unknown)
    bad_override = tmp_path / "override.json"
    bad_override.write_text(json.dumps({"model_overrides": {"model.no_such_setting": 1}}))
    with pytest.raises(InputError, match="no_such_setting"):
        load_config(bad_override)


def test_schedule_warms_up_and_decays():
    config = load_config(CONFIGS / "tiny.json")
    schedule = learning_rate_schedule(config.schedule, total_steps=30)
    peak = config.schedule.peak
    assert float(schedule(0)) == 0.0
    assert float(schedule(5)) == pytest.approx(peak)
    assert float(schedule(30)) == pytest.approx(peak * config.schedule.end_factor, rel=1e-4)
    assert float(schedule(2)) < float(schedule(4)) and float(schedule(20)) < float(schedule(10))


def test_checkpoint_round_trip_is_exact_and_atomic(tmp_path):
    params = {"a/b": {"weights": jnp.arange(6.0).reshape(2, 3), "bias": jnp.ones(3)},
              "c": {"scale": jnp.full((4,), 0.5)}}
    optimizer = optax.MultiSteps(optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-3)), every_k_schedule=2)
    state = optimizer.init(params)
    grads = {"a/b": {"weights": jnp.ones((2, 3)), "bias": jnp.ones(3)}, "c": {"scale": jnp.ones(4)}}
    _, state = optimizer.update(grads, state, params)
    path = ckpt.save_checkpoint(tmp_path, params, state, step=7, data_state={"seed": 1, "next_example_block": 7})
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]      # no temporary file left
    with np.load(path, allow_pickle=False) as data:                        # loads without pickle
        assert "params//a/b//weights" in data.files
    template = optimizer.init(params)
    restored_params, restored_state, meta = ckpt.restore_checkpoint(path, params, template)
    assert meta["step"] == 7 and meta["data_state"]["next_example_block"] == 7
    for got, want in zip(__import__("jax").tree.leaves((restored_params, restored_state)),
                         __import__("jax").tree.leaves((params, state))):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    nested = ckpt.params_from_checkpoint(path)
    np.testing.assert_array_equal(nested["a/b"]["weights"], np.arange(6.0).reshape(2, 3))
    with pytest.raises(InputError, match="shape"):
        ckpt.restore_checkpoint(path, {**params, "c": {"scale": jnp.zeros(5)}}, template)


def test_export_writes_params_and_sidecar_from_a_checkpoint(tmp_path):
    """`foldkit train --out RUN --export P.npz` turns a checkpoint into a file `foldkit predict` loads."""
    from foldkit.cli import main
    from foldkit.model.alphafold import init_params
    from foldkit.predict.models import resolve_models
    from foldkit.train.checkpoint import save_checkpoint
    from foldkit.train.config import load_config

    config = load_config(REPO_ROOT / "foldkit" / "train" / "configs" / "tiny.json")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(config.to_dict()))
    params = init_params(config.alphafold_config(), seed=3)
    save_checkpoint(run, params, {}, 7, {"seed": 0, "next_example_block": 7})
    assert main(["train", "--out", str(run), "--export", str(tmp_path / "export" / "params_tiny.npz")]) == 0
    choice = resolve_models(tmp_path / "export")[0]
    assert choice.name == "tiny" and choice.config_source.endswith("params_tiny.json")
    loaded = choice.load_params()
    for module, values in params.items():
        for name, value in values.items():
            np.testing.assert_array_equal(np.asarray(loaded[module][name]), np.asarray(value))
    assert main(["train", "--out", str(tmp_path / "missing"), "--export", str(tmp_path / "x.npz")]) == 2
