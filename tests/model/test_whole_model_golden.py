"""Whole-model golden cases, parameter trees of foldkit's own init, padding."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.model import alphafold, config as config_lib, params as params_lib
from foldkit.model.runner import RunnerConfig, crop_outputs, output_residue_axes, pad_features, predict_from_features
from foldkit.testing import golden
from foldkit.testing.cases_model import output_kind
from foldkit.testing.compare import Kind
from tests.conftest import AF2_REFERENCE

CASES = ("tiny_model_1_ptm", "tiny_model_3")


def _run_golden(name: str, chunk_size: int | None):
    case = next(c for c in golden.discover(AF2_REFERENCE, only="model") if c.name == name)
    report = golden.run_case(case, chunk_size)
    failures = [f"{r.name}: max_abs={r.max_abs:.3e} {r.detail}" for r in report.results if not r.passed]
    assert report.error is None, report.error
    assert not failures, failures
    names = {r.name for r in report.results}
    assert "structure_module/final_atom_positions" in names and "recycle0/representations/pair" in names
    return report


def test_tiny_model_3_golden_unchunked():
    _run_golden("tiny_model_3", None)


@pytest.mark.slow
@pytest.mark.parametrize("name,chunk_size", [("tiny_model_1_ptm", None), ("tiny_model_1_ptm", 4),
                                             ("tiny_model_1_ptm", 7), ("tiny_model_3", 4), ("tiny_model_3", 7)])
def test_whole_model_golden(name, chunk_size):
    report = _run_golden(name, chunk_size)
    if name == "tiny_model_1_ptm":
        names = {r.name for r in report.results}
        assert {"confidence/ptm", "predicted_aligned_error/logits",
                "intermediates/template_torsion_angles_sin_cos"} <= names


@pytest.mark.parametrize("name", ["model_1_ptm", "model_3_ptm",
                                  pytest.param("model_1", marks=pytest.mark.slow),
                                  pytest.param("model_3", marks=pytest.mark.slow)])
def test_full_size_init_matches_reference_spec(name):
    """foldkit's own init at full size (jax.eval_shape, nothing allocated) = the reference spec."""
    spec = alphafold.param_spec_from_init(config_lib.preset(name))
    diff = params_lib.diff_spec(spec, params_lib.packaged_spec(name))
    assert diff.ok, diff.message()


@pytest.mark.parametrize("name", CASES)
def test_golden_params_match_tiny_init(name):
    cfg = config_lib.from_case_config(AF2_REFERENCE / f"{name}_config.json")
    spec = alphafold.param_spec_from_init(cfg)
    params_lib.load_params(AF2_REFERENCE / f"{name}_params.npz", spec)  # raises on any difference


def test_output_kinds_and_residue_axes():
    assert output_kind("recycle0/representations/pair") is Kind.ACTIVATION
    assert output_kind("structure_module/final_atom_positions") is Kind.POSITION
    assert output_kind("confidence/ptm") is Kind.PTM
    assert output_kind("distogram/bin_edges") is Kind.EXACT
    assert output_residue_axes("distogram/logits") == (0, 1)
    assert output_residue_axes("distogram/bin_edges") == ()
    assert output_residue_axes("recycle0/representations/msa_first_row") == (0,)
    assert output_residue_axes("structure_module/sidechains/frames/rot") == (1,)
    assert RunnerConfig(buckets=(64, 128)).bucket_for(65) == 128
    assert RunnerConfig(buckets=(64, 128)).bucket_for(300) == 300


def test_pad_and_crop_round_trip():
    with np.load(AF2_REFERENCE / "tiny_model_1_ptm_features.npz") as npz:
        features = {k: npz[k] for k in npz.files}
    padded = pad_features(features, 37, 64)
    assert padded["msa_feat"].shape == (2, 12, 64, 49)
    assert padded["template_all_atom_positions"].shape == (2, 3, 64, 37, 3)
    assert padded["seq_mask"][:, 37:].sum() == 0 and padded["extra_msa_row_mask"].shape == (2, 24)
    np.testing.assert_array_equal(padded["msa_feat"][:, :, :37], features["msa_feat"])
    cropped = crop_outputs({"representations/pair": np.zeros((64, 64, 3)), "masked_msa/logits": np.zeros((5, 64, 23))}, 37)
    assert cropped["representations/pair"].shape == (37, 37, 3) and cropped["masked_msa/logits"].shape == (5, 37, 23)


@pytest.mark.slow
def test_padding_is_inert():
    """Unpadded (bucket = L) and padded (L -> 64) runs agree."""
    cfg = config_lib.from_case_config(AF2_REFERENCE / "tiny_model_3_config.json")
    params = params_lib.load_params(AF2_REFERENCE / "tiny_model_3_params.npz")
    with np.load(AF2_REFERENCE / "tiny_model_3_features.npz") as npz:
        features = {k: npz[k] for k in npz.files}
    exact = predict_from_features(cfg, params, features, buckets=(37,))
    padded = predict_from_features(cfg, params, features, buckets=(64,))
    for key in ("structure_module/final_atom_positions", "representations/pair", "confidence/plddt"):
        np.testing.assert_allclose(padded[key], exact[key], atol=1e-3, rtol=1e-4)
