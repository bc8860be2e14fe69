"""pipelines/predict_batch: input parsing, dry runs (folder, samplesheet, MSA modes) and a real run."""

import csv
import sys

import pytest

pytest.importorskip("snakemake")

from foldkit.errors import InputError  # noqa: E402
from tests.conftest import REPO_ROOT  # noqa: E402
from tests.pipelines.helpers import describe, job_counts, run_workflow  # noqa: E402
from tests.predict.helpers import RECORDS, make_tiny_params_dir, write_fasta  # noqa: E402

sys.path.insert(0, str(REPO_ROOT / "pipelines" / "predict_batch" / "scripts"))
import batch_inputs  # noqa: E402
import merge_summaries  # noqa: E402


def batch_config(params_dir, **overrides) -> dict:
    config = {
        "fasta_dir": "", "samplesheet": "", "results": "results",
        "msa": {"mode": "single", "threads": 1, "mem_mb": 1000, "runtime": 10},
        "predict": {"params_dir": str(params_dir), "models": ["tiny_ptm"], "model": "", "num_seeds": 1,
                    "gpus": 1, "threads": 1, "mem_mb": 4000, "runtime": 30},
    }
    config.update(overrides)
    return config


@pytest.fixture
def inputs(tmp_path):
    """fasta/two.fasta (records 'rec_b' and 'rec/a') and a samplesheet naming a third record file."""
    (tmp_path / "fasta").mkdir()
    write_fasta(tmp_path / "fasta" / "two.fasta", RECORDS)
    write_fasta(tmp_path / "single.fa", {"whatever": "MKTAYIAKQRQISFVKSHFSRQ"})
    (tmp_path / "sheet.csv").write_text("id,fasta,note\nmy_protein,single.fa,x\nrec_b,fasta/two.fasta,y\n")
    return tmp_path


def test_records_from_folder_use_foldkit_safe_names(inputs):
    records = batch_inputs.load_records(str(inputs / "fasta"), "")
    assert sorted(records) == ["rec_a", "rec_b"]
    assert records["rec_a"].record_id == "rec/a" and records["rec_a"].sequence == RECORDS["rec/a"]
    assert batch_inputs.fasta_text(records["rec_a"]).startswith(">rec/a test record\nMKTAY")


def test_records_from_samplesheet(inputs):
    records = batch_inputs.load_records("", str(inputs / "sheet.csv"))
    assert sorted(records) == ["my_protein", "rec_b"]
    assert records["my_protein"].record_id == "my_protein"     # one-record file: the sheet's id names it
    assert records["rec_b"].sequence == RECORDS["rec_b"]        # several records: the one with that id


@pytest.mark.parametrize("text, message", [
    ("name,path\na,b.fa\n", "columns id,fasta"),
    ("id,fasta\nx,missing.fa\n", "not found"),
    ("id,fasta\nnot_there,fasta/two.fasta\n", "none has the id"),
    ("id,fasta\nmy protein,single.fa\n", "white space"),
    ("id,fasta\nrec_b,fasta/two.fasta\nREC_B,single.fa\n", "both become the name"),
])
def test_bad_samplesheets_are_input_errors(inputs, text, message):
    (inputs / "bad.csv").write_text(text)
    with pytest.raises(InputError, match=message) as error:
        batch_inputs.load_records("", str(inputs / "bad.csv"))
    assert "bad.csv" in str(error.value)


def test_exactly_one_input_source(inputs):
    with pytest.raises(InputError, match="exactly one"):
        batch_inputs.load_records(str(inputs / "fasta"), str(inputs / "sheet.csv"))
    (inputs / "empty").mkdir()
    with pytest.raises(InputError, match="no FASTA file"):
        batch_inputs.load_records(str(inputs / "empty"), "")
    with pytest.raises(InputError, match="not a folder"):
        batch_inputs.load_records(str(inputs / "absent"), "")


def test_merge_summaries(tmp_path):
    results = tmp_path / "results"
    for name, plddt in (("b", "70.00"), ("a", "55.50")):
        folder = results / "records" / name
        folder.mkdir(parents=True)
        (folder / "summary.csv").write_text("id,length,best_model,mean_plddt,ptm,seconds,folder\n"
                                            f"{name},10,model_x_seed_0,{plddt},0.5,1.0,{name}\n")
    inputs = [results / "records" / n / "summary.csv" for n in ("a", "b")]
    assert merge_summaries.merge_summaries(inputs, results / "summary.csv", results) == 2
    rows = list(csv.DictReader((results / "summary.csv").open()))
    assert [(r["id"], r["mean_plddt"], r["folder"]) for r in rows] == [("a", "55.50", "records/a/a"),
                                                                       ("b", "70.00", "records/b/b")]


def test_dry_run_folder_and_samplesheet(inputs):
    params = make_tiny_params_dir(inputs / "params")
    folder = run_workflow("predict_batch", inputs, batch_config(params, fasta_dir="fasta"), "-n")
    assert folder.returncode == 0, describe(folder)
    assert job_counts(folder.stdout) == {"write_record": 2, "msa": 2, "predict": 2, "merge_summary": 1,
                                         "all": 1, "total": 8}
    assert "results/records/rec_a/rec_a/ranked_0.pdb" in folder.stdout and "gpu=1" in folder.stdout

    sheet = run_workflow("predict_batch", inputs, batch_config(params, samplesheet="sheet.csv"), "-n")
    assert sheet.returncode == 0, describe(sheet)
    assert "results/records/my_protein/summary.csv" in sheet.stdout


def test_dry_run_search_and_a3m_modes(inputs):
    params = make_tiny_params_dir(inputs / "params")
    (inputs / "db.fasta").write_text(">hom1\nMKTAYIAKQRQISFVKSHFSRQ\n")
    search = run_workflow("predict_batch", inputs, batch_config(
        params, fasta_dir="fasta", msa={"mode": "search", "databases": ["db.fasta"], "threads": 2}), "-n", "-p")
    assert search.returncode == 0, describe(search)
    assert "msa results/inputs/rec_a.fasta -o results/msas/rec_a.a3m --backend jackhmmer --db db.fasta --cpu 2" \
        in search.stdout
    (inputs / "a3m").mkdir()
    for name in ("rec_a", "rec_b"):
        (inputs / "a3m" / f"{name}.a3m").write_text(f">{name}\nMKTAY\n")
    a3m = run_workflow("predict_batch", inputs, batch_config(
        params, fasta_dir="fasta", msa={"mode": "a3m_dir", "a3m_dir": "a3m"}), "-n", "-p")
    assert a3m.returncode == 0, describe(a3m)
    assert job_counts(a3m.stdout)["msa"] == 2 and "cp a3m/rec_a.a3m results/msas/rec_a.a3m" in a3m.stdout
    bad = run_workflow("predict_batch", inputs, batch_config(params, fasta_dir="fasta", msa={"mode": "search"}), "-n")
    assert bad.returncode != 0 and "msa.databases is empty" in bad.stdout + bad.stderr


@pytest.mark.slow
def test_predict_batch_for_real(inputs):
    """Two tiny records with the tiny random-weight model: per-record outputs, merged summary, resume."""
    params = make_tiny_params_dir(inputs / "params")
    config = batch_config(params, fasta_dir="fasta")
    result = run_workflow("predict_batch", inputs, config)
    assert result.returncode == 0, describe(result)
    results = inputs / "results"
    rows = list(csv.DictReader((results / "summary.csv").open()))
    assert [r["id"] for r in rows] == ["rec/a", "rec_b"]
    for row, name in zip(rows, ("rec_a", "rec_b")):
        assert row["folder"] == f"records/{name}/{name}"
        assert (results / row["folder"] / "ranked_0.pdb").is_file()
        assert 0.0 < float(row["mean_plddt"]) < 100.0
    again = run_workflow("predict_batch", inputs, config, "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, describe(again)


def af2_config(params, **af2) -> dict:
    from tests.conftest import AF2_REFERENCE

    section = {"data_dir": str(AF2_REFERENCE / "pipeline" / "data"), "db_preset": "reduced_dbs",
               "max_template_date": "2021-11-01", **af2}
    return batch_config(params, fasta_dir="fasta", msa={"mode": "af2", "af2": section, "threads": 2})


def test_dry_run_af2_mode_passes_the_options_through(inputs):
    params = make_tiny_params_dir(inputs / "params")
    result = run_workflow("predict_batch", inputs, af2_config(params, databases={"uniref90": "/db/u90.fasta"}),
                          "-n", "-p")
    assert result.returncode == 0, describe(result)
    assert job_counts(result.stdout)["msa"] == 2
    assert ("msa results/inputs/rec_a.fasta -o results/af2/rec_a --af2-data-dir" in result.stdout
            and "--db-preset reduced_dbs --max-template-date 2021-11-01 --uniref90 /db/u90.fasta --cpu 2"
            in result.stdout)
    assert ("cp -r results/af2/rec_a/rec_a/msas results/records/rec_a/rec_a/msas" in result.stdout
            and "--use-precomputed-msas" in result.stdout)
    bad = run_workflow("predict_batch", inputs, af2_config(params, max_template_date="2021-31-01"), "-n")
    assert bad.returncode != 0 and "is not a date in the form YYYY-MM-DD" in bad.stdout + bad.stderr
    unknown = run_workflow("predict_batch", inputs, af2_config(params, databases={"uniref100": "/x"}), "-n")
    assert unknown.returncode != 0 and "unknown databases uniref100" in unknown.stdout + unknown.stderr


def test_default_config_names_no_missing_model():
    """The shipped defaults must not name a bundled model that does not exist."""
    import yaml

    from foldkit.predict.models import bundled_params_dir

    for workflow in ("predict_batch", "casp_benchmark"):
        config = yaml.safe_load((REPO_ROOT / "pipelines" / workflow / "config" / "config.yaml").read_text())
        model = config["predict"].get("model")
        assert not model or (bundled_params_dir() / f"{model}.npz").is_file(), (workflow, model)
        assert config["msa"]["af2"]["db_preset"] in ("full_dbs", "reduced_dbs")


@pytest.mark.slow
def test_predict_batch_af2_mode_for_real(inputs):
    """One record through AlphaFold2's input pipeline (reduced_dbs) and the tiny model."""
    import shutil

    from tests.conftest import AF2_REFERENCE

    if not all(shutil.which(b) for b in ("hhsearch", "kalign")):
        pytest.skip("HH-suite/kalign not installed")
    heavy = (AF2_REFERENCE / "pipeline" / "mono_full_templates" / "input.fasta").read_text().splitlines()[1]
    (inputs / "vh").mkdir()
    write_fasta(inputs / "vh" / "vh.fasta", {"vh": heavy[:60]})
    params = make_tiny_params_dir(inputs / "params")
    config = dict(af2_config(params), fasta_dir="vh")
    result = run_workflow("predict_batch", inputs, config)
    assert result.returncode == 0, describe(result)
    record = inputs / "results" / "records" / "vh" / "vh"
    assert (record / "ranked_0.pdb").is_file() and (record / "msas" / "pdb_hits.hhr").is_file()
    import numpy as np

    with np.load(record / "features.npz") as features:
        assert features["template_domain_names"].shape[0] >= 1
    log = (inputs / "results" / "logs" / "predict" / "vh.log").read_text()
    assert log.count("--use-precomputed-msas)") == 4 and "jackhmmer on" not in log
