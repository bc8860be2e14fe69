"""A3M / Stockholm parsing, merging and the errors on malformed files."""

from __future__ import annotations

import gzip

import pytest

from foldkit.errors import InputError
from foldkit.io.msa_files import (Msa, format_a3m, merge_msas, parse_a3m, parse_stockholm, read_a3m,
                                  read_msa, write_a3m)
from tests.conftest import AF2_REFERENCE, TRAIN_DIR

A3M = """>query
MKTAY
>hit1 tr|A0A0|A0A0_HUMAN
MKaaT-Y
>hit2
-KTAYcc
"""


def test_parse_a3m_deletions_and_insertions():
    msa = parse_a3m(A3M)
    assert msa.sequences == ("MKTAY", "MKT-Y", "-KTAY")
    assert msa.deletion_matrix[1] == (0, 0, 2, 0, 0)
    assert msa.deletion_matrix[2] == (0, 0, 0, 0, 0)  # trailing insertions are dropped
    assert msa.descriptions[1] == "hit1 tr|A0A0|A0A0_HUMAN"


def test_a3m_round_trip(tmp_path):
    msa = parse_a3m(A3M)
    path = write_a3m(msa, tmp_path / "x.a3m")
    assert read_a3m(path) == msa
    bare = Msa(msa.sequences, msa.deletion_matrix, msa.descriptions)
    assert parse_a3m(format_a3m(bare)).deletion_matrix == msa.deletion_matrix


def test_merge_drops_duplicates_keeping_first():
    first = parse_a3m(A3M)
    second = parse_a3m(">q\nMKTAY\n>dup\nMKTddd-Y\n>new\nMKTAA\n")
    merged = merge_msas([first, second])
    assert merged.sequences == ("MKTAY", "MKT-Y", "-KTAY", "MKTAA")
    assert merged.deletion_matrix[1] == (0, 0, 2, 0, 0)
    assert merged.descriptions[-1] == "new"


def test_golden_a3m_parses():
    msa = read_a3m(AF2_REFERENCE / "tiny_model_1_ptm_msa.a3m", "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPIL")
    assert len(msa) == 32 and msa.num_columns == 37


def test_training_msa_gz_parses():
    path = sorted((TRAIN_DIR / "msas").glob("*.a3m.gz"))[0]
    msa = read_msa(path)
    assert len(msa) >= 1
    with gzip.open(path, "rt") as handle:
        assert handle.readline()[1:].strip() == msa.descriptions[0]


@pytest.mark.parametrize("text,query,match,line", [
    (">q\nMKTAY\n>h\nMKT\n", None, "aligned columns", 3),
    (">q\nMKTAY\n>h\nMK1AY\n", None, "not an amino acid", 4),
    ("", None, "empty", None),
    ("MKTAY\n", None, "before the first", 1),
    (">q\nMKTAY\n>h\n", None, "no sequence", 3),
    (">h\nMKTAA\n>q\nMKTAY\n", "MKTAY", "must be the first", 3),
    (">q\nMKTAW\n", "MKTAY", "differs from the query", 1),
    (">q\nMK-AY\n", None, "first record must be the query", 1),
])
def test_malformed_a3m(tmp_path, text, query, match, line):
    path = tmp_path / "bad.a3m"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        read_a3m(path, query)
    assert str(path) in str(info.value)
    assert info.value.line == line


def test_bad_character_has_column(tmp_path):
    path = tmp_path / "bad.a3m"
    path.write_text(">q\nMKTAY\n>h\nMK*AY\n")
    with pytest.raises(InputError) as info:
        read_a3m(path)
    assert (info.value.line, info.value.column) == (4, 3)


STO = """# STOCKHOLM 1.0
#=GS hit1 DE something
query   MK.TAY
hit1    MKaT-Y
hit2    -K.TAY
#=GC RF xx.xxx
//
"""


def test_parse_stockholm_with_reference_line():
    msa = parse_stockholm(STO, query_sequence="MKTAY")
    assert msa.sequences == ("MKTAY", "MKT-Y", "-KTAY")
    assert msa.deletion_matrix[1] == (0, 0, 1, 0, 0)
    assert msa.descriptions == ("query", "hit1", "hit2")
    assert msa.rows[1] == "MKaT-Y"


def test_parse_stockholm_without_rf_uses_first_row():
    text = "# STOCKHOLM 1.0\nquery MK-TAY\nhit1 MKAT-Y\n//\n"
    msa = parse_stockholm(text)
    assert msa.sequences == ("MKTAY", "MKT-Y")
    assert msa.deletion_matrix[1] == (0, 0, 1, 0, 0)


def test_pfam_stockholm_example():
    msa = read_msa(TRAIN_DIR / "msas" / "examples" / "globins4.sto.gz")
    assert len(msa) == 4


@pytest.mark.parametrize("text,match,line", [
    ("query MKTAY\n", "no '# STOCKHOLM", 1),
    ("# STOCKHOLM 1.0\nquery MKTAY\nhit MKT\n//\n", "columns", 3),
    ("# STOCKHOLM 1.0\nquery MKTAY\nhit MK1AY\n//\n", "not an amino acid", 3),
    ("# STOCKHOLM 1.0\n//\n", "empty", None),
    ("# STOCKHOLM 1.0\nquery MKTAY extra\n//\n", "expected", 2),
])
def test_malformed_stockholm(tmp_path, text, match, line):
    path = tmp_path / "bad.sto"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        read_msa(path)
    assert str(path) in str(info.value)
    assert info.value.line == line


def test_a3m_dots_are_insert_gaps_and_single_sequence():
    msa = parse_a3m(">q\nMK.TAY\n>h\nMKaTA-\n")
    assert msa.sequences == ("MKTAY", "MKTA-") and msa.deletion_matrix[1] == (0, 0, 1, 0, 0)
    single = Msa.single_sequence("MKTAY", "q")
    assert len(single) == 1 and single.deletion_matrix == ((0,) * 5,)
    assert len(merge_msas([msa, single]).truncate(1)) == 1
