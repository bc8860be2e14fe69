"""Complexes (':' records) through the Snakemake workflows: inputs, dry runs of every MSA mode, a real run."""

import csv
import sys

import pytest

pytest.importorskip("snakemake")

from foldkit.errors import InputError  # noqa: E402
from tests.conftest import REPO_ROOT  # noqa: E402
from tests.pipelines.helpers import describe, job_counts, run_workflow  # noqa: E402
from tests.pipelines.test_predict_batch import af2_config, batch_config  # noqa: E402
from tests.predict.helpers import make_tiny_params_dir, write_fasta  # noqa: E402
from tests.predict.multimer_helpers import HETERO, HOMO, make_multimer_params_dir  # noqa: E402

sys.path.insert(0, str(REPO_ROOT / "pipelines" / "predict_batch" / "scripts"))
sys.path.insert(0, str(REPO_ROOT / "pipelines" / "casp_benchmark" / "scripts"))
import batch_inputs  # noqa: E402
import casp_inputs  # noqa: E402

MONOMER = "MKTAYIAKQRQISFVKSHFSRQ"
RECORDS = {"mono": MONOMER, "dimer": ":".join(HETERO), "trimer": ":".join([HOMO] * 3)}


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "fasta").mkdir()
    write_fasta(tmp_path / "fasta" / "mixed.fasta", RECORDS)
    make_tiny_params_dir(tmp_path / "params")
    make_multimer_params_dir(tmp_path / "params")
    return tmp_path


def _config(tmp_path, **overrides) -> dict:
    config = batch_config(tmp_path / "params", fasta_dir="fasta", **overrides)
    config["predict"] = dict(config["predict"], models=[], num_seeds="", models_to_relax="none",
                             extra="--num-recycle 1")
    return config


def test_complex_records_and_their_chains(inputs):
    records = batch_inputs.load_records(str(inputs / "fasta"), "")
    assert [n for n in sorted(records) if records[n].is_complex] == ["dimer", "trimer"]
    assert batch_inputs.fasta_text(records["dimer"]) == f">dimer test record\n{':'.join(HETERO)}\n"
    assert batch_inputs.chains_fasta_text(records["dimer"]) == f">dimer_A\n{HETERO[0]}\n>dimer_B\n{HETERO[1]}\n"
    assert batch_inputs.chains_fasta_text(records["trimer"]) == f">trimer_A\n{HOMO}\n"     # copies: one search
    write_fasta(inputs / "fasta" / "bad.fasta", {"oops": f"{HETERO[0]}::{HETERO[1]}"})
    with pytest.raises(InputError, match="empty chain") as error:
        batch_inputs.load_records(str(inputs / "fasta"), "")
    assert "bad.fasta" in str(error.value) and "oops" in str(error.value)


def test_dry_runs_of_every_msa_mode(inputs):
    single = run_workflow("predict_batch", inputs, _config(inputs), "-n", "-p")
    assert single.returncode == 0, describe(single)
    assert job_counts(single.stdout) == {"write_record": 3, "write_chains": 2, "msa": 1, "msa_chains": 2,
                                         "predict": 3, "merge_summary": 1, "all": 1, "total": 13}
    assert "msa results/inputs/dimer.chains.fasta -o results/msas/dimer.chains --backend single" in single.stdout
    assert "predict results/inputs/dimer.fasta -o results/records/dimer --msa results/msas/dimer.chains" \
        in single.stdout and "--num-seeds" not in single.stdout                  # foldkit's default seeds
    (inputs / "a3m").mkdir()
    (inputs / "a3m" / "mono.a3m").write_text(f">mono\n{MONOMER}\n")
    a3m = run_workflow("predict_batch", inputs, _config(inputs, msa={"mode": "a3m_dir", "a3m_dir": "a3m"}), "-n")
    assert a3m.returncode == 0, describe(a3m)
    assert job_counts(a3m.stdout)["msa_chains"] == 2
    af2 = run_workflow("predict_batch", inputs, dict(af2_config(inputs / "params"), predict=_config(inputs)[
        "predict"]), "-n", "-p")
    assert af2.returncode == 0, describe(af2)
    assert "msa results/inputs/trimer.fasta -o results/af2/trimer --af2-data-dir" in af2.stdout
    assert "cp -r results/af2/dimer/dimer/msas results/records/dimer/dimer/msas" in af2.stdout


def test_casp_complex_targets(tmp_path):
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "H0001.fasta").write_text(f">H0001 a dimer\n{HETERO[0]}\n>H0001 chain 2\n{HETERO[1]}\n")
    (targets / "H0002.fasta").write_text(f">H0002\n{HOMO}:{HOMO}\n")
    (targets / "T0003.fasta").write_text(f">T0003\n{MONOMER}\n")
    (tmp_path / "natives").mkdir()
    target_set = casp_inputs.TargetSet(targets, tmp_path / "natives", None)
    assert casp_inputs.target_query(target_set, "H0001").sequence == ":".join(HETERO)
    query = casp_inputs.target_query(target_set, "H0002")
    assert casp_inputs.chains_fasta_text("H0002", query) == f">H0002_A\n{HOMO}\n"
    assert casp_inputs.target_query(target_set, "T0003").sequence == MONOMER
    make_tiny_params_dir(tmp_path / "params")
    make_multimer_params_dir(tmp_path / "params")
    config = {"targets_dir": str(targets), "natives_dir": str(tmp_path / "natives"), "domains": "",
              "targets": ["H0001", "H0002", "T0003"], "results": "results", "group": "900",
              "predict_models": True, "existing_models": "",
              "msa": {"mode": "single", "threads": 1, "mem_mb": 1000, "runtime": 10},
              "predict": {"params_dir": str(tmp_path / "params"), "models": [], "model": "", "num_seeds": "",
                          "gpus": 1, "threads": 1, "mem_mb": 4000, "runtime": 30},
              "score": {"threads": 1, "mem_mb": 2000, "runtime": 10}}
    result = run_workflow("casp_benchmark", tmp_path, config, "-n", "-p")
    assert result.returncode == 0, describe(result)
    counts = job_counts(result.stdout)
    assert counts["write_chains"] == 2 and counts["msa_chains"] == 2 and counts["msa"] == 1 and counts["predict"] == 3
    assert "--msa results/msas/H0001.chains" in result.stdout and "--msa results/msas/T0003.a3m" in result.stdout


@pytest.mark.slow
def test_predict_batch_with_complexes_for_real(inputs):
    """A single chain and two complexes: monomer and multimer models from one parameter folder."""
    config = _config(inputs)
    result = run_workflow("predict_batch", inputs, config)
    assert result.returncode == 0, describe(result)
    rows = {r["id"]: r for r in csv.DictReader((inputs / "results" / "summary.csv").open())}
    assert sorted(rows) == ["dimer", "mono", "trimer"]
    assert rows["mono"]["iptm"] == "" and rows["mono"]["best_model"].startswith("model_tiny_ptm_seed_")
    for name, chains in (("dimer", 2), ("trimer", 3)):
        assert rows[name]["iptm"] != "" and rows[name]["best_model"].startswith("model_tiny_mm_seed_")
        text = (inputs / "results" / rows[name]["folder"] / "ranked_0.pdb").read_text()
        assert text.count("\nTER ") == chains
        assert len(list((inputs / "results" / rows[name]["folder"]).glob("scores_*.json"))) == 5
    again = run_workflow("predict_batch", inputs, config, "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, describe(again)
