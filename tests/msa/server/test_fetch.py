"""fetch_server_msas against the local ColabFold-API server: requests, merged MSAs, pairing, templates, cache."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import numpy as np
import pytest

from foldkit import __version__
from foldkit.features.raw import make_msa_features, species_id
from foldkit.io.msa_files import read_stockholm, write_a3m
from foldkit.msa.server import fetch_server_msas, record_cache_dir
from foldkit.msa.server.archive import split_entries
from foldkit.msa.server.progress import ProgressLine
from tests.msa.server.conftest import FAST, MONOMER_CASES
from tests.msa.server.fake_server import reference_server


def fetch(server, queries, tmp_path, **options):
    messages = []
    cache_dirs = {record_id: record_cache_dir(tmp_path / record_id) for record_id, _ in queries}
    options.setdefault("settings", FAST)
    results = fetch_server_msas(queries, cache_dirs, url=server.url, log=messages.append, progress=False, **options)
    return results, messages


def test_one_job_for_all_records_and_alphafold_row_order(server, monomers, af2_reference, tmp_path):
    queries = [(case, monomers[case]) for case in MONOMER_CASES] + [("copy", monomers["mono_full_templates"])]
    results, messages = fetch(server, queries, tmp_path)

    assert messages[0] == f"msa-server: sending 3 sequence(s) of 4 record(s) to {server.url}"
    assert server.counts["submit_msa"] == 1 and server.counts["download"] == 1
    endpoint, mode, query = server.submitted[0]
    distinct = [monomers[case] for case in MONOMER_CASES]
    assert (endpoint, mode) == ("ticket/msa", "env")
    assert query == "".join(f">{101 + k}\n{sequence}\n" for k, sequence in enumerate(distinct))
    assert server.user_agents == {f"foldkit/{__version__}"}

    for case in MONOMER_CASES:
        # UniRef entry then the environmental one, deduplicated = AlphaFold's uniref90, bfd, mgnify order
        reference = np.load(af2_reference / "pipeline" / case / "raw_features.npz")
        features = make_msa_features([results[case].unpaired])
        assert np.array_equal(features["msa"], reference["msa"]), case
        assert np.array_equal(features["deletion_matrix_int"], reference["deletion_matrix_int"]), case
        assert results[case].unpaired.descriptions[0] == case
    assert results["copy"].unpaired.sequences == results["mono_full_templates"].unpaired.sequences

    entry = results["copy"].chains[0].entry_dir
    assert entry.parent == tmp_path / "copy" / "msas" / "server"
    source = json.loads((entry / "source.json").read_text())
    assert source["server"] == server.url and source["mode"] == "env" and source["query_number"] == 101
    assert (entry / "uniref.a3m").read_text().startswith(f">101\n{monomers['mono_full_templates']}\n")
    assert not list((tmp_path / "copy" / "msas" / "server").glob("ticket_*.json"))


def test_rerun_sends_nothing_and_new_records_reuse_the_cache(server, monomers, tmp_path):
    first = [("a", monomers["mono_full_templates"])]
    fetch(server, first, tmp_path)
    server.reset_counts()
    again, messages = fetch(server, first + [("b", monomers["mono_full_templates"])], tmp_path)
    assert sum(server.counts.values()) == 0
    assert messages[0] == f"msa-server: all 2 record(s) found in the cache; no sequence is sent to {server.url}"
    assert again["b"].unpaired.sequences == again["a"].unpaired.sequences
    assert (again["b"].chains[0].entry_dir / "source.json").is_file()

    fetch(server, [("c", monomers["mono_no_templates"])] + first, tmp_path)
    assert server.submitted == [("ticket/msa", "env", f">101\n{monomers['mono_no_templates']}\n")]


def test_uniref_only_mode(server, monomers, af2_reference, tmp_path):
    sequence = monomers["mono_full_templates"]
    results, _ = fetch(server, [("q", sequence)], tmp_path, use_env=False)
    assert server.submitted[0][1] == "all"
    uniref = read_stockholm(af2_reference / "pipeline" / "mono_full_templates" / "msas" / "uniref90_hits.sto")
    assert results["q"].unpaired.sequences == tuple(dict.fromkeys(uniref.sequences))
    assert not (results["q"].chains[0].entry_dir / "bfd.mgnify30.metaeuk30.smag30.a3m").exists()
    # the env result is another cache entry: asking for it later submits again
    fetch(server, [("q", sequence)], tmp_path)
    assert [mode for _, mode, _ in server.submitted] == ["all", "env"]


def test_heteromer_gets_pairing_job_and_row_aligned_pairs(server, heteromer, af2_reference, tmp_path):
    chains, _, shared = heteromer
    results, _ = fetch(server, [("cplx", list(chains))], tmp_path)
    pair_requests = [(mode, query) for endpoint, mode, query in server.submitted if endpoint == "ticket/pair"]
    assert pair_requests == [("pairgreedy", f">101\n{chains[0]}\n>102\n{chains[1]}\n")]
    a, b = results["cplx"].chains
    assert len(a.paired) == len(b.paired) == 1 + len(shared)
    assert a.paired.sequences[0] == chains[0] and b.paired.sequences[0] == chains[1]
    for i in range(1, len(a.paired)):
        assert species_id(a.paired.descriptions[i]) == species_id(b.paired.descriptions[i])
    assert sorted(species_id(d) for d in a.paired.descriptions[1:]) == shared
    for label, chain in zip("AB", (a, b)):
        reference = np.load(af2_reference / "pipeline" / "multi_hetero_2chain" / f"chain_{label}_raw_features.npz")
        assert np.array_equal(make_msa_features([chain.unpaired])["msa"], reference["msa"])
    pair_dir = tmp_path / "cplx" / "msas" / "server"
    assert len(list(pair_dir.glob("pairgreedy_*/pair.*.a3m"))) == 2


def test_pairing_modes_and_homomers(server, heteromer, monomers, tmp_path):
    chains, _, _ = heteromer
    fetch(server, [("c1", list(chains))], tmp_path, pairing="complete", pair_env=True)
    fetch(server, [("c2", list(chains))], tmp_path, pairing=None)
    homomer, _ = fetch(server, [("homo", [monomers["mono_no_templates"]] * 2)], tmp_path)
    modes = [mode for endpoint, mode, _ in server.submitted if endpoint == "ticket/pair"]
    assert modes == ["paircomplete-env"]
    assert [c.paired for c in homomer["homo"].chains] == [None, None]
    assert homomer["homo"].chains[0].unpaired == homomer["homo"].chains[1].unpaired


def test_templates_fetch_hits_and_structures(server, monomers, tmp_path):
    results, messages = fetch(server, [("t", monomers["mono_full_templates"])], tmp_path, templates=True)
    chain = results["t"].chains[0]
    assert [hit.name for hit in chain.template_hits][:3] == ["1igy_B", "0ncb_H", "1ncb_L"]
    assert chain.template_hits_path == chain.entry_dir / "pdb70.m8"
    assert server.counts["template"] == 1 and messages[-1].startswith("msa-server: fetching template")
    names = {path.name for path in chain.template_dir.iterdir()}
    assert {"pdb70_a3m.ffdata", "pdb70_a3m.ffindex", "pdb70_hhm.ffindex", "pdb70_cs219.ffindex",
            "1igy.cif", "1ncb.cif"} <= names
    index = (chain.template_dir / "pdb70_a3m.ffindex").read_text().split()
    assert "1igy_B" in index and "0ncb_H" in index
    server.reset_counts()
    fetch(server, [("t", monomers["mono_full_templates"])], tmp_path, templates=True)
    assert sum(server.counts.values()) == 0


def test_split_entries_joins_repeated_queries():
    text = ">101\nAC\n>x\nA-\n\0>102\nGG\n\0>101\nAC\n>y\n-C\n\0"
    entries = split_entries(text, "pair.a3m")
    assert entries == {101: ">101\nAC\n>x\nA-\n>101\nAC\n>y\n-C\n", 102: ">102\nGG\n"}


def test_cache_belongs_to_its_server_and_half_written_entries_are_redone(server, monomers, af2_reference,
                                                                           tmp_path):
    sequence = monomers["mono_no_templates"]
    results, _ = fetch(server, [("q", sequence)], tmp_path)
    with reference_server(af2_reference) as other:
        fetch(other, [("q", sequence)], tmp_path)
        assert other.counts["submit_msa"] == 1                 # another server: fetched again
    source = results["q"].chains[0].entry_dir / "source.json"
    source.unlink()                                            # as if killed before the entry was complete
    server.reset_counts()
    fetch(server, [("q", sequence)], tmp_path)
    assert server.counts["submit_msa"] == 1 and source.is_file()


def test_progress_line_rewrites_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        line = ProgressLine(stream)
        for text in ("msa-server: job: PENDING [0:00]", "msa-server: job: RUNNING [0:05]",
                     "msa-server: job: RUNNING [0:10]"):
            line(text)
        line.close()
    assert terminal.getvalue().count("\r") == 3 and terminal.getvalue().endswith("[0:10]\n")
    assert log.getvalue().splitlines() == ["msa-server: job: PENDING [0:00]", "msa-server: job: RUNNING [0:05]"]


def test_template_folder_is_a_database_hhsearch_reads(server, monomers, tmp_path):
    if shutil.which("hhsearch") is None:
        pytest.skip("hhsearch (HH-suite) is not installed")
    results, _ = fetch(server, [("t", monomers["mono_full_templates"])], tmp_path, templates=True)
    chain = results["t"].chains[0]
    write_a3m(chain.unpaired, tmp_path / "query.a3m")
    subprocess.run(["hhsearch", "-i", str(tmp_path / "query.a3m"), "-d", str(chain.template_dir / "pdb70"),
                    "-o", str(tmp_path / "hits.hhr"), "-cpu", "1", "-v", "0"], check=True, timeout=120)
    table = (tmp_path / "hits.hhr").read_text().split(" No Hit", 1)[1].splitlines()[1:3]
    assert sorted(line.split()[1] for line in table) == ["0ncb_H", "1igy_B"]
