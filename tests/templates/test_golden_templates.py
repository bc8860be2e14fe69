"""Template features and hit decisions equal AlphaFold2 v2.3.2's on the pipeline reference cases.

Featurizes the stored search outputs (``pdb_hits.hhr`` / ``pdb_hits.sto``) with the miniature data
directory and compares with the stored raw features (dtype and shape included; strings, integers,
masks and sum_probs exactly, coordinates to 1e-4) and with the case's template_processing_log.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.templates.cases import (MONOMER_CASES, MULTIMER_CASES, TEMPLATE_KEYS, case_json, fasta_sequences,
                                   featurizer_for, multimer_chains, pipeline_dir, requires_binary)

REALIGNED_CASES = {"mono_full_templates", "mono_reduced_datefilter"}   # 0ncb_H -> 1ncb_H needs kalign


def assert_template_features_equal(features: dict, reference, label: str) -> None:
    assert set(TEMPLATE_KEYS) <= set(features), f"{label}: missing keys {set(TEMPLATE_KEYS) - set(features)}"
    for key in TEMPLATE_KEYS:
        mine, expected = features[key], reference[key]
        assert mine.dtype == expected.dtype, f"{label} {key}: dtype {mine.dtype} != {expected.dtype}"
        assert mine.shape == expected.shape, f"{label} {key}: shape {mine.shape} != {expected.shape}"
        if key == "template_all_atom_positions":
            np.testing.assert_allclose(mine, expected, atol=1e-4, rtol=0, err_msg=f"{label} {key}")
        else:
            np.testing.assert_array_equal(mine, expected, err_msg=f"{label} {key}")


@pytest.mark.parametrize("case", MONOMER_CASES)
def test_monomer_templates_from_stored_hhr(af2_reference, case):
    if case in REALIGNED_CASES:
        requires_binary("kalign")
    case_dir = pipeline_dir(af2_reference) / case
    (query,) = fasta_sequences(case_dir / "input.fasta")
    hhr = case_dir / "msas" / "pdb_hits.hhr"
    result = featurizer_for(case_dir).from_hhr(query, hhr.read_text(), hhr)
    reference = np.load(case_dir / "raw_features.npz")
    assert_template_features_equal(result.features, reference, case)
    assert result.num_templates == len(reference["template_domain_names"])
    assert result.log == case_json(case_dir)["template_processing_log"]


@pytest.mark.parametrize("case", MULTIMER_CASES)
def test_multimer_templates_from_stored_sto(af2_reference, case):
    case_dir = pipeline_dir(af2_reference) / case
    featurizer = featurizer_for(case_dir)
    log = []
    for chain, sequence in multimer_chains(case_dir):
        sto = case_dir / "msas" / chain / "pdb_hits.sto"
        result = featurizer.from_hmmsearch_sto(sequence, sto.read_text(), sto)
        reference = np.load(case_dir / f"chain_{chain}_raw_features.npz")
        assert_template_features_equal(result.features, reference, f"{case} chain {chain}")
        log.extend(result.log)
    assert log == case_json(case_dir)["template_processing_log"]


def test_decisions_name_each_outcome(af2_reference):
    requires_binary("kalign")
    case_dir = pipeline_dir(af2_reference) / "mono_reduced_datefilter"
    (query,) = fasta_sequences(case_dir / "input.fasta")
    result = featurizer_for(case_dir).from_hhr(query, (case_dir / "msas" / "pdb_hits.hhr").read_text())
    by_hit = {(d.index, d.name.split()[0]): d for d in result.decisions}
    assert by_hit[(1, "1ncb_L")].reason.startswith("prefilter: Template is an exact subsequence")
    assert by_hit[(3, "0lgt_L")].reason == "obsolete (removed)"
    kept = [d for d in result.decisions if d.kept]
    assert [(d.name.split()[0], d.template, d.reason) for d in kept] == [("0ncb_H", "1ncb_H", "kept (realigned)")]
    assert sum(d.reason == "date" for d in result.decisions) == 3


def test_homodimer_second_chain_dropped_as_duplicate(af2_reference):
    case_dir = pipeline_dir(af2_reference) / "multi_homo_2copies"
    ((chain, sequence),) = multimer_chains(case_dir)
    result = featurizer_for(case_dir).from_hmmsearch_sto(
        sequence, (case_dir / "msas" / chain / "pdb_hits.sto").read_text())
    reasons = {d.name: d.reason for d in result.decisions}
    assert reasons["1k6p_B"] == "duplicate template_sequence"
    assert list(result.features["template_domain_names"]) == ["1k6p_A", "1o1z_A", "5zng_C"]


def test_max_hits_limits_kept_templates(af2_reference):
    requires_binary("kalign")
    case_dir = pipeline_dir(af2_reference) / "mono_full_templates"
    (query,) = fasta_sequences(case_dir / "input.fasta")
    result = featurizer_for(case_dir, max_hits=2).from_hhr(query, (case_dir / "msas" / "pdb_hits.hhr").read_text())
    assert result.num_templates == 2
    assert list(result.features["template_domain_names"]) == ["1igy_B", "1ncb_H"]
    assert result.features["template_aatype"].shape == (2, len(query), 22)


def test_featurizer_caches_mmcif_across_queries(af2_reference):
    case_dir = pipeline_dir(af2_reference) / "multi_hetero_2chain"
    featurizer = featurizer_for(case_dir)
    for chain, sequence in multimer_chains(case_dir):
        featurizer.from_hmmsearch_sto(sequence, (case_dir / "msas" / chain / "pdb_hits.sto").read_text())
    cached = len(featurizer.cache)
    for chain, sequence in multimer_chains(case_dir):
        featurizer.from_hmmsearch_sto(sequence, (case_dir / "msas" / chain / "pdb_hits.sto").read_text())
    assert cached == len(featurizer.cache) == 4    # 5zng 4i39 5ugo 3o5r (1o1z, 5h73 fail the prefilter)


def test_no_template_features_match_both_empty_conventions(af2_reference):
    from foldkit.templates import no_template_features

    reference = np.load(pipeline_dir(af2_reference) / "mono_no_templates" / "raw_features.npz")
    assert_template_features_equal(no_template_features(168), reference, "no templates")
    zero = no_template_features(168, zero_template=True)
    assert zero["template_all_atom_positions"].shape == (1, 168, 37, 3) and zero["template_sum_probs"].shape == (1,)
