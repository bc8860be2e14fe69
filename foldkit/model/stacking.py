"""Repeated blocks with per-block parameters stacked on a leading axis.

Same contract as :func:`foldkit.model.layer_stack.layer_stack`, but the
parameters of the block are re-created in the caller's scope one path level
at a time, entering each name scope exactly once. (Entering
``hk.experimental.name_scope("a/b")`` and then ``name_scope("a/c")`` in one
call makes haiku uniquify the second ``a`` into ``a_1``, which breaks the
official keys as soon as the block has nested modules, e.g.
``evoformer_iteration/msa_row_attention_with_pair_bias/attention``.)
"""

from __future__ import annotations

from typing import Any, Callable

import haiku as hk
import jax

LAYER_STACK_SCOPE = "__layer_stack_no_state"
_PARAMS = "\x00params"  # key of a node's own parameters in the path tree


def _path_tree(values: dict[str, dict[str, Any]]) -> dict:
    tree: dict = {}
    for module_path, bundle in values.items():
        node = tree
        for part in module_path.split("/"):
            node = node.setdefault(part, {})
        node[_PARAMS] = bundle
    return tree


def _create(tree: dict, prefix: str, out: dict) -> None:
    for name, node in tree.items():
        if name == _PARAMS:
            continue
        path = f"{prefix}/{name}" if prefix else name
        with hk.experimental.name_scope(name):
            for param_name, value in node.get(_PARAMS, {}).items():
                out.setdefault(path, {})[param_name] = hk.get_parameter(
                    param_name, value.shape, value.dtype, init=lambda *_, v=value: v)
            _create(node, path, out)


def stacked_layers(num_layers: int, layer_fn: Callable[[Any], Any], carry: Any, scope: str = "") -> Any:
    """``carry = layer_fn(carry)`` applied ``num_layers`` times, parameters stacked on axis 0.

    ``layer_fn`` builds its haiku modules itself; ``scope`` adds one path level
    (``__layer_stack_no_state`` for the template pair stack). Runs under
    ``jax.lax.scan`` (traced once). Must be called inside ``hk.transform``.
    """
    if num_layers < 1:
        raise ValueError(f"stacked_layers needs at least one layer, got {num_layers}")

    def one_layer(state):
        if scope:
            with hk.experimental.name_scope(scope):
                return layer_fn(state)
        return layer_fn(state)

    block = hk.transform(one_layer)

    def stacked_init(rng, state):
        return jax.vmap(lambda r: block.init(r, state))(jax.random.split(rng, num_layers))

    if hk.running_init():
        values = stacked_init(hk.next_rng_key(), carry)
    else:  # names and shapes only
        values = jax.eval_shape(stacked_init, jax.random.PRNGKey(0), carry)
    params: dict[str, dict[str, Any]] = {}
    _create(_path_tree(values), "", params)

    def step(state, layer_params):
        return block.apply(layer_params, None, state), None

    carry, _ = jax.lax.scan(step, carry, params)
    return carry
