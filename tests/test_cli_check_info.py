"""``foldkit check`` and ``foldkit info``: valid inputs, and malformed FASTA/PDB/mmCIF/TS inputs, each with
its exit code and message (file, record, line, column)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foldkit.cli import main
from tests.conftest import REPO_ROOT
from tests.io.pdb_text import atom_line, simple_chain

EXAMPLES = REPO_ROOT / "examples"
GOOD_ATOM = atom_line(1, "N", "LYS", "A", 2, (-12.842, 16.907, -19.956))
GOOD_PDB = "\n".join(simple_chain(["ALA", "GLY"])) + "\nEND\n"


def _replace(line: str, start: int, text: str) -> str:
    return line[:start] + text + line[start + len(text):]


def _ts(body: str, header: str = "PFRMAT TS\nTARGET T0001\n") -> str:
    return header + body


CIF_HEAD = ("data_x\nloop_\n_atom_site.group_PDB\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n"
            "_atom_site.label_asym_id\n_atom_site.label_seq_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n"
            "_atom_site.Cartn_z\n")

MALFORMED = [
    # FASTA
    ("empty.fasta", b"", "empty.fasta: file is empty"),
    ("noheader.fasta", "MKVLA\n>a\nMK\n", "noheader.fasta, line 1, column 1: sequence data before the first '>'"),
    ("nosequence.fasta", ">a desc\n>b\nMK\n", "nosequence.fasta, record 'a', line 1: header without sequence"),
    ("duplicate.fasta", ">a\nMK\n>b\nLL\n>a\nGG\n",
     "duplicate.fasta, record 'a', line 5: duplicate record id (first seen on line 1)"),
    ("digit.fasta", ">q1\nMKV\nLL3A\n", "digit.fasta, record 'q1', line 3, column 3: invalid digit '3'"),
    ("symbol.fasta", ">q1\nMK%A\n", "symbol.fasta, record 'q1', line 2, column 3: invalid symbol '%'"),
    ("gap.fasta", ">q1\nMK-A\n", "gap.fasta, record 'q1', line 2, column 3: invalid gap '-'"),
    ("unicode.fasta", ">q1\nMKΩA\n", "unicode.fasta, record 'q1', line 2, column 3: invalid non-ASCII character 'Ω'"),
    ("binary.fasta", b">q1\nMK\x00\x9c\x12", "binary.fasta, line 2, column 3: binary data (NUL byte)"),
    ("latin1.fasta", b">q1\nMK\xe9A\n", "latin1.fasta, line 2, column 3: non-UTF-8 byte 0xe9"),
    ("star.fasta", ">q1\nMK*AL\n", "star.fasta, record 'q1', line 2, column 4: '*' inside the sequence"),
    ("collide.fasta", ">a/b\nMK\n>a_b\nLL\n", "records 'a/b' (line 1) and 'a_b' both become the file name 'a_b'"),
    # PDB
    ("coordinate.pdb", "HEADER    TEST\n" + _replace(GOOD_ATOM, 42, "9x7") + "\n",
     "coordinate.pdb, line 2, column 44: invalid character 'x' in the coordinate field"),
    ("short.pdb", GOOD_ATOM[:40] + "\n", "short.pdb, line 1, column 41: record too short (40 columns"),
    ("resnum.pdb", _replace(GOOD_ATOM, 22, "    ") + "\n",
     "resnum.pdb, line 1, column 23: missing residue number (columns 23-26 are blank)"),
    ("hybrid36.pdb", _replace(GOOD_ATOM, 22, "A000") + "\n",
     "hybrid36.pdb, line 1, column 23: invalid character 'A' in the residue number field"),
    ("occupancy.pdb", _replace(GOOD_ATOM, 56, "O") + "\n",
     "occupancy.pdb, line 1, column 57: invalid character 'O' in the occupancy/B-factor field"),
    ("twodots.pdb", _replace(GOOD_ATOM, 30, " -12.8.2") + "\n",
     "twodots.pdb, line 1, column 31: x coordinate '-12.8.2' is not a number"),
    ("noatoms.pdb", "HEADER    TEST\nREMARK nothing here\nEND\n", "noatoms.pdb: no ATOM/HETATM records"),
    ("ligand.pdb", atom_line(1, "C1", "NAG", "A", 1, record="HETATM") + "\n",
     "ligand.pdb: no protein residues"),
    ("model.pdb", "MODEL        X\n" + GOOD_PDB, "model.pdb, line 1: MODEL record without a model number"),
    ("garbage.pdb", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "garbage.pdb, line 3, column 1: binary data (NUL byte)"),
    # mmCIF
    ("syntax.cif", "data_x\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1 2 3\n",
     "syntax.cif, line 2: mmCIF syntax error: Wrong number of values in loop _atom_site"),
    ("noatoms.cif", "data_x\n_entry.id x\n", "noatoms.cif: no _atom_site records"),
    ("coordinate.cif", CIF_HEAD + "ATOM CA ALA A 1 1.0 abc 3.0\n",
     "coordinate.cif: _atom_site row 1: y coordinate 'abc' is not a number"),
    ("noz.cif", "data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n1.0 2.0\n", "noz.cif: _atom_site.Cartn_z is missing"),
    # CASP TS
    ("rr.ts", "PFRMAT RR\nTARGET T0001\nMODEL 1\nEND\n", "rr.ts, line 1: PFRMAT RR: only tertiary-structure"),
    ("before.ts", _ts(GOOD_ATOM + "\nEND\n"), "before.ts, line 3: atom record before any MODEL record"),
    ("empty_model.ts", _ts("MODEL 1\nPARENT N/A\nTER\nEND\n"), "empty_model.ts, line 3: model 1 has no ATOM records"),
    ("twice.ts", _ts(f"MODEL 1\n{GOOD_ATOM}\nEND\nMODEL 1\n{GOOD_ATOM}\nEND\n"), "twice.ts, line 6: model 1 appears twice"),
    ("unclosed.ts", _ts(f"MODEL 1\n{GOOD_ATOM}\nMODEL 2\n{GOOD_ATOM}\nEND\n"),
     "unclosed.ts, line 5: MODEL record inside model 1 (started on line 3) which has no END"),
    ("after_end.ts", _ts(f"MODEL 1\n{GOOD_ATOM}\nEND\n{GOOD_ATOM}\n"),
     "after_end.ts, line 6: atom record after END, outside a MODEL block"),
    ("badmodel.ts", _ts(f"MODEL one\n{GOOD_ATOM}\nEND\n"), "badmodel.ts, line 3: MODEL record without a model number"),
    # no known format
    ("notes.txt", "just some notes\n", "notes.txt: unrecognised format (first line 'just some notes')"),
]


@pytest.mark.parametrize("name, content, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_check_rejects(tmp_path, capsys, monkeypatch, name, content, message):
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["check", name]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"foldkit check: error: {name}")
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_enough_distinct_malformed_inputs():
    kinds = {Path(name).suffix for name, _, _ in MALFORMED}
    assert len({name for name, _, _ in MALFORMED}) >= 20
    assert {".fasta", ".pdb", ".cif", ".ts"} <= kinds


def test_check_valid_files(capsys):
    files = [EXAMPLES / "T1084.fasta", EXAMPLES / "two_targets.fasta",
             EXAMPLES / "structures" / "T1030-D2.pdb", EXAMPLES / "structures" / "T1030TS427_1-D2.pdb"]
    assert main(["check", *map(str, files)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("T1084.fasta: OK (fasta): 1 FASTA record, length 73")
    assert out[1].endswith("two_targets.fasta: OK (fasta): 2 FASTA records, lengths 73-138")
    assert out[2].endswith("T1030-D2.pdb: OK (pdb): PDB, 1 model; model 1: chain (blank) 119 residues")
    assert out[3].endswith("OK (ts): CASP TS for target T1030, 1 model; model 1: chain (blank) 119 residues")


def test_check_mixed_reports_every_file_and_warnings(tmp_path, capsys):
    good, bad, rare = tmp_path / "good.fasta", tmp_path / "bad.fasta", tmp_path / "rare.fasta"
    good.write_text(">a\nMKV\n")
    bad.write_text(">a\nMK1\n")
    rare.write_text(">r\nMKUV\n")
    assert main(["check", str(good), str(bad), str(rare)]) == 2
    captured = capsys.readouterr()
    assert "good.fasta: OK" in captured.out and "rare.fasta: OK" in captured.out
    assert "foldkit check: warning:" in captured.err and "U->C x1" in captured.err
    assert "bad.fasta, record 'a', line 2, column 3: invalid digit '1'" in captured.err
    assert "1 of 3 files invalid" in captured.err


def test_check_ts_warnings(tmp_path, capsys):
    path = tmp_path / "open.ts"
    path.write_text(_ts(f"MODEL 3\nPARENT N/A\n{GOOD_ATOM}\n", header="PFRMAT TS\n"))
    assert main(["check", str(path)]) == 0
    captured = capsys.readouterr()
    assert "OK (ts): CASP TS for target (no TARGET), 1 model; model 3: chain A 1 residues" in captured.out
    assert "no TARGET record" in captured.err
    assert "open.ts, line 2: model 3 is not closed by END" in captured.err


def test_check_format_override(tmp_path, capsys):
    path = tmp_path / "model.txt"
    path.write_text(GOOD_PDB)
    assert main(["check", "--format", "pdb", str(path)]) == 0
    assert "OK (pdb)" in capsys.readouterr().out
    assert main(["check", "--format", "fasta", str(path)]) == 2
    assert "before the first '>' header" in capsys.readouterr().err


def test_info_structure(capsys):
    assert main(["info", str(EXAMPLES / "structures" / "T1030TS427_1-D2.pdb")]) == 0
    out = capsys.readouterr().out
    assert "CASP TS" in out and "target: T1030" in out and "models: 1 (1)" in out
    assert "chain (blank): 119 residues, numbered 155-273" in out
    assert "gaps in numbering: none" in out
    assert "complete residues 119/119" in out
    assert "    NTPV" in out or "sequence:" in out


def test_info_native_with_gaps(capsys, casp_dir):
    assert main(["info", str(casp_dir / "natives" / "T1027-D1.pdb")]) == 0
    out = capsys.readouterr().out
    assert "99 residues, numbered 8-134" in out
    assert "gaps in numbering: 19-33 (15), 82-94 (13); 28 numbers missing" in out


def test_info_errors(tmp_path, capsys):
    path = tmp_path / "x.pdb"
    path.write_text(GOOD_PDB)
    assert main(["info", str(path), "--chain", "Z"]) == 2
    assert "chain 'Z' not found; protein chains: 'A'" in capsys.readouterr().err
    assert main(["info", str(path), "--model", "4"]) == 2
    assert "model 4 not found" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "missing.pdb")]) == 2
    assert "missing.pdb: file not found" in capsys.readouterr().err


def test_console_script_subprocess(tmp_path):
    script = Path(sys.executable).parent / "foldkit"
    bad = tmp_path / "bad.fasta"
    bad.write_text(">q\nMK?\n")
    result = subprocess.run([str(script), "check", str(EXAMPLES / "T1084.fasta"), str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "T1084.fasta: OK (fasta): 1 FASTA record, length 73" in result.stdout
    assert "bad.fasta, record 'q', line 2, column 3: invalid symbol '?'" in result.stderr
    assert "Traceback" not in result.stderr
