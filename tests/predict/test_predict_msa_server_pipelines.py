"""msa.mode server in the Snakemake workflows: one server job for the batch, prediction jobs that send nothing."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from foldkit.commands.predict import server_options_from_config
from foldkit.errors import InputError
from foldkit.msa.server import DEFAULT_SERVER_URL
from tests.conftest import CASP_DIR
from tests.predict.helpers import make_tiny_params_dir
from tests.predict.test_predict_msa_server import HAS_TEMPLATE_TOOLS, cases  # noqa: F401 (fixture)

pytest.importorskip("snakemake")

from tests.pipelines.helpers import describe, job_counts, run_workflow  # noqa: E402

URL = "http://127.0.0.1:8888"


def test_server_options_from_config():
    assert server_options_from_config({}) == (["--msa-server", DEFAULT_SERVER_URL],) * 2
    fetch, predict = server_options_from_config({"url": URL + "/", "uniref_only": "true", "templates": True,
                                                 "max_template_date": "2021-05-14"})
    assert fetch == ["--msa-server", URL, "--msa-server-uniref-only", "--templates"]
    assert predict == fetch + ["--max-template-date", "2021-05-14"]
    for section, message in (({"url": "ftp://x"}, "expected an http:// or https:// URL"),
                             ({"urll": URL}, "unknown keys urll"),
                             ({"templates": "maybe"}, "expected true or false"),
                             ({"max_template_date": "2021-01-01"}, "set msa.server.templates: true"),
                             ({"templates": True, "max_template_date": "2021-13-01"}, "not a date")):
        with pytest.raises(InputError, match=message):
            server_options_from_config(section)


def batch_config(params, fasta_dir="fasta", **server) -> dict:
    return {"fasta_dir": fasta_dir, "samplesheet": "", "results": "results",
            "msa": {"mode": "server", "server": server, "threads": 1, "mem_mb": 1000, "runtime": 10},
            "predict": {"params_dir": str(params), "models": ["tiny_ptm"], "model": "", "num_seeds": 1,
                        "gpus": 1, "threads": 1, "mem_mb": 4000, "runtime": 30, "models_to_relax": "none",
                        "extra": "--num-recycle 0"}}


def test_predict_batch_dry_run_one_server_job(tmp_path):
    (tmp_path / "fasta").mkdir()
    (tmp_path / "fasta" / "two.fasta").write_text(">rec/a\nMKTAYIAKQRQISFVKSHFSRQ\n>rec_b\nMSEQNNTEMTFQIQRIYTKD\n")
    params = make_tiny_params_dir(tmp_path / "params")
    result = run_workflow("predict_batch", tmp_path, batch_config(params, url=URL, templates=True), "-n", "-p")
    assert result.returncode == 0, describe(result)
    counts = job_counts(result.stdout)
    assert counts["msa_server"] == 1 and counts["server_queries"] == 1 and counts["predict"] == 2
    assert f"msa results/server/records.fasta -o results/server --msa-server {URL} --templates" in result.stdout
    assert ("cp -r results/server/msa_server/rec_a results/records/rec_a/rec_a/msas/server" in result.stdout
            and f"-o results/records/rec_a --msa-server {URL} --templates --params-dir" in result.stdout)
    bad = run_workflow("predict_batch", tmp_path, batch_config(params, url="api.colabfold.com"), "-n")
    assert bad.returncode != 0 and "expected an http:// or https:// URL" in bad.stdout + bad.stderr


def test_casp_benchmark_dry_run_one_server_job(tmp_path):
    params = make_tiny_params_dir(tmp_path / "params")
    config = {"casp_dir": str(CASP_DIR), "targets": ["T1084", "T1087"], "results": "results", "group": "900",
              "predict_models": True, "existing_models": "",
              "msa": {"mode": "server", "server": {"uniref_only": True}, "threads": 1, "mem_mb": 1000,
                      "runtime": 10},
              "predict": {"params_dir": str(params), "models": ["tiny_ptm"], "model": "", "num_seeds": 1,
                          "gpus": 1, "threads": 1, "mem_mb": 4000, "runtime": 30},
              "score": {"threads": 2, "mem_mb": 2000, "runtime": 10}}
    result = run_workflow("casp_benchmark", tmp_path, config, "-n", "-p")
    assert result.returncode == 0, describe(result)
    counts = job_counts(result.stdout)
    assert counts["msa_server"] == 1 and counts["predict"] == 2 and "msa" not in counts
    options = f"--msa-server {DEFAULT_SERVER_URL} --msa-server-uniref-only"
    assert f"msa results/server/targets.fasta -o results/server {options} --no-progress" in result.stdout
    assert f"-o results/predictions/T1084 {options} --params-dir" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TEMPLATE_TOOLS, reason="HH-suite/kalign not installed")
def test_predict_batch_server_mode_for_real(tmp_path, cases):
    """Two records, templates on: the msa_server job sends one MSA job; the prediction jobs send nothing."""
    from tests.conftest import AF2_REFERENCE
    from tests.msa.server.fake_server import FakeColabFoldServer
    from tests.msa.server.reference_data import mmcif_files, pdb70_entries

    (tmp_path / "fasta").mkdir()
    (tmp_path / "fasta" / "two.fasta").write_text("".join(f">{name}\n{cases[name][0]}\n" for name in cases))
    params = make_tiny_params_dir(tmp_path / "params")
    data = AF2_REFERENCE / "pipeline" / "data"
    with FakeColabFoldServer({seq: hits for seq, hits, _, _ in cases.values()}, templates=pdb70_entries(data),
                             cifs=mmcif_files(data)) as server:
        result = run_workflow("predict_batch", tmp_path, batch_config(params, url=server.url, templates=True))
        assert result.returncode == 0, describe(result)
        assert server.counts["submit_msa"] == 1 and server.counts["download"] == 1, dict(server.counts)
        assert server.counts["template"] == 2, dict(server.counts)
    results = tmp_path / "results"
    assert [row["id"] for row in csv.DictReader((results / "summary.csv").open())] == ["t1027", "vh"]
    for name in cases:
        log = (results / "logs" / "predict" / f"{name}.log").read_text()
        assert f"msa-server: all 1 record(s) found in the cache; no sequence is sent to {server.url}" in log, log
        record = results / "records" / name / name
        with np.load(record / "features.npz") as features:
            assert features["template_domain_names"].shape[0] >= 1
        assert (record / "msas" / "server" / "templates_pdb70.hhr").is_file()
    first = (results / "logs" / "msa" / "server.log").read_text().splitlines()[0]
    assert first == f"msa-server: sending 2 sequence(s) of 2 record(s) to {server.url}"
