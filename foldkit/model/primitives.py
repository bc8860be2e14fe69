"""Building blocks with AlphaFold2's parameter names: Linear, LayerNorm.

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
        output = jnp.einsum(equation, inputs, weights, precision=self.precision)
        if self.use_bias:
            bias = hk.get_parameter("bias", self.output_shape, inputs.dtype,
                                    init=hk.initializers.Constant(self.bias_init))
            output = output + bias
        return output


def layer_norm(name: str, axis: int = -1) -> hk.LayerNorm:
    """LayerNorm with learned ``scale`` and ``offset`` (AlphaFold's epsilon 1e-5)."""
    return hk.LayerNorm(axis=axis, create_scale=True, create_offset=True, name=name)


def layer_norm_f32(module: hk.LayerNorm, x: jnp.ndarray) -> jnp.ndarray:
    """Apply a LayerNorm in float32 (stable under bfloat16 compute), return in x's dtype."""
    return module(x.astype(jnp.float32)).astype(x.dtype) if x.dtype == jnp.bfloat16 else module(x)
