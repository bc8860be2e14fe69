"""Short training runs on CPU: the loss goes down, resuming reproduces, the CLI works.

All runs share one tiny config, so the jitted step is compiled once per session. The two
short runs are part of the default suite (about a minute each on 2 cores, mostly the
gradient compile); the CLI round trip with evaluation is marked slow.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from foldkit.train.checkpoint import params_from_checkpoint
from foldkit.train.config import load_config
from foldkit.train.loop import Trainer
from foldkit.train.metrics import read_metrics
from tests.conftest import REPO_ROOT, TRAIN_DIR

TINY = REPO_ROOT / "foldkit" / "train" / "configs" / "tiny.json"
TEST_OVERRIDES = {"num_recycle": 0, "sample_recycles": False, "batch_size": 2, "crop_size": 48,
                  "checkpoint_every": 1000}


def tiny_config(**data):
    base = json.loads(TINY.read_text())
    settings = dict(base["data"], **data)
    return load_config(TINY, **TEST_OVERRIDES, data=settings)


def test_short_run_lowers_the_loss(tmp_path):
    # one short chain, cropped whole: the network can fit it in a few steps
    config = tiny_config(limit=1, max_length=44, spatial_crop_fraction=0.0, use_msa=False)
    trainer = Trainer(config, TRAIN_DIR, tmp_path / "run")
    state = trainer.run(max_steps=24, progress=False)
    losses = [r["loss"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl")]
    assert state.step == 24 and len(losses) == 24
    assert np.mean(losses[-4:]) < 0.9 * np.mean(losses[:4])
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000


def test_resumed_run_reproduces_the_uninterrupted_one(tmp_path):
    config = tiny_config(limit=6, max_length=120)
    whole = Trainer(config, TRAIN_DIR, tmp_path / "whole").run(max_steps=6, progress=False)
    Trainer(config, TRAIN_DIR, tmp_path / "split").run(max_steps=3, progress=False)
    resumed = Trainer(config, TRAIN_DIR, tmp_path / "split").run(resume=True, max_steps=3, progress=False)
    assert whole.step == resumed.step == 6
    a = read_metrics(tmp_path / "whole" / "metrics.jsonl")
    b = read_metrics(tmp_path / "split" / "metrics.jsonl")
    assert [r["step"] for r in b] == list(range(1, 7))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]          # exactly equal
    _assert_same_params(params_from_checkpoint(tmp_path / "whole" / "checkpoint.npz"),
                        params_from_checkpoint(tmp_path / "split" / "checkpoint.npz"))


@pytest.mark.slow
def test_cli_train_and_evaluate(tmp_path, capsys):
    from foldkit.cli import main

    config = json.loads(TINY.read_text())
    config.update(TEST_OVERRIDES, steps=2)
    config["data"].update(limit=4, max_length=120)
    config_path = tmp_path / "tiny.json"
    config_path.write_text(json.dumps(config))
    run_dir = tmp_path / "run"
    assert main(["train", "--config", str(config_path), "--data", str(TRAIN_DIR), "--out", str(run_dir),
                 "--quiet"]) == 0
    for name in ("metrics.jsonl", "loss.png", "checkpoint.npz", "params_tiny.npz", "params_tiny.json"):
        assert (run_dir / name).is_file(), name
    # the exported parameters + sidecar config load the way `foldkit predict --params-dir` reads them
    from foldkit.predict.models import resolve_models
    choice = next(c for c in resolve_models(run_dir) if c.name == "tiny")
    assert choice.load_params()
    # a second call without --resume refuses to overwrite the run
    assert main(["train", "--config", str(config_path), "--data", str(TRAIN_DIR), "--out", str(run_dir)]) == 2
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--split", "test", "--limit", "2", "--max-length", "100",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["chains"] == 2
    for key in ("mean_gdt_ts", "mean_tm_score", "mean_lddt_ca", "mean_helix_gdt_ts"):
        assert 0.0 <= summary[key] <= 100.0
    records = [json.loads(line) for line in (run_dir / "eval_test.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["length"] <= 100 for r in records)


def _assert_same_params(a, b):
    assert set(a) == set(b)
    for module in a:
        for name in a[module]:
            np.testing.assert_array_equal(np.asarray(a[module][name]), np.asarray(b[module][name]))


def test_warm_start_from_a_checkpoint_or_an_exported_file(tmp_path):
    from foldkit.train.loop import export_run

    config = tiny_config(limit=2, max_length=120)
    Trainer(config, TRAIN_DIR, tmp_path / "first").run(max_steps=2, progress=False)
    trained = params_from_checkpoint(tmp_path / "first" / "checkpoint.npz")
    exported, _ = export_run(tmp_path / "first", tmp_path / "exported.npz")
    fresh = Trainer(config, TRAIN_DIR, tmp_path / "cold").initial_state()
    for source in (tmp_path / "first" / "checkpoint.npz", exported):
        state = Trainer(config, TRAIN_DIR, tmp_path / f"warm_{source.stem}", init_from=source).initial_state()
        assert state.step == 0 and state.micro_step == 0
        _assert_same_params(state.params, trained)
    # the warm start is not the random initialisation
    assert not np.array_equal(np.asarray(fresh.params["alphafold/alphafold_iteration/distogram_head/half_logits"]
                                         ["weights"]),
                              trained["alphafold/alphafold_iteration/distogram_head/half_logits"]["weights"])


def test_warm_start_refuses_another_architecture(tmp_path):
    from foldkit.errors import InputError

    config = tiny_config(limit=2, max_length=120)
    Trainer(config, TRAIN_DIR, tmp_path / "first").run(max_steps=1, progress=False)
    base = json.loads(TINY.read_text())
    wider = load_config(TINY, **TEST_OVERRIDES, model_overrides=dict(
        base.get("model_overrides", {}), **{"model.embeddings_and_evoformer.pair_channel": 24}))
    with pytest.raises(InputError, match="do not match"):
        Trainer(wider, TRAIN_DIR, tmp_path / "other", init_from=tmp_path / "first" / "checkpoint.npz").initial_state()
    with pytest.raises(InputError, match="not found"):
        Trainer(config, TRAIN_DIR, tmp_path / "none", init_from=tmp_path / "missing.npz").initial_state()


def test_cli_init_from_cannot_resume(tmp_path, capsys):
    from foldkit.cli import main

    assert main(["train", "--config", str(TINY), "--data", str(TRAIN_DIR), "--out", str(tmp_path / "run"),
                 "--resume", "--init-from", str(tmp_path / "x.npz")]) == 2
    assert "--init-from" in capsys.readouterr().err
