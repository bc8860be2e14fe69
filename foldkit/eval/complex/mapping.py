"""Chain mapping between a model and its target (OpenStructure 2.10's choice: the highest QS_global).

Target chains are grouped by sequence (:mod:`alignment`); a model chain can only
map to a target chain of its group, each at most once. When the number of
possible mappings is at most ``MAX_ENUMERATED`` (8! = 40320, as OpenStructure)
every one is scored; beyond that a greedy search extends the best-scoring seed
interface one chain at a time. Ties keep the first mapping in enumeration order
(model chains in file order onto target chains in file order).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from foldkit.errors import InputError
from foldkit.eval.complex.alignment import ChainGroups
from foldkit.eval.complex.qs import QsCalculator
from foldkit.eval.complex.structure import Complex

MAX_ENUMERATED = 40320


@dataclasses.dataclass(frozen=True)
class MappingChoice:
    """The mapping chosen (chain_map: [C_t] model chain or -1), how it was found and the QS it scored."""

    chain_map: tuple[int, ...]
    method: str               # 'enumerated', 'greedy', 'forced' or 'single'
    n_candidates: int
    qs_global: float | None


def _group_options(targets: tuple[int, ...], models: tuple[int, ...]) -> list[dict[int, int]]:
    """Every injective assignment of one group's model chains to its target chains, as {target: model}."""
    if len(models) >= len(targets):
        return [dict(zip(targets, chosen)) for chosen in itertools.permutations(models, len(targets))]
    return [dict(zip(chosen, models)) for chosen in itertools.permutations(targets, len(models))]


def count_mappings(groups: ChainGroups) -> int:
    total = 1
    for targets, models in zip(groups.target, groups.model):
        big, small = max(len(targets), len(models)), min(len(targets), len(models))
        total *= math.perm(big, small)
    return total


class _QsObjective:
    """QS_global of many chain mappings at once from per-chain-pair tables (numerator / correction)."""

    def __init__(self, calculator: QsCalculator, groups: ChainGroups, n_target: int, n_model: int):
        self.calculator = calculator
        self.base = calculator.target_total + calculator.model_total
        self.tables: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        candidates = {t: groups.model[groups.group_of_target(t)] for g in groups.target for t in g}
        for t1, t2 in calculator.target_interfaces():
            num = np.zeros((n_model + 1, n_model + 1))          # index n_model = unmapped
            corr = np.zeros((n_model + 1, n_model + 1))
            for m1 in candidates[t1]:
                for m2 in candidates[t2]:
                    if m1 != m2:
                        terms = calculator.terms(t1, t2, m1, m2)
                        num[m1, m2], corr[m1, m2] = terms.score, terms.global_correction
            self.tables.append((t1, t2, num, corr))
        self.n_model = n_model

    def __call__(self, maps: np.ndarray) -> np.ndarray:
        """maps [N, C_t] (model chain or -1) -> QS_global [N]."""
        idx = np.where(maps < 0, self.n_model, maps)
        num = np.zeros(len(maps))
        den = np.full(len(maps), self.base)
        for t1, t2, num_table, corr_table in self.tables:
            num += num_table[idx[:, t1], idx[:, t2]]
            den += corr_table[idx[:, t1], idx[:, t2]]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, 0.0)


def enumerate_mappings(groups: ChainGroups, n_target: int) -> np.ndarray:
    """[N, C_t] every mapping (product of the groups' assignments)."""
    per_group = [_group_options(t, m) for t, m in zip(groups.target, groups.model)]
    maps = np.full((math.prod(len(o) for o in per_group), n_target), -1, dtype=np.int64)
    for row, combo in enumerate(itertools.product(*per_group)):
        for assignment in combo:
            for t, m in assignment.items():
                maps[row, t] = m
    return maps


def _greedy(objective: _QsObjective, groups: ChainGroups, n_target: int) -> np.ndarray:
    """Extend each seed (a target interface on a model chain pair) by the single chain assignment that
    raises QS_global most, until no chain can be added; the best result over seeds."""
    candidates = {t: groups.model[groups.group_of_target(t)] for g in groups.target for t in g}
    seeds = [(t1, t2, m1, m2) for t1, t2, _, _ in objective.tables
             for m1 in candidates[t1] for m2 in candidates[t2] if m1 != m2]
    if not seeds:
        seeds = [(t, None, m, None) for t in range(n_target) for m in candidates[t]][:1]
    best_map, best_score = np.full(n_target, -1, dtype=np.int64), -1.0
    for t1, t2, m1, m2 in seeds:
        current = np.full(n_target, -1, dtype=np.int64)
        current[t1] = m1
        if t2 is not None:
            current[t2] = m2
        while True:
            used = set(int(m) for m in current if m >= 0)
            options = [(t, m) for t in range(n_target) if current[t] < 0 for m in candidates[t] if m not in used]
            if not options:
                break
            trial = np.repeat(current[None], len(options), axis=0)
            for row, (t, m) in enumerate(options):
                trial[row, t] = m
            scores = objective(trial)
            current = trial[int(np.argmax(scores))]
        score = float(objective(current[None])[0])
        if score > best_score:
            best_map, best_score = current, score
    return best_map


def choose_mapping(calculator: QsCalculator, groups: ChainGroups, target: Complex, model: Complex,
                   max_enumerated: int = MAX_ENUMERATED) -> MappingChoice:
    """The chain mapping with the highest QS_global (enumerated or greedy)."""
    n_target, n_model = len(target.chains), len(model.chains)
    total = count_mappings(groups)
    objective = _QsObjective(calculator, groups, n_target, n_model)
    if total <= max_enumerated:
        maps = enumerate_mappings(groups, n_target)
        scores = objective(maps)
        best = int(np.argmax(scores))
        return MappingChoice(tuple(int(m) for m in maps[best]), "enumerated" if total > 1 else "single", total,
                             float(scores[best]) if objective.tables else None)
    chosen = _greedy(objective, groups, n_target)
    return MappingChoice(tuple(int(m) for m in chosen), "greedy", total, float(objective(chosen[None])[0]))


def parse_mapping(text: str, target: Complex, model: Complex) -> tuple[int, ...]:
    """'A:B,B:A' (native chain:model chain, comma-separated) -> chain_map; unnamed native chains stay unmapped."""
    chain_map = [-1] * len(target.chains)
    seen_model: set[str] = set()
    for item in filter(None, (p.strip() for p in text.split(","))):
        native_id, sep, model_id = item.partition(":")
        native_id, model_id = native_id.strip(), model_id.strip()
        if not sep:
            raise InputError(f"bad --mapping item {item!r}: expected NATIVE_CHAIN:MODEL_CHAIN, e.g. A:B,B:A")
        if native_id not in target.chain_ids:
            raise InputError(f"--mapping names native chain {native_id!r}, which {target.name} does not have "
                             f"(chains: {', '.join(target.chain_ids)})")
        if model_id not in model.chain_ids:
            raise InputError(f"--mapping names model chain {model_id!r}, which {model.name} does not have "
                             f"(chains: {', '.join(model.chain_ids)})")
        t = target.index_of(native_id)
        if chain_map[t] >= 0 or model_id in seen_model:
            raise InputError(f"--mapping maps chain {native_id if chain_map[t] >= 0 else model_id!r} twice")
        chain_map[t] = model.index_of(model_id)
        seen_model.add(model_id)
    return tuple(chain_map)
