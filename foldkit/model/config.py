"""Model configuration: frozen dataclasses mirroring AlphaFold2's config tree.

The tree and its names follow ``alphafold.model.config`` (v2.3.2):
``model.embeddings_and_evoformer`` (with ``template``, ``evoformer``, the
extra-MSA sizes), ``model.heads`` (the structure module is
``model.heads.structure_module`` there; here it is the ``structure_module``
field of :class:`ModelConfig`, next to ``heads``), ``model.global_config``,
``model.num_recycle``, ``model.resample_msa_in_recycling`` and the
``data.common`` / ``data.eval`` settings of the data pipeline.

Presets (model_1..5, model_1..5_ptm) come from packaged JSON: one base
config plus the published per-model overrides (dotted paths).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from foldkit.model.evoformer_config import (AttentionConfig, EvoformerIterationConfig, TransitionConfig,
                                            TriangleMultiplicationConfig)
from foldkit.model.global_config import GlobalConfig
from foldkit.model.heads_config import HeadsConfig
from foldkit.model.structure_config import StructureModuleConfig

MODEL_NAMES = tuple(f"model_{i}{suffix}" for suffix in ("", "_ptm") for i in range(1, 6))


# --------------------------------------------------------------------------- generic building

def build_dataclass(cls: type, values: Mapping[str, Any]):
    """Build a (nested) config dataclass from a mapping with the same names.

    Nested dataclass fields are built recursively (through their own
    ``from_dict`` when they define one); lists become tuples; an unknown key
    is an error so that a config never silently drops a setting.
    """
    if hasattr(cls, "from_dict") and "from_dict" in cls.__dict__:
        return cls.from_dict(values)
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {unknown}")
    kwargs = {}
    for name, value in values.items():
        kind = hints[name]
        if dataclasses.is_dataclass(kind) and isinstance(value, Mapping):
            kwargs[name] = build_dataclass(kind, value)
        elif isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


# settings foldkit adds to AlphaFold's tree (absent from AlphaFold's configs, so absent = the default)
FOLDKIT_SETTINGS = frozenset({"model.heads.structure_module.initial_frames"})


def apply_overrides(tree: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """Copy of a nested dict with ``{"a.b.c": value}`` overrides set (paths must exist, or be
    one of :data:`FOLDKIT_SETTINGS`)."""
    result = copy.deepcopy(dict(tree))
    for dotted, value in overrides.items():
        node = result
        *parents, leaf = dotted.split(".")
        for part in parents:
            if part not in node or not isinstance(node[part], dict):
                raise KeyError(f"config override {dotted!r}: no section {part!r}")
            node = node[part]
        if leaf not in node and dotted not in FOLDKIT_SETTINGS:
            raise KeyError(f"config override {dotted!r}: no setting {leaf!r}")
        node[leaf] = value
    return result


# --------------------------------------------------------------------------- template

@dataclasses.dataclass(frozen=True)
class DgramConfig:
    """Distogram of pairwise distances: ``num_bins`` bins, lower edges linspace(min_bin, max_bin)."""

    min_bin: float
    max_bin: float
    num_bins: int


@dataclasses.dataclass(frozen=True)
class TemplateAttentionConfig:
    """Point-wise attention from the pair representation to the templates."""

    gating: bool = False
    key_dim: int = 64
    num_head: int = 4
    value_dim: int = 64


@dataclasses.dataclass(frozen=True)
class TemplateTriangleAttentionConfig:
    """Triangle attention of the template pair stack (it also names key_dim/value_dim)."""

    num_head: int
    key_dim: int
    value_dim: int
    gating: bool = True
    orientation: str = "per_row"
    dropout_rate: float = 0.0
    shared_dropout: bool = True

    def attention(self) -> AttentionConfig:
        """The Evoformer attention config (whose head size is channels // num_head)."""
        return AttentionConfig(num_head=self.num_head, gating=self.gating, orientation=self.orientation,
                               dropout_rate=self.dropout_rate, shared_dropout=self.shared_dropout)


@dataclasses.dataclass(frozen=True)
class TemplatePairStackConfig:
    """The template pair stack: ``num_block`` blocks of triangle ops + transition."""

    num_block: int
    pair_transition: TransitionConfig
    triangle_attention_ending_node: TemplateTriangleAttentionConfig
    triangle_attention_starting_node: TemplateTriangleAttentionConfig
    triangle_multiplication_incoming: TriangleMultiplicationConfig
    triangle_multiplication_outgoing: TriangleMultiplicationConfig


@dataclasses.dataclass(frozen=True)
class TemplateConfig:
    """``model.embeddings_and_evoformer.template``."""

    attention: TemplateAttentionConfig
    dgram_features: DgramConfig
    embed_torsion_angles: bool
    enabled: bool
    max_templates: int
    subbatch_size: int
    template_pair_stack: TemplatePairStackConfig
    use_template_unit_vector: bool

    @property
    def num_channels(self) -> int:
        """c_t, the template pair channel (AlphaFold takes it from the ending-node value_dim)."""
        return int(self.template_pair_stack.triangle_attention_ending_node.value_dim)

    def __post_init__(self):
        stack = self.template_pair_stack
        for att in (stack.triangle_attention_starting_node, stack.triangle_attention_ending_node):
            if att.key_dim != self.num_channels or att.value_dim != self.num_channels:
                raise ValueError("template triangle attention key_dim/value_dim must equal the "
                                 f"template channel {self.num_channels}, got {att.key_dim}/{att.value_dim}")


# --------------------------------------------------------------------------- model

@dataclasses.dataclass(frozen=True)
class EmbeddingsAndEvoformerConfig:
    """``model.embeddings_and_evoformer``: input embeddings, recycling, templates, stacks."""

    evoformer: EvoformerIterationConfig
    evoformer_num_block: int
    extra_msa_channel: int
    extra_msa_stack_num_block: int
    max_relative_feature: int
    msa_channel: int
    pair_channel: int
    prev_pos: DgramConfig
    recycle_features: bool
    recycle_pos: bool
    seq_channel: int
    template: TemplateConfig


def global_config_from_reference(values: Mapping[str, Any]) -> GlobalConfig:
    """foldkit's GlobalConfig from AlphaFold's ``model.global_config``.

    Only ``zero_init`` changes the forward pass (template torsion placeholder).
    Inference is always deterministic; AlphaFold's ``subbatch_size`` is its own
    chunking, replaced by the runner's ``chunk_size`` (off by default);
    multimer mode is not part of this model.
    """
    known = {"deterministic", "eval_dropout", "multimer_mode", "subbatch_size", "use_remat", "zero_init"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"global_config: unknown keys {unknown}")
    if values.get("multimer_mode"):
        raise ValueError("multimer_mode=True is not supported (monomer models only)")
    return GlobalConfig(zero_init=bool(values.get("zero_init", True)), deterministic=True)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """``model``: the network. ``structure_module`` is ``model.heads.structure_module`` in AlphaFold."""

    embeddings_and_evoformer: EmbeddingsAndEvoformerConfig
    global_config: GlobalConfig
    heads: HeadsConfig
    structure_module: StructureModuleConfig
    num_recycle: int
    resample_msa_in_recycling: bool

    @classmethod
    def from_dict(cls, model: Mapping[str, Any]) -> "ModelConfig":
        heads = dict(model["heads"])
        structure_module = heads.pop("structure_module")
        return cls(
            embeddings_and_evoformer=build_dataclass(EmbeddingsAndEvoformerConfig,
                                                     model["embeddings_and_evoformer"]),
            global_config=global_config_from_reference(model["global_config"]),
            heads=build_dataclass(HeadsConfig, heads),
            structure_module=build_dataclass(StructureModuleConfig, structure_module),
            num_recycle=int(model["num_recycle"]),
            resample_msa_in_recycling=bool(model["resample_msa_in_recycling"]),
        )


# --------------------------------------------------------------------------- data

@dataclasses.dataclass(frozen=True)
class MaskedMsaConfig:
    """BERT-style MSA masking probabilities (``data.common.masked_msa``)."""

    profile_prob: float
    same_prob: float
    uniform_prob: float


@dataclasses.dataclass(frozen=True)
class DataCommonConfig:
    """``data.common``."""

    masked_msa: MaskedMsaConfig
    max_extra_msa: int
    msa_cluster_features: bool
    num_recycle: int
    reduce_msa_clusters_by_max_templates: bool
    resample_msa_in_recycling: bool
    template_features: tuple[str, ...]
    unsupervised_features: tuple[str, ...]
    use_templates: bool


@dataclasses.dataclass(frozen=True)
class DataEvalConfig:
    """``data.eval`` (the shape placeholders ``feat`` are not kept)."""

    fixed_size: bool
    masked_msa_replace_fraction: float
    max_msa_clusters: int
    max_templates: int
    num_ensemble: int
    subsample_templates: bool

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "DataEvalConfig":
        values = {k: v for k, v in values.items() if k != "feat"}
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class DataConfig:
    common: DataCommonConfig
    eval: DataEvalConfig

    @property
    def num_msa_clusters(self) -> int:
        """MSA cluster rows fed to the model (max_msa_clusters less the template rows, if so configured)."""
        if self.common.reduce_msa_clusters_by_max_templates and self.common.use_templates:
            return self.eval.max_msa_clusters - self.eval.max_templates
        return self.eval.max_msa_clusters


@dataclasses.dataclass(frozen=True)
class AlphaFoldConfig:
    """A whole preset: its name, the data pipeline settings and the network."""

    name: str
    data: DataConfig
    model: ModelConfig

    @classmethod
    def from_dict(cls, tree: Mapping[str, Any], name: str = "custom") -> "AlphaFoldConfig":
        """From AlphaFold's ``model_config(name).to_dict()`` layout (``data`` and ``model``)."""
        return cls(name=name, data=build_dataclass(DataConfig, tree["data"]),
                   model=ModelConfig.from_dict(tree["model"]))

    @property
    def uses_templates(self) -> bool:
        return bool(self.model.embeddings_and_evoformer.template.enabled)

    @property
    def has_pae_head(self) -> bool:
        return bool(self.model.heads.predicted_aligned_error.weight)


# --------------------------------------------------------------------------- presets

@functools.lru_cache(maxsize=1)
def packaged_presets() -> dict:
    """The packaged ``af2_model_presets.json`` (monomer ``base``/``diffs`` and the ``multimer`` section)."""
    text = resources.files("foldkit").joinpath("data/af2_model_presets.json").read_text()
    return json.loads(text)


def resolve_preset(presets: Mapping[str, Any], name: str, overrides: Mapping[str, Any] | None,
                   kind: str, known: tuple[str, ...]) -> dict:
    """``presets["base"]`` with the preset's ``presets["diffs"][name]``, then ``overrides``, applied
    (dotted paths); KeyError naming the ``kind`` of preset and the ``known`` ones for an unknown name."""
    if name not in presets["diffs"]:
        raise KeyError(f"unknown {kind} {name!r}; known: {', '.join(known)}")
    tree = apply_overrides(presets["base"], presets["diffs"][name])
    if overrides:
        tree = apply_overrides(tree, overrides)
    return tree


def read_case_config(path: str | Path) -> tuple[str, dict]:
    """A golden case's ``<case>_config.json``: the case name (the file name without
    ``_config.json``, else its stem) and the parsed JSON."""
    path = Path(path)
    data = json.loads(path.read_text())
    name = path.name[: -len("_config.json")] if path.name.endswith("_config.json") else path.stem
    return name, data


def preset_dict(name: str, overrides: Mapping[str, Any] | None = None) -> dict:
    """The nested ``{"data", "model"}`` dict of a preset, as AlphaFold's ``to_dict()`` gives it."""
    return resolve_preset(packaged_presets(), name, overrides, "model preset", MODEL_NAMES)


def preset(name: str, overrides: Mapping[str, Any] | None = None) -> AlphaFoldConfig:
    """The config of model_1..5 or model_1..5_ptm, optionally with dotted-path overrides."""
    return AlphaFoldConfig.from_dict(preset_dict(name, overrides), name=name)


def from_case_config(path: str | Path) -> AlphaFoldConfig:
    """The config of a golden case from its ``<case>_config.json`` (keys ``config``, ``base_model``)."""
    name, data = read_case_config(path)
    return AlphaFoldConfig.from_dict(data["config"], name=name)
