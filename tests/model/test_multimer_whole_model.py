"""Whole-model multimer golden cases (slow: 20-80 s each on 2 cores) and runner settings.

Run with ``pytest -m slow tests/model/test_multimer_whole_model.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from foldkit.model.multimer_config import multimer_config_from_case
from foldkit.model.multimer_network import ca_distance_change
from foldkit.model.multimer_runner import predict_multimer_from_features
from foldkit.model.params import load_params
from foldkit.testing import golden
from foldkit.testing.cases_multimer_model import output_checks, stored_draws
from foldkit.testing.compare import compare
from tests.conftest import AF2_REFERENCE

MULTIMER = AF2_REFERENCE / "multimer"
CASES = ("tiny_multimer_hetero", "tiny_multimer_hetero_det", "tiny_multimer_hetero_detq", "tiny_multimer_hetero_bf16",
         "tiny_multimer_homo", "tiny_multimer_homo_det", "tiny_multimer_homo_detq")


def _case(name: str) -> golden.GoldenCase:
    return next(c for c in golden.discover(MULTIMER, only="multimer") if c.name == name)


def _run(name: str, chunk_size: int | None = None) -> golden.CaseReport:
    report = golden.run_case(_case(name), chunk_size)
    assert report.error is None, report.error
    failures = [f"{r.name}: max_abs={r.max_abs:.3e} {r.detail}" for r in report.results if not r.passed]
    assert not failures, failures
    return report


def _inputs(case: str):
    config = multimer_config_from_case(MULTIMER / f"{case}_config.json")
    params = load_params(MULTIMER / f"{case}_params.npz")
    with np.load(MULTIMER / f"{case}_features.npz") as npz:
        features = {k: npz[k] for k in npz.files if npz[k].dtype.kind not in "US"}
    with np.load(MULTIMER / f"{case}_outputs.npz") as npz:
        reference = {k: npz[k] for k in npz.files}
    with np.load(MULTIMER / f"{case}_msa_sampling.npz") as npz:
        sampling = {k: npz[k] for k in npz.files}
    seed = json.loads((MULTIMER / f"{case}_config.json").read_text())["seeds"]["apply_rng_seed"]
    return config, params, features, reference, sampling, seed


def test_discovery_selects_every_multimer_case():
    cases = golden.discover(MULTIMER, only="multimer")
    assert sorted(c.name for c in cases if c.kind == "multimer") == sorted(CASES)
    index = json.loads((MULTIMER / "modules" / "index.json").read_text())
    assert sorted(c.name for c in cases if c.kind == "modules") == sorted(index)
    monomer = golden.discover(AF2_REFERENCE, only="model")
    assert [c.name for c in monomer] == ["tiny_model_1_ptm", "tiny_model_3"]


def test_ca_distance_change():
    rng = np.random.default_rng(0)
    positions = rng.normal(size=(6, 37, 3)).astype(np.float32) * 10
    rotated = positions @ np.linalg.qr(rng.normal(size=(3, 3)))[0].T.astype(np.float32) + 5.0
    mask = np.ones(6, np.float32)
    assert float(ca_distance_change(positions, rotated, mask)) < 1e-3     # rigid motion: no change
    moved = positions.copy()
    moved[0, 1] += np.asarray([3.0, 0.0, 0.0], np.float32)
    assert float(ca_distance_change(positions, moved, mask)) > 0.1
    mask[0] = 0
    assert float(ca_distance_change(positions, moved, mask)) < 1e-3    # the moved residue is masked


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_whole_model_golden(name):
    report = _run(name)
    names = {r.name for r in report.results}
    assert "num_recycles" in names and "confidence/iptm" in names
    if not name.endswith("_bf16"):
        assert "recycle1/representations/pair" in names
        assert "msa_sampling/iter0/create_msa_feat/msa_feat" in names


@pytest.mark.slow
@pytest.mark.parametrize("name,chunk_size", [("tiny_multimer_hetero", 4), ("tiny_multimer_homo_detq", 7)])
def test_whole_model_golden_chunked(name, chunk_size):
    _run(name, chunk_size)


@pytest.mark.slow
def test_own_draws_reproduce_the_main_case():
    """Without injected draws, the apply seed's own draws are AlphaFold's: the main case matches."""
    config, params, features, reference, _, seed = _inputs("tiny_multimer_homo")
    outputs = predict_multimer_from_features(config, params, features, seed=seed, return_recycles=True)
    results = [compare(check, reference[check.name]) for check in output_checks(outputs, reference)]
    failures = [(r.name, r.max_abs) for r in results if not r.passed]
    assert not failures and len(results) > 40
    assert int(outputs["num_recycles"]) == 2            # stopped early (3 recycles allowed)


@pytest.mark.slow
def test_chunking_and_padding_do_not_change_outputs():
    config, params, features, _, sampling, _ = _inputs("tiny_multimer_hetero")
    draws = stored_draws(sampling)
    plain = predict_multimer_from_features(config, params, features, draws=draws, buckets=())
    chunked = predict_multimer_from_features(config, params, features, draws=draws, chunk_size=5)
    assert chunked["structure_module/final_atom_positions"].shape == (40, 37, 3)   # padded to 64, cropped
    for name in ("representations/pair", "representations/msa", "predicted_aligned_error/logits",
                 "structure_module/final_atom_positions", "confidence/plddt"):
        scale = max(1.0, float(np.abs(plain[name]).max()))
        np.testing.assert_allclose(chunked[name], plain[name], rtol=0, atol=1e-4 * scale, err_msg=name)
    assert int(plain["num_recycles"]) == int(chunked["num_recycles"]) == 2
