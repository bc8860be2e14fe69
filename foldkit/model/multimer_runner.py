"""Run the multimer network on multimer features: padding to length buckets, jit, RNG, confidence.

Entry point::

    outputs = predict_multimer_from_features(config, params, features, seed=0)

``features`` is the dict AlphaFold-Multimer's data pipeline makes (the
``pad_msa`` output: ``aatype``, ``residue_index``, ``asym_id``, ``entity_id``,
``sym_id``, ``seq_mask``, ``msa``, ``deletion_matrix``, ``msa_mask``,
``bert_mask``, ``cluster_bias_mask``, ``template_*``; other keys are
ignored), without a leading batch axis. The residue axes are zero-padded to
a length bucket (the network's masks and padding-consistent random draws
make the padding inert), outputs are cropped back and ``confidence/*``
(pLDDT, PAE, pTM, ipTM, ranking confidence) added. ``seed`` is the apply
key (``jax.random.PRNGKey(seed)``, as AlphaFold's ``RunModel``); the draws
equal AlphaFold v2.3.2's for the same seed. Memory knobs (chunk size,
bfloat16) and the matmul precision come from :class:`RunnerConfig`.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any, Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.errors import InputError
from foldkit.model.confidence import multimer_confidence_metrics
from foldkit.model.global_config import GlobalConfig
from foldkit.model.msa_sampling import SamplingDraws, alphafold_rng_scope
from foldkit.model.multimer_config import MultimerConfig, MultimerModelConfig
from foldkit.model.multimer_network import forward_fn
from foldkit.model.runner import (DEFAULT_BUCKETS, RunnerConfig, matmul_precision_scope, output_residue_axes,
                                  release_freed_host_memory)

# multimer feature -> (residue axes, dtype the network reads)
FEATURE_LAYOUT: dict[str, tuple[tuple[int, ...], Any]] = {
    "aatype": ((0,), np.int32), "residue_index": ((0,), np.int32), "asym_id": ((0,), np.float32),
    "entity_id": ((0,), np.float32), "sym_id": ((0,), np.float32), "seq_mask": ((0,), np.float32),
    "msa": ((1,), np.int32), "deletion_matrix": ((1,), np.float32), "msa_mask": ((1,), np.float32),
    "bert_mask": ((1,), np.float32), "cluster_bias_mask": ((), np.float32),
    "template_aatype": ((1,), np.int32), "template_all_atom_positions": ((1,), np.float32),
    "template_all_atom_mask": ((1,), np.float32),
}
TEMPLATE_FEATURES = ("template_aatype", "template_all_atom_positions", "template_all_atom_mask")
DRAW_RESIDUE_AXES = SamplingDraws(sample_uniform=(), mask_position_uniform=(2,), gumbel_uniform=(2,))


# --------------------------------------------------------------------------- padding

def _pad(value: np.ndarray, axes: tuple[int, ...], num_res: int, padded: int, name: str) -> np.ndarray:
    widths = [(0, 0)] * value.ndim
    for axis in axes:
        if value.shape[axis] != num_res:
            raise InputError(f"feature {name!r} has {value.shape[axis]} residues on axis {axis}, expected {num_res}")
        widths[axis] = (0, padded - num_res)
    return np.pad(value, widths) if padded != num_res else value


def pad_multimer_features(features: Mapping[str, Any], num_res: int, padded: int) -> dict[str, np.ndarray]:
    """The features the network reads, in its dtypes, residue axes zero-padded to ``padded``."""
    return {name: _pad(np.asarray(features[name]).astype(dtype), axes, num_res, padded, name)
            for name, (axes, dtype) in FEATURE_LAYOUT.items() if name in features}


def pad_draws(draws: SamplingDraws, num_res: int, padded: int) -> SamplingDraws:
    """Injected draws (leading iteration axis) padded like the features (zeros: never used)."""
    return SamplingDraws(*[_pad(np.asarray(value, np.float32), axes, num_res, padded, name)
                           for name, value, axes in zip(SamplingDraws._fields, draws, DRAW_RESIDUE_AXES)])


def multimer_output_residue_axes(name: str) -> tuple[int, ...]:
    """Residue axes of a multimer output (``num_recycles`` and ``sampling/index_order`` have none)."""
    if name in ("num_recycles", "sampling/index_order"):
        return ()
    if re.match(r"^sampling/(msa_feat|msa_mask|extra_msa_feat|extra_msa_mask|true_msa|bert_mask|masked_msa|"
                r"gumbel_sample|cluster_profile|cluster_deletion_mean)$", name):
        return (1,)
    return output_residue_axes(name)


def crop_multimer_outputs(outputs: Mapping[str, Any], num_res: int) -> dict[str, np.ndarray]:
    """Outputs cropped to ``num_res`` residues, float32 (bfloat16 converted); ``recycle{r}/*`` only
    for the iterations that ran (r < num_recycles)."""
    num_recycles = int(np.asarray(outputs["num_recycles"]))
    cropped = {}
    for name, value in outputs.items():
        recycled = re.match(r"^recycle(\d+)/", name)
        if recycled and int(recycled.group(1)) >= num_recycles:
            continue
        value = np.asarray(value)
        if value.dtype == jnp.bfloat16:
            value = value.astype(np.float32)
        index = [slice(None)] * value.ndim
        for axis in multimer_output_residue_axes(name):
            index[axis] = slice(0, num_res)
        cropped[name] = value[tuple(index)]
    return cropped


# --------------------------------------------------------------------------- running

@functools.lru_cache(maxsize=16)
def _jitted_apply(model: MultimerModelConfig, global_config: GlobalConfig, return_recycles: bool,
                  return_sampling: bool):
    transformed = forward_fn(model, global_config, return_recycles=return_recycles, return_sampling=return_sampling)
    return jax.jit(lambda params, rng, batch, draws: transformed.apply(params, rng, batch, draws))


class MultimerRunner:
    """A multimer config + parameters (on the device) + runner settings."""

    def __init__(self, config: MultimerConfig, params: Mapping, runner: RunnerConfig = RunnerConfig()):
        self.config = config
        self.runner = runner
        self.params = hk.data_structures.to_immutable_dict(jax.tree.map(jnp.asarray, dict(params)))
        self.last_timings: dict[str, float] = {}
        self._compiled: set[tuple] = set()

    def predict(self, features: Mapping[str, Any], seed: int = 0, draws: SamplingDraws | None = None,
                return_recycles: bool = False, return_sampling: bool = False) -> dict[str, np.ndarray]:
        """Numpy outputs with AlphaFold names, ``num_recycles`` and ``confidence/*``, cropped to the
        true length. ``draws``: injected uniforms (leading iteration axis) instead of the seed's."""
        start = time.perf_counter()
        self._check_features(features)
        num_res = int(np.asarray(features["aatype"]).shape[0])
        padded = self.runner.bucket_for(num_res)
        batch = {k: jnp.asarray(v) for k, v in pad_multimer_features(features, num_res, padded).items()}
        if draws is not None:
            draws = SamplingDraws(*map(jnp.asarray, pad_draws(draws, num_res, padded)))
        apply = _jitted_apply(self.config.model, self.runner.global_config(self.config.model), return_recycles,
                              return_sampling)
        with alphafold_rng_scope(), matmul_precision_scope(self.runner.matmul_precision):
            outputs = jax.block_until_ready(apply(self.params, jax.random.PRNGKey(seed), batch, draws))
        model_seconds = time.perf_counter() - start
        signature = (padded, batch["msa"].shape[0], draws is None, return_recycles, return_sampling)
        if signature not in self._compiled:
            self._compiled.add(signature)
            release_freed_host_memory()
        result = crop_multimer_outputs(outputs, num_res)
        result.update(multimer_confidence_metrics(result))
        self.last_timings = {"model_seconds": model_seconds, "padded_length": float(padded)}
        return result

    def _check_features(self, features: Mapping[str, Any]) -> None:
        required = [name for name in FEATURE_LAYOUT if name not in TEMPLATE_FEATURES]
        if self.config.uses_templates:
            required += list(TEMPLATE_FEATURES)
        missing = [name for name in required if name not in features]
        if missing:
            raise InputError(f"multimer features lack {', '.join(missing)}")
        if np.asarray(features["aatype"]).ndim != 1:
            raise InputError("multimer features have no batch axis: aatype must be [L]")


def predict_multimer_from_features(config: MultimerConfig, params: Mapping, features: Mapping[str, Any], *,
                                   seed: int = 0, chunk_size: int | None = None, bfloat16: bool = False,
                                   buckets: tuple[int, ...] = DEFAULT_BUCKETS,
                                   matmul_precision: str | None = None, draws: SamplingDraws | None = None,
                                   return_recycles: bool = False,
                                   return_sampling: bool = False) -> dict[str, np.ndarray]:
    """Run the multimer ``config`` with ``params`` (haiku nested dict) on multimer features.

    Returns numpy arrays keyed by AlphaFold output names
    (``structure_module/final_atom_positions``, ``predicted_aligned_error/logits``,
    ``representations/*``, ...), ``num_recycles``, ``confidence/{plddt, ptm, iptm,
    ranking_confidence, predicted_aligned_error, ...}``; with ``return_recycles``
    ``recycle{r}/*`` of the iterations that ran, with ``return_sampling`` the
    final iteration's ``sampling/*`` (``index_order``, ``msa_feat``, ...).
    """
    runner = MultimerRunner(config, params, RunnerConfig(chunk_size=chunk_size, bfloat16=bfloat16, buckets=buckets,
                                                         matmul_precision=matmul_precision))
    return runner.predict(features, seed=seed, draws=draws, return_recycles=return_recycles,
                          return_sampling=return_sampling)
