"""QS-score (Bertoni et al. 2017, as OpenStructure 2.10 computes it for CASP15/16).

Contacts are CB-CB (CA for Gly) pairs of different chains closer than 12 A,
weighted by w(d) = 1 for d <= 5 A and exp(-2 ((d - 5) / 4.28)^2) beyond. A
target contact is *shared* when its two residues are aligned to model residues
of the mapped model chains that are in contact too; it scores
w(min(d_t, d_m)) (1 - |d_t - d_m| / 12). Then

    QS_global = sum(shared scores) / (sum of w(min) over shared
                                      + w of every other contact of both structures)
    QS_best   = the same with only the other contacts whose residues are both mapped

(QS_global penalises missing and extra chains, QS_best does not). Per
interface: the same restricted to one target chain pair and its model chain
pair. Everything is a sum over mapped chain pairs of per-pair terms
(:class:`QsTerms`), which the chain mapping search evaluates for many mappings.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.complex.contacts import QS_CUTOFF, ComplexContacts, ResiduePairs
from foldkit.eval.complex.residue_map import PairAlignments, ResidueMap

WEIGHT_PLATEAU = 5.0
WEIGHT_WIDTH = 4.28


def contact_weight(d: np.ndarray) -> np.ndarray:
    """w(d) of QS contacts at distances d [A]."""
    d = np.asarray(d, dtype=np.float64)
    return np.where(d <= WEIGHT_PLATEAU, 1.0, np.exp(-2.0 * ((d - WEIGHT_PLATEAU) / WEIGHT_WIDTH) ** 2))


@dataclasses.dataclass(frozen=True)
class QsTerms:
    """Sums of one mapped chain pair (target t1, t2 <-> model m1, m2).

    score: shared contact scores; shared_weight: w(min(d_t, d_m)) over shared;
    target_shared / model_shared: w(d_t) / w(d_m) over shared; target_all / model_all:
    w over every contact of the pair; target_mapped / model_mapped: w over the contacts
    whose residues are both aligned.
    """

    score: float = 0.0
    shared_weight: float = 0.0
    target_shared: float = 0.0
    model_shared: float = 0.0
    target_all: float = 0.0
    model_all: float = 0.0
    target_mapped: float = 0.0
    model_mapped: float = 0.0

    @property
    def global_correction(self) -> float:
        """What this pair adds to the QS_global denominator beyond the plain contact weights."""
        return self.shared_weight - self.target_shared - self.model_shared

    def qs_global(self) -> float | None:
        den = self.shared_weight + (self.target_all - self.target_shared) + (self.model_all - self.model_shared)
        return self.score / den if den > 0 else None

    def qs_best(self) -> float | None:
        den = (self.shared_weight + (self.target_mapped - self.target_shared)
               + (self.model_mapped - self.model_shared))
        return self.score / den if den > 0 else None


class QsCalculator:
    """QS terms of chain pairs of one target/model pair, cached per (t1, t2, m1, m2)."""

    def __init__(self, alignments: PairAlignments, target_contacts: ComplexContacts, model_contacts: ComplexContacts):
        self.alignments = alignments
        self.target_rep = alignments.target.representative
        self.model_rep = alignments.model.representative
        self.target_pairs = target_contacts.qs
        self.model_pairs = model_contacts.qs
        self.target_total = float(contact_weight(self.target_pairs.distance).sum())
        self.model_total = float(contact_weight(self.model_pairs.distance).sum())
        self._target_between: dict[tuple[int, int], ResiduePairs] = {}
        self._model_between: dict[tuple[int, int], ResiduePairs] = {}
        self._terms: dict[tuple[int, int, int, int], QsTerms] = {}

    def target_interfaces(self) -> list[tuple[int, int]]:
        return self.target_pairs.chain_pairs()

    def _between(self, cache, pairs: ResiduePairs, c1: int, c2: int) -> ResiduePairs:
        if (c1, c2) not in cache:
            cache[(c1, c2)] = pairs.between(c1, c2)
        return cache[(c1, c2)]

    def terms(self, t1: int, t2: int, m1: int, m2: int) -> QsTerms:
        key = (t1, t2, m1, m2)
        if key not in self._terms:
            self._terms[key] = self._compute(t1, t2, m1, m2)
        return self._terms[key]

    def _compute(self, t1: int, t2: int, m1: int, m2: int) -> QsTerms:
        target, model = self.alignments.target, self.alignments.model
        tp = self._between(self._target_between, self.target_pairs, t1, t2)
        mp = self._between(self._model_between, self.model_pairs, m1, m2)
        if not len(tp) and not len(mp):
            return QsTerms()
        fwd1, bwd1 = self.alignments.maps(t1, m1)
        fwd2, bwd2 = self.alignments.maps(t2, m2)
        # target side: which contacts are shared
        r = fwd1[tp.first - target.chain_start[t1]]
        s = fwd2[tp.second - target.chain_start[t2]]
        both = (r >= 0) & (s >= 0)
        dt = tp.distance
        dm = np.full(len(tp), np.inf)
        if both.any():
            diff = self.model_rep[r[both]] - self.model_rep[s[both]]
            dm[both] = np.sqrt((diff * diff).sum(1))
        shared = both & (dm < QS_CUTOFF)                          # NaN (no CB) compares False
        wt = contact_weight(dt)
        d_t, d_m = dt[shared], dm[shared]
        w_min = contact_weight(np.minimum(d_t, d_m))
        # model side: contacts whose residues are both aligned to the target pair
        mr = bwd1[mp.first - model.chain_start[m1]]
        ms = bwd2[mp.second - model.chain_start[m2]]
        wm = contact_weight(mp.distance)
        return QsTerms(
            score=float((w_min * (1.0 - np.abs(d_t - d_m) / QS_CUTOFF)).sum()),
            shared_weight=float(w_min.sum()), target_shared=float(wt[shared].sum()),
            model_shared=float(contact_weight(d_m).sum()), target_all=float(wt.sum()), model_all=float(wm.sum()),
            target_mapped=float(wt[both].sum()), model_mapped=float(wm[(mr >= 0) & (ms >= 0)].sum()))


@dataclasses.dataclass(frozen=True)
class QsInterface:
    """Per target interface (chain pair with QS contacts): its model chains and scores (None if unmapped)."""

    target_chains: tuple[int, int]
    model_chains: tuple[int, int] | None
    qs_global: float | None
    qs_best: float | None


@dataclasses.dataclass(frozen=True)
class QsResult:
    qs_global: float | None
    qs_best: float | None
    interfaces: tuple[QsInterface, ...]
    model_interfaces: tuple[tuple[int, int], ...]    # model chain pairs with QS contacts


def qs_scores(calculator: QsCalculator, mapping: ResidueMap) -> QsResult:
    """QS_global, QS_best and per-interface QS of one chain mapping."""
    chain_map = mapping.chain_map
    mapped = [t for t, m in enumerate(chain_map) if m >= 0]
    score = shared_w = target_shared = model_shared = target_mapped = model_mapped = 0.0
    for i, t1 in enumerate(mapped):
        for t2 in mapped[i + 1:]:
            terms = calculator.terms(t1, t2, chain_map[t1], chain_map[t2])
            score += terms.score
            shared_w += terms.shared_weight
            target_shared += terms.target_shared
            model_shared += terms.model_shared
            target_mapped += terms.target_mapped
            model_mapped += terms.model_mapped
    den_global = shared_w + (calculator.target_total - target_shared) + (calculator.model_total - model_shared)
    den_best = shared_w + (target_mapped - target_shared) + (model_mapped - model_shared)
    interfaces = []
    for t1, t2 in calculator.target_interfaces():
        m1, m2 = chain_map[t1], chain_map[t2]
        if m1 < 0 or m2 < 0:
            interfaces.append(QsInterface((t1, t2), None, None, None))
            continue
        terms = calculator.terms(t1, t2, m1, m2)
        interfaces.append(QsInterface((t1, t2), (m1, m2), terms.qs_global(), terms.qs_best()))
    return QsResult(qs_global=score / den_global if den_global > 0 else None,
                    qs_best=score / den_best if den_best > 0 else None, interfaces=tuple(interfaces),
                    model_interfaces=tuple(calculator.model_pairs.chain_pairs()))
