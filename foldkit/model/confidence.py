"""Confidence metrics from the head logits (Jumper et al. 2021, supplement 1.9.6-1.9.7).

Pure functions of arrays (jax.numpy, jittable; numpy inputs work too):

* ``plddt(logits)``: expected lDDT-Cα in 0-100 from the pLDDT bins.
* ``aligned_error_bin_centers``, ``predicted_aligned_error(logits, breaks)``:
  expected aligned error per residue pair and its bin probabilities.
* ``predicted_tm_score(logits, breaks, residue_weights)``: pTM. With residue
  weights that contain zeros (padding), only weighted residues count, both as
  aligned residues and as candidate alignment frames.
* ``confidence_metrics(outputs)``: the ``confidence/*`` dict AlphaFold2
  reports, with ``ranking_confidence`` = mean pLDDT (monomer models, _ptm
  included).
* ``predicted_tm_score_f64(logits, breaks, residue_weights, asym_id,
  interface)``: pTM, or the interface pTM (ipTM) of AlphaFold-Multimer, in
  float64 numpy as AlphaFold reports them.
* ``multimer_aligned_error_metrics(logits, breaks, asym_id)`` and
  ``multimer_confidence_metrics(outputs, asym_id)``: the multimer
  ``confidence/*`` dict, with ``ranking_confidence`` = 0.8 ipTM + 0.2 pTM.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

# The TM-score d0 is only defined for at least 19 residues (Yang & Skolnick 2004).
_MIN_TM_NUM_RES = 19


def plddt(logits: jnp.ndarray) -> jnp.ndarray:
    """Per-residue pLDDT (0-100): the expectation of the bin centres (computed in float32).

    [..., L, bins] -> [..., L]
    """
    num_bins = logits.shape[-1]
    bin_centers = (jnp.arange(num_bins, dtype=jnp.float32) + 0.5) / num_bins  # [bins]
    probs = jax.nn.softmax(jnp.asarray(logits, jnp.float32), axis=-1)
    return 100.0 * jnp.sum(probs * bin_centers, axis=-1)


def aligned_error_bin_centers(breaks: jnp.ndarray) -> jnp.ndarray:
    """Centres of the error bins: each break + half a step, plus one bin past the last break.

    [bins - 1] -> [bins]; the breaks are evenly spaced.
    """
    breaks = jnp.asarray(breaks)
    step = breaks[1] - breaks[0]
    centers = breaks + step / 2
    return jnp.concatenate([centers, centers[-1:] + step])


def predicted_aligned_error(logits: jnp.ndarray, breaks: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """Expected aligned error (Å) of every residue pair.

    logits [L, L, bins], breaks [bins - 1] -> ``aligned_confidence_probs``
    [L, L, bins], ``predicted_aligned_error`` [L, L] and
    ``max_predicted_aligned_error`` [] (the last bin centre).
    """
    probs = jax.nn.softmax(jnp.asarray(logits, jnp.float32), axis=-1)  # [L, L, bins]
    centers = aligned_error_bin_centers(jnp.asarray(breaks, jnp.float32))  # [bins]
    return {
        "aligned_confidence_probs": probs,
        "predicted_aligned_error": jnp.sum(probs * centers, axis=-1),
        "max_predicted_aligned_error": centers[-1],
    }


def tm_d0(num_res: jnp.ndarray | float) -> jnp.ndarray:
    """TM-score distance scale d0(N) = 1.24 (N - 15)^(1/3) - 1.8, with N clipped to >= 19."""
    clipped = jnp.maximum(jnp.asarray(num_res, jnp.float32), _MIN_TM_NUM_RES)
    return 1.24 * jnp.cbrt(clipped - 15.0) - 1.8


def predicted_tm_score(logits: jnp.ndarray, breaks: jnp.ndarray,
                       residue_weights: jnp.ndarray | None = None) -> jnp.ndarray:
    """Predicted TM-score (pTM): max over alignment frames i of the weighted mean over j of E[f(e_ij)].

    logits [L, L, bins], breaks [bins - 1], residue_weights [L] in [0, 1]
    (None = all ones). N for d0 is floor(sum of weights), as AlphaFold2 uses.
    Residues with weight 0 (e.g. padding) contribute neither as aligned
    residues nor as frames, so a padded input gives the pTM of its unpadded
    part. Returns a scalar.
    """
    num_res = logits.shape[-2]
    weights = (jnp.ones((num_res,), jnp.float32) if residue_weights is None
               else jnp.asarray(residue_weights, jnp.float32))  # [L]
    d0 = tm_d0(jnp.floor(jnp.sum(weights)))
    centers = aligned_error_bin_centers(jnp.asarray(breaks, jnp.float32))  # [bins]
    tm_per_bin = 1.0 / (1.0 + jnp.square(centers) / jnp.square(d0))  # [bins]
    probs = jax.nn.softmax(jnp.asarray(logits, jnp.float32), axis=-1)  # [L, L, bins]
    expected_tm = jnp.sum(probs * tm_per_bin, axis=-1)  # [L, L]
    per_frame = jnp.sum(expected_tm * weights[None, :], axis=-1) / (1e-8 + jnp.sum(weights))  # [L]
    best_frame = jnp.argmax(per_frame * weights)
    return per_frame[best_frame]


def _output(outputs: Mapping[str, Any], head: str, name: str) -> Any:
    """Read ``head/name`` from a flat outputs dict, or ``outputs[head][name]`` from a nested one."""
    flat_key = f"{head}/{name}"
    if flat_key in outputs:
        return outputs[flat_key]
    return outputs[head][name]


def _has_head(outputs: Mapping[str, Any], head: str) -> bool:
    return f"{head}/logits" in outputs or isinstance(outputs.get(head), Mapping)


def confidence_metrics(outputs: Mapping[str, Any],
                       residue_weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """AlphaFold2's confidence metrics from model outputs (numpy float32 results).

    ``outputs`` holds ``predicted_lddt/logits`` and, for _ptm models,
    ``predicted_aligned_error/{logits, breaks}`` (flat keys as the heads
    return them, or nested dicts). ``residue_weights`` [L] (e.g. the sequence
    mask of a padded input) weights pTM and the mean pLDDT; the per-residue
    arrays keep the padded length. Returns ``confidence/plddt`` [L] and
    ``confidence/ranking_confidence`` [] (mean pLDDT), plus, when the PAE head
    ran, ``confidence/{aligned_confidence_probs [L, L, bins],
    predicted_aligned_error [L, L], max_predicted_aligned_error [], ptm []}``.
    """
    per_residue = np.asarray(plddt(jnp.asarray(_output(outputs, "predicted_lddt", "logits"))), np.float32)
    if residue_weights is None:
        ranking = np.mean(per_residue)
    else:
        weights = np.asarray(residue_weights, np.float32)
        ranking = np.sum(per_residue * weights) / max(float(np.sum(weights)), 1e-8)
    metrics = {"confidence/plddt": per_residue,
               "confidence/ranking_confidence": np.asarray(ranking, np.float32)}
    if _has_head(outputs, "predicted_aligned_error"):
        logits = jnp.asarray(_output(outputs, "predicted_aligned_error", "logits"))
        breaks = jnp.asarray(_output(outputs, "predicted_aligned_error", "breaks"))
        for name, value in predicted_aligned_error(logits, breaks).items():
            metrics[f"confidence/{name}"] = np.asarray(value, np.float32)
        weights = None if residue_weights is None else jnp.asarray(residue_weights, jnp.float32)
        metrics["confidence/ptm"] = np.asarray(predicted_tm_score(logits, breaks, weights), np.float32)
    return metrics


# --------------------------------------------------------------------------- multimer: ipTM and ranking

# ranking_confidence = 0.8 ipTM + 0.2 pTM (AlphaFold-Multimer)
IPTM_RANKING_WEIGHT = 0.8
PTM_RANKING_WEIGHT = 0.2


def _softmax_f64(logits: Any) -> np.ndarray:
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


def predicted_tm_score_f64(logits: Any, breaks: Any, residue_weights: Any = None, asym_id: Any = None,
                           interface: bool = False) -> np.ndarray:
    """pTM, or with ``interface=True`` the interface pTM (ipTM), as a float64 scalar.

    logits [L, L, bins], breaks [bins - 1], residue_weights [L] (None = all
    ones), asym_id [L] (chain of each residue; needed for ipTM). For each
    alignment frame i the expected TM term of residue j is averaged over the
    counted pairs (ipTM: only pairs in different chains); the score is that
    average at the frame i with the largest weighted value. d0 uses all
    weighted residues (not one chain), N = int(sum of weights) clipped to >= 19.
    Residues with weight 0 count neither as aligned residues nor as frames.
    """
    logits = np.asarray(logits)
    num_res = logits.shape[-2]
    weights = np.ones(num_res) if residue_weights is None else np.asarray(residue_weights, np.float64)
    clipped = max(int(np.sum(weights)), _MIN_TM_NUM_RES)
    d0 = 1.24 * (clipped - 15) ** (1.0 / 3) - 1.8
    centers = np.asarray(aligned_error_bin_centers(np.asarray(breaks, np.float32)), np.float64)   # [bins]
    tm_per_bin = 1.0 / (1.0 + np.square(centers) / np.square(d0))                                # [bins]
    expected_tm = np.sum(_softmax_f64(logits) * tm_per_bin, axis=-1)                              # [L, L]
    pair_mask = np.ones((num_res, num_res), bool)
    if interface:
        if asym_id is None:
            raise ValueError("predicted_tm_score_f64: interface=True needs asym_id")
        chains = np.asarray(asym_id)
        pair_mask = chains[:, None] != chains[None, :]
    pair_weights = pair_mask * (weights[None, :] * weights[:, None])                             # [L, L]
    normalized = pair_weights / (1e-8 + np.sum(pair_weights, axis=-1, keepdims=True))
    per_frame = np.sum(expected_tm * pair_mask * normalized, axis=-1)                             # [L]
    return np.asarray(per_frame[np.argmax(per_frame * weights)], np.float64)


def multimer_aligned_error_metrics(logits: Any, breaks: Any, asym_id: Any,
                                   residue_weights: Any = None) -> dict[str, np.ndarray]:
    """PAE, pTM, ipTM and the ranking confidence of AlphaFold-Multimer (numpy).

    logits [L, L, bins] and breaks [bins - 1] of the PAE head, asym_id [L].
    Returns ``confidence/{aligned_confidence_probs [L, L, bins],
    predicted_aligned_error [L, L], max_predicted_aligned_error []}``
    (float32) and the float64 scalars ``confidence/{ptm, iptm,
    ranking_confidence}`` (0.8 ipTM + 0.2 pTM). ``residue_weights`` (e.g.
    the sequence mask) restricts pTM/ipTM to weighted residues.
    """
    probs = _softmax_f64(logits)                                                                 # [L, L, bins]
    centers = np.asarray(aligned_error_bin_centers(np.asarray(breaks, np.float32)), np.float64)
    ptm = predicted_tm_score_f64(logits, breaks, residue_weights)
    iptm = predicted_tm_score_f64(logits, breaks, residue_weights, asym_id=asym_id, interface=True)
    return {
        "confidence/aligned_confidence_probs": probs.astype(np.float32),
        "confidence/predicted_aligned_error": np.sum(probs * centers, axis=-1).astype(np.float32),
        "confidence/max_predicted_aligned_error": np.asarray(centers[-1], np.float32),
        "confidence/ptm": ptm,
        "confidence/iptm": iptm,
        "confidence/ranking_confidence": np.asarray(IPTM_RANKING_WEIGHT * iptm + PTM_RANKING_WEIGHT * ptm,
                                                    np.float64),
    }


def multimer_confidence_metrics(outputs: Mapping[str, Any], asym_id: Any = None,
                                residue_weights: Any = None) -> dict[str, np.ndarray]:
    """AlphaFold-Multimer's ``confidence/*`` metrics from model outputs (numpy).

    ``outputs`` holds ``predicted_lddt/logits`` and ``predicted_aligned_error/
    {logits, breaks}`` (flat or nested) and, when ``asym_id`` is None,
    ``predicted_aligned_error/asym_id``. Returns ``confidence/plddt`` [L]
    (float64) and everything of :func:`multimer_aligned_error_metrics`.
    """
    plddt_logits = np.asarray(_output(outputs, "predicted_lddt", "logits"))
    num_bins = plddt_logits.shape[-1]
    bin_centers = (np.arange(num_bins, dtype=np.float64) + 0.5) / num_bins
    metrics = {"confidence/plddt": 100.0 * np.sum(_softmax_f64(plddt_logits) * bin_centers, axis=-1)}
    if asym_id is None:
        asym_id = _output(outputs, "predicted_aligned_error", "asym_id")
    metrics.update(multimer_aligned_error_metrics(_output(outputs, "predicted_aligned_error", "logits"),
                                                  _output(outputs, "predicted_aligned_error", "breaks"),
                                                  asym_id, residue_weights))
    return metrics
