"""benchmarks/fape_start.py: from the all-frames-at-the-origin start, unclamped FAPE fits a chain, clamped stalls.

This is the measured reason for ``loss.fape_unclamped_steps`` (foldkit/params/MINI.md).
"""

from __future__ import annotations

import importlib.util

from foldkit.train.data import load_chains
from tests.conftest import REPO_ROOT, TRAIN_DIR


def _script():
    spec = importlib.util.spec_from_file_location("fape_start", REPO_ROOT / "benchmarks" / "fape_start.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unclamped_fit_converges_where_clamped_stalls():
    script = _script()
    truth = script.chain_truth(load_chains(TRAIN_DIR, "valid", max_length=60, limit=1)[0])
    unclamped = script.fit_frames(truth, 0.0, 300, 0.05)
    clamped = script.fit_frames(truth, 1.0, 300, 0.05)
    assert unclamped[-1] < 0.05 < unclamped[0]           # within 0.5 Å on average
    assert clamped[-1] > 0.3                              # still more than 3 Å
    assert clamped[-1] < clamped[0]                       # it does move, slowly
