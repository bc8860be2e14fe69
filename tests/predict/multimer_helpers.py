"""Inputs of the complex (multimer) predict tests: a tiny random multimer parameter folder, complexes, MSAs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.conftest import AF2_REFERENCE

MULTIMER_CASE = "tiny_multimer_hetero"      # official-layout random parameters + their config (sidecar)
MULTIMER_MODEL = "tiny_mm"
HETERO = ("MKVLAEKTRGELIKQAYDSLNGR", "SPEELKKRAEEFLRKHG")    # 23 + 17 residues
HOMO = "MADWKKIAEELLR"                                        # 13 residues, three copies
COMPLEXES = {"dimer": ":".join(HETERO), "trimer": ":".join([HOMO] * 3),
             "aba": f"{HETERO[0]}:{HETERO[1]}:{HETERO[0]}"}    # features lay out A, C (entity 1), then B
CHAINS = {"dimer": ("A", "B"), "trimer": ("A", "B", "C"), "aba": ("A", "B", "C")}


def make_multimer_params_dir(folder: Path, name: str = MULTIMER_MODEL) -> Path:
    """params_<name>.npz (the golden random multimer parameters, official key layout) + its sidecar config."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(AF2_REFERENCE / "multimer" / f"{MULTIMER_CASE}_params.npz", folder / f"params_{name}.npz")
    shutil.copyfile(AF2_REFERENCE / "multimer" / f"{MULTIMER_CASE}_config.json", folder / f"params_{name}.json")
    return folder


def chain_a3m(sequence: str, name: str, rows: int = 16, seed: int = 0) -> str:
    """A3M of a chain: the query and ``rows - 1`` homologues (substitutions, terminal gaps, an insertion).

    More rows than the tiny model's 12 MSA clusters, so that its extra-MSA stack has rows to read.
    """
    rng = np.random.default_rng(seed)
    letters = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    out = [f">{name}\n{sequence}\n"]
    for k in range(1, rows):
        row = np.array(list(sequence))
        changed = rng.random(len(row)) < 0.25
        row[changed] = rng.choice(letters, int(changed.sum()))
        cut = int(rng.integers(0, 4))
        if cut:
            row[:cut] = "-"
        text = "".join(row)
        if k % 5 == 0:
            text = text[:6] + "ki" + text[6:]
        out.append(f">hom{k} {name}\n{text}\n")
    return "".join(out)


def write_complex_inputs(folder: Path, records: dict[str, str]) -> tuple[Path, Path]:
    """in.fasta with the ':' records and msas/<id>_<chain>.a3m for each distinct chain."""
    folder.mkdir(parents=True, exist_ok=True)
    fasta = folder / "in.fasta"
    fasta.write_text("".join(f">{rid} test complex\n{seq}\n" for rid, seq in records.items()))
    msas = folder / "msas"
    msas.mkdir(exist_ok=True)
    for rid, seq in records.items():
        seen = set()
        for k, chain in enumerate(seq.split(":")):
            if chain in seen:
                continue
            seen.add(chain)
            chain_id = "ABCDEFGH"[k]
            (msas / f"{rid}_{chain_id}.a3m").write_text(chain_a3m(chain, chain_id, seed=len(seen)))
    return fasta, msas
