"""MSA steps of AlphaFold2's eval-mode processing, in numpy (float32 like the reference).

All arrays here use the AlphaFold residue order (20 = X, 21 = gap, 22 = mask token).
An "MSA block" is a dict with ``msa`` [N, L] int32, ``deletion_matrix`` [N, L]
float32, ``msa_mask`` [N, L] float32 and ``msa_row_mask`` [N] float32 (plus
``bert_mask``/``true_msa`` after masking).
"""

from __future__ import annotations

import numpy as np

from foldkit.features.config import FeatureConfig

NUM_MSA_TOKENS = 23          # 20 amino acids, X, gap, mask
MSA_KEYS = ("msa", "deletion_matrix", "msa_mask", "msa_row_mask", "bert_mask", "true_msa")
_TWO_OVER_PI = np.float32(2.0 / np.pi)


def one_hot(indices: np.ndarray, depth: int) -> np.ndarray:
    """float32 one-hot along a new last axis."""
    indices = np.asarray(indices)
    out = np.zeros(indices.shape + (depth,), dtype=np.float32)
    np.put_along_axis(out, indices[..., None].astype(np.intp), np.float32(1.0), axis=-1)
    return out


def deletion_transform(deletions: np.ndarray) -> np.ndarray:
    """atan(d / 3) * 2 / pi in float32."""
    return np.arctan(deletions.astype(np.float32) / np.float32(3.0)) * _TWO_OVER_PI


def permutation(rng: np.random.Generator, count: int, shuffle: bool) -> np.ndarray:
    """A random permutation of range(count), or the identity when ``shuffle`` is off."""
    return rng.permutation(count) if shuffle else np.arange(count)


def sample_msa(block: dict, max_clusters: int, rng: np.random.Generator, shuffle: bool
               ) -> tuple[dict, dict]:
    """Split rows into cluster centres (query first + random others) and the extra rest."""
    num_seq = block["msa"].shape[0]
    order = np.concatenate([[0], 1 + permutation(rng, num_seq - 1, shuffle)]).astype(np.int64)
    num_sel = min(max_clusters, num_seq)
    chosen, rest = order[:num_sel], order[num_sel:]
    clusters = {k: v[chosen] for k, v in block.items() if k in MSA_KEYS}
    extra = {k: v[rest] for k, v in block.items() if k in MSA_KEYS}
    return clusters, extra


def make_masked_msa(clusters: dict, hhblits_profile: np.ndarray, config: FeatureConfig,
                    rng: np.random.Generator) -> dict:
    """BERT-style corruption of the cluster rows (``bert_mask``, ``true_msa``, new ``msa``)."""
    msa = clusters["msa"]
    fraction = config.masked_msa_replace_fraction
    out = dict(clusters, true_msa=msa)
    if fraction <= 0.0:
        out["bert_mask"] = np.zeros(msa.shape, dtype=np.float32)
        return out
    random_aa = np.array([0.05] * 20 + [0.0, 0.0], dtype=np.float32)               # [22]
    probs = (np.float32(config.masked_msa_uniform_prob) * random_aa
             + np.float32(config.masked_msa_profile_prob) * hhblits_profile[None]
             + np.float32(config.masked_msa_same_prob) * one_hot(msa, 22))          # [N, L, 22]
    mask_prob = 1.0 - config.masked_msa_profile_prob - config.masked_msa_same_prob - config.masked_msa_uniform_prob
    probs = np.concatenate([probs, np.full(probs.shape[:-1] + (1,), mask_prob, np.float32)], axis=-1)
    cumulative = np.cumsum(probs.astype(np.float64), axis=-1)                        # [N, L, 23]
    draws = rng.random(msa.shape)[..., None] * cumulative[..., -1:]
    replacement = np.minimum((draws >= cumulative).sum(-1), NUM_MSA_TOKENS - 1).astype(np.int32)
    position = rng.random(msa.shape) < fraction
    out["msa"] = np.where(position, replacement, msa).astype(np.int32)
    out["bert_mask"] = position.astype(np.float32)
    return out


def nearest_neighbor_clusters(clusters: dict, extra: dict, gap_agreement_weight: float = 0.0,
                              chunk: int = 1024) -> np.ndarray:
    """[N_extra] index of the cluster centre each extra row agrees with most (first on ties)."""
    num_clusters, num_res = clusters["msa"].shape
    if extra["msa"].shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    weights = np.concatenate([np.ones(21), [gap_agreement_weight], [0.0]]).astype(np.float32)
    centres = (clusters["msa_mask"][..., None] * one_hot(clusters["msa"], NUM_MSA_TOKENS) * weights)
    centres = centres.reshape(num_clusters, num_res * NUM_MSA_TOKENS)                 # [N, L*23]
    assignment = []
    for start in range(0, extra["msa"].shape[0], chunk):
        rows = extra["msa_mask"][start:start + chunk, :, None] * one_hot(extra["msa"][start:start + chunk],
                                                                         NUM_MSA_TOKENS)
        agreement = rows.reshape(rows.shape[0], -1) @ centres.T                        # [chunk, N]
        assignment.append(np.argmax(agreement, axis=1))
    return np.concatenate(assignment)


def summarize_clusters(clusters: dict, extra: dict, assignment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cluster profile [N, L, 23] and mean deletion count [N, L] over centre + members.

    Sums of 0/1 masks and integer deletion counts are exact in any order, so the
    scatter-adds (bincount) give the reference's float32 values.
    """
    num_clusters, num_res = clusters["msa"].shape
    extra_mask = extra["msa_mask"]                                                   # [E, L]
    cell = assignment[:, None] * num_res + np.arange(num_res)[None, :]               # [E, L]

    def segment_sum(values: np.ndarray) -> np.ndarray:                               # [E, L] -> [N, L]
        sums = np.bincount(cell.ravel(), weights=values.ravel(), minlength=num_clusters * num_res)
        return sums.reshape(num_clusters, num_res).astype(np.float32)

    counts = (np.float32(1e-6) + clusters["msa_mask"]) + segment_sum(extra_mask)     # [N, L]
    token_cell = (cell * NUM_MSA_TOKENS + extra["msa"]).ravel()
    msa_sum = np.bincount(token_cell, weights=extra_mask.ravel(),
                          minlength=num_clusters * num_res * NUM_MSA_TOKENS)
    msa_sum = msa_sum.reshape(num_clusters, num_res, NUM_MSA_TOKENS).astype(np.float32)
    msa_sum = msa_sum + one_hot(clusters["msa"], NUM_MSA_TOKENS)
    profile = msa_sum / counts[..., None]
    deletion_sum = segment_sum(extra_mask * extra["deletion_matrix"]) + clusters["deletion_matrix"]
    return profile.astype(np.float32), (deletion_sum / counts).astype(np.float32)


def crop_extra(extra: dict, max_extra: int, rng: np.random.Generator, shuffle: bool) -> dict:
    """Keep at most ``max_extra`` extra rows (a random subset, or the first ones)."""
    num_seq = extra["msa"].shape[0]
    chosen = permutation(rng, num_seq, shuffle)[:min(max_extra, num_seq)]
    return {k: v[chosen] for k, v in extra.items()}


def make_msa_feat(clusters: dict, extra: dict | None, profile: np.ndarray | None,
                  deletion_mean: np.ndarray | None) -> dict:
    """``msa_feat`` [N, L, 49] and the extra-MSA deletion features."""
    parts = [one_hot(clusters["msa"], NUM_MSA_TOKENS),
             np.clip(clusters["deletion_matrix"], 0.0, 1.0)[..., None],
             deletion_transform(clusters["deletion_matrix"])[..., None]]
    if profile is not None:
        parts += [profile, deletion_transform(deletion_mean)[..., None]]
    out = {"msa_feat": np.concatenate(parts, axis=-1).astype(np.float32)}
    if extra is not None:
        out["extra_has_deletion"] = np.clip(extra["deletion_matrix"], 0.0, 1.0).astype(np.float32)
        out["extra_deletion_value"] = deletion_transform(extra["deletion_matrix"])
    return out
