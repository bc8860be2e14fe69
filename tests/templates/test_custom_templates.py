"""--custom-templates: the user's mmCIF/PDB files searched and featurized like PDB templates."""

from __future__ import annotations

import datetime
import shutil

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.templates import TemplateFeaturizer, TemplateSettings, custom_template_hits
from foldkit.templates.mmcif import read_mmcif
from tests.conftest import CASP_DIR
from tests.templates.cases import pipeline_dir


def _mutate(sequence: str, positions=(9, 39, 69, 99)) -> str:
    letters = list(sequence)
    for position in positions:
        letters[position] = "W" if letters[position] != "W" else "A"
    return "".join(letters)


@pytest.fixture
def custom_dir(af2_reference, tmp_path):
    import gemmi

    mmcif_files = pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "mmcif_files"
    folder = tmp_path / "my templates"
    folder.mkdir()
    shutil.copy(mmcif_files / "1ncb.cif", folder / "1ncb.cif")
    gemmi.read_structure(str(mmcif_files / "1aki.cif")).write_pdb(str(folder / "My-Lysozyme.pdb"))
    shutil.copy(CASP_DIR / "natives" / "T1024.pdb", folder / "T1024.pdb")      # no SEQRES, blank chain id
    (folder / "notes.txt").write_text("not a structure\n")
    return folder


def _featurizer(af2_reference, date="2021-11-01") -> TemplateFeaturizer:
    data = pipeline_dir(af2_reference) / "data"
    return TemplateFeaturizer(TemplateSettings(data / "pdb_mmcif" / "mmcif_files",
                                               datetime.date.fromisoformat(date)))


def test_pdb_file_template_equals_its_mmcif_entry(af2_reference, custom_dir):
    lysozyme = read_mmcif(pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "mmcif_files" / "1aki.cif")
    query = _mutate(lysozyme.seqres["A"])
    search = custom_template_hits(query, custom_dir)
    result = _featurizer(af2_reference, "1990-01-01").from_custom(query, search)     # undated PDB file passes
    names = list(result.features["template_domain_names"])
    assert names[0] == "mylysozyme_A"
    sequence = str(result.features["template_sequence"][0])
    aligned = np.array([c != "-" for c in sequence])
    assert aligned.sum() > 100
    assert "".join(c for c in sequence if c != "-") in lysozyme.seqres["A"]
    atoms = lysozyme.chain_atoms("A")
    np.testing.assert_array_equal(result.features["template_all_atom_positions"][0][aligned], atoms.positions[aligned])
    np.testing.assert_array_equal(result.features["template_all_atom_masks"][0][aligned], atoms.mask[aligned])
    assert result.features["template_sum_probs"].tolist() == [[0.0]] * len(names)


def test_dated_mmcif_in_custom_folder_obeys_max_template_date(af2_reference, custom_dir):
    light = read_mmcif(custom_dir / "1ncb.cif").seqres["L"]
    query = _mutate(light)
    search = custom_template_hits(query, custom_dir)
    late = _featurizer(af2_reference, "1990-01-01").from_custom(query, search)
    assert "Template 1ncb date (1994-01-31 00:00:00) > max template date (1990-01-01 00:00:00)." in late.log
    assert "1ncb_L" not in list(late.features["template_domain_names"])
    ok = _featurizer(af2_reference, "1994-01-31").from_custom(query, search)          # equal date passes
    assert list(ok.features["template_domain_names"])[0] == "1ncb_L"


def test_model_without_seqres_uses_modelled_residues(af2_reference, custom_dir):
    search = custom_template_hits("A" * 20, custom_dir)
    entry = search.source.entries["t1024"]
    assert list(entry.seqres) == ["A"]                                 # blank chain id -> A
    query = _mutate(entry.seqres["A"], positions=(5, 50, 150))
    result = _featurizer(af2_reference).from_custom(query, custom_template_hits(query, custom_dir))
    assert list(result.features["template_domain_names"])[0] == "t1024_A"
    assert result.features["template_all_atom_masks"][0].sum() > 1000


def test_no_hit_gives_empty_or_zero_template(af2_reference, custom_dir):
    query = "GSGSGSGSGSGSGSGSGSGS"
    search = custom_template_hits(query, custom_dir)
    featurizer = _featurizer(af2_reference)
    assert featurizer.from_custom(query, search).features["template_aatype"].shape == (0,)
    zero = featurizer.from_custom(query, search, zero_template_when_empty=True)
    assert zero.features["template_aatype"].shape == (1, len(query), 22)


def test_custom_folder_errors(tmp_path):
    with pytest.raises(InputError, match="custom template folder not found"):
        custom_template_hits("ACDEFGHIKL", tmp_path / "absent")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(InputError, match="no structure files"):
        custom_template_hits("ACDEFGHIKL", tmp_path)
    (tmp_path / "broken.pdb").write_text("HEADER\nATOM      1  CA  ALA A   1      xx.000   1.000   1.000\n")
    with pytest.raises(InputError, match=r"broken.pdb, line 2, column 33: invalid character"):
        custom_template_hits("ACDEFGHIKL", tmp_path)
