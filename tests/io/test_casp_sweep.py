"""Every native and every model in ../shared/casp reads cleanly and matches its target sequence."""

from __future__ import annotations

import time
import warnings

import numpy as np

from foldkit.io.fasta import read_fasta
from foldkit.io.structure import read_ts_models


def _target_of(path) -> str:
    return path.stem.split("-D")[0].split("TS")[0]


def test_every_casp_structure_matches_its_target(casp_dir):
    files = sorted((casp_dir / "natives").glob("*.pdb")) + sorted((casp_dir / "models").glob("*/*.pdb"))
    assert len(files) >= 150
    sequences = {}
    started = time.perf_counter()
    residues = 0
    for path in files:
        target = _target_of(path)
        if target not in sequences:
            sequences[target] = read_fasta(casp_dir / "targets" / f"{target}.fasta")[0].sequence
        sequence = sequences[target]
        with warnings.catch_warnings():
            warnings.simplefilter("error")            # no UNK, nothing odd in CASP files
            models = read_ts_models(path)
        assert len(models) == 1, path
        protein = models[0][1]
        assert protein.chain_id == "", path
        assert protein.insertion_codes == ("",) * len(protein), path
        assert protein.ca_mask.all(), path
        numbers = protein.residue_index
        assert numbers.min() >= 1 and numbers.max() <= len(sequence), path
        assert np.all(np.diff(numbers) > 0), path
        expected = "".join(sequence[i - 1] for i in numbers)
        mismatches = [(int(n), a, b) for n, a, b in zip(numbers, protein.sequence, expected) if a != b]
        assert not mismatches, (path, mismatches[:5])
        residues += len(protein)
    elapsed = time.perf_counter() - started
    assert residues > 30000
    assert elapsed < 30, f"reading {len(files)} files took {elapsed:.1f} s"
