"""Complex (multi-chain) scoring: chain mapping, DockQ, QS-score, ICS/IPS, complex lDDT, multi-chain TM-score.

Entry point: :func:`foldkit.eval.complex.scoring.score_complex` (two :class:`Complex` -> ``ComplexScores``);
:func:`read_complex` reads every protein chain of a PDB / mmCIF file. Module per concern: chain grouping and
alignments (:mod:`alignment`, :mod:`residue_map`), inter-chain contacts (:mod:`contacts`), the chain mapping
(:mod:`mapping`), :mod:`qs`, :mod:`dockq`, :mod:`contact_scores` (ICS/IPS), :mod:`complex_lddt`,
:mod:`multimer_tm`, :mod:`rigid`; JSON / table / CSV output in :mod:`report`.
"""

__all__ = ["Complex", "ComplexScores", "TargetData", "read_complex", "score_complex"]


def __getattr__(name: str):
    # lazy: the compiled kernels load only when scoring is used
    if name in ("Complex", "read_complex"):
        from foldkit.eval.complex import structure

        return getattr(structure, name)
    if name in ("ComplexScores", "TargetData", "score_complex"):
        from foldkit.eval.complex import scoring

        return getattr(scoring, name)
    raise AttributeError(f"module 'foldkit.eval.complex' has no attribute {name!r}")
