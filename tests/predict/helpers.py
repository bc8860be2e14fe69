"""Shared inputs of the predict tests: a tiny random-weight parameter folder and small FASTA/A3M files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from foldkit.model import params as params_lib
from tests.conftest import AF2_REFERENCE

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
