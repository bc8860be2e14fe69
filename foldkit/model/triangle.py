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
        if self.config.fuse_projection_weights:
            return _fused_update(self.config, self.global_config, pair_act, pair_mask)
        channels = pair_act.shape[-1]
        num_intermediate = self.config.num_intermediate_channel
        mask = pair_mask.astype(pair_act.dtype)[..., None]             # [L, L, 1]
        act = layer_norm_f32(layer_norm("layer_norm_input"), pair_act)

        left_projection = Linear(num_intermediate, name="left_projection")
        right_projection = Linear(num_intermediate, name="right_projection")
        left_gate = Linear(num_intermediate, initializer="zeros", bias_init=1.0, name="left_gate")
        right_gate = Linear(num_intermediate, initializer="zeros", bias_init=1.0, name="right_gate")
        center_norm = layer_norm("center_layer_norm")
        output_projection = Linear(channels, initializer=_final_init(self.global_config),
                                   name="output_projection")
        gating_linear = Linear(channels, initializer="zeros", bias_init=1.0, name="gating_linear")

        def edges(projection: Linear, gate: Linear, act_: jnp.ndarray, mask_: jnp.ndarray) -> jnp.ndarray:
            return mask_ * projection(act_) * jax.nn.sigmoid(gate(act_))

        # outgoing: out[i, j] = sum_k left[i, k] * right[j, k]  (chunks of rows i of left)
        # incoming: out[i, j] = sum_k right[k, i] * left[k, j]  (chunks of columns i of right)
        # The other side is needed whole; the chunked side is built one chunk at a time.
        if self.config.outgoing:
            edges_j = edges(right_projection, right_gate, act, mask)                     # [L, L, c]
            side_i, gate_i, axis_i, equation = left_projection, left_gate, 0, "ikc,jkc->ijc"
        else:
            edges_j = edges(left_projection, left_gate, act, mask)                       # [L, L, c]
            side_i, gate_i, axis_i, equation = right_projection, right_gate, 1, "kic,kjc->ijc"

        def update_rows(act_i, mask_i, input_rows):
            # act_i/mask_i: rows (outgoing) or columns (incoming) i of the normalised pair
            edges_i = edges(side_i, gate_i, act_i, mask_i)                               # [l, L, c] / [L, l, c]
            triangle = jnp.einsum(equation, edges_i, edges_j)                            # [l, L, c]
            triangle = layer_norm_f32(center_norm, triangle)
            return output_projection(triangle) * jax.nn.sigmoid(gating_linear(input_rows))

        return chunked_apply(update_rows, (act, mask, act), (axis_i, axis_i, 0), self.global_config.chunk_size)


def _fused_update(config: TriangleMultiplicationConfig, global_config: GlobalConfig, pair_act: jnp.ndarray,
                  pair_mask: jnp.ndarray) -> jnp.ndarray:
    """The multimer v3 triangle update [L, L, c_z]: one ``projection`` and one ``gate`` Linear
    [c_z, 2C] give both edge sides (left = first C channels, right = last C); LayerNorms
    ``left_norm_input`` and ``center_norm``. Built in the calling module's scope (a function,
    not a method, so haiku adds no ``~method`` level to the parameter paths)."""
    channels = pair_act.shape[-1]
    num_intermediate = config.num_intermediate_channel
    mask = pair_mask.astype(pair_act.dtype)[..., None]             # [L, L, 1]
    act = layer_norm_f32(layer_norm("left_norm_input"), pair_act)
    projection = Linear(2 * num_intermediate, name="projection")
    gate = Linear(2 * num_intermediate, initializer="zeros", bias_init=1.0, name="gate")
    center_norm = layer_norm("center_norm")
    output_projection = Linear(channels, initializer=_final_init(global_config),
                               name="output_projection")
    gating_linear = Linear(channels, initializer="zeros", bias_init=1.0, name="gating_linear")

    def edges(act_: jnp.ndarray, mask_: jnp.ndarray) -> jnp.ndarray:
        return mask_ * projection(act_) * jax.nn.sigmoid(gate(act_))                # [.., .., 2C]

    chunk_size = global_config.chunk_size
    if chunk_size is None or chunk_size >= pair_act.shape[0]:
        both = edges(act, mask)                                                      # [L, L, 2C]
        left, right = both[..., :num_intermediate], both[..., num_intermediate:]
        equation = "ikc,jkc->ijc" if config.outgoing else "kjc,kic->ijc"
        triangle = layer_norm_f32(center_norm, jnp.einsum(equation, left, right))   # [L, L, C]
        return output_projection(triangle) * jax.nn.sigmoid(gating_linear(act))

    # chunked as in the unfused form: the side read per chunk (left rows i when outgoing,
    # right columns i when incoming) is built chunk by chunk, the other side whole
    if config.outgoing:
        edges_j = edges(act, mask)[..., num_intermediate:]                           # right [L, L, C]
        part_i, axis_i, equation = slice(0, num_intermediate), 0, "ikc,jkc->ijc"
    else:
        edges_j = edges(act, mask)[..., :num_intermediate]                           # left [L, L, C]
        part_i, axis_i, equation = slice(num_intermediate, None), 1, "kic,kjc->ijc"

    def update_rows(act_i, mask_i, input_rows):
        edges_i = edges(act_i, mask_i)[..., part_i]                                  # [l, L, C] / [L, l, C]
        triangle = layer_norm_f32(center_norm, jnp.einsum(equation, edges_i, edges_j))  # [l, L, C]
        return output_projection(triangle) * jax.nn.sigmoid(gating_linear(input_rows))

    return chunked_apply(update_rows, (act, mask, act), (axis_i, axis_i, 0), chunk_size)


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
