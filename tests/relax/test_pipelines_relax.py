"""The Snakemake workflows pass predict.models_to_relax through to `foldkit predict --models-to-relax`."""

from __future__ import annotations

import pytest

pytest.importorskip("snakemake")

from tests.pipelines.helpers import describe, run_workflow  # noqa: E402
from tests.pipelines.test_casp_benchmark import predict_config  # noqa: E402
from tests.pipelines.test_predict_batch import batch_config  # noqa: E402
from tests.predict.helpers import RECORDS, make_tiny_params_dir, write_fasta  # noqa: E402


def test_models_to_relax_reaches_foldkit_predict(tmp_path):
    params = make_tiny_params_dir(tmp_path / "params")
    (tmp_path / "fasta").mkdir()
    write_fasta(tmp_path / "fasta" / "two.fasta", RECORDS)
    batch = batch_config(params, fasta_dir=str(tmp_path / "fasta"))
    default = run_workflow("predict_batch", tmp_path, batch, "-n", "-p")
    assert default.returncode == 0, describe(default)
    assert default.stdout.count("--models-to-relax best") == 2                 # AlphaFold2 v2.3's default
    batch["predict"]["models_to_relax"] = "some"
    wrong = run_workflow("predict_batch", tmp_path, batch, "-n")
    assert wrong.returncode != 0 and "models_to_relax must be best, all or none" in wrong.stdout + wrong.stderr
    casp = predict_config(params)
    casp["predict"]["models_to_relax"] = "all"
    chosen = run_workflow("casp_benchmark", tmp_path, casp, "-n", "-p")
    assert chosen.returncode == 0, describe(chosen)
    assert chosen.stdout.count("--models-to-relax all") == 2 and "--models-to-relax best" not in chosen.stdout
