"""foldkit's scores against the official CASP14 numbers and the reference tools (../shared).

Official rows: ../shared/casp/official_scores.csv (LGA GDT, TM-score, CASP lDDT);
tool rows: ../shared/scoring/reference_scores.csv (LGA, TMscore, OpenStructure lddt),
including the perturbation set that reaches down to GDT_TS ~ 25.
"""

import numpy as np
import pytest

from tests.eval.reference_pairs import FAST_PERTURBED_BASES, deviations, scored_pairs


@pytest.fixture(scope="module")
def pairs(shared_dir):
    return scored_pairs(FAST_PERTURBED_BASES)


@pytest.fixture(scope="module")
def all_pairs(shared_dir):
    return scored_pairs(None)


@pytest.fixture(scope="module")
def official(pairs):
    rows = [p for p in pairs if p.official is not None]
    assert len(rows) == 74          # 77 CASP pairs, 3 whole-target files of single-domain targets unscored
    return rows


@pytest.fixture(scope="module")
def perturbed(pairs):
    rows = [p for p in pairs if p.reference["set"] == "shared-perturbed"]
    assert len(rows) == 12 * len(FAST_PERTURBED_BASES)
    return rows


def _official(key):
    return lambda p: float(p.official[key])


def _reference(key):
    return lambda p: float(p.reference[key])


def test_gdt_ts_matches_official(official):
    d = np.abs(deviations(official, lambda p: p.scores.gdt_ts, _official("gdt_ts")))
    assert (d <= 0.5).mean() >= 0.95
    assert d.max() <= 1.0


def test_gdt_ha_close_to_official(official):
    """What the search achieves today: LGA's own search finds fewer residues at 0.5 A than ours."""
    d = deviations(official, lambda p: p.scores.gdt_ha, _official("gdt_ha"))
    assert (np.abs(d) <= 0.5).mean() >= 0.78
    assert (np.abs(d) <= 1.0).mean() >= 0.97
    assert np.abs(d).max() <= 2.5
    assert abs(d.mean()) <= 0.35


@pytest.mark.xfail(strict=True, reason="GDT_HA target of issue 3 not reached: LGA's 0.5 A counts are lower "
                                       "than the maximum this search finds on some models and higher on others; no "
                                       "seed/radius/iteration rule tried reproduces them (see benchmarks/RESULTS.md)")
def test_gdt_ha_target_of_the_issue(official):
    d = np.abs(deviations(official, lambda p: p.scores.gdt_ha, _official("gdt_ha")))
    assert (d <= 0.5).mean() >= 0.95 and d.max() <= 1.0


def test_tm_score_matches_official(official):
    d = np.abs(deviations(official, lambda p: p.scores.tm_score, _official("tm")))
    assert (d <= 0.01 + 1e-9).mean() >= 0.95
    assert d.max() <= 0.0105       # official has two decimals


def test_ca_rmsd_matches_official(official):
    d = np.abs(deviations(official, lambda p: p.scores.rmsd_ca, _official("rmsd")))
    assert d.max() <= 0.05


def test_lddt_matches_official(official):
    """CASP14 lDDT (two decimals, with stereochemical filtering) vs ours (no filtering)."""
    d = np.abs(deviations(official, lambda p: p.scores.lddt, _official("lddt")))
    assert d.max() <= 0.012
    assert d.mean() <= 0.005


@pytest.mark.parametrize("subset", ["casp", "perturbed"])
def test_against_reference_tools(pairs, subset):
    _check_against_tools([p for p in pairs if (p.reference["set"] == "shared") == (subset == "casp")])


@pytest.mark.slow
def test_all_perturbations_against_reference_tools(all_pairs):
    rows = [p for p in all_pairs if p.reference["set"] == "shared-perturbed"]
    assert len(rows) == 96
    _check_against_tools(rows)
    rigid = [p for p in rows if p.reference["model_file"].endswith("__rigid.pdb")]
    assert len(rigid) == 8 and all(p.scores.gdt_ts == 100.0 and p.scores.lddt == 1.0 for p in rigid)


def _check_against_tools(rows):
    ts = np.abs(deviations(rows, lambda p: p.scores.gdt_ts, _reference("lga_gdt_ts")))
    ha = np.abs(deviations(rows, lambda p: p.scores.gdt_ha, _reference("lga_gdt_ha")))
    assert (ts <= 0.5).mean() >= 0.85 and ts.max() <= 1.1     # 1 residue of 71 is 0.35 GDT
    assert (ha <= 1.0).mean() >= 0.97 and ha.max() <= 2.5
    tm = np.abs(deviations(rows, lambda p: p.scores.tm_score, _reference("tmscore_tm")))
    assert tm.max() <= 0.003
    rmsd = np.abs(deviations(rows, lambda p: p.scores.rmsd_ca, _reference("lga_rmsd")))
    assert rmsd.max() <= 0.02          # LGA works in single precision (0.016 A on rigid copies)
    lddt_all = np.abs(deviations(rows, lambda p: p.scores.lddt, _reference("lddt_allatom")))
    lddt_ca = np.abs(deviations(rows, lambda p: p.scores.lddt_ca, _reference("lddt_ca")))
    assert lddt_all.max() <= 5e-4      # OpenStructure lddt (4-decimal CSV)
    assert lddt_ca.max() <= 1e-4
    n_common = [p.scores.n_common - int(p.reference["n_common_residues"]) for p in rows]
    assert not any(n_common)


def test_exact_cases(perturbed):
    rigid = [p for p in perturbed if p.reference["model_file"].endswith("__rigid.pdb")]
    assert len(rigid) == len(FAST_PERTURBED_BASES)
    for p in rigid:
        s = p.scores
        assert s.gdt_ts == 100.0 and s.gdt_ha == 100.0
        assert s.tm_score == pytest.approx(1.0, abs=1e-6)   # PDB coordinates have 3 decimals
        assert s.lddt == 1.0 and s.lddt_ca == 1.0
        assert s.rmsd_ca < 1e-3


def test_low_gdt_range_is_covered(perturbed):
    gdt = np.array([float(p.reference["lga_gdt_ts"]) for p in perturbed])
    assert gdt.min() < 40.0
    low = [p for p in perturbed if float(p.reference["lga_gdt_ts"]) < 40]
    d = np.abs(deviations(low, lambda p: p.scores.gdt_ts, _reference("lga_gdt_ts")))
    assert d.max() <= 1.1
