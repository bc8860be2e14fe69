"""Triangle updates of the pair representation (Jumper et al. 2021, suppl. 1.6.5-1.6.6).

Both modules return the residual UPDATE [L, L, c_z].
"""

from __future__ import annotations

import haiku as hk
import jax
import jax.numpy as jnp

from foldkit.model.chunking import chunked_apply
from foldkit.model.evoformer_config import AttentionConfig, TriangleMultiplicationConfig
from foldkit.model.global_config import GlobalConfig
from foldkit.model.msa_attention import pair_bias
from foldkit.model.primitives import Attention, Linear, layer_norm, layer_norm_f32, mask_bias


def _final_init(global_config: GlobalConfig) -> str:
    return "zeros" if global_config.zero_init else "linear"


class TriangleMultiplication(hk.Module):
    """Multiplicative update over triangles of edges: outgoing (i-k, j-k) or incoming (k-i, k-j)."""

    def __init__(self, config: TriangleMultiplicationConfig, global_config: GlobalConfig,
                 name: str = "triangle_multiplication_outgoing"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, pair_act: jnp.ndarray, pair_mask: jnp.ndarray) -> jnp.ndarray:
        """pair_act [L, L, c_z], pair_mask [L, L] -> update [L, L, c_z]."""
        channels = pair_act.shape[-1]
        num_intermediate = self.config.num_intermediate_channel
        mask = pair_mask.astype(pair_act.dtype)[..., None]             # [L, L, 1]
        act = layer_norm_f32(layer_norm("layer_norm_input"), pair_act)

        def gated_projection(prefix: str) -> jnp.ndarray:
            projection = mask * Linear(num_intermediate, name=f"{prefix}_projection")(act)
            gate = Linear(num_intermediate, initializer="zeros", bias_init=1.0, name=f"{prefix}_gate")(act)
            return projection * jax.nn.sigmoid(gate)                   # [L, L, c]

        left = gated_projection("left")
        right = gated_projection("right")
        if self.config.outgoing:   # out[i, j] = sum_k left[i, k] * right[j, k]
            rows_i, rows_j = left, right
        else:                      # out[i, j] = sum_k left[k, j] * right[k, i]
            rows_i, rows_j = jnp.swapaxes(right, 0, 1), jnp.swapaxes(left, 0, 1)

        center_norm = layer_norm("center_layer_norm")
        output_projection = Linear(channels, initializer=_final_init(self.global_config),
                                   name="output_projection")
        gating_linear = Linear(channels, initializer="zeros", bias_init=1.0, name="gating_linear")

        def update_rows(edges_i, input_rows):
            # edges_i [l, L, c], input_rows [l, L, c_z] -> [l, L, c_z]
            triangle = jnp.einsum("ikc,jkc->ijc", edges_i, rows_j)
            triangle = layer_norm_f32(center_norm, triangle)
            return output_projection(triangle) * jax.nn.sigmoid(gating_linear(input_rows))

        return chunked_apply(update_rows, (rows_i, act), (0, 0), self.global_config.chunk_size)


class TriangleAttention(hk.Module):
    """Attention around the starting node (per_row) or ending node (per_column) of each edge."""

    def __init__(self, config: AttentionConfig, global_config: GlobalConfig,
                 name: str = "triangle_attention_starting_node"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, pair_act: jnp.ndarray, pair_mask: jnp.ndarray) -> jnp.ndarray:
        """pair_act [L, L, c_z], pair_mask [L, L] -> update [L, L, c_z]."""
        per_column = self.config.orientation == "per_column"
        if per_column:
            pair_act = jnp.swapaxes(pair_act, 0, 1)
            pair_mask = jnp.swapaxes(pair_mask, 0, 1)
        bias = mask_bias(pair_mask)[:, None, None, :]                  # [L, 1, 1, L]
        pair_act = layer_norm_f32(layer_norm("query_norm"), pair_act)
        nonbatched = pair_bias(pair_act, self.config.num_head)         # [H, L, L]
        attention = Attention(self.config.num_head, pair_act.shape[-1], self.config.gating,
                              self.global_config.zero_init,
                              key_dim=self.config.key_dim, value_dim=self.config.value_dim)

        def rows(act, row_bias):
            return attention(act, act, row_bias, nonbatched)

        update = chunked_apply(rows, (pair_act, bias), (0, 0), self.global_config.chunk_size)
        return jnp.swapaxes(update, 0, 1) if per_column else update
