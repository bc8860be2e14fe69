"""Per-module golden cases of the structure module and all-atom geometry.

``CASES`` maps a case name of ``modules/index.json`` to a function
``(arrays from the case npz, case JSON, chunk_size) -> [OutputCheck]`` with
one check per ``output/...`` array. Parameters come from the npz keys
``<module path>//<name>`` (rooted at the module name).
"""

from __future__ import annotations

from typing import Callable

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model import all_atom
from foldkit.model.geometry import QuatRigid, Rigid
from foldkit.model.global_config import GlobalConfig
from foldkit.model.structure import FoldIteration, InvariantPointAttention, StructureModule
from foldkit.model.structure_config import StructureModuleConfig
from foldkit.testing.compare import Kind, OutputCheck

CaseFn = Callable[[dict, dict, "int | None"], list[OutputCheck]]


def haiku_params(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, jnp.ndarray]]:
    """``{"a/b//w": x}`` -> ``{"a/b": {"w": x}}`` (keys split once on ``//``)."""
    params: dict[str, dict[str, jnp.ndarray]] = {}
    for key, value in arrays.items():
        if "//" in key:
            module, name = key.split("//", 1)
            params.setdefault(module, {})[name] = jnp.asarray(value)
    return params


def _inputs(arrays: dict[str, np.ndarray]) -> dict[str, jnp.ndarray]:
    return {key[len("input/"):]: jnp.asarray(value) for key, value in arrays.items() if key.startswith("input/")}


def _configs(case: dict, chunk_size: int | None) -> tuple[StructureModuleConfig, GlobalConfig]:
    gc = case["global_config"]
    global_config = GlobalConfig(chunk_size=chunk_size, zero_init=gc["zero_init"], deterministic=True)
    return StructureModuleConfig.from_dict(case["config"]), global_config


def _np(x) -> np.ndarray:
    return np.asarray(jax.device_get(x))


# --------------------------------------------------------------------------- haiku modules


def _ipa_forward(config, global_config):
    def forward(inputs_1d, inputs_2d, mask, affine):
        ipa = InvariantPointAttention(config, global_config, name="invariant_point_attention")
        return ipa(inputs_1d, inputs_2d, mask, QuatRigid.from_tensor(affine))
    return forward, ("inputs_1d", "inputs_2d", "mask", "affine")


def _fold_iteration_forward(config, global_config):
    def forward(act, affine, mask, single, pair, aatype):
        fold = FoldIteration(config, global_config, name="fold_iteration")
        new_act, new_affine, outputs = fold(act, QuatRigid.from_tensor(affine), mask, initial_act=single,
                                            pair_act=pair, aatype=aatype)
        return new_act, new_affine.to_tensor(), outputs
    return forward, ("inputs_1d", "affine", "mask", "single", "inputs_2d", "aatype")


_BATCH_KEYS = ("seq_mask", "aatype", "atom14_atom_exists", "atom37_atom_exists", "residx_atom37_to_atom14")


def _structure_module_forward(config, global_config):
    def forward(single, pair, *batch_values):
        batch = dict(zip(_BATCH_KEYS, batch_values))
        return StructureModule(config, global_config, name="structure_module")(single, pair, batch)
    return forward, ("single", "pair") + _BATCH_KEYS


_FORWARDS = {
    "invariant_point_attention": _ipa_forward,
    "fold_iteration": _fold_iteration_forward,
    "structure_module": _structure_module_forward,
}


def _transformed(case_name: str, arrays, case, chunk_size):
    """(haiku transform, its positional inputs) of a haiku-module case."""
    config, global_config = _configs(case, chunk_size)
    forward, input_names = _FORWARDS[case_name](config, global_config)
    x = _inputs(arrays)
    return hk.transform(forward), tuple(x[name] for name in input_names)


def init_param_shapes(case_name: str, arrays, case) -> dict[str, dict[str, tuple[int, ...]]]:
    """Parameter tree (shapes only) that foldkit's ``init`` creates for a haiku-module case."""
    fn, args = _transformed(case_name, arrays, case, None)
    shapes = jax.eval_shape(fn.init, jax.random.PRNGKey(0), *args)
    return {path: {name: tuple(leaf.shape) for name, leaf in bundle.items()} for path, bundle in shapes.items()}


def _apply(case_name: str, arrays, case, chunk_size):
    fn, args = _transformed(case_name, arrays, case, chunk_size)
    return jax.jit(fn.apply)(haiku_params(arrays), None, *args)


def invariant_point_attention_case(arrays, case, chunk_size) -> list[OutputCheck]:
    out = _apply("invariant_point_attention", arrays, case, chunk_size)
    return [OutputCheck("output/output", _np(out), Kind.ACTIVATION, mask=arrays["input/mask"])]


def fold_iteration_case(arrays, case, chunk_size) -> list[OutputCheck]:
    new_act, new_affine, outputs = _apply("fold_iteration", arrays, case, chunk_size)
    res = np.asarray(arrays["input/mask"])[:, 0]                       # [N]
    m2, m3, m4 = res[:, None], res[:, None, None], res[:, None, None, None]
    sc = outputs["sc"]
    return [
        OutputCheck("output/new_activations/act", _np(new_act), Kind.ACTIVATION, m2),
        OutputCheck("output/new_activations/affine", _np(new_affine), Kind.UNIT, m2),
        OutputCheck("output/outputs/affine", _np(outputs["affine"]), Kind.UNIT, m2),
        OutputCheck("output/outputs/sc/angles_sin_cos", _np(sc["angles_sin_cos"]), Kind.UNIT, m3),
        OutputCheck("output/outputs/sc/unnormalized_angles_sin_cos", _np(sc["unnormalized_angles_sin_cos"]),
                    Kind.ACTIVATION, m3),
        OutputCheck("output/outputs/sc/atom_pos", _np(sc["atom_pos"]), Kind.POSITION, m3),
        OutputCheck("output/outputs/sc/frames/rot", _np(sc["frames"]["rot"]), Kind.UNIT, m4),
        OutputCheck("output/outputs/sc/frames/trans", _np(sc["frames"]["trans"]), Kind.POSITION, m3),
    ]


def structure_module_case(arrays, case, chunk_size) -> list[OutputCheck]:
    out = _apply("structure_module", arrays, case, chunk_size)
    res = np.asarray(arrays["input/seq_mask"])
    per_res = {2: res[:, None], 3: res[:, None, None], 4: res[:, None, None, None]}
    layered = {3: res[None, :, None], 4: res[None, :, None, None], 5: res[None, :, None, None, None]}
    checks = []

    def add(name, value, kind, stacked=False):
        value = _np(value)
        mask = (layered if stacked else per_res)[value.ndim]
        checks.append(OutputCheck(name, value, kind, mask))

    add("output/representations/structure_module", out["representations"]["structure_module"], Kind.ACTIVATION)
    # Affines: the quaternion (columns 0-3) is a unit quantity, the translation (4-6) is in Å.
    quat_columns = np.arange(7) < 4
    for name, value, res_mask in (("output/final_affines", out["final_affines"], per_res[2]),
                                  ("output/traj", out["traj"], layered[3])):
        checks.append(OutputCheck(name, _np(value), Kind.UNIT, res_mask * quat_columns))
        checks.append(OutputCheck(name, _np(value), Kind.POSITION, res_mask * ~quat_columns))
    add("output/final_atom14_positions", out["final_atom14_positions"], Kind.POSITION)
    add("output/final_atom_positions", out["final_atom_positions"], Kind.POSITION)
    checks.append(OutputCheck("output/final_atom14_mask", _np(out["final_atom14_mask"]), Kind.EXACT))
    checks.append(OutputCheck("output/final_atom_mask", _np(out["final_atom_mask"]), Kind.EXACT))
    sc = out["sidechains"]
    add("output/sidechains/angles_sin_cos", sc["angles_sin_cos"], Kind.UNIT, stacked=True)
    add("output/sidechains/unnormalized_angles_sin_cos", sc["unnormalized_angles_sin_cos"], Kind.ACTIVATION,
        stacked=True)
    add("output/sidechains/atom_pos", sc["atom_pos"], Kind.POSITION, stacked=True)
    add("output/sidechains/frames/rot", sc["frames"]["rot"], Kind.UNIT, stacked=True)
    add("output/sidechains/frames/trans", sc["frames"]["trans"], Kind.POSITION, stacked=True)
    return checks


# --------------------------------------------------------------------------- functions


def torsion_angles_to_frames_case(arrays, case, chunk_size) -> list[OutputCheck]:
    x = _inputs(arrays)
    frames = jax.jit(all_atom.torsion_angles_to_frames)(
        x["aatype"], Rigid(x["backb_rot"], x["backb_trans"]), x["torsion_angles_sin_cos"])
    return [OutputCheck("output/all_frames_to_global/rot", _np(frames.rot), Kind.UNIT),
            OutputCheck("output/all_frames_to_global/trans", _np(frames.trans), Kind.POSITION)]


def atom14_positions_case(arrays, case, chunk_size) -> list[OutputCheck]:
    x = _inputs(arrays)
    positions = jax.jit(all_atom.frames_and_literature_positions_to_atom14_pos)(
        x["aatype"], Rigid(x["frames_rot"], x["frames_trans"]))
    return [OutputCheck("output/atom14_positions", _np(positions), Kind.POSITION)]


def atom37_to_torsion_angles_case(arrays, case, chunk_size) -> list[OutputCheck]:
    x = _inputs(arrays)
    out = jax.jit(all_atom.atom37_to_torsion_angles)(x["aatype"], x["all_atom_pos"], x["all_atom_mask"])
    well = np.asarray(arrays["output/well_conditioned"])        # [B, N, 7]
    ours_well = _np(all_atom.torsion_well_conditioned(x["aatype"], x["all_atom_pos"]))
    return [
        OutputCheck("output/torsion_angles_sin_cos", _np(out["torsion_angles_sin_cos"]), Kind.UNIT, well[..., None]),
        OutputCheck("output/alt_torsion_angles_sin_cos", _np(out["alt_torsion_angles_sin_cos"]), Kind.UNIT,
                    well[..., None]),
        OutputCheck("output/torsion_angles_mask", _np(out["torsion_angles_mask"]), Kind.EXACT),
        OutputCheck("output/well_conditioned", ours_well, Kind.EXACT),
    ]


def atom14_atom37_conversion_case(arrays, case, chunk_size) -> list[OutputCheck]:
    x = _inputs(arrays)
    atom37 = all_atom.atom14_to_atom37(x["atom14_positions"], x["residx_atom37_to_atom14"], x["atom37_atom_exists"])
    atom14 = all_atom.atom37_to_atom14(x["atom37_positions_in"], x["residx_atom14_to_atom37"],
                                       x["atom14_atom_exists"])
    return [OutputCheck("output/atom37_positions", _np(atom37), Kind.POSITION),
            OutputCheck("output/atom14_from_atom37", _np(atom14), Kind.POSITION)]


def pseudo_beta_and_dgram_case(arrays, case, chunk_size) -> list[OutputCheck]:
    x = _inputs(arrays)
    position, mask = all_atom.pseudo_beta(x["aatype"], x["all_atom_positions"], x["all_atom_masks"])
    recycle = all_atom.dgram_from_positions(position, num_bins=15, min_bin=3.25, max_bin=20.75)
    template = all_atom.dgram_from_positions(position, num_bins=39, min_bin=3.25, max_bin=50.75)
    return [OutputCheck("output/pseudo_beta", _np(position), Kind.POSITION),
            OutputCheck("output/pseudo_beta_mask", _np(mask), Kind.EXACT),
            OutputCheck("output/dgram_recycle", _np(recycle), Kind.EXACT),
            OutputCheck("output/dgram_template", _np(template), Kind.EXACT)]


CASES: dict[str, CaseFn] = {
    "invariant_point_attention": invariant_point_attention_case,
    "fold_iteration": fold_iteration_case,
    "structure_module": structure_module_case,
    "torsion_angles_to_frames": torsion_angles_to_frames_case,
    "frames_and_literature_positions_to_atom14_pos": atom14_positions_case,
    "atom37_to_torsion_angles": atom37_to_torsion_angles_case,
    "atom14_atom37_conversion": atom14_atom37_conversion_case,
    "pseudo_beta_and_dgram": pseudo_beta_and_dgram_case,
}
