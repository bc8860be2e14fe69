"""Building blocks with AlphaFold2's parameter names: Linear, LayerNorm, attention.

``Linear`` stores ``weights`` with shape ``input_shape + output_shape`` and
``bias`` with shape ``output_shape``: the layout of the official parameter
files (e.g. attention ``query_w`` is [c_in, heads, head_dim]).
"""

from __future__ import annotations

import numbers
from typing import Sequence

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

# truncated-normal std correction: std of a unit normal truncated to [-2, 2]
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def _weight_init(kind: str, fan_in: int) -> hk.initializers.Initializer:
    if kind == "zeros":
        return hk.initializers.Constant(0.0)
    if kind in ("linear", "relu"):
        scale = (2.0 if kind == "relu" else 1.0) / max(1.0, fan_in)
        std = np.sqrt(scale) / _TRUNCATED_NORMAL_STDDEV
        return hk.initializers.TruncatedNormal(mean=0.0, stddev=std)
    if kind == "glorot":
        return hk.initializers.VarianceScaling(1.0, "fan_avg", "uniform")
    raise ValueError(f"unknown initializer {kind!r}")


class Linear(hk.Module):
    """Affine map over the last ``num_input_dims`` axes onto ``num_output`` (int or shape)."""

    def __init__(self, num_output: int | Sequence[int], initializer: str = "linear",
                 num_input_dims: int = 1, use_bias: bool = True, bias_init: float = 0.0,
                 precision=None, name: str = "linear"):
        super().__init__(name=name)
        self.output_shape = (num_output,) if isinstance(num_output, numbers.Integral) else tuple(num_output)
        self.initializer = initializer
        self.num_input_dims = num_input_dims
        self.use_bias = use_bias
        self.bias_init = bias_init
        self.precision = precision

    def __call__(self, inputs: jnp.ndarray) -> jnp.ndarray:
        n_in = self.num_input_dims
        in_shape = tuple(inputs.shape[-n_in:]) if n_in > 0 else ()
        fan_in = int(np.prod(in_shape)) if in_shape else 1
        weights = hk.get_parameter("weights", in_shape + self.output_shape, inputs.dtype,
                                   init=_weight_init(self.initializer, fan_in))
        in_letters = "abcde"[:n_in]
        out_letters = "hijkl"[: len(self.output_shape)]
        equation = f"...{in_letters},{in_letters}{out_letters}->...{out_letters}"
        output = jnp.einsum(equation, inputs, weights.astype(inputs.dtype), precision=self.precision)
        if self.use_bias:
            bias = hk.get_parameter("bias", self.output_shape, inputs.dtype,
                                    init=hk.initializers.Constant(self.bias_init))
            output = output + bias.astype(inputs.dtype)
        return output


def layer_norm(name: str, axis: int = -1) -> hk.LayerNorm:
    """LayerNorm with learned ``scale`` and ``offset`` (AlphaFold's epsilon 1e-5)."""
    return hk.LayerNorm(axis=axis, create_scale=True, create_offset=True, name=name)


def layer_norm_f32(module: hk.LayerNorm, x: jnp.ndarray) -> jnp.ndarray:
    """Apply a LayerNorm in float32 (stable under bfloat16 compute), return in x's dtype."""
    return module(x.astype(jnp.float32)).astype(x.dtype) if x.dtype == jnp.bfloat16 else module(x)


# --- attention ---------------------------------------------------------------

MASK_LOGIT = 1e9  # masked keys get logit bias -MASK_LOGIT (AlphaFold's additive mask)


def mask_bias(mask: jnp.ndarray) -> jnp.ndarray:
    """Additive logit bias: 0 where mask is 1, -1e9 where it is 0."""
    return MASK_LOGIT * (mask - 1.0)


def _param(name: str, shape, dtype, init) -> jnp.ndarray:
    return hk.get_parameter(name, tuple(shape), jnp.float32, init=init).astype(dtype)


def _glorot() -> hk.initializers.Initializer:
    return hk.initializers.VarianceScaling(1.0, "fan_avg", "uniform")


def _softmax_f32(logits: jnp.ndarray) -> jnp.ndarray:
    return jax.nn.softmax(logits.astype(jnp.float32), axis=-1)


class _HeadedAttention(hk.Module):
    """Settings shared by :class:`Attention` and :class:`GlobalAttention`."""

    def __init__(self, num_head: int, output_dim: int, gating: bool = True, zero_init: bool = True,
                 key_dim: int | None = None, value_dim: int | None = None, name: str = "attention"):
        super().__init__(name=name)
        self.num_head = num_head
        self.output_dim = output_dim
        self.gating = gating
        self.zero_init = zero_init
        self.key_dim = key_dim        # total over heads; None: query channels
        self.value_dim = value_dim    # total over heads; None: memory channels


class Attention(_HeadedAttention):
    """Multi-head attention with optional sigmoid gating of the heads' outputs.

    Parameters: ``query_w``/``key_w``/``value_w`` [c_in, H, d], ``gating_w``
    [c_in, H, d] and ``gating_b`` [H, d], ``output_w`` [H, d, c_out],
    ``output_b`` [c_out]; d = key_dim // H (key_dim defaults to c_in).
    """

    def __call__(self, q_data: jnp.ndarray, m_data: jnp.ndarray, bias: jnp.ndarray,
                 nonbatched_bias: jnp.ndarray | None = None) -> jnp.ndarray:
        """q_data [B, Q, c_q], m_data [B, K, c_m], bias broadcastable to [B, H, Q, K],
        nonbatched_bias [H, Q, K] shared by the batch. Returns [B, Q, c_out]."""
        dtype = q_data.dtype
        num_head = self.num_head
        key_dim = (self.key_dim or q_data.shape[-1]) // num_head
        value_dim = (self.value_dim or m_data.shape[-1]) // num_head
        query_w = _param("query_w", (q_data.shape[-1], num_head, key_dim), dtype, _glorot())
        key_w = _param("key_w", (m_data.shape[-1], num_head, key_dim), dtype, _glorot())
        value_w = _param("value_w", (m_data.shape[-1], num_head, value_dim), dtype, _glorot())

        query = jnp.einsum("bqa,ahc->bqhc", q_data, query_w) * key_dim ** (-0.5)  # [B, Q, H, d]
        key = jnp.einsum("bka,ahc->bkhc", m_data, key_w)                            # [B, K, H, d]
        value = jnp.einsum("bka,ahc->bkhc", m_data, value_w)                        # [B, K, H, dv]
        logits = jnp.einsum("bqhc,bkhc->bhqk", query, key) + bias                   # [B, H, Q, K]
        if nonbatched_bias is not None:
            logits = logits + nonbatched_bias[None]
        weights = _softmax_f32(logits).astype(dtype)
        weighted = jnp.einsum("bhqk,bkhc->bqhc", weights, value)                    # [B, Q, H, dv]

        if self.gating:
            gating_w = _param("gating_w", (q_data.shape[-1], num_head, value_dim), dtype,
                              hk.initializers.Constant(0.0))
            gating_b = _param("gating_b", (num_head, value_dim), dtype, hk.initializers.Constant(1.0))
            gate = jax.nn.sigmoid(jnp.einsum("bqc,chv->bqhv", q_data, gating_w) + gating_b)
            weighted = weighted * gate

        output_init = hk.initializers.Constant(0.0) if self.zero_init else _glorot()
        output_w = _param("output_w", (num_head, value_dim, self.output_dim), dtype, output_init)
        output_b = _param("output_b", (self.output_dim,), dtype, hk.initializers.Constant(0.0))
        return jnp.einsum("bqhc,hco->bqo", weighted, output_w) + output_b


class GlobalAttention(_HeadedAttention):
    """Attention with one averaged query per batch entry and a single shared key/value head.

    Parameters: ``query_w`` [c, H, d], ``key_w`` [c, d], ``value_w`` [c, d],
    ``gating_w`` [c, H, d], ``gating_b`` [H, d], ``output_w`` [H, d, c_out],
    ``output_b`` [c_out]; d = key_dim // H (key_dim defaults to c).
    """

    def __call__(self, q_data: jnp.ndarray, m_data: jnp.ndarray, q_mask: jnp.ndarray) -> jnp.ndarray:
        """q_data, m_data [B, Q, c]; q_mask [B, Q] (also masks the keys). Returns [B, Q, c_out]."""
        dtype = q_data.dtype
        num_head = self.num_head
        channels = q_data.shape[-1]
        key_dim = (self.key_dim or channels) // num_head
        value_dim = (self.value_dim or m_data.shape[-1]) // num_head
        query_w = _param("query_w", (channels, num_head, key_dim), dtype, _glorot())
        key_w = _param("key_w", (m_data.shape[-1], key_dim), dtype, _glorot())
        value_w = _param("value_w", (m_data.shape[-1], value_dim), dtype, _glorot())

        mask = q_mask.astype(dtype)[..., None]                                          # [B, Q, 1]
        mean_query = jnp.sum(mask * q_data, axis=1) / (jnp.sum(mask, axis=1) + 1e-10)  # [B, c]
        query = jnp.einsum("ba,ahc->bhc", mean_query, query_w) * key_dim ** (-0.5)     # [B, H, d]
        key = jnp.einsum("bka,ac->bkc", m_data, key_w)                                 # [B, K, d]
        value = jnp.einsum("bka,ac->bkc", m_data, value_w)                             # [B, K, dv]
        logits = jnp.einsum("bhc,bkc->bhk", query, key) + mask_bias(q_mask)[:, None, :]  # [B, H, K]
        weights = _softmax_f32(logits).astype(dtype)
        weighted = jnp.einsum("bhk,bkc->bhc", weights, value)                          # [B, H, dv]

        output_init = hk.initializers.Constant(0.0) if self.zero_init else _glorot()
        output_w = _param("output_w", (num_head, value_dim, self.output_dim), dtype, output_init)
        output_b = _param("output_b", (self.output_dim,), dtype, hk.initializers.Constant(0.0))
        if self.gating:
            gating_w = _param("gating_w", (channels, num_head, value_dim), dtype,
                              hk.initializers.Constant(0.0))
            gating_b = _param("gating_b", (num_head, value_dim), dtype, hk.initializers.Constant(1.0))
            gate = jax.nn.sigmoid(jnp.einsum("bqc,chv->bqhv", q_data, gating_w) + gating_b)
            gated = weighted[:, None] * gate                                            # [B, Q, H, dv]
            return jnp.einsum("bqhc,hco->bqo", gated, output_w) + output_b
        output = jnp.einsum("bhc,hco->bo", weighted, output_w) + output_b
        return jnp.broadcast_to(output[:, None], q_data.shape[:2] + (self.output_dim,))
