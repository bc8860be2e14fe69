"""``foldkit msa`` end to end."""

from __future__ import annotations


from foldkit.cli import main
from foldkit.io.msa_files import read_a3m


def test_msa_command_writes_a3m(search_case, tmp_path, capsys):
    name, sequence, database, mates, query = search_case
    out = tmp_path / "out.a3m"
    assert main(["msa", str(query), "--db", str(database), "-o", str(out), "--cpu", "1", "--no-progress"]) == 0
    msa = read_a3m(out, query_sequence=sequence)
    assert set(mates) <= {d.split("/")[0] for d in msa.descriptions[1:]}


def test_single_sequence_mode(search_case, tmp_path):
    _, sequence, _, _, query = search_case
    out = tmp_path / "single.a3m"
    assert main(["msa", str(query), "-o", str(out), "--backend", "single"]) == 0
    assert read_a3m(out).sequences == (sequence,)


def test_bad_database_is_one_line_error(search_case, tmp_path, capsys):
    query = search_case[4]
    bad = tmp_path / "bad.fasta"
    bad.write_text("not fasta\n")
    assert main(["msa", str(query), "--db", str(bad), "-o", str(tmp_path / "x.a3m")]) == 2
    err = capsys.readouterr().err
    assert "bad.fasta" in err and "line 1" in err and "Traceback" not in err


def test_command_line_overrides_reach_both_engines():
    import argparse

    from foldkit.commands import msa as msa_command

    given = argparse.Namespace(iterations=3, e_value=1e-3, max_hits=50)
    jackhmmer = msa_command._jackhmmer_settings(given)
    mmseqs = msa_command._mmseqs_settings(given)
    assert (jackhmmer.iterations, jackhmmer.e_value, jackhmmer.max_sequences) == (3, 1e-3, 50)
    assert (mmseqs.iterations, mmseqs.e_value, mmseqs.max_seqs) == (3, 1e-3, 50)
    defaults = msa_command._jackhmmer_settings(argparse.Namespace(iterations=None, e_value=None, max_hits=None))
    assert (defaults.iterations, defaults.e_value, defaults.max_sequences) == (1, 1e-4, 10000)
