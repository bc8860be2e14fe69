"""pyhmmer jackhmmer search on a small database cut from the training seqdb."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest

from foldkit.errors import InputError
from foldkit.io.msa_files import read_msa
from foldkit.msa.database import read_fasta_database
from foldkit.msa.search import UNIREF90_SETTINGS, SequenceDatabase, search_msa


@pytest.fixture(scope="module")
def database(search_case):
    return SequenceDatabase.from_fasta(search_case[2])


def test_alphafold_defaults():
    s = UNIREF90_SETTINGS
    assert (s.iterations, s.e_value, s.f1, s.f2, s.f3, s.max_sequences) == (1, 1e-4, 5e-4, 5e-5, 5e-7, 10000)


def test_search_recovers_cluster_members(search_case, database):
    name, sequence, _, mates, _ = search_case
    msa = search_msa(name, sequence, database, cpus=1, progress=False)
    assert msa.sequences[0] == sequence and msa.descriptions[0] == name
    found = {d.split("/")[0] for d in msa.descriptions[1:]}
    assert len(mates) >= 4
    assert set(mates) <= found, set(mates) - found
    assert all(len(s) == len(sequence) for s in msa.sequences)


def test_rows_reproduce_target_segments(search_case, database):
    name, sequence, db_path, _, _ = search_case
    targets = {r.name: r.sequence for r in read_fasta_database(db_path)}
    msa = search_msa(name, sequence, database, cpus=1, progress=False)
    for description, row in zip(msa.descriptions[1:], msa.rows[1:]):
        target, span = description.split("/")
        start, end = map(int, span.split("-"))
        residues = "".join(c for c in row if c.isalpha()).upper()
        assert residues == targets[target][start - 1:end]


def test_iterations_and_truncation(search_case, database):
    name, sequence, _, mates, _ = search_case
    settings = dataclasses.replace(UNIREF90_SETTINGS, iterations=3)
    deep = search_msa(name, sequence, database, settings, cpus=1, progress=False)
    assert len(deep) >= len(mates) + 1
    short = search_msa(name, sequence, database, dataclasses.replace(settings, max_sequences=3),
                       cpus=1, progress=False)
    assert len(short) == 3


@pytest.mark.parametrize("text,match,line", [
    ("", "empty database", None),
    ("\n\n", "empty database", None),
    ("MKTAYIAK\n>a\nMKT\n", "not a FASTA", 1),
    (">a\nMKT\n>b\nMK1T\n", "not an amino acid", 4),
    (">a\n>b\nMKT\n", "no sequence", 1),
])
def test_bad_database(tmp_path, text, match, line):
    path = tmp_path / "db.fasta"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        SequenceDatabase.from_fasta(path)
    assert str(path) in str(info.value)
    assert info.value.line == line


def test_missing_database(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_fasta_database(tmp_path / "none.fasta")


@pytest.mark.skipif(shutil.which("jackhmmer") is None, reason="HMMER jackhmmer binary not on PATH")
def test_pyhmmer_rows_equal_jackhmmer_binary(search_case, database, tmp_path):
    """Same settings, same database: the binary's Stockholm (parsed via #=GC RF) gives the same rows."""
    name, sequence, db_path, _, query = search_case
    sto = tmp_path / "out.sto"
    subprocess.run(["jackhmmer", "-o", "/dev/null", "-A", str(sto), "--noali", "--F1", "0.0005",
                    "--F2", "0.00005", "--F3", "0.0000005", "--incE", "0.0001", "-E", "0.0001",
                    "--cpu", "1", "-N", "1", str(query), str(db_path)], check=True)
    binary = read_msa(sto, query_sequence=sequence)
    ours = search_msa(name, sequence, database, cpus=1, progress=False)
    assert dict(zip(binary.descriptions[1:], binary.sequences[1:])) == dict(zip(ours.descriptions[1:],
                                                                               ours.sequences[1:]))
    assert dict(zip(binary.descriptions, binary.deletion_matrix)) == dict(zip(ours.descriptions,
                                                                              ours.deletion_matrix))
