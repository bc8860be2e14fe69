"""Relaxation inside ``foldkit predict``: the CLI with random parameters, the relax step on real structures,
resume (reuse, redo, stale files) and a SIGKILL during a relaxation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gemmi
import numpy as np
import pytest

from foldkit import cli
from foldkit.io.structure import read_structure
from tests.conftest import REPO_ROOT
from tests.predict.helpers import make_tiny_params_dir, write_fasta
from tests.relax.reference_cases import RELAX_DIR
from tests.relax.stand_in_predict import run as stand_in_run

FRAGMENT = RELAX_DIR / "inputs" / "af_model_output.pdb"
SHORT = "MKTAYIAKQRQISFVKSHFSRQ"
NAMES = ("model_standin_seed_0", "model_standin_seed_1")


def _load(path: Path):
    return json.loads(path.read_text())


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


@pytest.mark.slow
def test_predict_cli_with_random_parameters(tmp_path, capsys):
    """Random weights scatter the atoms: the relaxation fails, is reported, and the unrelaxed model is kept."""
    write_fasta(tmp_path / "in.fasta", {"short": SHORT})
    make_tiny_params_dir(tmp_path / "params")
    command = ["predict", str(tmp_path / "in.fasta"), "-o", str(tmp_path / "out"), "--params-dir",
               str(tmp_path / "params"), "--num-recycle", "0", "--single-sequence", "--models-to-relax", "best"]
    capsys.readouterr()
    assert cli.main(command) == 0
    err = capsys.readouterr().err
    folder = tmp_path / "out" / "short"
    name = "model_tiny_ptm_seed_0"
    assert f"warning: {name}: relaxation failed (" in err and "the unrelaxed model is kept" in err
    metrics = _load(folder / "relax_metrics.json")
    assert list(metrics) == [name] and metrics[name]["status"] == "failed"
    assert "minimisation failed" in metrics[name]["error"] or "AMBER" in metrics[name]["error"]
    assert not list(folder.glob("relaxed_*"))
    assert (folder / "ranked_0.pdb").read_text() == (folder / f"{name}.pdb").read_text()
    assert f"relax_{name}" in _load(folder / "timings.json")
    assert _load(folder / "finished.json")["settings"]["relax"]["models"] == "best"
    before = _mtimes(folder)
    assert cli.main(command) == 0                                   # finished: skipped, never relaxed again
    assert "already finished, skipped" in capsys.readouterr().err and _mtimes(folder) == before
    assert cli.main(command[:-2] + ["--models-to-relax", "none"]) == 2   # other relax settings: refused
    assert "relax" in capsys.readouterr().err
    assert cli.main(command + ["--amber"]) == 2
    assert "not both" in capsys.readouterr().err


def test_relax_flags_of_alphafold2_and_colabfold(tmp_path, capsys):
    from foldkit.errors import InputError
    from foldkit.predict.relax_step import relax_choice

    assert relax_choice().count(5) == 1 and relax_choice("all").count(5) == 5 and relax_choice("none").count(5) == 0
    assert relax_choice(amber=True).count(5) == 5 and relax_choice(num_relax=2).count(5) == 2
    assert relax_choice(amber=True, num_relax=9).count(5) == 5 and not relax_choice(num_relax=0).active
    assert relax_choice("none").resume_key() == {} and relax_choice().resume_key()["relax"]["stiffness"] == 10.0
    with pytest.raises(InputError, match="not both"):
        relax_choice("best", amber=True)
    write_fasta(tmp_path / "in.fasta", {"short": SHORT})
    capsys.readouterr()
    assert cli.main(["predict", str(tmp_path / "in.fasta"), "-o", str(tmp_path / "out"), "--params-dir",
                     str(tmp_path), "--num-relax", "1", "--models-to-relax", "all"]) == 2
    assert "not both" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_relax_step_on_real_structures_and_resume(tmp_path):
    params = make_tiny_params_dir(tmp_path / "params")
    out = tmp_path / "out"
    lines: list[str] = []
    stand_in_run(out, FRAGMENT, params, "all", 2, log=lines.append)
    folder = out / "standin"
    metrics = _load(folder / "relax_metrics.json")
    assert list(metrics) == list(NAMES)
    for rank, name in enumerate(NAMES):
        entry = metrics[name]
        assert entry["status"] == "relaxed" and entry["remaining_violations"] == [0] * 5
        assert entry["remaining_violations_count"] == 0 and entry["outer_iterations"] == 1
        assert entry["final_energy"] < entry["initial_energy"] and 0.05 < entry["rmsd_heavy_to_input"] < 0.3
        relaxed_pdb = (folder / f"relaxed_{name}.pdb").read_text()
        assert (folder / f"ranked_{rank}.pdb").read_text() == relaxed_pdb             # ranked_* take it
        assert sum(1 for line in relaxed_pdb.splitlines() if line.startswith("ATOM")) == 97   # with hydrogens
        relaxed = read_structure(folder / f"relaxed_{name}.pdb")
        unrelaxed = read_structure(folder / f"{name}.pdb")
        plddt = _load(folder / f"scores_{name}.json")["plddt"]
        np.testing.assert_allclose(relaxed.b_factors[relaxed.atom_mask > 0],
                                   np.repeat(plddt, relaxed.atom_mask.sum(axis=1).astype(int)), atol=0.006)
        assert unrelaxed.atom_mask.sum() + 1 == relaxed.atom_mask.sum()                 # + OXT
    block = gemmi.cif.read(str(folder / "ranked_0.cif")).sole_block()
    assert block.find_values("_atom_site.type_symbol").str(0) == "N"
    assert sum(1 for v in block.find_values("_atom_site.type_symbol") if v == "H") > 40
    local = block.find("_ma_qa_metric_local.", ["label_seq_id", "metric_value"])
    np.testing.assert_allclose([float(r[1]) for r in local], _load(folder / f"scores_{NAMES[0]}.json")["plddt"],
                               atol=0.006)
    assert (folder / "ranked_0.cif").read_text() == (folder / f"relaxed_{NAMES[0]}.cif").read_text()
    assert {f"relax_{n}" for n in NAMES} <= set(_load(folder / "timings.json"))

    # interrupted after the relaxations (no finished.json): the record is redone, the relaxations reused
    (folder / "finished.json").unlink()
    relaxed_times = {n: (folder / f"relaxed_{n}.pdb").stat().st_mtime_ns for n in NAMES}
    lines.clear()
    stand_in_run(out, FRAGMENT, params, "all", 2, log=lines.append)
    assert sum("relaxed earlier, reused" in line for line in lines) == 2
    assert not any("Amber relaxation" in line for line in lines)
    assert relaxed_times == {n: (folder / f"relaxed_{n}.pdb").stat().st_mtime_ns for n in NAMES}

    # a relaxation whose file is damaged is redone; the other is reused
    (folder / "finished.json").unlink()
    (folder / f"relaxed_{NAMES[1]}.pdb").write_text("truncated")
    lines.clear()
    stand_in_run(out, FRAGMENT, params, "all", 2, log=lines.append)
    assert [line.split(": ", 1)[1] for line in lines if "Amber relaxation" in line] == [f"{NAMES[1]}: Amber relaxation"]
    assert read_structure(folder / f"relaxed_{NAMES[1]}.pdb").atom_mask.sum() == 44

    # fewer models relaxed now (--overwrite, best): the other's files are removed
    stand_in_run(out, FRAGMENT, params, "best", 2, overwrite=True, log=lines.append)
    assert sorted(p.name for p in folder.glob("relaxed_*")) == [f"relaxed_{NAMES[0]}.cif", f"relaxed_{NAMES[0]}.pdb"]
    assert list(_load(folder / "relax_metrics.json")) == [NAMES[0]]
    assert (folder / "ranked_1.pdb").read_text() == (folder / f"{NAMES[1]}.pdb").read_text()


@pytest.mark.slow
def test_sigkill_during_a_relaxation_then_resume(tmp_path):
    """Killed while relaxing the second model: the rerun reuses the first relaxation and redoes the second."""
    params = make_tiny_params_dir(tmp_path / "params")
    structure = RELAX_DIR / "inputs" / "casp_T1065s2.pdb"          # 98 residues, ~10-20 s per relaxation
    command = [sys.executable, "-m", "tests.relax.stand_in_predict", str(tmp_path / "out"), str(structure),
               str(params), "all", "2"]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    folder = tmp_path / "out" / "standin"
    deadline = time.monotonic() + 600
    while not (folder / "relax_metrics.json").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "first relaxation did not finish in time"
        time.sleep(0.05)
    time.sleep(2.0)                                                  # well inside the second relaxation
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    assert not (folder / f"relaxed_{NAMES[1]}.pdb").exists(), "killed too late: second relaxation finished"
    assert not (folder / "finished.json").exists()
    first = (folder / f"relaxed_{NAMES[0]}.pdb").stat().st_mtime_ns

    rerun = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{NAMES[0]}: relaxed earlier, reused" in rerun.stderr
    assert f"{NAMES[1]}: Amber relaxation" in rerun.stderr and f"{NAMES[0]}: Amber relaxation" not in rerun.stderr
    assert (folder / f"relaxed_{NAMES[0]}.pdb").stat().st_mtime_ns == first
    assert (folder / "finished.json").is_file() and not list(folder.glob(".*.tmp"))
    metrics = _load(folder / "relax_metrics.json")
    assert [metrics[n]["status"] for n in NAMES] == ["relaxed", "relaxed"]
    for rank, name in enumerate(NAMES):
        assert (folder / f"ranked_{rank}.pdb").read_text() == (folder / f"relaxed_{name}.pdb").read_text()
