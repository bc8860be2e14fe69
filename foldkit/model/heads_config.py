"""Configs of the output heads, mirroring AlphaFold2's ``model.heads.*`` names.

The field names are those of the reference config tree
(``config_model_*.json`` -> ``model.heads``), so a preset loads with
``HeadsConfig.from_dict(config["model"]["heads"])``. The structure module
entry of that dict belongs to the structure module's config and is ignored
here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

_C = TypeVar("_C")


def _from_mapping(cls: type[_C], values: Mapping[str, Any]) -> _C:
    """Build a config dataclass from a mapping; unknown keys are an error."""
    names = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {unknown}")
    return cls(**dict(values))


@dataclasses.dataclass(frozen=True)
class DistogramConfig:
    """Distogram head: ``num_bins`` bins, ``num_bins - 1`` edges from first to last break (Å)."""

    first_break: float = 2.3125
    last_break: float = 21.6875
    num_bins: int = 64
    weight: float = 0.3

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "DistogramConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class MaskedMsaConfig:
    """Masked MSA head: ``num_output`` classes (20 amino acids, X, gap, mask)."""

    num_output: int = 23
    weight: float = 2.0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "MaskedMsaConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class PredictedLDDTConfig:
    """pLDDT head: two hidden layers of ``num_channels``, ``num_bins`` lDDT bins over [0, 1]."""

    filter_by_resolution: bool = True
    max_resolution: float = 3.0
    min_resolution: float = 0.1
    num_bins: int = 50
    num_channels: int = 128
    weight: float = 0.01

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "PredictedLDDTConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class ExperimentallyResolvedConfig:
    """Experimentally-resolved head: one logit per atom37 atom."""

    filter_by_resolution: bool = True
    max_resolution: float = 3.0
    min_resolution: float = 0.1
    weight: float = 0.01

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ExperimentallyResolvedConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class PredictedAlignedErrorConfig:
    """PAE head: ``num_bins`` error bins with ``num_bins - 1`` breaks over [0, max_error_bin] Å."""

    filter_by_resolution: bool = True
    max_error_bin: float = 31.0
    max_resolution: float = 3.0
    min_resolution: float = 0.1
    num_bins: int = 64
    num_channels: int = 128
    weight: float = 0.0  # 0.1 in the _ptm presets; 0 disables the head

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "PredictedAlignedErrorConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class HeadsConfig:
    """All output heads but the structure module.

    As in AlphaFold2, a head runs only when its ``weight`` is non-zero: the
    predicted aligned error head has weight 0 in the plain models and 0.1 in
    the ``_ptm`` models (see ``active_heads``).
    """

    distogram: DistogramConfig = DistogramConfig()
    experimentally_resolved: ExperimentallyResolvedConfig = ExperimentallyResolvedConfig()
    masked_msa: MaskedMsaConfig = MaskedMsaConfig()
    predicted_aligned_error: PredictedAlignedErrorConfig = PredictedAlignedErrorConfig()
    predicted_lddt: PredictedLDDTConfig = PredictedLDDTConfig()

    def active_heads(self) -> tuple[str, ...]:
        """Names (sorted, as the reference iterates them) of the heads with non-zero weight."""
        names = sorted(field.name for field in dataclasses.fields(self))
        return tuple(name for name in names if getattr(self, name).weight)

    @classmethod
    def from_dict(cls, heads: Mapping[str, Any]) -> "HeadsConfig":
        """From the reference ``model.heads`` dict (its ``structure_module`` entry is skipped)."""
        return cls(
            distogram=DistogramConfig.from_dict(heads["distogram"]),
            experimentally_resolved=ExperimentallyResolvedConfig.from_dict(heads["experimentally_resolved"]),
            masked_msa=MaskedMsaConfig.from_dict(heads["masked_msa"]),
            predicted_aligned_error=PredictedAlignedErrorConfig.from_dict(heads["predicted_aligned_error"]),
            predicted_lddt=PredictedLDDTConfig.from_dict(heads["predicted_lddt"]),
        )
