"""Multimer network: module golden cases, presets, parameter trees, sampling draws (fast checks).

The whole-model golden cases (tens of seconds each) are in test_multimer_whole_model.py.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model import msa_sampling
from foldkit.model import params as params_lib
from foldkit.model.multimer_config import (MULTIMER_MODEL_NAMES, is_multimer_tree, multimer_config_from_case,
                                           multimer_preset, multimer_preset_dict)
from foldkit.model.multimer_network import iteration_keys, network_rng_key, param_spec_from_init
from foldkit.testing import golden
from foldkit.testing.cases_multimer_embeddings import CASES as EMBEDDING_CASES
from foldkit.testing.cases_multimer_evoformer import CASES as EVOFORMER_CASES
from tests.conftest import AF2_REFERENCE

MULTIMER = AF2_REFERENCE / "multimer"
MODULE_CASES = sorted(set(EMBEDDING_CASES) | set(EVOFORMER_CASES))


def _module_case(name: str) -> golden.GoldenCase:
    return next(c for c in golden.discover(MULTIMER / "modules", only="modules") if c.name == name)


@pytest.mark.parametrize("name", MODULE_CASES)
def test_module_golden_case(name):
    report = golden.run_case(_module_case(name), None)
    assert report.error is None, report.error
    failures = [f"{r.name}: max_abs={r.max_abs:.3e} {r.detail}" for r in report.results if not r.passed]
    assert not failures, failures


@pytest.mark.parametrize("name", ["triangle_multiplication_incoming_fused",
                                  pytest.param("evoformer_iteration_multimer", marks=pytest.mark.slow),
                                  pytest.param("template_embedding_multimer", marks=pytest.mark.slow)])
def test_module_golden_case_chunked(name):
    report = golden.run_case(_module_case(name), 3)
    assert report.passed, [(r.name, r.max_abs) for r in report.results if not r.passed] or report.error


def test_every_multimer_module_case_has_a_check():
    index = json.loads((MULTIMER / "modules" / "index.json").read_text())
    registry = golden.module_case_registry()
    assert set(index) <= set(registry), sorted(set(index) - set(registry))


def test_presets():
    assert MULTIMER_MODEL_NAMES == tuple(f"model_{i}_multimer_v3" for i in range(1, 6))
    reference = json.loads((MULTIMER / "config_model_1_multimer_v3.json").read_text())
    assert multimer_preset_dict("model_1_multimer_v3") == reference
    extra = {name: multimer_preset(name).model.embeddings_and_evoformer.num_extra_msa for name in MULTIMER_MODEL_NAMES}
    assert extra == {"model_1_multimer_v3": 2048, "model_2_multimer_v3": 2048, "model_3_multimer_v3": 2048,
                     "model_4_multimer_v3": 1152, "model_5_multimer_v3": 1152}
    model = multimer_preset("model_1_multimer_v3").model
    assert model.num_recycle == 20 and model.recycle_early_stop_tolerance == 0.5
    assert model.embeddings_and_evoformer.num_msa == 508 and model.heads.masked_msa.num_output == 22
    assert model.structure_module.position_scale == 20 and model.global_config.bfloat16
    assert is_multimer_tree(reference) and not is_multimer_tree({"model": {"global_config": {}}})
    with pytest.raises(KeyError, match="unknown multimer preset"):
        multimer_preset("model_1_multimer")


def test_case_config_with_variant_overrides():
    case_json = json.loads((MULTIMER / "tiny_multimer_hetero_config.json").read_text())
    overrides = case_json["variants"]["_detq"]["overrides"]
    config = multimer_config_from_case(MULTIMER / "tiny_multimer_hetero_config.json", overrides=overrides)
    c = config.model.embeddings_and_evoformer
    assert (c.num_msa, c.num_extra_msa, c.masked_msa.replace_fraction) == (1, 33, 0.0)
    assert c.max_relative_idx == 8 and config.model.num_recycle == 2


def test_packaged_specs_are_the_reference_specs():
    for name in MULTIMER_MODEL_NAMES:
        reference = json.loads((MULTIMER / f"param_spec_{name}.json").read_text())
        spec = {entry["key"]: tuple(entry["shape"]) for entry in reference["params"]}
        assert params_lib.packaged_spec(name) == spec
        assert len(spec) == reference["num_arrays"] == 330
        assert sum(int(np.prod(s)) for s in spec.values()) == reference["num_parameters"]


@pytest.mark.parametrize("name", ["model_1_multimer_v3", pytest.param("model_5_multimer_v3", marks=pytest.mark.slow)])
def test_full_size_init_matches_reference_spec(name):
    """foldkit's own init at full size (jax.eval_shape, nothing allocated) = the official tree, key for key."""
    diff = params_lib.diff_spec(param_spec_from_init(multimer_preset(name)), params_lib.packaged_spec(name))
    assert diff.ok, diff.message()


@pytest.mark.parametrize("case", ["tiny_multimer_hetero", "tiny_multimer_homo"])
def test_golden_params_match_tiny_init(case):
    config = multimer_config_from_case(MULTIMER / f"{case}_config.json")
    params_lib.load_params(MULTIMER / f"{case}_params.npz", param_spec_from_init(config))   # raises on a difference


def test_network_keys_reproduce_the_stored_keys_and_draws():
    """foldkit's key splitting from the apply seed gives AlphaFold's keys and uniforms of every iteration."""
    case_json = json.loads((MULTIMER / "tiny_multimer_homo_config.json").read_text())
    with np.load(MULTIMER / "tiny_multimer_homo_msa_sampling.npz") as npz:
        sampling = {k: npz[k] for k in npz.files}
    num_iterations = 1 + case_json["variants"]["main"]["num_recycles"]
    with msa_sampling.alphafold_rng_scope():
        key = network_rng_key(jax.random.PRNGKey(case_json["seeds"]["apply_rng_seed"]))
        keys = iteration_keys(key, num_iterations - 1)
        for r, embedding_key in enumerate(keys):
            derived = msa_sampling.sampling_keys(embedding_key)
            assert np.array_equal(derived["sample"], sampling[f"iter{r}/sample_msa/key"])
            assert np.array_equal(derived["gumbel"], sampling[f"iter{r}/make_masked_msa/gumbel_key"])
            uniform = msa_sampling.padding_consistent_uniform(derived["sample"], (512,))
            assert np.array_equal(uniform, sampling[f"iter{r}/sample_msa/uniform"])


def test_padding_consistent_draws():
    """Draws of existing elements do not change when rows or residues are added."""
    with msa_sampling.alphafold_rng_scope():
        key = jax.random.PRNGKey(3)
        small = msa_sampling.padding_consistent_uniform(key, (4, 5))
        large = msa_sampling.padding_consistent_uniform(key, (6, 9))
    assert np.array_equal(large[:4, :5], small)
    assert 0.0 <= float(large.min()) and float(large.max()) < 1.0


def test_sampling_puts_query_first_and_empty_rows_last():
    msa_mask = jnp.asarray([[1, 1], [1, 0], [0, 0], [1, 1], [0, 0]], jnp.float32)
    cluster_bias = jnp.asarray([0, 0, 0, 1, 0], jnp.float32)
    for seed in range(5):
        uniform = jax.random.uniform(jax.random.PRNGKey(seed), (5,))
        order = np.asarray(msa_sampling.sample_order(msa_mask, cluster_bias, uniform))
        assert order[0] == 3 and set(order[1:3]) == {0, 1} and set(order[3:]) == {2, 4}
