"""Writers: exact PDB columns, round trips to 0.001 A, files other readers accept without warnings."""

from __future__ import annotations

import os
import warnings

import gemmi
import numpy as np
import pytest
from Bio.PDB import MMCIFParser, PDBParser

from foldkit import constants as rc
from foldkit.errors import FoldkitError
from foldkit.io.structure import (read_structure, read_ts_models, to_pdb_string, write_mmcif, write_pdb,
                                  write_ts)
from foldkit.protein import Protein
from tests.conftest import REPO_ROOT

NATIVE = REPO_ROOT / "examples" / "structures" / "T1030-D2.pdb"


def _random_protein(seed: int = 0, length: int = 12, chain: str = "B") -> Protein:
    """Random coordinates (3-decimal-unfriendly) for every standard atom of random residues."""
    rng = np.random.default_rng(seed)
    aatype = rng.integers(0, 20, size=length)
    mask = np.array(rc.table("restype_atom37_mask"))[aatype].astype(np.float32)
    mask[-1, rc.ATOM_ORDER["OXT"]] = 1.0
    positions = rng.uniform(-99.0, 999.0, size=(length, 37, 3)) * mask[..., None]
    b_factors = rng.uniform(0.0, 100.0, size=(length, 37)) * mask
    icodes = tuple("A" if i == 3 else "" for i in range(length))
    return Protein(aatype=aatype, atom_positions=positions, atom_mask=mask,
                   residue_index=np.arange(length) + 10 - (np.arange(length) >= 4), chain_id=chain,
                   b_factors=b_factors, insertion_codes=icodes)


def _assert_same(read: Protein, original: Protein, chain: str):
    np.testing.assert_array_equal(read.aatype, original.aatype)
    np.testing.assert_array_equal(read.atom_mask, original.atom_mask)
    np.testing.assert_array_equal(read.residue_index, original.residue_index)
    assert read.insertion_codes == original.insertion_codes
    assert read.chain_id == chain
    mask = original.atom_mask > 0
    assert np.abs(read.atom_positions - original.atom_positions)[mask].max() <= 1e-3
    assert np.abs(read.b_factors - original.b_factors)[mask].max() <= 1e-2


@pytest.mark.parametrize("suffix", [".pdb", ".cif"])
def test_round_trip(tmp_path, suffix):
    original = _random_protein()
    path = tmp_path / f"out{suffix}"
    (write_pdb if suffix == ".pdb" else write_mmcif)(original, path)
    _assert_same(read_structure(path), original, "B")


def test_round_trip_casp_native(tmp_path):
    native = read_structure(NATIVE)
    for path, writer in ((tmp_path / "n.pdb", write_pdb), (tmp_path / "n.cif", write_mmcif)):
        writer(native, path)
        _assert_same(read_structure(path), native, "" if path.suffix == ".pdb" else "A")


def test_ts_round_trip(tmp_path):
    first, second = _random_protein(1, chain=""), _random_protein(2, chain="")
    path = tmp_path / "T0001TS001_1"
    write_ts([first, (7, second)], path, target="T0001", parent="1abc_A")
    text = path.read_text().splitlines()
    assert text[:4] == ["PFRMAT TS", "TARGET T0001", "MODEL  1", "PARENT 1abc_A"]
    assert text[-1] == "END" and text.count("END") == 2
    models = read_ts_models(path)
    assert [n for n, _ in models] == [1, 7]
    _assert_same(models[0][1], first, "")
    _assert_same(models[1][1], second, "")


def test_exact_pdb_columns():
    protein = read_structure(NATIVE)
    lines = to_pdb_string(protein).splitlines()
    first = lines[0]
    assert len(first) == 80
    assert first[:6] == "ATOM  " and first[6:11] == "    1" and first[12:16] == " N  "
    assert first[17:20] == "ASN" and first[21] == " " and first[22:26] == " 155"
    assert first[30:54] == "  -2.403  47.281  29.928"
    assert first[54:60] == "  1.00" and first[60:66] == " 35.75"    # B-factor column from the record
    assert first[76:78] == " N"
    assert [line[12:16] for line in lines[:5]] == [" N  ", " CA ", " C  ", " O  ", " CB "]
    assert lines[-2].startswith("TER    ") and lines[-2][17:26] == "ASP   273"
    assert lines[-1].rstrip() == "END"
    assert all(len(line) == 80 for line in lines)


def test_other_readers_accept_without_warnings(tmp_path):
    protein = _random_protein(3, chain="A")
    pdb_path, cif_path = tmp_path / "x.pdb", tmp_path / "x.cif"
    write_pdb(protein, pdb_path)
    write_mmcif(protein, cif_path)
    atoms = int(protein.atom_mask.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(PDBParser().get_structure("x", str(pdb_path)).get_atoms())) == atoms
        assert len(list(MMCIFParser().get_structure("x", str(cif_path)).get_atoms())) == atoms
        for path in (pdb_path, cif_path):
            structure = gemmi.read_structure(str(path))
            assert structure[0].count_atom_sites() == atoms
            assert structure[0][0].name == "A"
            ca = structure[0][0][0]["CA"][0].pos
            np.testing.assert_allclose([ca.x, ca.y, ca.z], protein.atom_positions[0, rc.ATOM_ORDER["CA"]],
                                       atol=5e-4)


def test_unwritable_values_raise(tmp_path):
    protein = _random_protein()
    too_far = protein.replace(atom_positions=protein.atom_positions + 10000.0)
    with pytest.raises(FoldkitError, match="outside the PDB range"):
        to_pdb_string(too_far)
    with pytest.raises(FoldkitError, match="more than one character"):
        to_pdb_string(protein.replace(chain_id="AB"))


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "keep.pdb"
    write_pdb(_random_protein(), path)
    before = path.read_text()
    bad = _random_protein().replace(chain_id="TOO_LONG")
    with pytest.raises(FoldkitError):
        write_pdb(bad, path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["keep.pdb"]
