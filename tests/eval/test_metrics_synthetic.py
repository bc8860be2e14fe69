"""Metric behaviour on constructed cases where the answer is known exactly."""

import numpy as np
import pytest

from foldkit import constants as rc
from foldkit.eval.gdt import gdt
from foldkit.eval.lddt import lddt
from foldkit.eval.rmsd import ca_rmsd
from foldkit.eval.tm import tm_d0, tm_score
from tests.eval.helpers import chain_ca, random_rotation


def moved(xyz, rng):
    return xyz @ random_rotation(rng).T + np.array([30.0, -12.0, 5.0])


def test_rigid_copy_scores_perfectly():
    rng = np.random.default_rng(3)
    native = chain_ca(120, rng)
    model = moved(native, rng)
    g = gdt(model, native)
    assert g.gdt_ts == 100.0 and g.gdt_ha == 100.0
    assert tm_score(model, native).tm_score == pytest.approx(1.0, abs=1e-12)
    assert ca_rmsd(model, native) < 1e-9


def test_gdt_finds_the_rigid_part_of_a_hinge():
    """Two halves moved rigidly against each other: each cutoff keeps at least the bigger half."""
    rng = np.random.default_rng(4)
    native = chain_ca(100, rng)
    model = native.copy()
    model[60:] = (model[60:] - model[60]) @ random_rotation(rng).T + model[60]   # hinge at residue 60
    g = gdt(moved(model, rng), native)
    for c in (0.5, 1.0, 2.0):
        assert g.counts[g.cutoffs.index(c)] >= 61
    assert g.percent_at(0.5) <= g.percent_at(1.0) <= g.percent_at(8.0)


def test_gdt_counts_missing_residues_as_misses():
    rng = np.random.default_rng(5)
    native = chain_ca(100, rng)
    g = gdt(moved(native, rng)[:80], native[:80], n_reference=100)
    assert g.gdt_ts == pytest.approx(80.0)


def test_gdt_shift_of_a_third():
    """Last third shifted 10 A: at tight cutoffs the two unshifted thirds fit exactly (as the perturbation set says)."""
    rng = np.random.default_rng(6)
    native = chain_ca(90, rng)
    model = native.copy()
    model[60:] += np.array([10.0, 0.0, 0.0])
    g = gdt(moved(model, rng), native)
    for c in (0.5, 1.0, 2.0):
        assert g.counts[g.cutoffs.index(c)] >= 60
    assert g.percent_at(0.5) == pytest.approx(100 * 60 / 90)   # nothing else can sit within 0.5 A


def test_tm_score_formula_on_a_fixed_superposition():
    """A pure translation of part of the chain: the search must reach at least the identity superposition."""
    rng = np.random.default_rng(7)
    native = chain_ca(150, rng)
    model = native + rng.normal(scale=0.8, size=native.shape)
    d0 = tm_d0(150)
    identity_tm = np.mean(1 / (1 + (np.linalg.norm(model - native, axis=1) / d0) ** 2))
    assert tm_score(moved(model, rng), native).tm_score >= identity_tm - 1e-9
    assert tm_d0(150) == pytest.approx(1.24 * 135 ** (1 / 3) - 1.8)
    assert tm_d0(10) == 0.5


def _atom37(n_res, rng, resname="ASP"):
    aatype = np.full(n_res, rc.aatype_of(resname))
    pos = np.zeros((n_res, 37, 3))
    mask = np.zeros((n_res, 37))
    ca = chain_ca(n_res, rng)
    for name in rc.residue_atoms(resname):
        i = rc.ATOM_ORDER[name]
        pos[:, i] = ca + rng.normal(scale=1.2, size=ca.shape)
        mask[:, i] = 1
    return aatype, pos, mask


def test_lddt_exact_cases_and_symmetric_names():
    rng = np.random.default_rng(8)
    aatype, pos, mask = _atom37(40, rng)
    moved_pos = pos @ random_rotation(rng).T + 3.0
    assert lddt(moved_pos, mask, pos, mask, aatype).score == 1.0
    assert lddt(moved_pos, mask, pos, mask, aatype, ca_only=True).score == 1.0
    swapped = moved_pos.copy()
    od1, od2 = rc.ATOM_ORDER["OD1"], rc.ATOM_ORDER["OD2"]
    swapped[:, [od1, od2]] = swapped[:, [od2, od1]]
    assert lddt(swapped, mask, pos, mask, aatype).score == 1.0                      # naming resolved
    assert lddt(swapped, mask, pos, mask, aatype, resolve_symmetry=False).score < 0.99


def test_lddt_missing_atoms_and_residues_are_not_conserved():
    rng = np.random.default_rng(9)
    aatype, pos, mask = _atom37(30, rng)
    partial = mask.copy()
    partial[:10] = 0                                            # first 10 residues absent from the model
    result = lddt(pos, partial, pos, mask, aatype)
    assert 0.0 < result.score < 1.0
    assert np.all(result.per_residue[:10] == 0.0)
    assert np.all(result.per_residue[10:] > 0.0)
    # every pair with one end in the missing part is lost: the score is the fraction of intact pairs
    both_present = lddt(pos[10:], mask[10:], pos[10:], mask[10:], aatype[10:])
    assert result.n_conserved == both_present.n_conserved


def test_lddt_precomputed_native_pairs_give_the_same_result():
    from foldkit.eval.lddt import native_pairs

    rng = np.random.default_rng(10)
    aatype, pos, mask = _atom37(25, rng, resname="PHE")
    model = pos + rng.normal(scale=0.7, size=pos.shape)
    direct = lddt(model, mask, pos, mask, aatype)
    reused = lddt(model, mask, aatype=aatype, reference=native_pairs(pos, mask))
    assert direct.n_pairs == reused.n_pairs and direct.n_conserved == reused.n_conserved
    np.testing.assert_array_equal(direct.per_residue, reused.per_residue)


def test_lddt_pair_list_and_counts_equal_a_brute_force_loop():
    """Native pairs (incl. residues without atoms) and per-residue counts vs a plain double loop."""
    from foldkit.eval.lddt import native_pairs

    rng = np.random.default_rng(12)
    aatype, pos, mask = _atom37(36, rng, resname="GLU")
    mask[[5, 17]] = 0                                            # residues with no native atoms
    model = pos + rng.normal(scale=0.9, size=pos.shape)
    model_mask = mask.copy()
    model_mask[rng.random(mask.shape) < 0.1] = 0                 # scattered missing model atoms
    reference = native_pairs(pos, mask)
    res, atom = np.nonzero(mask > 0)
    xyz = pos[res, atom].astype(np.float32)
    expected = {(i, j) for i in range(len(res)) for j in range(i + 1, len(res))
                if res[i] != res[j] and np.linalg.norm(xyz[i] - xyz[j]) < 15.0}
    assert {tuple(p) for p in reference.pairs.tolist()} == expected
    assert len(reference.pairs) == len(expected)
    sizes = np.diff(reference.block_start)
    assert sizes.min() > 0 and sizes.sum() == len(expected)
    for (r, s), first, size in zip(reference.block_residues, reference.block_start, sizes):
        block = reference.pairs[first:first + size]
        assert r < s and (res[block[:, 0]] == r).all() and (res[block[:, 1]] == s).all()
    # per-residue conserved fraction, without symmetry resolution, by hand
    good, total = np.zeros(36), np.zeros(36)
    present = model_mask[res, atom] > 0
    for i, j in expected:
        d_native = np.linalg.norm(xyz[i] - xyz[j])
        d_model = np.linalg.norm(model[res[i], atom[i]].astype(np.float32) - model[res[j], atom[j]].astype(np.float32))
        kept = sum(abs(d_model - d_native) < t for t in (0.5, 1.0, 2.0, 4.0)) if present[i] and present[j] else 0
        for r in (res[i], res[j]):
            good[r] += kept
            total[r] += 4
    result = lddt(model, model_mask, aatype=aatype, reference=reference, resolve_symmetry=False)
    assert result.n_conserved == good.sum() / 2
    np.testing.assert_allclose(result.per_residue, np.where(total > 0, good / np.maximum(total, 1), np.nan))
