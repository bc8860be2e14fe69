"""The violation check between rounds: AlphaFold v2.3.2's per-residue flags on the reference inputs, and
chain segments at numbering gaps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from foldkit.io.structure import read_structure
from foldkit.relax.layout import model_layout
from foldkit.relax.violations import HeavyAtoms, violating_residues
from tests.relax.reference_cases import RELAX_DIR

# cases with flags before relaxation (clashes, a stretched bond, CA-C-N angles); their "before" masks come
# from AlphaFold's find_violations on the input
FLAGGED = ("af_with_violations", "af_with_violations_casp14", "af_multiple_disulfides", "damaged_sidechain_clash",
           "damaged_stretched_bond", "casp_T1084")


def _flags(protein, relax_index=None) -> np.ndarray:
    heavy = HeavyAtoms(protein.aatype, protein.atom_positions.astype(np.float64), protein.atom_mask)
    return violating_residues(heavy, protein.residue_index if relax_index is None else relax_index)


@pytest.mark.parametrize("case", FLAGGED)
def test_flags_match_alphafold_on_reference_inputs(case):
    details = json.loads((RELAX_DIR / "details" / f"{case}.json").read_text())
    expected = np.asarray(details["violations_before"], dtype=bool)
    flags = _flags(read_structure(RELAX_DIR / "inputs" / f"{case}.pdb"))
    np.testing.assert_array_equal(np.flatnonzero(flags), np.flatnonzero(expected))


def test_missing_atoms_are_not_flagged_unlike_alphafold():
    # AlphaFold places absent atoms at the origin and flags residues 24, 60, 82, 102, 105; foldkit checks only
    # the atoms present (and rebuilds the missing ones before minimising)
    assert not _flags(read_structure(RELAX_DIR / "inputs" / "damaged_missing_sidechains.pdb")).any()


def test_numbering_gap_with_distance_splits_the_chain_and_is_not_a_violation():
    protein = read_structure(RELAX_DIR / "inputs" / "casp_T1084.pdb")
    # remove residues 30-34: a real gap (C29-N35 far apart) and a jump in numbering
    gapped = protein.select(np.r_[0:29, 34:len(protein)])
    layout = model_layout([gapped], "gapped")
    assert layout.segment_starts == (0, 29)
    assert not _flags(gapped, layout.relax_index).any()
    # renumbering without moving atoms keeps one segment (consecutive numbers are always bonded)
    renumbered = gapped.replace(residue_index=np.arange(1, len(gapped) + 1))
    assert model_layout([renumbered], "renumbered").segment_starts == (0,)
    assert _flags(renumbered).sum() == 2               # the stretched C-N bond across the gap
