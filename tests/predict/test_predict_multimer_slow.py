"""Longer `foldkit predict` checks on complexes (slow: each compiles the tiny multimer network again).

* a process killed with SIGKILL after its first complex resumes without redoing it;
* ``--chunk-size`` gives the unchunked prediction (within float rounding) and ``--bf16`` runs;
* Amber relaxation of every prediction of a homotrimer keeps its chains;
* a FASTA mixing single chains and complexes runs monomer and multimer models;
* AlphaFold2's convention (``--model-preset multimer``, one record per chain) with
  AlphaFold-Multimer's input pipeline reusing stored searches reproduces the
  reference features;
* ``--db`` searches each distinct chain once and reuses the saved searches;
* ColabFold's complex A3M (``--msa FILE``) gives the same features as its per-chain files.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from foldkit import cli
from foldkit.io.colabfold_a3m import format_colabfold_complex_a3m
from foldkit.io.msa_files import read_a3m
from foldkit.io.structure import read_chains
from tests.conftest import AF2_REFERENCE
from tests.predict.helpers import console_script, kill_after_marker, make_tiny_params_dir, snapshot, write_fasta
from tests.predict.multimer_helpers import (HETERO, HOMO, MULTIMER_MODEL, chain_a3m, make_multimer_params_dir,
                                            write_complex_inputs)

pytestmark = pytest.mark.slow
PIPELINE = AF2_REFERENCE / "pipeline"


def _load(path: Path):
    return json.loads(path.read_text())


def test_sigkill_then_rerun_resumes(tmp_path):
    big = f"{HETERO[0] * 2}:{HETERO[1] * 2}"            # 80 residues: a second (128) bucket to compile
    fasta, msas = write_complex_inputs(tmp_path, {"big": big, "small": ":".join(HETERO)})
    make_multimer_params_dir(tmp_path / "params")
    command = [console_script(), "predict", str(fasta), "-o", str(tmp_path / "out"), "--params-dir",
               str(tmp_path / "params"), "--msa", str(msas), "--num-recycle", "1", "--num-seeds", "1",
               "--models-to-relax", "none"]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    kill_after_marker(command, tmp_path / "out" / "small" / "finished.json", env, 400, "first complex")
    assert not (tmp_path / "out" / "big" / "finished.json").exists(), "killed too late"
    first = snapshot(tmp_path / "out" / "small")
    rerun = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "small (40 aa): already finished, skipped" in rerun.stderr
    assert "[2/2] big (80 aa): done" in rerun.stderr
    assert snapshot(tmp_path / "out" / "small") == first
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]
    for folder, chains in (("small", ["A", "B"]), ("big", ["A", "B"])):
        for path in (tmp_path / "out" / folder).glob("*.json"):
            json.loads(path.read_text())
        assert [p.chain_id for p in read_chains(tmp_path / "out" / folder / "ranked_0.pdb")] == chains
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    assert [r["id"] for r in rows] == ["big", "small"] and all(r["iptm"] for r in rows)


def test_chunked_equals_unchunked_and_bf16_runs(tmp_path):
    fasta, msas = write_complex_inputs(tmp_path, {"dimer": ":".join(HETERO)})
    make_multimer_params_dir(tmp_path / "params")
    results = {}
    for label, extra in (("plain", []), ("chunked", ["--chunk-size", "4"]), ("bf16", ["--bf16"])):
        out = tmp_path / label
        assert cli.main(["predict", str(fasta), "-o", str(out), "--params-dir", str(tmp_path / "params"),
                         "--msa", str(msas), "--num-seeds", "1", "--models-to-relax", "none", *extra]) == 0
        name = f"model_{MULTIMER_MODEL}_seed_0"
        chains = read_chains(out / "dimer" / f"{name}.pdb")
        results[label] = (np.concatenate([c.atom_positions for c in chains]), _load(out / "dimer" /
                                                                                     f"scores_{name}.json"))
    plain_xyz, plain = results["plain"]
    chunk_xyz, chunked = results["chunked"]
    np.testing.assert_allclose(chunk_xyz, plain_xyz, atol=2e-3)       # the PDB's 3 decimals
    np.testing.assert_allclose(chunked["plddt"], plain["plddt"], atol=0.011)
    assert chunked["iptm"] == pytest.approx(plain["iptm"], abs=1e-4)
    assert chunked["num_recycles"] == plain["num_recycles"]
    bf16_xyz, bf16 = results["bf16"]
    assert np.isfinite(bf16_xyz).all() and bf16["iptm"] == pytest.approx(plain["iptm"], abs=0.02)
    np.testing.assert_allclose(bf16["plddt"], plain["plddt"], atol=2.0)


def test_relax_every_prediction_of_a_homotrimer(tmp_path):
    fasta, msas = write_complex_inputs(tmp_path, {"trimer": ":".join([HOMO] * 3)})
    make_multimer_params_dir(tmp_path / "params")
    assert cli.main(["predict", str(fasta), "-o", str(tmp_path / "out"), "--params-dir", str(tmp_path / "params"),
                     "--msa", str(msas), "--num-seeds", "2", "--models-to-relax", "all"]) == 0
    record = tmp_path / "out" / "trimer"
    metrics = _load(record / "relax_metrics.json")
    ranking = _load(record / "ranking_debug.json")
    for rank, name in enumerate(ranking["order"]):
        assert metrics[name]["status"] == "relaxed"
        relaxed = read_chains(record / f"relaxed_{name}.pdb")
        assert [c.chain_id for c in relaxed] == ["A", "B", "C"] and [c.sequence for c in relaxed] == [HOMO] * 3
        text = (record / f"relaxed_{name}.pdb").read_text()
        assert text.count("\nTER ") == 3 and " H" in text                  # hydrogens added
        assert (record / f"ranked_{rank}.pdb").read_text() == text
    cif = (record / "ranked_0.cif").read_text()
    assert "ipTM" in cif and [c.chain_id for c in read_chains(record / "ranked_0.cif")] == ["A", "B", "C"]


def test_fasta_mixing_single_chains_and_complexes(tmp_path):
    monomer = "MKTAYIAKQRQISFVKSHFSRQ"
    fasta, msas = write_complex_inputs(tmp_path, {"dimer": ":".join(HETERO)})
    fasta.write_text(fasta.read_text() + f">single one chain\n{monomer}\n")
    (msas / "single.a3m").write_text(chain_a3m(monomer, "single"))
    make_tiny_params_dir(tmp_path / "params")
    make_multimer_params_dir(tmp_path / "params")
    command = ["predict", str(fasta), "-o", str(tmp_path / "out"), "--params-dir", str(tmp_path / "params"),
               "--msa", str(msas), "--models-to-relax", "none", "--num-recycle", "1"]
    assert cli.main(command) == 0
    out = tmp_path / "out"
    single = _load(out / "single" / "scores_model_tiny_ptm_seed_0.json")
    assert "iptm" not in single and _load(out / "single" / "ranking_debug.json")["ranking_metric"] == "ptm"
    assert sorted(p.name for p in (out / "dimer").glob("scores_*.json")) == [
        f"scores_model_{MULTIMER_MODEL}_seed_{s}.json" for s in range(5)]           # 5 seeds per multimer model
    settings = {name: _load(out / name / "finished.json")["settings"] for name in ("single", "dimer")}
    assert settings["single"]["models"] == ["tiny_ptm"] and settings["single"]["seeds"] == [0]
    assert settings["dimer"]["models"] == [MULTIMER_MODEL] and settings["dimer"]["seeds"] == [0, 1, 2, 3, 4]
    assert settings["dimer"]["recycle_early_stop_tolerance"] == 0.5
    rows = {r["id"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert rows["single"]["iptm"] == "" and rows["dimer"]["iptm"] != ""
    assert float(rows["single"]["ranking_confidence"]) == pytest.approx(float(rows["single"]["ptm"]), abs=1e-4)
    assert cli.main(command) == 0                                                     # both resume


def test_alphafold2_convention_with_precomputed_searches(tmp_path):
    case = PIPELINE / "multi_homo_2copies"
    shutil.copyfile(case / "input.fasta", tmp_path / "hiv_pr.fasta")
    shutil.copytree(case / "msas", tmp_path / "out" / "hiv_pr" / "msas")
    make_multimer_params_dir(tmp_path / "params")
    assert cli.main(["predict", str(tmp_path / "hiv_pr.fasta"), "-o", str(tmp_path / "out"), "--model-preset",
                     "multimer", "--params-dir", str(tmp_path / "params"), "--af2-data-dir",
                     str(PIPELINE / "data"), "--db-preset", "reduced_dbs", "--max-template-date", "2021-11-01",
                     "--use-precomputed-msas", "--num-seeds", "1", "--num-recycle", "1",
                     "--models-to-relax", "none"]) == 0
    record = tmp_path / "out" / "hiv_pr"
    reference = np.load(case / "processed_features.npz")
    with np.load(record / "features.npz") as written:
        for key in ("msa", "deletion_matrix", "asym_id", "template_all_atom_positions", "template_aatype"):
            np.testing.assert_array_equal(written[key], reference[key], err_msg=key)
    chains = read_chains(record / "ranked_0.pdb")
    assert [c.chain_id for c in chains] == ["A", "B"] and len(chains[0]) == 99
    scores = _load(record / f"scores_model_{MULTIMER_MODEL}_seed_0.json")
    assert scores["msa_mode"] == "af2_reduced_dbs" and scores["iptm"] is not None


def test_db_search_per_distinct_chain_is_saved_and_reused(tmp_path, capsys):
    database = tmp_path / "db.fasta"
    rows = []
    for chain_id, sequence in zip("AB", HETERO):
        a3m = read_a3m_text(chain_a3m(sequence, chain_id, rows=8, seed=3))
        rows += [f">sp|P{k:05d}{chain_id}|X{k}_HUMAN homologue\n{s.replace('-', '').upper()}\n" for k, s in enumerate(a3m)]
    database.write_text("".join(rows))
    fasta = write_fasta(tmp_path / "in.fasta", {"dimer": ":".join(HETERO), "trimer": ":".join([HOMO] * 3)})
    make_multimer_params_dir(tmp_path / "params")
    command = ["predict", str(fasta), "-o", str(tmp_path / "out"), "--params-dir", str(tmp_path / "params"),
               "--db", str(database), "--num-seeds", "1", "--models-to-relax", "none"]
    assert cli.main(command) == 0
    dimer = tmp_path / "out" / "dimer"
    assert sorted(p.name for p in dimer.glob("msa_search_*")) == ["msa_search_A.a3m", "msa_search_A.json",
                                                                  "msa_search_B.a3m", "msa_search_B.json"]
    assert sorted(p.name for p in (tmp_path / "out" / "trimer").glob("msa_search_*")) == [
        "msa_search_A.a3m", "msa_search_A.json"]                       # copies share their chain's search
    assert len(read_a3m(dimer / "msa_search_A.a3m")) > 1
    capsys.readouterr()
    assert cli.main(command + ["--overwrite"]) == 0
    err = capsys.readouterr().err
    assert err.count("reusing the saved search") == 3 and "jackhmmer search" not in err


def read_a3m_text(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(">")]


def test_colabfold_complex_a3m_equals_per_chain_files(tmp_path):
    fasta, msas = write_complex_inputs(tmp_path, {"dimer": ":".join(HETERO)})
    unpaired = [read_a3m(msas / f"dimer_{c}.a3m") for c in "AB"]
    (tmp_path / "dimer.a3m").write_text(format_colabfold_complex_a3m(list(HETERO), [1, 1], unpaired, None))
    make_multimer_params_dir(tmp_path / "params")
    base = ["--params-dir", str(tmp_path / "params"), "--num-seeds", "1", "--num-recycle", "0",
            "--models-to-relax", "none"]
    assert cli.main(["predict", str(fasta), "-o", str(tmp_path / "files"), "--msa", str(msas), *base]) == 0
    assert cli.main(["predict", str(fasta), "-o", str(tmp_path / "colabfold"), "--msa", str(tmp_path / "dimer.a3m"),
                     *base]) == 0
    with np.load(tmp_path / "files" / "dimer" / "features.npz") as a, \
            np.load(tmp_path / "colabfold" / "dimer" / "features.npz") as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_msa_command_searches_a_complex_then_predict_reuses_it(tmp_path, capsys):
    """`foldkit msa` on a ':' record runs AlphaFold-Multimer's searches; predict reuses them unchanged."""
    case = PIPELINE / "multi_homo_2copies"
    sequence = (case / "input.fasta").read_text().splitlines()[1]
    fasta = write_fasta(tmp_path / "in.fasta", {"hiv_pr": f"{sequence}:{sequence}"})
    make_multimer_params_dir(tmp_path / "params")
    af2 = ["--af2-data-dir", str(PIPELINE / "data"), "--db-preset", "reduced_dbs", "--max-template-date",
           "2021-11-01"]
    assert cli.main(["msa", str(fasta), "-o", str(tmp_path / "out"), *af2, "--cpu", "2"]) == 0
    record = tmp_path / "out" / "hiv_pr"
    assert sorted(p.name for p in (record / "msas").iterdir()) == ["A", "chain_id_map.json"]
    assert read_a3m(record / "msa.a3m").query == sequence * 2
    assert "jackhmmer on" in capsys.readouterr().err
    assert cli.main(["predict", str(fasta), "-o", str(tmp_path / "out"), "--params-dir", str(tmp_path / "params"),
                     *af2, "--use-precomputed-msas", "--num-seeds", "1", "--num-recycle", "0",
                     "--models-to-relax", "none"]) == 0
    assert "jackhmmer on" not in capsys.readouterr().err
    reference = np.load(case / "processed_features.npz")
    with np.load(record / "features.npz") as written:
        for key in ("msa", "deletion_matrix", "template_all_atom_positions", "entity_id", "sym_id"):
            np.testing.assert_array_equal(written[key], reference[key], err_msg=key)
