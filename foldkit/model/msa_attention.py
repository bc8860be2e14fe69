"""MSA attention modules of the Evoformer (Jumper et al. 2021, suppl. 1.6.1-1.6.2, 1.7.2).

Each returns the residual UPDATE for the MSA representation (the caller adds it).
"""

from __future__ import annotations

import haiku as hk
import jax.numpy as jnp
import numpy as np

from foldkit.model.chunking import chunked_apply
from foldkit.model.evoformer_config import AttentionConfig
from foldkit.model.global_config import GlobalConfig
from foldkit.model.primitives import Attention, GlobalAttention, layer_norm, layer_norm_f32, mask_bias


def pair_bias(pair_act: jnp.ndarray, num_head: int, norm_name: str | None = None) -> jnp.ndarray:
    """Per-head attention bias from a pair representation: [Q, K, c_z] -> [H, Q, K].

    Reads parameter ``feat_2d_weights`` [c_z, H] of the current module.
    """
    if norm_name is not None:
        pair_act = layer_norm_f32(layer_norm(norm_name), pair_act)
    channels = pair_act.shape[-1]
    weights = hk.get_parameter("feat_2d_weights", (channels, num_head), jnp.float32,
                               init=hk.initializers.RandomNormal(stddev=1.0 / np.sqrt(channels)))
    return jnp.einsum("qkc,ch->hqk", pair_act, weights.astype(pair_act.dtype))


class MSARowAttentionWithPairBias(hk.Module):
    """Self-attention along each MSA row (sequence), biased by the pair representation."""

    def __init__(self, config: AttentionConfig, global_config: GlobalConfig,
                 name: str = "msa_row_attention_with_pair_bias"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, msa_act: jnp.ndarray, msa_mask: jnp.ndarray, pair_act: jnp.ndarray) -> jnp.ndarray:
        """msa_act [S, L, c_m], msa_mask [S, L], pair_act [L, L, c_z] -> update [S, L, c_m]."""
        bias = mask_bias(msa_mask)[:, None, None, :]                    # [S, 1, 1, L]
        msa_act = layer_norm_f32(layer_norm("query_norm"), msa_act)
        nonbatched = pair_bias(pair_act, self.config.num_head, norm_name="feat_2d_norm")  # [H, L, L]
        attention = Attention(self.config.num_head, msa_act.shape[-1], self.config.gating,
                              self.global_config.zero_init,
                              key_dim=self.config.key_dim, value_dim=self.config.value_dim)

        def rows(act, row_bias):
            return attention(act, act, row_bias, nonbatched)

        return chunked_apply(rows, (msa_act, bias), (0, 0), self.global_config.chunk_size)


class MSAColumnAttention(hk.Module):
    """Self-attention along each MSA column (residue position) across sequences."""

    def __init__(self, config: AttentionConfig, global_config: GlobalConfig,
                 name: str = "msa_column_attention"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, msa_act: jnp.ndarray, msa_mask: jnp.ndarray) -> jnp.ndarray:
        """msa_act [S, L, c_m], msa_mask [S, L] -> update [S, L, c_m]."""
        columns = jnp.swapaxes(msa_act, 0, 1)                           # [L, S, c_m]
        column_mask = jnp.swapaxes(msa_mask, 0, 1)                      # [L, S]
        bias = mask_bias(column_mask)[:, None, None, :]                 # [L, 1, 1, S]
        columns = layer_norm_f32(layer_norm("query_norm"), columns)
        attention = Attention(self.config.num_head, columns.shape[-1], self.config.gating,
                              self.global_config.zero_init,
                              key_dim=self.config.key_dim, value_dim=self.config.value_dim)

        def attend(act, col_bias):
            return attention(act, act, col_bias)

        update = chunked_apply(attend, (columns, bias), (0, 0), self.global_config.chunk_size)
        return jnp.swapaxes(update, 0, 1)


class MSAColumnGlobalAttention(hk.Module):
    """Global (mean-query) attention along MSA columns, used by the extra-MSA stack."""

    def __init__(self, config: AttentionConfig, global_config: GlobalConfig,
                 name: str = "msa_column_global_attention"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, msa_act: jnp.ndarray, msa_mask: jnp.ndarray) -> jnp.ndarray:
        """msa_act [S, L, c_e], msa_mask [S, L] -> update [S, L, c_e]."""
        columns = jnp.swapaxes(msa_act, 0, 1)                           # [L, S, c_e]
        column_mask = jnp.swapaxes(msa_mask, 0, 1)                      # [L, S]
        columns = layer_norm_f32(layer_norm("query_norm"), columns)
        attention = GlobalAttention(self.config.num_head, columns.shape[-1], self.config.gating,
                                    self.global_config.zero_init,
                                    key_dim=self.config.key_dim, value_dim=self.config.value_dim)

        def attend(act, mask):
            return attention(act, act, mask)

        update = chunked_apply(attend, (columns, column_mask), (0, 0), self.global_config.chunk_size)
        return jnp.swapaxes(update, 0, 1)
