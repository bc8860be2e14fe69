"""Training configuration: a JSON file -> :class:`TrainConfig` (frozen dataclasses).

A config names the network as a packaged preset plus dotted-path overrides
(``{"model.embeddings_and_evoformer.evoformer_num_block": 4, ...}``), so a
trained model's config is an ordinary AlphaFold2 ``{"data", "model"}`` tree
(written next to the parameters as the sidecar ``predict`` reads). Unknown
keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping

from foldkit.errors import InputError
from foldkit.model import config as model_config


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """Learning rate: linear warm-up from 0 to ``peak``, then a decay.

    decay: ``cosine`` (to ``peak * end_factor`` at the last step), ``exponential``
    (times ``decay_rate`` every ``decay_every`` steps after warm-up) or ``constant``.
    """

    peak: float = 1e-3
    warmup_steps: int = 100
    decay: str = "cosine"
    end_factor: float = 0.05
    decay_rate: float = 0.95
    decay_every: int = 1000

    def __post_init__(self):
        if self.decay not in ("cosine", "exponential", "constant"):
            raise ValueError(f"schedule.decay must be cosine, exponential or constant, got {self.decay!r}")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """AdamW settings, global-norm clipping and gradient accumulation."""

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-6
    weight_decay: float = 0.0
    clip_norm: float = 0.1
    accumulate_steps: int = 1


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """Weights of the total loss (Jumper et al. 2021 suppl. 1.9, eq. 7, initial training).

    ``fape`` weighs the backbone FAPE averaged over the structure-module layers,
    ``sidechain_fape`` the all-atom FAPE of the last layer (together: 0.5 + 0.5),
    ``torsion`` the torsion-angle loss (0.5, averaged over layers) to which
    ``angle_norm`` (0.01) adds the angle-norm term. ``experimentally_resolved``,
    ``violation`` and ``pae`` are fine-tuning terms (0 = off).
    ``fape_clamp_fraction``: share of examples with clamped backbone FAPE (0.9).
    ``fape_unclamped_steps``: the first N optimizer steps use unclamped backbone
    FAPE for every example. From the initial structure (every frame at the
    origin) clamped FAPE gives almost no gradient: even frames optimised freely
    against one chain stall at FAPE ~0.69 clamped, but reach 0.015 unclamped.
    """

    fape: float = 0.5
    sidechain_fape: float = 0.5
    torsion: float = 0.5
    angle_norm: float = 0.01
    distogram: float = 0.3
    masked_msa: float = 2.0
    plddt: float = 0.01
    experimentally_resolved: float = 0.0
    violation: float = 0.0
    pae: float = 0.0
    fape_clamp_fraction: float = 0.9
    fape_unclamped_steps: int = 0


@dataclasses.dataclass(frozen=True)
class DataSettings:
    """What the data pipeline feeds the model.

    use_msa: read ``msas/<chain>.a3m.gz`` when present (else single sequence).
    max_msa_clusters / max_extra_msa: MSA rows given to the model (cluster
    centres, extra rows). spatial_crop_fraction: share of spatial (vs
    contiguous) crops. sample_by_cluster: draw a 30%-identity cluster
    uniformly, then a chain in it. subset: ``None`` or ``nr40`` (only chains
    in ``splits/nr40.txt``). limit: keep only the first N chains of a split
    (tests, quick runs). max_length: skip longer chains.
    """

    train_split: str = "train"
    valid_split: str = "valid"
    use_msa: bool = True
    max_msa_clusters: int = 16
    max_extra_msa: int = 32
    masked_msa_fraction: float = 0.15
    spatial_crop_fraction: float = 0.5
    sample_by_cluster: bool = True
    subset: str | None = None
    limit: int | None = None
    max_length: int | None = None
    full_atom_only: bool = False


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs besides the data folder.

    model_preset + model_overrides define the network (dotted paths into the
    AlphaFold2 config tree). num_recycle: recycling iterations in training;
    with ``sample_recycles`` each step uses a random count in 0..num_recycle
    (gradients only through the last iteration, as published).
    steps: optimizer updates (each averages ``optimizer.accumulate_steps``
    micro-batches of ``batch_size`` crops).
    """

    name: str = "run"
    model_preset: str = "model_3_ptm"
    model_overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    num_recycle: int = 1
    sample_recycles: bool = True
    crop_size: int = 64
    batch_size: int = 1
    steps: int = 1000
    seed: int = 0
    bfloat16: bool = False
    schedule: ScheduleConfig = ScheduleConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    loss: LossWeights = LossWeights()
    data: DataSettings = DataSettings()
    checkpoint_every: int = 100

    def model_tree(self) -> dict:
        """The AlphaFold2 ``{"data", "model"}`` config tree of the network being trained."""
        overrides = dict(self.model_overrides)
        overrides.setdefault("model.num_recycle", self.num_recycle)
        overrides.setdefault("data.common.num_recycle", self.num_recycle)
        overrides.setdefault("data.eval.max_msa_clusters", self.data.max_msa_clusters)
        overrides.setdefault("data.common.max_extra_msa", self.data.max_extra_msa)
        overrides.setdefault("data.eval.masked_msa_replace_fraction", self.data.masked_msa_fraction)
        return model_config.preset_dict(self.model_preset, overrides)

    def alphafold_config(self) -> model_config.AlphaFoldConfig:
        return model_config.AlphaFoldConfig.from_dict(self.model_tree(), name=self.name)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"model_overrides": dict(self.model_overrides)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
        sections = {"schedule": ScheduleConfig, "optimizer": OptimizerConfig, "loss": LossWeights,
                    "data": DataSettings}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown training config keys {unknown}")
        kwargs = dict(values)
        for key, section in sections.items():
            if key in kwargs:
                sub = dict(kwargs[key])
                bad = sorted(set(sub) - {f.name for f in dataclasses.fields(section)})
                if bad:
                    raise ValueError(f"unknown keys in '{key}': {bad}")
                kwargs[key] = section(**sub)
        config = cls(**kwargs)
        config.model_tree()   # fail early on a bad preset or override
        return config


def load_config(path: str | Path, **overrides) -> TrainConfig:
    """Read a training config JSON; InputError (file, line, column) when it is not valid."""
    path = Path(path)
    try:
        values = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"cannot read training config ({exc.strerror})", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"training config is not valid JSON ({exc.msg})", path=str(path),
                         line=exc.lineno, column=exc.colno) from None
    if not isinstance(values, dict):
        raise InputError("training config must be a JSON object", path=str(path))
    values.update(overrides)
    try:
        return TrainConfig.from_dict(values)
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"invalid training config: {exc}", path=str(path)) from None
