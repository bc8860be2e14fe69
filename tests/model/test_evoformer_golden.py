"""Evoformer-family modules against the reference golden vectors, chunking off and on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from foldkit.testing.cases_evoformer import CASES, haiku_params, init_param_shapes
from foldkit.testing.compare import Kind, OutputCheck, compare
from tests.conftest import AF2_REFERENCE

MODULES_DIR = AF2_REFERENCE / "modules"


def _load(name: str) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(MODULES_DIR / f"{name}.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = json.loads((MODULES_DIR / f"{name}.json").read_text())
    return arrays, meta


def test_cases_cover_index(af2_reference):
    index = json.loads((MODULES_DIR / "index.json").read_text())
    assert set(CASES) <= set(index)


@pytest.mark.parametrize("chunk_size", [None, 2, 4], ids=["nochunk", "chunk2", "chunk4"])
@pytest.mark.parametrize("case_name", sorted(CASES))
def test_golden(case_name, chunk_size, af2_reference):
    arrays, meta = _load(case_name)
    checks = CASES[case_name](arrays, meta, chunk_size)
    expected = sorted(key for key in arrays if key.startswith("output/"))
    assert sorted(check.name for check in checks) == expected
    failures = []
    for check in checks:
        result = compare(check, arrays[check.name])
        print(f"{case_name} chunk={chunk_size} {check.name}: max_abs={result.max_abs:.2e} "
              f"max_rel={result.max_rel:.2e} {'PASS' if result.passed else 'FAIL'}")
        if not result.passed:
            failures.append(result)
    assert not failures, failures


def test_outer_product_mean_well_conditioned_entries(af2_reference):
    """Away from padded residues (ill-conditioned bias/1e-3), OPM agrees tightly."""
    arrays, meta = _load("outer_product_mean")
    (check,) = CASES["outer_product_mean"](arrays, meta, None)
    mask = arrays["input/msa_mask"]
    shared = (mask.T @ mask) > 0                                        # [L, L]
    result = compare(OutputCheck(check.name, check.ours, Kind.ACTIVATION, shared[..., None]),
                     arrays[check.name])
    print(f"outer_product_mean well-conditioned: max_abs={result.max_abs:.2e}")
    assert result.passed and result.max_abs < 1e-4


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_init_matches_golden_parameter_tree(case_name, af2_reference):
    """foldkit's init yields exactly the golden file's parameter keys and shapes."""
    arrays, meta = _load(case_name)
    reference = {path: {p: tuple(v.shape) for p, v in bundle.items()}
                 for path, bundle in haiku_params(arrays).items()}
    assert init_param_shapes(case_name, arrays, meta) == reference
