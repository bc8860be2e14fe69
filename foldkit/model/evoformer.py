"""Evoformer blocks: transitions, outer product mean, one iteration, stacks.

Jumper et al. 2021, suppl. 1.6 (Algorithms 6-15) and 1.7.2 (extra-MSA stack).
Transition and OuterProductMean return residual UPDATES; EvoformerIteration
returns the new (msa, pair) activations.
"""

from __future__ import annotations

import haiku as hk
import jax
import jax.numpy as jnp

from foldkit.model.chunking import chunked_apply
from foldkit.model.evoformer_config import EvoformerIterationConfig, OuterProductMeanConfig, TransitionConfig
from foldkit.model.global_config import GlobalConfig
from foldkit.model.layer_stack import layer_stack
from foldkit.model.msa_attention import MSAColumnAttention, MSAColumnGlobalAttention, MSARowAttentionWithPairBias
from foldkit.model.primitives import Linear, layer_norm, layer_norm_f32
from foldkit.model.triangle import TriangleAttention, TriangleMultiplication

OUTER_PRODUCT_EPSILON = 1e-3


class Transition(hk.Module):
    """Per-position MLP: LayerNorm, Linear (x factor), ReLU, Linear back. Mask is not applied."""

    def __init__(self, config: TransitionConfig, global_config: GlobalConfig, name: str = "transition_block"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, act: jnp.ndarray, mask: jnp.ndarray | None = None) -> jnp.ndarray:
        """act [N, L, c] (mask [N, L] accepted for symmetry, unused) -> update [N, L, c]."""
        del mask  # the reference does not mask the transition output
        channels = act.shape[-1]
        act = layer_norm_f32(layer_norm("input_layer_norm"), act)
        hidden = Linear(channels * self.config.num_intermediate_factor, initializer="relu", name="transition1")
        final_init = "zeros" if self.global_config.zero_init else "linear"
        output = Linear(channels, initializer=final_init, name="transition2")

        def mlp(rows):
            return output(jax.nn.relu(hidden(rows)))

        return chunked_apply(mlp, (act,), (0,), self.global_config.chunk_size)


class OuterProductMean(hk.Module):
    """Pair update from the mean over sequences of outer products of MSA projections."""

    def __init__(self, config: OuterProductMeanConfig, global_config: GlobalConfig, num_output_channel: int,
                 name: str = "outer_product_mean"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config
        self.num_output_channel = num_output_channel

    def __call__(self, msa_act: jnp.ndarray, msa_mask: jnp.ndarray) -> jnp.ndarray:
        """msa_act [S, L, c_m], msa_mask [S, L] -> pair update [L, L, c_z].

        Entries whose (i, j) share no unmasked sequence become bias / 1e-3,
        exactly as the reference computes them.
        """
        dtype = msa_act.dtype
        num_outer = self.config.num_outer_channel
        mask = msa_mask.astype(dtype)[..., None]                        # [S, L, 1]
        act = layer_norm_f32(layer_norm("layer_norm_input"), msa_act)
        left = mask * Linear(num_outer, name="left_projection")(act)    # [S, L, c]
        right = mask * Linear(num_outer, name="right_projection")(act)  # [S, L, c]

        if self.global_config.zero_init:
            weight_init = hk.initializers.Constant(0.0)
        else:
            weight_init = hk.initializers.VarianceScaling(2.0, "fan_in", "truncated_normal")
        output_w = hk.get_parameter("output_w", (num_outer, num_outer, self.num_output_channel), jnp.float32,
                                    init=weight_init).astype(dtype)
        output_b = hk.get_parameter("output_b", (self.num_output_channel,), jnp.float32,
                                    init=hk.initializers.Constant(0.0)).astype(dtype)

        def rows(left_rows):
            # left_rows [S, l, c] -> [l, L, c_z]
            outer = jnp.einsum("sic,sje->ijce", left_rows, right)      # [l, L, c, c]
            return jnp.einsum("ijce,cef->ijf", outer, output_w) + output_b

        update = chunked_apply(rows, (left,), (1,), self.global_config.chunk_size)
        norm = jnp.einsum("si,sj->ij", msa_mask, msa_mask).astype(dtype)[..., None]  # [L, L, 1]
        return update / (OUTER_PRODUCT_EPSILON + norm)


class EvoformerIteration(hk.Module):
    """One Evoformer block; with ``is_extra_msa`` the column attention is global (extra-MSA stack).

    ``outer_product_mean.first`` (AlphaFold-Multimer) applies the outer product mean to the
    pair before the MSA updates; the triangle multiplications may use fused projection
    weights (``fuse_projection_weights``, multimer v3).
    """

    def __init__(self, config: EvoformerIterationConfig, global_config: GlobalConfig,
                 is_extra_msa: bool = False, name: str = "evoformer_iteration"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config
        self.is_extra_msa = is_extra_msa

    def __call__(self, msa_act: jnp.ndarray, pair_act: jnp.ndarray, msa_mask: jnp.ndarray,
                 pair_mask: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        """msa_act [S, L, c_m], pair_act [L, L, c_z], masks [S, L] / [L, L] -> (msa, pair)."""
        cfg, gcfg = self.config, self.global_config
        outer_product_mean = OuterProductMean(cfg.outer_product_mean, gcfg, pair_act.shape[-1])
        if cfg.outer_product_mean.first:   # multimer: the pair update reads the incoming MSA
            pair_act = pair_act + outer_product_mean(msa_act, msa_mask)
        msa_act = msa_act + MSARowAttentionWithPairBias(cfg.msa_row_attention_with_pair_bias, gcfg)(
            msa_act, msa_mask, pair_act)
        if self.is_extra_msa:
            msa_act = msa_act + MSAColumnGlobalAttention(cfg.msa_column_attention, gcfg)(msa_act, msa_mask)
        else:
            msa_act = msa_act + MSAColumnAttention(cfg.msa_column_attention, gcfg)(msa_act, msa_mask)
        msa_act = msa_act + Transition(cfg.msa_transition, gcfg, name="msa_transition")(msa_act, msa_mask)

        if not cfg.outer_product_mean.first:
            pair_act = pair_act + outer_product_mean(msa_act, msa_mask)
        pair_act = pair_act + TriangleMultiplication(
            cfg.triangle_multiplication_outgoing, gcfg, name="triangle_multiplication_outgoing")(pair_act, pair_mask)
        pair_act = pair_act + TriangleMultiplication(
            cfg.triangle_multiplication_incoming, gcfg, name="triangle_multiplication_incoming")(pair_act, pair_mask)
        pair_act = pair_act + TriangleAttention(
            cfg.triangle_attention_starting_node, gcfg, name="triangle_attention_starting_node")(pair_act, pair_mask)
        pair_act = pair_act + TriangleAttention(
            cfg.triangle_attention_ending_node, gcfg, name="triangle_attention_ending_node")(pair_act, pair_mask)
        pair_act = pair_act + Transition(cfg.pair_transition, gcfg, name="pair_transition")(pair_act, pair_mask)
        return msa_act, pair_act


def evoformer_stack(config: EvoformerIterationConfig, global_config: GlobalConfig, num_block: int,
                    msa_act: jnp.ndarray, pair_act: jnp.ndarray, msa_mask: jnp.ndarray,
                    pair_mask: jnp.ndarray, is_extra_msa: bool = False) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Apply ``num_block`` iterations with stacked parameters (leading axis ``num_block``).

    Parameter keys are ``<scope>/evoformer_iteration/...`` (or
    ``<scope>/extra_msa_stack/...`` with ``is_extra_msa``) in the calling
    module's scope, as in the official parameter files.
    """
    name = "extra_msa_stack" if is_extra_msa else "evoformer_iteration"

    def block(activations):
        msa, pair = activations
        return EvoformerIteration(config, global_config, is_extra_msa=is_extra_msa, name=name)(
            msa, pair, msa_mask, pair_mask)

    return layer_stack(num_block, block, (msa_act, pair_act))
