"""GDT_TS / GDT_HA (Global Distance Test) on CA atoms, LGA-style maximum search.

For each cutoff d the score counts the largest number of model/native CA
pairs that lie within d A after *some* superposition, divided by the number
of CA atoms in the native (so native residues missing from the model count
as misses). GDT_TS averages d = 1, 2, 4, 8 A, GDT_HA d = 0.5, 1, 2, 4 A.
The maximum is searched as LGA does: superpositions seeded on fragments of
several lengths, each refined by iterative re-superposition on the pairs under
the cutoff (see :mod:`foldkit.eval.search`). Both LGA and this search are
heuristics. Against the 74 official CASP14 rows (LGA): GDT_TS within 0.5 for
100% (max 0.38); GDT_HA within 0.5 for 81%, within 1.0 for 99% (max 2.12),
because at 0.5 A this search often finds a larger set than LGA reports (LGA's
tight-cutoff counts are not the maximum; no published rule reproduces them).
Details in tests/eval/test_reference_accuracy.py and benchmarks/RESULTS.md.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.search import (CURVE_CUTOFFS, GDT_HA_CUTOFFS, GDT_TS_CUTOFFS, SearchConfig,
                                 SearchOutcome, search)
from foldkit.eval.superpose import PairMoments, paired_points

GDT_CUTOFFS = (0.5, 1.0, 2.0, 4.0, 8.0)


@dataclasses.dataclass(frozen=True)
class GdtResult:
    """GDT counts and the superposition behind them.

    cutoffs: [C] distances (0.5 .. 10 A); counts: [C] max pairs under each
    cutoff (exact search maxima at 0.5/1/2/4/8 A; elsewhere the best count
    under the transforms found for those, a lower bound); n_reference: native
    CA count; rotation/translation: the best 4 A superposition (model -> native,
    as LGA's ``-d:4`` summary); distances: [N] pair distances under it.
    """

    cutoffs: tuple[float, ...]
    counts: np.ndarray
    n_reference: int
    rotation: np.ndarray
    translation: np.ndarray
    distances: np.ndarray

    def percent_at(self, cutoff: float) -> float:
        """Percent of native residues under ``cutoff`` (0-100)."""
        k = self.cutoffs.index(float(cutoff))
        return 100.0 * float(self.counts[k]) / max(self.n_reference, 1)

    @property
    def percentages(self) -> dict[float, float]:
        """{cutoff: percent} for every cutoff."""
        return {c: self.percent_at(c) for c in self.cutoffs}

    @property
    def gdt_ts(self) -> float:
        return float(np.mean([self.percent_at(c) for c in GDT_TS_CUTOFFS]))

    @property
    def gdt_ha(self) -> float:
        return float(np.mean([self.percent_at(c) for c in GDT_HA_CUTOFFS]))


def gdt_from_search(outcome: SearchOutcome, moments: PairMoments, n_reference: int) -> GdtResult:
    """Assemble a :class:`GdtResult` from a finished search over ``GDT_CUTOFFS`` (and TM)."""
    tracked = [float(c) for c in outcome.cutoffs]
    rots = np.concatenate([outcome.count_rot, outcome.tm_rot[None]])        # [T, 3, 3]
    trans = np.concatenate([outcome.count_trans, outcome.tm_trans[None]])   # [T, 3]
    d2 = moments.deviations_under(rots, trans)                              # [T, N]
    counts = []
    for c in CURVE_CUTOFFS:
        if c in tracked:
            counts.append(int(outcome.counts[tracked.index(c)]))
        else:
            counts.append(int((d2 < c * c).sum(1).max()) if d2.size else 0)
    counts = np.maximum.accumulate(np.asarray(counts))                      # a maximum is monotone in d
    k4 = tracked.index(4.0)
    rot, tr = _to_original_frame(outcome.count_rot[k4], outcome.count_trans[k4], moments.offset)
    return GdtResult(cutoffs=CURVE_CUTOFFS, counts=counts, n_reference=int(n_reference),
                     rotation=rot, translation=tr, distances=np.sqrt(d2[k4]) if d2.size else np.zeros(0))


def _to_original_frame(rot: np.ndarray, trans: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A transform found on coordinates shifted by -offset, expressed on the original coordinates."""
    return rot, trans + offset - rot @ offset


def gdt(model_ca: np.ndarray, native_ca: np.ndarray, n_reference: int | None = None,
        mask: np.ndarray | None = None, config: SearchConfig = SearchConfig()) -> GdtResult:
    """GDT of paired CA coordinates.

    model_ca, native_ca: [N, 3] matched pairs; mask: [N] pairs to use (both
    atoms present); n_reference: native CA count used for normalisation
    (default: the number of pairs used).
    """
    x, y = paired_points(model_ca, native_ca, mask)
    moments = PairMoments.of(x, y)
    outcome = search(moments, radii=GDT_CUTOFFS, cutoffs=GDT_CUTOFFS, d0=None, config=config)
    return gdt_from_search(outcome, moments, len(x) if n_reference is None else n_reference)
