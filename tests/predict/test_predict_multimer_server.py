"""Complexes with ``--msa-server``: per-chain server MSAs plus the server's paired rows into multimer features.

The local ColabFold-API server answers for a heterodimer cut from the pipeline
reference case multi_hetero_2chain (chains of 40 and 30 residues: AlphaFold's
uniref90 + bfd/mgnify hits as the UniRef and environmental answers, its
UniProt hits paired by species as the pairing answer) and for a homodimer of
T1027's first 40 residues (mono_no_templates). The tiny random multimer
parameters of the golden cases run the network.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from foldkit import cli
from foldkit.features.multimer import complex_features_from_a3m
from foldkit.io.complexes import read_complexes
from foldkit.io.fasta import read_fasta
from foldkit.io.msa_files import Msa, merge_msas, read_a3m, read_stockholm
from tests.conftest import AF2_REFERENCE
from tests.msa.server.fake_server import FakeColabFoldServer, use_fast_client
from tests.msa.server.reference_data import (cut_chain_hits, cut_columns, mmcif_files, pdb70_entries,
                                             species_pairing)
from tests.predict.helpers import make_tiny_params_dir
from tests.predict.multimer_helpers import MULTIMER_MODEL, make_multimer_params_dir

PIPELINE = AF2_REFERENCE / "pipeline"
HETERO_WIDTHS = (40, 30)
HOMO_WIDTH = 40
PREDICTION = f"model_{MULTIMER_MODEL}_seed_0"
HAS_TEMPLATE_TOOLS = all(shutil.which(b) for b in ("hhsearch", "kalign"))


def _paired_msa(query: str, rows: str) -> Msa:
    """A chain's paired MSA as the client reads it: the query row, then the server's paired rows."""
    from foldkit.io.msa_files import parse_a3m

    return parse_a3m(f">query\n{query}\n{rows}")


@pytest.fixture(scope="module")
def data():
    """Server answers and the MSAs a correct client derives from them."""
    hetero = PIPELINE / "multi_hetero_2chain"
    queries = [q.sequence for q in read_fasta(hetero / "input.fasta")]
    hits, unpaired, uniprot, chains = {}, [], [], []
    for label, full, width in zip("AB", queries, HETERO_WIDTHS):
        answer, uniref, env = cut_chain_hits(hetero / "msas" / label, full, width)
        hits[full[:width]] = answer
        chains.append(full[:width])
        unpaired.append(merge_msas([uniref, env]))
        uniprot.append(cut_columns(read_stockholm(hetero / "msas" / label / "uniprot_hits.sto",
                                                  query_sequence=full), width))
    pairing = species_pairing(*uniprot)
    homo_full = read_fasta(PIPELINE / "mono_no_templates" / "input.fasta")[0].sequence
    homo_answer, homo_uniref, homo_env = cut_chain_hits(PIPELINE / "mono_no_templates" / "msas", homo_full,
                                                        HOMO_WIDTH)
    homo = homo_full[:HOMO_WIDTH]
    hits[homo] = homo_answer
    return {"hits": hits, "pairings": {tuple(chains): pairing}, "hetero": tuple(chains), "homo": homo,
            "unpaired": unpaired, "paired": [_paired_msa(c, rows) for c, rows in zip(chains, pairing)],
            "homo_unpaired": merge_msas([homo_uniref, homo_env])}


@pytest.fixture
def server(data):
    with FakeColabFoldServer(data["hits"], data["pairings"], templates=pdb70_entries(PIPELINE / "data"),
                             cifs=mmcif_files(PIPELINE / "data")) as running:
        yield running


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    return make_multimer_params_dir(tmp_path_factory.mktemp("mm_server_params") / "params")


def _fasta(path, data):
    path.write_text(f">hetero a heterodimer\n{':'.join(data['hetero'])}\n>homo a homodimer\n{data['homo']}:"
                    f"{data['homo']}\n")
    return path


def _predict(fasta, out, params, *extra):
    return cli.main(["predict", str(fasta), "-o", str(out), "--params-dir", str(params), "--num-recycle", "0",
                     "--num-seeds", "1", "--models-to-relax", "none", *extra])


def _assert_same_features(path, expected: dict) -> None:
    with np.load(path) as written:
        assert sorted(written.files) == sorted(expected)
        for key, value in expected.items():
            np.testing.assert_array_equal(written[key], np.asarray(value), err_msg=key)


def test_complexes_from_the_server_then_rerun_sends_nothing(server, data, params, tmp_path, capsys, monkeypatch):
    use_fast_client(monkeypatch)
    fasta = _fasta(tmp_path / "in.fasta", data)
    out = tmp_path / "out"
    assert _predict(fasta, out, params, "--msa-server", server.url) == 0
    capsys.readouterr()
    # one MSA job for the three distinct chains, one pairing job for the heteromer (none for the homomer)
    assert server.counts["submit_msa"] == 1
    pair_jobs = [query for endpoint, _, query in server.submitted if endpoint == "ticket/pair"]
    assert pair_jobs == [f">101\n{data['hetero'][0]}\n>102\n{data['hetero'][1]}\n"]

    hetero, homo = read_complexes(fasta)
    expected = complex_features_from_a3m(hetero, data["unpaired"], data["paired"])
    _assert_same_features(out / "hetero" / "features.npz", expected)
    paired_rows = len(data["paired"][0])
    assert paired_rows > 3                        # species shared by the two chains' UniProt hits
    _assert_same_features(out / "homo" / "features.npz",
                          complex_features_from_a3m(homo, [data["homo_unpaired"]]))
    for record, chains in (("hetero", "AB"), ("homo", "AB")):
        folder = out / record
        pdb_chains = {line[21] for line in (folder / "ranked_0.pdb").read_text().splitlines()
                      if line.startswith("ATOM")}
        assert pdb_chains == set(chains)
        scores = json.loads((folder / f"scores_{PREDICTION}.json").read_text())
        assert scores["msa_mode"] == "mmseqs2_uniref_env" and 0 <= scores["iptm"] <= 1
        settings = json.loads((folder / "finished.json").read_text())["settings"]
        assert settings["msa_server"]["pairing"] == "greedy"
        assert (folder / "msa.a3m").is_file()
    # the downloads are kept in the record's MSA folder: one entry per distinct chain, the pairing beside them
    cache = out / "hetero" / "msas" / "server"
    assert len(list(cache.glob("env_*"))) == 2 and len(list(cache.glob("pairgreedy_*/pair.*.a3m"))) == 2
    assert len(list((out / "homo" / "msas" / "server").glob("env_*"))) == 1

    server.reset_counts()
    assert _predict(fasta, out, params, "--msa-server", server.url) == 0
    assert sum(server.counts.values()) == 0


def test_msa_command_writes_colabfold_complex_a3m_that_predict_reads(server, data, params, tmp_path, capsys,
                                                                     monkeypatch):
    use_fast_client(monkeypatch)
    fasta = _fasta(tmp_path / "in.fasta", data)
    msas = tmp_path / "msas"
    msas.mkdir()
    assert cli.main(["msa", str(fasta), "-o", str(msas), "--msa-server", server.url, "--no-progress"]) == 0
    assert "hetero: complex A3M" in capsys.readouterr().err
    text = (msas / "hetero.a3m").read_text()
    assert text.startswith(f"#{HETERO_WIDTHS[0]},{HETERO_WIDTHS[1]}\t1,1\n")
    assert (msas / "homo.a3m").read_text().startswith(f"#{HOMO_WIDTH}\t2\n")
    # the same features as --msa-server gives, through ColabFold's file format
    out = tmp_path / "out"
    assert _predict(fasta, out, params, "--msa", str(msas)) == 0
    hetero, homo = read_complexes(fasta)
    _assert_same_features(out / "hetero" / "features.npz",
                          complex_features_from_a3m(hetero, data["unpaired"], data["paired"]))
    _assert_same_features(out / "homo" / "features.npz",
                          complex_features_from_a3m(homo, [data["homo_unpaired"]]))
    rows = read_a3m(out / "hetero" / "msa.a3m", query_sequence="".join(data["hetero"]))
    assert len(rows) >= len(data["paired"][0])


@pytest.mark.skipif(not HAS_TEMPLATE_TOOLS, reason="hhsearch and kalign are needed for --templates")
def test_complex_templates_from_the_server_per_chain(tmp_path, params, capsys, monkeypatch):
    """A homodimer of the Fab heavy chain (mono_full_templates, 60 residues): each distinct chain is searched
    with HHsearch on the server's pdb70 subset, as a single chain of it is."""
    folder = PIPELINE / "mono_full_templates"
    full = read_fasta(folder / "input.fasta")[0].sequence
    answer, _, _ = cut_chain_hits(folder / "msas", full, 60)
    chain = full[:60]
    use_fast_client(monkeypatch)
    with FakeColabFoldServer({chain: answer}, templates=pdb70_entries(PIPELINE / "data"),
                             cifs=mmcif_files(PIPELINE / "data")) as server:
        fasta = tmp_path / "in.fasta"
        fasta.write_text(f">vh2\n{chain}:{chain}\n>vh\n{chain}\n")
        out = tmp_path / "out"
        make_tiny_params_dir(params.parent / "both")
        for file in params.iterdir():
            shutil.copyfile(file, params.parent / "both" / file.name)
        assert _predict(fasta, out, params.parent / "both", "--msa-server", server.url, "--templates") == 0
        assert server.counts["template"] >= 1
    err = capsys.readouterr().err
    assert "chain A: templates: hhsearch on the server's pdb70 subset" in err
    assert (out / "vh2" / "msas" / "server" / "templates_pdb70_A.hhr").is_file()
    with np.load(out / "vh" / "features.npz") as single, np.load(out / "vh2" / "features.npz") as dimer:
        assert single["template_aatype"].shape[0] >= 1
        count = min(single["template_aatype"].shape[0], 4)       # AlphaFold-Multimer keeps 4 per chain
        # the multimer layout: [templates, residues of all chains], each chain's templates in its columns
        assert dimer["template_aatype"].shape == (count, 120)
        for start in (0, 60):
            np.testing.assert_array_equal(dimer["template_all_atom_positions"][:, start:start + 60],
                                          single["template_all_atom_positions"][:count])
            np.testing.assert_array_equal(dimer["template_all_atom_mask"][:, start:start + 60],
                                          single["template_all_atom_masks"][:count])


@pytest.mark.slow
def test_predict_batch_server_mode_with_complexes(server, data, params, tmp_path):
    """msa.mode server with complex records: the msa_server job sends one MSA job and the heteromer's pairing;
    the prediction jobs find everything in the records' msas/server/ and send nothing."""
    pytest.importorskip("snakemake")
    from tests.pipelines.helpers import describe, run_workflow
    from tests.predict.test_predict_msa_server_pipelines import batch_config

    (tmp_path / "fasta").mkdir()
    _fasta(tmp_path / "fasta" / "complexes.fasta", data)
    config = batch_config(params, url=server.url)
    config["predict"]["models"] = [MULTIMER_MODEL]
    result = run_workflow("predict_batch", tmp_path, config)
    assert result.returncode == 0, describe(result)
    assert server.counts["submit_msa"] == 1 and server.counts["submit_pair"] == 1, dict(server.counts)
    results = tmp_path / "results"
    hetero = read_complexes(tmp_path / "fasta" / "complexes.fasta")[0]
    for name in ("hetero", "homo"):
        log = (results / "logs" / "predict" / f"{name}.log").read_text()
        assert "no sequence is sent" in log, log
    record = results / "records" / "hetero" / "hetero"
    _assert_same_features(record / "features.npz", complex_features_from_a3m(hetero, data["unpaired"],
                                                                             data["paired"]))
    assert (results / "server" / "hetero.a3m").read_text().startswith("#40,30\t1,1\n")
