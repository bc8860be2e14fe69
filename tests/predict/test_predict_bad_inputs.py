"""Bad inputs to `foldkit predict`: one clear message, exit 2, nothing written (no model is run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldkit import cli
from foldkit.predict.models import NO_BUNDLED_MODEL
from tests.predict.helpers import a3m_for, make_tiny_params_dir, write_fasta

SEQUENCE = "MKTAYIAKQRQISFVKSHFSRQ"


@pytest.fixture()
def workdir(tmp_path):
    make_tiny_params_dir(tmp_path / "params")
    return tmp_path


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _predict_fails(workdir: Path, capsys, fasta: Path, *extra: str, params: bool = True) -> str:
    before = _files(workdir.parent)
    args = ["predict", str(fasta), "-o", str(workdir / "out"), *extra]
    if params:
        args += ["--params-dir", str(workdir / "params")]
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("foldkit predict: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert not (workdir / "out").exists()
    assert _files(workdir.parent) == before   # nothing written anywhere
    return err


def test_invalid_residue_names_file_record_line_column(workdir, capsys):
    fasta = workdir / "bad.fasta"
    fasta.write_text(">ok\nMKTAY\n>bad one\nMKT1AY\n")
    err = _predict_fails(workdir, capsys, fasta)
    assert "bad.fasta" in err and "record 'bad'" in err and "line 4" in err and "column 4" in err
    assert "digit '1'" in err


def test_empty_fasta(workdir, capsys):
    fasta = workdir / "empty.fasta"
    fasta.write_text("\n\n")
    assert "file is empty" in _predict_fails(workdir, capsys, fasta)


def test_missing_fasta(workdir, capsys):
    assert "file not found" in _predict_fails(workdir, capsys, workdir / "nope.fasta")


def test_missing_parameters_name_params_fetch(workdir, capsys):
    fasta = write_fasta(workdir / "in.fasta", {"q": SEQUENCE})
    err = _predict_fails(workdir, capsys, fasta, "--params-dir", str(workdir / "no_such_dir"), params=False)
    assert "foldkit params fetch" in err and "no_such_dir" in err
    err = _predict_fails(workdir, capsys, fasta, "--models", "model_1_ptm")
    assert "no parameter file for model_1_ptm" in err and "params fetch" in err and "tiny_ptm" in err
    (workdir / "empty_params").mkdir()
    err = _predict_fails(workdir, capsys, fasta, "--params-dir", str(workdir / "empty_params"), params=False)
    assert "no params_<model>.npz" in err and "params fetch" in err


def test_no_bundled_model_yet(workdir, capsys, monkeypatch):
    monkeypatch.delenv("FOLDKIT_PARAMS_DIR", raising=False)
    fasta = write_fasta(workdir / "in.fasta", {"q": SEQUENCE})
    assert NO_BUNDLED_MODEL in _predict_fails(workdir, capsys, fasta, params=False)
    assert NO_BUNDLED_MODEL in _predict_fails(workdir, capsys, fasta, "--model", "mini", params=False)


def test_custom_params_without_config_or_broken(workdir, capsys):
    fasta = write_fasta(workdir / "in.fasta", {"q": SEQUENCE})
    (workdir / "params" / "params_tiny_ptm.json").unlink()
    err = _predict_fails(workdir, capsys, fasta)
    assert "sidecar params_tiny_ptm.json" in err
    (workdir / "params" / "params_tiny_ptm.json").write_text('{"data": {}, ')
    assert "not valid JSON" in _predict_fails(workdir, capsys, fasta)


def test_a3m_whose_query_differs(workdir, capsys):
    fasta = write_fasta(workdir / "in.fasta", {"q": SEQUENCE})
    a3m = workdir / "other.a3m"
    a3m.write_text(a3m_for("MKTAYIAKQRQISFVKSHFSRW", "q"))
    err = _predict_fails(workdir, capsys, fasta, "--msa", str(a3m))
    assert "other.a3m" in err and "differs from the query" in err


def test_one_msa_file_for_many_records_and_missing_msa_in_folder(workdir, capsys):
    fasta = write_fasta(workdir / "in.fasta", {"q": SEQUENCE, "r": SEQUENCE[:-1]})
    a3m = workdir / "q.a3m"
    a3m.write_text(a3m_for(SEQUENCE, "q"))
    assert "one <id>.a3m per record" in _predict_fails(workdir, capsys, fasta, "--msa", str(a3m))
    folder = workdir / "msas"
    folder.mkdir()
    (folder / "q.a3m").write_text(a3m_for(SEQUENCE, "q"))
    assert "no MSA for record 'r'" in _predict_fails(workdir, capsys, fasta, "--msa", str(folder))


@pytest.mark.parametrize("record_id", ["../escape", "a/../../b", "/etc/x", "..\\up"])
def test_id_that_tries_path_traversal(workdir, capsys, record_id):
    fasta = write_fasta(workdir / "in.fasta", {"fine": SEQUENCE, record_id: SEQUENCE})
    err = _predict_fails(workdir, capsys, fasta)
    assert "looks like a file path" in err and f"record '{record_id}'" in err and "line 3" in err


def test_two_msa_sources_and_bad_numbers(workdir, capsys):
    fasta = write_fasta(workdir / "in.fasta", {"q": SEQUENCE})
    a3m = workdir / "q.a3m"
    a3m.write_text(a3m_for(SEQUENCE, "q"))
    assert "only one MSA source" in _predict_fails(workdir, capsys, fasta, "--msa", str(a3m), "--single-sequence")
    assert "not both" in _predict_fails(workdir, capsys, fasta, "--model", "mini")
    with pytest.raises(SystemExit):
        cli.main(["predict", str(fasta), "-o", str(workdir / "out"), "--num-seeds", "0"])
    assert not (workdir / "out").exists()


def test_output_path_is_a_file(workdir, capsys):
    fasta = write_fasta(workdir / "in.fasta", {"q": SEQUENCE})
    (workdir / "out").write_text("not a folder")
    capsys.readouterr()
    assert cli.main(["predict", str(fasta), "-o", str(workdir / "out"), "--params-dir", str(workdir / "params")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert (workdir / "out").read_text() == "not a folder"


def test_record_named_like_the_summary_file(workdir, capsys):
    fasta = write_fasta(workdir / "in.fasta", {"Summary.csv": SEQUENCE})
    assert "clash with the run's summary file" in _predict_fails(workdir, capsys, fasta)
