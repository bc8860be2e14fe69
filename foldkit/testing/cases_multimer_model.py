"""Whole-model golden cases of AlphaFold-Multimer (shared/reference/af2/multimer).

A case folder holds ``<case>_config.json`` (with ``config``, ``seeds`` and
``variants``), ``<case>_features.npz``, ``<case>_params.npz`` and, per
variant ``<suffix>`` listed in ``variants`` ("main" has the empty suffix),
``<case><suffix>_outputs.npz`` and ``<case><suffix>_msa_sampling.npz``; an
optional ``<case>_bf16_outputs.npz`` is the main case run in bfloat16.

* main: the stored uniform draws of every iteration are injected; every
  output (``recycle{r}/*`` included) is compared at the README's float32
  tolerances, and the in-network MSA tensors of every iteration (keys,
  uniforms, sampled rows, masks, features) with ``msa_sampling/`` prefixed.
* variants (``_det``, ``_detq``): the config overrides of the variant,
  foldkit's own draws from the case's apply seed; ``representations/msa``
  and ``masked_msa/logits`` are compared after mapping both sides to input
  row order (each with its own sampled order), on rows with residues only.
* bf16: the main case in bfloat16 against the bfloat16 reference, at a
  coarse tolerance of twice the reference's own bfloat16-vs-float32
  difference per output (informational: rounding points depend on XLA).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jax
import numpy as np

from foldkit.model.msa_sampling import (SamplingDraws, alphafold_rng_scope, draw_uniforms, msa_features,
                                        sample_logits, sample_msa, sampling_keys)
from foldkit.model.multimer_config import MultimerConfig, is_multimer_tree, multimer_config_from_case
from foldkit.model.multimer_network import iteration_keys, network_rng_key
from foldkit.model.multimer_runner import predict_multimer_from_features
from foldkit.model.params import load_params
from foldkit.testing.compare import Kind, OutputCheck, Tolerance, kind_by_rules, unit_and_position_checks

SAMPLING_PREFIX = "msa_sampling/"
PERMUTED_OUTPUTS = ("representations/msa", "masked_msa/logits")
RIGID_OUTPUTS = re.compile(r"(final_rigids|traj|sidechains/frames)$")

_KIND_RULES = (  # first match wins; names without the recycle prefix
    (r"(bin_edges|breaks|final_atom_mask|final_atom14_mask|max_predicted_aligned_error|asym_id|num_recycles)$",
     Kind.EXACT),
    (r"(final_atom_positions|final_atom14_positions|sidechains/atom_pos)$", Kind.POSITION),
    (r"(angles_sin_cos|aligned_confidence_probs)$", Kind.UNIT),
    (r"confidence/plddt$", Kind.PLDDT),
    (r"confidence/predicted_aligned_error$", Kind.PAE),
    (r"confidence/(ptm|iptm|ranking_confidence)$", Kind.PTM),
    (r"(representations/.*|logits)$", Kind.ACTIVATION),
)
_SAMPLING_KINDS = (
    (r"(key|index_order|gumbel_sample|uniform|after_sample_msa/.*|after_make_masked_msa/.*|extra_msa_mask)$",
     Kind.EXACT),
    (r".*", Kind.FEATURE),
)


def multimer_output_kind(name: str) -> Kind:
    """The comparison kind of a multimer whole-model output (rigids are split by :func:`output_checks`)."""
    return kind_by_rules(name, _KIND_RULES)


def _rigid_checks(name: str, value: np.ndarray, tolerance: Tolerance | None = None) -> list[OutputCheck]:
    """Rigids [..., 3, 4]: rotation (unit tolerance) and translation in Å (position tolerance)."""
    rotation = np.ones(value.shape, np.float32)
    rotation[..., 3] = 0
    return unit_and_position_checks(name, value, rotation, tolerance)


def output_checks(outputs: dict, reference_keys, tolerances: dict | None = None) -> list[OutputCheck]:
    """One check per reference output foldkit produced (missing ones are reported by the runner)."""
    checks = []
    for key in reference_keys:
        if key not in outputs:
            continue
        tolerance = (tolerances or {}).get(key)
        if RIGID_OUTPUTS.search(key):
            checks.extend(_rigid_checks(key, outputs[key], tolerance))
        else:
            checks.append(OutputCheck(key, outputs[key], multimer_output_kind(key), None, tolerance))
    return checks


# --------------------------------------------------------------------------- inputs

def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _iterations(sampling: dict[str, np.ndarray]) -> int:
    return len({key.split("/")[0] for key in sampling if re.match(r"^iter\d+/", key)})


def stored_draws(sampling: dict[str, np.ndarray]) -> SamplingDraws:
    """The stored uniforms of every iteration, stacked on a leading iteration axis."""
    names = ("sample_msa/uniform", "make_masked_msa/mask_position_uniform", "make_masked_msa/gumbel_uniform")
    return SamplingDraws(*[np.stack([sampling[f"iter{r}/{name}"] for r in range(_iterations(sampling))])
                           for name in names])


def _variant(case_json: dict, base: str, name: str) -> tuple[str, dict]:
    """(suffix, config overrides) of the case ``name`` of the folder's case ``base``."""
    suffix = name[len(base):]
    if suffix == "_bf16":
        return suffix, {}
    variant = case_json.get("variants", {}).get(suffix or "main")
    if variant is None:
        raise KeyError(f"{name}: no variant {suffix or 'main'!r} in {base}_config.json")
    return suffix, dict(variant.get("overrides", {}))


def _real_rows(features: dict[str, np.ndarray]) -> int:
    return int(np.sum(np.asarray(features["msa_mask"]).sum(-1) > 0))


# --------------------------------------------------------------------------- MSA sampling tensors

def sampling_checks(config: MultimerConfig, features: dict, sampling: dict, seed: int,
                    draws: SamplingDraws | None) -> tuple[list[OutputCheck], dict[str, np.ndarray]]:
    """In-network MSA tensors of every iteration recomputed with the draws the network used
    (``draws``: injected; None: foldkit's own from ``seed``). Returns checks against ``sampling``
    (names prefixed ``msa_sampling/``) and the reference arrays under those names."""
    c = config.model.embeddings_and_evoformer
    num_iterations = _iterations(sampling)
    num_rows, num_res = np.asarray(features["msa"]).shape
    batch = {k: np.asarray(features[k], np.float32 if k != "msa" else np.int32)
             for k in ("msa", "deletion_matrix", "msa_mask", "bert_mask", "cluster_bias_mask")}
    real = _real_rows(features)
    checks = []
    with alphafold_rng_scope():
        keys = iteration_keys(network_rng_key(jax.random.PRNGKey(seed)), num_iterations - 1)
        for r, key in enumerate(keys):
            prefix = f"iter{r}/"
            derived = sampling_keys(key)
            own = draw_uniforms(key, num_rows, c.num_msa, num_res)
            used = own if draws is None else SamplingDraws(*[np.asarray(x[r]) for x in draws])
            out = msa_features(batch, used, c.num_msa, c.num_extra_msa, c.masked_msa)
            ours = {"sample_msa/key": derived["sample"], "make_masked_msa/mask_position_key": derived["mask_position"],
                    "make_masked_msa/gumbel_key": derived["gumbel"], "sample_msa/uniform": own.sample_uniform,
                    "make_masked_msa/mask_position_uniform": own.mask_position_uniform,
                    "make_masked_msa/gumbel_uniform": own.gumbel_uniform,
                    "msa_profile": out["msa_profile"], "sample_msa/index_order": out["index_order"],
                    "make_masked_msa/gumbel_sample": out["gumbel_sample"],
                    "after_make_masked_msa/msa": out["masked_msa"], "after_make_masked_msa/bert_mask": out["bert_mask"],
                    "after_make_masked_msa/true_msa": out["true_msa"],
                    "nearest_neighbor_clusters/cluster_profile": out["cluster_profile"],
                    "nearest_neighbor_clusters/cluster_deletion_mean": out["cluster_deletion_mean"],
                    "create_msa_feat/msa_feat": out["msa_feat"],
                    "create_extra_msa_feature/extra_msa_feat": out["extra_msa_feat"],
                    "create_extra_msa_feature/extra_msa_mask": out["extra_msa_mask"]}
            ours["sample_msa/logits"] = sample_logits(batch["msa_mask"], batch["cluster_bias_mask"])
            for name, value in sample_msa(batch, used.sample_uniform, c.num_msa).items():
                if name != "index_order":
                    ours[f"after_sample_msa/{name}"] = value
            for name, value in ours.items():
                key_name = prefix + name
                if key_name not in sampling:
                    continue
                value = np.asarray(value)
                mask = None
                if name == "sample_msa/index_order":   # only rows with residues have a defined order
                    mask = sampling[key_name] < real
                kind = next(kind for pattern, kind in _SAMPLING_KINDS if re.search(pattern, name))
                checks.append(OutputCheck(SAMPLING_PREFIX + key_name, value, kind, mask))
    reference = {SAMPLING_PREFIX + key: value for key, value in sampling.items()}
    return checks, reference


# --------------------------------------------------------------------------- row order

def _to_input_order(value: np.ndarray, order: np.ndarray, num_real: int) -> np.ndarray:
    """Rows of a cluster-ordered output [N, ...] placed at their input row (rows >= num_real dropped)."""
    order = np.asarray(order)[: value.shape[0]]
    result = np.zeros((num_real,) + value.shape[1:], value.dtype)
    keep = order < num_real
    result[order[keep]] = value[keep]
    return result


def unpermuted_checks(ours: dict, reference: dict, our_order: np.ndarray, reference_order: np.ndarray,
                      num_real: int) -> tuple[list[OutputCheck], dict[str, np.ndarray]]:
    """``representations/msa`` and ``masked_msa/logits`` in input-row order, real rows only; both
    sides must have placed the same input rows among the clusters."""
    checks, mapped_reference = [], {}
    for name in PERMUTED_OUTPUTS:
        if name not in reference or name not in ours:
            continue
        clusters = reference[name].shape[0]
        same_rows = sorted(set(our_order[:clusters]) & set(range(num_real))) == \
            sorted(set(reference_order[:clusters]) & set(range(num_real)))
        mapped = _to_input_order(ours[name], our_order, num_real)
        if not same_rows:
            mapped = np.full_like(mapped, np.nan)      # different cluster sets: fail loudly
        mapped_reference[name] = _to_input_order(reference[name], reference_order, num_real)
        present = np.zeros(num_real, bool)
        present[[i for i in reference_order[:clusters] if i < num_real]] = True
        row_mask = present.reshape((-1,) + (1,) * (mapped.ndim - 1))
        checks.append(OutputCheck(name, mapped, multimer_output_kind(name), row_mask))
    return checks, mapped_reference


# --------------------------------------------------------------------------- the case

def multimer_model_checks(folder: Path, base: str, name: str, case_json: dict,
                          chunk_size: int | None) -> tuple[list[OutputCheck], dict[str, np.ndarray]]:
    """Run the case ``name`` (``base`` plus a variant suffix) and return (checks, reference arrays)."""
    folder = Path(folder)
    suffix, overrides = _variant(case_json, base, name)
    config = multimer_config_from_case(folder / f"{base}_config.json", overrides=overrides)
    params = load_params(folder / f"{base}_params.npz")
    features = _load(folder / f"{base}_features.npz")
    features = {k: v for k, v in features.items() if v.dtype.kind not in "US"}
    reference = _load(folder / f"{name}_outputs.npz")
    seed = int(case_json["seeds"]["apply_rng_seed"])
    num_real = _real_rows(features)

    sampling_file = folder / f"{base if suffix == '_bf16' else name}_msa_sampling.npz"
    sampling = _load(sampling_file) if sampling_file.is_file() else {}
    injected = suffix in ("", "_bf16")
    draws = stored_draws(sampling) if injected else None
    outputs = predict_multimer_from_features(config, params, features, seed=seed, chunk_size=chunk_size,
                                             bfloat16=suffix == "_bf16", draws=draws, return_recycles=True,
                                             return_sampling=True)
    if suffix == "_bf16":
        coarse = {key: Tolerance(2.0 * float(diff) + 1e-3, 0.0)
                  for key, diff in case_json.get("bf16_vs_f32_max_abs_diff", {}).items()}
        reference_keys = [k for k in reference if k in coarse or k == "num_recycles"]   # num_recycles: exact
        return output_checks(outputs, reference_keys, coarse), reference

    checks = output_checks(outputs, [k for k in reference if injected or k not in PERMUTED_OUTPUTS])
    if not injected:
        last = f"iter{_iterations(sampling) - 1}/sample_msa/index_order"
        permuted, mapped = unpermuted_checks(outputs, reference, np.asarray(outputs["sampling/index_order"]),
                                             sampling[last], num_real)
        checks += permuted
        reference = dict(reference, **mapped)
    if sampling:
        more, sampling_reference = sampling_checks(config, features, sampling, seed, draws)
        checks += more
        reference.update(sampling_reference)
    return checks, reference


def is_multimer_case_config(path: Path) -> bool:
    """Whether ``<case>_config.json`` describes a multimer whole-model case."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and is_multimer_tree(data)
