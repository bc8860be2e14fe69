"""Whole-model golden cases: processed features + params -> every reference output.

Each reference key of ``<case>_outputs.npz`` is compared at the tolerance of
its kind; template torsion intermediates only where AlphaFold's own values
are well conditioned (``intermediates/template_torsion_well_conditioned``).
"""

from __future__ import annotations

import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from foldkit.model.config import AlphaFoldConfig
from foldkit.model.global_config import GlobalConfig
from foldkit.model.params import load_params
from foldkit.model.runner import predict_from_features
from foldkit.model.templates import template_torsion_features
from foldkit.testing.compare import Kind, OutputCheck, kind_by_rules, unit_and_position_checks

# reference arrays that are masks for other comparisons, not outputs
MASK_KEYS = ("intermediates/template_torsion_well_conditioned",)

_KIND_RULES = (  # first match wins; names without the recycle prefix
    (r"(bin_edges|breaks|final_atom_mask|final_atom14_mask|max_predicted_aligned_error)$", Kind.EXACT),
    (r"intermediates/template_torsion_angles_mask$", Kind.EXACT),
    (r"(final_atom_positions|final_atom14_positions|sidechains/atom_pos|frames/trans)$", Kind.POSITION),
    (r"(angles_sin_cos|frames/rot|aligned_confidence_probs|intermediates/.*)$", Kind.UNIT),
    (r"confidence/(plddt|ranking_confidence)$", Kind.PLDDT),
    (r"confidence/predicted_aligned_error$", Kind.PAE),
    (r"confidence/ptm$", Kind.PTM),
    (r"(representations/.*|logits)$", Kind.ACTIVATION),
)


def output_kind(name: str) -> Kind:
    """The comparison kind of a whole-model output name."""
    return kind_by_rules(name, _KIND_RULES)


def _affine_checks(name: str, value: np.ndarray) -> list[OutputCheck]:
    """Affines [..., 7]: quaternion (unit tolerance) and translation in Å (position tolerance)."""
    quat_mask = np.zeros(value.shape, np.float32)
    quat_mask[..., :4] = 1
    return unit_and_position_checks(name, value, quat_mask)


def model_case_checks(folder: Path, name: str, case_json: dict, chunk_size: int | None) -> list[OutputCheck]:
    config = AlphaFoldConfig.from_dict(case_json["config"], name=name)
    params = load_params(Path(folder) / f"{name}_params.npz")
    with np.load(Path(folder) / f"{name}_features.npz", allow_pickle=False) as npz:
        features = {k: npz[k] for k in npz.files}
    with np.load(Path(folder) / f"{name}_outputs.npz", allow_pickle=False) as npz:
        reference_keys = list(npz.files)
        well_conditioned = npz["intermediates/template_torsion_well_conditioned"] \
            if "intermediates/template_torsion_well_conditioned" in npz.files else None

    outputs = predict_from_features(config, params, features, chunk_size=chunk_size, return_recycles=True)
    if config.uses_templates:
        template_batch = {k: jnp.asarray(v[0]) for k, v in features.items() if k.startswith("template_")}
        _, _, torsions = template_torsion_features(template_batch, GlobalConfig(zero_init=config.model.global_config.zero_init))
        for key, value in torsions.items():
            outputs[f"intermediates/template_{key}"] = np.asarray(value)

    checks = []
    for key in reference_keys:
        if key not in outputs:
            continue  # reported as "reference output not compared" by the runner
        mask = None
        if key.startswith("intermediates/template_torsion_angles") or key.startswith(
                "intermediates/template_alt_torsion_angles"):
            mask = well_conditioned if key.endswith("_mask") else well_conditioned[..., None]
        if re.search(r"(traj|final_affines)$", key):
            checks.extend(_affine_checks(key, outputs[key]))
        else:
            checks.append(OutputCheck(key, outputs[key], output_kind(key), mask))
    return checks
