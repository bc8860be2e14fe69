"""TM-score (Zhang & Skolnick 2004) with residue-number correspondence.

TM = max over superpositions of (1/L) sum_i 1 / (1 + (d_i/d0)^2), summed over
the matched CA pairs and normalised by L, the native's CA count, with
d0 = 1.24 (L - 15)^(1/3) - 1.8 (0.5 A for L <= 21, TM-score's floor). The
maximum is searched like the TM-score program does and more: fragment seeds
of lengths L, L/2, L/4 ... each refined by iterative re-superposition on the
pairs within d0_search = clip(d0, 4.5, 8) A, every superposition scored.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.search import SearchConfig, SearchOutcome, search
from foldkit.eval.superpose import PairMoments, paired_points


def tm_d0(n_reference: int) -> float:
    """TM-score's distance scale d0 [A] for a reference of ``n_reference`` residues."""
    if n_reference <= 15:
        return 0.5
    return max(1.24 * (n_reference - 15) ** (1.0 / 3.0) - 1.8, 0.5)


def tm_search_radius(d0: float) -> float:
    """Selection radius of the iterative refinement (TM-score's d0_search)."""
    return float(min(max(d0, 4.5), 8.0))


@dataclasses.dataclass(frozen=True)
class TmResult:
    """TM-score, its d0, the best superposition (model -> native) and [N] pair distances under it."""

    tm_score: float
    d0: float
    n_reference: int
    rotation: np.ndarray
    translation: np.ndarray
    distances: np.ndarray


def tm_from_search(outcome: SearchOutcome, moments: PairMoments, n_reference: int, d0: float) -> TmResult:
    rot, tr = outcome.tm_rot, outcome.tm_trans
    d = np.sqrt(moments.deviations_under(rot[None], tr[None])[0]) if len(moments.x) else np.zeros(0)
    tr_orig = tr + moments.offset - rot @ moments.offset
    return TmResult(tm_score=outcome.tm_sum / max(n_reference, 1), d0=d0, n_reference=int(n_reference),
                    rotation=rot, translation=tr_orig, distances=d)


def tm_score(model_ca: np.ndarray, native_ca: np.ndarray, n_reference: int | None = None,
             mask: np.ndarray | None = None, config: SearchConfig = SearchConfig()) -> TmResult:
    """TM-score of paired CA coordinates [N, 3]; ``n_reference`` defaults to the pair count."""
    x, y = paired_points(model_ca, native_ca, mask)
    n_ref = len(x) if n_reference is None else int(n_reference)
    d0 = tm_d0(n_ref)
    moments = PairMoments.of(x, y)
    outcome = search(moments, radii=(tm_search_radius(d0),), cutoffs=(4.0,), d0=d0, config=config)
    return tm_from_search(outcome, moments, n_ref, d0)
