"""The whole AlphaFold-Multimer network: recycling with early stop around one iteration.

Module tree and parameter paths are those of the official multimer v3 files
(``alphafold/alphafold_iteration/{evoformer, structure_module, *_head}/...``).

:class:`MultimerAlphaFold` reads the multimer features (no leading batch
axis: the MSA is sampled inside the network, anew in every iteration) and
runs up to ``num_recycle`` iterations, stopping early once the Cα-Cα distance
matrix changes by less than ``recycle_early_stop_tolerance`` Å (RMS over
residue pairs) between consecutive iterations, then one more iteration whose
outputs are returned. ``num_recycles`` counts the loop iterations run.

Randomness: with ``draws=None`` every iteration makes its uniform draws from
the haiku RNG key (the apply key): the loop splits its carried key in two
every iteration (the iteration gets the second half, the loop keeps the
first; the final iteration gets the carried key), an iteration splits its key
in two and gives the second half to the MSA sampling
(:func:`foldkit.model.msa_sampling.sampling_keys`). Under
:func:`foldkit.model.msa_sampling.alphafold_rng_scope` these are
AlphaFold v2.3.2's own draws. ``draws`` (a :class:`SamplingDraws` with a
leading iteration axis) injects them instead: iteration i reads entry
``min(i, D - 1)``.
"""

from __future__ import annotations

from typing import Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model.alphafold import flatten_outputs
from foldkit.model.global_config import GlobalConfig
from foldkit.model.msa_sampling import SamplingDraws, draw_uniforms
from foldkit.model.multimer_config import MultimerConfig, MultimerModelConfig
from foldkit.model.multimer_embeddings import MultimerEmbeddingsAndEvoformer
from foldkit.model.multimer_heads import apply_multimer_heads
from foldkit.model.multimer_structure import MultimerStructureModule

NUM_ATOM37 = 37
CA_INDEX = 1
RECYCLED_OUTPUTS = ("structure_module/final_atom_positions", "representations/msa_first_row",
                    "representations/pair", "representations/single", "predicted_lddt/logits")
DISTANCE_MASK_EPSILON = 1e-10
EARLY_STOP_EPSILON = 1e-8


class MultimerIteration(hk.Module):
    """One pass: MSA sampling, embeddings + Evoformer, structure module, heads (flat AlphaFold names)."""

    def __init__(self, config: MultimerModelConfig, global_config: GlobalConfig, name: str = "alphafold_iteration"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, batch: Mapping[str, jnp.ndarray], prev: Mapping[str, jnp.ndarray], draws: SamplingDraws,
                 return_sampling: bool = False) -> dict[str, jnp.ndarray]:
        gc = self.global_config
        trunk = MultimerEmbeddingsAndEvoformer(self.config.embeddings_and_evoformer, gc)(
            batch, prev, draws, return_sampling=return_sampling)
        sampling = {k: v for k, v in trunk.items() if k.startswith("sampling/")}
        representations = {k: v for k, v in trunk.items() if not k.startswith("sampling/")}
        structure = dict(MultimerStructureModule(self.config.structure_module, gc)(
            representations["single"], representations["pair"], batch))
        representations.update(structure.pop("representations"))
        outputs = flatten_outputs(structure, "structure_module/")
        outputs.update(apply_multimer_heads(self.config.heads, representations, batch, global_config=gc))
        outputs.update({f"representations/{k}": v for k, v in representations.items()})
        outputs.update(sampling)
        return outputs


def initial_prev(num_res: int, config: MultimerModelConfig) -> dict[str, jnp.ndarray]:
    """Zero recycled inputs of the first iteration."""
    c = config.embeddings_and_evoformer
    return {"prev_pos": jnp.zeros((num_res, NUM_ATOM37, 3), jnp.float32),
            "prev_msa_first_row": jnp.zeros((num_res, c.msa_channel), jnp.float32),
            "prev_pair": jnp.zeros((num_res, num_res, c.pair_channel), jnp.float32)}


def next_prev(outputs: Mapping[str, jnp.ndarray]) -> dict[str, jnp.ndarray]:
    """What an iteration passes on: final atom positions, first MSA row, pair (float32, no gradient)."""
    values = {"prev_pos": outputs["structure_module/final_atom_positions"],
              "prev_msa_first_row": outputs["representations/msa_first_row"],
              "prev_pair": outputs["representations/pair"]}
    return {k: jax.lax.stop_gradient(v.astype(jnp.float32)) for k, v in values.items()}


def ca_distance_change(positions_a: jnp.ndarray, positions_b: jnp.ndarray, seq_mask: jnp.ndarray) -> jnp.ndarray:
    """RMS difference (Å) of the Cα-Cα distance matrices of two atom37 structures [L, 37, 3]
    over residue pairs with seq_mask 1 (AlphaFold-Multimer's early-stop measure)."""
    def distances(positions):
        ca = positions[:, CA_INDEX]
        return jnp.sqrt(jnp.sum(jnp.square(ca[:, None] - ca[None, :]), axis=-1))    # [L, L]

    mask = seq_mask[:, None] * seq_mask[None, :]
    squared = jnp.square(distances(positions_a) - distances(positions_b))
    mean = jnp.sum(mask * squared) / (jnp.sum(mask) + DISTANCE_MASK_EPSILON)
    return jnp.sqrt(mean + EARLY_STOP_EPSILON)


def split_iteration_key(key: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The recycling loop's key step: (key carried on, key of this iteration)."""
    carried, iteration_key = jax.random.split(key)
    return carried, iteration_key


def embedding_key(iteration_key: jnp.ndarray) -> jnp.ndarray:
    """The key an iteration gives its MSA sampling (second half of a split)."""
    return jax.random.split(iteration_key)[1]


def network_rng_key(apply_key: jnp.ndarray) -> jnp.ndarray:
    """The key :class:`MultimerAlphaFold` draws from haiku's RNG for a given apply key."""
    return hk.transform(lambda: hk.next_rng_key()).apply({}, apply_key)


def iteration_keys(key: jnp.ndarray, num_loop_iterations: int) -> list[jnp.ndarray]:
    """Embedding keys of every network iteration when the loop ran ``num_loop_iterations`` times
    (the last entry is the final iteration's); ``key`` is the network's RNG key."""
    keys = []
    for _ in range(num_loop_iterations):
        key, iteration_key = split_iteration_key(key)
        keys.append(embedding_key(iteration_key))
    return keys + [embedding_key(key)]


def _draws_at(draws: SamplingDraws, index: jnp.ndarray) -> SamplingDraws:
    count = draws.sample_uniform.shape[0]
    index = jnp.minimum(index, count - 1)
    return jax.tree.map(lambda x: jax.lax.dynamic_index_in_dim(x, index, 0, keepdims=False), draws)


class MultimerAlphaFold(hk.Module):
    """The recycling loop with early stop around :class:`MultimerIteration`."""

    def __init__(self, config: MultimerModelConfig, global_config: GlobalConfig | None = None,
                 name: str = "alphafold"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config or config.global_config

    def __call__(self, batch: Mapping[str, jnp.ndarray], draws: SamplingDraws | None = None,
                 return_recycles: bool = False, return_sampling: bool = False) -> dict[str, jnp.ndarray]:
        """batch: multimer features (see :class:`MultimerEmbeddingsAndEvoformer`); draws: injected
        uniforms with a leading iteration axis, or None (haiku RNG). Returns the final iteration's
        outputs, ``num_recycles``, and with ``return_recycles`` ``recycle{r}/<name>`` for every
        r < num_recycle (entries r >= num_recycles are zeros: those iterations did not run)."""
        cfg = self.config
        num_res = batch["aatype"].shape[0]
        num_rows = batch["msa"].shape[0]
        num_msa = cfg.embeddings_and_evoformer.num_msa
        seq_mask = batch["seq_mask"].astype(jnp.float32)
        iteration = MultimerIteration(cfg, self.global_config)
        if draws is None:
            key = hk.next_rng_key()
        else:
            key = jax.random.PRNGKey(0)   # carried but unused

        def draws_for(index, iteration_key):
            if draws is not None:
                return _draws_at(draws, index)
            return draw_uniforms(embedding_key(iteration_key), num_rows, num_msa, num_res)

        def run(prev, index, iteration_key):
            return iteration(batch, prev, draws_for(index, iteration_key), return_sampling=return_sampling)

        prev = initial_prev(num_res, cfg)
        num_recycle = cfg.num_recycle
        if hk.running_init():
            outputs = run(prev, 0, key)   # creates the parameters once
            outputs["num_recycles"] = jnp.asarray(0, jnp.int32)
            return outputs

        recycles = {}
        index = jnp.asarray(0, jnp.int32)
        if num_recycle:
            def body(carry):
                index, prev, _, key, kept = carry
                key, iteration_key = split_iteration_key(key)
                outputs = run(prev, index, iteration_key)
                if return_recycles:
                    kept = {name: jax.lax.dynamic_update_index_in_dim(kept[name], outputs[name].astype(
                        kept[name].dtype), index, 0) for name in kept}
                return index + 1, next_prev(outputs), prev["prev_pos"], key, kept

            def keep_going(carry):
                index, prev, prev_in_pos, _, _ = carry
                change = ca_distance_change(prev_in_pos, prev["prev_pos"], seq_mask)
                return (index < num_recycle) & ((index == 0) | (change > cfg.recycle_early_stop_tolerance))

            kept = {}
            if return_recycles:
                kept = {name: jnp.zeros((num_recycle,) + shape, jnp.float32)
                        for name, shape in self._recycled_shapes(num_res).items()}
            carry = (index, prev, prev["prev_pos"], key, kept)
            index, prev, _, key, kept = hk.while_loop(keep_going, body, carry)
            recycles = {f"recycle{r}/{name}": value[r] for name, value in kept.items() for r in range(num_recycle)}
        outputs = run(prev, index, key)
        outputs["num_recycles"] = index
        outputs.update(recycles)
        return outputs

    def _recycled_shapes(self, num_res: int) -> dict[str, tuple[int, ...]]:
        c = self.config.embeddings_and_evoformer
        return {"structure_module/final_atom_positions": (num_res, NUM_ATOM37, 3),
                "representations/msa_first_row": (num_res, c.msa_channel),
                "representations/pair": (num_res, num_res, c.pair_channel),
                "representations/single": (num_res, c.seq_channel),
                "predicted_lddt/logits": (num_res, self.config.heads.predicted_lddt.num_bins)}


def forward_fn(config: MultimerModelConfig, global_config: GlobalConfig | None = None,
               return_recycles: bool = False, return_sampling: bool = False):
    """A haiku-transformed network: ``init(rng, batch)``, ``apply(params, rng, batch, draws=None)``."""
    def forward(batch, draws=None):
        return MultimerAlphaFold(config, global_config)(batch, draws, return_recycles=return_recycles,
                                                        return_sampling=return_sampling)
    return hk.transform(forward)


def feature_shapes(config: MultimerConfig, num_res: int = 8, num_rows: int = 6,
                   num_templates: int | None = None) -> dict[str, jax.ShapeDtypeStruct]:
    """Shapes/dtypes of the multimer features the network reads (no batch axis)."""
    t = num_templates if num_templates is not None else config.model.embeddings_and_evoformer.template.max_templates
    f32, i32 = jnp.float32, jnp.int32
    shapes = {
        "aatype": ((num_res,), i32), "residue_index": ((num_res,), i32), "asym_id": ((num_res,), f32),
        "entity_id": ((num_res,), f32), "sym_id": ((num_res,), f32), "seq_mask": ((num_res,), f32),
        "msa": ((num_rows, num_res), i32), "deletion_matrix": ((num_rows, num_res), f32),
        "msa_mask": ((num_rows, num_res), f32), "bert_mask": ((num_rows, num_res), f32),
        "cluster_bias_mask": ((num_rows,), f32),
    }
    if config.uses_templates:
        shapes.update({"template_aatype": ((t, num_res), i32),
                       "template_all_atom_positions": ((t, num_res, 37, 3), f32),
                       "template_all_atom_mask": ((t, num_res, 37), f32)})
    return {name: jax.ShapeDtypeStruct(shape, dtype) for name, (shape, dtype) in shapes.items()}


def param_spec_from_init(config: MultimerConfig) -> dict[str, tuple[int, ...]]:
    """Key -> shape of foldkit's own initialisation of ``config`` (``jax.eval_shape``: nothing allocated)."""
    from foldkit.model.params import nested_to_flat, spec_of

    transformed = forward_fn(config.model)
    shapes = jax.eval_shape(transformed.init, jax.random.PRNGKey(0), feature_shapes(config))
    return spec_of(nested_to_flat(shapes))


def init_params(config: MultimerConfig, seed: int = 0, num_res: int = 8) -> dict[str, dict[str, np.ndarray]]:
    """Random parameters for ``config`` (haiku nested dict of numpy arrays)."""
    transformed = forward_fn(config.model)
    zeros = {k: jnp.zeros(s.shape, s.dtype) for k, s in feature_shapes(config, num_res=num_res).items()}
    zeros["seq_mask"] = jnp.ones_like(zeros["seq_mask"])
    params = transformed.init(jax.random.PRNGKey(seed), zeros)
    return jax.tree.map(np.asarray, hk.data_structures.to_mutable_dict(params))
