"""Apply a function over slices of one batch axis to bound memory.

``chunked_apply(fn, args, in_axes, chunk_size)`` computes the same result as
``fn(*args)`` for functions that act independently on each index of the batch
axis (attention rows, triangle rows, per-position MLPs), but only
``chunk_size`` indices at a time. The first chunk runs on its own (it fixes
the output shapes and, under ``init``, creates the parameters); the other full
chunks run under ``hk.scan`` (one traced body, parameters shared) and write
their rows in place into one output buffer, as does the remainder; no stacked
copy of the chunks is ever made.
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

    def chunk_at(start, size):
        return call([jax.lax.dynamic_slice_in_dim(a, start, size, axis=ax) if ax is not None else None
                     for a, ax in zip(args, in_axes)])

    # The first chunk runs on its own (it fixes the output shapes and, under init, creates the
    # parameters); the others write their rows into the output buffer carried through hk.scan,
    # updated in place: no stacked [chunks, chunk_size, ...] copy of the output is made.
    first = chunk_at(0, chunk_size)
    output = jax.tree.map(
        lambda y: jax.lax.dynamic_update_slice_in_dim(jnp.zeros((batch,) + y.shape[1:], y.dtype), y, 0, axis=0),
        first)
    if num_full > 1:
        starts = jnp.arange(1, num_full, dtype=jnp.int32) * chunk_size

        def body(out, start):
            rows = chunk_at(start, chunk_size)
            return jax.tree.map(lambda o, y: jax.lax.dynamic_update_slice_in_dim(o, y, start, axis=0), out, rows), None

        output, _ = hk.scan(body, output, starts)
    if remainder:
        tail = chunk_at(num_full * chunk_size, remainder)
        output = jax.tree.map(lambda o, y: jax.lax.dynamic_update_slice_in_dim(o, y, num_full * chunk_size, axis=0),
                              output, tail)
    return output
