"""The golden runner's `pipeline` kind on AlphaFold2's input-pipeline reference (monomer cases twice)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from foldkit.testing import golden
from foldkit.testing.compare import CompareResult
from tests.conftest import AF2_REFERENCE, REPO_ROOT

PIPELINE = AF2_REFERENCE / "pipeline"
needs_binaries = pytest.mark.skipif(not all(shutil.which(b) for b in ("hhblits", "hhsearch", "kalign")),
                                    reason="HH-suite/kalign not installed (.ci/run installs them)")


@needs_binaries
def test_every_case_passes_monomer_twice_multimer_stored_and_searched():
    """`python -m foldkit.testing.golden .../pipeline --only pipeline --data-dir .../data` (about 25 s)."""
    result = subprocess.run([sys.executable, "-m", "foldkit.testing.golden", str(PIPELINE), "--only", "pipeline",
                             "--data-dir", str(PIPELINE / "data")], capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=600)
    lines = result.stdout.strip().splitlines()
    case_lines = {line.split()[0]: line for line in lines if "== case" in line}
    monomers = ("mono_full_templates", "mono_reduced_datefilter", "mono_no_templates")
    for case in monomers:
        for variant in ("stored", "search"):
            assert "PASS" in case_lines[f"pipeline/{case}[{variant}]"], result.stdout[-3000:]
    assert any("msas/uniref90_hits.sto" in line and "byte-identical" in line for line in lines)
    assert any("template_processing_log" in line and "PASS" in line for line in lines)
    for case in ("multi_hetero_2chain", "multi_homo_2copies"):
        assert "PASS" in case_lines[f"pipeline/{case}"], result.stdout[-3000:]
        names = {line.split()[1] for line in lines if line.startswith(f"pipeline/{case} ")}
        # processed features, chain raw features, pairing inputs, the template log, own searches' files
        assert {"msa", "bert_mask", "cluster_bias_mask", "chain_A/msa", "pair_input_A_1/asym_id",
                "pair_input_A_2/sym_id" if "homo" in case else "pair_input_B_1/msa_all_seq",
                "template_processing_log", "search/msa", "msas/chain_id_map.json", "msas/A/pdb_hits.sto"} <= names
    assert any("msas/A/pdb_hits.sto" in line and "byte-identical" in line for line in lines)
    assert lines[-1] == "golden: 8 passed, 0 failed" and result.returncode == 0


def test_multimer_registry_is_pluggable(tmp_path):
    """A registry that handles 'multimer' makes those cases run (the multimer work adds one)."""
    case = next(c for c in golden.discover(PIPELINE, only="pipeline") if c.variant == "multimer")
    seen = {}

    def check(arrays, case_json, chunk_size):
        seen["dir"] = case_json["_case_dir"]
        return [CompareResult(name, 0.0, 0.0, True) for name in arrays]

    report = golden.run_case(case, registry={"multimer": check})
    assert report.passed and seen["dir"] == str(case.folder)
    missing = golden.run_case(case, registry=golden.Registry())
    assert not missing.passed and "not implemented" in missing.error


def test_cases_are_found_by_content_not_name(tmp_path):
    """A folder named like nothing in the reference is a monomer case when it holds what one holds."""
    folder = tmp_path / "whatever_name"
    shutil.copytree(PIPELINE / "mono_no_templates", folder)
    (tmp_path / "no_case").mkdir()
    (tmp_path / "no_case" / "case.json").write_text("{}")
    found = {(c.name, c.variant) for c in golden.discover(tmp_path)}
    assert found == {("whatever_name", "monomer/stored"), ("whatever_name", "monomer/search")}
