"""Properties of rigid transforms, quaternions and the all-atom conversions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit import constants
from foldkit.model import all_atom
from foldkit.model.geometry import (QuatRigid, Rigid, quat_multiply, quat_to_rot, rigid_from_three_points,
                                    rot_compose, rot_to_quat)
from tests.conftest import AF2_REFERENCE


def _random_quats(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4)).astype(np.float32)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def test_quat_to_rot_is_a_proper_rotation():
    rot = np.asarray(quat_to_rot(jnp.asarray(_random_quats(np.random.default_rng(0), 50))))
    np.testing.assert_allclose(rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-6)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-5)


def test_quaternion_of_known_rotation():
    # 90 degrees about z: x -> y.
    quat = jnp.asarray([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)], jnp.float32)
    np.testing.assert_allclose(np.asarray(quat_to_rot(quat)) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-6)


def test_rot_to_quat_round_trip_including_half_turns():
    quats = _random_quats(np.random.default_rng(1), 40)
    half_turns = np.asarray([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0.6, 0.8, 0], [1, 0, 0, 0]], np.float32)
    quats = np.concatenate([quats, half_turns])
    recovered = np.asarray(rot_to_quat(quat_to_rot(jnp.asarray(quats))))
    canonical = np.where(quats[:, :1] < 0, -quats, quats)
    same = np.minimum(np.abs(recovered - canonical).max(-1), np.abs(recovered + canonical).max(-1))
    assert same.max() < 1e-5          # q and -q are the same rotation (w = 0 for half turns)
    np.testing.assert_allclose(np.asarray(quat_to_rot(jnp.asarray(recovered))),
                               np.asarray(quat_to_rot(jnp.asarray(quats))), atol=1e-5)


def test_quaternion_product_is_rotation_product():
    rng = np.random.default_rng(2)
    a, b = jnp.asarray(_random_quats(rng, 20)), jnp.asarray(_random_quats(rng, 20))
    np.testing.assert_allclose(np.asarray(quat_to_rot(quat_multiply(a, b))),
                               np.asarray(rot_compose(quat_to_rot(a), quat_to_rot(b))), atol=1e-5)


def test_rigid_invert_compose_apply():
    rng = np.random.default_rng(3)
    frame = Rigid(quat_to_rot(jnp.asarray(_random_quats(rng, 10))), jnp.asarray(rng.normal(size=(10, 3)) * 5))
    points = jnp.asarray(rng.normal(size=(10, 3)) * 10, jnp.float32)
    np.testing.assert_allclose(np.asarray(frame.apply_inverse(frame.apply(points))), np.asarray(points), atol=1e-4)
    np.testing.assert_allclose(np.asarray(frame.invert().apply(points)), np.asarray(frame.apply_inverse(points)),
                               atol=1e-4)
    identity = frame.compose(frame.invert())
    np.testing.assert_allclose(np.asarray(identity.rot), np.broadcast_to(np.eye(3), (10, 3, 3)), atol=1e-5)
    np.testing.assert_allclose(np.asarray(identity.trans), 0.0, atol=1e-4)


def test_backbone_update_is_composition_with_local_update():
    rng = np.random.default_rng(4)
    frame = QuatRigid(jnp.asarray(_random_quats(rng, 6)), jnp.asarray(rng.normal(size=(6, 3)), jnp.float32))
    update = jnp.asarray(rng.normal(size=(6, 6)) * 0.3, jnp.float32)
    updated = frame.pre_compose_update(update)
    local_quat = jnp.concatenate([jnp.ones((6, 1)), update[:, :3]], axis=-1)
    local_quat = local_quat / jnp.linalg.norm(local_quat, axis=-1, keepdims=True)
    expected = frame.to_rigid().compose(Rigid(quat_to_rot(local_quat), update[:, 3:]))
    np.testing.assert_allclose(np.asarray(updated.rot), np.asarray(expected.rot), atol=1e-5)
    np.testing.assert_allclose(np.asarray(updated.trans), np.asarray(expected.trans), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(updated.quat), axis=-1), 1.0, atol=1e-6)
    unchanged = frame.pre_compose_update(jnp.zeros((6, 6)))
    np.testing.assert_allclose(np.asarray(unchanged.to_tensor()), np.asarray(frame.to_tensor()), atol=1e-6)


def test_rigid_from_three_points_axes():
    neg_x, origin, xy = (jnp.asarray(p, jnp.float32) for p in ([-2.0, 1.0, 0.5], [1.0, 1.0, 0.5], [3.0, 4.0, 0.5]))
    frame = rigid_from_three_points(neg_x, origin, xy)
    np.testing.assert_allclose(np.asarray(frame.rot), np.eye(3), atol=1e-6)
    local = np.asarray(frame.apply_inverse(xy))
    assert abs(local[2]) < 1e-6 and local[1] > 0


def test_torsions_survive_frames_atoms_and_back():
    """Random torsions -> rigid-group frames -> atoms -> measured torsions (psi and chis)."""
    rng = np.random.default_rng(5)
    aatype = jnp.arange(20, dtype=jnp.int32)
    angles = rng.uniform(-np.pi, np.pi, size=(20, 7)).astype(np.float32)
    sin_cos = jnp.asarray(np.stack([np.sin(angles), np.cos(angles)], axis=-1))
    backbone = Rigid(quat_to_rot(jnp.asarray(_random_quats(rng, 20))), jnp.asarray(rng.normal(size=(20, 3)) * 20))
    @jax.jit
    def round_trip(aatype, backbone, sin_cos):
        frames = all_atom.torsion_angles_to_frames(aatype, backbone, sin_cos)
        atom14 = all_atom.frames_and_literature_positions_to_atom14_pos(aatype, frames)
        tables = all_atom.atom14_atom37_tables(aatype)
        atom37 = all_atom.atom14_to_atom37(atom14, tables["residx_atom37_to_atom14"], tables["atom37_atom_exists"])
        return all_atom.atom37_to_torsion_angles(aatype[None], atom37[None], tables["atom37_atom_exists"][None])

    measured = round_trip(aatype, backbone, sin_cos)
    mask = np.asarray(measured["torsion_angles_mask"][0])
    ours = np.asarray(measured["torsion_angles_sin_cos"][0])
    assert mask[:, 2].all() and mask[:, 3:].sum() == np.sum(constants.table("chi_angles_mask"))
    keep = mask[:, 2:] > 0                                       # psi, chi1..chi4
    np.testing.assert_allclose(ours[:, 2:][keep], np.asarray(sin_cos)[:, 2:][keep], atol=2e-4)


def test_atom14_atom37_tables_match_golden_inputs(af2_reference):
    with np.load(AF2_REFERENCE / "modules" / "atom14_atom37_conversion.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    tables = all_atom.atom14_atom37_tables(arrays["input/aatype"])
    for name in ("residx_atom14_to_atom37", "residx_atom37_to_atom14", "atom14_atom_exists", "atom37_atom_exists"):
        np.testing.assert_array_equal(np.asarray(tables[name]), arrays[f"input/{name}"], err_msg=name)


@pytest.mark.parametrize("num_bins,min_bin,max_bin", [(15, 3.25, 20.75), (39, 3.25, 50.75)])
def test_dgram_is_one_hot_and_bins_by_distance(num_bins, min_bin, max_bin):
    positions = jnp.asarray([[0.0, 0.0, 0.0], [0.0, 0.0, 5.0], [0.0, 60.0, 0.0], [1.0, 0.0, 0.0]], jnp.float32)
    dgram = np.asarray(all_atom.dgram_from_positions(positions, num_bins, min_bin, max_bin))
    assert dgram.shape == (4, 4, num_bins)
    edges = np.linspace(min_bin, max_bin, num_bins)
    assert dgram[0, 1].argmax() == np.searchsorted(edges, 5.0) - 1 and dgram[0, 1].sum() == 1
    assert dgram[0, 2, -1] == 1                                 # beyond the last edge: open-ended last bin
    assert dgram[0, 3].sum() == 0 and dgram[0, 0].sum() == 0    # closer than the first edge: no bin
