"""Config dataclasses of the Evoformer family, named as AlphaFold2's config tree.

Each has ``from_dict`` that reads the reference config dict (e.g.
``model.embeddings_and_evoformer.evoformer.msa_row_attention_with_pair_bias``)
and refuses unknown keys, so a config typo cannot pass silently.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

_C = TypeVar("_C")

OUTGOING_EQUATION = "ikc,jkc->ijc"
INCOMING_EQUATION = "kjc,kic->ijc"


def _from_dict(cls: type[_C], values: Mapping[str, Any]) -> _C:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {unknown}")
    return cls(**dict(values))


@dataclasses.dataclass(frozen=True)
class AttentionConfig:
    """MSA row/column attention, global column attention, triangle attention."""

    num_head: int
    gating: bool = True
    orientation: str = "per_row"   # per_row | per_column
    key_dim: int | None = None     # total query/key channels over all heads (None: input channels)
    value_dim: int | None = None   # total value channels over all heads (None: input channels)
    dropout_rate: float = 0.0      # training only
    shared_dropout: bool = True

    def __post_init__(self):
        if self.orientation not in ("per_row", "per_column"):
            raise ValueError(f"orientation must be per_row or per_column, got {self.orientation!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "AttentionConfig":
        return _from_dict(cls, values)


@dataclasses.dataclass(frozen=True)
class TransitionConfig:
    """Two-layer MLP applied per position (msa_transition, pair_transition)."""

    num_intermediate_factor: int = 4
    orientation: str = "per_row"
    dropout_rate: float = 0.0
    shared_dropout: bool = True

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TransitionConfig":
        return _from_dict(cls, values)


@dataclasses.dataclass(frozen=True)
class OuterProductMeanConfig:
    num_outer_channel: int = 32
    chunk_size: int = 128          # reference's own chunking; foldkit uses GlobalConfig.chunk_size
    first: bool = False            # outer product mean before MSA attention (multimer only)
    orientation: str = "per_row"
    dropout_rate: float = 0.0
    shared_dropout: bool = True

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "OuterProductMeanConfig":
        return _from_dict(cls, values)


@dataclasses.dataclass(frozen=True)
class TriangleMultiplicationConfig:
    """Triangle multiplicative update; ``equation`` selects outgoing or incoming edges."""

    equation: str = OUTGOING_EQUATION   # or INCOMING_EQUATION; "outgoing"/"incoming" accepted
    num_intermediate_channel: int = 128
    fuse_projection_weights: bool = False   # multimer v3: one projection/gate Linear for both edge sides
    orientation: str = "per_row"
    dropout_rate: float = 0.0
    shared_dropout: bool = True

    def __post_init__(self):
        aliases = {"outgoing": OUTGOING_EQUATION, "incoming": INCOMING_EQUATION}
        object.__setattr__(self, "equation", aliases.get(self.equation, self.equation))
        if self.equation not in (OUTGOING_EQUATION, INCOMING_EQUATION):
            raise ValueError(f"unsupported triangle multiplication equation {self.equation!r}")

    @property
    def outgoing(self) -> bool:
        return self.equation == OUTGOING_EQUATION

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TriangleMultiplicationConfig":
        return _from_dict(cls, values)


@dataclasses.dataclass(frozen=True)
class EvoformerIterationConfig:
    """One Evoformer (or extra-MSA) block: ``embeddings_and_evoformer.evoformer``."""

    msa_row_attention_with_pair_bias: AttentionConfig
    msa_column_attention: AttentionConfig
    msa_transition: TransitionConfig
    outer_product_mean: OuterProductMeanConfig
    triangle_multiplication_outgoing: TriangleMultiplicationConfig
    triangle_multiplication_incoming: TriangleMultiplicationConfig
    triangle_attention_starting_node: AttentionConfig
    triangle_attention_ending_node: AttentionConfig
    pair_transition: TransitionConfig

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "EvoformerIterationConfig":
        kinds = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(kinds))
        missing = sorted(set(kinds) - set(values))
        if unknown or missing:
            raise ValueError(f"EvoformerIterationConfig: unknown keys {unknown}, missing keys {missing}")
        builders = {"AttentionConfig": AttentionConfig, "TransitionConfig": TransitionConfig,
                    "OuterProductMeanConfig": OuterProductMeanConfig,
                    "TriangleMultiplicationConfig": TriangleMultiplicationConfig}
        return cls(**{name: builders[kind].from_dict(values[name]) for name, kind in kinds.items()})
