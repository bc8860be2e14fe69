"""The structure module's starting frames: AlphaFold2's identity, or an ideal α-helix."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from foldkit.model.initial_frames import backbone_frames, helix_backbone, helix_frames, initial_frames


def _relative(rot, trans, i, j):
    """Frame j expressed in frame i: (R_i^T R_j, R_i^T (t_j - t_i))."""
    return rot[i].T @ rot[j], rot[i].T @ (trans[j] - trans[i])


def test_screw_frames_equal_the_helix_built_atom_by_atom():
    ref_rot, ref_trans = backbone_frames(helix_backbone(12))
    frames = helix_frames(jnp.arange(12), position_scale=1.0)
    rot, trans = np.asarray(frames.rot, np.float64), np.asarray(frames.trans, np.float64)
    for i, j in ((0, 1), (0, 5), (3, 11), (7, 2)):
        r_ref, t_ref = _relative(ref_rot, ref_trans, i, j)
        r, t = _relative(rot, trans, i, j)
        np.testing.assert_allclose(r, r_ref, atol=1e-5)
        np.testing.assert_allclose(t, t_ref, atol=1e-4)


def test_helix_geometry_and_residue_numbers():
    frames = helix_frames(jnp.asarray([5, 6, 7, 8, 9, 10, 20]), position_scale=10.0)
    ca = np.asarray(frames.trans) * 10.0                                        # Å
    d = np.linalg.norm(ca[1:] - ca[:-1], axis=-1)
    np.testing.assert_allclose(d[:5], 3.80, atol=0.03)                         # consecutive CA
    assert 4.9 < np.linalg.norm(ca[3] - ca[0]) < 5.5                            # i, i+3 in an α-helix
    # a gap in the numbering skips helix positions: residue 20 sits 10 residues after residue 10
    np.testing.assert_allclose(abs(ca[6, 2] - ca[5, 2]), 10 * abs(ca[1, 2] - ca[0, 2]), rtol=1e-4)
    rot = np.asarray(frames.rot)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-5)


def test_identity_is_alphafolds_start_and_unknown_kinds_are_refused():
    frames = initial_frames("identity", 4, None, 10.0)
    np.testing.assert_array_equal(np.asarray(frames.trans), 0.0)
    np.testing.assert_array_equal(np.asarray(frames.quat)[:, 0], 1.0)
    with pytest.raises(ValueError, match="unknown initial_frames"):
        initial_frames("sheet", 4, None, 10.0)


def test_structure_module_with_zero_updates_outputs_the_helix():
    from foldkit.model.global_config import GlobalConfig
    from foldkit.model.structure import StructureModule
    from foldkit.model.structure_config import StructureModuleConfig

    config = StructureModuleConfig(num_layer=2, num_channel=16, num_head=2, initial_frames="helix")
    n = 9
    batch = {"aatype": jnp.zeros(n, jnp.int32), "seq_mask": jnp.ones(n), "residue_index": jnp.arange(n) + 3}

    def forward(single, pair):
        return StructureModule(config, GlobalConfig(zero_init=True, deterministic=True))(single, pair, batch)

    fn = hk.transform(forward)
    single, pair = jnp.ones((n, 8)), jnp.ones((n, n, 4))
    params = fn.init(jax.random.PRNGKey(0), single, pair)
    out = fn.apply(params, None, single, pair)
    ca = np.asarray(out["final_atom_positions"])[:, 1]                          # [N, 3] Å
    rot, trans = backbone_frames(helix_backbone(n))
    np.testing.assert_allclose(np.linalg.norm(ca[1:] - ca[:-1], axis=-1), 3.80, atol=0.03)
    pred_d = np.linalg.norm(ca[:, None] - ca[None], axis=-1)
    ref_d = np.linalg.norm(trans[:, None] - trans[None], axis=-1)
    np.testing.assert_allclose(pred_d, ref_d, atol=1e-3)
