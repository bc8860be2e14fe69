"""Ground truth from atoms recovers the frames and torsions the atoms were built from."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from foldkit import constants as rc
from foldkit.train.ground_truth import ground_truth
from tests.train.helpers import ideal_structure

ALL_TYPES = np.arange(20)


@pytest.fixture(scope="module")
def built():
    structure = ideal_structure(np.concatenate([ALL_TYPES, ALL_TYPES[::-1]]), seed=3)
    gt = ground_truth(jnp.asarray(structure["aatype"]), jnp.asarray(structure["atom37"]),
                      jnp.asarray(structure["atom37_mask"]), jnp.float32(1.0))
    return structure, {k: np.asarray(v) for k, v in gt.items()}


def test_backbone_frames_match_the_frames_that_built_the_atoms(built):
    structure, gt = built
    np.testing.assert_allclose(gt["backbone_rot"], structure["backbone_rot"], atol=2e-5)
    np.testing.assert_allclose(gt["backbone_trans"], structure["backbone_trans"], atol=2e-5)
    assert gt["backbone_mask"].min() == 1.0


def test_rigid_group_frames_match_where_they_exist(built):
    structure, gt = built
    exists = gt["rigidgroups_exists"] > 0                                      # [L, 8]
    assert exists[:, [0, 3]].all() and not exists[:, [1, 2]].any()
    # chi groups exist exactly where the residue type has the chi
    chi_mask = np.asarray(rc.table("chi_angles_mask"))[structure["aatype"]]
    np.testing.assert_array_equal(exists[:, 4:], chi_mask > 0)
    np.testing.assert_allclose(gt["rigidgroups_rot"][exists], structure["group_rot"][exists], atol=5e-5)
    np.testing.assert_allclose(gt["rigidgroups_trans"][exists], structure["group_trans"][exists], atol=5e-5)


def test_torsions_match_the_built_torsions(built):
    structure, gt = built
    mask = gt["torsion_angles_mask"] > 0
    mask[0, :2] = False            # omega/phi of the first residue use a missing predecessor
    # omega and phi use the previous residue, which was built with its own frame: skip them
    chi = mask.copy()
    chi[:, :3] = False
    assert chi.any()
    np.testing.assert_allclose(gt["torsion_angles_sin_cos"][chi], structure["sin_cos"][chi], atol=1e-4)
    psi = mask[:, 2]
    np.testing.assert_allclose(gt["torsion_angles_sin_cos"][psi, 2], structure["sin_cos"][psi, 2], atol=1e-4)


def test_pseudo_beta_of_backbone_only_chain_is_the_ideal_cb(built):
    structure, _ = built
    backbone_mask = np.zeros_like(structure["atom37_mask"])
    backbone_mask[:, [0, 1, 2, 4]] = 1.0
    full = ground_truth(jnp.asarray(structure["aatype"]), jnp.asarray(structure["atom37"]),
                        jnp.asarray(structure["atom37_mask"]), jnp.float32(1.0))
    bb_only = ground_truth(jnp.asarray(structure["aatype"]), jnp.asarray(structure["atom37"]),
                           jnp.asarray(backbone_mask), jnp.float32(0.0))
    # the atoms are ideal, so the rebuilt CB equals the real one
    np.testing.assert_allclose(bb_only["pseudo_beta"], full["pseudo_beta"], atol=1e-4)
    assert float(bb_only["pseudo_beta_mask"].min()) == 1.0
    # no side-chain targets survive for the backbone-only chain
    assert float(bb_only["torsion_angles_mask"][:, 3:].max()) == 0.0
    assert float(bb_only["rigidgroups_exists"][:, 4:].max()) == 0.0
