"""Shared inputs of the predict tests: a tiny random-weight parameter folder and small FASTA/A3M files."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from foldkit.model import params as params_lib
from tests.conftest import AF2_REFERENCE, REPO_ROOT

TINY_CASE = "tiny_model_1_ptm"
# lengths 22 and 36 share the 64-residue bucket (one compiled function)
RECORDS = {"rec_b": "MSEQNNTEMTFQIQRIYTKDISFEAPNAPHVFQKDW", "rec/a": "MKTAYIAKQRQISFVKSHFSRQ"}
FOLDERS = {"rec_b": "rec_b", "rec/a": "rec_a"}


def write_fasta(path: Path, records: dict[str, str]) -> Path:
    path.write_text("".join(f">{rid} test record\n{seq}\n" for rid, seq in records.items()))
    return path


def make_tiny_params_dir(folder: Path, names: tuple[str, ...] = ("tiny_ptm",)) -> Path:
    """params_<name>.npz + sidecar params_<name>.json with the golden tiny model_1_ptm config.

    The first name gets the golden parameters, further names perturbed copies (different models).
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = AF2_REFERENCE / f"{TINY_CASE}_config.json"
    golden = AF2_REFERENCE / f"{TINY_CASE}_params.npz"
    for index, name in enumerate(names):
        shutil.copyfile(config, folder / f"params_{name}.json")
        if index == 0:
            shutil.copyfile(golden, folder / f"params_{name}.npz")
            continue
        rng = np.random.default_rng(index)
        flat = params_lib.nested_to_flat(params_lib.load_params(golden))
        perturbed = {k: (v + rng.normal(0, 0.05, v.shape)).astype(np.float32) for k, v in flat.items()}
        params_lib.save_params(folder / f"params_{name}.npz", perturbed)
    return folder


def a3m_for(sequence: str, name: str) -> str:
    """Query + three homologues (substitutions, a gap, lower-case insertions)."""
    mutated = sequence[:3] + ("W" if sequence[3] != "W" else "A") + sequence[4:]
    gapped = "-" * 4 + sequence[4:-3] + "---"
    inserted = sequence[:5] + "kl" + sequence[5:10] + ("G" if sequence[10] != "G" else "P") + sequence[11:]
    return f">{name}\n{sequence}\n>hom1 A\n{mutated}\n>hom2 B\n{gapped}\n>hom3 C\n{inserted}\n"


def console_script() -> str:
    """The installed ``foldkit`` console script (next to this Python, else the repository's .venv)."""
    script = Path(sys.executable).parent / "foldkit"
    if not script.is_file():
        script = REPO_ROOT / ".venv" / "bin" / "foldkit"
    return str(script)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """File name -> (mtime ns, size) of a folder's entries (to show a rerun left them untouched)."""
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


def kill_after_marker(command: list[str], marker: Path, env: dict[str, str], timeout_s: float,
                      what: str) -> subprocess.Popen:
    """Start ``command``, wait (at most ``timeout_s``) for ``marker`` to appear, then SIGKILL the process;
    fails with the process's stderr if it exits first. Returns the killed process."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, f"{what} did not finish in time"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    return process
