"""Raw features -> model inputs, as AlphaFold2's eval-mode data pipeline does it.

``process_features(raw, config, seed)`` returns numpy arrays with a leading
batch axis B = num_ensemble * (num_recycle + 1); recycling iteration r reads
slice r. Every slice samples clusters, extra rows and BERT masks anew from one
numpy Generator seeded with ``seed``; with ``config.deterministic()`` all
slices are identical and match the reference's deterministic goldens.
"""

from __future__ import annotations

import numpy as np

from foldkit import constants as rc
from foldkit.features import msa_transforms as mt
from foldkit.features.config import FeatureConfig
from foldkit.features.raw import make_raw_features

RES, CLUST, EXTRA, TMPL = "res", "clust", "extra", "tmpl"
# Axis kinds of every processed feature (None = fixed size); used for padding.
FEATURE_AXES: dict[str, tuple] = {
    "aatype": (RES,), "residue_index": (RES,), "seq_length": (), "is_distillation": (),
    "seq_mask": (RES,), "target_feat": (RES, None),
    "msa_feat": (CLUST, RES, None), "msa_mask": (CLUST, RES), "msa_row_mask": (CLUST,),
    "bert_mask": (CLUST, RES), "true_msa": (CLUST, RES),
    "extra_msa": (EXTRA, RES), "extra_msa_mask": (EXTRA, RES), "extra_msa_row_mask": (EXTRA,),
    "extra_has_deletion": (EXTRA, RES), "extra_deletion_value": (EXTRA, RES),
    "atom14_atom_exists": (RES, None), "residx_atom14_to_atom37": (RES, None),
    "residx_atom37_to_atom14": (RES, None), "atom37_atom_exists": (RES, None),
    "template_aatype": (TMPL, RES), "template_all_atom_masks": (TMPL, RES, None),
    "template_all_atom_positions": (TMPL, RES, None, None), "template_sum_probs": (TMPL, None),
    "template_mask": (TMPL,), "template_pseudo_beta": (TMPL, RES, None),
    "template_pseudo_beta_mask": (TMPL, RES),
}


def hhblits_to_af_order() -> np.ndarray:
    """[22] map from HHblits residue index to AlphaFold index."""
    return np.asarray(rc.table("MAP_HHBLITS_AATYPE_TO_OUR_AATYPE"), dtype=np.int32)


def _as_index(aatype: np.ndarray) -> np.ndarray:
    """aatype as indices: argmax of a one-hot [L, 21], or already [L]."""
    aatype = np.asarray(aatype)
    return (np.argmax(aatype, axis=-1) if aatype.ndim == 2 else aatype).astype(np.int32)


def atom_maps(aatype: np.ndarray) -> dict[str, np.ndarray]:
    """atom14/atom37 index maps and existence masks for each residue."""
    tables = rc.table("derived_make_atom14_masks")
    return {
        "atom14_atom_exists": np.asarray(tables["restype_atom14_mask"], np.float32)[aatype],        # [L, 14]
        "residx_atom14_to_atom37": np.asarray(tables["restype_atom14_to_atom37"], np.int32)[aatype],
        "residx_atom37_to_atom14": np.asarray(tables["restype_atom37_to_atom14"], np.int32)[aatype],
        "atom37_atom_exists": np.asarray(tables["restype_atom37_mask"], np.float32)[aatype],        # [L, 37]
    }


def process_templates(raw: dict) -> dict[str, np.ndarray]:
    """Template features in AlphaFold order with pseudo-beta (CB, CA for glycine)."""
    one_hot = np.asarray(raw["template_aatype"])                               # [T, L, 22] HHblits
    aatype = hhblits_to_af_order()[np.argmax(one_hot, axis=-1)] if one_hot.size else \
        np.zeros(one_hot.shape[:2], np.int32)
    positions = np.asarray(raw["template_all_atom_positions"], np.float32)     # [T, L, 37, 3]
    masks = np.asarray(raw["template_all_atom_masks"], np.float32)             # [T, L, 37]
    if masks.ndim == 4:
        masks = masks[..., 0]
    is_gly = (aatype == rc.RESTYPE_ORDER["G"])
    ca, cb = rc.ATOM_ORDER["CA"], rc.ATOM_ORDER["CB"]
    pseudo_beta = np.where(is_gly[..., None], positions[..., ca, :], positions[..., cb, :])
    pseudo_beta_mask = np.where(is_gly, masks[..., ca], masks[..., cb])
    return {
        "template_aatype": aatype.astype(np.int32),
        "template_all_atom_masks": masks,
        "template_all_atom_positions": positions,
        "template_sum_probs": np.asarray(raw["template_sum_probs"], np.float32).reshape(len(aatype), 1),
        "template_mask": np.ones(len(aatype), np.float32),
        "template_pseudo_beta": pseudo_beta.astype(np.float32),
        "template_pseudo_beta_mask": pseudo_beta_mask.astype(np.float32),
    }


def _non_ensembled(raw: dict, config: FeatureConfig) -> tuple[dict, dict, np.ndarray]:
    """Per-query features shared by every batch slice, the full MSA block and its profile."""
    aatype = _as_index(raw["aatype"])
    num_res = len(aatype)
    msa = hhblits_to_af_order()[np.asarray(raw["msa"], np.int64)]              # [N, L]
    deletions = raw.get("deletion_matrix", raw.get("deletion_matrix_int"))
    block = {
        "msa": msa.astype(np.int32),
        "deletion_matrix": np.asarray(deletions).astype(np.float32),           # [N, L]
        "msa_mask": np.ones(msa.shape, np.float32),
        "msa_row_mask": np.ones(msa.shape[0], np.float32),
    }
    profile = mt.one_hot(msa, 22).mean(axis=0, dtype=np.float32)              # [L, 22]
    has_break = np.clip(np.asarray(raw["between_segment_residues"], np.float32), 0.0, 1.0)
    common = {
        "aatype": aatype,
        "residue_index": np.asarray(raw["residue_index"], np.int32),
        "seq_length": np.int32(np.asarray(raw["seq_length"]).reshape(-1)[0]),
        "is_distillation": np.float32(0.0),
        "seq_mask": np.ones(num_res, np.float32),
        "target_feat": np.concatenate([has_break[:, None], mt.one_hot(aatype, 21)], axis=-1),   # [L, 22]
        **atom_maps(aatype),
    }
    if config.use_templates:
        templates = process_templates(raw) if _has_templates(raw) else _no_templates(num_res)
        num_keep = min(len(templates["template_mask"]), config.max_templates)
        common.update({k: v[:num_keep] for k, v in templates.items()})
    return common, block, profile


def _has_templates(raw: dict) -> bool:
    """Template arrays with a residue axis; AlphaFold2 gives shape (0,) arrays when no template was found."""
    return "template_aatype" in raw and np.ndim(raw["template_aatype"]) == 3


def _no_templates(num_res: int) -> dict[str, np.ndarray]:
    return process_templates({
        "template_aatype": np.zeros((0, num_res, 22), np.float32),
        "template_all_atom_positions": np.zeros((0, num_res, 37, 3), np.float32),
        "template_all_atom_masks": np.zeros((0, num_res, 37), np.float32),
        "template_sum_probs": np.zeros((0, 1), np.float32),
    })


def _ensembled(block: dict, profile: np.ndarray, config: FeatureConfig,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One batch slice of the MSA features (sampling, masking, clustering, cropping)."""
    clusters, extra = mt.sample_msa(block, config.num_clusters, rng, config.shuffle)
    clusters = mt.make_masked_msa(clusters, profile, config, rng)
    cluster_profile = deletion_mean = None
    if config.msa_cluster_features:
        assignment = mt.nearest_neighbor_clusters(clusters, extra)
        cluster_profile, deletion_mean = mt.summarize_clusters(clusters, extra, assignment)
    if config.max_extra_msa:
        extra = mt.crop_extra(extra, config.max_extra_msa, rng, config.shuffle)
    else:
        extra = None
    out = {
        "msa_mask": clusters["msa_mask"], "msa_row_mask": clusters["msa_row_mask"],
        "bert_mask": clusters["bert_mask"], "true_msa": clusters["true_msa"].astype(np.int32),
    }
    out.update(mt.make_msa_feat(clusters, extra, cluster_profile, deletion_mean))
    if extra is not None:
        out.update({"extra_msa": extra["msa"].astype(np.int32), "extra_msa_mask": extra["msa_mask"],
                    "extra_msa_row_mask": extra["msa_row_mask"]})
    return out


def pad_feature(name: str, value: np.ndarray, sizes: dict[str, int]) -> np.ndarray:
    """Zero-pad ``value`` to the fixed sizes of its axis kinds."""
    axes = FEATURE_AXES[name]
    value = np.asarray(value)
    widths = []
    for axis, kind in enumerate(axes):
        target = sizes.get(kind) if kind else None
        if target is None:
            widths.append((0, 0))
            continue
        if value.shape[axis] > target:
            raise ValueError(f"{name} has {value.shape[axis]} entries on axis {axis}, more than {target}")
        widths.append((0, target - value.shape[axis]))
    return np.pad(value, widths) if any(w[1] for w in widths) else value


def process_features(raw: dict, config: FeatureConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Model inputs [B, ...] from raw features (see module docstring)."""
    common, block, profile = _non_ensembled(raw, config)
    num_res = len(common["aatype"])
    crop_size = config.crop_size or num_res
    if crop_size < num_res:
        raise ValueError(f"crop_size {crop_size} is shorter than the query ({num_res} residues)")
    sizes = {RES: crop_size, CLUST: config.num_clusters, EXTRA: config.max_extra_msa,
             TMPL: config.max_templates}
    rng = np.random.default_rng(seed)
    slices = []
    ensemble = None
    for index in range(config.num_batch):
        if ensemble is None or config.resample_msa_in_recycling:
            ensemble = _ensembled(block, profile, config, rng)
        features = dict(common, **ensemble)
        slices.append({k: pad_feature(k, v, sizes) for k, v in features.items()})
    return {k: np.stack([s[k] for s in slices]) for k in slices[0]}


def featurize(sequence: str, msas, config: FeatureConfig, seed: int = 0, description: str = "query",
              template_features: dict | None = None, residue_index: np.ndarray | None = None
              ) -> dict[str, np.ndarray]:
    """Query + MSAs (+ template raw features) -> model inputs in one call."""
    raw = make_raw_features(sequence, msas, description, residue_index, template_features)
    return process_features(raw, config, seed)
