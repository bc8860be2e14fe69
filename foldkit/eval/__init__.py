"""CASP-grade structure comparison: GDT_TS/GDT_HA, TM-score, lDDT, RMSD.

Entry point: :func:`foldkit.eval.scores.score_structures` (two ``Protein`` -> ``Scores``).
Array-level metrics: :mod:`gdt`, :mod:`tm`, :mod:`lddt`, :mod:`rmsd`; the shared
superposition search is in :mod:`search` and :mod:`superpose`; CASP naming and
target-set scoring in :mod:`casp`, :mod:`target_set` and :mod:`ranking`.
"""

__all__ = ["Scores", "score_structures"]


def __getattr__(name: str):
    # lazy: importing a light submodule (casp naming, ranking) should not load the compiled kernels
    if name in __all__:
        from foldkit.eval import scores

        return getattr(scores, name)
    raise AttributeError(f"module 'foldkit.eval' has no attribute {name!r}")
