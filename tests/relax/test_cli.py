"""``foldkit relax`` on real files: outputs, formats, numbering, batches, bad input, reproducibility."""

from __future__ import annotations

import json
from pathlib import Path

import gemmi
import numpy as np
import pytest

from foldkit import cli
from foldkit.io.structure import read_structure
from tests.relax.reference_cases import RELAX_DIR

FRAGMENT = RELAX_DIR / "inputs" / "af_model_output.pdb"          # 5 residues
MISSING_SIDE_CHAINS = RELAX_DIR / "inputs" / "damaged_missing_sidechains.pdb"


def _relax(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["relax", *map(str, args)])
    return code, capsys.readouterr().err


def _atom_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("ATOM")]


def test_pdb_output_keeps_numbering_bfactors_and_adds_hydrogens(tmp_path, capsys):
    source = tmp_path / "frag.pdb"
    # renumber from 101 with chain B, as a user's file might be
    lines = []
    for line in FRAGMENT.read_text().splitlines():
        if line.startswith("ATOM"):
            line = line[:21] + "B" + f"{int(line[22:26]) + 100:4d}" + line[26:]
        lines.append(line)
    source.write_text("\n".join(lines) + "\n")
    code, err = _relax(capsys, source, "-o", tmp_path / "out.pdb", "--cpu", "1")
    assert code == 0, err
    assert "round 1" in err and "-> " in err
    before, after = read_structure(source), read_structure(tmp_path / "out.pdb")
    np.testing.assert_array_equal(after.residue_index, before.residue_index)
    assert after.chain_id == "B" and after.sequence == before.sequence
    atoms = _atom_lines(tmp_path / "out.pdb")
    assert sum(line[76:78].strip() == "H" for line in atoms) > 40          # hydrogens written
    assert any(line[12:16].strip() == "OXT" for line in atoms)
    ca_b = {int(line[22:26]): float(line[60:66]) for line in FRAGMENT.read_text().splitlines()
            if line.startswith("ATOM") and line[12:16] == " CA "}
    for line in atoms:                                                       # every atom: its residue's CA B
        assert float(line[60:66]) == pytest.approx(ca_b[int(line[22:26]) - 100], abs=0.006)
    metrics = json.loads((tmp_path / "out_metrics.json").read_text())
    assert metrics["outer_iterations"] == 1 and metrics["remaining_violations"] == [0] * 5
    assert metrics["remaining_violations_count"] == 0 and metrics["threads"] == 1
    assert metrics["alterations"]["added_terminal_atoms"] == {"B:105 VAL": ["OXT"]}
    assert 0.1 < metrics["rmsd_heavy_to_input"] < 0.25 and metrics["final_energy"] < metrics["initial_energy"]


def test_one_thread_runs_are_identical_and_mmcif_output_parses(tmp_path, capsys):
    assert _relax(capsys, FRAGMENT, "-o", tmp_path / "a.pdb", "--cpu", "1")[0] == 0
    assert _relax(capsys, FRAGMENT, "-o", tmp_path / "b.pdb", "--cpu", "1")[0] == 0
    assert (tmp_path / "a.pdb").read_text() == (tmp_path / "b.pdb").read_text()
    assert _relax(capsys, FRAGMENT, "-o", tmp_path / "c.cif", "--cpu", "1", "--seed", "3")[0] == 0
    structure = gemmi.read_structure(str(tmp_path / "c.cif"))
    atoms = [a for r in structure[0]["A"] for a in r]
    assert len(atoms) == len(_atom_lines(tmp_path / "a.pdb")) == 97      # AF2's atom count for this case
    cif = read_structure(tmp_path / "c.cif")
    pdb = read_structure(tmp_path / "a.pdb")
    assert np.abs(cif.atom_positions - pdb.atom_positions)[pdb.atom_mask > 0].max() < 0.05   # other seed: close


def test_folder_of_inputs_to_folder_with_exclusions(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "one.pdb").write_text(FRAGMENT.read_text())
    (folder / "two.pdb").write_text(FRAGMENT.read_text())
    (folder / "notes.txt").write_text("not a structure")
    code, err = _relax(capsys, folder, "-o", tmp_path / "out", "--format", "mmcif", "--exclude-residues", "A:2-3",
                       "--max-outer-iterations", "1")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "one_relaxed.cif", "one_relaxed_metrics.json", "two_relaxed.cif", "two_relaxed_metrics.json"]
    assert "[2/2] two.pdb" in err
    metrics = json.loads((tmp_path / "out" / "one_relaxed_metrics.json").read_text())
    assert metrics["settings"]["exclude_residues"] == [1, 2]
    heavy = read_structure(FRAGMENT).atom_mask.sum(axis=1)                   # [5] heavy atoms per residue
    assert metrics["iterations"][0]["restrained_atoms"] == heavy.sum() + 1 - heavy[1:3].sum()   # + OXT


@pytest.mark.parametrize("content, message", [
    ("HETATM    1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\n", "no protein"),
    (None, "backbone atom O missing"),
    (None, "unknown residue name"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, content, message):
    source = tmp_path / "bad.pdb"
    lines = FRAGMENT.read_text().splitlines()
    if message.startswith("backbone"):
        content = "\n".join(line for line in lines if not (line[12:16] == " O  " and line[22:26] == "   3")) + "\n"
    elif message.startswith("unknown"):
        content = "\n".join(line[:17] + "XYZ" + line[20:] if line[22:26] == "   2" else line for line in lines) + "\n"
    source.write_text(content)
    code, err = _relax(capsys, source, "-o", tmp_path / "out.pdb")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pdb"]


def test_nan_coordinates_in_mmcif_are_rejected(tmp_path, capsys):
    from foldkit.io.structure import write_mmcif

    protein = read_structure(FRAGMENT)
    write_mmcif(protein, tmp_path / "frag.cif")
    text = (tmp_path / "frag.cif").read_text().splitlines()
    row = next(i for i, line in enumerate(text) if line.startswith("ATOM 7 "))
    fields = text[row].split()
    fields[10] = "nan"
    text[row] = " ".join(fields)
    (tmp_path / "frag.cif").write_text("\n".join(text) + "\n")
    code, err = _relax(capsys, tmp_path / "frag.cif", "-o", tmp_path / "out.pdb")
    assert code == 2 and "not a finite number" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.pdb").exists()


def test_a_bad_file_in_a_batch_stops_everything_before_writing(tmp_path, capsys):
    (tmp_path / "good.pdb").write_text(FRAGMENT.read_text())
    (tmp_path / "empty.pdb").write_text("REMARK nothing here\nEND\n")
    code, err = _relax(capsys, tmp_path / "good.pdb", tmp_path / "empty.pdb", "-o", tmp_path / "out")
    assert code == 2 and "empty.pdb" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_missing_heavy_atoms_rejected_on_request(tmp_path, capsys):
    code, err = _relax(capsys, MISSING_SIDE_CHAINS, "-o", tmp_path / "out.pdb", "--reject-missing-atoms")
    assert code == 2 and "miss heavy atoms" in err and "25 TRP" in err
    assert not (tmp_path / "out.pdb").exists()


def test_gpu_without_a_gpu_platform_is_one_line(tmp_path, capsys):
    from foldkit.relax.platforms import GPU_PLATFORMS, available_platforms

    if set(GPU_PLATFORMS) & set(available_platforms()):
        pytest.skip("a GPU platform is installed here")
    code, err = _relax(capsys, FRAGMENT, "-o", tmp_path / "out.pdb", "--gpu")
    assert code == 2 and "--gpu: no usable CUDA or OpenCL platform" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.pdb").exists()


def test_bad_options(tmp_path, capsys):
    code, err = _relax(capsys, FRAGMENT, "-o", tmp_path / "out.pdb", "--exclude-residues", "A:99")
    assert code == 2 and "no residue A:99" in err
    code, err = _relax(capsys, FRAGMENT, FRAGMENT, "-o", tmp_path / "x.pdb")
    assert code == 2 and "folder" in err
    with pytest.raises(SystemExit):
        cli.main(["relax", str(FRAGMENT), "-o", str(tmp_path / "y.pdb"), "--stiffness", "-1"])


def test_a_gap_in_the_chain_gets_termini_not_a_stretched_bond(tmp_path, capsys):
    from foldkit.io.structure import write_pdb

    protein = read_structure(RELAX_DIR / "inputs" / "casp_T1084.pdb")
    write_pdb(protein.select(np.r_[0:29, 34:len(protein)]), tmp_path / "gapped.pdb")     # residues 30-34 gone
    code, err = _relax(capsys, tmp_path / "gapped.pdb", "-o", tmp_path / "out.pdb")
    assert code == 0, err
    metrics = json.loads((tmp_path / "out_metrics.json").read_text())
    assert metrics["alterations"]["chain_breaks"] == ["29/35"]
    assert set(metrics["alterations"]["added_terminal_atoms"]) == {"29 GLU"}   # 73 had its OXT already
    assert metrics["remaining_violations_count"] == 0 and metrics["rmsd_heavy_to_input"] < 0.2
    relaxed = read_structure(tmp_path / "out.pdb")
    np.testing.assert_array_equal(relaxed.residue_index, np.r_[1:30, 35:74])
    assert relaxed.atom_mask[28, -1] == 1                                       # OXT on residue 29


def test_two_chains_are_relaxed_together_and_keep_their_ids(tmp_path, capsys):
    from foldkit.io.pdb_format import pdb_atom_lines
    from foldkit.io.structure import read_chains

    protein = read_structure(RELAX_DIR / "inputs" / "casp_T1084.pdb")
    first, second = protein.select(np.arange(0, 35)), protein.select(np.arange(39, 73))
    lines = pdb_atom_lines(first.replace(chain_id="A")) + pdb_atom_lines(second.replace(chain_id="B"), 1000)
    (tmp_path / "two.pdb").write_text("\n".join(lines + ["END"]) + "\n")
    code, err = _relax(capsys, tmp_path / "two.pdb", "-o", tmp_path / "two.cif")
    assert code == 0, err
    chains = read_chains(tmp_path / "two.cif")
    assert [(c.chain_id, len(c), int(c.residue_index[0])) for c in chains] == [("A", 35, 1), ("B", 34, 40)]
    metrics = json.loads((tmp_path / "two_metrics.json").read_text())
    assert metrics["residues"] == 69 and metrics["remaining_violations_count"] == 0
    assert metrics["alterations"]["added_terminal_atoms"] == {"A:35 GLU": ["OXT"]}    # B:73 had one
