"""Per-module golden cases of the multimer heads and confidence metrics (pTM, ipTM, ranking).

``CASES`` maps a case name of ``multimer/modules/index.json`` to a function
``(arrays, case JSON, chunk_size) -> [OutputCheck]`` (the heads do not chunk).
Tolerances follow the multimer README: logits as activations
(``1e-4 * max(1, max|ref|)``), probabilities 1e-4, PAE 1e-3 Å, pTM, ipTM and
ranking_confidence 1e-5 (observed float32 vs float64: 5.1e-6 Å PAE, 1e-8
for the scores), breaks and the maximal PAE exactly.
"""

from __future__ import annotations

from typing import Callable

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model import confidence, heads
from foldkit.model.heads_config import PredictedAlignedErrorConfig
from foldkit.model.multimer_heads import multimer_masked_msa_config
from foldkit.testing.cases_structure import haiku_params
from foldkit.testing.compare import Kind, OutputCheck

CaseFn = Callable[[dict, dict, "int | None"], list[OutputCheck]]


class _GlobalConfig:
    """The case's global_config as an attribute object (the heads read ``zero_init``)."""

    def __init__(self, values: dict):
        self.zero_init = bool(values.get("zero_init", True))


def _run_head(head_cls, config, case: dict, arrays: dict, representations: dict) -> dict[str, np.ndarray]:
    global_config = _GlobalConfig(case.get("global_config", {}))

    def forward(reps):
        return head_cls(config, global_config)(reps, None, False)

    reps = {name: jnp.asarray(value) for name, value in representations.items()}
    out = jax.jit(hk.transform(forward).apply)(haiku_params(arrays), None, reps)
    return {key: np.asarray(value) for key, value in out.items()}


def masked_msa_head_case(arrays, case, chunk_size) -> list[OutputCheck]:
    config = multimer_masked_msa_config(weight=case["config"]["weight"])
    out = _run_head(heads.MaskedMsaHead, config, case, arrays, {"msa": arrays["input/msa"]})
    return [OutputCheck("output/logits", out["masked_msa/logits"], Kind.ACTIVATION)]


def predicted_aligned_error_head_case(arrays, case, chunk_size) -> list[OutputCheck]:
    config = PredictedAlignedErrorConfig.from_dict(case["config"])
    out = _run_head(heads.PredictedAlignedErrorHead, config, case, arrays, {"pair": arrays["input/pair"]})
    logits, breaks = out["predicted_aligned_error/logits"], out["predicted_aligned_error/breaks"]
    metrics = confidence.multimer_aligned_error_metrics(logits, breaks, arrays["input/asym_id"])
    checks = [OutputCheck("output/logits", logits, Kind.ACTIVATION),
              OutputCheck("output/breaks", breaks, Kind.EXACT)]
    kinds = {"aligned_confidence_probs": Kind.UNIT, "predicted_aligned_error": Kind.PAE,
             "max_predicted_aligned_error": Kind.EXACT, "ptm": Kind.PTM, "iptm": Kind.PTM,
             "ranking_confidence": Kind.PTM}
    for name, kind in kinds.items():
        checks.append(OutputCheck(f"confidence/{name}", metrics[f"confidence/{name}"], kind))
    return checks


CASES: dict[str, CaseFn] = {
    "masked_msa_head_multimer": masked_msa_head_case,
    "predicted_aligned_error_head_multimer": predicted_aligned_error_head_case,
}
