"""Training data: shard loading, backbone-only chains, deterministic crops and examples."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.train.config import DataSettings
from foldkit.train.data import MsaStore, TrainData, contiguous_crop, load_chains, spatial_crop
from tests.conftest import TRAIN_DIR


@pytest.fixture(scope="module")
def chains():
    return load_chains(TRAIN_DIR, "valid", limit=12)


def test_chains_and_backbone_only_atoms(chains):
    assert len(chains) == 12
    backbone_only = [c for c in chains if not c.full_atom]
    assert backbone_only
    _, mask = backbone_only[0].atom37()
    assert set(np.flatnonzero(mask.max(axis=0))) == {0, 1, 2, 4}
    full = next((c for c in load_chains(TRAIN_DIR, "valid", limit=80) if c.full_atom), None)
    assert full is not None and full.atom37()[1][:, 5:].sum() > 0
    assert all(set(c.sequence) <= set("ARNDCQEGHILKMFPSTWYVX") for c in chains)


def test_bad_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="shard_index.tsv"):
        load_chains(tmp_path, "train")


def test_crops():
    rng = np.random.default_rng(0)
    window = contiguous_crop(100, 32, rng)
    assert len(window) == 32 and np.all(np.diff(window) == 1)
    assert np.array_equal(contiguous_crop(20, 32, rng), np.arange(20))
    ca = np.stack([np.arange(100.0) * 3.8, np.zeros(100), np.zeros(100)], axis=-1)
    mask = np.ones(100)
    picked = spatial_crop(ca, mask, 10, np.random.default_rng(1))
    assert len(picked) == 10 and np.all(np.diff(picked) == 1)     # nearest CAs of a straight line: a window
    mask[:50] = 0
    assert spatial_crop(ca, mask, 10, np.random.default_rng(2)).min() >= 40


def test_examples_are_deterministic_for_a_seed(chains):
    settings = DataSettings(max_msa_clusters=8, max_extra_msa=8)
    msas = MsaStore(TRAIN_DIR)
    first = TrainData(chains, msas, settings, crop_size=32, num_recycle=1, seed=5)
    again = TrainData(chains, msas, settings, crop_size=32, num_recycle=1, seed=5)
    other = TrainData(chains, msas, settings, crop_size=32, num_recycle=1, seed=6)
    a, b = first.batch(3, 2), again.batch(3, 2)
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = other.batch(3, 2)
    assert any(not np.array_equal(a[k], c[k]) for k in ("aatype", "atom37_positions", "bert_mask"))
    assert a["msa_feat"].shape == (2, 2, 8, 32, 49)                   # batch, recycles, clusters, crop, 49
    assert a["atom37_positions"].shape == (2, 32, 37, 3)
    # padding rows carry no targets
    padded = a["seq_mask"][:, 0] == 0
    assert a["atom37_mask"][padded].sum() == 0


def test_unclamped_start_only_changes_the_fape_flag(chains):
    settings = DataSettings(max_msa_clusters=4, max_extra_msa=4, use_msa=False)
    msas = MsaStore(TRAIN_DIR, False)
    plain = TrainData(chains, msas, settings, crop_size=32, num_recycle=0, seed=1, fape_clamp_fraction=1.0)
    warm = TrainData(chains, msas, settings, crop_size=32, num_recycle=0, seed=1, fape_clamp_fraction=1.0,
                     unclamped_examples=6)
    a, b = plain.batch(0, 10), warm.batch(0, 10)
    np.testing.assert_array_equal(a["use_clamped_fape"], np.ones(10))
    np.testing.assert_array_equal(b["use_clamped_fape"], [0] * 6 + [1] * 4)
    for key in a:
        if key != "use_clamped_fape":
            np.testing.assert_array_equal(a[key], b[key])
