"""py3Dmol views: the recorded 3Dmol.js calls hold the right styles, colours, residues and legend."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.eval.scores import score_structures
from foldkit.io.structure import read_structure
from foldkit.viz import colors
from foldkit.viz import view as viz_view
from foldkit.viz.scene import SIDECHAIN_ATOMS, structure_text
from tests.viz.helpers import MODEL, NATIVE, example_native, stepped_plddt, viewer_calls


def _styles(v):
    return viewer_calls(v.startjs, "addStyle")


def test_plddt_view_colours_each_residue_by_its_band():
    plddt = stepped_plddt(119)
    protein = example_native(plddt)
    v = viz_view.view(protein, color="plddt")
    assert viewer_calls(v.startjs, "setStyle") == [[{}, {}]]
    coloured = {}
    for selection, style in _styles(v):
        assert list(style) == ["cartoon"]
        for resi in selection["resi"]:
            assert resi not in coloured, "a residue was styled twice"
            coloured[resi] = style["cartoon"]["color"]
    expected = colors.band_colors(plddt, colors.PLDDT_BANDS)
    assert coloured == {int(r): c for r, c in zip(protein.residue_index, expected)}
    assert set(coloured.values()) == {"#0053D6", "#65CBF3", "#FFDB13", "#FF7D45"}
    # the embedded structure is foldkit's PDB text of the protein
    (text, fmt), = viewer_calls(v.startjs, "addModel")
    assert fmt == "pdb" and text == structure_text([protein])


def test_legend_labels_carry_band_names_and_colours():
    v = viz_view.view(example_native(stepped_plddt(119)), color="plddt")
    labels = {args[0]: args[1] for args in viewer_calls(v.startjs, "addLabel")}
    assert "pLDDT (B-factor column)" in labels
    for band in colors.PLDDT_BANDS:
        assert labels[band.label]["backgroundColor"] == band.color
        assert labels[band.label]["useScreen"] is True


@pytest.mark.parametrize("style", ["stick", "sphere"])
def test_other_styles(style):
    v = viz_view.view(NATIVE, color="chain", style=style)
    styles = _styles(v)
    assert styles and all(list(s) == [style] for _, s in styles)
    assert {s[style]["color"] for _, s in styles} == {colors.CHAIN_PALETTE[0]}


def test_sidechains_add_sticks_on_side_chain_atoms_in_the_same_colours():
    v = viz_view.view(example_native(stepped_plddt(119)), color="plddt", show_sidechains=True)
    styles = _styles(v)
    cartoons = [(sel, s) for sel, s in styles if "cartoon" in s]
    sticks = [(sel, s) for sel, s in styles if "stick" in s]
    assert len(cartoons) == len(sticks) == 4
    for (csel, cstyle), (ssel, sstyle) in zip(cartoons, sticks):
        assert ssel["resi"] == csel["resi"] and sstyle["stick"]["color"] == cstyle["cartoon"]["color"]
        assert set(ssel["atom"]) == set(SIDECHAIN_ATOMS) and "CA" in ssel["atom"] and "O" not in ssel["atom"]


def test_chain_selection_and_chain_colours_for_two_chains():
    a = example_native().replace(chain_id="A")
    b = example_native().replace(chain_id="B")
    v = viz_view.view([a, b], color="chain")
    by_chain = {sel["chain"]: s["cartoon"]["color"] for sel, s in _styles(v)}
    assert by_chain == {"A": colors.CHAIN_PALETTE[0], "B": colors.CHAIN_PALETTE[1]}
    (text, _), = viewer_calls(v.startjs, "addModel")
    assert text.count("TER") == 2


def test_bad_scheme_and_style_are_refused():
    with pytest.raises(ValueError, match="colour scheme"):
        viz_view.view(NATIVE, color="nope")
    with pytest.raises(ValueError, match="style"):
        viz_view.view(NATIVE, style="ribbonz")


def test_superposition_applies_the_evaluator_transform_and_colours_by_deviation():
    model, native = read_structure(MODEL), read_structure(NATIVE)
    scores = score_structures(model, native)
    sup = viz_view.superpose(MODEL, NATIVE)
    # deviations recomputed independently from the moved coordinates (residues pair by number here)
    ca = colors.CA
    direct = np.linalg.norm(sup.model.atom_positions[:, ca] - native.atom_positions[:, ca], axis=-1)
    np.testing.assert_allclose(sup.deviation, direct, atol=2e-3)
    # the superposition is the best 4 A GDT one: its count under 4 A is the GDT count
    assert int((sup.deviation < 4.0).sum()) == round(scores.gdt.percent_at(4.0) * scores.n_native / 100)
    assert scores.gdt_ts == pytest.approx(sup.scores.gdt_ts)
    # rigid motion: internal distances unchanged
    d_before = np.linalg.norm(model.atom_positions[:, ca][:, None] - model.atom_positions[:, ca][None], axis=-1)
    d_after = np.linalg.norm(sup.model.atom_positions[:, ca][:, None] - sup.model.atom_positions[:, ca][None],
                             axis=-1)
    np.testing.assert_allclose(d_after, d_before, atol=2e-3)
    assert f"GDT_TS {scores.gdt_ts:.1f}" in sup.caption and f"TM {scores.tm_score:.3f}" in sup.caption

    v = viz_view.view_superposition(MODEL, NATIVE, scores=scores)
    models = viewer_calls(v.startjs, "addModel")
    assert [m[0] for m in models] == [structure_text([native]), structure_text([sup.model])]
    styles = _styles(v)
    native_styles = [s for sel, s in styles if sel["model"] == 0]
    assert {s["cartoon"]["color"] for s in native_styles} == {colors.NATIVE_COLOR}
    assert all(s["cartoon"]["opacity"] == 0.75 for s in native_styles)
    model_colour = {r: s["cartoon"]["color"] for sel, s in styles if sel["model"] == 1 for r in sel["resi"]}
    expected = colors.band_colors(direct, colors.DEVIATION_BANDS)
    assert model_colour == {int(r): c for r, c in zip(model.residue_index, expected)}
    captions = [a[0] for a in viewer_calls(v.startjs, "addLabel")]
    assert sup.caption in captions


def test_superposition_marks_model_residues_missing_from_the_native():
    native = read_structure(NATIVE)
    trimmed = native.select(np.arange(len(native)) >= 10)      # native without its first 10 residues
    sup = viz_view.superpose(MODEL, trimmed)
    assert np.isnan(sup.deviation[:10]).all() and np.isfinite(sup.deviation[10:]).all()
    v = viz_view.view_superposition(MODEL, trimmed, scores=sup.scores)
    first = int(read_structure(MODEL).residue_index[0])
    colour = {r: s["cartoon"]["color"] for sel, s in _styles(v) if sel["model"] == 1 for r in sel["resi"]}
    assert colour[first] == colors.NOT_MATCHED_COLOR


def test_mmcif_input_and_long_chain_ids_are_shown(tmp_path):
    from foldkit.io.structure import read_chains, write_mmcif

    protein = example_native(stepped_plddt(119)).replace(chain_id="AB")
    path = tmp_path / "long_chain.cif"
    write_mmcif(protein, path)
    v = viz_view.view(path, color="plddt")
    (text, _), = viewer_calls(v.startjs, "addModel")
    out = tmp_path / "back.pdb"
    out.write_text(text)
    back, = read_chains(out)
    assert back.chain_id == "A" and len(back) == 119
    np.testing.assert_allclose(back.atom_positions, protein.atom_positions, atol=1e-3)
    np.testing.assert_allclose(colors.residue_plddt(back), stepped_plddt(119), atol=0.006)
    assert {sel["chain"] for sel, _ in _styles(v)} == {"A"}


def test_structure_text_of_two_chains_reads_back(tmp_path):
    from foldkit.io.structure import read_chains

    a = example_native().replace(chain_id="A")
    b = example_native().replace(chain_id="B")
    path = tmp_path / "ab.pdb"
    path.write_text(structure_text([a, b]))
    chains = read_chains(path)
    assert [c.chain_id for c in chains] == ["A", "B"]
    np.testing.assert_allclose(chains[1].atom_positions, b.atom_positions, atol=1e-3)
