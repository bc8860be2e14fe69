"""pipelines/casp_benchmark: dry runs (predict and score-existing modes) and real runs on two CASP14 targets."""

import csv
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("snakemake")

from tests.conftest import CASP_DIR, REPO_ROOT  # noqa: E402
from tests.pipelines.helpers import describe, job_counts, run_workflow  # noqa: E402
from tests.predict.helpers import make_tiny_params_dir  # noqa: E402

sys.path.insert(0, str(REPO_ROOT / "pipelines" / "casp_benchmark" / "scripts"))
import make_report  # noqa: E402

TARGETS = ["T1084", "T1087"]   # the two shortest CASP14 targets here (73 and 93 residues)
REPORT = ("report.md", "report.html", "per_target.csv", "per_model.csv", "gdt_curves.png", "gdt_by_unit.png")


def predict_config(params_dir: Path, **overrides) -> dict:
    config = {
        "casp_dir": str(CASP_DIR), "targets": TARGETS, "results": "results", "group": "900",
        "predict_models": True, "existing_models": "",
        "msa": {"mode": "single", "threads": 1, "mem_mb": 1000, "runtime": 10},
        "predict": {"params_dir": str(params_dir), "models": ["tiny_ptm"], "model": "", "num_seeds": 1,
                    "gpus": 1, "threads": 1, "mem_mb": 4000, "runtime": 30},
        "score": {"threads": 2, "mem_mb": 2000, "runtime": 10},
    }
    config.update(overrides)
    return config


def existing_config(**overrides) -> dict:
    return predict_config(Path("unused"), predict_models=False, existing_models=str(CASP_DIR / "models"), **overrides)


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_dry_run_predict_mode(tmp_path):
    params = make_tiny_params_dir(tmp_path / "params")
    result = run_workflow("casp_benchmark", tmp_path, predict_config(params), "-n")
    assert result.returncode == 0, describe(result)
    assert job_counts(result.stdout) == {"write_target": 2, "msa": 2, "predict": 2, "collect_models": 2,
                                         "score_set": 1, "report": 1, "all": 1, "total": 11}
    # the GPU label and memory reach the scheduler
    blocks = re.split(r"^\[\w{3} \w{3} .*\]$", result.stdout, flags=re.M)
    predict_jobs = [block for block in blocks if "rule predict:" in block]
    assert len(predict_jobs) == 2 and all("gpu=1" in job and "mem_mb=4000" in job for job in predict_jobs)
    assert "results/models/T1084" in result.stdout


def test_dry_run_score_existing_mode(tmp_path):
    result = run_workflow("casp_benchmark", tmp_path, existing_config(), "-n")
    assert result.returncode == 0, describe(result)
    assert job_counts(result.stdout) == {"collect_models": 2, "score_set": 1, "report": 1, "all": 1, "total": 5}


def test_all_targets_and_bad_config_are_reported(tmp_path):
    with_models = {p.name for p in (CASP_DIR / "models").iterdir() if p.is_dir()}
    without_models = {p.stem for p in (CASP_DIR / "targets").glob("*.fasta")} - with_models
    assert without_models, "the CASP set is expected to hold targets without model files"
    # score-existing mode with "all": targets without a model file are left out, and named
    result = run_workflow("casp_benchmark", tmp_path, existing_config(targets="all"), "-n")
    assert result.returncode == 0, describe(result)
    assert job_counts(result.stdout)["collect_models"] == len(with_models)
    assert all(target in result.stderr for target in without_models)
    # an explicit list with such a target is an error naming it
    missing = sorted(without_models)[0]
    explicit = run_workflow("casp_benchmark", tmp_path, existing_config(targets=["T1084", missing]), "-n")
    assert explicit.returncode != 0 and f"for: {missing}" in explicit.stdout + explicit.stderr

    bad_group = run_workflow("casp_benchmark", tmp_path, existing_config(group="9x"), "-n")
    assert bad_group.returncode != 0 and "group must be three digits" in bad_group.stdout + bad_group.stderr
    bad_target = run_workflow("casp_benchmark", tmp_path, existing_config(targets=["T9999"]), "-n")
    assert bad_target.returncode != 0 and "T9999" in bad_target.stdout + bad_target.stderr


def check_report(results: Path, groups: set[str]) -> list[dict]:
    report = results / "report"
    for name in REPORT:
        assert (report / name).is_file() and (report / name).stat().st_size > 0, name
    scores = read_csv(results / "scores" / "scores.csv")
    assert {row["target"] for row in scores} == set(TARGETS)
    assert {row["group"] for row in scores} == groups
    for row in scores:
        assert 0.0 <= float(row["gdt_ts"]) <= 100.0 and 0.0 <= float(row["tm_score"]) <= 1.0

    per_target = read_csv(report / "per_target.csv")
    assert {(row["unit"], row["group"]) for row in per_target} == {(f"{t}-D1", g) for t in TARGETS for g in groups}
    markdown = (report / "report.md").read_text()
    for target in TARGETS:
        assert f"| {target}-D1 | {target} |" in markdown
    assert "](gdt_curves.png)" in markdown and "](gdt_by_unit.png)" in markdown

    page = (report / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2 and all(len(data) > 1000 for data in images)
    assert all(target in page for target in TARGETS) and "<table>" in page
    return per_target


def test_score_existing_models_for_real(tmp_path):
    """AlphaFold2's CASP14 models of T1084/T1087 are scored; the report matches the official GDT_TS."""
    result = run_workflow("casp_benchmark", tmp_path, existing_config())
    assert result.returncode == 0, describe(result)
    results = tmp_path / "results"
    per_target = check_report(results, {"427"})
    official = {(row["model"]): float(row["gdt_ts"]) for row in read_csv(CASP_DIR / "official_scores.csv")
                if row["model"] in ("T1084TS427_1-D1", "T1087TS427_1-D1")}
    assert len(official) == 2
    for row in per_target:
        # the report keeps the domain-trimmed file CASP assessed (not the full-length duplicate)
        assert row["model1"] == f"{row['target']}TS427_1-D1"
        assert abs(float(row["model1_gdt_ts"]) - official[row["model1"]]) < 2.0
    per_model = read_csv(results / "report" / "per_model.csv")
    assert [(r["group"], r["model"], r["units"]) for r in per_model] == [("427", "TS427_1", "2")]
    # Snakemake resumes: a second run has nothing to do
    again = run_workflow("casp_benchmark", tmp_path, existing_config(), "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, describe(again)


def test_predict_and_score_for_real(tmp_path):
    """Predict T1084 and T1087 with the tiny random-weight model (single sequence, 2 seeds), score them
    together with AlphaFold2's CASP14 models and check the report (about 1-2 min on 2 cores; the
    issue asks for this real run in the default suite)."""
    params = make_tiny_params_dir(tmp_path / "params")
    config = predict_config(params, existing_models=str(CASP_DIR / "models"))
    config["predict"]["num_seeds"] = 2
    result = run_workflow("casp_benchmark", tmp_path, config)
    assert result.returncode == 0, describe(result)
    results = tmp_path / "results"
    for target in TARGETS:
        names = sorted(p.name for p in (results / "models" / target).iterdir() if not p.name.startswith("."))
        assert names == sorted([f"{target}TS900_1.pdb", f"{target}TS900_2.pdb", f"{target}TS427_1.pdb",
                                f"{target}TS427_1-D1.pdb"])
    per_target = check_report(results, {"427", "900"})
    ours = [row for row in per_target if row["group"] == "900"]
    assert all(row["models"] == "2" and 0.0 < float(row["model1_plddt"]) < 100.0 for row in ours)
    per_model = read_csv(results / "report" / "per_model.csv")
    assert {r["model"] for r in per_model if r["group"] == "900"} == {"model_tiny_ptm_seed_0", "model_tiny_ptm_seed_1"}
    # random weights: far below AlphaFold2 on every unit
    gdt = {(r["unit"], r["group"]): float(r["best_gdt_ts"]) for r in per_target}
    assert all(gdt[(u, "900")] < gdt[(u, "427")] - 50 for u, g in gdt if g == "427")


def scored(model: str, unit_domain: str, gdt: float, group: str = "427", index: int = 1) -> make_report.ScoredModel:
    return make_report.ScoredModel(unit=f"T1084-{unit_domain}", target="T1084", domain=unit_domain, model=model,
                                   group=group, model_index=index, scores={"gdt_ts": gdt, "gdt_ha": gdt / 2,
                                                                           "tm_score": gdt / 100, "lddt": 0.5,
                                                                           "rmsd_ca": 3.0},
                                   source_model=f"TS{group}_{index}", mean_plddt=None)


def test_assessed_keeps_the_trimmed_file_and_summaries_average():
    rows = [scored("T1084TS427_1", "D1", 80.0), scored("T1084TS427_1-D1", "D1", 90.0),
            scored("T1084TS427_2", "D1", 70.0, index=2), scored("T1084TS427_1", "D2", 60.0)]
    kept = make_report.assessed(rows)
    assert [r.model for r in kept] == ["T1084TS427_1-D1", "T1084TS427_2", "T1084TS427_1"]
    targets = {r["unit"]: r for r in make_report.per_target(kept, {"T1084-D1": {"classification": "FM"}})}
    assert targets["T1084-D1"]["best_gdt_ts"] == "90.00" and targets["T1084-D1"]["mean_gdt_ts"] == "80.00"
    assert targets["T1084-D1"]["classification"] == "FM" and targets["T1084-D2"]["models"] == 1
    models = {r["model"]: r for r in make_report.per_model(kept)}
    assert models["TS427_1"]["mean_gdt_ts"] == "75.00" and models["TS427_1"]["units"] == 2
    assert models["TS427_2"]["mean_gdt_ts"] == "70.00"


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_profiles_dry_run(tmp_path, profile):
    """The example profiles parse; with the Slurm one the prediction jobs go to the GPU partition."""
    if profile == "slurm":
        pytest.importorskip("snakemake_executor_plugin_slurm")
    params = make_tiny_params_dir(tmp_path / "params")
    result = run_workflow("casp_benchmark", tmp_path, predict_config(params), "-n", "--profile",
                          str(REPO_ROOT / "pipelines" / "profiles" / profile))
    assert result.returncode == 0, describe(result)
    blocks = re.split(r"^\[\w{3} \w{3} .*\]$", result.stdout, flags=re.M)
    predict_jobs = [block for block in blocks if "rule predict:" in block]
    assert len(predict_jobs) == 2 and all("gpu=1" in job for job in predict_jobs)
    if profile == "slurm":
        assert all("slurm_partition=gpu" in job for job in predict_jobs)
        assert "slurm_partition=cpu" in result.stdout
