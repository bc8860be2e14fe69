"""Structure reading rules: altlocs, MSE, non-standard residues, hydrogens, ligands, chains, models, TS."""

from __future__ import annotations

import gzip
import warnings

import gemmi
import numpy as np
import pytest

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.io.structure import read_chains, read_structure, read_structure_file, read_ts_models
from tests.io.pdb_text import atom_line, residue_lines, simple_chain

CA = rc.ATOM_ORDER["CA"]


def _tricky_pdb() -> str:
    """Chain A: MET, ALA (CA altlocs A 0.3 / B 0.7), GLY, MSE (HETATM, SE), SEP (HETATM), GLY 5A (+ H),
    LYS 6 (N only), a NAG ligand and a water; chain B: TRP."""
    lines = simple_chain(["MET", "ALA", "GLY"])
    lines[5] = atom_line(6, "CA", "ALA", "A", 2, (9.0, 9.0, 9.0), occupancy=0.3, altloc="A")
    lines.insert(6, atom_line(99, "CA", "ALA", "A", 2, (3.8, 0.0, 0.0), occupancy=0.7, altloc="B"))
    lines += residue_lines(50, "MSE", "A", 4, 20.0, record="HETATM")
    lines.append(atom_line(60, "SE", "MSE", "A", 4, (1.0, 2.0, 3.0), record="HETATM", element="SE"))
    lines += residue_lines(70, "SEP", "A", 5, 25.0, record="HETATM")
    lines += residue_lines(80, "GLY", "A", 5, 30.0, icode="A")
    lines.append(atom_line(90, "H", "GLY", "A", 5, (0.0, 0.0, 0.0), icode="A", element="H"))
    lines.append(atom_line(91, "N", "LYS", "A", 6, (40.0, 0.0, 0.0)))
    lines.append(atom_line(92, "C1", "NAG", "A", 200, (50.0, 0.0, 0.0), record="HETATM"))
    lines.append(atom_line(93, "O", "HOH", "A", 300, (60.0, 0.0, 0.0), record="HETATM"))
    lines += simple_chain(["TRP"], chain="B")
    return "\n".join(lines) + "\nEND\n"


@pytest.fixture()
def tricky_pdb(tmp_path):
    path = tmp_path / "tricky.pdb"
    path.write_text(_tricky_pdb())
    return path


def _check_tricky(protein):
    assert protein.chain_id == "A"
    assert protein.resnames == ("MET", "ALA", "GLY", "MSE", "SEP", "GLY", "LYS")
    assert protein.sequence == "MAGMXGK"
    assert protein.aatype[4] == rc.UNK_INDEX
    np.testing.assert_array_equal(protein.residue_index, [1, 2, 3, 4, 5, 5, 6])
    assert protein.insertion_codes == ("", "", "", "", "", "A", "")
    np.testing.assert_allclose(protein.atom_positions[1, CA], [3.8, 0.0, 0.0], atol=1e-6)   # occupancy 0.7 wins
    np.testing.assert_allclose(protein.atom_positions[3, rc.ATOM_ORDER["SD"]], [1.0, 2.0, 3.0], atol=1e-6)
    np.testing.assert_array_equal(protein.atom_mask.sum(axis=1), [4, 4, 4, 5, 4, 4, 1])       # H dropped
    assert protein.atom_mask[6, CA] == 0                                                     # LYS kept without CA
    np.testing.assert_allclose(protein.b_factors[protein.atom_mask > 0], 10.0)


def test_pdb_reading_rules(tricky_pdb):
    with pytest.warns(UserWarning, match=r"non-standard residues read as UNK: SEP x1"):
        protein = read_structure(tricky_pdb)
    _check_tricky(protein)


def test_mmcif_reading_rules(tricky_pdb, tmp_path):
    structure = gemmi.read_structure(str(tricky_pdb))
    structure.setup_entities()
    cif_path = tmp_path / "tricky.cif"
    structure.make_mmcif_document().write_file(str(cif_path))
    with pytest.warns(UserWarning, match="SEP x1"):
        protein = read_structure(cif_path)
    _check_tricky(protein)


def test_chain_selection(tricky_pdb):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chains = read_chains(tricky_pdb)
    assert [(c.chain_id, len(c)) for c in chains] == [("A", 7), ("B", 1)]
    assert read_structure(tricky_pdb, chain="B").sequence == "W"
    assert read_structure(tricky_pdb, chain_id="B").sequence == "W"
    with pytest.raises(InputError, match=r"chain 'C' not found; protein chains: 'A', 'B'"):
        read_structure(tricky_pdb, chain="C")


def test_point_mutation_keeps_higher_occupancy(tmp_path):
    lines = simple_chain(["GLY"])
    lines += residue_lines(10, "ALA", "A", 2, 3.8, occupancy=0.4, altloc="A")
    lines += residue_lines(20, "SER", "A", 2, 3.8, occupancy=0.6, altloc="B")
    path = tmp_path / "mut.pdb"
    path.write_text("\n".join(lines) + "\n")
    assert read_structure(path).sequence == "GS"


def _two_models() -> str:
    first = simple_chain(["ALA", "GLY"])
    second = [line[:30] + f"{float(line[30:38]) + 1.0:8.3f}" + line[38:] for line in first]
    return "\n".join(["MODEL        1", *first, "ENDMDL", "MODEL        2", *second, "ENDMDL", "END"]) + "\n"


def test_model_selection(tmp_path):
    path = tmp_path / "nmr.pdb"
    path.write_text(_two_models())
    first = read_structure(path)
    second = read_structure(path, model=2)
    np.testing.assert_allclose(second.atom_positions[:, CA, 0] - first.atom_positions[:, CA, 0], 1.0, atol=1e-6)
    assert [n for n, _ in read_ts_models(path)] == [1, 2]
    with pytest.raises(InputError, match=r"model 3 not found; models in the file: 1, 2"):
        read_structure(path, model=3)


def _ts_text() -> str:
    model = "\n".join(line[:21] + " " + line[22:] for line in simple_chain(["ALA", "GLY", "SER"], first=5))
    moved = "\n".join(line[:30] + f"{float(line[30:38]) + 2.0:8.3f}" + line[38:] for line in model.split("\n"))
    return (f"PFRMAT TS\nTARGET T0001\nAUTHOR 1234-5678\nMETHOD test\nMODEL  1\nPARENT 1abc_A 2xyz\n{model}\nTER\n"
            f"END\nMODEL  2\nPARENT N/A\n{moved}\nTER\nEND\n")


def test_ts_models(tmp_path):
    path = tmp_path / "T0001TS001"
    path.write_text(_ts_text())
    models = read_ts_models(path)
    assert [n for n, _ in models] == [1, 2]
    first, second = models[0][1], models[1][1]
    assert first.chain_id == "" and first.sequence == "AGS"
    np.testing.assert_array_equal(first.residue_index, [5, 6, 7])
    np.testing.assert_allclose(second.atom_positions[:, CA, 0] - first.atom_positions[:, CA, 0], 2.0, atol=1e-6)
    np.testing.assert_allclose(read_structure(path).atom_positions, first.atom_positions)       # model None = first
    np.testing.assert_allclose(read_structure(path, model=2).atom_positions, second.atom_positions)
    info = read_structure_file(path).ts
    assert info.target == "T0001"
    assert [b.parents for b in info.blocks] == [("1abc_A", "2xyz"), ("N/A",)]
    assert all(b.closed for b in info.blocks)


def test_gzip_structure(tmp_path):
    path = tmp_path / "x.pdb.gz"
    path.write_bytes(gzip.compress(("\n".join(simple_chain(["ALA", "CYS"])) + "\nEND\n").encode()))
    assert read_structure(path).sequence == "AC"


def test_casp_files_without_header_are_pdb(casp_dir):
    models = read_ts_models(casp_dir / "models" / "T1024" / "T1024TS427_1.pdb")
    assert [n for n, _ in models] == [1]
    assert len(models[0][1]) == 408
