"""Seeded-random processing, padding, masking and clustering properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from foldkit.features import msa_transforms as mt
from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features, make_sequence_features, species_id
from foldkit.io.msa_files import Msa, read_a3m
from tests.conftest import AF2_REFERENCE

QUERY = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPIL"


@pytest.fixture(scope="module")
def raw():
    msa = read_a3m(AF2_REFERENCE / "tiny_model_3_msa.a3m", query_sequence=QUERY)
    return make_raw_features(QUERY, [msa], "tiny")


def small_config(**changes) -> FeatureConfig:
    base = FeatureConfig(max_msa_clusters=8, max_extra_msa=16, max_templates=0, num_recycle=1)
    return dataclasses.replace(base, **changes)


def test_same_seed_same_features_other_seed_differs(raw):
    config = small_config()
    first = process_features(raw, config, seed=7)
    again = process_features(raw, config, seed=7)
    other = process_features(raw, config, seed=8)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["msa_feat"], other["msa_feat"])
    # batch slices are resampled: recycling iterations see different clusters
    assert not np.array_equal(first["true_msa"][0], first["true_msa"][1])


def test_query_always_first_cluster(raw):
    features = process_features(raw, small_config(), seed=3)
    query = raw["msa"][0]
    for b in range(features["true_msa"].shape[0]):
        ours = features["true_msa"][b, 0]
        assert np.array_equal(ours, features["aatype"][b])
    assert query.shape == (len(QUERY),)


def test_deterministic_mode_is_seed_independent(raw):
    config = small_config().deterministic()
    a = process_features(raw, config, seed=0)
    b = process_features(raw, config, seed=12345)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not a["bert_mask"].any()
    np.testing.assert_array_equal(a["true_msa"][0], a["true_msa"][1])


def test_bert_masking_fraction_and_true_msa(raw):
    features = process_features(raw, small_config(masked_msa_replace_fraction=0.5), seed=1)
    mask = features["bert_mask"][features["msa_row_mask"] > 0]
    assert 0.35 < mask.mean() < 0.65
    corrupted = np.argmax(features["msa_feat"][..., :23], axis=-1)
    unmasked = features["bert_mask"] == 0
    np.testing.assert_array_equal(corrupted[unmasked], features["true_msa"][unmasked])
    assert (corrupted[features["bert_mask"] > 0] == 22).mean() > 0.5  # 70 % mask token


def test_padding_to_length_bucket(raw):
    features = process_features(raw, small_config(crop_size=48).deterministic(), seed=0)
    unpadded = process_features(raw, small_config().deterministic(), seed=0)
    assert features["msa_feat"].shape == (2, 8, 48, 49)
    assert features["extra_msa"].shape == (2, 16, 48)
    assert features["seq_mask"][0, :37].all() and not features["seq_mask"][0, 37:].any()
    assert features["seq_length"][0] == 37
    np.testing.assert_array_equal(features["msa_feat"][:, :, :37], unpadded["msa_feat"])
    with pytest.raises(ValueError):
        process_features(raw, small_config(crop_size=20), seed=0)


def test_cluster_profile_sums_to_one_and_matches_brute_force(raw):
    rng = np.random.default_rng(0)
    block = {"msa": rng.integers(0, 22, (12, 9)).astype(np.int32),
             "deletion_matrix": rng.integers(0, 4, (12, 9)).astype(np.float32),
             "msa_mask": np.ones((12, 9), np.float32), "msa_row_mask": np.ones(12, np.float32)}
    clusters, extra = mt.sample_msa(block, 4, rng, shuffle=True)
    assignment = mt.nearest_neighbor_clusters(clusters, extra)
    for e, row in enumerate(extra["msa"]):
        agreement = [(row == c).sum() - ((row == c) & (c >= 21)).sum() for c in clusters["msa"]]
        assert assignment[e] == int(np.argmax(agreement))
    profile, deletion_mean = mt.summarize_clusters(clusters, extra, assignment)
    np.testing.assert_allclose(profile.sum(-1), 1.0, atol=1e-5)
    for c in range(4):
        members = np.concatenate([clusters["deletion_matrix"][c:c + 1], extra["deletion_matrix"][assignment == c]])
        np.testing.assert_allclose(deletion_mean[c], members.mean(0), rtol=1e-5)


def test_single_sequence_and_templates_padding():
    raw = make_raw_features(QUERY, [Msa.single_sequence(QUERY)])
    config = FeatureConfig(max_msa_clusters=6, max_extra_msa=4, max_templates=2, num_recycle=0,
                           use_templates=True, reduce_msa_clusters_by_max_templates=True)
    features = process_features(raw, config, seed=0)
    assert features["msa_feat"].shape == (1, 4, 37, 49)
    assert features["msa_row_mask"][0].tolist() == [1, 0, 0, 0]
    assert features["template_mask"].shape == (1, 2) and not features["template_mask"].any()
    assert features["extra_msa_row_mask"].sum() == 0


def test_sequence_features_and_species():
    features = make_sequence_features("ACDXZ", "q")
    assert features["aatype"].shape == (5, 21) and features["aatype"].dtype == np.int32
    assert features["aatype"][3, 20] == 1 and features["aatype"][4, 20] == 1
    assert species_id("tr|A0A146SKV9|A0A146SKV9_FUNHE/12-100 desc") == "FUNHE"
    assert species_id("sp|P69905|HBA_HUMAN") == "HUMAN"
    assert species_id("UniRef100_Q1R1SB/1-29") == ""


def test_feature_config_from_reference(af2_reference):
    config = FeatureConfig.from_json(af2_reference / "config_model_1.json")
    assert config.num_clusters == 508 and config.max_extra_msa == 5120 and config.use_templates
    assert config.num_batch == 4
    config3 = FeatureConfig.from_json(af2_reference / "config_model_3.json")
    assert config3.num_clusters == 512 and not config3.use_templates


def test_featurize_one_call(raw):
    from foldkit.features.process import featurize

    msa = read_a3m(AF2_REFERENCE / "tiny_model_3_msa.a3m", query_sequence=QUERY)
    config = small_config().deterministic()
    ours = featurize(QUERY, [msa], config, description="tiny")
    expected = process_features(raw, config)
    for key in expected:
        np.testing.assert_array_equal(ours[key], expected[key])
