"""CASP-grade structure comparison: GDT_TS/GDT_HA, TM-score, lDDT, RMSD.

Entry point: :func:`foldkit.eval.scores.score_structures` (two ``Protein`` -> ``Scores``).
Array-level metrics: :mod:`gdt`, :mod:`tm`, :mod:`lddt`, :mod:`rmsd`; the shared
superposition search is in :mod:`search` and :mod:`superpose`; CASP naming and
target-set scoring in :mod:`casp`, :mod:`target_set` and :mod:`ranking`.
"""

from foldkit.eval.scores import Scores, score_structures

__all__ = ["Scores", "score_structures"]
