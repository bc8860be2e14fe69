"""The complex reference set of ../shared/scoring/complex: rows, tolerances and foldkit's scores (once per session)."""

from __future__ import annotations

import csv
import dataclasses
import functools
from collections import defaultdict

import numpy as np

from foldkit.eval.complex.scoring import ComplexScores, score_complex
from foldkit.eval.complex.structure import read_complex
from tests.conftest import SCORING_DIR

COMPLEX_DIR = SCORING_DIR / "complex"

# The README's recommended tolerances.
TOL_DOCKQ = 0.005
TOL_FNONNAT = 0.005
TOL_IRMSD = 0.01
TOL_LRMSD = 0.05
TOL_QS = 0.005
TOL_CONTACT = 0.005
TOL_LDDT = 0.001
TOL_TM = 0.01
TOL_TM_SEQDEP = 0.005
TOL_CHAIN_TM = 0.005
TOL_CHAIN_GDT = 0.5
TOL_CHAIN_LDDT = 0.005
TOL_RMSD = 0.01          # not in the README table: OST's RMSD of one Kabsch fit is deterministic
TOL_OLIGO_GDT = 0.01     # not in the README table: a GDT search maximum (foldkit's search may find more)

# A default-suite subset: every kind of case (hetero/homomer, swapped labels, missing/extra chains,
# renumbering, trimming, insertion codes, a real alternative structure); the slow suite scores all 40.
FAST_PAIRS = (
    "HLA_CD8__real_dockq_example", "1A2K__real_dockq_example", "1A2K__dropB", "6QWN__real_assembly1",
    "2HHB__real_1HHO_dimer", "2HHB__swapAC_BD_noise0.5", "1AY7__renumber_rename_noise0.5", "1AY7__trim5_noise0.5",
    "1AY7__extra_copyB", "1K6P__swapAB", "5EIL__cycleABC_noise0.5", "5EIL__dropC_noise0.3",
    "5EIL__trimN10_offset100", "1NCB__relabel_noise0.5", "1NCB__dropL_trim3",
)


def _read(name: str) -> list[dict]:
    with open(COMPLEX_DIR / name, newline="") as handle:
        return list(csv.DictReader(handle))


@functools.lru_cache(maxsize=1)
def reference_rows() -> dict[str, dict]:
    return {r["pair_id"]: r for r in _read("reference_scores.csv")}


@functools.lru_cache(maxsize=1)
def interface_rows() -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in _read("reference_interfaces.csv"):
        out[r["pair_id"]].append(r)
    return dict(out)


@functools.lru_cache(maxsize=1)
def chain_rows() -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in _read("reference_chains.csv"):
        out[r["pair_id"]].append(r)
    return dict(out)


@dataclasses.dataclass(frozen=True)
class ScoredComplex:
    reference: dict
    scores: ComplexScores


@functools.lru_cache(maxsize=64)
def scored(pair_id: str) -> ScoredComplex:
    row = reference_rows()[pair_id]
    target = read_complex(COMPLEX_DIR / row["target_file"])
    model = read_complex(COMPLEX_DIR / row["model_file"])
    return ScoredComplex(reference=row, scores=score_complex(model, target))


def value(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def mapping_from_text(text: str, scores: ComplexScores) -> tuple[int, ...]:
    """'A:B;B:A' (target:model) -> chain_map of ``scores``' target/model."""
    chain_map = [-1] * len(scores.target.chains)
    for item in filter(None, text.split(";")):
        t, m = item.split(":")
        chain_map[scores.target.index_of(t)] = scores.model.index_of(m)
    return tuple(chain_map)


def is_heteromer(scores: ComplexScores) -> bool:
    return all(len(group) == 1 for group in scores.groups.target)


def is_swapped_label(pair_id: str) -> bool:
    name = pair_id.split("__", 1)[1]
    return name.startswith(("swap", "cycle", "relabel")) or "rename" in name or "real_dockq_example" in pair_id


def pair_key(scores: ComplexScores, chains: tuple[int, int]) -> tuple[str, str]:
    return tuple(sorted(scores.target.chain_ids[c] for c in chains))


def model_pair(scores: ComplexScores, ref_pair: tuple[str, str], model_chains: tuple[int, int],
               target_chains: tuple[int, int]) -> tuple[str, str]:
    """Model chains in the order of the reference row's (sorted) target chains."""
    ids = [scores.model.chain_ids[m] for m in model_chains]
    ordered = [scores.target.chain_ids[t] for t in target_chains]
    return tuple(ids) if tuple(ordered) == ref_pair else tuple(ids[::-1])


class Deviations:
    """Lowest and highest (ours - reference) per quantity, with where they happened (for messages and the
    report)."""

    def __init__(self):
        self.low: dict[str, tuple[float, str]] = {}
        self.high: dict[str, tuple[float, str]] = {}
        self.count: dict[str, int] = {}

    def add(self, name: str, ours, reference, where: str) -> float | None:
        if ours is None or reference is None or not np.isfinite(ours):
            return None
        diff = float(ours) - float(reference)
        if diff <= self.low.get(name, (np.inf, ""))[0]:
            self.low[name] = (diff, where)
        if diff >= self.high.get(name, (-np.inf, ""))[0]:
            self.high[name] = (diff, where)
        self.count[name] = self.count.get(name, 0) + 1
        return diff

    def table(self) -> str:
        lines = [f"  {'quantity':32s} {'n':>4s} {'min(ours-ref)':>14s} {'max(ours-ref)':>14s}  where (min / max)"]
        for name in sorted(self.count):
            (lo, lo_at), (hi, hi_at) = self.low[name], self.high[name]
            lines.append(f"  {name:32s} {self.count[name]:4d} {lo:+14.6f} {hi:+14.6f}  {lo_at} / {hi_at}")
        return "\n".join(lines)
