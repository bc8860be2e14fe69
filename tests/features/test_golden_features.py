"""Featurization goldens: raw text inputs -> features equal to AlphaFold2's."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.testing.cases_features import find_feature_cases, processed_feature_checks, raw_feature_checks
from foldkit.testing.compare import compare
from tests.conftest import AF2_REFERENCE

CASES = [
    (AF2_REFERENCE / "featurization", "feat_case1_model_3", "processed_features"),
    (AF2_REFERENCE / "featurization", "feat_case2_model_1", "processed_features"),
    (AF2_REFERENCE, "tiny_model_1_ptm", "features_deterministic"),
    (AF2_REFERENCE, "tiny_model_3", "features_deterministic"),
]


def _load(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_discovery_finds_all_cases(af2_reference):
    names = {n for n, _ in find_feature_cases(af2_reference / "featurization")}
    names |= {n for n, _ in find_feature_cases(af2_reference)}
    assert names == {c[1] for c in CASES}


@pytest.mark.parametrize("folder,name,suffix", CASES, ids=[c[1] for c in CASES])
def test_processed_features_match(af2_reference, folder, name, suffix):
    reference = _load(folder / f"{name}_{suffix}.npz")
    checks = processed_feature_checks(folder, name)
    assert {c.name for c in checks} == set(reference)
    for check in checks:
        assert check.ours.dtype == reference[check.name].dtype, check.name
        result = compare(check, reference[check.name])
        assert result.passed, (check.name, result)
        assert result.max_abs <= 1e-6


@pytest.mark.parametrize("folder,name,suffix", CASES, ids=[c[1] for c in CASES])
def test_raw_features_match(af2_reference, folder, name, suffix):
    reference = _load(folder / f"{name}_raw_features.npz")
    template_file = folder / f"{name}_raw_template_features.npz"
    if template_file.is_file():
        reference.update(_load(template_file))
    checks = raw_feature_checks(folder, name)
    for check in checks:
        ref = reference[check.name]
        assert check.ours.dtype == ref.dtype, check.name
        assert compare(check, ref).passed, check.name
    numeric = {k for k, v in reference.items() if v.dtype.kind != "U"}
    assert numeric <= {c.name for c in checks}


def test_golden_runner_features(af2_reference):
    import io

    from foldkit.testing.golden import run_all

    out = io.StringIO()
    passed, failed = run_all(af2_reference, "features", out=out)
    assert (passed, failed) == (4, 0), out.getvalue()


@pytest.mark.parametrize("folder,name,suffix", CASES, ids=[c[1] for c in CASES])
def test_raw_string_features_match(af2_reference, folder, name, suffix):
    from foldkit.testing.cases_features import build_raw_features

    reference = _load(folder / f"{name}_raw_features.npz")
    ours = build_raw_features(folder, name)
    for key in ("sequence", "msa_species_identifiers", "template_sequence", "template_domain_names"):
        if key in reference:
            assert ours[key].tolist() == reference[key].tolist(), key
