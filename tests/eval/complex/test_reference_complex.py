"""foldkit's complex scores against OpenStructure 2.10, DockQ 2.1.3 and US-align on ../shared/scoring/complex.

The default suite checks a subset covering every kind of case; ``-m slow`` checks all 40 pairs and prints the
largest deviation of every quantity (the figures of the report). Tolerances: the README's table
(tests/eval/complex/reference_complex.py).
"""

import pytest

from tests.eval.complex.checks import check_pair
from tests.eval.complex.reference_complex import FAST_PAIRS, Deviations, reference_rows, scored


@pytest.mark.parametrize("pair_id", FAST_PAIRS)
def test_pair_within_tolerances(scoring_dir, pair_id):
    failures, same_mapping = check_pair(scored(pair_id), Deviations())
    assert not failures, "\n".join(failures)
    assert same_mapping


def test_fast_subset_is_in_the_reference():
    assert set(FAST_PAIRS) <= set(reference_rows())
    assert len(reference_rows()) == 40


@pytest.mark.slow
def test_all_pairs_within_tolerances(scoring_dir, capsys):
    deviations = Deviations()
    failures, identical = [], 0
    for pair_id in reference_rows():
        pair_failures, same = check_pair(scored(pair_id), deviations)
        failures += pair_failures
        identical += same
    with capsys.disabled():
        print(f"\nchain mapping identical to OpenStructure 2.10: {identical}/{len(reference_rows())}")
        print(deviations.table())
    assert not failures, "\n".join(failures)
    assert identical == len(reference_rows())
