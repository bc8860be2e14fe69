"""foldkit relax on AlphaFold v2.3.2's relax reference structures, within the README's tolerances.

Default: the 5-residue fragment and one 73-residue CASP14 model (~10 s). ``-m slow``: all 17 cases, each
printing a ``RELAX_ROW`` line (markdown) for the per-case report.
"""

from __future__ import annotations

import json

import pytest

from tests.relax.reference_cases import case_failures, case_figures, reference_rows, table_row

FAST_CASES = ("af_model_output", "casp_T1084")
ALL_CASES = tuple(reference_rows())


def _check(case: str, tmp_path) -> None:
    figures = case_figures(case, tmp_path)
    print("RELAX_FIGURES " + json.dumps(figures))
    print("RELAX_ROW | " + " | ".join(table_row(case, figures)) + " |")
    failures = case_failures(case, figures)
    assert not failures, f"{case}: " + "; ".join(failures)


@pytest.mark.parametrize("case", FAST_CASES)
def test_small_reference_cases(case, tmp_path):
    _check(case, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in ALL_CASES if c not in FAST_CASES])
def test_every_reference_case(case, tmp_path):
    _check(case, tmp_path)

