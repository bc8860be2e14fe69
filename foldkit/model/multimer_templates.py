"""Template embedding of AlphaFold-Multimer (pair update and template MSA rows).

Pair update (:class:`MultimerTemplateEmbedding`, parameters under
``template_embedding/``): each template gives nine pair features, each
through its own Linear ``single_template_embedding/template_pair_embedding_<i>``
and summed:

0. distogram of the template's pseudo-beta atoms (39 bins), masked by the
   pseudo-beta mask and the intra-chain mask (``asym_i == asym_j``);
1. the 2D pseudo-beta mask;
2. / 3. one_hot(template_aatype, 22) of residue j / of residue i;
4.-6. x, y, z of the unit vector from residue i's backbone frame to CA_j,
   masked by the 2D backbone mask (the diagonal is exactly 0 here; in
   AlphaFold it is float32 rounding noise);
7. the 2D backbone mask (N, CA, C of both residues, times the intra-chain mask);
8. LayerNorm ``query_embedding_norm`` of the current pair representation.

Then ``template_embedding_iteration`` blocks (stacked parameters, no
``__layer_stack_no_state`` level) in the order triangle multiplication
outgoing, incoming, triangle attention starting, ending node, pair
transition; ``output_layer_norm``. The embeddings of **all** templates
(padding templates included) are averaged, passed through ReLU and
``output_linear``.

MSA rows (:func:`template_single_features` + :func:`embed_template_rows`):
one_hot(aatype, 22), sin and cos of chi 1-4 (times their mask) and the chi
mask -> ``template_single_embedding`` -> ReLU -> ``template_projection``;
the row mask is the chi1 mask.
"""

from __future__ import annotations

from typing import Mapping

import haiku as hk
import jax
import jax.numpy as jnp

from foldkit import constants
from foldkit.model.all_atom import dgram_from_positions, pseudo_beta
from foldkit.model.evoformer import Transition
from foldkit.model.global_config import GlobalConfig
from foldkit.model.layer_stack import layer_stack
from foldkit.model.multimer_all_atom import compute_chi_angles, make_backbone_affine
from foldkit.model.multimer_config import MultimerTemplateConfig, MultimerTemplatePairStackConfig
from foldkit.model.multimer_geometry import normalize
from foldkit.model.primitives import Linear, layer_norm, layer_norm_f32
from foldkit.model.triangle import TriangleAttention, TriangleMultiplication

NUM_TEMPLATE_RESTYPES = 22   # 20 amino acids, X, gap
TEMPLATE_KEYS = ("template_aatype", "template_all_atom_positions", "template_all_atom_mask")
PAIR_FEATURE_NAMES = ("template_dgram", "pseudo_beta_mask_2d", "aatype_one_hot_row", "aatype_one_hot_col",
                      "unit_vector_x", "unit_vector_y", "unit_vector_z", "backbone_mask_2d",
                      "query_embedding_normed")
SCALAR_FEATURES = frozenset({1, 4, 5, 6, 7})   # features without a channel axis (Linear of a scalar)


def template_pair_features(template: Mapping[str, jnp.ndarray], multichain_mask_2d: jnp.ndarray,
                           dgram_config, dtype=jnp.float32) -> list[jnp.ndarray]:
    """The first eight pair features of one template (without the query embedding).

    template: ``template_aatype`` [L] (AlphaFold order), ``template_all_atom_positions``
    [L, 37, 3], ``template_all_atom_mask`` [L, 37]; multichain_mask_2d [L, L].
    Returns [dgram [L, L, 39], beta mask [L, L], aatype of j [1, L, 22],
    aatype of i [L, 1, 22], unit x, y, z [L, L], backbone mask [L, L]].
    """
    aatype = template["template_aatype"].astype(jnp.int32)
    positions = template["template_all_atom_positions"].astype(jnp.float32)
    atom_mask = template["template_all_atom_mask"].astype(jnp.float32)
    multichain = multichain_mask_2d.astype(jnp.float32)

    beta, beta_mask = pseudo_beta(aatype, positions, atom_mask)                   # [L, 3], [L]
    beta_mask_2d = beta_mask[:, None] * beta_mask[None, :] * multichain          # [L, L]
    dgram = dgram_from_positions(beta, dgram_config.num_bins, dgram_config.min_bin, dgram_config.max_bin)
    dgram = dgram * beta_mask_2d[..., None]                                      # [L, L, 39]
    aatype_one_hot = jax.nn.one_hot(aatype, NUM_TEMPLATE_RESTYPES, dtype=jnp.float32)  # [L, 22]

    frames, backbone_mask = make_backbone_affine(positions, atom_mask, aatype)   # Rigid [L], [L]
    backbone_mask_2d = backbone_mask[:, None] * backbone_mask[None, :] * multichain
    ca = positions[:, constants.ATOM_ORDER["CA"]]                                # [L, 3]
    offsets = ca[None, :, :] - frames.trans[:, None, :]                          # [L, L, 3]: CA_j - origin_i
    local = jnp.einsum("iba,ijb->ija", frames.rot, offsets)                      # rot_i^T (CA_j - CA_i)
    unit = normalize(local) * backbone_mask_2d[..., None]                        # [L, L, 3]
    features = [dgram, beta_mask_2d, aatype_one_hot[None, :, :], aatype_one_hot[:, None, :],
                unit[..., 0], unit[..., 1], unit[..., 2], backbone_mask_2d]
    return [f.astype(dtype) for f in features]


def template_embedding_iteration(config: MultimerTemplatePairStackConfig, global_config: GlobalConfig,
                                 act: jnp.ndarray, pair_mask: jnp.ndarray) -> jnp.ndarray:
    """One multimer template pair block (residuals added): act [L, L, c_t] -> [L, L, c_t].

    Builds its modules in the calling scope (wrap it in a module named
    ``template_embedding_iteration``)."""
    act = act + TriangleMultiplication(config.triangle_multiplication_outgoing, global_config,
                                       name="triangle_multiplication_outgoing")(act, pair_mask)
    act = act + TriangleMultiplication(config.triangle_multiplication_incoming, global_config,
                                       name="triangle_multiplication_incoming")(act, pair_mask)
    act = act + TriangleAttention(config.triangle_attention_starting_node, global_config,
                                  name="triangle_attention_starting_node")(act, pair_mask)
    act = act + TriangleAttention(config.triangle_attention_ending_node, global_config,
                                  name="triangle_attention_ending_node")(act, pair_mask)
    return act + Transition(config.pair_transition, global_config, name="pair_transition")(act, pair_mask)


class TemplateEmbeddingIteration(hk.Module):
    """:func:`template_embedding_iteration` as a module (parameters ``template_embedding_iteration/...``)."""

    def __init__(self, config: MultimerTemplatePairStackConfig, global_config: GlobalConfig,
                 name: str = "template_embedding_iteration"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, act: jnp.ndarray, pair_mask: jnp.ndarray) -> jnp.ndarray:
        return template_embedding_iteration(self.config, self.global_config, act, pair_mask)


class SingleTemplateEmbedding(hk.Module):
    """One template -> its pair embedding [L, L, c_t] (after the pair stack and LayerNorm)."""

    def __init__(self, config: MultimerTemplateConfig, global_config: GlobalConfig,
                 name: str = "single_template_embedding"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, query_embedding: jnp.ndarray, template: Mapping[str, jnp.ndarray],
                 padding_mask_2d: jnp.ndarray, multichain_mask_2d: jnp.ndarray,
                 return_features: bool = False):
        """query_embedding [L, L, c_z] -> [L, L, c_t] (and the nine features on request)."""
        c = self.config
        dtype = query_embedding.dtype
        features = template_pair_features(template, multichain_mask_2d, c.dgram_features, dtype)
        features.append(layer_norm_f32(layer_norm("query_embedding_norm"), query_embedding))
        act = 0.0
        for index, feature in enumerate(features):
            linear = Linear(c.num_channels, initializer="relu", num_input_dims=0 if index in SCALAR_FEATURES else 1,
                            name=f"template_pair_embedding_{index}")
            act = act + linear(feature)
        act = jnp.broadcast_to(act, query_embedding.shape[:2] + (c.num_channels,))

        pair_mask = padding_mask_2d.astype(dtype)
        stack = c.template_pair_stack

        def block(act_):
            return TemplateEmbeddingIteration(stack, self.global_config)(act_, pair_mask)

        if stack.num_block:
            act = layer_stack(stack.num_block, block, act)
        act = layer_norm_f32(layer_norm("output_layer_norm"), act)
        if return_features:
            return act, dict(zip(PAIR_FEATURE_NAMES, features))
        return act


class MultimerTemplateEmbedding(hk.Module):
    """Templates -> pair update [L, L, c_z] (mean over all templates, ReLU, ``output_linear``)."""

    def __init__(self, config: MultimerTemplateConfig, global_config: GlobalConfig,
                 name: str = "template_embedding"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, query_embedding: jnp.ndarray, template_batch: Mapping[str, jnp.ndarray],
                 padding_mask_2d: jnp.ndarray, multichain_mask_2d: jnp.ndarray,
                 return_intermediates: bool = False):
        """query_embedding [L, L, c_z]; template_batch: ``template_aatype`` [T, L],
        ``template_all_atom_positions`` [T, L, 37, 3], ``template_all_atom_mask`` [T, L, 37];
        padding_mask_2d [L, L]; multichain_mask_2d [L, L] (asym_i == asym_j).

        Returns the update, and with ``return_intermediates`` also
        ``{"single_template_embedding": [T, L, L, c_t], "template_pair_feature_<i>_<name>": ...}``.
        """
        num_templates = template_batch["template_aatype"].shape[0]
        templates = {key: template_batch[key] for key in TEMPLATE_KEYS}
        embedder = SingleTemplateEmbedding(self.config, self.global_config)

        def one_template(total, template):
            result = embedder(query_embedding, template, padding_mask_2d, multichain_mask_2d,
                              return_features=return_intermediates)
            embedding, features = result if return_intermediates else (result, None)
            kept = (embedding, features) if return_intermediates else None
            return total + embedding.astype(jnp.float32), kept

        # one template at a time with the same parameters: memory does not grow with T
        shape = query_embedding.shape[:2] + (self.config.num_channels,)
        total, kept = hk.scan(one_template, jnp.zeros(shape, jnp.float32), templates)
        mean = (total / num_templates).astype(query_embedding.dtype)
        update = Linear(query_embedding.shape[-1], initializer="relu", name="output_linear")(jax.nn.relu(mean))
        if not return_intermediates:
            return update
        embeddings, features = kept
        intermediates = {"single_template_embedding": embeddings}
        for index, name in enumerate(PAIR_FEATURE_NAMES):
            intermediates[f"template_pair_feature_{index}_{name}"] = features[name]
        return update, intermediates


# --------------------------------------------------------------------------- MSA rows

def template_single_features(template_batch: Mapping[str, jnp.ndarray]) -> tuple[jnp.ndarray, jnp.ndarray, dict]:
    """Per-template residue features of the template MSA rows.

    Returns (features [T, L, 22 + 4 + 4 + 4], row mask [T, L] (chi1 defined),
    {``chi_angles``, ``chi_mask``} [T, L, 4]).
    """
    aatype = template_batch["template_aatype"].astype(jnp.int32)                  # [T, L]
    chi_angles, chi_mask = compute_chi_angles(template_batch["template_all_atom_positions"].astype(jnp.float32),
                                              template_batch["template_all_atom_mask"].astype(jnp.float32),
                                              aatype)
    features = jnp.concatenate([
        jax.nn.one_hot(aatype, NUM_TEMPLATE_RESTYPES, dtype=jnp.float32),
        jnp.sin(chi_angles) * chi_mask,
        jnp.cos(chi_angles) * chi_mask,
        chi_mask,
    ], axis=-1)
    return features, chi_mask[..., 0], {"chi_angles": chi_angles, "chi_mask": chi_mask}


def embed_template_rows(features: jnp.ndarray, msa_channel: int) -> jnp.ndarray:
    """Template features [T, L, 34] -> MSA rows [T, L, c_m]; creates ``template_single_embedding``
    and ``template_projection`` in the calling module's scope."""
    act = Linear(msa_channel, initializer="relu", name="template_single_embedding")(features)
    return Linear(msa_channel, initializer="relu", name="template_projection")(jax.nn.relu(act))
