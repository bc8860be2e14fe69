"""Training losses of AlphaFold2 (Jumper et al. 2021, supplement 1.9), one function each.

Every function takes one example (no batch axis) and returns a scalar; the
total (:func:`example_losses`) also returns each term and a per-term weight
(0 when a term does not apply to the example, e.g. side-chain FAPE of a
backbone-only chain) so that the batch mean counts only examples that have
the target. FAPE and lDDT reuse :mod:`foldkit.model.fape` and
:mod:`foldkit.model.lddt`.
"""

from __future__ import annotations

from typing import Mapping

import jax
import jax.numpy as jnp

from foldkit.model.fape import frame_aligned_point_error
from foldkit.model.geometry import QuatRigid, Rigid
from foldkit.model.lddt import lddt
from foldkit.train import ground_truth as gt_lib
from foldkit.train.violations import violation_loss

TERMS = ("fape", "sidechain_fape", "torsion", "angle_norm", "distogram", "masked_msa", "plddt",
         "experimentally_resolved", "pae", "violation")


# --------------------------------------------------------------------------- FAPE


def backbone_fape(pred_traj: jnp.ndarray, gt_rot: jnp.ndarray, gt_trans: jnp.ndarray, gt_mask: jnp.ndarray,
                  clamp_distance: float = 10.0, loss_unit_distance: float = 10.0,
                  use_clamped: jnp.ndarray | float = 1.0) -> jnp.ndarray:
    """Backbone FAPE on CA positions and backbone frames, averaged over structure-module layers.

    pred_traj [layers, L, 7] (quaternion, translation in Å); gt_rot [L, 3, 3];
    gt_trans [L, 3]; gt_mask [L]. ``use_clamped`` (0/1) mixes the clamped and
    unclamped errors (the published recipe clamps 90% of the examples).
    """
    frames = QuatRigid.from_tensor(pred_traj).to_rigid()                      # [layers, L]

    def per_layer(rot, trans, clamp):
        return frame_aligned_point_error(rot, trans, gt_rot, gt_trans, gt_mask, trans, gt_trans, gt_mask,
                                         length_scale=loss_unit_distance, l1_clamp_distance=clamp)

    clamped = jax.vmap(lambda r, t: per_layer(r, t, clamp_distance))(frames.rot, frames.trans)
    unclamped = jax.vmap(lambda r, t: per_layer(r, t, None))(frames.rot, frames.trans)
    per_layer_loss = use_clamped * clamped + (1.0 - use_clamped) * unclamped   # [layers]
    return jnp.mean(per_layer_loss)


def rename_symmetric_atoms(pred_atom14: jnp.ndarray, gt: Mapping[str, jnp.ndarray]) -> jnp.ndarray:
    """Per residue, 1 where the swapped naming of symmetric atoms fits the prediction better.

    Supplement Alg. 26: for every ambiguous true atom, compare its distances to
    every unambiguous true atom (of all residues) with the predicted distances,
    once with the true and once with the swapped names; keep the smaller error.
    pred_atom14 [L, 14, 3] -> [L] float.
    """
    def distances(x):  # [L, 14, 3] -> [L, 14, L, 14]
        return jnp.sqrt(1e-10 + jnp.sum(jnp.square(x[:, :, None, None] - x[None, None]), axis=-1))

    pred = distances(pred_atom14)
    error = jnp.sqrt(1e-10 + jnp.square(pred - distances(gt["atom14_gt_positions"])))
    alt_error = jnp.sqrt(1e-10 + jnp.square(pred - distances(gt["atom14_alt_gt_positions"])))
    exists, ambiguous = gt["atom14_gt_exists"], gt["atom14_is_ambiguous"]
    mask = (exists * ambiguous)[:, :, None, None] * (exists * (1.0 - ambiguous))[None, None]
    per_residue = jnp.sum(mask * error, axis=(1, 2, 3))
    alt_per_residue = jnp.sum(mask * alt_error, axis=(1, 2, 3))
    return (alt_per_residue < per_residue).astype(jnp.float32)


def sidechain_fape(pred_frames: Rigid, pred_atom14: jnp.ndarray, gt: Mapping[str, jnp.ndarray],
                   alt_naming_is_better: jnp.ndarray, clamp_distance: float = 10.0,
                   length_scale: float = 10.0) -> jnp.ndarray:
    """All-atom FAPE of the last layer: every atom14 atom in every rigid-group frame (Alg. 28).

    pred_frames Rigid [L, 8]; pred_atom14 [L, 14, 3]; ``gt`` from
    :func:`foldkit.train.ground_truth.ground_truth`; alt_naming_is_better [L]
    picks, per residue, the swapped names of symmetric atoms and the
    180°-rotated frames of pi-periodic chi groups.
    """
    alt = alt_naming_is_better[:, None]
    gt_rot = jnp.where(alt[..., None, None] > 0, gt["rigidgroups_alt_rot"], gt["rigidgroups_rot"])
    positions = jnp.where(alt[..., None] > 0, gt["atom14_alt_gt_positions"], gt["atom14_gt_positions"])
    exists = jnp.where(alt > 0, gt["atom14_alt_gt_exists"], gt["atom14_gt_exists"])
    num_res = pred_atom14.shape[0]
    return frame_aligned_point_error(
        pred_frames.rot.reshape(num_res * 8, 3, 3), pred_frames.trans.reshape(num_res * 8, 3),
        gt_rot.reshape(num_res * 8, 3, 3), gt["rigidgroups_trans"].reshape(num_res * 8, 3),
        gt["rigidgroups_exists"].reshape(num_res * 8),
        pred_atom14.reshape(num_res * 14, 3), positions.reshape(num_res * 14, 3), exists.reshape(num_res * 14),
        length_scale=length_scale, l1_clamp_distance=clamp_distance)


# --------------------------------------------------------------------------- torsions


def torsion_angle_loss(pred_sin_cos: jnp.ndarray, gt_sin_cos: jnp.ndarray, alt_gt_sin_cos: jnp.ndarray,
                       torsion_mask: jnp.ndarray) -> jnp.ndarray:
    """Supplement Alg. 27: squared chord distance to the true (or alternative) angle.

    pred_sin_cos [..., L, 7, 2] (normalised); gt/alt [L, 7, 2]; mask [L, 7].
    All 7 torsions (omega, phi, psi, chi1-4) are supervised, as in the supplement;
    the pi-periodic chis take the nearer of the two true values. Mean over
    masked torsions (and over any leading layer axis).
    """
    error = jnp.sum(jnp.square(pred_sin_cos - gt_sin_cos), axis=-1)
    alt_error = jnp.sum(jnp.square(pred_sin_cos - alt_gt_sin_cos), axis=-1)
    per_torsion = jnp.minimum(error, alt_error)                                 # [..., L, 7]
    return jnp.mean(jnp.sum(per_torsion * torsion_mask, axis=(-2, -1)) / (1e-6 + jnp.sum(torsion_mask)))


def angle_norm_loss(unnormalized_sin_cos: jnp.ndarray, seq_mask: jnp.ndarray) -> jnp.ndarray:
    """Mean |‖(sin, cos)‖ - 1| of the unnormalised torsion outputs [..., L, 7, 2] over residues."""
    norm = jnp.sqrt(jnp.sum(jnp.square(unnormalized_sin_cos), axis=-1) + 1e-6)   # [..., L, 7]
    mask = seq_mask[:, None] * jnp.ones((1, norm.shape[-1]))
    return jnp.mean(jnp.sum(jnp.abs(norm - 1.0) * mask, axis=(-2, -1)) / (1e-6 + jnp.sum(mask)))


# --------------------------------------------------------------------------- heads


def distogram_loss(logits: jnp.ndarray, pseudo_beta: jnp.ndarray, pseudo_beta_mask: jnp.ndarray,
                   first_break: float = 2.3125, last_break: float = 21.6875) -> jnp.ndarray:
    """Cross-entropy of the distogram logits [L, L, bins] against binned pseudo-beta distances."""
    num_bins = logits.shape[-1]
    edges = jnp.square(jnp.linspace(first_break, last_break, num_bins - 1))
    dist2 = jnp.sum(jnp.square(pseudo_beta[:, None] - pseudo_beta[None]), axis=-1, keepdims=True)
    true_bins = jnp.sum(dist2 > edges, axis=-1)                                  # [L, L]
    errors = -jnp.sum(jax.nn.one_hot(true_bins, num_bins) * jax.nn.log_softmax(logits), axis=-1)
    pair_mask = pseudo_beta_mask[:, None] * pseudo_beta_mask[None]
    return jnp.sum(errors * pair_mask) / (1e-6 + jnp.sum(pair_mask))


def masked_msa_loss(logits: jnp.ndarray, true_msa: jnp.ndarray, bert_mask: jnp.ndarray) -> jnp.ndarray:
    """Cross-entropy at the BERT-masked MSA positions: logits [N, L, 23], true_msa [N, L]."""
    errors = -jnp.sum(jax.nn.one_hot(true_msa, logits.shape[-1]) * jax.nn.log_softmax(logits), axis=-1)
    return jnp.sum(errors * bert_mask) / (1e-8 + jnp.sum(bert_mask))


def lddt_ca_bins(pred_ca: jnp.ndarray, true_ca: jnp.ndarray, ca_mask: jnp.ndarray, num_bins: int) -> jnp.ndarray:
    """Per-residue lDDT-Cα of the prediction (cutoff 15 Å) as bin indices [L] (gradient stopped)."""
    per_residue = lddt(jax.lax.stop_gradient(pred_ca)[None], true_ca[None], ca_mask[None, :, None],
                       cutoff=15.0, per_residue=True)[0]
    return jnp.minimum(jnp.floor(per_residue * num_bins).astype(jnp.int32), num_bins - 1)


def plddt_loss(logits: jnp.ndarray, pred_ca: jnp.ndarray, true_ca: jnp.ndarray, ca_mask: jnp.ndarray) -> jnp.ndarray:
    """pLDDT head loss: cross-entropy of logits [L, bins] against the binned true lDDT-Cα."""
    bins = lddt_ca_bins(pred_ca, true_ca, ca_mask, logits.shape[-1])
    errors = -jnp.sum(jax.nn.one_hot(bins, logits.shape[-1]) * jax.nn.log_softmax(logits), axis=-1)
    return jnp.sum(errors * ca_mask) / (1e-10 + jnp.sum(ca_mask))


def experimentally_resolved_loss(logits: jnp.ndarray, atom37_mask: jnp.ndarray, atom37_exists: jnp.ndarray,
                                 full_atom: jnp.ndarray | float) -> jnp.ndarray:
    """Sigmoid cross-entropy of logits [L, 37] against which atoms were observed.

    Only atoms the residue type has count; for a backbone-only chain only N, CA,
    C and O (its side chains are absent by construction, not unresolved).
    """
    backbone = jnp.zeros(37).at[jnp.asarray(gt_lib.BACKBONE_ATOM37)].set(1.0)
    mask = atom37_exists * jnp.where(full_atom > 0, 1.0, backbone)[None]
    errors = -(atom37_mask * jax.nn.log_sigmoid(logits) + (1.0 - atom37_mask) * jax.nn.log_sigmoid(-logits))
    return jnp.sum(errors * mask) / (1e-8 + jnp.sum(mask))


def pae_loss(logits: jnp.ndarray, breaks: jnp.ndarray, pred_rot: jnp.ndarray, pred_trans: jnp.ndarray,
             gt_rot: jnp.ndarray, gt_trans: jnp.ndarray, frame_mask: jnp.ndarray) -> jnp.ndarray:
    """Predicted-aligned-error loss: cross-entropy of logits [L, L, bins] against the binned
    error of CA j in the frame of residue i (prediction vs truth; gradient stopped)."""
    pred_rot, pred_trans = jax.lax.stop_gradient(pred_rot), jax.lax.stop_gradient(pred_trans)
    local_pred = Rigid(pred_rot[:, None], pred_trans[:, None]).apply_inverse(pred_trans[None])   # [L, L, 3]
    local_true = Rigid(gt_rot[:, None], gt_trans[:, None]).apply_inverse(gt_trans[None])
    error2 = jnp.sum(jnp.square(local_pred - local_true), axis=-1, keepdims=True)
    true_bins = jnp.sum(error2 > jnp.square(breaks), axis=-1)
    errors = -jnp.sum(jax.nn.one_hot(true_bins, logits.shape[-1]) * jax.nn.log_softmax(logits), axis=-1)
    pair_mask = frame_mask[:, None] * frame_mask[None]
    return jnp.sum(errors * pair_mask) / (1e-8 + jnp.sum(pair_mask))


# --------------------------------------------------------------------------- total


def example_losses(outputs: Mapping[str, jnp.ndarray], example: Mapping[str, jnp.ndarray],
                   gt: Mapping[str, jnp.ndarray], model_config, terms: tuple[str, ...] = TERMS
                   ) -> tuple[dict[str, jnp.ndarray], dict[str, jnp.ndarray]]:
    """Each loss term of one example and its weight in the batch mean (0 = not applicable).

    outputs: flat model outputs; example: the features of the last recycling
    slice (``seq_mask``, ``true_msa``, ``bert_mask``, ``atom37_atom_exists``) plus
    ``use_clamped_fape``; gt: ground truth of the example; model_config: the
    ModelConfig (FAPE clamps, head bins).
    """
    sm, heads = model_config.structure_module, model_config.heads
    full_atom = gt["full_atom"]
    losses, weights = {}, {}
    one = jnp.float32(1.0)
    ca_mask = gt["all_atom_mask"][:, 1]
    if "fape" in terms:
        losses["fape"] = backbone_fape(outputs["structure_module/traj"], gt["backbone_rot"], gt["backbone_trans"],
                                       gt["backbone_mask"], sm.fape.clamp_distance, sm.fape.loss_unit_distance,
                                       example["use_clamped_fape"])
        weights["fape"] = one
    if "sidechain_fape" in terms:
        pred14 = outputs["structure_module/final_atom14_positions"]
        frames = Rigid(outputs["structure_module/sidechains/frames/rot"][-1],
                       outputs["structure_module/sidechains/frames/trans"][-1])
        alt = rename_symmetric_atoms(pred14, gt)
        losses["sidechain_fape"] = sidechain_fape(frames, pred14, gt, alt, sm.sidechain.atom_clamp_distance,
                                                  sm.sidechain.length_scale)
        weights["sidechain_fape"] = full_atom
    if "torsion" in terms:
        losses["torsion"] = torsion_angle_loss(outputs["structure_module/sidechains/angles_sin_cos"],
                                               gt["torsion_angles_sin_cos"], gt["alt_torsion_angles_sin_cos"],
                                               gt["torsion_angles_mask"])
        weights["torsion"] = one
    if "angle_norm" in terms:
        losses["angle_norm"] = angle_norm_loss(outputs["structure_module/sidechains/unnormalized_angles_sin_cos"],
                                               example["seq_mask"])
        weights["angle_norm"] = one
    if "distogram" in terms:
        losses["distogram"] = distogram_loss(outputs["distogram/logits"], gt["pseudo_beta"], gt["pseudo_beta_mask"],
                                             heads.distogram.first_break, heads.distogram.last_break)
        weights["distogram"] = one
    if "masked_msa" in terms:
        losses["masked_msa"] = masked_msa_loss(outputs["masked_msa/logits"], example["true_msa"],
                                               example["bert_mask"])
        weights["masked_msa"] = (jnp.sum(example["bert_mask"]) > 0).astype(jnp.float32)
    if "plddt" in terms:
        pred_ca = outputs["structure_module/final_atom_positions"][:, 1]
        losses["plddt"] = plddt_loss(outputs["predicted_lddt/logits"], pred_ca, gt["all_atom_positions"][:, 1],
                                     ca_mask)
        weights["plddt"] = one
    if "experimentally_resolved" in terms:
        losses["experimentally_resolved"] = experimentally_resolved_loss(
            outputs["experimentally_resolved/logits"], gt["all_atom_mask"], example["atom37_atom_exists"],
            full_atom)
        weights["experimentally_resolved"] = one
    if "pae" in terms and "predicted_aligned_error/logits" in outputs:
        final = QuatRigid.from_tensor(outputs["structure_module/final_affines"]).to_rigid()
        losses["pae"] = pae_loss(outputs["predicted_aligned_error/logits"], outputs["predicted_aligned_error/breaks"],
                                 final.rot, final.trans, gt["backbone_rot"], gt["backbone_trans"], gt["backbone_mask"])
        weights["pae"] = one
    if "violation" in terms:
        losses["violation"] = violation_loss(outputs["structure_module/final_atom14_positions"],
                                             example["aatype"], gt["atom14_atom_exists"] * example["seq_mask"][:, None],
                                             example["residue_index"],
                                             sm.violation_tolerance_factor, sm.clash_overlap_tolerance)
        weights["violation"] = one
    return losses, weights


def active_terms(loss_weights) -> tuple[str, ...]:
    """Names of the terms with a non-zero weight in a :class:`~foldkit.train.config.LossWeights`."""
    return tuple(t for t in TERMS if getattr(loss_weights, t) != 0.0)


def total_loss(losses: Mapping[str, jnp.ndarray], weights: Mapping[str, jnp.ndarray], loss_weights
               ) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
    """Weighted sum of the batch means of the terms.

    losses, weights: per term, [batch] arrays (from vmapped :func:`example_losses`).
    The batch mean of a term averages only examples with weight 1. Published
    weights (suppl. eq. 7): 0.5 backbone FAPE + 0.5 side-chain FAPE, 0.5 torsion
    (+0.01 angle norm), 0.3 distogram, 2.0 masked MSA, 0.01 pLDDT.
    """
    means, total = {}, jnp.float32(0.0)
    for term, values in losses.items():
        w = weights[term]
        means[term] = jnp.sum(values * w) / jnp.maximum(jnp.sum(w), 1.0)
        total = total + getattr(loss_weights, term) * means[term]
    return total, means

