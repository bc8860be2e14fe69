"""Feature-processing settings, built from the ``data`` section of an AlphaFold2 config."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """Eval-mode data settings (AlphaFold2 names in comments).

    ``shuffle=False`` and ``masked_msa_replace_fraction=0`` reproduce the
    reference's deterministic mode (identity shuffle, no BERT masking);
    otherwise sampling is random from ``seed`` (numpy Generator).
    """

    max_msa_clusters: int = 512             # eval.max_msa_clusters (before the template reduction)
    max_extra_msa: int = 5120               # common.max_extra_msa
    max_templates: int = 4                  # eval.max_templates
    num_recycle: int = 3                    # common.num_recycle
    num_ensemble: int = 1                   # eval.num_ensemble
    resample_msa_in_recycling: bool = True  # common.resample_msa_in_recycling
    reduce_msa_clusters_by_max_templates: bool = False
    use_templates: bool = False             # common.use_templates
    msa_cluster_features: bool = True       # common.msa_cluster_features
    masked_msa_replace_fraction: float = 0.15
    masked_msa_profile_prob: float = 0.1
    masked_msa_same_prob: float = 0.1
    masked_msa_uniform_prob: float = 0.1
    subsample_templates: bool = False
    shuffle: bool = True                    # False = identity "random_shuffle" (reference deterministic mode)
    crop_size: int | None = None            # pad residues to this length (None = query length)

    @property
    def num_clusters(self) -> int:
        """Cluster rows after the template reduction (``pad_msa_clusters``)."""
        if self.reduce_msa_clusters_by_max_templates:
            return self.max_msa_clusters - self.max_templates
        return self.max_msa_clusters

    @property
    def num_batch(self) -> int:
        """Leading batch axis B = num_ensemble * (num_recycle + 1)."""
        if self.resample_msa_in_recycling:
            return self.num_ensemble * (self.num_recycle + 1)
        return self.num_ensemble

    def deterministic(self) -> "FeatureConfig":
        """The reference's deterministic mode: no shuffle, no BERT masking."""
        return dataclasses.replace(self, shuffle=False, masked_msa_replace_fraction=0.0)

    @classmethod
    def from_data_config(cls, data: Mapping[str, Any], **overrides) -> "FeatureConfig":
        """From an AlphaFold2 ``data`` dict (``{"common": ..., "eval": ...}``)."""
        common, evaluation = data["common"], data["eval"]
        masked = common.get("masked_msa", {})
        values = dict(
            max_msa_clusters=int(evaluation["max_msa_clusters"]),
            max_extra_msa=int(common["max_extra_msa"]),
            max_templates=int(evaluation["max_templates"]),
            num_recycle=int(common["num_recycle"]),
            num_ensemble=int(evaluation.get("num_ensemble", 1)),
            resample_msa_in_recycling=bool(common.get("resample_msa_in_recycling", True)),
            reduce_msa_clusters_by_max_templates=bool(common.get("reduce_msa_clusters_by_max_templates", False)),
            use_templates=bool(common.get("use_templates", False)),
            msa_cluster_features=bool(common.get("msa_cluster_features", True)),
            masked_msa_replace_fraction=float(evaluation.get("masked_msa_replace_fraction", 0.15)),
            masked_msa_profile_prob=float(masked.get("profile_prob", 0.1)),
            masked_msa_same_prob=float(masked.get("same_prob", 0.1)),
            masked_msa_uniform_prob=float(masked.get("uniform_prob", 0.1)),
            subsample_templates=bool(evaluation.get("subsample_templates", False)),
        )
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_json(cls, path: str | Path, **overrides) -> "FeatureConfig":
        """From a JSON file holding a model config (``data`` key) or a ``data`` dict."""
        content = json.loads(Path(path).read_text())
        for key in ("data", "data_config_used"):
            if key in content:
                return cls.from_data_config(content[key], **overrides)
        if "config" in content and "data" in content["config"]:
            return cls.from_data_config(content["config"]["data"], **overrides)
        return cls.from_data_config(content, **overrides)
