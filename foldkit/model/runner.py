"""Run the network on processed features: padding to length buckets, jit, precision.

``predict_from_features(config, params, features)`` pads the residue axes of
the features up to a length bucket (masks make the padding inert), runs one
jitted function per (model config, runner settings) -- jax compiles it once
per bucket shape -- crops every output back to the true length and adds the
confidence metrics. Memory knobs (``chunk_size``, ``bfloat16``) live in
:class:`RunnerConfig` only.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import re
import time
from typing import Any, Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.errors import InputError
from foldkit.model.alphafold import forward_fn
from foldkit.model.confidence import confidence_metrics
from foldkit.model.config import AlphaFoldConfig, ModelConfig
from foldkit.model.global_config import GlobalConfig

DEFAULT_BUCKETS = (64, 128, 192, 256, 320, 384, 512, 640, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096)

# processed feature -> axes (after the leading batch axis) that run over residues
FEATURE_RESIDUE_AXES: dict[str, tuple[int, ...]] = {
    "aatype": (0,), "residue_index": (0,), "seq_mask": (0,), "target_feat": (0,),
    "msa_feat": (1,), "msa_mask": (1,), "bert_mask": (1,), "true_msa": (1,),
    "extra_msa": (1,), "extra_msa_mask": (1,), "extra_has_deletion": (1,), "extra_deletion_value": (1,),
    "template_aatype": (1,), "template_all_atom_positions": (1,), "template_all_atom_masks": (1,),
    "template_pseudo_beta": (1,), "template_pseudo_beta_mask": (1,),
    "atom14_atom_exists": (0,), "atom37_atom_exists": (0,),
    "residx_atom14_to_atom37": (0,), "residx_atom37_to_atom14": (0,),
    "seq_length": (), "msa_row_mask": (), "extra_msa_row_mask": (), "template_mask": (),
    "template_sum_probs": (), "is_distillation": (), "random_crop_to_size_seed": (),
}


@dataclasses.dataclass(frozen=True)
class RunnerConfig:
    """How the network runs; never changes what it computes (up to float rounding).

    chunk_size: rows per chunk in attention / triangle / transition ops
        (None: unchunked). Bounds peak memory.
    bfloat16: compute the Evoformer stacks in bfloat16 (LayerNorm, softmax and the
        structure module stay float32).
    buckets: residue counts to pad to; a length above the largest bucket runs unpadded.
    matmul_precision: XLA precision of float32 matrix products (None: the backend's
        default, which is TF32 on NVIDIA Ampere and newer GPUs; ``"highest"``: full
        float32, what the golden cases need on a GPU; no effect on CPU).
    """

    chunk_size: int | None = None
    bfloat16: bool = False
    buckets: tuple[int, ...] = DEFAULT_BUCKETS
    matmul_precision: str | None = None

    def bucket_for(self, num_res: int) -> int:
        return next((b for b in sorted(self.buckets) if b >= num_res), num_res)

    def global_config(self, model: ModelConfig) -> GlobalConfig:
        return dataclasses.replace(model.global_config, chunk_size=self.chunk_size, bfloat16=self.bfloat16)


def matmul_precision_scope(precision: str | None):
    """Context in which jax traces and lowers with ``precision`` (None: leave the default)."""
    return contextlib.nullcontext() if precision is None else jax.default_matmul_precision(precision)


# --------------------------------------------------------------------------- padding

def pad_features(features: Mapping[str, np.ndarray], num_res: int, padded: int) -> dict[str, np.ndarray]:
    """Zero-pad every residue axis of the processed features from ``num_res`` to ``padded``."""
    out = {}
    for name, value in features.items():
        value = np.asarray(value)
        if name not in FEATURE_RESIDUE_AXES:
            continue  # not read by the network
        widths = [(0, 0)] * value.ndim
        for axis in FEATURE_RESIDUE_AXES[name]:
            if value.shape[axis + 1] != num_res:
                raise InputError(f"feature {name!r} has {value.shape[axis + 1]} residues on axis "
                                 f"{axis + 1}, expected {num_res}")
            widths[axis + 1] = (0, padded - num_res)
        out[name] = np.pad(value, widths) if padded != num_res else value
    return out


_OUTPUT_RESIDUE_AXES = (  # output name (without recycle prefix) -> residue axes
    (re.compile(r"^(representations/msa|masked_msa/logits)$"), (1,)),
    (re.compile(r"^(representations/pair|distogram/logits|predicted_aligned_error/logits)$"), (0, 1)),
    (re.compile(r"^structure_module/(traj|sidechains/.*)$"), (1,)),
    (re.compile(r"(bin_edges|breaks)$"), ()),
    (re.compile(r""), (0,)),
)


def output_residue_axes(name: str) -> tuple[int, ...]:
    base = re.sub(r"^recycle\d+/", "", name)
    return next(axes for pattern, axes in _OUTPUT_RESIDUE_AXES if pattern.search(base))


def crop_outputs(outputs: Mapping[str, Any], num_res: int) -> dict[str, np.ndarray]:
    cropped = {}
    for name, value in outputs.items():
        value = np.asarray(value)
        index = [slice(None)] * value.ndim
        for axis in output_residue_axes(name):
            index[axis] = slice(0, num_res)
        cropped[name] = value[tuple(index)]
    return cropped


# --------------------------------------------------------------------------- running

def release_freed_host_memory() -> None:
    """Hand heap memory freed by the XLA compiler back to the OS (glibc ``malloc_trim``).

    Compiling the full network allocates several hundred MB of scratch that
    glibc keeps mapped after it is freed; trimming once per new length bucket
    keeps the resident size of long runs at what the computation needs.
    A no-op where the C library has no ``malloc_trim`` (macOS, musl).
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


@functools.lru_cache(maxsize=16)
def _jitted_apply(model: ModelConfig, global_config: GlobalConfig, return_recycles: bool):
    transformed = forward_fn(model, global_config, return_recycles=return_recycles)
    return jax.jit(lambda params, batch: transformed.apply(params, None, batch))


class ModelRunner:
    """A model config + parameters (held on the device) + runner settings."""

    def __init__(self, config: AlphaFoldConfig, params: Mapping, runner: RunnerConfig = RunnerConfig()):
        self.config = config
        self.runner = runner
        self.params = hk.data_structures.to_immutable_dict(jax.tree.map(jnp.asarray, dict(params)))
        self.last_timings: dict[str, float] = {}
        self._compiled: set[tuple[int, bool]] = set()       # (padded length, return_recycles) seen

    def predict(self, features: Mapping[str, np.ndarray], return_recycles: bool = False) -> dict[str, np.ndarray]:
        """Numpy outputs with AlphaFold names plus ``confidence/*``, cropped to the true length."""
        start = time.perf_counter()
        num_res = int(np.asarray(features["aatype"]).shape[-1])
        self._check_batch(features)
        padded = self.runner.bucket_for(num_res)
        batch = {k: jnp.asarray(v) for k, v in pad_features(features, num_res, padded).items()}
        apply = _jitted_apply(self.config.model, self.runner.global_config(self.config.model), return_recycles)
        with matmul_precision_scope(self.runner.matmul_precision):
            outputs = jax.block_until_ready(apply(self.params, batch))
        model_seconds = time.perf_counter() - start
        if (padded, return_recycles) not in self._compiled:
            self._compiled.add((padded, return_recycles))
            release_freed_host_memory()
        result = crop_outputs(outputs, num_res)
        result = {k: v.astype(np.float32) if v.dtype == jnp.bfloat16 else v for k, v in result.items()}
        result.update(confidence_metrics(result))
        self.last_timings = {"model_seconds": model_seconds, "padded_length": float(padded)}
        return result


    def _check_batch(self, features: Mapping[str, np.ndarray]) -> None:
        model = self.config.model
        if np.asarray(features["aatype"]).ndim != 2:
            raise InputError("processed features need a leading batch axis: aatype must be [B, L]")
        batch = int(np.asarray(features["aatype"]).shape[0])
        if model.resample_msa_in_recycling and batch != model.num_recycle + 1:
            raise InputError(f"features have {batch} batch slices but {self.config.name} with "
                             f"{model.num_recycle} recycles needs {model.num_recycle + 1} (one per iteration)")
        missing = sorted(k for k in ("target_feat", "msa_feat", "msa_mask", "extra_msa", "seq_mask")
                         if k not in features)
        if self.config.uses_templates:
            missing += sorted(k for k in ("template_aatype", "template_all_atom_positions", "template_mask")
                              if k not in features)
        if missing:
            raise InputError(f"processed features lack {', '.join(missing)}")


def predict_from_features(config: AlphaFoldConfig, params: Mapping, features: Mapping[str, np.ndarray], *,
                          chunk_size: int | None = None, bfloat16: bool = False,
                          buckets: tuple[int, ...] = DEFAULT_BUCKETS,
                          return_recycles: bool = False) -> dict[str, np.ndarray]:
    """Run ``config`` with ``params`` (haiku nested dict) on processed features.

    Returns numpy arrays keyed by AlphaFold output names
    (``structure_module/final_atom_positions``, ``distogram/logits``,
    ``representations/*``, ...) and ``confidence/{plddt, ranking_confidence}``
    (+ ``predicted_aligned_error``, ``ptm``, ... for _ptm models).
    """
    runner = ModelRunner(config, params, RunnerConfig(chunk_size=chunk_size, bfloat16=bfloat16, buckets=buckets))
    return runner.predict(features, return_recycles=return_recycles)
