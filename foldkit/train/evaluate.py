"""Evaluate a training run: predict the chains of a split and score them with foldkit.eval.

Each chain is predicted from its full sequence (and its MSA when the run
used MSAs) with deterministic features, then scored against the experimental
chain (residues matched by number): GDT_TS, TM-score, lDDT-Cα. An ideal
α-helix of the same length (CA trace, 1.5 Å rise and 100° per residue on a
2.3 Å radius) is scored the same way as a trivial baseline. Mean pLDDT is
kept for calibration (its correlation with lDDT-Cα).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Iterable

import numpy as np

from foldkit.errors import InputError
from foldkit.eval.scores import score_structures
from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features
from foldkit.model.runner import ModelRunner, RunnerConfig
from foldkit.protein import Protein
from foldkit.train import checkpoint as ckpt
from foldkit.train.config import TrainConfig
from foldkit.train.data import Chain, MsaStore, load_chains

HELIX_RISE = 1.5        # Å per residue along the axis
HELIX_RADIUS = 2.3      # Å, CA distance from the axis
HELIX_TURN = np.deg2rad(100.0)


@dataclasses.dataclass(frozen=True)
class ChainResult:
    chain_id: str
    length: int
    gdt_ts: float
    tm_score: float
    lddt_ca: float
    mean_plddt: float
    helix_gdt_ts: float
    helix_tm_score: float
    helix_lddt_ca: float


def ideal_helix(aatype: np.ndarray, residue_index: np.ndarray) -> Protein:
    """CA-only ideal α-helix with the given residue types [L] and numbers [L]."""
    length = len(aatype)
    k = np.arange(length)
    ca = np.stack([HELIX_RADIUS * np.cos(k * HELIX_TURN), HELIX_RADIUS * np.sin(k * HELIX_TURN),
                   HELIX_RISE * k], axis=-1)
    positions = np.zeros((length, 37, 3), np.float32)
    mask = np.zeros((length, 37), np.float32)
    positions[:, 1], mask[:, 1] = ca, 1.0
    return Protein(aatype=np.asarray(aatype, np.int32), atom_positions=positions, atom_mask=mask,
                   residue_index=np.asarray(residue_index, np.int32), chain_id="A")


def load_run(run_dir: str | Path) -> tuple[TrainConfig, dict, int]:
    """(config, haiku params, step) of a run folder (its latest checkpoint)."""
    run_dir = Path(run_dir)
    config_path, checkpoint_path = run_dir / "config.json", run_dir / ckpt.CHECKPOINT_NAME
    for path in (config_path, checkpoint_path):
        if not path.is_file():
            raise InputError(f"not a training run folder: {path.name} is missing", path=str(run_dir))
    try:
        config = TrainConfig.from_dict(json.loads(config_path.read_text()))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"invalid run config ({exc})", path=str(config_path)) from None
    params, meta = ckpt.params_and_meta(checkpoint_path)
    return config, params, int(meta["step"])


def chain_features(chain: Chain, msas: MsaStore, config: TrainConfig) -> dict[str, np.ndarray]:
    """Deterministic model features of a whole chain (no shuffling, no BERT masking)."""
    features = FeatureConfig(max_msa_clusters=config.data.max_msa_clusters, max_extra_msa=config.data.max_extra_msa,
                             max_templates=0, num_recycle=config.num_recycle, use_templates=False).deterministic()
    raw = make_raw_features(chain.sequence, [msas.msa(chain)], chain.chain_id, chain.residue_index)
    return process_features(raw, features, seed=0)


def predicted_protein(aatype: np.ndarray, residue_index: np.ndarray, outputs: dict) -> Protein:
    """The predicted structure with residue types [L] and numbers [L]; pLDDT in the B-factors."""
    positions = np.asarray(outputs["structure_module/final_atom_positions"], np.float32)
    mask = np.asarray(outputs["structure_module/final_atom_mask"], np.float32)
    plddt = np.asarray(outputs["confidence/plddt"], np.float32)
    return Protein(aatype=np.asarray(aatype, np.int32), atom_positions=positions, atom_mask=mask,
                   residue_index=np.asarray(residue_index, np.int32), chain_id="A",
                   b_factors=np.repeat(plddt[:, None], 37, axis=1))


def evaluate_chains(config: TrainConfig, params: dict, chains: Iterable[Chain], msas: MsaStore,
                    runner: RunnerConfig = RunnerConfig()) -> list[ChainResult]:
    """Predict and score every chain (and its helix baseline)."""
    model = ModelRunner(config.alphafold_config(), params, runner)
    results = []
    for chain in chains:
        outputs = model.predict(chain_features(chain, msas, config))
        native = chain.to_protein()
        scores = score_structures(predicted_protein(chain.aatype, chain.residue_index, outputs), native)
        helix = score_structures(ideal_helix(chain.aatype, chain.residue_index), native)
        results.append(ChainResult(chain.chain_id, len(chain), scores.gdt_ts, scores.tm_score, scores.lddt_ca,
                                   float(np.mean(outputs["confidence/plddt"])), helix.gdt_ts, helix.tm_score,
                                   helix.lddt_ca))
    return results


def summarize(results: list[ChainResult]) -> dict:
    """Means of the model and the helix baseline, and pLDDT-vs-lDDT-Cα correlation."""
    if not results:
        return {"chains": 0}
    table = {f.name: np.asarray([getattr(r, f.name) for r in results], np.float64)
             for f in dataclasses.fields(ChainResult) if f.name != "chain_id"}
    summary = {"chains": len(results)}
    for name in ("gdt_ts", "tm_score", "lddt_ca", "mean_plddt", "helix_gdt_ts", "helix_tm_score", "helix_lddt_ca"):
        summary[f"mean_{name}"] = round(float(np.mean(table[name])), 4)
    if len(results) > 2 and np.std(table["mean_plddt"]) > 0 and np.std(table["lddt_ca"]) > 0:
        summary["plddt_lddt_ca_pearson"] = round(float(np.corrcoef(table["mean_plddt"], table["lddt_ca"])[0, 1]), 4)
    return summary


def evaluate_run(run_dir: str | Path, data_dir: str | Path, split: str = "test", limit: int | None = None,
                 max_length: int | None = None) -> tuple[list[ChainResult], dict]:
    """Predict and score ``split`` with a run's latest parameters; writes ``eval_<split>.jsonl``."""
    config, params, _ = load_run(run_dir)
    chains = load_chains(data_dir, split, limit=limit, max_length=max_length)
    results = evaluate_chains(config, params, chains, MsaStore(data_dir, config.data.use_msa))
    out = Path(run_dir) / f"eval_{split}.jsonl"
    out.write_text("".join(json.dumps(dataclasses.asdict(r)) + "\n" for r in results))
    return results, summarize(results)
