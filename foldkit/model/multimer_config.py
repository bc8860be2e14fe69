"""AlphaFold-Multimer configuration: frozen dataclasses mirroring ``alphafold.model.config``
(v2.3.2, ``model_config('model_<i>_multimer_v3')``).

The multimer config has only a ``model`` section (no TF data pipeline: MSA
sampling happens inside the network). Its tree differs from the monomer one
in ``embeddings_and_evoformer`` (``num_msa``, ``num_extra_msa``,
``masked_msa``, ``max_relative_idx``/``max_relative_chain``/``use_chain_relative``
instead of ``max_relative_feature``, a smaller template section), the
structure module (FAPE settings per chain/interface) and the top level
(``recycle_early_stop_tolerance``, ``num_ensemble_eval``).

Presets model_{1..5}_multimer_v3 come from the ``multimer`` section of the
packaged ``af2_model_presets.json``: one base config plus per-model
overrides (models 4 and 5 use 1152 extra MSA rows instead of 2048).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

from foldkit.model.config import (
    DgramConfig,
    apply_overrides,
    build_dataclass,
    packaged_presets,
    read_case_config,
    resolve_preset,
)
from foldkit.model.evoformer_config import (AttentionConfig, EvoformerIterationConfig, TransitionConfig,
                                            TriangleMultiplicationConfig)
from foldkit.model.global_config import GlobalConfig
from foldkit.model.heads_config import HeadsConfig
from foldkit.model.multimer_structure_config import MultimerStructureConfig

MULTIMER_MODEL_NAMES = tuple(f"model_{i}_multimer_v3" for i in range(1, 6))


# --------------------------------------------------------------------------- templates

@dataclasses.dataclass(frozen=True)
class TemplateAttentionSettings:
    """``template.attention``: present in the reference config, unused by the multimer network."""

    gating: bool = False
    num_head: int = 4


@dataclasses.dataclass(frozen=True)
class MultimerTemplatePairStackConfig:
    """``template.template_pair_stack``: blocks of tri-mult out/in, tri-att start/end, transition."""

    num_block: int
    pair_transition: TransitionConfig
    triangle_attention_ending_node: AttentionConfig
    triangle_attention_starting_node: AttentionConfig
    triangle_multiplication_incoming: TriangleMultiplicationConfig
    triangle_multiplication_outgoing: TriangleMultiplicationConfig


@dataclasses.dataclass(frozen=True)
class MultimerTemplateConfig:
    """``embeddings_and_evoformer.template`` of the multimer models.

    ``attention``, ``max_templates`` and ``subbatch_size`` are kept for
    fidelity to the reference tree; the multimer template embedding averages
    over all templates and does not read them.
    """

    attention: TemplateAttentionSettings
    dgram_features: DgramConfig
    enabled: bool
    max_templates: int
    num_channels: int
    subbatch_size: int
    template_pair_stack: MultimerTemplatePairStackConfig


@dataclasses.dataclass(frozen=True)
class MaskedMsaConfig:
    """``embeddings_and_evoformer.masked_msa``: BERT masking done inside the network."""

    profile_prob: float
    same_prob: float
    uniform_prob: float
    replace_fraction: float


# --------------------------------------------------------------------------- embeddings + Evoformer

@dataclasses.dataclass(frozen=True)
class MultimerEmbeddingsConfig:
    """``model.embeddings_and_evoformer`` of the multimer models."""

    evoformer: EvoformerIterationConfig
    evoformer_num_block: int
    extra_msa_channel: int
    extra_msa_stack_num_block: int
    masked_msa: MaskedMsaConfig
    max_relative_chain: int
    max_relative_idx: int
    msa_channel: int
    num_extra_msa: int
    num_msa: int
    pair_channel: int
    prev_pos: DgramConfig
    recycle_features: bool
    recycle_pos: bool
    seq_channel: int
    template: MultimerTemplateConfig
    use_chain_relative: bool

    def __post_init__(self):
        if not self.use_chain_relative:
            raise ValueError("use_chain_relative=False is not part of the AlphaFold-Multimer models")


# --------------------------------------------------------------------------- model

GLOBAL_CONFIG_KEYS = frozenset({"bfloat16", "bfloat16_output", "deterministic", "eval_dropout", "multimer_mode",
                                "subbatch_size", "use_remat", "zero_init"})


def multimer_global_config(values: Mapping[str, Any]) -> GlobalConfig:
    """foldkit's GlobalConfig from a multimer ``model.global_config``.

    ``bfloat16`` is kept as the reference default (True in the official
    presets); the runner decides what actually runs (its ``bfloat16`` setting
    replaces it). ``subbatch_size`` is replaced by the runner's chunk size.
    """
    unknown = sorted(set(values) - GLOBAL_CONFIG_KEYS)
    if unknown:
        raise ValueError(f"global_config: unknown keys {unknown}")
    if not values.get("multimer_mode", False):
        raise ValueError("not a multimer config: global_config.multimer_mode is not true")
    return GlobalConfig(zero_init=bool(values.get("zero_init", True)), bfloat16=bool(values.get("bfloat16", False)),
                        deterministic=True)


@dataclasses.dataclass(frozen=True)
class MultimerModelConfig:
    """``model`` of a multimer preset. ``structure_module`` is ``model.heads.structure_module``
    in AlphaFold; ``heads.masked_msa`` has 22 outputs."""

    embeddings_and_evoformer: MultimerEmbeddingsConfig
    global_config: GlobalConfig
    heads: HeadsConfig
    structure_module: MultimerStructureConfig
    num_recycle: int
    recycle_early_stop_tolerance: float
    resample_msa_in_recycling: bool
    num_ensemble_eval: int = 1

    def __post_init__(self):
        if self.num_ensemble_eval != 1:
            raise ValueError("num_ensemble_eval must be 1 (AlphaFold-Multimer v2.3 does not ensemble)")

    @classmethod
    def from_dict(cls, model: Mapping[str, Any]) -> "MultimerModelConfig":
        from foldkit.model.multimer_heads import multimer_heads_config   # imports haiku: only when building

        heads = dict(model["heads"])
        structure_module = heads.pop("structure_module")
        known = {"embeddings_and_evoformer", "global_config", "heads", "num_recycle", "recycle_early_stop_tolerance",
                 "resample_msa_in_recycling", "num_ensemble_eval"}
        unknown = sorted(set(model) - known)
        if unknown:
            raise ValueError(f"multimer model config: unknown keys {unknown}")
        return cls(
            embeddings_and_evoformer=build_dataclass(MultimerEmbeddingsConfig, model["embeddings_and_evoformer"]),
            global_config=multimer_global_config(model["global_config"]),
            heads=multimer_heads_config(heads),
            structure_module=MultimerStructureConfig.from_dict(structure_module),
            num_recycle=int(model["num_recycle"]),
            recycle_early_stop_tolerance=float(model["recycle_early_stop_tolerance"]),
            resample_msa_in_recycling=bool(model["resample_msa_in_recycling"]),
            num_ensemble_eval=int(model.get("num_ensemble_eval", 1)),
        )


@dataclasses.dataclass(frozen=True)
class MultimerConfig:
    """A whole multimer preset: its name and the network config."""

    name: str
    model: MultimerModelConfig

    @classmethod
    def from_dict(cls, tree: Mapping[str, Any], name: str = "custom") -> "MultimerConfig":
        """From AlphaFold's ``model_config(name).to_dict()`` layout (a ``model`` section)."""
        return cls(name=name, model=MultimerModelConfig.from_dict(tree["model"]))

    @property
    def uses_templates(self) -> bool:
        return bool(self.model.embeddings_and_evoformer.template.enabled)

    @property
    def has_pae_head(self) -> bool:
        return True   # the multimer models always predict aligned errors (pTM, ipTM)


def is_multimer_tree(tree: Mapping[str, Any]) -> bool:
    """Whether a config dict (``{"model": ...}``, optionally under ``"config"``) is a multimer config."""
    tree = tree.get("config", tree) if isinstance(tree, Mapping) else {}
    model = tree.get("model", {}) if isinstance(tree, Mapping) else {}
    return bool(isinstance(model, Mapping) and model.get("global_config", {}).get("multimer_mode", False))


# --------------------------------------------------------------------------- presets

def multimer_preset_dict(name: str, overrides: Mapping[str, Any] | None = None) -> dict:
    """The ``{"model": ...}`` dict of a multimer preset, as AlphaFold's ``to_dict()`` gives it."""
    return resolve_preset(packaged_presets()["multimer"], name, overrides, "multimer preset", MULTIMER_MODEL_NAMES)


def multimer_preset(name: str, overrides: Mapping[str, Any] | None = None) -> MultimerConfig:
    """The config of model_{1..5}_multimer_v3, optionally with dotted-path overrides."""
    return MultimerConfig.from_dict(multimer_preset_dict(name, overrides), name=name)


def multimer_config_from_case(path: str | Path, overrides: Mapping[str, Any] | None = None) -> MultimerConfig:
    """The config of a golden case from its ``<case>_config.json`` (key ``config``), with overrides
    (dotted paths such as ``model.embeddings_and_evoformer.num_msa``)."""
    name, data = read_case_config(path)
    tree = data.get("config", data)
    if overrides:
        tree = apply_overrides(tree, overrides)
    return MultimerConfig.from_dict(tree, name=name)
