"""Structure module and all-atom geometry against the reference golden vectors."""

from __future__ import annotations

import json

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model.global_config import GlobalConfig
from foldkit.model.structure import StructureModule
from foldkit.model.structure_config import StructureModuleConfig
from foldkit.testing.cases_structure import CASES, haiku_params, init_param_shapes
from foldkit.testing.compare import Kind, OutputCheck, compare
from tests.conftest import AF2_REFERENCE

MODULES_DIR = AF2_REFERENCE / "modules"
HAIKU_CASES = ("invariant_point_attention", "fold_iteration", "structure_module")
OWNED_CASES = HAIKU_CASES + ("torsion_angles_to_frames", "frames_and_literature_positions_to_atom14_pos",
                             "atom37_to_torsion_angles", "atom14_atom37_conversion", "pseudo_beta_and_dgram")
SM_PREFIX = "alphafold/alphafold_iteration/"


def _load(name: str) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(MODULES_DIR / f"{name}.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = json.loads((MODULES_DIR / f"{name}.json").read_text())
    return arrays, meta


def _assert_all_pass(label: str, checks: list[OutputCheck], reference: dict[str, np.ndarray]) -> None:
    failures = []
    for check in checks:
        result = compare(check, reference[check.name])
        print(f"{label} {check.name} [{check.kind.value}]: max_abs={result.max_abs:.2e} "
              f"max_rel={result.max_rel:.2e} {'PASS' if result.passed else 'FAIL'}")
        if not result.passed:
            failures.append(result)
    assert not failures, failures


def test_cases_cover_index(af2_reference):
    index = json.loads((MODULES_DIR / "index.json").read_text())
    assert set(CASES) == set(OWNED_CASES)
    assert set(CASES) <= set(index)


@pytest.mark.parametrize("chunk_size", [None, 2], ids=["nochunk", "chunk2"])
@pytest.mark.parametrize("case_name", sorted(OWNED_CASES))
def test_golden(case_name, chunk_size, af2_reference):
    arrays, meta = _load(case_name)
    checks = CASES[case_name](arrays, meta, chunk_size)
    expected = sorted(key for key in arrays if key.startswith("output/"))
    assert sorted({check.name for check in checks}) == expected
    _assert_all_pass(f"{case_name} chunk={chunk_size}", checks, arrays)


@pytest.mark.parametrize("case_name", HAIKU_CASES)
def test_init_matches_golden_parameter_tree(case_name, af2_reference):
    """foldkit's init yields exactly the golden file's parameter keys and shapes."""
    arrays, meta = _load(case_name)
    reference = {path: {p: tuple(v.shape) for p, v in bundle.items()}
                 for path, bundle in haiku_params(arrays).items()}
    assert init_param_shapes(case_name, arrays, meta) == reference


def test_torsion_conditioning_detector_flags_degenerate_pre_omega(af2_reference):
    """Our conditioning mask marks exactly the reference's ill-conditioned torsions."""
    arrays, _ = _load("atom37_to_torsion_angles")
    assert (arrays["output/well_conditioned"] == 0).any()
    checks = {c.name: c for c in CASES["atom37_to_torsion_angles"](arrays, {}, None)}
    np.testing.assert_array_equal(checks["output/well_conditioned"].ours, arrays["output/well_conditioned"])


@pytest.mark.parametrize("model_name", ["model_1_ptm", "model_3"])
def test_full_size_structure_module_matches_param_spec(model_name, af2_reference):
    """At full size, the structure module's parameters are the official files' keys and shapes."""
    spec = json.loads((AF2_REFERENCE / f"param_spec_{model_name}.json").read_text())
    expected = {entry["key"][len(SM_PREFIX):]: tuple(entry["shape"]) for entry in spec["params"]
                if entry["key"].startswith(SM_PREFIX + "structure_module/")}
    model_config = json.loads((AF2_REFERENCE / f"config_{model_name}.json").read_text())["model"]
    config = StructureModuleConfig.from_dict(model_config["heads"]["structure_module"])
    c_s = model_config["embeddings_and_evoformer"]["seq_channel"]
    c_z = model_config["embeddings_and_evoformer"]["pair_channel"]
    num_res = 8

    def forward(single, pair, aatype, seq_mask):
        return StructureModule(config, GlobalConfig())(single, pair, {"aatype": aatype, "seq_mask": seq_mask})

    shapes = jax.eval_shape(hk.transform(forward).init, jax.random.PRNGKey(0),
                            jax.ShapeDtypeStruct((num_res, c_s), jnp.float32),
                            jax.ShapeDtypeStruct((num_res, num_res, c_z), jnp.float32),
                            jax.ShapeDtypeStruct((num_res,), jnp.int32),
                            jax.ShapeDtypeStruct((num_res,), jnp.float32))
    ours = {f"{path}//{name}": tuple(leaf.shape) for path, bundle in shapes.items() for name, leaf in bundle.items()}
    assert ours == expected


@pytest.mark.parametrize("case", ["tiny_model_1_ptm", "tiny_model_3"])
def test_structure_module_inside_whole_model_golden(case, af2_reference):
    """The structure module fed the whole-model golden's single/pair gives its structure outputs."""
    meta = json.loads((AF2_REFERENCE / f"{case}_config.json").read_text())
    config = StructureModuleConfig.from_dict(meta["config"]["model"]["heads"]["structure_module"])
    with np.load(AF2_REFERENCE / f"{case}_params.npz", allow_pickle=False) as npz:
        params = haiku_params({k[len(SM_PREFIX):]: npz[k] for k in npz.files
                               if k.startswith(SM_PREFIX + "structure_module/")})
    with np.load(AF2_REFERENCE / f"{case}_outputs.npz", allow_pickle=False) as npz:
        reference = {k: npz[k] for k in npz.files}
    with np.load(AF2_REFERENCE / f"{case}_features.npz", allow_pickle=False) as npz:
        batch = {k: npz[k][-1] for k in ("aatype", "seq_mask", "atom14_atom_exists", "atom37_atom_exists",
                                         "residx_atom37_to_atom14")}   # the final recycling slice

    def forward(single, pair, batch):
        return StructureModule(config, GlobalConfig())(single, pair, batch)

    out = jax.jit(hk.transform(forward).apply)(params, None, reference["representations/single"],
                                               reference["representations/pair"], batch)
    sc = out["sidechains"]
    checks = [
        OutputCheck("representations/structure_module", out["representations"]["structure_module"], Kind.ACTIVATION),
        OutputCheck("structure_module/final_atom_positions", out["final_atom_positions"], Kind.POSITION),
        OutputCheck("structure_module/final_atom14_positions", out["final_atom14_positions"], Kind.POSITION),
        OutputCheck("structure_module/final_atom_mask", out["final_atom_mask"], Kind.EXACT),
        OutputCheck("structure_module/final_atom14_mask", out["final_atom14_mask"], Kind.EXACT),
        OutputCheck("structure_module/traj", out["traj"], Kind.POSITION),
        OutputCheck("structure_module/final_affines", out["final_affines"], Kind.POSITION),
        OutputCheck("structure_module/sidechains/angles_sin_cos", sc["angles_sin_cos"], Kind.UNIT),
        OutputCheck("structure_module/sidechains/unnormalized_angles_sin_cos", sc["unnormalized_angles_sin_cos"],
                    Kind.ACTIVATION),
        OutputCheck("structure_module/sidechains/atom_pos", sc["atom_pos"], Kind.POSITION),
        OutputCheck("structure_module/sidechains/frames/rot", sc["frames"]["rot"], Kind.UNIT),
        OutputCheck("structure_module/sidechains/frames/trans", sc["frames"]["trans"], Kind.POSITION),
    ]
    _assert_all_pass(case, [OutputCheck(c.name, np.asarray(c.ours), c.kind) for c in checks], reference)
