"""Multimer structure module, all-atom geometry, heads and confidence against the multimer reference."""

from __future__ import annotations

import json

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model import confidence, geometry, multimer_geometry
from foldkit.model.global_config import GlobalConfig
from foldkit.model.multimer_heads import apply_multimer_heads, multimer_heads_config
from foldkit.model.multimer_structure import MultimerStructureModule
from foldkit.model.multimer_structure_config import MultimerStructureConfig
from foldkit.testing import cases_multimer_heads, cases_multimer_structure, golden
from foldkit.testing.cases_structure import haiku_params
from foldkit.testing.compare import Kind, OutputCheck, compare
from tests.conftest import AF2_REFERENCE

MULTIMER_DIR = AF2_REFERENCE / "multimer"
MODULES_DIR = MULTIMER_DIR / "modules"
CASES = {**cases_multimer_structure.CASES, **cases_multimer_heads.CASES}
CHUNKED_CASES = ("invariant_point_attention_multimer", "fold_iteration_multimer", "structure_module_multimer")
ITERATION_PREFIX = "alphafold/alphafold_iteration/"
HEADS_AND_STRUCTURE = ("structure_module/", "distogram_head/", "experimentally_resolved_head/",
                       "masked_msa_head/", "predicted_aligned_error_head/", "predicted_lddt_head/")


def _npz(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _assert_all_pass(label: str, checks: list[OutputCheck], reference: dict[str, np.ndarray]) -> None:
    failures = []
    for check in checks:
        result = compare(check, reference[check.name])
        print(f"{label} {check.name} [{check.kind.value}]: max_abs={result.max_abs:.2e} "
              f"{'PASS' if result.passed else 'FAIL'} {result.detail}")
        if not result.passed:
            failures.append(result)
    assert not failures, failures


# --------------------------------------------------------------------------- per-module golden cases


def test_cases_registered(af2_reference):
    index = json.loads((MODULES_DIR / "index.json").read_text())
    assert set(CASES) <= set(index)
    assert set(CASES) == set(CHUNKED_CASES) | {"multi_rigid_sidechain", "all_atom_multimer",
                                               "compute_chi_angles_multimer", "masked_msa_head_multimer",
                                               "predicted_aligned_error_head_multimer"}
    registry = golden.module_case_registry()
    assert set(CASES) <= set(registry), registry.errors


@pytest.mark.parametrize("name,chunk_size", [(name, None) for name in sorted(CASES)]
                         + [(name, 4) for name in CHUNKED_CASES])
def test_golden_case(name, chunk_size, af2_reference):
    arrays = _npz(MODULES_DIR / f"{name}.npz")
    case = json.loads((MODULES_DIR / f"{name}.json").read_text())
    checks = CASES[name](arrays, case, chunk_size)
    expected = sorted(key for key in arrays if key.startswith(("output/", "confidence/")))
    assert sorted({check.name for check in checks}) == expected, "every reference output is checked"
    _assert_all_pass(f"{name} chunk={chunk_size}", checks, arrays)


# --------------------------------------------------------------------------- parameter tree at full size


def _structure_and_heads(config: dict, global_config: GlobalConfig):
    """Structure module + heads as the multimer network calls them (inside ``alphafold_iteration``)."""
    structure_config = MultimerStructureConfig.from_dict(config["heads"]["structure_module"])
    heads_config = multimer_heads_config(config["heads"])

    def forward(single, pair, msa, aatype, seq_mask, asym_id):
        batch = {"aatype": aatype, "seq_mask": seq_mask, "asym_id": asym_id}
        structure = MultimerStructureModule(structure_config, global_config)(single, pair, batch)
        representations = {"single": single, "pair": pair, "msa": msa, **structure.pop("representations")}
        heads_out = apply_multimer_heads(heads_config, representations, batch, global_config=global_config)
        return structure, heads_out, representations["structure_module"]

    return hk.transform(forward)


def test_full_size_parameter_tree_matches_spec(af2_reference):
    spec = json.loads((MULTIMER_DIR / "param_spec_model_1_multimer_v3.json").read_text())
    config = json.loads((MULTIMER_DIR / "config_model_1_multimer_v3.json").read_text())["model"]
    expected = {}
    for entry in spec["params"]:
        key = entry["key"][len(ITERATION_PREFIX):]
        if entry["key"].startswith(ITERATION_PREFIX) and key.startswith(HEADS_AND_STRUCTURE):
            expected[key] = tuple(entry["shape"])
    num_res, c_s, c_z, c_m = 5, 384, 128, 256
    fn = _structure_and_heads(config, GlobalConfig())
    args = (jnp.zeros((num_res, c_s)), jnp.zeros((num_res, num_res, c_z)), jnp.zeros((3, num_res, c_m)),
            jnp.zeros((num_res,), jnp.int32), jnp.ones((num_res,)), jnp.ones((num_res,)))
    shapes = jax.eval_shape(fn.init, jax.random.PRNGKey(0), *args)
    ours = {f"{module}//{name}": tuple(leaf.shape)
            for module, bundle in shapes.items() for name, leaf in bundle.items()}
    assert ours == expected


# --------------------------------------------------------------------------- whole-model tail


@pytest.mark.parametrize("case_name", ["tiny_multimer_hetero", "tiny_multimer_homo"])
def test_structure_heads_confidence_on_whole_model_representations(case_name, af2_reference):
    """Structure module, heads and confidence from the whole model's final representations and params."""
    outputs = _npz(MULTIMER_DIR / f"{case_name}_outputs.npz")
    features = _npz(MULTIMER_DIR / f"{case_name}_features.npz")
    params_flat = {key[len(ITERATION_PREFIX):]: value
                   for key, value in _npz(MULTIMER_DIR / f"{case_name}_params.npz").items()
                   if key.startswith(ITERATION_PREFIX) and key[len(ITERATION_PREFIX):].startswith(HEADS_AND_STRUCTURE)}
    config = json.loads((MULTIMER_DIR / f"{case_name}_config.json").read_text())["config"]["model"]
    fn = _structure_and_heads(config, GlobalConfig())
    structure, heads_out, act = jax.jit(fn.apply)(
        haiku_params(params_flat), None, outputs["representations/single"], outputs["representations/pair"],
        outputs["representations/msa"], features["aatype"].astype(np.int32),
        features["seq_mask"].astype(np.float32), features["asym_id"].astype(np.float32))

    checks = [OutputCheck("representations/structure_module", np.asarray(act), Kind.ACTIVATION)]
    positions = ("final_atom14_positions", "final_atom_positions", "sidechains/atom_pos")
    for name in positions:
        value = structure
        for part in name.split("/"):
            value = value[part]
        checks.append(OutputCheck(f"structure_module/{name}", np.asarray(value), Kind.POSITION))
    for name in ("final_atom14_mask", "final_atom_mask"):
        checks.append(OutputCheck(f"structure_module/{name}", np.asarray(structure[name]), Kind.EXACT))
    for name in ("traj", "final_rigids"):
        checks.append(OutputCheck(f"structure_module/{name}", np.asarray(structure[name]), Kind.POSITION))
    checks.append(OutputCheck("structure_module/sidechains/frames", np.asarray(structure["sidechains"]["frames"]),
                              Kind.POSITION))
    checks.append(OutputCheck("structure_module/sidechains/angles_sin_cos",
                              np.asarray(structure["sidechains"]["angles_sin_cos"]), Kind.UNIT))
    for name, value in heads_out.items():
        kind = Kind.EXACT if name.endswith(("bin_edges", "breaks", "asym_id")) else Kind.ACTIVATION
        checks.append(OutputCheck(name, np.asarray(value), kind))
    assert {"masked_msa/logits", "predicted_aligned_error/asym_id", "predicted_lddt/logits"} <= set(heads_out)
    assert heads_out["masked_msa/logits"].shape[-1] == 22

    metrics = confidence.multimer_confidence_metrics({key: np.asarray(v) for key, v in heads_out.items()})
    kinds = {"plddt": Kind.PLDDT, "aligned_confidence_probs": Kind.UNIT, "predicted_aligned_error": Kind.PAE,
             "max_predicted_aligned_error": Kind.EXACT, "ptm": Kind.PTM, "iptm": Kind.PTM,
             "ranking_confidence": Kind.PTM}
    for name, kind in kinds.items():
        checks.append(OutputCheck(f"confidence/{name}", metrics[f"confidence/{name}"], kind))
        assert metrics[f"confidence/{name}"].dtype == outputs[f"confidence/{name}"].dtype, name
    _assert_all_pass(case_name, checks, outputs)


def test_confidence_from_stored_logits_all_variants(af2_reference):
    """pTM, ipTM and ranking from each stored whole-model PAE logits (also the saturated `_det` ones)."""
    for stem in ("tiny_multimer_hetero", "tiny_multimer_homo"):
        for variant in ("", "_det", "_detq"):
            outputs = _npz(MULTIMER_DIR / f"{stem}{variant}_outputs.npz")
            metrics = confidence.multimer_confidence_metrics(outputs)
            checks = [OutputCheck(f"confidence/{name}", metrics[f"confidence/{name}"], kind)
                      for name, kind in (("plddt", Kind.PLDDT), ("predicted_aligned_error", Kind.PAE),
                                         ("ptm", Kind.PTM), ("iptm", Kind.PTM), ("ranking_confidence", Kind.PTM))]
            _assert_all_pass(f"{stem}{variant}", checks, outputs)


# --------------------------------------------------------------------------- properties


def test_quaternion_rotation_is_orthonormal_and_matches_monomer():
    rng = np.random.default_rng(0)
    vec = rng.normal(size=(50, 3)).astype(np.float32)
    rot = multimer_geometry.rot_from_quaternion(jnp.ones(50), vec[:, 0], vec[:, 1], vec[:, 2])
    np.testing.assert_allclose(np.einsum("nij,nkj->nik", rot, rot), np.broadcast_to(np.eye(3), (50, 3, 3)),
                               atol=1e-6)
    quat = np.concatenate([np.ones((50, 1), np.float32), vec], axis=-1)
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    np.testing.assert_allclose(rot, geometry.quat_to_rot(jnp.asarray(quat)), atol=1e-6)


def test_rigid_array_round_trip_and_reference_frame():
    rng = np.random.default_rng(1)
    x_direction, xy_plane = (jnp.asarray(rng.normal(size=(4, 3))) for _ in range(2))
    rot = multimer_geometry.rot_from_two_vectors(x_direction, xy_plane)
    rigid = geometry.Rigid(rot, jnp.asarray(rng.normal(size=(4, 3))))
    array = multimer_geometry.rigid_to_array(rigid)
    assert array.shape == (4, 3, 4)
    back = multimer_geometry.rigid_from_array(array)
    np.testing.assert_array_equal(back.rot, rigid.rot)
    np.testing.assert_array_equal(back.trans, rigid.trans)
    # N, CA, C -> CA at the origin, C on +x, N in the xy plane with y > 0
    n, ca, c = (jnp.asarray(rng.normal(size=3)) for _ in range(3))
    frame = multimer_geometry.rigid_from_reference_points(n, ca, c)
    local_c, local_n = frame.apply_inverse(c), frame.apply_inverse(n)
    np.testing.assert_allclose(local_c[1:], 0.0, atol=1e-5)
    assert local_c[0] > 0 and local_n[1] > 0
    np.testing.assert_allclose(local_n[2], 0.0, atol=1e-5)


@pytest.mark.parametrize("angle", [-2.5, -0.3, 0.0, 1.0, 3.0])
def test_dihedral_angle_of_constructed_points(angle):
    a = jnp.asarray([1.0, 0.0, 0.0])
    b = jnp.asarray([0.0, 0.0, 0.0])
    c = jnp.asarray([0.0, 0.0, 2.0])    # viewed down b -> c, a sits at +x, d is rotated by `angle`
    d = jnp.asarray([np.cos(angle), np.sin(angle), 3.0])
    assert np.isclose(float(multimer_geometry.dihedral_angle(a, b, c, d)), angle, atol=1e-6)


def test_iptm_interface_only_and_padding():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(9, 9, 64)).astype(np.float32)
    breaks = np.linspace(0.0, 31.0, 63, dtype=np.float32)
    asym = np.asarray([1, 1, 1, 1, 2, 2, 2, 2, 2])
    # one chain: no interface pairs, ipTM = 0
    assert float(confidence.predicted_tm_score_f64(logits, breaks, asym_id=np.ones(9), interface=True)) == 0.0
    # ipTM only looks at inter-chain pairs: changing intra-chain logits leaves it unchanged
    changed = logits.copy()
    changed[:4, :4] += 5.0
    iptm = confidence.predicted_tm_score_f64(logits, breaks, asym_id=asym, interface=True)
    assert float(confidence.predicted_tm_score_f64(changed, breaks, asym_id=asym, interface=True)) == float(iptm)
    # padding with weight 0 gives the unpadded scores
    padded = np.zeros((11, 11, 64), np.float32)
    padded[:9, :9] = logits
    weights = np.r_[np.ones(9), np.zeros(2)]
    padded_asym = np.r_[asym, [0, 0]]
    np.testing.assert_allclose(
        confidence.predicted_tm_score_f64(padded, breaks, weights, padded_asym, interface=True), iptm, rtol=1e-12)
    np.testing.assert_allclose(confidence.predicted_tm_score_f64(padded, breaks, weights),
                               confidence.predicted_tm_score_f64(logits, breaks), rtol=1e-12)
