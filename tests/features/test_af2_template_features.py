"""AlphaFold2's raw template features (found, and none as shape-(0,) arrays) through process_features."""

from __future__ import annotations

import json

import numpy as np

from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from tests.conftest import AF2_REFERENCE

PIPELINE = AF2_REFERENCE / "pipeline"


def _config(use_templates: bool) -> FeatureConfig:
    data = json.loads((AF2_REFERENCE / "tiny_model_1_ptm_config.json").read_text())["config"]["data"]
    config = FeatureConfig.from_data_config(data).deterministic()
    assert config.use_templates          # model_1's data config uses templates
    return config if use_templates else FeatureConfig.from_data_config(
        {**data, "common": {**data["common"], "use_templates": False}}).deterministic()


def _raw(case: str) -> dict:
    with np.load(PIPELINE / case / "raw_features.npz") as npz:
        return {k: npz[k] for k in npz.files}


def test_found_templates_reach_the_model_inputs():
    raw = _raw("mono_full_templates")                       # 6 templates, sum_probs order
    config = _config(True)
    features = process_features(raw, config)
    mask = features["template_mask"][0]
    assert mask.shape == (config.max_templates,) and mask.tolist() == [1.0] * min(6, config.max_templates)
    kept = min(6, config.max_templates)
    np.testing.assert_array_equal(features["template_all_atom_positions"][0, :kept],
                                  raw["template_all_atom_positions"][:kept])
    assert features["template_pseudo_beta_mask"][0, 0].sum() > 0


def test_no_template_shape_zero_arrays_give_an_empty_template_stack():
    raw = _raw("mono_no_templates")
    assert raw["template_aatype"].shape == (0,)             # AlphaFold2's convention without templates
    config = _config(True)
    features = process_features(raw, config)
    num_res = raw["aatype"].shape[0]
    assert features["template_aatype"].shape[1:] == (config.max_templates, num_res)
    assert not features["template_mask"].any()
    assert "template_aatype" not in process_features(raw, _config(False))
