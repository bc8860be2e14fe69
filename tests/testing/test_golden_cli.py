"""The golden-case runner: discovery, per-output lines, summary line, exit status."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np

from foldkit.testing import golden
from foldkit.testing.compare import Kind, OutputCheck
from tests.conftest import AF2_REFERENCE, REPO_ROOT


def _module_case(folder, name, output):
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{name}.npz", **{"input/x": np.arange(4.0), "output/y": output})
    (folder / f"{name}.json").write_text(json.dumps({"module": name}))


def test_discovers_every_kind_in_reference():
    cases = golden.discover(AF2_REFERENCE)
    by_kind = {kind: sorted(c.name for c in cases if c.kind == kind) for kind in golden.KINDS}
    index = json.loads((AF2_REFERENCE / "modules" / "index.json").read_text())
    multimer_index = json.loads((AF2_REFERENCE / "multimer" / "modules" / "index.json").read_text())
    assert sorted(c.name for c in cases if c.kind == "modules" and not c.multimer) == sorted(index)
    assert sorted(c.name for c in cases if c.kind == "modules" and c.multimer) == sorted(multimer_index)
    assert by_kind["model"] == ["tiny_model_1_ptm", "tiny_model_3"]
    assert {"tiny_multimer_hetero", "tiny_multimer_homo_det"} <= set(by_kind["multimer"])
    assert all(c.multimer for c in golden.discover(AF2_REFERENCE, only="multimer"))
    pipeline = {c.label: c.variant for c in cases if c.kind == "pipeline"}
    assert pipeline["pipeline/mono_full_templates[stored]"] == "monomer/stored"
    assert pipeline["pipeline/mono_full_templates[search]"] == "monomer/search"
    assert pipeline["pipeline/multi_hetero_2chain"] == "multimer"
    assert {"feat_case1_model_3", "feat_case2_model_1"} <= set(by_kind["features"])
    assert {c.kind for c in golden.discover(AF2_REFERENCE, only="model")} == {"model"}


def test_pass_fail_and_not_implemented(tmp_path):
    _module_case(tmp_path / "modules", "double", np.arange(4.0) * 2)
    _module_case(tmp_path / "modules", "wrong", np.arange(4.0) * 2 + 1.0)
    _module_case(tmp_path / "modules", "unknown_module", np.zeros(4))
    double = lambda arrays, case, chunk: [OutputCheck("output/y", arrays["input/x"] * 2, Kind.ACTIVATION)]
    registry = {"double": double, "wrong": double}
    reports = {c.name: golden.run_case(c, None, registry) for c in golden.discover(tmp_path)}
    assert reports["double"].passed and reports["double"].results[0].max_abs == 0.0
    assert not reports["wrong"].passed and reports["wrong"].results[0].max_abs == 1.0
    assert not reports["unknown_module"].passed and "not implemented" in reports["unknown_module"].error


def test_unchecked_output_and_crash_fail(tmp_path):
    _module_case(tmp_path, "partial", np.zeros(4))
    _module_case(tmp_path, "crash", np.zeros(4))
    registry = {"partial": lambda a, c, k: [], "crash": lambda a, c, k: 1 / 0}
    reports = {c.name: golden.run_case(c, None, registry) for c in golden.discover(tmp_path)}
    assert not reports["partial"].passed
    assert reports["partial"].results[0].detail == "reference output not compared"
    assert "ZeroDivisionError" in reports["crash"].error


def test_summary_line_and_exit_status(tmp_path):
    _module_case(tmp_path / "modules", "no_such_module", np.zeros(2))
    out = io.StringIO()
    assert golden.run_all(tmp_path, out=out) == (0, 1)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "golden: 0 passed, 1 failed"
    assert any("FAIL" in line and "not implemented" in line for line in lines)
    result = subprocess.run([sys.executable, "-m", "foldkit.testing.golden", str(tmp_path), "--only", "modules"],
                            capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 1 and result.stdout.strip().endswith("golden: 0 passed, 1 failed")


def test_reference_head_cases_pass_through_cli(tmp_path):
    """Real module cases (the heads) run through the CLI and pass."""
    modules = tmp_path / "modules"
    modules.mkdir()
    for name in ("distogram_head", "masked_msa_head"):
        for ext in ("npz", "json"):
            (modules / f"{name}.{ext}").symlink_to(AF2_REFERENCE / "modules" / f"{name}.{ext}")
    result = subprocess.run([sys.executable, "-m", "foldkit.testing.golden", str(tmp_path), "--chunk-size", "4"],
                            capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "golden: 2 passed, 0 failed"
    assert "modules/distogram_head" in result.stdout and "output/bin_edges" in result.stdout
