"""Golden per-module cases of the Evoformer family (shared/reference/af2/modules).

``CASES[name](arrays, meta, chunk_size) -> list[OutputCheck]``: ``arrays`` is
the case npz (``input/*``, ``<module path>//<param>``, ``output/*``), ``meta``
its parsed JSON (config under ``meta["config"]``), ``chunk_size`` the
GlobalConfig chunk size (None = no chunking).

``MODULE_CALLS[name](meta, chunk_size) -> ModuleCall`` exposes the haiku
forward function of each case, so tests can also check ``init``.
"""

from __future__ import annotations

import dataclasses
import functools
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


@dataclasses.dataclass(frozen=True)
class ModuleCall:
    """A haiku forward function, the ``input/*`` names it takes and the ``output/*`` names it returns."""

    forward: Callable
    input_names: tuple[str, ...]
    output_names: tuple[str, ...] = ("update",)

    def inputs(self, arrays: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(arrays[f"input/{name}"]) for name in self.input_names]


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


def _msa_row_attention(meta, chunk_size) -> ModuleCall:
    config, gcfg = AttentionConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    return ModuleCall(lambda msa, mask, pair: MSARowAttentionWithPairBias(config, gcfg)(msa, mask, pair),
                      ("msa_act", "msa_mask", "pair_act"))


def _msa_column_attention(meta, chunk_size) -> ModuleCall:
    config, gcfg = AttentionConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    return ModuleCall(lambda msa, mask: MSAColumnAttention(config, gcfg)(msa, mask), ("msa_act", "msa_mask"))


def _msa_column_global_attention(meta, chunk_size) -> ModuleCall:
    config, gcfg = AttentionConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    return ModuleCall(lambda msa, mask: MSAColumnGlobalAttention(config, gcfg)(msa, mask),
                      ("extra_msa_act", "extra_msa_mask"))


def _transition(name: str, act_name: str, mask_name: str, meta, chunk_size) -> ModuleCall:
    config, gcfg = TransitionConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    return ModuleCall(lambda act, mask: Transition(config, gcfg, name=name)(act, mask), (act_name, mask_name))


def _outer_product_mean(meta, chunk_size) -> ModuleCall:
    config, gcfg = OuterProductMeanConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    num_channel = meta["arrays"]["outer_product_mean//output_b"]["shape"][-1]
    return ModuleCall(lambda msa, mask: OuterProductMean(config, gcfg, num_channel)(msa, mask),
                      ("msa_act", "msa_mask"))


def _triangle_multiplication(name: str, meta, chunk_size) -> ModuleCall:
    config, gcfg = TriangleMultiplicationConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    return ModuleCall(lambda pair, mask: TriangleMultiplication(config, gcfg, name=name)(pair, mask),
                      ("pair_act", "pair_mask"))


def _triangle_attention(name: str, meta, chunk_size) -> ModuleCall:
    config, gcfg = AttentionConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    return ModuleCall(lambda pair, mask: TriangleAttention(config, gcfg, name=name)(pair, mask),
                      ("pair_act", "pair_mask"))


def _iteration(name: str, is_extra_msa: bool, msa_input: str, mask_input: str, meta, chunk_size) -> ModuleCall:
    config, gcfg = EvoformerIterationConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)

    def forward(msa, msa_mask, pair, pair_mask):
        return EvoformerIteration(config, gcfg, is_extra_msa=is_extra_msa, name=name)(msa, pair, msa_mask, pair_mask)

    return ModuleCall(forward, (msa_input, mask_input, "pair_act", "pair_mask"), ("msa", "pair"))


_p = functools.partial
MODULE_CALLS: dict[str, Callable[[dict, "int | None"], ModuleCall]] = {
    "msa_row_attention_with_pair_bias": _msa_row_attention,
    "msa_column_attention": _msa_column_attention,
    "msa_column_global_attention": _msa_column_global_attention,
    "msa_transition": _p(_transition, "msa_transition", "msa_act", "msa_mask"),
    "pair_transition": _p(_transition, "pair_transition", "pair_act", "pair_mask"),
    "outer_product_mean": _outer_product_mean,
    "triangle_multiplication_outgoing": _p(_triangle_multiplication, "triangle_multiplication_outgoing"),
    "triangle_multiplication_incoming": _p(_triangle_multiplication, "triangle_multiplication_incoming"),
    "triangle_attention_starting_node": _p(_triangle_attention, "triangle_attention_starting_node"),
    "triangle_attention_ending_node": _p(_triangle_attention, "triangle_attention_ending_node"),
    "evoformer_iteration": _p(_iteration, "evoformer_iteration", False, "msa_act", "msa_mask"),
    "extra_msa_stack_iteration": _p(_iteration, "extra_msa_stack", True, "extra_msa_act", "extra_msa_mask"),
}


def run_case(name: str, arrays: Mapping[str, np.ndarray], meta: dict, chunk_size: int | None) -> list[OutputCheck]:
    """Apply the case's module with the golden parameters; one ACTIVATION check per output.

    Outer-product-mean entries at padded residues (bias / 1e-3) are compared
    with the atol relative to max|ref| that Kind.ACTIVATION applies.
    """
    return activation_checks(MODULE_CALLS[name](meta, chunk_size), arrays)


def activation_checks(call: ModuleCall, arrays: Mapping[str, np.ndarray]) -> list[OutputCheck]:
    """Apply ``call``'s module with the golden parameters in ``arrays``; one ACTIVATION check per output
    (``output/<name>``)."""
    outputs = jax.jit(hk.transform(call.forward).apply)(haiku_params(arrays), None, *call.inputs(arrays))
    if len(call.output_names) == 1:
        outputs = (outputs,)
    return [OutputCheck(f"output/{out_name}", np.asarray(value), Kind.ACTIVATION)
            for out_name, value in zip(call.output_names, outputs)]


def init_param_shapes(name: str, arrays: Mapping[str, np.ndarray], meta: dict) -> dict[str, dict[str, tuple]]:
    """Parameter keys and shapes foldkit's ``init`` creates for a case (nothing allocated)."""
    call = MODULE_CALLS[name](meta, None)
    params = jax.eval_shape(hk.transform(call.forward).init, jax.random.PRNGKey(0), *call.inputs(arrays))
    return {path: {p: tuple(v.shape) for p, v in bundle.items()} for path, bundle in params.items()}


CASES: dict[str, CaseFn] = {name: _p(run_case, name) for name in MODULE_CALLS}
