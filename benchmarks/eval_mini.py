"""foldkit-mini evaluation: the train-data test split and CASP14, against an ideal-helix baseline.

    python benchmarks/eval_mini.py --params foldkit/params/mini.npz [--config mini.json]
        [--split test] [--test-limit N] [--max-length L] [--subset nr40] [--casp-max-length 400]
        [--test-msa] [--out benchmarks/mini_eval.json] [--markdown benchmarks/mini_eval.md]

(1) Every chain of the training data's ``--split`` (default ``test``) is
predicted from its sequence (single sequence unless ``--test-msa``: then the
data set's MSA, as a run with ``data.use_msa`` was trained) and scored against
its experimental chain. (2) Every CASP14 target in ``shared/casp`` with a
native file and at most ``--casp-max-length`` residues is predicted from its
FASTA sequence, single sequence, and scored against every evaluation-unit
native (``natives/<T>-D<n>.pdb``) and against the whole-target native where
CASP scored whole targets (``domains.tsv``: empty domain, official_scores yes).
Residues are matched by number (natives are numbered by the target sequence).

The baseline is an ideal α-helix CA trace of the same sequence and numbering
(:func:`foldkit.train.evaluate.ideal_helix`), scored the same way; it never
sees the model. Features are deterministic (no shuffling, no masking, seed 0)
and the bootstrap has a fixed seed, so every score is reproducible.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from scipy import stats
from tqdm import tqdm

from foldkit.errors import FoldkitError, InputError
from foldkit.eval.scores import score_structures
from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features
from foldkit.io.fasta import read_fasta
from foldkit.io.msa_files import Msa
from foldkit.io.structure import read_structure
from foldkit.model.config import AlphaFoldConfig
from foldkit.model.runner import ModelRunner, RunnerConfig
from foldkit.predict.models import ModelChoice, read_sidecar_config, sidecar_path
from foldkit.protein import Protein
from foldkit.train.config import TrainConfig
from foldkit.train.data import Chain, MsaStore, load_chains
from foldkit.train.evaluate import ideal_helix, predicted_protein

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
WHOLE_TARGET = "whole"           # category of whole-target units
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0
EXTREMES = 5                      # best / worst units listed per set
METRICS = ("gdt_ts", "tm_score", "lddt_ca")


# --------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True)
class LoadedModel:
    """A network ready to run: config, haiku params, the eval feature settings, where it came from."""

    name: str
    config: AlphaFoldConfig
    params: dict
    features: FeatureConfig
    params_path: Path
    config_path: Path


@dataclasses.dataclass(frozen=True)
class Prediction:
    """A predicted structure (numbered like its input) with per-residue pLDDT."""

    protein: Protein
    plddt: np.ndarray          # [L] 0-100
    seconds: float             # model time
    compiled: bool             # the first call of a length bucket: ``seconds`` includes jit compilation


@dataclasses.dataclass(frozen=True)
class CaspUnit:
    """One CASP14 evaluation unit: a domain (D1..) or the whole target."""

    unit: str                  # "T1030-D1" or "T1030"
    category: str              # FM, FM/TBM, TBM-easy, TBM-hard or "whole"
    native_path: Path


@dataclasses.dataclass(frozen=True)
class CaspTarget:
    target: str
    sequence: str
    units: tuple[CaspUnit, ...]


@dataclasses.dataclass(frozen=True)
class UnitResult:
    """Scores of the model and of the helix baseline on one chain / evaluation unit."""

    set: str                   # "test", "casp14_domains" or "casp14_whole"
    name: str                  # chain id or CASP unit
    target: str                # chain id or CASP target
    category: str              # "" for the test split
    length: int                # residues predicted (sequence length)
    n_native: int              # residues with CA in the native
    gdt_ts: float
    tm_score: float
    lddt_ca: float
    mean_plddt: float          # over the residues the native has (with CA)
    helix_gdt_ts: float
    helix_tm_score: float
    helix_lddt_ca: float
    seconds: float             # model time of the prediction (shared by the units of one CASP target)
    compiled: bool             # ``seconds`` includes jit compilation

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in dataclasses.asdict(self).items()}


# --------------------------------------------------------------------------- model


def load_model(params_path: str | Path, config_path: str | Path | None = None) -> LoadedModel:
    """A parameter npz and its AlphaFold ``{"data", "model"}`` config (default: the sidecar ``.json``).

    Features as ``foldkit predict`` makes them from the config's ``data`` tree
    (MSA sizes, recycles; no template hits: a template model gets empty
    template slots), processed deterministically.
    """
    params_path = Path(params_path)
    config_path = Path(config_path) if config_path else sidecar_path(params_path)
    if not params_path.is_file():
        raise InputError("parameter file not found", path=str(params_path))
    if not config_path.is_file():
        raise InputError("model config not found (pass --config or put a sidecar .json next to the params)",
                         path=str(config_path))
    name = params_path.stem.removeprefix("params_")
    config, data_tree = read_model_config(config_path, name)
    choice = ModelChoice(name, params_path, config, data_tree, str(config_path))
    params = choice.load_params()
    return LoadedModel(name, config, params, eval_feature_config(config, data_tree), params_path, config_path)


def read_model_config(path: Path, name: str) -> tuple[AlphaFoldConfig, dict]:
    """(config, data tree) of a sidecar ``{"data", "model"}`` JSON or of a training config (``foldkit train``)."""
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        content = None            # read_sidecar_config reports it with file, line and column
    if isinstance(content, dict) and "model_preset" in content:
        try:
            tree = TrainConfig.from_dict(content).model_tree()
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"invalid training config: {exc}", path=str(path)) from None
        return AlphaFoldConfig.from_dict(tree, name=name), tree["data"]
    return read_sidecar_config(path, name)


def eval_feature_config(config: AlphaFoldConfig, data_tree: dict) -> FeatureConfig:
    """Deterministic feature settings of a model config (its MSA sizes, recycles and template slots)."""
    return FeatureConfig.from_data_config(data_tree, num_recycle=config.model.num_recycle).deterministic()


class Predictor:
    """Runs one loaded model on sequences; remembers which length buckets are compiled (for timings)."""

    def __init__(self, model: LoadedModel, runner: RunnerConfig | None = None):
        self.model = model
        self.runner = ModelRunner(model.config, model.params, runner or RunnerConfig())
        self.compiled_buckets: set[int] = set()

    def __call__(self, sequence: str, residue_index: np.ndarray, msa: Msa | None = None) -> Prediction:
        """Predict one sequence; the structure carries ``residue_index`` (the native's numbering)."""
        bucket = self.runner.runner.bucket_for(len(sequence))
        compiled = bucket not in self.compiled_buckets
        self.compiled_buckets.add(bucket)
        return predict(self.runner, self.model, sequence, residue_index, msa, compiled)


def model_outputs(runner: ModelRunner, model: LoadedModel, sequence: str, residue_index: np.ndarray,
                  msa: Msa | None = None) -> tuple[dict, dict]:
    """(features, network outputs) of one sequence with deterministic features (seed 0)."""
    raw = make_raw_features(sequence, [msa or Msa.single_sequence(sequence, "query")], "query", residue_index)
    features = process_features(raw, model.features, seed=0)
    return features, runner.predict(features)


def predict(runner: ModelRunner, model: LoadedModel, sequence: str, residue_index: np.ndarray,
            msa: Msa | None = None, compiled: bool = False) -> Prediction:
    """Predict one sequence with deterministic features (seed 0), numbered by ``residue_index``."""
    features, outputs = model_outputs(runner, model, sequence, residue_index, msa)
    plddt = np.asarray(outputs["confidence/plddt"], np.float32)                        # [L]
    protein = predicted_protein(features["aatype"][0], residue_index, outputs)
    return Prediction(protein, plddt, float(runner.last_timings["model_seconds"]), compiled)


def helix_baseline(sequence_aatype: np.ndarray, residue_index: np.ndarray) -> Protein:
    """The ideal α-helix of a sequence (depends only on its length, residue types and numbers)."""
    return ideal_helix(sequence_aatype, residue_index)


def score_unit(set_name: str, name: str, target: str, category: str, prediction: Prediction, helix: Protein,
               native: Protein) -> UnitResult:
    """Model and helix scored against one native (residues matched by number)."""
    model_scores = score_structures(prediction.protein, native, model_name=name, native_name=f"{name} native")
    helix_scores = score_structures(helix, native, model_name=f"{name} helix", native_name=f"{name} native")
    observed = set(native.residue_index[native.ca_mask > 0].tolist())
    in_native = np.isin(prediction.protein.residue_index, list(observed))
    mean_plddt = float(np.mean(prediction.plddt[in_native])) if in_native.any() else float("nan")
    return UnitResult(set_name, name, target, category, len(prediction.protein), model_scores.n_native,
                      model_scores.gdt_ts, model_scores.tm_score, model_scores.lddt_ca, mean_plddt,
                      helix_scores.gdt_ts, helix_scores.tm_score, helix_scores.lddt_ca, prediction.seconds,
                      prediction.compiled)


# --------------------------------------------------------------------------- the two sets


class ResultCache:
    """Finished units of an interrupted run: JSONL, one UnitResult per line, tagged with what it depends on.

    Lines with another tag (other parameters, config or test features) and
    lines cut short by an interruption are ignored. ``path`` None: keeps nothing.
    """

    def __init__(self, path: Path | None, tag: dict):
        self.path = path
        self.tag = tag
        self.done: dict[tuple[str, str], UnitResult] = {}
        if path is None or not path.is_file():
            return
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
                if record.pop("tag") == tag:
                    result = UnitResult(**record)
                    self.done[(result.set, result.name)] = result
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                continue

    def get(self, set_name: str, name: str) -> UnitResult | None:
        return self.done.get((set_name, name))

    def add(self, result: UnitResult) -> None:
        self.done[(result.set, result.name)] = result
        if self.path is not None:
            with self.path.open("a") as handle:
                handle.write(json.dumps({"tag": self.tag, **dataclasses.asdict(result)}) + "\n")


def evaluate_test_split(predictor: Predictor, chains: Sequence[Chain], msas: MsaStore | None,
                        progress: bool = True, cache: ResultCache | None = None
                        ) -> tuple[list[UnitResult], list[dict]]:
    """Predict and score each chain (``msas`` None: single sequence); (results, skipped chains with the reason).

    Chains in ``cache`` are not predicted again.
    """
    cache = cache or ResultCache(None, {})
    results, skipped = [], []
    for chain in tqdm(chains, desc="test split", unit="chain", disable=not progress):
        result = cache.get("test", chain.chain_id)
        if result is None:
            msa = msas.msa(chain) if msas is not None else None
            prediction = predictor(chain.sequence, chain.residue_index, msa)
            helix = helix_baseline(chain.aatype, chain.residue_index)
            try:
                result = score_unit("test", chain.chain_id, chain.chain_id, "", prediction, helix,
                                    chain.to_protein())
            except InputError as exc:
                skipped.append({"unit": chain.chain_id, "reason": str(exc)})
                continue
            cache.add(result)
        results.append(result)
    return results, skipped


def casp_targets(casp_dir: str | Path, max_length: int | None = 400) -> list[CaspTarget]:
    """CASP14 targets with a sequence, at most ``max_length`` residues, and at least one native unit.

    Units: every domain row of ``domains.tsv`` whose native file exists, and the
    whole target where CASP scored it (empty domain, ``official_scores`` yes).
    """
    casp_dir = Path(casp_dir)
    table = casp_dir / "domains.tsv"
    try:
        with table.open(newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError as exc:
        raise InputError(f"cannot read the CASP domain table ({exc.strerror})", path=str(table)) from None
    need = {"target", "domain", "unit", "classification", "native_file", "official_scores"}
    if not rows or not need <= set(rows[0]):
        raise InputError(f"domains.tsv needs tab-separated columns {sorted(need)}", path=str(table), line=1)
    units: dict[str, list[CaspUnit]] = {}
    for row in rows:
        native = (row["native_file"] or "").strip()
        if not native or not (casp_dir / native).is_file():
            continue
        if row["domain"].strip():
            units.setdefault(row["target"], []).append(CaspUnit(row["unit"], row["classification"], casp_dir / native))
        elif row["official_scores"].strip() == "yes":
            units.setdefault(row["target"], []).append(CaspUnit(row["unit"], WHOLE_TARGET, casp_dir / native))
    targets = []
    for target in sorted(units):
        fasta = casp_dir / "targets" / f"{target}.fasta"
        if not fasta.is_file():
            continue
        sequence = read_fasta(fasta)[0].sequence
        if max_length is None or len(sequence) <= max_length:
            ordered = sorted(units[target], key=lambda u: (u.category == WHOLE_TARGET, u.unit))
            targets.append(CaspTarget(target, sequence, tuple(ordered)))
    return targets


def _casp_set(unit: CaspUnit) -> str:
    return "casp14_whole" if unit.category == WHOLE_TARGET else "casp14_domains"


def evaluate_casp(predictor: Predictor, targets: Iterable[CaspTarget], progress: bool = True,
                  cache: ResultCache | None = None) -> tuple[list[UnitResult], list[dict]]:
    """Predict each target once, score it on each of its units; (results, skipped units with the reason).

    A target whose units are all in ``cache`` is not predicted again.
    """
    cache = cache or ResultCache(None, {})
    results, skipped = [], []
    for target in tqdm(list(targets), desc="CASP14", unit="target", disable=not progress):
        cached = [cache.get(_casp_set(unit), unit.unit) for unit in target.units]
        if all(r is not None for r in cached):
            results += cached
            continue
        numbering = np.arange(1, len(target.sequence) + 1)      # natives follow the target sequence
        prediction = predictor(target.sequence, numbering)
        helix = helix_baseline(prediction.protein.aatype, numbering)
        for unit in target.units:
            try:
                native = read_structure(unit.native_path)
                result = score_unit(_casp_set(unit), unit.unit, target.target, unit.category, prediction, helix,
                                    native)
            except InputError as exc:
                skipped.append({"unit": unit.unit, "reason": str(exc)})
                continue
            cache.add(result)
            results.append(result)
    return results, skipped


# --------------------------------------------------------------------------- statistics


def _column(results: Sequence[UnitResult], name: str) -> np.ndarray:
    return np.asarray([getattr(r, name) for r in results], np.float64)


def paired_difference(model: np.ndarray, helix: np.ndarray, samples: int = BOOTSTRAP_SAMPLES,
                      seed: int = BOOTSTRAP_SEED) -> dict:
    """Mean of model - helix with a bootstrap 95% interval and a two-sided Wilcoxon signed-rank p-value."""
    diff = model - helix
    out = {"mean_difference": round(float(diff.mean()), 4)}
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(samples, len(diff)))].mean(axis=1)
    out["bootstrap_ci95"] = [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)]
    if len(diff) >= 2 and np.any(diff != 0):
        out["wilcoxon_p"] = float(f"{stats.wilcoxon(model, helix).pvalue:.3g}")
    else:
        out["wilcoxon_p"] = None
    return out


def summarize(results: Sequence[UnitResult]) -> dict:
    """n, means of model and helix, win fraction on TM, paired TM statistic, pLDDT calibration, timing."""
    if not results:
        return {"n": 0}
    summary: dict = {"n": len(results)}
    for metric in METRICS:
        summary[f"mean_{metric}"] = round(float(_column(results, metric).mean()), 4)
        summary[f"mean_helix_{metric}"] = round(float(_column(results, f"helix_{metric}").mean()), 4)
    tm, helix_tm = _column(results, "tm_score"), _column(results, "helix_tm_score")
    summary["fraction_beats_helix_tm"] = round(float(np.mean(tm > helix_tm)), 4)
    summary["tm_vs_helix"] = paired_difference(tm, helix_tm)
    summary["gdt_ts_vs_helix"] = paired_difference(_column(results, "gdt_ts"), _column(results, "helix_gdt_ts"))
    plddt, lddt_ca = _column(results, "mean_plddt"), _column(results, "lddt_ca")
    finite = np.isfinite(plddt) & np.isfinite(lddt_ca)
    summary["mean_plddt"] = round(float(plddt[finite].mean()), 4) if finite.any() else None
    if finite.sum() > 2 and np.std(plddt[finite]) > 0 and np.std(lddt_ca[finite]) > 0:
        summary["plddt_lddt_ca_pearson"] = round(float(stats.pearsonr(plddt[finite], lddt_ca[finite])[0]), 4)
        summary["plddt_lddt_ca_spearman"] = round(float(stats.spearmanr(plddt[finite], lddt_ca[finite])[0]), 4)
    else:
        summary["plddt_lddt_ca_pearson"] = summary["plddt_lddt_ca_spearman"] = None
    warm = [r.seconds for r in results if not r.compiled]
    summary["mean_seconds"] = round(float(np.mean(warm)), 3) if warm else None   # compilation excluded
    summary["mean_seconds_per_100_residues"] = (
        round(float(np.mean([100 * r.seconds / r.length for r in results if not r.compiled])), 3) if warm else None)
    return summary


def extremes(results: Sequence[UnitResult], count: int = EXTREMES) -> dict:
    """The ``count`` best and worst units by model TM-score (ties by name)."""
    ranked = sorted(results, key=lambda r: (-r.tm_score, r.name))
    pick = ("name", "category", "length", "tm_score", "helix_tm_score", "gdt_ts", "lddt_ca", "mean_plddt")

    def row(result: UnitResult) -> dict:
        return {k: v for k, v in result.to_dict().items() if k in pick}

    n_best = min(count, (len(ranked) + 1) // 2)                 # small sets: split, never list a unit twice
    n_worst = min(count, len(ranked) - n_best)
    return {"best": [row(r) for r in ranked[:n_best]], "worst": [row(r) for r in ranked[::-1][:n_worst]]}


def report(results: Sequence[UnitResult]) -> dict:
    """Summaries per set, CASP domains by category, best and worst units per set."""
    sets = list(dict.fromkeys(r.set for r in results))
    by_set = {s: [r for r in results if r.set == s] for s in sets}
    domains = by_set.get("casp14_domains", [])
    categories = sorted({r.category for r in domains})
    return {"summaries": {s: summarize(rs) for s, rs in by_set.items()},
            "casp14_domains_by_category": {c: summarize([r for r in domains if r.category == c]) for c in categories},
            "extremes": {s: extremes(rs) for s, rs in by_set.items()}}


# --------------------------------------------------------------------------- output


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def summary_table(rows: dict[str, dict]) -> list[str]:
    """Markdown table of summaries (one row per set or category)."""
    lines = [("| set | n | GDT_TS model | GDT_TS helix | TM model | TM helix | lDDT-CA model | lDDT-CA helix | "
             "beats helix (TM) | ΔTM mean [95% CI] | Wilcoxon p | pLDDT~lDDT-CA r |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in rows.items():
        if not s.get("n"):
            lines.append(f"| {name} | 0 | | | | | | | | | | |")
            continue
        paired = s["tm_vs_helix"]
        ci = paired["bootstrap_ci95"]
        lines.append(
            f"| {name} | {s['n']} | {_fmt(s['mean_gdt_ts'], 1)} | {_fmt(s['mean_helix_gdt_ts'], 1)} | "
            f"{_fmt(s['mean_tm_score'])} | {_fmt(s['mean_helix_tm_score'])} | {_fmt(s['mean_lddt_ca'])} | "
            f"{_fmt(s['mean_helix_lddt_ca'])} | {100 * s['fraction_beats_helix_tm']:.0f}% | "
            f"{paired['mean_difference']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] | {_fmt(paired['wilcoxon_p'])} | "
            f"{_fmt(s['plddt_lddt_ca_pearson'], 2)} |")
    return lines


def _selection(meta: dict) -> str:
    """Which chains of the split were evaluated, in words."""
    parts = [f"chains of splits/{meta['subset']}.txt" if meta.get("subset") else "all chains"]
    if meta.get("max_length"):
        parts.append(f"≤ {meta['max_length']} residues")
    if meta.get("test_limit"):
        parts.append(f"the first {meta['test_limit']} in shard order")
    return ", ".join(parts)


def markdown(document: dict) -> str:
    """The evaluation as a markdown page (what the model card quotes)."""
    meta = document["meta"]
    lines = [f"# foldkit-mini evaluation ({meta['model']})", "",
             f"Command: `{meta['command']}`", "",
             (f"Parameters: `{meta['params']}` (sha256 {meta['params_sha256'][:12]}…), config `{meta['config']}`; "
             f"split `{meta['split']}` ({_selection(meta)}) features: {meta['test_features']}; CASP14 targets "
             f"≤ {meta['casp_max_length']} residues, single sequence, scored per evaluation unit. "
             "Baseline: ideal α-helix CA trace of the same length, scored the same way."),
             "", "## Summary", ""]
    lines += summary_table(document["summaries"])
    if document["casp14_domains_by_category"]:
        lines += ["", "## CASP14 domains by category", ""]
        lines += summary_table(document["casp14_domains_by_category"])
    for set_name, ends in document["extremes"].items():
        lines += ["", f"## {set_name}: best and worst by TM-score", "",
                  "| | unit | category | length | TM model | TM helix | GDT_TS | lDDT-CA | mean pLDDT |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for kind in ("best", "worst"):
            for r in ends[kind]:
                lines.append(f"| {kind} | {r['name']} | {r['category'] or '–'} | {r['length']} | "
                             f"{_fmt(r['tm_score'])} | {_fmt(r['helix_tm_score'])} | {_fmt(r['gdt_ts'], 1)} | "
                             f"{_fmt(r['lddt_ca'])} | {_fmt(r['mean_plddt'], 1)} |")
    if document["skipped"]:
        lines += ["", "## Skipped units", ""] + [f"- {s['unit']}: {s['reason']}" for s in document["skipped"]]
    timings = [f"{k} {v['mean_seconds']:.2f} s" for k, v in document["summaries"].items() if v.get("mean_seconds")]
    if timings:
        lines += ["", "Model time per prediction (mean, calls that compiled excluded): " + ", ".join(timings)]
    return "\n".join(lines) + "\n"


def build_document(meta: dict, results: Sequence[UnitResult], skipped: Sequence[dict]) -> dict:
    """The JSON document: run metadata, summaries, breakdowns, skipped units and every per-unit row."""
    return {"meta": meta, **report(results), "skipped": list(skipped), "results": [r.to_dict() for r in results]}


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# --------------------------------------------------------------------------- CLI


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", required=True, type=Path, help="parameter npz (AlphaFold layout)")
    parser.add_argument("--config", type=Path, help="model config JSON, or the training config JSON "
                        "(default: the params' sidecar .json)")
    parser.add_argument("--data", type=Path, default=SHARED_DIR / "train", help="training data folder")
    parser.add_argument("--casp", type=Path, default=SHARED_DIR / "casp", help="CASP14 folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--test-limit", type=int, help="first N chains of the split (default: all)")
    parser.add_argument("--max-length", type=int, help="skip split chains longer than this")
    parser.add_argument("--subset", help="only the split's chains listed in DATA/splits/SUBSET.txt (e.g. nr40)")
    parser.add_argument("--casp-max-length", type=int, default=400, help="skip CASP targets longer than this")
    parser.add_argument("--test-msa", action="store_true",
                        help="test split with the data set's MSAs (default: single sequence)")
    parser.add_argument("--skip-test", action="store_true")
    parser.add_argument("--skip-casp", action="store_true")
    parser.add_argument("--chunk-size", type=int, help="runner chunk size (memory; never changes results)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "mini_eval.json")
    parser.add_argument("--markdown", type=Path, help="also write the report as markdown here")
    parser.add_argument("--partial", type=Path,
                        help="finished units are appended here as they complete, and an interrupted run with the "
                             "same parameters picks them up (default: OUT with suffix .partial.jsonl; deleted "
                             "when the run completes)")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing --partial file")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, command: str) -> dict:
    """Evaluate as the arguments say; the JSON document (also written to ``args.out``)."""
    model = load_model(args.params, args.config)
    predictor = Predictor(model, RunnerConfig(chunk_size=args.chunk_size))
    test_features = "dataset MSA" if args.test_msa else "single sequence"
    params_sha256 = sha256_of(model.params_path)
    partial = args.partial or args.out.with_suffix(".partial.jsonl")
    if args.fresh and partial.is_file():
        partial.unlink()
    partial.parent.mkdir(parents=True, exist_ok=True)
    cache = ResultCache(partial, {"params_sha256": params_sha256, "config_sha256": sha256_of(model.config_path),
                                  "test_features": test_features})
    results: list[UnitResult] = []
    skipped: list[dict] = []
    if not args.skip_test:
        chains = load_chains(args.data, args.split, limit=args.test_limit, max_length=args.max_length,
                             subset=args.subset)
        msas = MsaStore(args.data) if args.test_msa else None
        test_results, skipped = evaluate_test_split(predictor, chains, msas, progress=not args.quiet, cache=cache)
        results += test_results
    if not args.skip_casp:
        casp_results, casp_skipped = evaluate_casp(predictor, casp_targets(args.casp, args.casp_max_length),
                                                   progress=not args.quiet, cache=cache)
        results += casp_results
        skipped += casp_skipped
    meta = {"model": model.name, "params": str(args.params), "params_sha256": params_sha256,
            "config": str(model.config_path), "command": command, "split": args.split,
            "test_limit": args.test_limit, "max_length": args.max_length, "subset": args.subset,
            "casp_max_length": args.casp_max_length,
            "test_features": test_features,
            "num_recycle": model.config.model.num_recycle}
    document = build_document(meta, results, skipped)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1) + "\n")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(document))
    partial.unlink(missing_ok=True)
    return document


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python benchmarks/eval_mini.py " + " ".join(sys.argv[1:] if argv is None else argv)
    start = time.perf_counter()
    try:
        document = run(args, command)
    except FoldkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(markdown(document))
    print(f"wrote {args.out}" + (f" and {args.markdown}" if args.markdown else "")
          + f" in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
