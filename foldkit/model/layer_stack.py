"""Repeat a block N times with its own parameters, stacked on a leading axis.

The parameter tree matches AlphaFold2's official files: every parameter of
the repeated block gets a leading axis of length N, keyed by the path the
block would have when built in the calling scope (``scope`` adds an extra
level, e.g. ``__layer_stack_no_state`` for the template pair stack). The
blocks run under ``jax.lax.scan``, so the block is traced once.
"""

from __future__ import annotations

from typing import Any, Callable

import haiku as hk
import jax

LAYER_STACK_SCOPE = "__layer_stack_no_state"


def layer_stack(num_layers: int, layer_fn: Callable[[Any], Any], carry: Any, scope: str = "") -> Any:
    """Apply ``carry = layer_fn(carry)`` ``num_layers`` times with per-layer parameters.

    ``layer_fn`` must build its haiku modules inside itself (closing over a
    module built outside is not allowed); it may close over arrays (masks).
    Must be called inside ``hk.transform``.
    """
    if num_layers < 1:
        raise ValueError(f"layer_stack needs at least one layer, got {num_layers}")

    def one_layer(state):
        if scope:
            with hk.experimental.name_scope(scope):
                return layer_fn(state)
        return layer_fn(state)

    block = hk.transform(one_layer)

    def stacked_init(rng, state):
        rngs = jax.random.split(rng, num_layers)
        return jax.vmap(lambda r: block.init(r, state))(rngs)

    # The inner init's parameters are registered in the calling scope without
    # an extra name level; at apply time the lifted function returns every
    # parameter of the calling scope, so keep only this stack's keys.
    rng = hk.maybe_next_rng_key()
    if rng is None:
        rng = jax.random.PRNGKey(0)  # apply: values come from the outer params
    lifted = hk.experimental.transparent_lift(stacked_init, allow_reuse=True)(rng, carry)
    if hk.running_init():
        params = lifted
    else:
        expected = jax.eval_shape(stacked_init, rng, carry)
        wrong = sorted(f"{path}//{name} {tuple(value.shape)}" for path, bundle in expected.items()
                       for name, value in bundle.items()
                       if name not in lifted.get(path, {}) or lifted[path][name].shape != value.shape)
        if wrong:
            raise ValueError(f"layer_stack: parameters missing or of another shape than "
                             f"{wrong[:5]}{' ...' if len(wrong) > 5 else ''}")
        params = {path: {name: lifted[path][name] for name in bundle} for path, bundle in expected.items()}

    def step(state, layer_params):
        return block.apply(layer_params, None, state), None

    carry, _ = jax.lax.scan(step, carry, params)
    return carry
