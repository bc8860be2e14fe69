"""Apply a function over slices of one batch axis to bound memory.

``chunked_apply(fn, args, in_axes, chunk_size)`` computes the same result as
``fn(*args)`` for functions that act independently on each index of the batch
axis (attention rows, triangle rows, per-position MLPs), but only
``chunk_size`` indices at a time. Full chunks run under ``hk.scan`` (one traced
body, parameters shared across chunks, ``init`` works); the remainder is one
extra call. Outputs are concatenated along axis 0.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import haiku as hk
import jax
import jax.numpy as jnp


def chunked_apply(fn: Callable[..., Any], args: Sequence[Any], in_axes: Sequence[int | None],
                  chunk_size: int | None) -> Any:
    """``fn(*args)`` computed ``chunk_size`` batch entries at a time.

    in_axes[i] is the batch axis of args[i] (None: passed whole to every
    chunk). Every output of ``fn`` (a pytree) must carry the batch on axis 0.
    """
    if len(args) != len(in_axes):
        raise ValueError("chunked_apply: one in_axes entry per argument")
    sizes = {a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None}
    if len(sizes) != 1:
        raise ValueError(f"chunked_apply: batched arguments disagree on the batch size {sorted(sizes)}")
    batch = sizes.pop()
    if chunk_size is None or chunk_size >= batch:
        return fn(*args)

    def call(sliced: Sequence[Any]) -> Any:
        return fn(*[part if ax is not None else whole for part, whole, ax in zip(sliced, args, in_axes)])

    num_full = batch // chunk_size
    remainder = batch - num_full * chunk_size
    pieces = []
    if num_full:
        # scan over chunk start offsets and slice inside the body: no transposed
        # or reshaped copy of the inputs is made
        starts = jnp.arange(num_full, dtype=jnp.int32) * chunk_size

        def body(carry, start):
            sliced = [jax.lax.dynamic_slice_in_dim(a, start, chunk_size, axis=ax) if ax is not None else None
                      for a, ax in zip(args, in_axes)]
            return carry, call(sliced)

        _, ys = hk.scan(body, None, starts)
        pieces.append(jax.tree.map(lambda y: y.reshape((num_full * chunk_size,) + y.shape[2:]), ys))
    if remainder:
        tail = [jax.lax.slice_in_dim(a, num_full * chunk_size, batch, axis=ax) if ax is not None else None
                for a, ax in zip(args, in_axes)]
        pieces.append(call(tail))
    if len(pieces) == 1:
        return pieces[0]
    return jax.tree.map(lambda *parts: jnp.concatenate(parts, axis=0), *pieces)
