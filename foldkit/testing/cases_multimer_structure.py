"""Per-module golden cases of the multimer structure module and its geometry.

``CASES`` maps a case name of ``multimer/modules/index.json`` to a function
``(arrays from the case npz, case JSON, chunk_size) -> [OutputCheck]`` with
one or more checks per ``output/...`` array. Parameters come from the npz
keys ``<module path>//<name>`` (rooted at the module name).

Tolerances (``foldkit.testing.compare``) follow the multimer README, whose
float32-vs-float64 re-runs of these cases differ by at most 1.4e-6 (IPA),
1.2e-5 Å (fold iteration), 2.5e-5 Å (structure module), 2.1e-6 Å (side
chains), 2.0e-6 Å (all-atom) and 1.7e-7 (chi angles) on residues with mask 1:

* activations: ``1e-4 * max(1, max|ref|)`` + rtol 1e-4;
* rotations (the first three columns of ``[R | t]``), sin/cos: 1e-4;
* translations and atom positions in Å: 1e-3;
* translations in the module's internal units (Å / position_scale = 20,
  the rigids of IPA and the fold iteration): 1e-4, i.e. 2e-3 Å;
* chi angles (radians): 1e-4; masks: exact.

Where the case JSON says ``compare_only_mask_1_residues``, values are
compared on residues with mask 1 only (IPA rows with mask 0 attend with
logits of -1e5 and carry float32 noise, numerical note 5); masks are always
compared on every residue.
"""

from __future__ import annotations

from typing import Callable

import haiku as hk
import jax
import numpy as np

from foldkit.model import multimer_all_atom
from foldkit.model.global_config import GlobalConfig
from foldkit.model.multimer_geometry import rigid_from_array, rigid_to_array
from foldkit.model.multimer_structure import (
    MultimerFoldIteration,
    MultimerInvariantPointAttention,
    MultimerStructureModule,
    multi_rigid_sidechain,
)
from foldkit.model.multimer_structure_config import MultimerSidechainConfig, MultimerStructureConfig
from foldkit.testing.cases_structure import haiku_params
from foldkit.testing.compare import Kind, OutputCheck

CaseFn = Callable[[dict, dict, "int | None"], list[OutputCheck]]
ROTATION_COLUMNS = np.arange(4) < 3          # [R | t]: columns 0-2 rotation, column 3 translation


def _inputs(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key[len("input/"):]: value for key, value in arrays.items() if key.startswith("input/")}


def _global_config(case: dict, chunk_size: int | None) -> GlobalConfig:
    return GlobalConfig(chunk_size=chunk_size, zero_init=case["global_config"]["zero_init"], deterministic=True)


def _np(x) -> np.ndarray:
    return np.asarray(jax.device_get(x))


class _Checks:
    """Collects OutputChecks, masking the residue axis (``residue_axis``) with ``residue_mask``."""

    def __init__(self, residue_mask: np.ndarray | None):
        self.residue_mask = residue_mask
        self.checks: list[OutputCheck] = []

    def _mask(self, ndim: int, residue_axis: int) -> np.ndarray | None:
        if self.residue_mask is None:
            return None
        shape = [1] * ndim
        shape[residue_axis] = -1
        return self.residue_mask.reshape(shape)

    def add(self, name: str, value, kind: Kind, residue_axis: int = 0, masked: bool = True) -> None:
        value = _np(value)
        mask = self._mask(value.ndim, residue_axis) if masked else None
        self.checks.append(OutputCheck(name, value, kind, mask))

    def add_rigid(self, name: str, value, translation_kind: Kind, residue_axis: int = 0) -> None:
        """``[..., 3, 4]`` rigids: rotation columns as unit quantities, the translation column by kind."""
        value = _np(value)
        mask = self._mask(value.ndim, residue_axis)
        mask = np.ones(value.shape, bool) if mask is None else np.broadcast_to(mask > 0, value.shape)
        self.checks.append(OutputCheck(name, value, Kind.UNIT, mask & ROTATION_COLUMNS))
        self.checks.append(OutputCheck(name, value, translation_kind, mask & ~ROTATION_COLUMNS))


def _residue_mask(case: dict, mask: np.ndarray) -> np.ndarray | None:
    return np.asarray(mask, np.float32).reshape(-1) if case.get("compare_only_mask_1_residues") else None


def _apply(forward, arrays: dict, *args):
    return jax.jit(hk.transform(forward).apply)(haiku_params(arrays), None, *args)


# --------------------------------------------------------------------------- haiku modules


def invariant_point_attention_case(arrays, case, chunk_size) -> list[OutputCheck]:
    config = MultimerStructureConfig.from_dict(case["config"])
    gc = _global_config(case, chunk_size)
    x = _inputs(arrays)

    def forward(inputs_1d, inputs_2d, mask, rigid):
        return MultimerInvariantPointAttention(config, gc)(inputs_1d, inputs_2d, mask, rigid_from_array(rigid))

    out = _apply(forward, arrays, x["inputs_1d"], x["inputs_2d"], x["mask"], x["rigid"])
    checks = _Checks(_residue_mask(case, x["mask"]))
    checks.add("output/output", out, Kind.ACTIVATION)
    return checks.checks


def fold_iteration_case(arrays, case, chunk_size) -> list[OutputCheck]:
    config = MultimerStructureConfig.from_dict(case["config"])
    gc = _global_config(case, chunk_size)
    x = _inputs(arrays)

    def forward(act, rigid, mask, initial_act, pair, aatype):
        new_act, new_rigid, outputs = MultimerFoldIteration(config, gc)(
            act, rigid_from_array(rigid), mask, initial_act=initial_act, pair_act=pair, aatype=aatype)
        return new_act, rigid_to_array(new_rigid), dict(outputs, rigid=rigid_to_array(outputs["rigid"]))

    new_act, new_rigid, outputs = _apply(forward, arrays, x["inputs_1d"], x["rigid"], x["mask"],
                                         x["initial_act"], x["inputs_2d"], x["aatype"])
    checks = _Checks(_residue_mask(case, x["mask"]))
    checks.add("output/new_activations/act", new_act, Kind.ACTIVATION)
    checks.add_rigid("output/new_activations/rigid", new_rigid, Kind.UNIT)   # internal units
    checks.add_rigid("output/outputs/rigid", outputs["rigid"], Kind.UNIT)    # internal units
    sc = outputs["sc"]
    checks.add("output/outputs/sc/angles_sin_cos", sc["angles_sin_cos"], Kind.UNIT)
    checks.add("output/outputs/sc/unnormalized_angles_sin_cos", sc["unnormalized_angles_sin_cos"], Kind.ACTIVATION)
    checks.add("output/outputs/sc/atom_pos", sc["atom_pos"], Kind.POSITION)
    checks.add_rigid("output/outputs/sc/frames", sc["frames"], Kind.POSITION)
    return checks.checks


def multi_rigid_sidechain_case(arrays, case, chunk_size) -> list[OutputCheck]:
    config = MultimerSidechainConfig.from_dict(case["config"])
    gc = _global_config(case, chunk_size)
    x = _inputs(arrays)

    def forward(rigid, act, initial_act, aatype):
        return multi_rigid_sidechain(config, gc, rigid_from_array(rigid), [act, initial_act], aatype)

    out = _apply(forward, arrays, x["rigid"], x["act"], x["initial_act"], x["aatype"])
    checks = _Checks(None)
    checks.add("output/angles_sin_cos", out["angles_sin_cos"], Kind.UNIT)
    checks.add("output/unnormalized_angles_sin_cos", out["unnormalized_angles_sin_cos"], Kind.ACTIVATION)
    checks.add("output/atom_pos", out["atom_pos"], Kind.POSITION)
    checks.add_rigid("output/frames", out["frames"], Kind.POSITION)
    return checks.checks


def structure_module_case(arrays, case, chunk_size) -> list[OutputCheck]:
    config = MultimerStructureConfig.from_dict(case["config"])
    gc = _global_config(case, chunk_size)
    x = _inputs(arrays)

    def forward(single, pair, seq_mask, aatype):
        return MultimerStructureModule(config, gc)(single, pair, {"seq_mask": seq_mask, "aatype": aatype})

    out = _apply(forward, arrays, x["single"], x["pair"], x["seq_mask"], x["aatype"])
    checks = _Checks(_residue_mask(case, x["seq_mask"]))
    checks.add("output/act", out["representations"]["structure_module"], Kind.ACTIVATION)
    checks.add_rigid("output/traj", out["traj"], Kind.POSITION, residue_axis=1)
    checks.add_rigid("output/final_rigids", out["final_rigids"], Kind.POSITION)
    checks.add("output/final_atom14_positions", out["final_atom14_positions"], Kind.POSITION)
    checks.add("output/final_atom_positions", out["final_atom_positions"], Kind.POSITION)
    checks.add("output/final_atom14_mask", out["final_atom14_mask"], Kind.EXACT, masked=False)
    checks.add("output/final_atom_mask", out["final_atom_mask"], Kind.EXACT, masked=False)
    sc = out["sidechains"]
    checks.add("output/sidechains/angles_sin_cos", sc["angles_sin_cos"], Kind.UNIT, residue_axis=1)
    checks.add("output/sidechains/unnormalized_angles_sin_cos", sc["unnormalized_angles_sin_cos"],
               Kind.ACTIVATION, residue_axis=1)
    checks.add("output/sidechains/atom_pos", sc["atom_pos"], Kind.POSITION, residue_axis=1)
    checks.add_rigid("output/sidechains/frames", sc["frames"], Kind.POSITION, residue_axis=1)
    return checks.checks


# --------------------------------------------------------------------------- functions


def all_atom_case(arrays, case, chunk_size) -> list[OutputCheck]:
    x = _inputs(arrays)

    @jax.jit
    def run(aatype, backbone, torsions):
        frames = multimer_all_atom.torsion_angles_to_frames(aatype, rigid_from_array(backbone), torsions)
        atom14 = multimer_all_atom.frames_and_literature_positions_to_atom14_pos(aatype, frames)
        return {"frames": rigid_to_array(frames), "atom14": atom14,
                "atom37": multimer_all_atom.atom14_to_atom37(atom14, aatype),
                "atom14_mask": multimer_all_atom.atom14_mask(aatype),
                "atom37_mask": multimer_all_atom.atom37_mask(aatype)}

    out = run(x["aatype"], x["backb_to_global"], x["torsion_angles_sin_cos"])
    checks = _Checks(None)
    checks.add_rigid("output/frames", out["frames"], Kind.POSITION)
    checks.add("output/atom14_positions", out["atom14"], Kind.POSITION)
    checks.add("output/atom37_positions", out["atom37"], Kind.POSITION)
    checks.add("output/atom14_mask", out["atom14_mask"], Kind.EXACT)
    checks.add("output/atom37_mask", out["atom37_mask"], Kind.EXACT)
    return checks.checks


def compute_chi_angles_case(arrays, case, chunk_size) -> list[OutputCheck]:
    x = _inputs(arrays)

    @jax.jit
    def run(positions, mask, aatype):
        chi_angles, chi_mask = multimer_all_atom.compute_chi_angles(positions, mask, aatype)
        rigid, backbone_mask = multimer_all_atom.make_backbone_affine(positions, mask, aatype)
        return chi_angles, chi_mask, rigid_to_array(rigid), backbone_mask

    chi_angles, chi_mask, backbone, backbone_mask = run(x["positions"], x["mask"], x["aatype"])
    checks = _Checks(None)
    checks.add("output/chi_angles", chi_angles, Kind.UNIT)
    checks.add("output/chi_mask", chi_mask, Kind.EXACT)
    checks.add_rigid("output/backbone_rigid", backbone, Kind.POSITION)
    checks.add("output/backbone_mask", backbone_mask, Kind.EXACT)
    return checks.checks


CASES: dict[str, CaseFn] = {
    "invariant_point_attention_multimer": invariant_point_attention_case,
    "fold_iteration_multimer": fold_iteration_case,
    "multi_rigid_sidechain": multi_rigid_sidechain_case,
    "structure_module_multimer": structure_module_case,
    "all_atom_multimer": all_atom_case,
    "compute_chi_angles_multimer": compute_chi_angles_case,
}
