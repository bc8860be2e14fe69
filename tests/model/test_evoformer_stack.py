"""Chunking utility, stacked-layer helper and full-size parameter trees of the Evoformer."""

from __future__ import annotations

import json

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model.chunking import chunked_apply
from foldkit.model.evoformer import EvoformerIteration, OuterProductMean, Transition, evoformer_stack
from foldkit.model.evoformer_config import (AttentionConfig, EvoformerIterationConfig, TransitionConfig,
                                            TriangleMultiplicationConfig)
from foldkit.model.global_config import GlobalConfig
from foldkit.model.layer_stack import LAYER_STACK_SCOPE, layer_stack
from foldkit.model.primitives import Linear
from foldkit.model.triangle import TriangleAttention, TriangleMultiplication
from tests.conftest import AF2_REFERENCE

EVOFORMER_SCOPE = "alphafold/alphafold_iteration/evoformer"
TEMPLATE_STACK_SCOPE = f"{EVOFORMER_SCOPE}/template_embedding/single_template_embedding/template_pair_stack"


def _shapes(params) -> dict[str, tuple]:
    return {f"{path}//{name}": tuple(value.shape) for path, bundle in params.items() for name, value in bundle.items()}


def _spec(prefix: str) -> dict[str, tuple]:
    spec = json.loads((AF2_REFERENCE / "param_spec_model_1_ptm.json").read_text())
    return {p["key"]: tuple(p["shape"]) for p in spec["params"] if p["key"].startswith(prefix + "/")}


def _model_config() -> dict:
    return json.loads((AF2_REFERENCE / "config_model_1_ptm.json").read_text())["model"]


# --------------------------------------------------------------------------- chunking

@pytest.mark.parametrize("chunk_size", [None, 1, 3, 4, 7, 50])
def test_chunked_apply_matches_unchunked(chunk_size):
    """Slices of axis 1 of one input, a shared input, a pytree output; params shared across chunks."""

    def forward(x, shared):
        dense = Linear(5, name="dense")

        def fn(x_rows, shared_):
            # x_rows [S, l, 3] -> ([l, 5], [l])
            summed = jnp.einsum("slc,c->lc", x_rows, shared_)
            return dense(summed), summed.sum(-1)

        return chunked_apply(fn, (x, shared), (1, None), chunk_size)

    transformed = hk.transform(forward)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 7, 3))
    shared = jnp.array([1.0, -2.0, 0.5])
    params = transformed.init(jax.random.PRNGKey(0), x, shared)
    assert jax.tree.map(jnp.shape, params) == {"dense": {"weights": (3, 5), "bias": (5,)}}
    ours = transformed.apply(params, None, x, shared)
    summed = jnp.einsum("slc,c->lc", x, shared)
    expected = (summed @ params["dense"]["weights"] + params["dense"]["bias"], summed.sum(-1))
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_chunked_apply_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="batch size"):
        hk.transform(lambda a, b: chunked_apply(lambda x, y: x, (a, b), (0, 0), 2)).init(
            None, jnp.ones((3, 2)), jnp.ones((4, 2)))


def test_transition_chunking_changes_nothing():
    config = TransitionConfig(num_intermediate_factor=2)
    act = jax.random.normal(jax.random.PRNGKey(2), (9, 5, 6))

    def transformed(chunk_size):
        gcfg = GlobalConfig(chunk_size=chunk_size)
        return hk.transform(lambda a: Transition(config, gcfg, name="pair_transition")(a))

    abstract = jax.eval_shape(transformed(None).init, jax.random.PRNGKey(0), act)
    rng = np.random.default_rng(0)
    params = jax.tree.map(lambda a: rng.standard_normal(a.shape).astype(np.float32), abstract)
    reference = jax.jit(transformed(None).apply)(params, None, act)
    for chunk_size in (2, 4, 5):
        ours = jax.jit(transformed(chunk_size).apply)(params, None, act)
        np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-6)


def _temp_bytes(forward, *inputs) -> int:
    transformed = hk.transform(forward)
    params = jax.eval_shape(transformed.init, jax.random.PRNGKey(0), *inputs)
    compiled = jax.jit(transformed.apply).lower(params, None, *inputs).compile()
    return compiled.memory_analysis().temp_size_in_bytes


def test_chunking_bounds_memory():
    """Full-width outer product mean and triangle attention at L=128: chunking cuts temporaries."""
    evoformer = _model_config()["embeddings_and_evoformer"]["evoformer"]
    config = EvoformerIterationConfig.from_dict(evoformer)
    num_res = 128
    msa = jax.ShapeDtypeStruct((16, num_res, 256), jnp.float32)
    msa_mask = jax.ShapeDtypeStruct((16, num_res), jnp.float32)
    pair = jax.ShapeDtypeStruct((num_res, num_res, 128), jnp.float32)
    pair_mask = jax.ShapeDtypeStruct((num_res, num_res), jnp.float32)
    for chunk_size in (None, 8):
        gcfg = GlobalConfig(chunk_size=chunk_size)
        opm = _temp_bytes(lambda m, k: OuterProductMean(config.outer_product_mean, gcfg, 128)(m, k), msa, msa_mask)
        tri = _temp_bytes(lambda p, k: TriangleAttention(
            config.triangle_attention_starting_node, gcfg)(p, k), pair, pair_mask)
        if chunk_size is None:
            full_opm, full_tri = opm, tri
    print(f"temp MiB: OPM {full_opm / 2**20:.0f} -> {opm / 2**20:.0f}, "
          f"triangle attention {full_tri / 2**20:.0f} -> {tri / 2**20:.0f}")
    assert opm < 0.25 * full_opm
    assert tri < 0.75 * full_tri


# --------------------------------------------------------------------------- layer stack

def _tiny_evoformer_config() -> EvoformerIterationConfig:
    return EvoformerIterationConfig.from_dict(_model_config()["embeddings_and_evoformer"]["evoformer"])


def _tiny_inputs(num_seq=3, num_res=5, c_m=8, c_z=4):
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    msa = jax.random.normal(keys[0], (num_seq, num_res, c_m))
    pair = jax.random.normal(keys[1], (num_res, num_res, c_z))
    msa_mask = jnp.ones((num_seq, num_res)).at[-1, -1].set(0.0)
    pair_mask = jnp.ones((num_res, num_res)).at[-1].set(0.0).at[:, -1].set(0.0)
    return msa, pair, msa_mask, pair_mask


def test_layer_stack_params_are_stacked_and_apply_equals_loop():
    """3 tiny blocks: stacked keys under 'evoformer/evoformer_iteration', same result as a loop."""
    config = _tiny_evoformer_config()
    gcfg = GlobalConfig(zero_init=False)
    num_block = 3
    msa, pair, msa_mask, pair_mask = _tiny_inputs()

    def stacked(msa_, pair_):
        with hk.experimental.name_scope("evoformer"):
            return evoformer_stack(config, gcfg, num_block, msa_, pair_, msa_mask, pair_mask)

    transformed = hk.transform(stacked)
    abstract = jax.eval_shape(transformed.init, jax.random.PRNGKey(0), msa, pair)
    single = hk.transform(lambda m, p: EvoformerIteration(config, gcfg)(m, p, msa_mask, pair_mask))
    single_shapes = _shapes(jax.eval_shape(single.init, jax.random.PRNGKey(0), msa, pair))
    expected = {f"evoformer/{key}": (num_block,) + shape for key, shape in single_shapes.items()}
    assert _shapes(abstract) == expected

    # random values (compiling the real init is slow and not what is tested here)
    rng = np.random.default_rng(0)
    params = jax.tree.map(lambda a: (0.3 * rng.standard_normal(a.shape)).astype(np.float32), abstract)
    out_msa, out_pair = jax.jit(transformed.apply)(params, None, msa, pair)
    loop_msa, loop_pair = msa, pair
    single_apply = jax.jit(single.apply)
    for layer in range(num_block):
        layer_params = {path[len("evoformer/"):]: jax.tree.map(lambda a: a[layer], bundle)
                        for path, bundle in params.items()}
        loop_msa, loop_pair = single_apply(layer_params, None, loop_msa, loop_pair)
    np.testing.assert_allclose(out_msa, loop_msa, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out_pair, loop_pair, rtol=1e-5, atol=1e-5)


def test_layer_stack_scope_names_template_style_stack():
    """Blocks built inside the stack with the '__layer_stack_no_state' level (template pair stack)."""
    gcfg = GlobalConfig()
    attention = AttentionConfig(num_head=2)

    def block(pair):
        return pair + TriangleAttention(attention, gcfg, name="triangle_attention_starting_node")(pair, jnp.ones(pair.shape[:2]))

    def forward(pair):
        with hk.experimental.name_scope("template_pair_stack"):
            return layer_stack(2, block, pair, scope=LAYER_STACK_SCOPE)

    params = jax.jit(hk.transform(forward).init)(jax.random.PRNGKey(0), jnp.ones((4, 4, 6)))
    shapes = _shapes(params)
    prefix = "template_pair_stack/__layer_stack_no_state/triangle_attention_starting_node"
    assert shapes[f"{prefix}//feat_2d_weights"] == (2, 6, 2)
    assert shapes[f"{prefix}/attention//query_w"] == (2, 6, 2, 3)
    assert all(key.startswith(prefix) for key in shapes)
    # each layer got its own random initial values
    query_w = params[f"{prefix}/attention"]["query_w"]
    assert not np.allclose(query_w[0], query_w[1])


# --------------------------------------------------------------------------- full-size trees

def test_full_size_evoformer_and_extra_msa_stacks_match_spec():
    """48 Evoformer + 4 extra-MSA blocks at full width: exactly the spec's keys and shapes."""
    model = _model_config()
    evo = model["embeddings_and_evoformer"]
    config = EvoformerIterationConfig.from_dict(evo["evoformer"])
    gcfg = GlobalConfig()
    num_res, c_z = 4, evo["pair_channel"]

    def forward(msa, extra, pair):
        msa_mask, extra_mask = jnp.ones(msa.shape[:2]), jnp.ones(extra.shape[:2])
        pair_mask = jnp.ones((num_res, num_res))
        with hk.experimental.name_scope(EVOFORMER_SCOPE):
            _, pair = evoformer_stack(config, gcfg, evo["extra_msa_stack_num_block"], extra, pair,
                                      extra_mask, pair_mask, is_extra_msa=True)
            return evoformer_stack(config, gcfg, evo["evoformer_num_block"], msa, pair, msa_mask, pair_mask)

    inputs = (jax.ShapeDtypeStruct((2, num_res, evo["msa_channel"]), jnp.float32),
              jax.ShapeDtypeStruct((2, num_res, evo["extra_msa_channel"]), jnp.float32),
              jax.ShapeDtypeStruct((num_res, num_res, c_z), jnp.float32))
    ours = _shapes(jax.eval_shape(hk.transform(forward).init, jax.random.PRNGKey(0), *inputs))
    expected = {**_spec(f"{EVOFORMER_SCOPE}/evoformer_iteration"), **_spec(f"{EVOFORMER_SCOPE}/extra_msa_stack")}
    assert len(expected) > 100
    assert ours == expected


def test_full_size_template_pair_stack_blocks_match_spec():
    """The triangle modules and pair transition reproduce the template pair stack's stacked keys."""
    stack_cfg = _model_config()["embeddings_and_evoformer"]["template"]["template_pair_stack"]
    gcfg = GlobalConfig()
    c_t = 64

    def block(pair):
        mask = jnp.ones(pair.shape[:2])
        for name in ("triangle_attention_starting_node", "triangle_attention_ending_node"):
            pair = pair + TriangleAttention(AttentionConfig.from_dict(stack_cfg[name]), gcfg, name=name)(pair, mask)
        for name in ("triangle_multiplication_outgoing", "triangle_multiplication_incoming"):
            pair = pair + TriangleMultiplication(
                TriangleMultiplicationConfig.from_dict(stack_cfg[name]), gcfg, name=name)(pair, mask)
        transition = TransitionConfig.from_dict(stack_cfg["pair_transition"])
        return pair + Transition(transition, gcfg, name="pair_transition")(pair)

    def forward(pair):
        with hk.experimental.name_scope(TEMPLATE_STACK_SCOPE):
            return layer_stack(stack_cfg["num_block"], block, pair, scope=LAYER_STACK_SCOPE)

    pair = jax.ShapeDtypeStruct((4, 4, c_t), jnp.float32)
    ours = _shapes(jax.eval_shape(hk.transform(forward).init, jax.random.PRNGKey(0), pair))
    assert ours == _spec(TEMPLATE_STACK_SCOPE)


def test_config_refuses_unknown_keys():
    with pytest.raises(ValueError, match="unknown config keys"):
        AttentionConfig.from_dict({"num_head": 2, "num_heads": 2})
    with pytest.raises(ValueError, match="missing"):
        EvoformerIterationConfig.from_dict({})
    assert TriangleMultiplicationConfig(equation="incoming").equation == "kjc,kic->ijc"


def test_bfloat16_inputs_run_close_to_float32_golden(af2_reference):
    """bfloat16 activations (float32 parameters): output stays bfloat16 and within ~1% of the golden."""
    from foldkit.testing.cases_evoformer import MODULE_CALLS, haiku_params

    name = "evoformer_iteration"
    with np.load(AF2_REFERENCE / "modules" / f"{name}.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = json.loads((AF2_REFERENCE / "modules" / f"{name}.json").read_text())
    call = MODULE_CALLS[name](meta, 4)
    inputs = [jnp.asarray(x, jnp.bfloat16) for x in call.inputs(arrays)]
    outputs = jax.jit(hk.transform(call.forward).apply)(haiku_params(arrays), None, *inputs)
    for out_name, value in zip(call.output_names, outputs):
        assert value.dtype == jnp.bfloat16
        reference = arrays[f"output/{out_name}"]
        error = np.abs(np.asarray(value, np.float32) - reference).max() / np.abs(reference).max()
        assert error < 3e-2, (out_name, error)
