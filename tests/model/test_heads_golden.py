"""Golden tests: output heads, confidence metrics, lDDT and FAPE vs the AlphaFold2 reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from foldkit.testing.cases_heads import CASES
from foldkit.testing.compare import compare
from tests.conftest import AF2_REFERENCE


def _load_case(name: str) -> tuple[dict[str, np.ndarray], dict]:
    modules = AF2_REFERENCE / "modules"
    with np.load(modules / f"{name}.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    case = json.loads((modules / f"{name}.json").read_text())
    return arrays, case


@pytest.mark.parametrize("chunk_size", [None, 4])
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_case(name, chunk_size, af2_reference):
    arrays, case = _load_case(name)
    checks = CASES[name](arrays, case, chunk_size)
    expected = sorted(key for key in arrays if key.startswith("output/"))
    assert sorted(check.name for check in checks) == expected, "every reference output is checked"
    failures = []
    for check in checks:
        result = compare(check, arrays[check.name])
        print(f"{name} {check.name}: max_abs={result.max_abs:.3g} max_rel={result.max_rel:.3g} "
              f"{'PASS' if result.passed else 'FAIL'} {result.detail}")
        if not result.passed:
            failures.append(result)
    assert not failures, failures


def test_cases_are_in_reference_index(af2_reference):
    index = json.loads((af2_reference / "modules" / "index.json").read_text())
    assert set(CASES) <= set(index)
