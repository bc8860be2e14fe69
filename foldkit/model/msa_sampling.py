"""In-network MSA sampling and MSA features of AlphaFold-Multimer.

The multimer network receives the whole (padded) MSA and, at the start of
every recycling iteration, picks the cluster rows, BERT-masks them, assigns
the remaining rows to their nearest cluster and builds the MSA features:

1. :func:`make_msa_profile`: residue frequencies of the full MSA [L, 22];
2. :func:`sample_msa`: rows ordered by Gumbel-perturbed logits (the query,
   ``cluster_bias_mask`` = 1, first; rows without any unmasked residue last);
   the first ``num_msa`` become clusters, all others the extra MSA;
3. :func:`make_masked_msa`: each cluster position is replaced with
   probability ``replace_fraction`` by a Gumbel-max sample of a mixture of
   uniform, profile, same residue and the mask token (22);
4. :func:`nearest_neighbor_clusters`: every extra row (all of them) is
   softly assigned to the clusters it agrees with most; cluster profiles and
   mean deletions;
5. :func:`create_msa_feat` [N, L, 49] and :func:`create_extra_msa_feature`
   [num_extra_msa, L, 25].

Randomness enters only through three arrays of uniform draws
(:class:`SamplingDraws`), so that a caller can inject stored draws and
reproduce a reference run exactly. :func:`draw_uniforms` makes them from a
PRNG key the way AlphaFold-Multimer does: every element gets its own key by
folding its indices into the key (padding-consistent: adding padding rows or
residues does not change the draws of the others). Under
:func:`alphafold_rng_scope` the same keys give AlphaFold's own draws.
"""

from __future__ import annotations

import functools
from typing import Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model.multimer_config import MaskedMsaConfig

NUM_PROFILE_CLASSES = 22      # 20 amino acids, X, gap
NUM_MSA_CLASSES = 23          # ... and the BERT mask token
MASK_TOKEN = 22
GAP = 21
GUMBEL_EPSILON = 1e-6
CLUSTER_LOGIT = 1e6           # query bias / penalty of rows without any residue
AGREEMENT_SCALE = 1e3
PROFILE_EPSILON = 1e-10


class SamplingDraws(NamedTuple):
    """The uniform draws of one network iteration (a pytree; leading axes may be added)."""

    sample_uniform: jnp.ndarray          # [S]        row order of sample_msa
    mask_position_uniform: jnp.ndarray   # [N, L]     which cluster positions are BERT-masked
    gumbel_uniform: jnp.ndarray          # [N, L, 23] replacement residues


# --------------------------------------------------------------------------- random draws

def alphafold_rng_scope():
    """Context in which jax draws the numbers AlphaFold v2.3.2 drew (jax <= 0.4 default:
    ``jax_threefry_partitionable=False``); the random bits differ otherwise. Trace (and
    jit) the network inside it."""
    return jax.threefry_partitionable(False)


def _element_uniforms(key: jnp.ndarray, shape: tuple[int, ...]) -> jnp.ndarray:
    if not shape:
        return jax.random.uniform(key, (), jnp.float32)
    indices = jnp.arange(shape[0], dtype=jnp.uint32)
    return jax.vmap(lambda i: _element_uniforms(jax.random.fold_in(key, i), shape[1:]))(indices)


@functools.partial(jax.jit, static_argnums=1)
def padding_consistent_uniform(key: jnp.ndarray, shape: tuple[int, ...]) -> jnp.ndarray:
    """Uniform [0, 1) draws of ``shape``; element (i, j, ...) uses key fold_in(fold_in(key, i), j)...

    A raw uint32[2] key (or a typed key) in, float32 ``shape`` out.
    """
    return _element_uniforms(key, tuple(shape))


def sampling_keys(key: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """The keys of one iteration's sampling from the key the MSA embedding receives:
    split in 3 (sample key = 1, mask key = 2), the mask key split in 3 again
    (mask positions = 1, Gumbel noise = 2)."""
    _, sample_key, mask_key = jax.random.split(key, 3)
    _, mask_position_key, gumbel_key = jax.random.split(mask_key, 3)
    return {"sample": sample_key, "mask_position": mask_position_key, "gumbel": gumbel_key}


def draw_uniforms(key: jnp.ndarray, num_rows: int, num_msa: int, num_res: int) -> SamplingDraws:
    """All draws of one iteration: [S], [N, L], [N, L, 23] with N = min(num_msa, S)."""
    keys = sampling_keys(key)
    num_clusters = min(num_msa, num_rows)
    return SamplingDraws(
        sample_uniform=padding_consistent_uniform(keys["sample"], (num_rows,)),
        mask_position_uniform=padding_consistent_uniform(keys["mask_position"], (num_clusters, num_res)),
        gumbel_uniform=padding_consistent_uniform(keys["gumbel"], (num_clusters, num_res, NUM_MSA_CLASSES)))


def gumbel_noise(uniform: jnp.ndarray) -> jnp.ndarray:
    """Gumbel(0, 1) samples from uniform draws (AlphaFold's epsilons)."""
    return -jnp.log(-jnp.log(uniform + GUMBEL_EPSILON) + GUMBEL_EPSILON)


# --------------------------------------------------------------------------- sampling

def make_msa_profile(msa: jnp.ndarray, msa_mask: jnp.ndarray) -> jnp.ndarray:
    """Masked mean over rows of one_hot(msa, 22): msa [S, L] (0..21), msa_mask [S, L] -> [L, 22]."""
    one_hot = jax.nn.one_hot(msa, NUM_PROFILE_CLASSES, dtype=jnp.float32)        # [S, L, 22]
    mask = msa_mask.astype(jnp.float32)[..., None]                                 # [S, L, 1]
    return jnp.sum(mask * one_hot, axis=0) / (jnp.sum(mask, axis=0) + PROFILE_EPSILON)


def sample_logits(msa_mask: jnp.ndarray, cluster_bias_mask: jnp.ndarray) -> jnp.ndarray:
    """Row logits before the Gumbel noise: +1e6 for the query rows, -1e6 for empty rows. [S]"""
    has_residue = jnp.clip(jnp.sum(msa_mask.astype(jnp.float32), axis=-1), 0.0, 1.0)
    return (has_residue - 1.0) * CLUSTER_LOGIT + cluster_bias_mask.astype(jnp.float32) * CLUSTER_LOGIT


def sample_order(msa_mask: jnp.ndarray, cluster_bias_mask: jnp.ndarray, uniform: jnp.ndarray) -> jnp.ndarray:
    """Row permutation [S] (int32): descending logits + Gumbel noise. Ties (padding rows only,
    which are identical) may be ordered either way."""
    keys = sample_logits(msa_mask, cluster_bias_mask) + gumbel_noise(uniform)
    return jnp.argsort(-keys).astype(jnp.int32)


SAMPLED_KEYS = ("msa", "deletion_matrix", "msa_mask", "bert_mask")


def sample_msa(batch: Mapping[str, jnp.ndarray], uniform: jnp.ndarray, num_msa: int) -> dict[str, jnp.ndarray]:
    """Split the MSA rows into ``num_msa`` clusters and the extra MSA.

    batch: ``msa``, ``deletion_matrix``, ``msa_mask``, ``bert_mask`` [S, L] and
    ``cluster_bias_mask`` [S]; uniform [S]. Returns the clusters under the same
    names, all other rows (in sampled order) as ``extra_msa``,
    ``extra_deletion_matrix``, ``extra_msa_mask``, ``extra_bert_mask``, and
    ``index_order`` [S] (position k holds input row ``index_order[k]``).
    """
    order = sample_order(batch["msa_mask"], batch["cluster_bias_mask"], uniform)
    clusters, extra = order[:num_msa], order[num_msa:]
    out = {"index_order": order}
    for key in SAMPLED_KEYS:
        out[key] = jnp.take(batch[key], clusters, axis=0)
        extra_name = "extra_msa" if key == "msa" else f"extra_{key}"
        out[extra_name] = jnp.take(batch[key], extra, axis=0)
    return out


def replacement_probabilities(msa: jnp.ndarray, msa_profile: jnp.ndarray,
                              settings: MaskedMsaConfig) -> jnp.ndarray:
    """The BERT replacement mixture [N, L, 23]: uniform over the 20 amino acids, the profile,
    the residue itself, and the mask token with the remaining probability."""
    uniform_aa = jnp.asarray([0.05] * 20 + [0.0, 0.0], jnp.float32)               # [22]
    probs = (settings.uniform_prob * uniform_aa + settings.profile_prob * msa_profile
             + settings.same_prob * jax.nn.one_hot(msa, NUM_PROFILE_CLASSES, dtype=jnp.float32))  # [N, L, 22]
    mask_prob = 1.0 - settings.profile_prob - settings.same_prob - settings.uniform_prob
    return jnp.concatenate([probs, jnp.full(probs.shape[:-1] + (1,), mask_prob, jnp.float32)], axis=-1)


def make_masked_msa(msa: jnp.ndarray, msa_mask: jnp.ndarray, bert_mask: jnp.ndarray, msa_profile: jnp.ndarray,
                    mask_position_uniform: jnp.ndarray, gumbel_uniform: jnp.ndarray,
                    settings: MaskedMsaConfig) -> dict[str, jnp.ndarray]:
    """BERT masking of the cluster rows.

    msa [N, L] int (0..21), msa_mask / bert_mask [N, L], msa_profile [L, 22],
    uniforms [N, L] and [N, L, 23]. Returns ``msa`` (float32, integer values, 0
    where msa_mask is 0), ``bert_mask`` (only where masked), ``true_msa`` (int32,
    the input) and ``gumbel_sample`` (the replacement residue of every position).
    """
    msa_mask = msa_mask.astype(jnp.float32)
    mask_position = (mask_position_uniform < settings.replace_fraction).astype(jnp.float32) * msa_mask
    logits = jnp.log(replacement_probabilities(msa, msa_profile, settings) + GUMBEL_EPSILON)
    sample = jnp.argmax(logits + gumbel_noise(gumbel_uniform), axis=-1).astype(jnp.int32)  # [N, L]
    masked = jnp.where(mask_position > 0, sample, msa).astype(jnp.float32) * msa_mask
    return {"msa": masked, "bert_mask": bert_mask.astype(jnp.float32) * mask_position,
            "true_msa": msa.astype(jnp.int32), "gumbel_sample": sample}


# --------------------------------------------------------------------------- features

def nearest_neighbor_clusters(msa: jnp.ndarray, msa_mask: jnp.ndarray, deletion_matrix: jnp.ndarray,
                              extra_msa: jnp.ndarray, extra_msa_mask: jnp.ndarray,
                              extra_deletion_matrix: jnp.ndarray,
                              gap_agreement_weight: float = 0.0) -> dict[str, jnp.ndarray]:
    """Soft assignment of every extra row to the clusters it agrees with.

    Agreement of extra row e and cluster n: the number of positions where both
    are unmasked and hold the same residue (amino acids and X count 1, gaps
    ``gap_agreement_weight``, the mask token 0). The assignment is the softmax
    over clusters of 1e3 * agreement, zero for pairs that share no unmasked
    position. Each cluster counts itself once (its own deletion counts are
    not masked).

    msa [N, L] (0..22, may be float), extra_msa [E, L], masks and deletion
    counts alike. Returns ``cluster_profile`` [N, L, 23] and
    ``cluster_deletion_mean`` [N, L] (raw deletion counts).
    """
    weights = jnp.asarray([1.0] * 21 + [gap_agreement_weight, 0.0], jnp.float32)  # [23]
    msa_mask = msa_mask.astype(jnp.float32)
    extra_msa_mask = extra_msa_mask.astype(jnp.float32)
    msa_one_hot = msa_mask[..., None] * jax.nn.one_hot(msa.astype(jnp.int32), NUM_MSA_CLASSES)   # [N, L, 23]
    extra_one_hot = extra_msa_mask[..., None] * jax.nn.one_hot(extra_msa.astype(jnp.int32),
                                                               NUM_MSA_CLASSES)                 # [E, L, 23]
    agreement = jnp.einsum("nlc,elc->ne", msa_one_hot * weights, extra_one_hot)  # [N, E]
    assignment = jax.nn.softmax(AGREEMENT_SCALE * agreement, axis=0)              # over clusters
    assignment = assignment * jnp.einsum("nl,el->ne", msa_mask, extra_msa_mask)   # [N, E]
    count = jnp.sum(assignment, axis=-1) + 1.0                                    # [N]
    profile = jnp.einsum("ne,elc->nlc", assignment, extra_one_hot) + msa_one_hot  # [N, L, 23]
    # the cluster's own deletions enter unmasked (as AlphaFold-Multimer computes them)
    deletions = (jnp.einsum("ne,el->nl", assignment, extra_msa_mask * extra_deletion_matrix)
                 + deletion_matrix.astype(jnp.float32))                           # [N, L]
    return {"cluster_profile": profile / count[:, None, None],
            "cluster_deletion_mean": deletions / count[:, None]}


def deletion_value(deletions: jnp.ndarray) -> jnp.ndarray:
    """Deletion counts squashed to [0, 1): atan(d / 3) * 2 / pi."""
    return jnp.arctan(deletions / 3.0) * (2.0 / np.pi)


def create_msa_feat(msa: jnp.ndarray, deletion_matrix: jnp.ndarray, cluster_profile: jnp.ndarray,
                    cluster_deletion_mean: jnp.ndarray) -> jnp.ndarray:
    """Cluster features [N, L, 49]: one_hot(msa, 23), has_deletion, deletion value,
    cluster profile (23), cluster deletion mean (squashed)."""
    deletion_matrix = deletion_matrix.astype(jnp.float32)
    return jnp.concatenate([
        jax.nn.one_hot(msa.astype(jnp.int32), NUM_MSA_CLASSES, dtype=jnp.float32),
        jnp.clip(deletion_matrix, 0.0, 1.0)[..., None],
        deletion_value(deletion_matrix)[..., None],
        cluster_profile.astype(jnp.float32),
        deletion_value(cluster_deletion_mean.astype(jnp.float32))[..., None],
    ], axis=-1)


def create_extra_msa_feature(extra_msa: jnp.ndarray, extra_deletion_matrix: jnp.ndarray,
                             extra_msa_mask: jnp.ndarray, num_extra_msa: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Features of the first ``num_extra_msa`` extra rows: ([E', L, 25], mask [E', L])."""
    extra_msa = extra_msa[:num_extra_msa]
    deletions = extra_deletion_matrix[:num_extra_msa].astype(jnp.float32)
    feat = jnp.concatenate([
        jax.nn.one_hot(extra_msa.astype(jnp.int32), NUM_MSA_CLASSES, dtype=jnp.float32),
        jnp.clip(deletions, 0.0, 1.0)[..., None],
        deletion_value(deletions)[..., None],
    ], axis=-1)
    return feat, extra_msa_mask[:num_extra_msa].astype(jnp.float32)


# --------------------------------------------------------------------------- one iteration

def msa_features(batch: Mapping[str, jnp.ndarray], draws: SamplingDraws, num_msa: int, num_extra_msa: int,
                 settings: MaskedMsaConfig) -> dict[str, jnp.ndarray]:
    """Everything the MSA embedding of one iteration reads, from the full MSA and the draws.

    batch: ``msa`` [S, L] (0..21), ``deletion_matrix``, ``msa_mask``,
    ``bert_mask`` [S, L], ``cluster_bias_mask`` [S]. Returns ``msa_feat``
    [N, L, 49], ``msa_mask`` [N, L], ``extra_msa_feat`` [E', L, 25],
    ``extra_msa_mask`` [E', L], and the intermediates (``msa_profile``,
    ``index_order``, ``true_msa``, ``bert_mask``, ``masked_msa``,
    ``gumbel_sample``, ``cluster_profile``, ``cluster_deletion_mean``).
    """
    profile = make_msa_profile(batch["msa"], batch["msa_mask"])
    sampled = sample_msa(batch, draws.sample_uniform, num_msa)
    masked = make_masked_msa(sampled["msa"], sampled["msa_mask"], sampled["bert_mask"], profile,
                             draws.mask_position_uniform, draws.gumbel_uniform, settings)
    clusters = nearest_neighbor_clusters(masked["msa"], sampled["msa_mask"], sampled["deletion_matrix"],
                                         sampled["extra_msa"], sampled["extra_msa_mask"],
                                         sampled["extra_deletion_matrix"])
    msa_feat = create_msa_feat(masked["msa"], sampled["deletion_matrix"], clusters["cluster_profile"],
                               clusters["cluster_deletion_mean"])
    extra_feat, extra_mask = create_extra_msa_feature(sampled["extra_msa"], sampled["extra_deletion_matrix"],
                                                      sampled["extra_msa_mask"], num_extra_msa)
    return {"msa_feat": msa_feat, "msa_mask": sampled["msa_mask"].astype(jnp.float32),
            "extra_msa_feat": extra_feat, "extra_msa_mask": extra_mask,
            "msa_profile": profile, "index_order": sampled["index_order"], "true_msa": masked["true_msa"],
            "bert_mask": masked["bert_mask"], "masked_msa": masked["msa"], "gumbel_sample": masked["gumbel_sample"],
            **clusters}
