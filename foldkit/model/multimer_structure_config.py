"""Config of the AlphaFold-Multimer structure module (``model.heads.structure_module``).

Field names are those of the multimer config tree
(``multimer/config_model_*_multimer_v3.json``), so a preset loads with
``MultimerStructureConfig.from_dict(config["model"]["heads"]["structure_module"])``.
Defaults are the full-size multimer v3 values. It differs from the monomer
:class:`~foldkit.model.structure_config.StructureModuleConfig` in
``position_scale`` (20), the two FAPE settings ``intra_chain_fape`` and
``interface_fape`` (instead of ``fape``) and the side-chain loss key
``loss_unit_distance``; it has no ``initial_frames`` (always identity).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from foldkit.model.structure_config import _from_mapping


@dataclasses.dataclass(frozen=True)
class MultimerFapeConfig:
    """FAPE loss settings (Å): clamp distance and the unit the error is divided by."""

    atom_clamp_distance: float = 10.0
    loss_unit_distance: float = 10.0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "MultimerFapeConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class MultimerSidechainConfig:
    """Torsion-angle ResNet of each fold iteration (``rigid_sidechain``) and its loss."""

    atom_clamp_distance: float = 10.0
    loss_unit_distance: float = 10.0
    num_channel: int = 128
    num_residual_block: int = 2
    weight_frac: float = 0.5

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "MultimerSidechainConfig":
        return _from_mapping(cls, values)


@dataclasses.dataclass(frozen=True)
class MultimerStructureConfig:
    """Multimer invariant point attention sizes, fold iterations and loss settings.

    ``position_scale`` converts internal translation units to Å. Only the
    sizes, ``num_layer``, ``position_scale`` and ``dropout`` affect the
    forward pass; the loss fields are kept so that presets load unchanged.
    """

    angle_norm_weight: float = 0.01
    chi_weight: float = 0.5
    clash_overlap_tolerance: float = 1.5
    dropout: float = 0.1
    interface_fape: MultimerFapeConfig = MultimerFapeConfig(atom_clamp_distance=1000.0, loss_unit_distance=20.0)
    intra_chain_fape: MultimerFapeConfig = MultimerFapeConfig()
    num_channel: int = 384
    num_head: int = 12
    num_layer: int = 8
    num_layer_in_transition: int = 3
    num_point_qk: int = 4
    num_point_v: int = 8
    num_scalar_qk: int = 16
    num_scalar_v: int = 16
    position_scale: float = 20.0
    sidechain: MultimerSidechainConfig = MultimerSidechainConfig()
    structural_violation_loss_weight: float = 1.0
    violation_tolerance_factor: float = 12.0
    weight: float = 1.0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "MultimerStructureConfig":
        return _from_mapping(cls, values, {"interface_fape": MultimerFapeConfig,
                                           "intra_chain_fape": MultimerFapeConfig,
                                           "sidechain": MultimerSidechainConfig})
