"""Model presets: packaged JSON reproduces the reference configs."""

from __future__ import annotations

import json

import pytest

from foldkit.model import config as config_lib
from tests.conftest import AF2_REFERENCE


@pytest.mark.parametrize("name", ["model_1", "model_1_ptm", "model_3", "model_3_ptm"])
def test_preset_equals_reference_config(name):
    reference = json.loads((AF2_REFERENCE / f"config_model_{name[6:]}.json").read_text())
    del reference["data"]["eval"]["feat"]
    assert config_lib.preset_dict(name) == reference


def test_published_differences_between_presets():
    with_templates = {"model_1", "model_2", "model_1_ptm", "model_2_ptm"}
    extra_5120 = {"model_1", "model_3", "model_4", "model_1_ptm", "model_3_ptm", "model_4_ptm"}
    for name in config_lib.MODEL_NAMES:
        cfg = config_lib.preset(name)
        assert cfg.uses_templates == (name in with_templates)
        assert cfg.model.embeddings_and_evoformer.template.embed_torsion_angles == (name in with_templates)
        assert cfg.data.common.use_templates == (name in with_templates)
        assert cfg.data.common.max_extra_msa == (5120 if name in extra_5120 else 1024)
        assert cfg.has_pae_head == name.endswith("_ptm")
        assert cfg.model.num_recycle == 3 and cfg.model.resample_msa_in_recycling
        assert cfg.data.num_msa_clusters == (508 if name in with_templates else 512)


def test_full_size_values():
    cfg = config_lib.preset("model_1_ptm").model
    emb = cfg.embeddings_and_evoformer
    assert (emb.msa_channel, emb.pair_channel, emb.seq_channel, emb.extra_msa_channel) == (256, 128, 384, 64)
    assert (emb.evoformer_num_block, emb.extra_msa_stack_num_block) == (48, 4)
    assert emb.template.num_channels == 64 and emb.template.template_pair_stack.num_block == 2
    assert emb.template.use_template_unit_vector is False
    assert (emb.prev_pos.min_bin, emb.prev_pos.max_bin, emb.prev_pos.num_bins) == (3.25, 20.75, 15)
    assert cfg.structure_module.num_layer == 8 and cfg.global_config.zero_init


def test_tiny_case_config():
    cfg = config_lib.from_case_config(AF2_REFERENCE / "tiny_model_3_config.json")
    assert cfg.name == "tiny_model_3" and not cfg.uses_templates and not cfg.has_pae_head
    assert cfg.model.structure_module.num_channel == 24
    assert cfg.model.num_recycle == 1


def test_overrides_and_unknown_keys():
    cfg = config_lib.preset("model_3", {"model.num_recycle": 1, "data.common.max_extra_msa": 8})
    assert cfg.model.num_recycle == 1 and cfg.data.common.max_extra_msa == 8
    with pytest.raises(KeyError, match="no setting"):
        config_lib.preset("model_3", {"model.num_recycles": 1})
    with pytest.raises(KeyError, match="unknown model preset"):
        config_lib.preset("model_6")
    tree = config_lib.preset_dict("model_3")
    tree["model"]["embeddings_and_evoformer"]["bogus"] = 1
    with pytest.raises(ValueError, match="bogus"):
        config_lib.AlphaFoldConfig.from_dict(tree)
