"""Config of the structure module, mirroring ``model.heads.structure_module``.

Field names are those of the reference config tree (``config_model_*.json``),
so a preset loads with
``StructureModuleConfig.from_dict(config["model"]["heads"]["structure_module"])``.
Defaults are the full-size monomer values.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

_C = TypeVar("_C")


def _from_mapping(cls: type[_C], values: Mapping[str, Any], nested: Mapping[str, type] | None = None) -> _C:
    """Build a config dataclass from a mapping; unknown keys are an error."""
    names = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {unknown}")
    kwargs = dict(values)
    for name, sub_cls in (nested or {}).items():
        if name in kwargs and isinstance(kwargs[name], Mapping):
            kwargs[name] = sub_cls.from_dict(kwargs[name])
    return cls(**kwargs)


@dataclasses.dataclass(frozen=True)
class FapeConfig:
    """Backbone FAPE loss settings (Å, before dividing by ``loss_unit_distance``)."""

    clamp_distance: float = 10.0
    clamp_type: str = "relu"
    loss_unit_distance: float = 10.0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "FapeConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class SidechainConfig:
    """Torsion-angle ResNet of each fold iteration (``rigid_sidechain``) and its loss."""

    atom_clamp_distance: float = 10.0
    length_scale: float = 10.0
    num_channel: int = 128
    num_residual_block: int = 2
    weight_frac: float = 0.5

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "SidechainConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class StructureModuleConfig:
    """Invariant point attention sizes, fold iterations and structure losses.

    ``position_scale`` converts the module's internal translation units to Å
    (translations are multiplied by it for the outputs). ``initial_frames``:
    the frames the first layer starts from, ``identity`` (AlphaFold2) or
    ``helix`` (see :mod:`foldkit.model.initial_frames`).
    """

    angle_norm_weight: float = 0.01
    chi_weight: float = 0.5
    clash_overlap_tolerance: float = 1.5
    compute_in_graph_metrics: bool = True
    dropout: float = 0.1
    fape: FapeConfig = FapeConfig()
    initial_frames: str = "identity"
    num_channel: int = 384
    num_head: int = 12
    num_layer: int = 8
    num_layer_in_transition: int = 3
    num_point_qk: int = 4
    num_point_v: int = 8
    num_scalar_qk: int = 16
    num_scalar_v: int = 16
    position_scale: float = 10.0
    sidechain: SidechainConfig = SidechainConfig()
    structural_violation_loss_weight: float = 1.0
    violation_tolerance_factor: float = 12.0
    weight: float = 1.0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "StructureModuleConfig":
        return _from_mapping(cls, values, {"fape": FapeConfig, "sidechain": SidechainConfig})
