"""Golden cases of the output heads, confidence metrics, lDDT and FAPE.

``CASES`` maps a per-module golden case name (``modules/index.json`` of the
AlphaFold2 reference folder) to a function ``(arrays, case_json, chunk_size)
-> list[OutputCheck]``: ``arrays`` is the case's npz as a dict, ``case_json``
its parsed ``<name>.json`` and ``chunk_size`` the global chunking knob (the
heads do not chunk; it is accepted for a uniform harness). Each OutputCheck is
named after the ``output/...`` key it is compared with.
"""

from __future__ import annotations

from typing import Any, Callable

import haiku as hk
import jax.numpy as jnp
import numpy as np

from foldkit.model import confidence, fape, heads, heads_config
from foldkit.model.lddt import lddt
from foldkit.testing.compare import Kind, OutputCheck

Arrays = dict[str, np.ndarray]
CaseFn = Callable[[Arrays, dict, "int | None"], list[OutputCheck]]


def haiku_params(arrays: Arrays) -> dict[str, dict[str, jnp.ndarray]]:
    """Haiku params from npz keys ``<module path>//<param name>`` (split once on '//')."""
    params: dict[str, dict[str, jnp.ndarray]] = {}
    for key, value in arrays.items():
        if "//" not in key:
            continue
        module_path, param_name = key.split("//", 1)
        params.setdefault(module_path, {})[param_name] = jnp.asarray(value)
    return params


class _GlobalConfig:
    """The golden case's global_config as an attribute object (heads read ``zero_init``)."""

    def __init__(self, values: dict[str, Any]):
        self.zero_init = bool(values.get("zero_init", True))


def _run_head(head_cls: type, config: Any, case: dict, arrays: Arrays,
              representations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    global_config = _GlobalConfig(case.get("global_config", {}))

    def forward(reps):
        return head_cls(config, global_config)(reps, None, False)

    apply = hk.transform(forward).apply
    reps = {name: jnp.asarray(value) for name, value in representations.items()}
    return {key: np.asarray(value) for key, value in apply(haiku_params(arrays), None, reps).items()}


def _predicted_lddt_head(arrays: Arrays, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    config = heads_config.PredictedLDDTConfig.from_dict(case["config"])
    out = _run_head(heads.PredictedLDDTHead, config, case, arrays,
                    {"structure_module": arrays["input/structure_module"]})
    logits = out["predicted_lddt/logits"]
    return [OutputCheck("output/logits", logits, Kind.ACTIVATION),
            OutputCheck("output/confidence/plddt", np.asarray(confidence.plddt(logits)), Kind.PLDDT)]


def _predicted_aligned_error_head(arrays: Arrays, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    config = heads_config.PredictedAlignedErrorConfig.from_dict(case["config"])
    out = _run_head(heads.PredictedAlignedErrorHead, config, case, arrays, {"pair": arrays["input/pair"]})
    logits, breaks = out["predicted_aligned_error/logits"], out["predicted_aligned_error/breaks"]
    pae = {key: np.asarray(value) for key, value in confidence.predicted_aligned_error(logits, breaks).items()}
    return [
        OutputCheck("output/logits", logits, Kind.ACTIVATION),
        OutputCheck("output/breaks", breaks, Kind.EXACT),
        OutputCheck("output/confidence/aligned_confidence_probs", pae["aligned_confidence_probs"], Kind.UNIT),
        OutputCheck("output/confidence/predicted_aligned_error", pae["predicted_aligned_error"], Kind.PAE),
        OutputCheck("output/confidence/max_predicted_aligned_error", pae["max_predicted_aligned_error"],
                    Kind.EXACT),
        OutputCheck("output/confidence/ptm", np.asarray(confidence.predicted_tm_score(logits, breaks)),
                    Kind.PTM),
    ]


def _distogram_head(arrays: Arrays, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    config = heads_config.DistogramConfig.from_dict(case["config"])
    out = _run_head(heads.DistogramHead, config, case, arrays, {"pair": arrays["input/pair"]})
    return [OutputCheck("output/logits", out["distogram/logits"], Kind.ACTIVATION),
            OutputCheck("output/bin_edges", out["distogram/bin_edges"], Kind.EXACT)]


def _masked_msa_head(arrays: Arrays, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    config = heads_config.MaskedMsaConfig.from_dict(case["config"])
    out = _run_head(heads.MaskedMsaHead, config, case, arrays, {"msa": arrays["input/msa"]})
    return [OutputCheck("output/logits", out["masked_msa/logits"], Kind.ACTIVATION)]


def _experimentally_resolved_head(arrays: Arrays, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    config = heads_config.ExperimentallyResolvedConfig.from_dict(case["config"])
    out = _run_head(heads.ExperimentallyResolvedHead, config, case, arrays, {"single": arrays["input/single"]})
    return [OutputCheck("output/logits", out["experimentally_resolved/logits"], Kind.ACTIVATION)]


def _lddt(arrays: Arrays, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    points = [jnp.asarray(arrays[f"input/{name}"]) for name in
              ("predicted_points", "true_points", "true_points_mask")]
    return [OutputCheck("output/lddt", np.asarray(lddt(*points, cutoff=15.0)), Kind.UNIT),
            OutputCheck("output/lddt_per_residue", np.asarray(lddt(*points, cutoff=15.0, per_residue=True)),
                        Kind.UNIT)]


# output name -> (l1_clamp_distance, length_scale), as the case json describes them
_FAPE_VARIANTS = {
    "output/fape_clamp10_scale10": (10.0, 10.0),
    "output/fape_noclamp_scale10": (None, 10.0),
    "output/fape_clamp10_scale20": (10.0, 20.0),
}


def _frame_aligned_point_error(arrays: Arrays, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    inputs = {name[len("input/"):]: jnp.asarray(value) for name, value in arrays.items()
              if name.startswith("input/")}
    checks = []
    for name, (clamp, scale) in _FAPE_VARIANTS.items():
        value = fape.frame_aligned_point_error(
            inputs["pred_frames_rot"], inputs["pred_frames_trans"],
            inputs["target_frames_rot"], inputs["target_frames_trans"], inputs["frames_mask"],
            inputs["pred_positions"], inputs["target_positions"], inputs["positions_mask"],
            length_scale=scale, l1_clamp_distance=clamp, epsilon=1e-4)
        # FAPE is a length in units of length_scale: compared like an activation
        checks.append(OutputCheck(name, np.asarray(value), Kind.ACTIVATION))
    return checks


CASES: dict[str, CaseFn] = {
    "predicted_lddt_head": _predicted_lddt_head,
    "predicted_aligned_error_head": _predicted_aligned_error_head,
    "distogram_head": _distogram_head,
    "masked_msa_head": _masked_msa_head,
    "experimentally_resolved_head": _experimentally_resolved_head,
    "lddt": _lddt,
    "frame_aligned_point_error": _frame_aligned_point_error,
}
