"""Output heads of the AlphaFold2 network (Jumper et al. 2021, supplement 1.9).

Interface shared by every head (used by the whole-model assembly):

    head = DistogramHead(config, global_config)          # haiku module
    outputs = head(representations, batch, is_training)  # -> dict

``representations`` holds the trunk outputs with AlphaFold2's names:
``single`` [L, c_s], ``pair`` [L, L, c_z], ``msa`` [N_seq, L, c_m] and
``structure_module`` [L, c_sm]; each head reads only the one it needs.
``batch`` (the processed features) is accepted for interface symmetry and
not read at inference. The returned dict is **flat**, keyed by AlphaFold2's
output names, e.g. ``{"distogram/logits": ..., "distogram/bin_edges": ...}``,
the same keys as the reference ``*_outputs.npz`` files.

Haiku module and parameter names reproduce the official parameter keys, e.g.
``predicted_lddt_head/act_0//weights``. ``global_config`` may be any object
with a ``zero_init`` attribute (AlphaFold2's global config); ``None`` means
``zero_init=True``. It only affects initialisation of the final layers.
"""

from __future__ import annotations

from typing import Any, Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model.heads_config import (
    DistogramConfig,
    ExperimentallyResolvedConfig,
    HeadsConfig,
    MaskedMsaConfig,
    PredictedAlignedErrorConfig,
    PredictedLDDTConfig,
)
from foldkit.model.primitives import Linear, layer_norm, layer_norm_f32

Outputs = dict[str, jnp.ndarray]
Representations = Mapping[str, jnp.ndarray]

NUM_ATOM37 = 37


def _final_init(global_config: Any) -> str:
    """Initializer of a head's last layer: zeros unless the global config says otherwise."""
    zero_init = True if global_config is None else bool(getattr(global_config, "zero_init", True))
    return "zeros" if zero_init else "linear"


def distogram_bin_edges(config: DistogramConfig) -> jnp.ndarray:
    """The ``num_bins - 1`` distogram bin edges in Å, evenly spaced.  # [num_bins - 1]

    Constants computed on the host (float64, rounded to float32), so every
    backend returns the same values (a GPU's own linspace differs in the last bit).
    """
    return jnp.asarray(np.linspace(config.first_break, config.last_break, config.num_bins - 1), jnp.float32)


def aligned_error_breaks(config: PredictedAlignedErrorConfig) -> jnp.ndarray:
    """The ``num_bins - 1`` predicted-aligned-error breaks in Å over [0, max_error_bin] (host constants)."""
    return jnp.asarray(np.linspace(0.0, config.max_error_bin, config.num_bins - 1), jnp.float32)


class DistogramHead(hk.Module):
    """Distogram of pseudo-beta distances from the pair representation (supplement 1.9.8).

    Reads ``representations["pair"]`` [L, L, c_z]. Returns
    ``distogram/logits`` [L, L, num_bins], symmetric in the two residue axes
    (a ``half_logits`` Linear plus its transpose), and ``distogram/bin_edges``.
    """

    def __init__(self, config: DistogramConfig, global_config: Any = None, name: str = "distogram_head"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, representations: Representations, batch: Mapping | None = None,
                 is_training: bool = False) -> Outputs:
        pair = representations["pair"]  # [L, L, c_z]
        half_logits = Linear(self.config.num_bins, initializer=_final_init(self.global_config),
                             name="half_logits")(pair)  # [L, L, num_bins]
        logits = half_logits + jnp.swapaxes(half_logits, -2, -3)
        return {"distogram/logits": logits, "distogram/bin_edges": distogram_bin_edges(self.config)}


class MaskedMsaHead(hk.Module):
    """Logits of the masked-out MSA entries (BERT-style objective, supplement 1.9.9).

    Reads ``representations["msa"]`` [N_seq, L, c_m]; returns
    ``masked_msa/logits`` [N_seq, L, num_output].
    """

    def __init__(self, config: MaskedMsaConfig, global_config: Any = None, name: str = "masked_msa_head"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, representations: Representations, batch: Mapping | None = None,
                 is_training: bool = False) -> Outputs:
        msa = representations["msa"]  # [N_seq, L, c_m]
        logits = Linear(self.config.num_output, initializer=_final_init(self.global_config),
                        name="logits")(msa)
        return {"masked_msa/logits": logits}


class PredictedLDDTHead(hk.Module):
    """Per-residue binned lDDT-Cα prediction (pLDDT, supplement 1.9.6, Algorithm 29).

    Reads ``representations["structure_module"]`` [L, c_sm]: LayerNorm, two
    ReLU Linears of ``num_channels``, then ``num_bins`` logits. Returns
    ``predicted_lddt/logits`` [L, num_bins]; ``confidence.plddt`` turns them
    into 0-100 scores.
    """

    def __init__(self, config: PredictedLDDTConfig, global_config: Any = None,
                 name: str = "predicted_lddt_head"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, representations: Representations, batch: Mapping | None = None,
                 is_training: bool = False) -> Outputs:
        act = representations["structure_module"]  # [L, c_sm]
        act = layer_norm_f32(layer_norm("input_layer_norm"), act)  # float32 statistics under bf16
        act = jax.nn.relu(Linear(self.config.num_channels, initializer="relu", name="act_0")(act))
        act = jax.nn.relu(Linear(self.config.num_channels, initializer="relu", name="act_1")(act))
        logits = Linear(self.config.num_bins, initializer=_final_init(self.global_config),
                        name="logits")(act)  # [L, num_bins]
        return {"predicted_lddt/logits": logits}


class ExperimentallyResolvedHead(hk.Module):
    """Logit that each atom37 atom is experimentally resolved (supplement 1.9.10).

    Reads ``representations["single"]`` [L, c_s]; returns
    ``experimentally_resolved/logits`` [L, 37].
    """

    def __init__(self, config: ExperimentallyResolvedConfig, global_config: Any = None,
                 name: str = "experimentally_resolved_head"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, representations: Representations, batch: Mapping | None = None,
                 is_training: bool = False) -> Outputs:
        single = representations["single"]  # [L, c_s]
        logits = Linear(NUM_ATOM37, initializer=_final_init(self.global_config), name="logits")(single)
        return {"experimentally_resolved/logits": logits}


class PredictedAlignedErrorHead(hk.Module):
    """Binned predicted aligned error from the pair representation (supplement 1.9.7).

    Reads ``representations["pair"]`` [L, L, c_z]. Returns
    ``predicted_aligned_error/logits`` [L, L, num_bins] (row i: frame of
    residue i, column j: aligned residue j) and ``predicted_aligned_error/breaks``
    [num_bins - 1]; ``confidence`` derives PAE and pTM from them.
    """

    def __init__(self, config: PredictedAlignedErrorConfig, global_config: Any = None,
                 name: str = "predicted_aligned_error_head"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, representations: Representations, batch: Mapping | None = None,
                 is_training: bool = False) -> Outputs:
        pair = representations["pair"]  # [L, L, c_z]
        logits = Linear(self.config.num_bins, initializer=_final_init(self.global_config),
                        name="logits")(pair)  # [L, L, num_bins]
        return {"predicted_aligned_error/logits": logits,
                "predicted_aligned_error/breaks": aligned_error_breaks(self.config)}


_HEAD_MODULES = {
    "distogram": DistogramHead,
    "experimentally_resolved": ExperimentallyResolvedHead,
    "masked_msa": MaskedMsaHead,
    "predicted_aligned_error": PredictedAlignedErrorHead,
    "predicted_lddt": PredictedLDDTHead,
}


def apply_heads(config: HeadsConfig, representations: Representations, batch: Mapping | None = None,
                is_training: bool = False, global_config: Any = None) -> Outputs:
    """Run every head with non-zero weight (``config.active_heads()``) and merge their outputs.

    Call it inside the ``alphafold_iteration`` haiku scope so the parameters
    land at ``alphafold/alphafold_iteration/<head>_head/...``. Returns the flat
    dict of all heads' outputs (``distogram/logits``, ``predicted_lddt/logits``, ...).
    """
    outputs: Outputs = {}
    for head_name in config.active_heads():
        head = _HEAD_MODULES[head_name](getattr(config, head_name), global_config)
        outputs.update(head(representations, batch, is_training))
    return outputs
