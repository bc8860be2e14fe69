"""The multimer network with chunking and with bfloat16 (the tiny hetero golden case, no recycling; slow:
three compilations of the network, ~80 s on 2 cores).

Chunked attention / triangle / transition layers must give the unchunked outputs within float32 rounding;
bfloat16 must run, give finite outputs, differ from float32 (it is really used) and stay within twice the
bf16 - f32 differences of AlphaFold's own runs of this case (``bf16_vs_f32_max_abs_diff`` of its config:
pair 2.5, positions 2.4 A, pLDDT 0.09, ipTM 0.001, after 2 recycles). The golden comparisons of these
settings are the slow tests of test_multimer_whole_model.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from foldkit.model.multimer_config import multimer_config_from_case
from foldkit.model.multimer_runner import predict_multimer_from_features
from foldkit.model.params import load_params
from tests.conftest import AF2_REFERENCE

pytestmark = pytest.mark.slow

CASE = AF2_REFERENCE / "multimer" / "tiny_multimer_hetero"
COMPARED = ("representations/pair", "representations/msa", "representations/single",
            "predicted_aligned_error/logits", "predicted_lddt/logits", "structure_module/final_atom_positions")


@pytest.fixture(scope="module")
def runs():
    config = multimer_config_from_case(f"{CASE}_config.json", overrides={"model.num_recycle": 0})
    params = load_params(f"{CASE}_params.npz")
    with np.load(f"{CASE}_features.npz") as npz:
        features = {k: npz[k] for k in npz.files if npz[k].dtype.kind not in "US"}
    settings = {"plain": {}, "chunked": {"chunk_size": 7}, "bf16": {"bfloat16": True}}
    return {label: predict_multimer_from_features(config, params, features, seed=7, buckets=(), **kwargs)
            for label, kwargs in settings.items()}


def test_chunked_equals_unchunked(runs):
    plain, chunked = runs["plain"], runs["chunked"]
    assert plain["structure_module/final_atom_positions"].shape == (40, 37, 3)
    for name in COMPARED:
        scale = max(1.0, float(np.abs(plain[name]).max()))
        np.testing.assert_allclose(chunked[name], plain[name], rtol=0, atol=1e-4 * scale, err_msg=name)
    for name in ("confidence/plddt", "confidence/ptm", "confidence/iptm"):
        np.testing.assert_allclose(chunked[name], plain[name], atol=1e-3, err_msg=name)
    assert int(plain["num_recycles"]) == int(chunked["num_recycles"]) == 0


def test_bfloat16_runs_close_to_float32(runs):
    plain, bf16 = runs["plain"], runs["bf16"]
    for name in COMPARED:
        assert bf16[name].dtype == np.float32 and np.isfinite(bf16[name]).all(), name
    alphafold = json.loads(open(f"{CASE}_config.json").read())["bf16_vs_f32_max_abs_diff"]
    pair_change = np.abs(bf16["representations/pair"] - plain["representations/pair"]).max()
    assert 1e-3 < pair_change < 2 * alphafold["representations/pair"]   # bf16 really used; AlphaFold-like drift
    for name in ("structure_module/final_atom_positions", "confidence/plddt", "confidence/ptm", "confidence/iptm"):
        change = np.abs(np.asarray(bf16[name]) - np.asarray(plain[name])).max()
        assert change <= 2 * alphafold[name] + 1e-3, (name, change, alphafold[name])
    assert int(bf16["num_recycles"]) == 0
