"""ColabFold's complex A3M: splitting rows into paired and unpaired MSAs, checks, writing it back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from foldkit.errors import InputError
from foldkit.io.colabfold_a3m import (format_colabfold_complex_a3m, is_complex_a3m, parse_colabfold_complex_a3m,
                                      read_colabfold_complex_a3m)
from foldkit.io.complexes import complexes_from_text
from foldkit.io.msa_files import parse_a3m
from tests.conftest import REPO_ROOT

HETERO = ("#5,4\t1,2\n"
          ">101\t102\nMKVLAGSTW\n"                       # query = paired row 0
          ">UniRef100_P1\tUniRef100_Q1\nMKaVLLGSTA\n"   # paired (insertion 'a' belongs to chain 1)
          ">UniRef100_P2\tUniRef100_Q2\nMKVLLGcT-A\n"   # paired (insertion 'c' at chain 2's column 2)
          ">101\nMKVLA----\n>x1\nMKV-A----\n"          # unpaired chain 1
          ">x1\nMKV-A----\n"                            # repeated record: dropped
          ">102\n-----GSTW\n>y1\n-----GS-W\n"          # unpaired chain 2
          ">empty\n---------\n")                        # no residues: dropped


def test_rows_are_split_by_chain_lengths():
    parsed = parse_colabfold_complex_a3m(HETERO)
    assert parsed.sequences == ("MKVLA", "GSTW") and parsed.copies == (1, 2)
    paired_a, paired_b = parsed.paired
    assert paired_a.sequences == ("MKVLA", "MKVLL", "MKVLL") and paired_a.deletion_matrix[1] == (0, 0, 1, 0, 0)
    assert paired_b.sequences == ("GSTW", "GSTA", "GT-A") and paired_b.deletion_matrix[2] == (0, 1, 0, 0)
    assert paired_a.descriptions[1:] == ("UniRef100_P1", "UniRef100_P2") and paired_b.descriptions[1] == \
        "UniRef100_Q1"
    assert [m.sequences for m in parsed.unpaired] == [("MKVLA", "MKV-A"), ("GSTW", "GS-W")]


def test_round_trip_and_complex_check(tmp_path):
    parsed = parse_colabfold_complex_a3m(HETERO)
    text = format_colabfold_complex_a3m(parsed.sequences, parsed.copies, parsed.unpaired, parsed.paired)
    again = parse_colabfold_complex_a3m(text)
    assert again == parsed
    path = tmp_path / "c.a3m"
    path.write_bytes(text.replace("\n>", "\n\x00>", 3).encode())              # MMseqs2's NUL separators
    complex_ = complexes_from_text(">c\nMKVLA:GSTW:GSTW\n", "c.fasta")[0]
    unpaired, paired = read_colabfold_complex_a3m(path, complex_)
    assert sorted(unpaired) == ["A", "B"] and len(paired["B"]) == 3
    other = complexes_from_text(">c\nMKVLA:GSTW\n", "c.fasta")[0]
    with pytest.raises(InputError, match=r"c\.a3m, line 1: the file's chains \(5 aa x1, 4 aa x2\) are not those "
                                         r"of complex 'c' \(5 aa x1, 4 aa x1\)"):
        read_colabfold_complex_a3m(path, other)


def test_homooligomer_file_has_unpaired_rows_only_and_query_is_added():
    parsed = parse_colabfold_complex_a3m("#4\t3\n>101\nMKVL\n>h\nMRVL\n")
    assert parsed.paired is None and parsed.unpaired[0].sequences == ("MKVL", "MRVL")
    three = parse_colabfold_complex_a3m("#2,2,2\t1,1,1\n>101\t102\t103\nMKGSTW\n>p\tq\tr\nMK--TW\n"
                                        ">102\n--GA--\n")
    assert three.paired[1].sequences == ("GS", "--")                        # a paired row may skip a chain
    assert three.unpaired[1].sequences == ("GS", "GA")                      # the query was missing: added first
    assert three.unpaired[0].sequences == ("MK",)


@pytest.mark.parametrize("text, fragments", [
    ("#5,x\t1\n>a\nMKVLA\n", ["line 1", "not ColabFold's complex A3M header"]),
    ("#5,4\t1\n>a\nMKVLAGSTW\n", ["line 1", "2 lengths and 1 copy numbers"]),
    ("#5,4\t1,1\n>q\nMKVLAGSTW\n>r\nMKVLAGST\n", ["record 'r'", "line 4", "8 aligned columns", "9"]),
    ("#5,4\t1,1\n>q\nMKVLAGSTWW\n", ["record 'q'", "more aligned columns than the header's 9"]),
    ("#5,4\t1,1\n>q\nMK-LAGSTW\n", ["record 'q'", "the first record must be the query"]),
    (">q\nMKV\n", ["line 1", "first line must be '#<lengths>"]),
])
def test_bad_files_are_located(text, fragments):
    with pytest.raises(InputError) as caught:
        parse_colabfold_complex_a3m(text, "c.a3m")
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_check_summarizes_a_complex_a3m(tmp_path):
    path = tmp_path / "c.a3m"
    path.write_text(HETERO)
    assert is_complex_a3m(HETERO) and not is_complex_a3m(">q\nMKV\n")
    run = subprocess.run([sys.executable, "-m", "foldkit.cli", "check", str(path)], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (f"{path}: OK (a3m): ColabFold complex A3M, 2 distinct chains (5 aa, 4 aa x2): 3 "
                                  "paired rows (query included), unpaired rows per chain 2 / 2")
    plain = tmp_path / "plain.a3m"
    plain.write_text(">q\nMKV\n>h\nMRV\n")
    assert parse_a3m(plain.read_text()).sequences == ("MKV", "MRV")
