"""Score every pair of ../shared/scoring/reference_scores.csv once per test session."""

from __future__ import annotations

import csv
import dataclasses
import functools
import re

import numpy as np

from foldkit.eval.scores import Scores, score_structures
from foldkit.io.structure import read_structure
from tests.conftest import CASP_DIR, SCORING_DIR, SHARED_DIR


@dataclasses.dataclass(frozen=True)
class ScoredPair:
    reference: dict          # the reference_scores.csv row
    official: dict | None    # the official_scores.csv row (CASP pairs), None if CASP has none
    scores: Scores


def official_key(row: dict) -> tuple[str, str, str]:
    """(target, domain, model) of the official row that a reference_scores.csv pair corresponds to."""
    unit = row["target"]
    target, _, domain = unit.partition("-")
    model = row["model_file"].rsplit("/", 1)[-1].removesuffix(".pdb")
    if domain and not re.search(r"-D\d+$", model):
        model = f"{model}-{domain}"       # full-length model scored against a domain: the -Dn row
    return target, domain, model


# perturbation bases scored by the default (fast) suite; the slow suite scores all eight
FAST_PERTURBED_BASES = ("T1084-D1", "T1027-D1", "T1049-D1")


@functools.lru_cache(maxsize=2)
def scored_pairs(perturbed_bases: tuple[str, ...] | None = None) -> tuple[ScoredPair, ...]:
    """Every CASP pair, and the perturbation pairs of ``perturbed_bases`` (None: all)."""
    with open(CASP_DIR / "official_scores.csv", newline="") as handle:
        official = {(r["target"], r["domain"], r["model"]): r for r in csv.DictReader(handle)}
    with open(SCORING_DIR / "reference_scores.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle)
                if r["set"] == "shared" or perturbed_bases is None or r["target"] in perturbed_bases]
    natives = {}
    out = []
    for row in rows:
        if row["native_file"] not in natives:
            natives[row["native_file"]] = read_structure(SHARED_DIR / row["native_file"])
        model = read_structure(SHARED_DIR / row["model_file"])
        scores = score_structures(model, natives[row["native_file"]])
        off = official.get(official_key(row)) if row["set"] == "shared" else None
        out.append(ScoredPair(reference=row, official=off, scores=scores))
    return tuple(out)


def deviations(pairs, ours, theirs) -> np.ndarray:
    """ours(pair) - theirs(pair) for every pair, as an array."""
    return np.array([ours(p) - theirs(p) for p in pairs])
