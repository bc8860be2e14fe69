"""``foldkit msa --msa-server URL`` end to end against the local server."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from foldkit.cli import main
from foldkit.features.raw import make_msa_features
from foldkit.io.msa_files import read_a3m
from foldkit.msa.server import DEFAULT_SERVER_URL
from foldkit.msa.server.options import add_server_arguments, resolve_server_url
from tests.msa.server.conftest import MONOMER_CASES
from tests.msa.server.fake_server import use_fast_client


@pytest.fixture
def fast_client(monkeypatch):
    use_fast_client(monkeypatch)


def write_fasta(path, records):
    path.write_text("".join(f">{name} test record\n{sequence}\n" for name, sequence in records))
    return path


def test_one_query_writes_the_merged_a3m(server, monomers, af2_reference, tmp_path, capsys, fast_client):
    case = "mono_full_templates"
    query = write_fasta(tmp_path / "query.fasta", [(case, monomers[case])])
    out = tmp_path / "query.a3m"
    assert main(["msa", str(query), "--msa-server", server.url, "-o", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"msa-server: sending 1 sequence(s) of 1 record(s) to {server.url}"
    assert err[-2] == f"{case}: 131 hits -> {out}"
    msa = read_a3m(out, query_sequence=monomers[case])
    reference = np.load(af2_reference / "pipeline" / case / "raw_features.npz")
    assert np.array_equal(make_msa_features([msa])["msa"], reference["msa"])
    assert msa.descriptions[0] == case
    assert len(list((tmp_path / "msa_server" / case).glob("env_*/uniref.a3m"))) == 1

    server.reset_counts()
    assert main(["msa", "--msa-server", server.url, str(query), "-o", str(out), "--no-progress"]) == 0
    assert sum(server.counts.values()) == 0 and "found in the cache" in capsys.readouterr().err


def test_many_queries_into_a_folder_uniref_only(server, monomers, tmp_path, capsys, fast_client):
    query = write_fasta(tmp_path / "many.fasta", [(case, monomers[case]) for case in MONOMER_CASES])
    out = tmp_path / "msas"
    assert main(["msa", str(query), "-o", str(out), "--msa-server", server.url, "--msa-server-uniref-only",
                 "--templates", "--no-progress"]) == 0
    assert server.counts["submit_msa"] == 1 and server.submitted[0][1] == "all"
    for case in MONOMER_CASES:
        assert read_a3m(out / f"{case}.a3m", query_sequence=monomers[case]).descriptions[0] == case
        assert len(list((out / "msa_server" / case).glob("all_*/pdb70.m8"))) == 1
    assert len(list((out / "msa_server" / "mono_full_templates").glob("all_*/templates/1igy.cif"))) == 1
    assert server.counts["template"] == 3          # one per sequence: every case has (some spurious) hits


def test_server_errors_are_one_line_exit_2(server, monomers, tmp_path, capsys, fast_client):
    case = "mono_no_templates"
    query = write_fasta(tmp_path / "q.fasta", [(case, monomers[case])])
    server.scripts.submit = ["HTML"]
    assert main(["msa", str(query), "--msa-server", server.url, "-o", str(tmp_path / "q.a3m")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"foldkit msa: error: MSA server {server.url}: MSA job (env, 1 sequences) for "
                              f"record {case}: submitting: the server did not answer with a job status but "
                              "HTTP 200 (text/html)")
    assert "Traceback" not in "\n".join(err) and not (tmp_path / "q.a3m").exists()


def test_option_combinations(tmp_path, capsys, monkeypatch):
    query = write_fasta(tmp_path / "q.fasta", [("q", "MKV")])
    assert main(["msa", str(query), "--templates", "-o", str(tmp_path / "x.a3m")]) == 2
    assert "--templates needs --msa-server" in capsys.readouterr().err
    assert main(["msa", str(query), "--db", str(query), "--msa-server", "http://127.0.0.1:9",
                 "-o", str(tmp_path / "x.a3m")]) == 2
    assert "either --db" in capsys.readouterr().err
    assert main(["msa", str(query), "--msa-server", "ftp://x", "-o", str(tmp_path / "x.a3m")]) == 2
    assert "expected an http:// or https:// URL" in capsys.readouterr().err


def test_bare_option_means_the_public_server_and_keeps_the_query():
    parser = argparse.ArgumentParser()
    parser.add_argument("query", nargs="?")
    add_server_arguments(parser)
    args = parser.parse_args(["--msa-server", "query.fasta"])
    assert resolve_server_url(args) == DEFAULT_SERVER_URL and str(args.query) == "query.fasta"
    args = parser.parse_args(["query.fasta", "--msa-server"])
    assert resolve_server_url(args) == DEFAULT_SERVER_URL and args.query == "query.fasta"
    args = parser.parse_args(["query.fasta", "--msa-server", "https://msa.example.org/"])
    assert resolve_server_url(args) == "https://msa.example.org"
    assert resolve_server_url(parser.parse_args(["query.fasta"])) is None


def test_nothing_leaves_the_machine_without_the_option(monomers, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the MSA server client was used without --msa-server")

    monkeypatch.setattr("foldkit.msa.server.http.Transport.__init__", no_network)
    query = write_fasta(tmp_path / "q.fasta", [("q", monomers["mono_no_templates"])])
    assert main(["msa", str(query), "--backend", "single", "-o", str(tmp_path / "q.a3m")]) == 0
    assert not (tmp_path / "msa_server").exists()
