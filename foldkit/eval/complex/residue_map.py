"""Residue correspondence between a target and a model complex under a chain mapping.

A chain mapping assigns target chains to model chains (index of the model
chain, -1 for a target chain without partner); inside each mapped chain pair
residues correspond through the chain alignment.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from foldkit.eval.complex.alignment import ChainAlignment, chain_alignment
from foldkit.eval.complex.structure import Complex


class PairAlignments:
    """Chain alignments of one target and one model as global residue-index maps, computed on demand."""

    def __init__(self, target: Complex, model: Complex):
        self.target = target
        self.model = model
        self._cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def alignment(self, t: int, m: int) -> ChainAlignment:
        return chain_alignment(self.target, self.model, t, m)

    def maps(self, t: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        """forward [len(target chain t)]: model residue (global index) or -1; backward [len(model chain m)]:
        target residue (global index) or -1."""
        key = (t, m)
        if key not in self._cache:
            aln = self.alignment(t, m)
            t0, m0 = int(self.target.chain_start[t]), int(self.model.chain_start[m])
            forward = np.full(len(self.target.chains[t]), -1, dtype=np.int64)
            backward = np.full(len(self.model.chains[m]), -1, dtype=np.int64)
            forward[aln.target_index] = aln.model_index + m0
            backward[aln.model_index] = aln.target_index + t0
            self._cache[key] = (forward, backward)
        return self._cache[key]


@dataclasses.dataclass(frozen=True)
class ResidueMap:
    """Residue correspondence of a whole chain mapping.

    chain_map: [C_t] model chain of each target chain (-1: unmapped);
    target_to_model: [R_t] model residue of each target residue (-1: none);
    model_to_target: [R_m] the inverse (-1: none, including unmapped model chains).
    """

    chain_map: tuple[int, ...]
    target_to_model: np.ndarray
    model_to_target: np.ndarray

    @property
    def mapped_pairs(self) -> list[tuple[int, int]]:
        """(target chain, model chain) of every mapped chain."""
        return [(t, m) for t, m in enumerate(self.chain_map) if m >= 0]

    @functools.cached_property
    def model_chain_map(self) -> dict[int, int]:
        """model chain -> target chain."""
        return {m: t for t, m in enumerate(self.chain_map) if m >= 0}


def residue_map(alignments: PairAlignments, chain_map: tuple[int, ...]) -> ResidueMap:
    target, model = alignments.target, alignments.model
    forward = np.full(target.n_residues, -1, dtype=np.int64)
    backward = np.full(model.n_residues, -1, dtype=np.int64)
    for t, m in enumerate(chain_map):
        if m < 0:
            continue
        f, b = alignments.maps(t, m)
        forward[target.chain_start[t]:target.chain_start[t + 1]] = f
        backward[model.chain_start[m]:model.chain_start[m + 1]] = b
    return ResidueMap(chain_map=tuple(int(m) for m in chain_map), target_to_model=forward, model_to_target=backward)
