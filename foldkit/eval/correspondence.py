"""Which model residue corresponds to which native residue.

Default: by residue number and insertion code (CASP's sequence-dependent
mode). ``by_alignment``: a global sequence alignment (Biopython
PairwiseAligner, BLOSUM62) for models numbered differently from the native.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit import constants as rc
from foldkit.protein import Protein


@dataclasses.dataclass(frozen=True)
class Correspondence:
    """Matched residue pairs: model_index[k] <-> native_index[k] (indices into the Proteins).

    mismatches: (native residue label, model name, native name) where the
    paired residues have different names.
    """

    model_index: np.ndarray    # [K] int
    native_index: np.ndarray   # [K] int
    mismatches: tuple[tuple[str, str, str], ...]

    @property
    def n_pairs(self) -> int:
        return len(self.model_index)

    @property
    def identity(self) -> float:
        """Fraction of matched pairs whose residue names agree (1.0 when nothing is matched)."""
        return 1.0 - len(self.mismatches) / self.n_pairs if self.n_pairs else 1.0


def residue_names(protein: Protein) -> list[str]:
    """Three-letter names as read (falls back to the aatype's name)."""
    if protein.resnames is not None:
        return [n.upper() for n in protein.resnames]
    return [rc.resname_of(int(a)) for a in protein.aatype]


def _label(protein: Protein, i: int) -> str:
    icode = (protein.insertion_codes or ("",) * len(protein))[i].strip()
    return f"residue {int(protein.residue_index[i])}{icode}"


def _build(model: Protein, native: Protein, mi: list[int], ni: list[int]) -> Correspondence:
    m_names, n_names = residue_names(model), residue_names(native)
    mismatches = tuple((_label(native, j), m_names[i], n_names[j]) for i, j in zip(mi, ni)
                       if m_names[i] != n_names[j])
    return Correspondence(model_index=np.asarray(mi, dtype=np.int64), native_index=np.asarray(ni, dtype=np.int64),
                          mismatches=mismatches)


def by_residue_number(model: Protein, native: Protein) -> Correspondence:
    """Pair residues with the same (residue number, insertion code); first occurrence wins."""
    model_at: dict[tuple[int, str], int] = {}
    for i, key in enumerate(model.residue_keys):
        model_at.setdefault(key, i)
    mi, ni, seen = [], [], set()
    for j, key in enumerate(native.residue_keys):
        if key in model_at and key not in seen:
            seen.add(key)
            mi.append(model_at[key])
            ni.append(j)
    return _build(model, native, mi, ni)


def by_alignment(model: Protein, native: Protein) -> Correspondence:
    """Pair residues through a global alignment of the two sequences (end gaps free)."""
    from Bio import Align
    from Bio.Align import substitution_matrices

    aligner = Align.PairwiseAligner()
    aligner.mode = "global"
    aligner.substitution_matrix = substitution_matrices.load("BLOSUM62")
    aligner.open_gap_score = -10.0
    aligner.extend_gap_score = -0.5
    aligner.end_gap_score = 0.0
    seq_m = model.sequence.replace("X", "A") if model.sequence else ""
    seq_n = native.sequence.replace("X", "A") if native.sequence else ""
    if not seq_m or not seq_n:
        return _build(model, native, [], [])
    alignment = aligner.align(seq_m, seq_n)[0]
    mi, ni = [], []
    for (m0, m1), (n0, n1) in zip(*alignment.aligned):
        mi.extend(range(m0, m1))
        ni.extend(range(n0, n1))
    return _build(model, native, mi, ni)
