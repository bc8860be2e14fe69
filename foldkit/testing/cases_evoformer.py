"""Golden per-module cases of the Evoformer family (shared/reference/af2/modules).

``CASES[name](arrays, meta, chunk_size) -> list[OutputCheck]``: ``arrays`` is
the case npz (``input/*``, ``<module path>//<param>``, ``output/*``), ``meta``
its parsed JSON (config under ``meta["config"]``), ``chunk_size`` the
GlobalConfig chunk size (None = no chunking).
"""

from __future__ import annotations

from typing import Callable, Mapping

import haiku as hk
import jax
import numpy as np

from foldkit.model.evoformer import EvoformerIteration, OuterProductMean, Transition
from foldkit.model.evoformer_config import (AttentionConfig, EvoformerIterationConfig, OuterProductMeanConfig,
                                            TransitionConfig, TriangleMultiplicationConfig)
from foldkit.model.global_config import GlobalConfig
from foldkit.model.msa_attention import MSAColumnAttention, MSAColumnGlobalAttention, MSARowAttentionWithPairBias
from foldkit.model.triangle import TriangleAttention, TriangleMultiplication
from foldkit.testing.compare import Kind, OutputCheck

CaseFn = Callable[[Mapping[str, np.ndarray], dict, "int | None"], list[OutputCheck]]


def haiku_params(arrays: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """``{module_path: {param: array}}`` from keys ``module_path//param`` (split once)."""
    params: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        if "//" in key:
            module_path, name = key.split("//", 1)
            params.setdefault(module_path, {})[name] = np.asarray(value)
    return params


def _global_config(meta: dict, chunk_size: int | None) -> GlobalConfig:
    return GlobalConfig(chunk_size=chunk_size, zero_init=bool(meta["global_config"].get("zero_init", True)))


def _run(forward: Callable, arrays: Mapping[str, np.ndarray], input_names: tuple[str, ...]):
    """Apply a haiku forward function (inputs by name) with the case's parameters."""
    transformed = hk.transform(forward)
    inputs = [np.asarray(arrays[f"input/{name}"]) for name in input_names]
    return jax.jit(transformed.apply)(haiku_params(arrays), None, *inputs)


def _update_check(ours) -> list[OutputCheck]:
    return [OutputCheck("output/update", np.asarray(ours), Kind.ACTIVATION)]


def msa_row_attention_with_pair_bias(arrays, meta, chunk_size):
    config = AttentionConfig.from_dict(meta["config"])
    gcfg = _global_config(meta, chunk_size)
    out = _run(lambda msa, mask, pair: MSARowAttentionWithPairBias(config, gcfg)(msa, mask, pair),
               arrays, ("msa_act", "msa_mask", "pair_act"))
    return _update_check(out)


def msa_column_attention(arrays, meta, chunk_size):
    config = AttentionConfig.from_dict(meta["config"])
    gcfg = _global_config(meta, chunk_size)
    out = _run(lambda msa, mask: MSAColumnAttention(config, gcfg)(msa, mask), arrays, ("msa_act", "msa_mask"))
    return _update_check(out)


def msa_column_global_attention(arrays, meta, chunk_size):
    config = AttentionConfig.from_dict(meta["config"])
    gcfg = _global_config(meta, chunk_size)
    out = _run(lambda msa, mask: MSAColumnGlobalAttention(config, gcfg)(msa, mask),
               arrays, ("extra_msa_act", "extra_msa_mask"))
    return _update_check(out)


def _transition(name: str, act_name: str, mask_name: str) -> CaseFn:
    def case(arrays, meta, chunk_size):
        config = TransitionConfig.from_dict(meta["config"])
        gcfg = _global_config(meta, chunk_size)
        out = _run(lambda act, mask: Transition(config, gcfg, name=name)(act, mask), arrays, (act_name, mask_name))
        return _update_check(out)
    return case


def outer_product_mean(arrays, meta, chunk_size):
    config = OuterProductMeanConfig.from_dict(meta["config"])
    gcfg = _global_config(meta, chunk_size)
    num_channel = arrays["outer_product_mean//output_b"].shape[-1]
    out = _run(lambda msa, mask: OuterProductMean(config, gcfg, num_channel)(msa, mask),
               arrays, ("msa_act", "msa_mask"))
    return _update_check(out)


def _triangle_multiplication(name: str) -> CaseFn:
    def case(arrays, meta, chunk_size):
        config = TriangleMultiplicationConfig.from_dict(meta["config"])
        gcfg = _global_config(meta, chunk_size)
        out = _run(lambda pair, mask: TriangleMultiplication(config, gcfg, name=name)(pair, mask),
                   arrays, ("pair_act", "pair_mask"))
        return _update_check(out)
    return case


def _triangle_attention(name: str) -> CaseFn:
    def case(arrays, meta, chunk_size):
        config = AttentionConfig.from_dict(meta["config"])
        gcfg = _global_config(meta, chunk_size)
        out = _run(lambda pair, mask: TriangleAttention(config, gcfg, name=name)(pair, mask),
                   arrays, ("pair_act", "pair_mask"))
        return _update_check(out)
    return case


def _iteration(name: str, is_extra_msa: bool, msa_input: str, mask_input: str) -> CaseFn:
    def case(arrays, meta, chunk_size):
        config = EvoformerIterationConfig.from_dict(meta["config"])
        gcfg = _global_config(meta, chunk_size)

        def forward(msa, msa_mask, pair, pair_mask):
            return EvoformerIteration(config, gcfg, is_extra_msa=is_extra_msa, name=name)(
                msa, pair, msa_mask, pair_mask)

        msa, pair = _run(forward, arrays, (msa_input, mask_input, "pair_act", "pair_mask"))
        return [OutputCheck("output/msa", np.asarray(msa), Kind.ACTIVATION),
                OutputCheck("output/pair", np.asarray(pair), Kind.ACTIVATION)]
    return case


CASES: dict[str, CaseFn] = {
    "msa_row_attention_with_pair_bias": msa_row_attention_with_pair_bias,
    "msa_column_attention": msa_column_attention,
    "msa_column_global_attention": msa_column_global_attention,
    "msa_transition": _transition("msa_transition", "msa_act", "msa_mask"),
    "pair_transition": _transition("pair_transition", "pair_act", "pair_mask"),
    "outer_product_mean": outer_product_mean,
    "triangle_multiplication_outgoing": _triangle_multiplication("triangle_multiplication_outgoing"),
    "triangle_multiplication_incoming": _triangle_multiplication("triangle_multiplication_incoming"),
    "triangle_attention_starting_node": _triangle_attention("triangle_attention_starting_node"),
    "triangle_attention_ending_node": _triangle_attention("triangle_attention_ending_node"),
    "evoformer_iteration": _iteration("evoformer_iteration", False, "msa_act", "msa_mask"),
    "extra_msa_stack_iteration": _iteration("extra_msa_stack", True, "extra_msa_act", "extra_msa_mask"),
}
