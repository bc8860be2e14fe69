"""The recycling loop run one iteration at a time, with early stop.

The runner (:mod:`foldkit.model.runner`) compiles the whole network with its
recycles inside one ``hk.scan``; prediction needs to look at the structure
after every cycle, so here one network iteration
(:class:`foldkit.model.alphafold.AlphaFoldIteration`, parameters under
``alphafold/alphafold_iteration``) is compiled once per (model config,
runner settings, padded shapes) and called ``1 + num_recycle`` times,
feeding back positions, first MSA row and pair representation exactly as
AlphaFold2 does (Algorithm 2, monomer, no ensembling). With the tolerance
at 0 the result equals the runner's full forward pass.

Early stop (ColabFold's ``recycle_early_stop_tolerance``): after every
recycle the root-mean-square change of the Cα-Cα distance matrix between
consecutive iterations (Å, over real residues) is measured; when it drops
below the tolerance, the current iteration's outputs are the result.
Distances rather than coordinates make the measure independent of the
global frame the structure module happens to place the chain in.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any, Callable, Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model.alphafold import AlphaFoldIteration, feature_shapes, initial_prev
from foldkit.model.config import AlphaFoldConfig, ModelConfig
from foldkit.model.confidence import confidence_metrics
from foldkit.model.global_config import GlobalConfig
from foldkit.model.runner import RunnerConfig, crop_outputs, matmul_precision_scope, pad_features

CA_INDEX = 1  # atom37 index of C-alpha


class _Network(hk.Module):
    """Scope ``alphafold`` holding one iteration, so parameter paths match the official files."""

    def __init__(self, config: ModelConfig, global_config: GlobalConfig):
        super().__init__(name="alphafold")
        self.config = config
        self.global_config = global_config

    def __call__(self, batch: Mapping[str, jnp.ndarray], prev: Mapping[str, jnp.ndarray]) -> dict:
        return AlphaFoldIteration(self.config, self.global_config)(batch, prev)


def _step_fn(model: ModelConfig, global_config: GlobalConfig) -> Callable:
    transformed = hk.transform(lambda batch, prev: _Network(model, global_config)(batch, prev))

    def step(params, batch, prev):
        outputs = transformed.apply(params, None, batch, prev)
        next_prev = {"prev_pos": outputs["structure_module/final_atom_positions"],
                     "prev_msa_first_row": outputs["representations/msa_first_row"],
                     "prev_pair": outputs["representations/pair"]}
        return outputs, jax.tree.map(lambda x: jax.lax.stop_gradient(x.astype(jnp.float32)), next_prev)

    return step


def _shape_key(tree: Any) -> tuple:
    """Hashable (path, shape, dtype) description of a pytree of arrays."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return tuple((tuple(str(entry.key) for entry in path), tuple(leaf.shape), str(leaf.dtype))
                 for path, leaf in leaves)


def _shape_tree(key: tuple) -> dict:
    """Nested dict of ShapeDtypeStructs from :func:`_shape_key` of a dict-of-dicts pytree."""
    tree: dict = {}
    for parts, shape, dtype in key:
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = jax.ShapeDtypeStruct(shape, jnp.dtype(dtype))
    return tree


@functools.lru_cache(maxsize=8)
def _compiled_step(model: ModelConfig, global_config: GlobalConfig, matmul_precision: str | None,
                   params_key: tuple, batch_key: tuple, prev_key: tuple):
    """One iteration compiled ahead of time for these shapes (cached per process, as the runner's jit)."""
    with matmul_precision_scope(matmul_precision):
        lowered = jax.jit(_step_fn(model, global_config)).lower(
            _shape_tree(params_key), _shape_tree(batch_key), _shape_tree(prev_key))
        return lowered.compile()


@dataclasses.dataclass
class CompiledIterations:
    """Access to the compiled one-iteration functions for the runner settings of a session.

    One function per (model config, runner settings, padded input shapes):
    records in the same length bucket, seeds and models with the same config
    reuse it.
    """

    runner: RunnerConfig = RunnerConfig()
    compiled_count: int = 0

    def get(self, model: ModelConfig, params: Any, batch: Mapping[str, jnp.ndarray],
            prev: Mapping[str, jnp.ndarray]) -> tuple[Callable, float]:
        """(compiled step, seconds spent compiling now: 0 when reused)."""
        global_config = self.runner.global_config(model)
        misses = _compiled_step.cache_info().misses
        start = time.perf_counter()
        step = _compiled_step(model, global_config, self.runner.matmul_precision, _shape_key(dict(params)),
                              _shape_key(dict(batch)), _shape_key(dict(prev)))
        if _compiled_step.cache_info().misses == misses:
            return step, 0.0
        self.compiled_count += 1
        return step, time.perf_counter() - start


@dataclasses.dataclass(frozen=True)
class RecyclingResult:
    """Outputs of the last iteration run (numpy, cropped to the query, with ``confidence/*``)."""

    outputs: dict[str, np.ndarray]
    num_recycles: int                  # recycles run (iterations - 1)
    distance_changes: tuple[float, ...]  # RMS change of Cα distances after each recycle (Å)
    early_stopped: bool
    compile_seconds: float
    run_seconds: float


def ca_distance_change(previous_ca: np.ndarray, current_ca: np.ndarray) -> float:
    """RMS difference (Å) of the Cα-Cα distance matrices of two conformations: [L, 3], [L, 3] -> float."""
    def distances(ca):
        ca = np.asarray(ca, np.float64)
        return np.sqrt(np.sum(np.square(ca[:, None] - ca[None, :]), axis=-1))  # [L, L]
    return float(np.sqrt(np.mean(np.square(distances(current_ca) - distances(previous_ca)))))


def run_with_recycling(config: AlphaFoldConfig, params: Any, features: Mapping[str, np.ndarray],
                       compiled: CompiledIterations, num_recycle: int, tolerance: float = 0.0,
                       on_recycle: Callable[[int, float], None] | None = None) -> RecyclingResult:
    """Run up to ``num_recycle`` recycles, stopping early when Cα distances change < ``tolerance`` Å.

    ``features``: processed features with a leading batch axis; iteration r
    reads slice r when the model resamples the MSA per recycle (so it needs
    ``num_recycle + 1`` slices), else slice 0. ``params``: haiku nested dict.
    ``on_recycle(r, change)`` is called after every recycle r >= 1.
    """
    model = config.model
    num_res = int(np.asarray(features["aatype"]).shape[-1])
    num_slices = int(np.asarray(features["aatype"]).shape[0])
    if model.resample_msa_in_recycling and num_slices < num_recycle + 1:
        raise ValueError(f"features have {num_slices} batch slices, {num_recycle} recycles need {num_recycle + 1}")
    padded_length = compiled.runner.bucket_for(num_res)
    read = set(feature_shapes(config))   # only what the network reads: one signature per bucket
    padded = {k: v for k, v in pad_features(features, num_res, padded_length).items() if k in read}

    def batch_slice(index: int) -> dict[str, jnp.ndarray]:
        index = index if model.resample_msa_in_recycling else 0
        return {k: jnp.asarray(v[index]) for k, v in padded.items()}

    prev = initial_prev(padded_length, model.embeddings_and_evoformer)
    step, compile_seconds = compiled.get(model, params, batch_slice(0), prev)
    start = time.perf_counter()
    changes: list[float] = []
    previous_ca = None
    early_stopped = False
    outputs = None
    iteration = 0
    for iteration in range(num_recycle + 1):
        outputs, prev = step(params, batch_slice(iteration), prev)
        current_ca = np.asarray(prev["prev_pos"][:num_res, CA_INDEX])  # [L, 3]
        if previous_ca is not None:
            change = ca_distance_change(previous_ca, current_ca)
            changes.append(change)
            if on_recycle is not None:
                on_recycle(iteration, change)
            if change < tolerance:
                early_stopped = iteration < num_recycle
                break
        previous_ca = current_ca
    outputs = jax.block_until_ready(outputs)
    run_seconds = time.perf_counter() - start
    result = crop_outputs(outputs, num_res)
    result = {k: v.astype(np.float32) if v.dtype == jnp.bfloat16 else v for k, v in result.items()}
    result.update(confidence_metrics(result))
    return RecyclingResult(result, iteration, tuple(changes), early_stopped, compile_seconds, run_seconds)
