"""Template chains from mmCIF: SEQRES, release dates and atoms as AlphaFold2 reads them."""

from __future__ import annotations

import datetime
import warnings

import numpy as np
import pytest

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.templates.mmcif import MmcifCache, parse_mmcif, read_mmcif
from tests.templates.cases import pipeline_dir

RELEASE_DATES = {"1ncb": "1994-01-31", "1igy": "1998-04-15", "1k6p": "2002-02-06", "5zng": "2018-10-24",
                 "1f2n": "2000-11-01", "5ugo": "2017-07-26", "7gsa": "2024-01-24", "1gbt": "1994-01-31"}


def _mmcif_files(af2_reference):
    return sorted((pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "mmcif_files").glob("*.cif"))


def _pdb_seqres(af2_reference) -> dict[str, str]:
    """Protein chains of pdb_seqres.txt (made by AlphaFold2's own mmCIF parser)."""
    chains, name, protein = {}, None, False
    for line in (pipeline_dir(af2_reference) / "data" / "pdb_seqres" / "pdb_seqres.txt").read_text().splitlines():
        if line.startswith(">"):
            name, protein = line[1:].split()[0], "mol:protein" in line
        elif protein:
            chains[name] = chains.get(name, "") + line.strip()
    return chains


def test_seqres_of_every_entry_equals_alphafold2s(af2_reference):
    mine = {}
    for path in _mmcif_files(af2_reference):
        entry = read_mmcif(path)
        assert entry.problem is None, (path.name, entry.problem)
        mine.update({f"{entry.entry_id}_{chain}": sequence for chain, sequence in entry.seqres.items()})
    assert mine == _pdb_seqres(af2_reference)          # 27 protein chains; 5ugo's DNA chains excluded


def test_release_dates(af2_reference):
    folder = pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "mmcif_files"
    for entry_id, date in RELEASE_DATES.items():
        assert read_mmcif(folder / f"{entry_id}.cif").release_date == datetime.date.fromisoformat(date)


def test_atoms_agree_with_biopython_structure(af2_reference):
    """Every SEQRES residue's atoms equal the first-model residue Biopython builds (altlocs resolved)."""
    from Bio.PDB import MMCIFParser

    checked = 0
    for path in _mmcif_files(af2_reference):
        entry = read_mmcif(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = next(MMCIFParser(QUIET=True).get_structure("", str(path)).get_models())
        for chain_id in entry.seqres:
            atoms = entry.chain_atoms(chain_id)
            for index, site in entry.sites[chain_id].items():
                expected = np.zeros((rc.ATOM_TYPE_NUM, 3), np.float32)
                expected_mask = np.zeros(rc.ATOM_TYPE_NUM, np.float32)
                if site is not None:
                    key, _ = site
                    chain = model[chain_id]
                    residue = chain[key] if key in chain else chain[(key[0], key[1], key[2].strip())]
                    for atom in residue.get_atoms():
                        if atom.get_name() in rc.ATOM_ORDER:
                            expected[rc.ATOM_ORDER[atom.get_name()]] = atom.get_coord()
                            expected_mask[rc.ATOM_ORDER[atom.get_name()]] = 1.0
                    cd, nh1, nh2 = (rc.ATOM_ORDER[n] for n in ("CD", "NH1", "NH2"))
                    far = np.linalg.norm(expected[nh1] - expected[cd]) > np.linalg.norm(expected[nh2] - expected[cd])
                    if residue.get_resname() == "ARG" and expected_mask[[cd, nh1, nh2]].all() and far:
                        expected[[nh1, nh2]] = expected[[nh2, nh1]]
                    checked += 1
                label = f"{entry.entry_id}_{chain_id} residue {index}"
                np.testing.assert_array_equal(atoms.positions[index], expected, err_msg=label)
                np.testing.assert_array_equal(atoms.mask[index], expected_mask, err_msg=label)
    assert checked > 4000


CIF = """data_TEST
_pdbx_audit_revision_history.revision_date 2001-02-03
loop_
_entity_poly_seq.entity_id
_entity_poly_seq.num
_entity_poly_seq.mon_id
1 1 MSE
1 2 ARG
1 3 UNK
1 4 SEP
loop_
_chem_comp.id
_chem_comp.type
MSE 'L-peptide linking'
ARG 'L-peptide linking'
UNK 'L-peptide linking'
SEP 'L-peptide linking'
loop_
_struct_asym.id
_struct_asym.entity_id
A 1
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_seq_id
_atom_site.auth_seq_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.pdbx_PDB_model_num
HETATM 1 CA . MSE A 1 10 X ? 1.000 0.000 0.000 1.00 1
HETATM 2 SE . MSE A 1 10 X ? 2.000 0.000 0.000 1.00 1
ATOM 3 CA A ARG A 2 11 X ? 3.000 0.000 0.000 0.40 1
ATOM 4 CA B ARG A 2 11 X ? 3.500 0.000 0.000 0.60 1
ATOM 5 CD . ARG A 2 11 X ? 4.000 0.000 0.000 1.00 1
ATOM 6 NH1 . ARG A 2 11 X ? 9.000 0.000 0.000 1.00 1
ATOM 7 NH2 . ARG A 2 11 X ? 5.000 0.000 0.000 1.00 1
ATOM 8 CA . ARG A 2 11 X ? 7.000 0.000 0.000 1.00 1
ATOM 9 CA . SEP A 4 13 X ? 8.000 0.000 0.000 1.00 1
ATOM 10 CA . ARG A 2 11 X ? 100.0 0.000 0.000 1.00 2
"""


def test_modified_residues_altlocs_selenium_and_arginine():
    entry = parse_mmcif(CIF, "test")
    assert entry.seqres == {"X": "MRXS"}                        # MSE -> M, UNK -> X, SEP -> S
    assert entry.release_date == datetime.date(2001, 2, 3)
    atoms = entry.chain_atoms("X")
    ca, sd, cd, nh1, nh2 = (rc.ATOM_ORDER[n] for n in ("CA", "SD", "CD", "NH1", "NH2"))
    assert atoms.positions[0, sd, 0] == 2.0 and atoms.mask[0, sd] == 1.0      # selenium in the SD slot
    assert atoms.positions[1, ca, 0] == 3.5                                    # altloc B: higher occupancy
    assert atoms.positions[1, nh1, 0] == 5.0 and atoms.positions[1, nh2, 0] == 9.0   # NH1/NH2 swapped
    assert atoms.mask[2].sum() == 0                                            # residue 3 has no atoms
    assert atoms.positions[3, ca, 0] == 8.0                                    # model 2 ignored


def test_entry_without_protein_chain_is_unusable_not_an_error():
    text = CIF.replace("'L-peptide linking'", "'DNA linking'")
    entry = parse_mmcif(text, "test")
    assert entry.problem == "no protein chains" and entry.seqres == {}


@pytest.mark.parametrize("text, message", [
    ("data_x\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1 2 3\n", "line 2: mmCIF syntax error"),
    ("data_x\n_entry.id x\n", "no _atom_site records"),
    (CIF.replace("3.500 0.000", "3.500 zero"), "_atom_site row 4: y coordinate 'zero' is not a number"),
    (CIF.replace("2001-02-03", "03-FEB-01"), "revision_date '03-FEB-01' is not YYYY-MM-DD"),
])
def test_malformed_mmcif_raises_input_error(text, message):
    with pytest.raises(InputError, match=message) as caught:
        parse_mmcif(text, "bad", "bad.cif")
    assert str(caught.value).startswith("bad.cif")


def test_cache_keeps_parsed_entries(af2_reference, tmp_path):
    source = pipeline_dir(af2_reference) / "data" / "pdb_mmcif" / "mmcif_files"
    cache = MmcifCache(max_entries=2)
    first = cache.get(source / "1aki.cif", "1aki")
    assert cache.get(source / "1aki.cif", "1aki") is first
    cache.get(source / "1a7g.cif", "1a7g")
    cache.get(source / "1dix.cif", "1dix")
    assert len(cache) == 2 and cache.get(source / "1aki.cif", "1aki") is not first   # least recently used dropped
