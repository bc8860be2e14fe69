"""A `foldkit predict` process killed with SIGKILL after its first record resumes without redoing it.

Runs the installed console script (``.venv/bin/foldkit``) as a real
subprocess, waits for the first record's ``finished.json`` marker, kills the
process while the second record is being compiled/predicted, then runs the
same command again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from foldkit.io.structure import read_structure
from tests.predict.helpers import console_script, kill_after_marker, make_tiny_params_dir, snapshot, write_fasta

# 22 residues (64 bucket) is predicted first; 70 residues (128 bucket) needs a second compilation
SHORT = "MKTAYIAKQRQISFVKSHFSRQ"
LONG = "MSEQNNTEMTFQIQRIYTKDISFEAPNAPHVFQKDWMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQA"


def _command(tmp: Path) -> list[str]:
    return [console_script(), "predict", str(tmp / "in.fasta"), "-o", str(tmp / "out"), "--params-dir",
            str(tmp / "params"), "--num-recycle", "1", "--num-seeds", "2"]


@pytest.mark.slow
def test_sigkill_then_rerun_resumes(tmp_path):
    write_fasta(tmp_path / "in.fasta", {"long": LONG, "short": SHORT})
    make_tiny_params_dir(tmp_path / "params")
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    process = kill_after_marker(_command(tmp_path), tmp_path / "out" / "short" / "finished.json", env, 300,
                                "first record")
    assert process.returncode == -signal.SIGKILL
    assert not (tmp_path / "out" / "long" / "finished.json").exists(), "killed too late: second record finished"
    first = snapshot(tmp_path / "out" / "short")

    rerun = subprocess.run(_command(tmp_path), capture_output=True, text=True, env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "short (22 aa): already finished, skipped" in rerun.stderr
    assert "[1/2] short (22 aa): MSA" not in rerun.stderr
    assert "[2/2] long (70 aa): done" in rerun.stderr
    assert snapshot(tmp_path / "out" / "short") == first     # not redone, not touched

    out = tmp_path / "out"
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers
    for folder, length in (("short", len(SHORT)), ("long", len(LONG))):
        assert (out / folder / "finished.json").is_file()
        for path in (out / folder).glob("*.json"):
            json.loads(path.read_text())           # every JSON file is complete
        for path in (out / folder).glob("*.pdb"):
            protein = read_structure(path)
            assert len(protein) == length and np.isfinite(protein.atom_positions).all()
            assert path.read_text().rstrip().endswith("END")
        with np.load(out / folder / "features.npz", allow_pickle=False) as npz:
            assert npz["aatype"].shape[0] == length
    rows = (out / "summary.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["id", "long", "short"]
