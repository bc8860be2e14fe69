"""Template embedding (Jumper et al. 2021, suppl. 1.7.1, Algorithms 16-17).

Each template becomes a pair embedding: distogram of its pseudo-beta atoms,
residue types of both ends, backbone-frame unit vectors (zeroed unless
``use_template_unit_vector``) and masks, a Linear, the template pair stack
and a LayerNorm. The pair representation then attends point-wise over the
templates. :func:`template_torsion_features` gives the per-template
residue features that are appended to the MSA as extra rows.

Parameter paths match the official files: ``template_embedding/
single_template_embedding/{embedding2d, template_pair_stack/
__layer_stack_no_state/..., output_layer_norm}`` and
``template_embedding/attention``.
"""

from __future__ import annotations

import dataclasses

import haiku as hk
import jax
import jax.numpy as jnp

from foldkit import constants
from foldkit.model.all_atom import atom37_to_torsion_angles, dgram_from_positions
from foldkit.model.chunking import chunked_apply
from foldkit.model.config import TemplateAttentionConfig, TemplateConfig, TemplatePairStackConfig
from foldkit.model.evoformer import Transition
from foldkit.model.global_config import GlobalConfig
from foldkit.model.layer_stack import LAYER_STACK_SCOPE, layer_stack
from foldkit.model.primitives import Linear, layer_norm, layer_norm_f32
from foldkit.model.triangle import TriangleAttention, TriangleMultiplication

NUM_TEMPLATE_RESTYPES = 22        # 20 amino acids, X, gap
TEMPLATE_MASK_LOGIT = 1e9         # padding templates get logit bias -1e9
UNIT_VECTOR_EPSILON = 1e-6


# --------------------------------------------------------------------------- pair features

def backbone_unit_vectors(positions: jnp.ndarray, atom_mask: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Unit vectors from each residue's backbone frame to every other CA.

    positions [L, 37, 3], atom_mask [L, 37] -> (unit vectors [L, L, 3] in the
    local frame of residue i, backbone mask 2d [L, L]). The frame has CA at
    the origin, C on +x and N in the xy plane (y > 0).
    """
    n, ca, c = (constants.ATOM_ORDER[a] for a in ("N", "CA", "C"))
    origin = positions[:, ca]                                           # [L, 3]
    x_axis = positions[:, c] - origin
    x_axis = x_axis / jnp.sqrt(jnp.sum(x_axis ** 2, -1, keepdims=True) + 1e-20)
    in_plane = positions[:, n] - origin
    y_axis = in_plane - jnp.sum(in_plane * x_axis, -1, keepdims=True) * x_axis
    y_axis = y_axis / jnp.sqrt(jnp.sum(y_axis ** 2, -1, keepdims=True) + 1e-20)
    z_axis = jnp.cross(x_axis, y_axis)
    rot = jnp.stack([x_axis, y_axis, z_axis], axis=-2)                  # [L, 3(axis), 3(xyz)]
    offsets = origin[None, :, :] - origin[:, None, :]                   # [L, L, 3]: CA_j - CA_i
    local = jnp.einsum("iab,ijb->ija", rot, offsets)                    # [L, L, 3]
    backbone_mask = atom_mask[:, n] * atom_mask[:, ca] * atom_mask[:, c]  # [L]
    mask_2d = backbone_mask[:, None] * backbone_mask[None, :]           # [L, L]
    inv_distance = jax.lax.rsqrt(UNIT_VECTOR_EPSILON + jnp.sum(local ** 2, -1)) * mask_2d
    return local * inv_distance[..., None], mask_2d


def template_pair_features(template: dict, config: TemplateConfig, dtype=jnp.float32) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The 88 input channels of one template's pair embedding.

    template holds template_aatype [L] (AlphaFold order, gap 21),
    template_all_atom_positions [L, 37, 3], template_all_atom_masks [L, 37],
    template_pseudo_beta [L, 3], template_pseudo_beta_mask [L].
    Returns (features [L, L, 39 + 1 + 22 + 22 + 3 + 1], distogram [L, L, 39]).
    """
    num_res = template["template_aatype"].shape[0]
    beta_mask = template["template_pseudo_beta_mask"].astype(dtype)
    beta_mask_2d = beta_mask[:, None] * beta_mask[None, :]              # [L, L]
    dgram_cfg = config.dgram_features
    dgram = dgram_from_positions(template["template_pseudo_beta"], dgram_cfg.num_bins,
                                 dgram_cfg.min_bin, dgram_cfg.max_bin).astype(dtype)  # [L, L, 39]
    aatype = jax.nn.one_hot(template["template_aatype"], NUM_TEMPLATE_RESTYPES, dtype=dtype)  # [L, 22]
    unit_vectors, backbone_mask_2d = backbone_unit_vectors(template["template_all_atom_positions"],
                                                           template["template_all_atom_masks"])
    if not config.use_template_unit_vector:
        unit_vectors = jnp.zeros_like(unit_vectors)
    features = jnp.concatenate([
        dgram,
        beta_mask_2d[..., None],
        jnp.broadcast_to(aatype[None, :, :], (num_res, num_res, NUM_TEMPLATE_RESTYPES)),  # type of j
        jnp.broadcast_to(aatype[:, None, :], (num_res, num_res, NUM_TEMPLATE_RESTYPES)),  # type of i
        unit_vectors.astype(dtype),
        backbone_mask_2d[..., None].astype(dtype),
    ], axis=-1)
    return features * backbone_mask_2d[..., None].astype(dtype), dgram


# --------------------------------------------------------------------------- modules

class TemplatePairStack(hk.Module):
    """``num_block`` blocks: triangle attention (start, end), triangle updates (out, in), transition."""

    def __init__(self, config: TemplatePairStackConfig, global_config: GlobalConfig,
                 name: str = "template_pair_stack"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, pair_act: jnp.ndarray, pair_mask: jnp.ndarray) -> jnp.ndarray:
        """pair_act [L, L, c_t], pair_mask [L, L] -> [L, L, c_t]."""
        cfg, gcfg = self.config, self.global_config

        def block(act):
            act = act + TriangleAttention(cfg.triangle_attention_starting_node.attention(), gcfg,
                                          name="triangle_attention_starting_node")(act, pair_mask)
            act = act + TriangleAttention(cfg.triangle_attention_ending_node.attention(), gcfg,
                                          name="triangle_attention_ending_node")(act, pair_mask)
            act = act + TriangleMultiplication(cfg.triangle_multiplication_outgoing, gcfg,
                                               name="triangle_multiplication_outgoing")(act, pair_mask)
            act = act + TriangleMultiplication(cfg.triangle_multiplication_incoming, gcfg,
                                               name="triangle_multiplication_incoming")(act, pair_mask)
            return act + Transition(cfg.pair_transition, gcfg, name="pair_transition")(act, pair_mask)

        if not cfg.num_block:
            return pair_act
        return layer_stack(cfg.num_block, block, pair_act, scope=LAYER_STACK_SCOPE)


class SingleTemplateEmbedding(hk.Module):
    """One template -> pair embedding [L, L, c_t] (Algorithm 16 lines 1-3)."""

    def __init__(self, config: TemplateConfig, global_config: GlobalConfig,
                 name: str = "single_template_embedding"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, template: dict, mask_2d: jnp.ndarray, dtype=jnp.float32) -> tuple[jnp.ndarray, jnp.ndarray]:
        """Returns (embedding [L, L, c_t], template distogram [L, L, 39])."""
        features, dgram = template_pair_features(template, self.config, dtype)
        act = Linear(self.config.num_channels, initializer="relu", name="embedding2d")(features)
        act = TemplatePairStack(self.config.template_pair_stack, self.global_config)(act, mask_2d)
        act = layer_norm_f32(layer_norm("output_layer_norm"), act)
        return act, dgram


@dataclasses.dataclass(frozen=True)
class _AttentionWeights:
    """Parameters of the template point-wise attention, in the compute dtype."""

    query_w: jnp.ndarray    # [c_z, H, d_k]
    key_w: jnp.ndarray      # [c_t, H, d_k]
    value_w: jnp.ndarray    # [c_t, H, d_v]
    output_w: jnp.ndarray   # [H, d_v, c_z]
    output_b: jnp.ndarray   # [c_z]


class TemplatePointwiseAttention(hk.Module):
    """Each pair entry attends over the templates' embeddings at that entry (no gating).

    Parameters (official names): ``query_w`` [c_z, H, key_dim/H], ``key_w``
    [c_t, H, key_dim/H], ``value_w`` [c_t, H, value_dim/H], ``output_w``
    [H, value_dim/H, c_z], ``output_b`` [c_z].

    The softmax over templates is computed as a stream (running maximum, sum
    and weighted values, one template at a time), so the embeddings of all
    templates never need to exist at once: :meth:`start`, then
    :func:`accumulate_template` per template, then :meth:`finish`. The same
    numbers as a softmax over the stacked templates, up to float rounding.
    """

    def __init__(self, config: TemplateAttentionConfig, global_config: GlobalConfig, name: str = "attention"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def weights(self, c_z: int, c_t: int, dtype) -> _AttentionWeights:
        if self.config.gating:
            raise ValueError("gated template attention is not part of the AlphaFold2 monomer models")
        cfg = self.config
        num_head = cfg.num_head
        key_dim, value_dim = cfg.key_dim // num_head, cfg.value_dim // num_head
        glorot = hk.initializers.VarianceScaling(1.0, "fan_avg", "uniform")

        def param(name, shape, init):
            return hk.get_parameter(name, shape, jnp.float32, init=init).astype(dtype)

        return _AttentionWeights(
            query_w=param("query_w", (c_z, num_head, key_dim), glorot),
            key_w=param("key_w", (c_t, num_head, key_dim), glorot),
            value_w=param("value_w", (c_t, num_head, value_dim), glorot),
            output_w=param("output_w", (num_head, value_dim, c_z),
                           hk.initializers.Constant(0.0) if self.global_config.zero_init else glorot),
            output_b=param("output_b", (c_z,), hk.initializers.Constant(0.0)))

    def start(self, query: jnp.ndarray, c_t: int) -> tuple[_AttentionWeights, jnp.ndarray, dict]:
        """query [L, L, c_z] -> (weights, scaled queries [L, L, H, d_k], empty stream state)."""
        w = self.weights(query.shape[-1], c_t, query.dtype)
        key_dim = w.query_w.shape[-1]
        q = jnp.einsum("ijc,chd->ijhd", query, w.query_w) * key_dim ** -0.5      # [L, L, H, d_k]
        value_dim = w.value_w.shape[-1]
        state = {"max": jnp.full(q.shape[:-1], -jnp.inf, jnp.float32),           # [L, L, H]
                 "sum": jnp.zeros(q.shape[:-1], jnp.float32),                     # [L, L, H]
                 "values": jnp.zeros(q.shape[:-1] + (value_dim,), jnp.float32)}  # [L, L, H, d_v]
        return w, q, state

    def finish(self, w: _AttentionWeights, state: dict) -> jnp.ndarray:
        """Stream state -> the attention output [L, L, c_z]."""
        weighted = (state["values"] / state["sum"][..., None]).astype(w.output_w.dtype)   # [L, L, H, d_v]
        return jnp.einsum("ijhd,hdc->ijc", weighted, w.output_w) + w.output_b


def accumulate_template(w: _AttentionWeights, q: jnp.ndarray, state: dict, template: jnp.ndarray,
                        template_mask: jnp.ndarray, chunk_size: int | None = None) -> dict:
    """Add one template's embedding [L, L, c_t] (mask []: 0/1) to the attention stream state.

    q [L, L, H, d_k]: the scaled queries from :meth:`TemplatePointwiseAttention.start`.
    """
    bias = TEMPLATE_MASK_LOGIT * (template_mask.astype(jnp.float32) - 1.0)       # []

    def rows(q_rows, old_max, old_sum, old_values, template_rows):
        # q_rows [l, L, H, d_k]; running max / sum [l, L, H]; values [l, L, H, d_v]; template_rows [l, L, c_t]
        k = jnp.einsum("ijc,chd->ijhd", template_rows, w.key_w)
        v = jnp.einsum("ijc,chd->ijhd", template_rows, w.value_w)
        logits = jnp.einsum("ijhd,ijhd->ijh", q_rows, k).astype(jnp.float32) + bias
        new_max = jnp.maximum(old_max, logits)
        keep = jnp.exp(old_max - new_max)              # 0 for the first template (old max -inf)
        weight = jnp.exp(logits - new_max)
        values = old_values * keep[..., None] + weight[..., None] * v.astype(jnp.float32)
        return new_max, old_sum * keep + weight, values

    new_max, new_sum, values = chunked_apply(
        rows, (q, state["max"], state["sum"], state["values"], template), (0, 0, 0, 0, 0), chunk_size)
    return {"max": new_max, "sum": new_sum, "values": values}


class TemplateEmbedding(hk.Module):
    """Templates -> pair update [L, L, c_z] (Algorithm 16), to be added to the pair representation."""

    def __init__(self, config: TemplateConfig, global_config: GlobalConfig, name: str = "template_embedding"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, query_embedding: jnp.ndarray, template_batch: dict, mask_2d: jnp.ndarray,
                 return_intermediates: bool = False):
        """query_embedding [L, L, c_z]; template_batch: template_* arrays with a leading T axis;
        mask_2d [L, L]. Returns the update, and with ``return_intermediates`` also
        ``{"single_template_embedding": [T, L, L, c_t], "template_dgram": [T, L, L, 39]}``.
        """
        dtype = query_embedding.dtype
        template_mask = template_batch["template_mask"].astype(dtype)   # [T]
        per_template = {key: template_batch[key] for key in (
            "template_aatype", "template_all_atom_positions", "template_all_atom_masks",
            "template_pseudo_beta", "template_pseudo_beta_mask")}
        embedder = SingleTemplateEmbedding(self.config, self.global_config)
        attention = TemplatePointwiseAttention(self.config.attention, self.global_config)
        weights, queries, state = attention.start(query_embedding, self.config.num_channels)
        mask_2d = mask_2d.astype(dtype)
        chunk_size = self.global_config.chunk_size

        def one_template(state, inputs):
            template, mask = inputs
            embedding, dgram = embedder(template, mask_2d, dtype)
            state = accumulate_template(weights, queries, state, embedding, mask, chunk_size)
            return state, ((embedding, dgram) if return_intermediates else None)

        # one template at a time, the same parameters for every template; only the attention's
        # running state is carried (the queries are closed over), so memory does not grow with
        # the number of templates
        state, intermediates = hk.scan(one_template, state, (per_template, template_mask))
        update = attention.finish(weights, state)
        update = update * (jnp.sum(template_mask) > 0).astype(dtype)
        if return_intermediates:
            embeddings, dgrams = intermediates                     # [T, L, L, c_t], [T, L, L, 39]
            return update, {"single_template_embedding": embeddings, "template_dgram": dgrams}
        return update


# --------------------------------------------------------------------------- MSA rows

def template_torsion_features(template_batch: dict, global_config: GlobalConfig) -> tuple[jnp.ndarray, jnp.ndarray, dict]:
    """Per-template residue features for the extra MSA rows (Algorithm 2 line 7).

    Returns (features [T, L, 22 + 14 + 14 + 7], row mask [T, L] (psi defined),
    the torsion dict of :func:`atom37_to_torsion_angles`). With
    ``zero_init`` undefined torsions stay (0, 0) as in AlphaFold.
    """
    aatype = template_batch["template_aatype"]                          # [T, L]
    num_templates, num_res = aatype.shape
    torsions = atom37_to_torsion_angles(aatype, template_batch["template_all_atom_positions"],
                                        template_batch["template_all_atom_masks"],
                                        placeholder_for_undefined=not global_config.zero_init)
    features = jnp.concatenate([
        jax.nn.one_hot(aatype, NUM_TEMPLATE_RESTYPES),
        torsions["torsion_angles_sin_cos"].reshape(num_templates, num_res, 14),
        torsions["alt_torsion_angles_sin_cos"].reshape(num_templates, num_res, 14),
        torsions["torsion_angles_mask"],
    ], axis=-1)
    return features, torsions["torsion_angles_mask"][:, :, 2], torsions


def embed_template_rows(features: jnp.ndarray, msa_channel: int) -> jnp.ndarray:
    """Template torsion features [T, L, 57] -> MSA rows [T, L, c_m].

    Creates ``template_single_embedding`` and ``template_projection`` in the
    calling module's scope (the Evoformer embedding, as in the official files).
    """
    act = Linear(msa_channel, initializer="relu", name="template_single_embedding")(features)
    act = jax.nn.relu(act)
    return Linear(msa_channel, initializer="relu", name="template_projection")(act)
