"""`foldkit check` on alignments and parameter files (formats added by the MSA and model work)."""

from __future__ import annotations

import numpy as np

from foldkit.cli import main
from tests.conftest import AF2_REFERENCE, TRAIN_DIR


def _check(capsys, *paths):
    code = main(["check", *map(str, paths)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_check_a3m(capsys):
    code, text = _check(capsys, AF2_REFERENCE / "tiny_model_3_msa.a3m")
    assert code == 0
    assert "A3M alignment, 32 sequences" in text and "query length 37" in text


def test_check_stockholm_gz(capsys):
    code, text = _check(capsys, TRAIN_DIR / "msas" / "examples" / "globins4.sto.gz")
    assert code == 0
    assert "Stockholm alignment, 4 sequences" in text


def test_check_a3m_with_ragged_rows_fails(tmp_path, capsys):
    bad = tmp_path / "bad.a3m"
    bad.write_text(">query\nACDEFG\n>hit\nAC-E\n")
    code, text = _check(capsys, bad)
    assert code == 2
    assert "bad.a3m" in text and "record 'hit'" in text and "4 aligned columns" in text


def test_check_params_with_wrong_tree_fails(capsys):
    code, text = _check(capsys, AF2_REFERENCE / "tiny_model_1_ptm_params.npz")
    assert code == 2
    assert "not a valid parameter file for model_1_ptm" in text and "shape mismatches" in text


def test_check_params_object_array_refused(tmp_path, capsys):
    bad = tmp_path / "params_model_3.npz"
    np.savez(bad, **{"alphafold/x//weights": np.array([{"a": 1}], dtype=object)})
    code, text = _check(capsys, bad)
    assert code == 2
    assert "params_model_3.npz" in text
