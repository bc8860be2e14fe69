"""Colour schemes: AlphaFold DB pLDDT bands at their exact boundaries, deviation bands, legends."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.viz import colors
from tests.viz.helpers import example_native, stepped_plddt


def test_plddt_bands_follow_alphafold_db_thresholds():
    values = np.array([99.0, 90.01, 90.0, 70.01, 70.0, 50.01, 50.0, 0.0, np.nan])
    got = colors.band_colors(values, colors.PLDDT_BANDS, missing="#000000")
    assert got == ["#0053D6", "#0053D6", "#65CBF3", "#65CBF3", "#FFDB13", "#FFDB13", "#FF7D45", "#FF7D45",
                   "#000000"]


def test_deviation_bands_are_closed_below_like_gdt_counts():
    values = np.array([0.0, 0.99, 1.0, 3.99, 4.0, 7.99, 8.0, 30.0])
    index = colors.band_index(values, colors.DEVIATION_BANDS)
    assert index.tolist() == [0, 0, 1, 2, 3, 3, 4, 4]


def test_residue_plddt_reads_ca_bfactor_and_falls_back_to_mean():
    protein = example_native(stepped_plddt(119))
    np.testing.assert_allclose(colors.residue_plddt(protein), stepped_plddt(119), atol=1e-4)
    ca = colors.CA
    mask = protein.atom_mask.copy()
    mask[0, ca] = 0
    b = protein.b_factors.copy()
    b[0] = np.where(protein.atom_mask[0] > 0, 40.0, 0.0)
    b[0, 0] = 60.0                                     # N atom
    moved = protein.replace(atom_mask=mask, b_factors=b)
    present = mask[0] > 0
    assert colors.residue_plddt(moved)[0] == pytest.approx(b[0][present].mean())


def test_schemes_give_one_colour_per_residue_and_a_legend():
    a = example_native(stepped_plddt(119)).replace(chain_id="A")
    b = a.replace(chain_id="B")
    for scheme in colors.SCHEMES:
        per_chain, legend = colors.residue_colors([a, b], scheme)
        assert [len(c) for c in per_chain] == [119, 119]
        assert legend.entries and all(c.startswith("#") and len(c) == 7 for _, c in legend.entries)
        used = {c for chain in per_chain for c in chain}
        assert used <= {c for _, c in legend.entries} or scheme == "rainbow"
    chain_colors, legend = colors.residue_colors([a, b], "chain")
    assert chain_colors[0][0] != chain_colors[1][0]
    assert [label for label, _ in legend.entries] == ["chain A", "chain B"]
    rainbow, _ = colors.residue_colors([a], "rainbow")
    palette = colors.rainbow_palette()
    assert rainbow[0][0] == palette[0] and rainbow[0][-1] == palette[-1]
    with pytest.raises(ValueError, match="unknown colour scheme"):
        colors.residue_colors([a], "bfactor-ish")


def test_residue_classes_cover_every_amino_acid_once():
    letters = "".join(letters for _, letters, _ in colors.RESIDUE_CLASSES)
    assert sorted(letters) == sorted("ACDEFGHIKLMNPQRSTVWYX")
