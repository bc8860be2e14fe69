"""Each training loss on known inputs: zero (or its floor) at the truth, invariances, masking, goldens."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model.fape import frame_aligned_point_error
from foldkit.model.geometry import Rigid, rot_to_quat
from foldkit.train import losses
from foldkit.train.ground_truth import ground_truth
from foldkit.train.violations import violation_loss
from tests.conftest import AF2_REFERENCE
from tests.train.helpers import ideal_structure, random_rotations

FAPE_FLOOR = np.sqrt(1e-4) / 10.0     # sqrt(epsilon) / length scale


@pytest.fixture(scope="module")
def chain():
    aatype = np.asarray([3, 6, 13, 18, 0, 7, 1, 11, 14, 3, 17, 9, 12, 4, 15, 16, 19, 2, 5, 8, 10])
    structure = ideal_structure(aatype, seed=11)
    gt = ground_truth(jnp.asarray(structure["aatype"]), jnp.asarray(structure["atom37"]),
                      jnp.asarray(structure["atom37_mask"]), jnp.float32(1.0))
    return structure, gt


def traj_of(rot, trans, layers=2):
    affine = np.concatenate([np.asarray(rot_to_quat(jnp.asarray(rot))), trans], axis=-1)
    return jnp.asarray(np.stack([affine] * layers))


def moved(rot, trans, points, seed=5):
    rng = np.random.default_rng(seed)
    r = random_rotations(rng, ())
    t = rng.normal(scale=20, size=3).astype(np.float32)
    return (np.einsum("ij,...jk->...ik", r, rot), trans @ r.T + t, points @ r.T + t)


def test_fape_golden():
    case = np.load(AF2_REFERENCE / "modules" / "frame_aligned_point_error.npz", allow_pickle=False)
    args = [case[f"input/{k}"] for k in ("pred_frames_rot", "pred_frames_trans", "target_frames_rot",
                                         "target_frames_trans", "frames_mask", "pred_positions",
                                         "target_positions", "positions_mask")]
    for name, scale, clamp in (("clamp10_scale10", 10.0, 10.0), ("noclamp_scale10", 10.0, None),
                               ("clamp10_scale20", 20.0, 10.0)):
        ours = frame_aligned_point_error(*args, length_scale=scale, l1_clamp_distance=clamp)
        np.testing.assert_allclose(float(ours), float(case[f"output/fape_{name}"]), rtol=1e-5, atol=1e-6)


def test_backbone_fape_zero_at_truth_and_invariant(chain):
    structure, gt = chain
    at_truth = losses.backbone_fape(traj_of(structure["backbone_rot"], structure["backbone_trans"]),
                                    gt["backbone_rot"], gt["backbone_trans"], gt["backbone_mask"])
    assert float(at_truth) == pytest.approx(FAPE_FLOOR, abs=1e-5)
    rng = np.random.default_rng(0)
    noisy_trans = structure["backbone_trans"] + rng.normal(scale=2.0, size=structure["backbone_trans"].shape)
    noisy_rot = random_rotations(rng, (len(noisy_trans),))
    base = losses.backbone_fape(traj_of(noisy_rot, noisy_trans), gt["backbone_rot"], gt["backbone_trans"],
                                gt["backbone_mask"])
    rot2, trans2, _ = moved(noisy_rot, noisy_trans, noisy_trans)
    moved_loss = losses.backbone_fape(traj_of(rot2, trans2.astype(np.float32)), gt["backbone_rot"],
                                      gt["backbone_trans"], gt["backbone_mask"])
    assert float(base) > 0.1
    assert float(moved_loss) == pytest.approx(float(base), rel=1e-4)
    unclamped = losses.backbone_fape(traj_of(noisy_rot, noisy_trans), gt["backbone_rot"], gt["backbone_trans"],
                                     gt["backbone_mask"], use_clamped=0.0)
    assert float(unclamped) >= float(base)


def test_sidechain_fape_zero_at_truth_and_renames_symmetric_atoms(chain):
    structure, gt = chain
    frames = Rigid(jnp.asarray(structure["group_rot"]), jnp.asarray(structure["group_trans"]))
    pred14 = jnp.asarray(structure["atom14"])
    alt = losses.rename_symmetric_atoms(pred14, gt)
    assert float(alt.max()) == 0.0
    at_truth = losses.sidechain_fape(frames, pred14, gt, alt)
    assert float(at_truth) == pytest.approx(FAPE_FLOOR, abs=2e-5)
    # a prediction with the symmetric atoms swapped (and those chi frames flipped) is just as good
    swapped14 = gt["atom14_alt_gt_positions"]
    swapped_rot = gt["rigidgroups_alt_rot"]
    swapped_frames = Rigid(jnp.where(gt["rigidgroups_exists"][..., None, None] > 0, swapped_rot, frames.rot),
                           frames.trans)
    alt = losses.rename_symmetric_atoms(swapped14, gt)
    ambiguous_residues = np.asarray(gt["atom14_is_ambiguous"]).max(axis=1)
    np.testing.assert_array_equal(np.asarray(alt), ambiguous_residues)
    renamed = losses.sidechain_fape(swapped_frames, swapped14, gt, alt)
    assert float(renamed) == pytest.approx(FAPE_FLOOR, abs=2e-5)
    not_renamed = losses.sidechain_fape(swapped_frames, swapped14, gt, jnp.zeros_like(alt))
    assert float(not_renamed) > 10 * FAPE_FLOOR
    # invariant to a rigid motion of the prediction
    rot2, trans2, pos2 = moved(np.asarray(frames.rot), np.asarray(frames.trans), np.asarray(pred14) + 0.3)
    base = losses.sidechain_fape(frames, pred14 + 0.3, gt, jnp.zeros_like(alt))
    again = losses.sidechain_fape(Rigid(jnp.asarray(rot2), jnp.asarray(trans2, jnp.float32)),
                                  jnp.asarray(pos2, jnp.float32), gt, jnp.zeros_like(alt))
    assert float(again) == pytest.approx(float(base), rel=1e-4)


def test_torsion_loss(chain):
    structure, gt = chain
    truth, alt, mask = gt["torsion_angles_sin_cos"], gt["alt_torsion_angles_sin_cos"], gt["torsion_angles_mask"]
    assert float(losses.torsion_angle_loss(truth, truth, alt, mask)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.torsion_angle_loss(alt, truth, alt, mask)) == pytest.approx(0.0, abs=1e-6)
    opposite = losses.torsion_angle_loss(-truth, truth, alt, mask)
    assert float(opposite) > 1.0       # chord^2 of pi is 4 for the non-periodic torsions
    unit = jnp.asarray(structure["sin_cos"])
    assert float(losses.angle_norm_loss(unit, jnp.ones(unit.shape[0]))) == pytest.approx(0.0, abs=1e-3)
    assert float(losses.angle_norm_loss(2 * unit, jnp.ones(unit.shape[0]))) == pytest.approx(1.0, abs=1e-3)


def test_distogram_msa_plddt_resolved_at_truth(chain):
    structure, gt = chain
    num_bins = 64
    edges = np.linspace(2.3125, 21.6875, num_bins - 1)
    beta = np.asarray(gt["pseudo_beta"])
    dist = np.linalg.norm(beta[:, None] - beta[None], axis=-1)
    bins = (dist[..., None] > edges).sum(-1)
    perfect = 100.0 * jax.nn.one_hot(bins, num_bins)
    assert float(losses.distogram_loss(perfect, gt["pseudo_beta"], gt["pseudo_beta_mask"])) < 1e-3
    assert float(losses.distogram_loss(jnp.zeros_like(perfect), gt["pseudo_beta"], gt["pseudo_beta_mask"])) \
        == pytest.approx(np.log(num_bins), rel=1e-5)

    true_msa = np.random.default_rng(1).integers(0, 22, size=(4, len(beta)))
    bert = np.zeros(true_msa.shape, np.float32)
    bert[:, ::3] = 1
    assert float(losses.masked_msa_loss(100.0 * jax.nn.one_hot(true_msa, 23), true_msa, bert)) < 1e-3
    assert float(losses.masked_msa_loss(jnp.zeros((4, len(beta), 23)), true_msa, bert)) \
        == pytest.approx(np.log(23), rel=1e-5)

    ca = gt["all_atom_positions"][:, 1]
    ca_mask = gt["all_atom_mask"][:, 1]
    top_bin = 100.0 * jax.nn.one_hot(jnp.full(len(beta), 49), 50)
    assert float(losses.plddt_loss(top_bin, ca, ca, ca_mask)) < 1e-3
    logits = jnp.where(gt["all_atom_mask"] > 0, 50.0, -50.0)
    resolved = losses.experimentally_resolved_loss(logits, gt["all_atom_mask"], gt["all_atom_mask"], 1.0)
    assert float(resolved) < 1e-3


def test_plddt_target_bins_use_golden_lddt():
    case = np.load(AF2_REFERENCE / "modules" / "lddt.npz", allow_pickle=False)
    pred, true, mask = (case[f"input/{k}"] for k in ("predicted_points", "true_points", "true_points_mask"))
    bins = losses.lddt_ca_bins(jnp.asarray(pred[0]), jnp.asarray(true[0]), jnp.asarray(mask[0, :, 0]), 50)
    expected = np.minimum(np.floor(case["output/lddt_per_residue"][0] * 50), 49)
    np.testing.assert_array_equal(np.asarray(bins), expected)


def test_backbone_only_chain_masks_sidechain_terms(chain):
    structure, _ = chain
    backbone_mask = np.zeros_like(structure["atom37_mask"])
    backbone_mask[:, [0, 1, 2, 4]] = 1.0
    gt = ground_truth(jnp.asarray(structure["aatype"]), jnp.asarray(structure["atom37"]),
                      jnp.asarray(backbone_mask), jnp.float32(0.0))
    logits = jnp.full((len(backbone_mask), 37), -50.0).at[:, jnp.asarray([0, 1, 2, 4])].set(50.0)
    exists = jnp.asarray(structure["atom37_mask"])
    # side-chain atoms are absent by construction: predicting them "unresolved" or "resolved" costs nothing
    low = losses.experimentally_resolved_loss(logits, gt["all_atom_mask"], exists, 0.0)
    high = losses.experimentally_resolved_loss(logits.at[:, 5:].set(50.0), gt["all_atom_mask"], exists, 0.0)
    assert float(low) < 1e-3 and float(high) == pytest.approx(float(low), abs=1e-6)
    outputs = fake_outputs(structure)
    example = {"use_clamped_fape": jnp.float32(1.0), "seq_mask": jnp.ones(len(backbone_mask)),
               "true_msa": jnp.zeros((2, len(backbone_mask)), jnp.int32),
               "bert_mask": jnp.zeros((2, len(backbone_mask))), "atom37_atom_exists": exists,
               "aatype": jnp.asarray(structure["aatype"]),
               "residue_index": jnp.arange(len(backbone_mask))}
    from foldkit.model.config import preset
    values, weights = losses.example_losses(outputs, example, gt, preset("model_3_ptm").model)
    assert float(weights["sidechain_fape"]) == 0.0 and float(weights["fape"]) == 1.0
    assert float(weights["masked_msa"]) == 0.0
    total, means = losses.total_loss({k: v[None] for k, v in values.items()},
                                     {k: v[None] for k, v in weights.items()}, _Weights())
    assert float(means["sidechain_fape"]) == 0.0 and np.isfinite(float(total))


class _Weights:
    fape = sidechain_fape = torsion = 0.5
    angle_norm = plddt = experimentally_resolved = 0.01
    distogram, masked_msa, pae, violation = 0.3, 2.0, 0.1, 1.0


def fake_outputs(structure, layers=2):
    num_res = len(structure["aatype"])
    sin_cos = jnp.asarray(np.stack([structure["sin_cos"]] * layers))
    return {
        "structure_module/traj": traj_of(structure["backbone_rot"], structure["backbone_trans"], layers),
        "structure_module/final_affines": traj_of(structure["backbone_rot"], structure["backbone_trans"], 1)[0],
        "structure_module/final_atom14_positions": jnp.asarray(structure["atom14"]),
        "structure_module/final_atom_positions": jnp.asarray(structure["atom37"]),
        "structure_module/sidechains/frames/rot": jnp.asarray(np.stack([structure["group_rot"]] * layers)),
        "structure_module/sidechains/frames/trans": jnp.asarray(np.stack([structure["group_trans"]] * layers)),
        "structure_module/sidechains/angles_sin_cos": sin_cos,
        "structure_module/sidechains/unnormalized_angles_sin_cos": sin_cos,
        "distogram/logits": jnp.zeros((num_res, num_res, 64)),
        "masked_msa/logits": jnp.zeros((2, num_res, 23)),
        "predicted_lddt/logits": jnp.zeros((num_res, 50)),
        "experimentally_resolved/logits": jnp.zeros((num_res, 37)),
        "predicted_aligned_error/logits": jnp.zeros((num_res, num_res, 64)),
        "predicted_aligned_error/breaks": jnp.linspace(0.0, 31.0, 63),
    }


def test_violations_of_experimental_chain_are_small_and_grow_with_a_broken_bond():
    from tests.conftest import TRAIN_DIR
    from foldkit.model import all_atom
    from foldkit.train.data import load_chains

    chain = next(c for c in load_chains(TRAIN_DIR, "test", limit=30) if c.full_atom)
    pos37, mask37 = chain.atom37()
    aatype = jnp.asarray(chain.aatype.astype(np.int32))
    tables = all_atom.atom14_atom37_tables(aatype)
    atom14 = all_atom.atom37_to_atom14(jnp.asarray(pos37), tables["residx_atom14_to_atom37"],
                                       tables["atom14_atom_exists"])
    mask14 = all_atom.atom37_to_atom14(jnp.asarray(mask37), tables["residx_atom14_to_atom37"],
                                       tables["atom14_atom_exists"])
    residue_index = jnp.asarray(chain.residue_index)
    native = float(violation_loss(atom14, aatype, mask14, residue_index))
    stretched = atom14.at[10:].add(jnp.asarray([2.0, 0.0, 0.0]))       # pull the chain apart at residue 10
    broken = float(violation_loss(stretched, aatype, mask14, residue_index))
    assert native < 0.05
    assert broken > native + 1e-3
