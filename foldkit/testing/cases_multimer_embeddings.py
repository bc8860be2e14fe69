"""Golden per-module cases of the multimer embeddings, MSA sampling and templates
(shared/reference/af2/multimer/modules).

``CASES[name](arrays, meta, chunk_size) -> list[OutputCheck]`` as in
:mod:`foldkit.testing.cases_evoformer`. The random cases (``sample_msa``,
``make_masked_msa``) are checked twice: with the stored uniform draws
injected (every integer output exact), and the draws foldkit makes itself
from the stored raw key (equal to the stored ones, bit for bit, under
:func:`~foldkit.model.msa_sampling.alphafold_rng_scope`).
"""

from __future__ import annotations

import types

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model import msa_sampling
from foldkit.model.config import build_dataclass
from foldkit.model.multimer_config import (MaskedMsaConfig, MultimerTemplateConfig,
                                           MultimerTemplatePairStackConfig)
from foldkit.model.multimer_embeddings import MultimerEmbeddingsAndEvoformer, relative_position_features
from foldkit.model.multimer_templates import (MultimerTemplateEmbedding, TemplateEmbeddingIteration,
                                              embed_template_rows, template_single_features)
from foldkit.testing.cases_evoformer import _global_config, haiku_params
from foldkit.testing.compare import Kind, OutputCheck


def _inputs(arrays, *names: str) -> list[jnp.ndarray]:
    return [jnp.asarray(arrays[f"input/{name}"]) for name in names]


def _checks(values: dict, kind: Kind, prefix: str = "output/") -> list[OutputCheck]:
    return [OutputCheck(f"{prefix}{name}", np.asarray(value), kind) for name, value in values.items()]


# --------------------------------------------------------------------------- relative positions

def _relative_position_encoding(arrays, meta, chunk_size):
    c = meta["config"]
    settings = types.SimpleNamespace(max_relative_idx=c["max_relative_idx"],       # the fields the
                                     max_relative_chain=c["max_relative_chain"],   # relative encoding reads
                                     pair_channel=c["pair_channel"])
    batch = dict(zip(("residue_index", "asym_id", "entity_id", "sym_id"),
                     _inputs(arrays, "residue_index", "asym_id", "entity_id", "sym_id")))
    forward = hk.transform(lambda b: MultimerEmbeddingsAndEvoformer(
        settings, _global_config(meta, chunk_size), name="evoformer")._relative_encoding(b))
    output = forward.apply(haiku_params(arrays), None, batch)
    features = relative_position_features(batch["residue_index"], batch["asym_id"], batch["entity_id"],
                                          batch["sym_id"], c["max_relative_idx"], c["max_relative_chain"])
    return [OutputCheck("output/output", np.asarray(output), Kind.ACTIVATION),
            OutputCheck("intermediate/rel_feat", np.asarray(features), Kind.EXACT)]


# --------------------------------------------------------------------------- MSA sampling and features

def _make_msa_profile(arrays, meta, chunk_size):
    return _checks({"msa_profile": msa_sampling.make_msa_profile(*_inputs(arrays, "msa", "msa_mask"))},
                   Kind.FEATURE)


def _nearest_neighbor_clusters(arrays, meta, chunk_size):
    out = msa_sampling.nearest_neighbor_clusters(
        *_inputs(arrays, "msa", "msa_mask", "deletion_matrix", "extra_msa", "extra_msa_mask",
                 "extra_deletion_matrix"), gap_agreement_weight=meta["config"]["gap_agreement_weight"])
    return _checks(out, Kind.FEATURE)


def _create_msa_feat(arrays, meta, chunk_size):
    feat = msa_sampling.create_msa_feat(*_inputs(arrays, "msa", "deletion_matrix", "cluster_profile",
                                                 "cluster_deletion_mean"))
    return _checks({"msa_feat": feat}, Kind.FEATURE)


def _create_extra_msa_feature(arrays, meta, chunk_size):
    feat, mask = msa_sampling.create_extra_msa_feature(
        *_inputs(arrays, "extra_msa", "extra_deletion_matrix", "extra_msa_mask"), meta["config"]["num_extra_msa"])
    return _checks({"extra_msa_feat": feat}, Kind.FEATURE) + _checks({"extra_msa_mask": mask}, Kind.EXACT)


def _sample_msa(arrays, meta, chunk_size):
    batch = {key: jnp.asarray(arrays[f"input/{key}"]) for key in msa_sampling.SAMPLED_KEYS + ("cluster_bias_mask",)}
    max_seq = meta["config"]["max_seq"]
    out = msa_sampling.sample_msa(batch, jnp.asarray(arrays["intermediate/uniform"]), max_seq)
    order = np.asarray(out.pop("index_order"))
    # only the order of rows with residues is defined (empty rows tie and are identical)
    real_rows = np.asarray(batch["msa_mask"]).sum(-1) > 0
    reference_order = arrays["intermediate/index_order"]
    order_check = OutputCheck("intermediate/index_order", order, Kind.EXACT, mask=real_rows[reference_order])
    logits = msa_sampling.sample_logits(batch["msa_mask"], batch["cluster_bias_mask"])
    with msa_sampling.alphafold_rng_scope():
        uniform = msa_sampling.padding_consistent_uniform(jnp.asarray(arrays["input/key"]), (len(order),))
    return (_checks(out, Kind.EXACT) + [order_check]
            + [OutputCheck("intermediate/logits", np.asarray(logits), Kind.EXACT),
               OutputCheck("intermediate/uniform", np.asarray(uniform), Kind.EXACT)])


def _make_masked_msa(arrays, meta, chunk_size):
    settings = MaskedMsaConfig(**meta["config"])
    msa, msa_mask, bert_mask, profile = _inputs(arrays, "msa", "msa_mask", "bert_mask", "msa_profile")
    out = msa_sampling.make_masked_msa(msa, msa_mask, bert_mask, profile,
                                       jnp.asarray(arrays["intermediate/mask_position_uniform"]),
                                       jnp.asarray(arrays["intermediate/gumbel_uniform"]), settings)
    sample = out.pop("gumbel_sample")
    with msa_sampling.alphafold_rng_scope():
        keys = jax.random.split(jnp.asarray(arrays["input/key"]), 3)
        mask_uniform = msa_sampling.padding_consistent_uniform(keys[1], msa.shape)
        gumbel_uniform = msa_sampling.padding_consistent_uniform(keys[2], msa.shape + (msa_sampling.NUM_MSA_CLASSES,))
    return (_checks(out, Kind.EXACT)
            + [OutputCheck("intermediate/gumbel_sample", np.asarray(sample), Kind.EXACT),
               OutputCheck("intermediate/mask_position_uniform", np.asarray(mask_uniform), Kind.EXACT),
               OutputCheck("intermediate/gumbel_uniform", np.asarray(gumbel_uniform), Kind.EXACT)])


# --------------------------------------------------------------------------- templates

TEMPLATE_INPUTS = ("template_aatype", "template_all_atom_positions", "template_all_atom_mask")


def _template_embedding(arrays, meta, chunk_size):
    config = build_dataclass(MultimerTemplateConfig, meta["config"])
    global_config = _global_config(meta, chunk_size)

    def forward(query, batch, padding_mask, multichain_mask):
        return MultimerTemplateEmbedding(config, global_config)(query, batch, padding_mask, multichain_mask,
                                                                return_intermediates=True)

    batch = {key: jnp.asarray(arrays[f"input/{key}"]) for key in TEMPLATE_INPUTS}
    update, intermediates = jax.jit(hk.transform(forward).apply)(
        haiku_params(arrays), None, *_inputs(arrays, "query_embedding"), batch,
        *_inputs(arrays, "padding_mask_2d", "multichain_mask_2d"))
    checks = [OutputCheck("output/output", np.asarray(update), Kind.ACTIVATION)]
    num_res = update.shape[0]
    off_diagonal = 1.0 - np.eye(num_res, dtype=np.float32)
    for name, value in intermediates.items():
        key = f"intermediate/{name}"
        value = np.asarray(value)
        if name.startswith("template_pair_feature_"):
            value = value.reshape(arrays[key].shape)
        if "unit_vector" in name:   # AlphaFold's diagonal is rounding noise (README numerical note 3)
            checks.append(OutputCheck(key, value, Kind.UNIT, mask=off_diagonal[None]))
        elif name.endswith(("dgram", "mask_2d", "one_hot_row", "one_hot_col")):
            checks.append(OutputCheck(key, value, Kind.EXACT))
        else:
            checks.append(OutputCheck(key, value, Kind.ACTIVATION))
    return checks


def _template_embedding_iteration(arrays, meta, chunk_size):
    config = build_dataclass(MultimerTemplatePairStackConfig, meta["config"])
    global_config = _global_config(meta, chunk_size)
    forward = hk.transform(lambda act, mask: TemplateEmbeddingIteration(config, global_config)(act, mask))
    output = jax.jit(forward.apply)(haiku_params(arrays), None, *_inputs(arrays, "act", "pair_mask"))
    return [OutputCheck("output/output", np.asarray(output), Kind.ACTIVATION)]


def _template_embedding_1d(arrays, meta, chunk_size):
    batch = {key: jnp.asarray(arrays[f"input/{key}"]) for key in TEMPLATE_INPUTS}
    num_channel = meta["config"]["num_channel"]

    def forward(batch_):
        features, row_mask, chi = template_single_features(batch_)
        return embed_template_rows(features, num_channel), row_mask, features, chi

    activations, row_mask, features, chi = hk.transform(forward).apply(haiku_params(arrays), None, batch)
    chi_mask = np.asarray(chi["chi_mask"])
    return [OutputCheck("output/template_activations", np.asarray(activations), Kind.ACTIVATION),
            OutputCheck("output/template_mask", np.asarray(row_mask), Kind.EXACT),
            OutputCheck("intermediate/template_features", np.asarray(features), Kind.UNIT),
            OutputCheck("intermediate/chi_mask", chi_mask, Kind.EXACT),
            # angles where the chi exists (an undefined chi is atan2 of rounding noise)
            OutputCheck("intermediate/chi_angles", np.asarray(chi["chi_angles"]), Kind.UNIT, mask=chi_mask)]


CASES = {
    "relative_position_encoding_multimer": _relative_position_encoding,
    "make_msa_profile": _make_msa_profile,
    "nearest_neighbor_clusters": _nearest_neighbor_clusters,
    "create_msa_feat": _create_msa_feat,
    "create_extra_msa_feature": _create_extra_msa_feature,
    "sample_msa": _sample_msa,
    "make_masked_msa": _make_masked_msa,
    "template_embedding_multimer": _template_embedding,
    "template_embedding_iteration_multimer": _template_embedding_iteration,
    "template_embedding_1d_multimer": _template_embedding_1d,
}
