"""Chain sequences, pairwise chain alignments and the grouping of chains by sequence.

As OpenStructure's chain mapper describes it: target chains whose global
(Needleman-Wunsch, BLOSUM62, gap open -11 / extend -1) alignment has >= 95 %
identity form one group of interchangeable chains; each model chain joins the
group whose representative it aligns to best, if that identity is >= 70 %.
Identity = identical pairs / aligned (non-gap) columns, with at least
``MIN_ALIGNED`` aligned residues.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from foldkit.eval.complex.structure import Complex

TARGET_GROUP_IDENTITY = 0.95
MODEL_GROUP_IDENTITY = 0.70
MIN_ALIGNED = 6
GAP_OPEN = -11.0
GAP_EXTEND = -1.0


@dataclasses.dataclass(frozen=True)
class ChainAlignment:
    """Aligned residue pairs of one target chain and one model chain (indices within each chain)."""

    target_index: np.ndarray   # [K] int
    model_index: np.ndarray    # [K] int
    n_identical: int

    @property
    def n_aligned(self) -> int:
        return len(self.target_index)

    @property
    def identity(self) -> float:
        return self.n_identical / self.n_aligned if self.n_aligned >= MIN_ALIGNED else 0.0

    def n_mismatches(self) -> int:
        return self.n_aligned - self.n_identical


@functools.lru_cache(maxsize=1)
def _aligner():
    from Bio import Align
    from Bio.Align import substitution_matrices

    aligner = Align.PairwiseAligner()
    aligner.mode = "global"
    aligner.substitution_matrix = substitution_matrices.load("BLOSUM62")
    aligner.open_gap_score = GAP_OPEN
    aligner.extend_gap_score = GAP_EXTEND
    return aligner


@functools.lru_cache(maxsize=4096)
def align_sequences(target_seq: str, model_seq: str) -> ChainAlignment:
    """Global alignment of two one-letter sequences (X for unknown residues)."""
    if target_seq == model_seq:
        index = np.arange(len(target_seq))
        return ChainAlignment(index, index, len(target_seq))
    if not target_seq or not model_seq:
        empty = np.zeros(0, dtype=np.int64)
        return ChainAlignment(empty, empty, 0)
    alignment = _aligner().align(target_seq, model_seq)[0]
    ti, mi = [], []
    for (t0, t1), (m0, m1) in zip(*alignment.aligned):
        ti.extend(range(t0, t1))
        mi.extend(range(m0, m1))
    ti_arr, mi_arr = np.asarray(ti, dtype=np.int64), np.asarray(mi, dtype=np.int64)
    same = sum(target_seq[t] == model_seq[m] for t, m in zip(ti, mi))
    return ChainAlignment(ti_arr, mi_arr, int(same))


@dataclasses.dataclass(frozen=True)
class ChainGroups:
    """Target chains grouped by sequence and the model chains assigned to each group (chain indices)."""

    target: tuple[tuple[int, ...], ...]
    model: tuple[tuple[int, ...], ...]
    unassigned_model: tuple[int, ...]

    def group_of_target(self, chain: int) -> int:
        return next(g for g, members in enumerate(self.target) if chain in members)

    def group_of_model(self, chain: int) -> int | None:
        return next((g for g, members in enumerate(self.model) if chain in members), None)


def group_chains(target: Complex, model: Complex) -> ChainGroups:
    """Group target chains by sequence identity and assign every model chain to at most one group."""
    target_seqs = target.sequences
    groups: list[list[int]] = []
    for t, seq in enumerate(target_seqs):
        for members in groups:
            if align_sequences(target_seqs[members[0]], seq).identity >= TARGET_GROUP_IDENTITY:
                members.append(t)
                break
        else:
            groups.append([t])
    assigned: list[list[int]] = [[] for _ in groups]
    unassigned = []
    for m, sequence in enumerate(model.sequences):
        scores = [align_sequences(target_seqs[members[0]], sequence).identity for members in groups]
        best = int(np.argmax(scores))
        if scores[best] >= MODEL_GROUP_IDENTITY:
            assigned[best].append(m)
        else:
            unassigned.append(m)
    return ChainGroups(target=tuple(tuple(g) for g in groups), model=tuple(tuple(a) for a in assigned),
                       unassigned_model=tuple(unassigned))


def chain_alignment(target: Complex, model: Complex, t: int, m: int) -> ChainAlignment:
    """Alignment of target chain ``t`` with model chain ``m`` (cached on the sequences)."""
    return align_sequences(target.sequences[t], model.sequences[m])
