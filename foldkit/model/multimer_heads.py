"""Output heads of the AlphaFold-Multimer network.

The multimer heads are the monomer modules of :mod:`foldkit.model.heads`
(same parameter names, e.g. ``masked_msa_head/logits//weights``) with two
differences in configuration:

* ``masked_msa`` predicts 22 classes (20 amino acids, X, gap: the BERT mask
  token is not a target), whatever the config says;
* ``predicted_aligned_error`` is always present in the multimer presets
  (weight 0.1) and its output also carries ``predicted_aligned_error/asym_id``
  (the chain of each residue, read by ipTM).

Entry points for the multimer network (call inside the ``alphafold_iteration``
haiku scope)::

    heads_config = multimer_heads_config(config["model"]["heads"])   # HeadsConfig
    outputs = apply_multimer_heads(heads_config, representations, batch, global_config=gc)

``representations`` holds ``single``, ``pair``, ``msa`` and ``structure_module``
(the structure module's ``act``); the heads run in AlphaFold's sorted order
(distogram, experimentally_resolved, masked_msa, predicted_aligned_error,
predicted_lddt). The flat output names are those of the reference outputs
(``masked_msa/logits``, ``predicted_aligned_error/{logits, breaks, asym_id}``, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import jax.numpy as jnp

from foldkit.model import heads
from foldkit.model.heads_config import HeadsConfig, MaskedMsaConfig

# 20 amino acids + X + gap: the multimer masked-MSA head's classes.
MULTIMER_MASKED_MSA_CLASSES = 22


def multimer_heads_config(heads_dict: Mapping[str, Any]) -> HeadsConfig:
    """HeadsConfig from the multimer ``model.heads`` dict (its ``structure_module`` entry is skipped).

    The multimer ``masked_msa`` entry has no ``num_output``; it is set to 22.
    """
    masked_msa = dict(heads_dict["masked_msa"])
    masked_msa["num_output"] = MULTIMER_MASKED_MSA_CLASSES
    config = HeadsConfig.from_dict(dict(heads_dict, masked_msa=masked_msa))
    if not config.predicted_aligned_error.weight:
        raise ValueError("multimer heads: predicted_aligned_error must have a non-zero weight (ipTM needs it)")
    return config


def multimer_masked_msa_config(weight: float = 2.0) -> MaskedMsaConfig:
    """The multimer masked-MSA head config (22 classes)."""
    return MaskedMsaConfig(num_output=MULTIMER_MASKED_MSA_CLASSES, weight=weight)


def apply_multimer_heads(config: HeadsConfig, representations: Mapping[str, jnp.ndarray],
                         batch: Mapping[str, Any] | None = None, is_training: bool = False,
                         global_config: Any = None) -> dict[str, jnp.ndarray]:
    """Run every active head and merge their flat outputs.

    Adds ``predicted_aligned_error/asym_id`` [N] (float32, as the reference
    stores it) when the PAE head ran and ``batch`` has ``asym_id``.
    """
    if config.masked_msa.num_output != MULTIMER_MASKED_MSA_CLASSES:
        config = dataclasses.replace(config, masked_msa=dataclasses.replace(
            config.masked_msa, num_output=MULTIMER_MASKED_MSA_CLASSES))
    outputs = heads.apply_heads(config, representations, batch, is_training, global_config)
    if "predicted_aligned_error/logits" in outputs and batch is not None and "asym_id" in batch:
        outputs["predicted_aligned_error/asym_id"] = jnp.asarray(batch["asym_id"], jnp.float32)
    return outputs
