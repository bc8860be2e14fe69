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
import time
from typing import Any, Callable, Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model.alphafold import AlphaFoldIteration, initial_prev
from foldkit.model.config import AlphaFoldConfig, ModelConfig
from foldkit.model.confidence import confidence_metrics
from foldkit.model.global_config import GlobalConfig
from foldkit.model.runner import RunnerConfig, crop_outputs, pad_features

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


@dataclasses.dataclass
class CompiledIterations:
    """Compiled one-iteration functions, one per (model config, runner settings, input shapes).

    Held by a prediction session (no module-level state); records whose
    padded shapes agree (same length bucket) reuse the compiled function.
    """

    runner: RunnerConfig = RunnerConfig()
    _compiled: dict = dataclasses.field(default_factory=dict)

    def get(self, model: ModelConfig, params: Any, batch: Mapping[str, jnp.ndarray],
            prev: Mapping[str, jnp.ndarray]) -> tuple[Callable, float]:
        """(compiled step, seconds spent compiling now: 0 when reused)."""
        global_config = self.runner.global_config(model)
        shapes = tuple(sorted((k, tuple(v.shape), str(v.dtype)) for k, v in batch.items()))
        key = (model, global_config, shapes)
        if key in self._compiled:
            return self._compiled[key], 0.0
        start = time.perf_counter()
        compiled = jax.jit(_step_fn(model, global_config)).lower(params, batch, prev).compile()
        self._compiled[key] = compiled
        return compiled, time.perf_counter() - start

    def __len__(self) -> int:
        return len(self._compiled)


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
    padded = pad_features(features, num_res, padded_length)

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
