"""Input embeddings and Evoformer of AlphaFold-Multimer (module ``evoformer``).

One call = one network iteration's trunk: MSA sampling and features from
the full MSA (:mod:`foldkit.model.msa_sampling`), the target, MSA and pair
embeddings, recycled inputs, the chain-aware relative position encoding,
templates (pair update and MSA rows), the extra-MSA stack, the Evoformer
stack and the single representation.

Parameter paths (under ``alphafold/alphafold_iteration/evoformer/``):
``preprocess_1d``, ``preprocess_msa``, ``left_single``, ``right_single``
(21 target inputs: one_hot(aatype, 21)), ``prev_pos_linear``,
``prev_msa_first_row_norm``, ``prev_pair_norm``,
``~_relative_encoding/position_activations`` (73 inputs),
``template_embedding/...``, ``template_single_embedding``,
``template_projection``, ``extra_msa_activations``, ``extra_msa_stack/...``
and ``evoformer_iteration/...`` (stacked), ``single_activations``.
"""

from __future__ import annotations

from typing import Mapping

import haiku as hk
import jax
import jax.numpy as jnp

from foldkit.model.all_atom import dgram_from_positions, pseudo_beta
from foldkit.model.evoformer import evoformer_stack
from foldkit.model.global_config import GlobalConfig
from foldkit.model.msa_sampling import SamplingDraws, msa_features
from foldkit.model.multimer_config import MultimerEmbeddingsConfig
from foldkit.model.multimer_templates import (TEMPLATE_KEYS, MultimerTemplateEmbedding, embed_template_rows,
                                              template_single_features)
from foldkit.model.primitives import Linear, layer_norm

NUM_TARGET_CLASSES = 21   # 20 amino acids and X (no has_break channel in the multimer models)
MSA_INPUT_KEYS = ("msa", "deletion_matrix", "msa_mask", "bert_mask", "cluster_bias_mask")


def relative_position_features(residue_index: jnp.ndarray, asym_id: jnp.ndarray, entity_id: jnp.ndarray,
                               sym_id: jnp.ndarray, max_relative_idx: int, max_relative_chain: int) -> jnp.ndarray:
    """Chain-aware relative position features [L, L, 2k + 2 + 1 + 2c + 2] (k, c: the maxima).

    Residue offsets i - j, clipped to [-k, k], within a chain (another chain:
    the extra class 2k + 1); whether i and j belong to the same entity; the
    difference of their symmetry ids (copy numbers), clipped to [-c, c],
    within an entity (another entity: class 2c + 1).
    """
    residue_index = residue_index.astype(jnp.int32)
    same_chain = asym_id[:, None] == asym_id[None, :]                              # [L, L]
    same_entity = entity_id[:, None] == entity_id[None, :]
    k, c = max_relative_idx, max_relative_chain
    offset = jnp.clip(residue_index[:, None] - residue_index[None, :] + k, 0, 2 * k)
    offset = jnp.where(same_chain, offset, 2 * k + 1)
    sym = sym_id.astype(jnp.int32)
    chain_offset = jnp.clip(sym[:, None] - sym[None, :] + c, 0, 2 * c)
    chain_offset = jnp.where(same_entity, chain_offset, 2 * c + 1)
    return jnp.concatenate([
        jax.nn.one_hot(offset, 2 * k + 2, dtype=jnp.float32),
        same_entity.astype(jnp.float32)[..., None],
        jax.nn.one_hot(chain_offset, 2 * c + 2, dtype=jnp.float32),
    ], axis=-1)


class MultimerEmbeddingsAndEvoformer(hk.Module):
    """Raw multimer features + draws + recycled values -> single, pair, MSA representations."""

    def __init__(self, config: MultimerEmbeddingsConfig, global_config: GlobalConfig, name: str = "evoformer"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def _relative_encoding(self, batch: Mapping[str, jnp.ndarray]) -> jnp.ndarray:
        """Pair update [L, L, c_z] of the relative positions (a method: haiku puts its Linear under
        ``evoformer/~_relative_encoding/``, as in the official parameter files)."""
        c = self.config
        features = relative_position_features(batch["residue_index"], batch["asym_id"], batch["entity_id"],
                                              batch["sym_id"], c.max_relative_idx, c.max_relative_chain)
        return Linear(c.pair_channel, name="position_activations")(features)

    def __call__(self, batch: Mapping[str, jnp.ndarray], prev: Mapping[str, jnp.ndarray], draws: SamplingDraws,
                 return_sampling: bool = False) -> dict[str, jnp.ndarray]:
        """batch: the multimer features (``aatype``, ``residue_index``, ``asym_id``,
        ``entity_id``, ``sym_id``, ``seq_mask`` [L]; ``msa``, ``deletion_matrix``,
        ``msa_mask``, ``bert_mask`` [S, L]; ``cluster_bias_mask`` [S]; the
        ``template_*`` arrays); prev: ``prev_pos`` [L, 37, 3],
        ``prev_msa_first_row`` [L, c_m], ``prev_pair`` [L, L, c_z]; draws: this
        iteration's uniforms. Returns ``single``, ``pair``, ``msa`` (cluster rows),
        ``msa_first_row`` (and ``sampling/*`` intermediates on request)."""
        c, gc = self.config, self.global_config
        compute_dtype = jnp.bfloat16 if gc.bfloat16 else jnp.float32
        sampled = msa_features({k: batch[k] for k in MSA_INPUT_KEYS}, draws, c.num_msa, c.num_extra_msa,
                               c.masked_msa)
        target_feat = jax.nn.one_hot(batch["aatype"].astype(jnp.int32), NUM_TARGET_CLASSES)      # [L, 21]
        seq_mask = batch["seq_mask"].astype(jnp.float32)                                        # [L]
        pair_mask = seq_mask[:, None] * seq_mask[None, :]                                       # [L, L]

        msa = (Linear(c.msa_channel, name="preprocess_1d")(target_feat)[None]
               + Linear(c.msa_channel, name="preprocess_msa")(sampled["msa_feat"]))            # [N, L, c_m]
        pair = (Linear(c.pair_channel, name="left_single")(target_feat)[:, None]
                + Linear(c.pair_channel, name="right_single")(target_feat)[None])              # [L, L, c_z]
        if c.recycle_pos:
            prev_beta = pseudo_beta(batch["aatype"].astype(jnp.int32), prev["prev_pos"])        # [L, 3]
            dgram = dgram_from_positions(prev_beta, c.prev_pos.num_bins, c.prev_pos.min_bin, c.prev_pos.max_bin)
            pair = pair + Linear(c.pair_channel, name="prev_pos_linear")(dgram)
        if c.recycle_features:
            msa = msa.at[0].add(layer_norm("prev_msa_first_row_norm")(prev["prev_msa_first_row"]))
            pair = pair + layer_norm("prev_pair_norm")(prev["prev_pair"])
        pair = pair + self._relative_encoding(batch)

        templates = {key: batch[key] for key in TEMPLATE_KEYS} if c.template.enabled else None
        if templates is not None:
            multichain_mask = batch["asym_id"][:, None] == batch["asym_id"][None, :]             # [L, L]
            pair = pair + MultimerTemplateEmbedding(c.template, gc)(
                pair.astype(compute_dtype), templates, pair_mask, multichain_mask).astype(jnp.float32)

        extra = Linear(c.extra_msa_channel, name="extra_msa_activations")(sampled["extra_msa_feat"])
        _, pair = evoformer_stack(c.evoformer, gc, c.extra_msa_stack_num_block, extra.astype(compute_dtype),
                                  pair.astype(compute_dtype), sampled["extra_msa_mask"].astype(compute_dtype),
                                  pair_mask.astype(compute_dtype), is_extra_msa=True)

        num_clusters = sampled["msa_feat"].shape[0]
        msa_mask = sampled["msa_mask"]                                                          # [N, L]
        if templates is not None:
            features, row_mask, _ = template_single_features(templates)
            msa = jnp.concatenate([msa, embed_template_rows(features, c.msa_channel)], axis=0)
            msa_mask = jnp.concatenate([msa_mask, row_mask.astype(msa_mask.dtype)], axis=0)

        msa, pair = evoformer_stack(c.evoformer, gc, c.evoformer_num_block, msa.astype(compute_dtype), pair,
                                    msa_mask.astype(compute_dtype), pair_mask.astype(compute_dtype))
        msa, pair = msa.astype(jnp.float32), pair.astype(jnp.float32)
        single = Linear(c.seq_channel, name="single_activations")(msa[0])                     # [L, c_s]
        outputs = {"single": single, "pair": pair, "msa": msa[:num_clusters], "msa_first_row": msa[0]}
        if return_sampling:
            outputs.update({f"sampling/{key}": value for key, value in sampled.items()})
        return outputs
