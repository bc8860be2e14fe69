"""End-to-end prediction of one record and of a whole FASTA file.

Order of work: records shortest first (records in one length bucket share
the compiled network), then for each record: MSA, raw features, for each
model and seed the processed features and the recycling loop, then the
ranked outputs, plots and timings, and last the ``finished.json`` marker.
Per-record files are listed in :mod:`foldkit.predict.outputs`; the run-level
``summary.csv`` is rewritten after every record.

A complex record (:attr:`RecordInput.complex`) runs the session's multimer
models on its multimer features instead (:mod:`foldkit.predict.complex_pipeline`);
ranking, relaxation, plots and the marker are shared.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features
from foldkit.io.msa_files import Msa, format_a3m, merge_msas
from foldkit.model.runner import RunnerConfig
from foldkit.predict import outputs as out
from foldkit.predict import records, saved_search
from foldkit.predict.inputs import MsaSource, RecordInput
from foldkit.predict.models import MONOMER, MULTIMER, ModelChoice, ModelSets
from foldkit.predict.recycling import CompiledIterations, run_with_recycling
from foldkit.predict.relax_step import RelaxChoice, relax_ranked

Log = Callable[[str], None]
DEFAULT_MULTIMER_PREDICTIONS = 5      # AlphaFold2 v2.3: predictions (seeds) per multimer model
COMPLEX_PLOTTED = 5                   # predictions shown in a complex's pLDDT and PAE plots (best first)


def log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclasses.dataclass(frozen=True)
class PredictSettings:
    """How predictions run (ColabFold flag names in comments)."""

    num_recycle: int | None = None               # --num-recycle (None: the model config's, 3 AF2, 20 multimer)
    recycle_early_stop_tolerance: float | None = None  # --recycle-early-stop-tolerance (Å; 0 = off; None: the
    #                                                    model config's, 0 for AF2, 0.5 for AlphaFold-Multimer)
    random_seed: int = 0                         # --random-seed
    num_seeds: int | None = None                 # --num-seeds (None: 1 per monomer model, 5 per multimer model)
    chunk_size: int | None = None                # --chunk-size
    bfloat16: bool = False                       # --bf16
    matmul_precision: str | None = None          # --matmul-precision (None: the backend's default)
    overwrite: bool = False                      # --overwrite
    relax: RelaxChoice = RelaxChoice()           # --models-to-relax (AF2) / --amber, --num-relax (ColabFold)

    @property
    def seeds(self) -> list[int]:
        """The seeds of a monomer model (see :meth:`seeds_for`)."""
        return [self.random_seed + k for k in range(self.num_seeds or 1)]

    def seeds_for(self, model: ModelChoice) -> list[int]:
        """random_seed, +1, ...: ``num_seeds`` of them, by default 1 per monomer model and 5 per multimer
        model (AlphaFold2 v2.3's ``num_multimer_predictions_per_model``)."""
        count = self.num_seeds if self.num_seeds is not None else (
            DEFAULT_MULTIMER_PREDICTIONS if model.is_multimer else 1)
        return [self.random_seed + k for k in range(count)]

    def num_recycle_for(self, model: ModelChoice) -> int:
        return model.config.model.num_recycle if self.num_recycle is None else self.num_recycle

    def tolerance_for(self, model: ModelChoice) -> float:
        """Early-stop tolerance (Å): the given one, else the multimer config's (0.5), else 0 (off)."""
        if self.recycle_early_stop_tolerance is not None:
            return self.recycle_early_stop_tolerance
        return float(model.config.model.recycle_early_stop_tolerance) if model.is_multimer else 0.0

    def resume_key(self, models: list[ModelChoice], msa_mode: str, inputs: dict | None = None) -> dict:
        """The settings a finished record must share with this run to be skipped."""
        def same_or_each(values: dict):
            distinct = {repr(v) for v in values.values()}
            return next(iter(values.values())) if len(distinct) == 1 else values

        return {"models": [m.name for m in models], "seeds": same_or_each({m.name: self.seeds_for(m) for m in models}),
                "num_recycle": {m.name: self.num_recycle_for(m) for m in models},
                "recycle_early_stop_tolerance": same_or_each({m.name: self.tolerance_for(m) for m in models}),
                "bfloat16": self.bfloat16, "msa_mode": msa_mode,
                **({"matmul_precision": self.matmul_precision} if self.matmul_precision else {}),
                **self.relax.resume_key(),
                **(inputs or {})}


class Timer:
    """Named stage durations in seconds, in the order they ran."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = round(self.seconds.get(name, 0.0) + seconds, 3)

    def stage(self, name: str):
        timer = self

        class _Stage:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timer.add(name, time.perf_counter() - self.start)
                return False

        return _Stage()


class PredictionSession:
    """Models, loaded parameters and compiled functions shared by the records of a run."""

    def __init__(self, models: list[ModelChoice] | ModelSets, settings: PredictSettings, source: MsaSource,
                 log: Log = log_to_stderr):
        models = models.all if isinstance(models, ModelSets) else list(models)
        if not models:
            raise ValueError("no model to run")
        self.models = [m for m in models if not m.is_multimer]          # single chains
        self.multimer_models = [m for m in models if m.is_multimer]     # complexes
        self.settings = settings
        self.source = source
        self.log = log
        self.compiled = CompiledIterations(RunnerConfig(chunk_size=settings.chunk_size, bfloat16=settings.bfloat16,
                                                      matmul_precision=settings.matmul_precision))
        self._params: dict[str, object] = {}
        self._database = None
        self._af2_inputs = None
        self._server_inputs = None
        self._complex_runs = None

    def models_for(self, record: RecordInput) -> list[ModelChoice]:
        """The models that run a record: multimer models for a complex, else monomer models."""
        models = self.multimer_models if record.complex is not None else self.models
        if not models:
            kind = MULTIMER if record.complex is not None else MONOMER
            raise ValueError(f"{record.describe()} needs {kind} models, and this session has none")
        return models

    def resume_key(self, record: RecordInput | None = None) -> dict:
        models = self.models_for(record) if record is not None else self.models or self.multimer_models
        kind = record.kind if record is not None else (MONOMER if self.models else MULTIMER)
        inputs = self.source.resume_description_for(kind)
        if record is not None and record.complex_msas is not None:
            inputs["msa_files"] = record.complex_msas.resume_description()
        return self.settings.resume_key(models, self.source.mode, inputs)

    @property
    def complex_runs(self):
        """The multimer side of the session (:class:`foldkit.predict.complex_pipeline.ComplexRuns`)."""
        if self._complex_runs is None:
            from foldkit.predict.complex_pipeline import ComplexRuns

            self._complex_runs = ComplexRuns(self)
        return self._complex_runs

    # ------------------------------------------------------------------ shared resources

    def server_inputs(self):
        """The --msa-server source of the run (:class:`foldkit.predict.server_msas.ServerRecordInputs`)."""
        if self._server_inputs is None:
            from foldkit.predict.server_msas import ServerRecordInputs

            self._server_inputs = ServerRecordInputs(self.source.server, self.log)
        return self._server_inputs

    def prepare(self, pending: list[tuple[RecordInput, Path]], outdir: Path | None = None) -> None:
        """Work shared by the records about to be predicted: one MSA server call for all of them."""
        if self.source.server is not None:
            self.server_inputs().fetch(pending, outdir)

    def params(self, model: ModelChoice, timer: Timer):
        if model.name not in self._params:
            with timer.stage(f"load_params_{model.name}"):
                self._params[model.name] = jax.tree.map(jnp.asarray, model.load_params())
        return self._params[model.name]

    def _search(self, record: RecordInput) -> Msa:
        from foldkit.msa.search import SequenceDatabase, search_msa

        if self._database is None:
            self._database = [SequenceDatabase.from_fasta(path) for path in self.source.databases]
        query = record.query
        return merge_msas([search_msa(query.id, query.sequence, database, progress=False)
                           for database in self._database])

    def msa_for(self, record: RecordInput, record_dir: Path | None = None) -> Msa:
        """The record's MSA: given, searched (reusing a saved search of the same query and databases), or none."""
        if record.msa is not None:
            return record.msa
        if self.source.mode != "jackhmmer":
            return Msa.single_sequence(record.query.sequence, record.query.id)
        if record_dir is None:
            return self._search(record)
        key = saved_search.search_key(record.query.sequence, self.source.databases)
        saved = saved_search.load(record_dir, key)
        if saved is not None:
            self.log(f"reusing the saved search {record_dir / saved_search.SEARCH_A3M}")
            return saved
        msa = self._search(record)
        saved_search.save(record_dir, key, msa)
        return msa

    # ------------------------------------------------------------------ one record

    def predict_record(self, record: RecordInput, record_dir: Path, prefix: str = "") -> records.SummaryRow:
        """All outputs of one record in ``record_dir`` (which must exist); returns its summary row."""
        start = time.perf_counter()
        timer = Timer()
        query = record.query
        log = lambda message: self.log(f"{prefix}{message}")  # noqa: E731
        records.clear_record_outputs(record_dir)   # leftovers of an interrupted or overwritten run

        def write_model_files(prediction: out.Prediction) -> None:
            with timer.stage("write_models"):
                self._write_prediction(record_dir, prediction)

        log(f"MSA ({self.source.mode})")
        if record.complex is not None:
            predictions, msa = self.complex_runs.predict(record, record_dir, timer, log, write_model_files)
        else:
            raw, msa = self._record_inputs(record, record_dir, timer, log, prefix)
            predictions = self.predict_features(raw, timer, log, on_prediction=write_model_files)

        with timer.stage("ranking"):
            ranked = out.rank_predictions(predictions)
        relaxed = relax_ranked(record_dir, ranked, self.settings.relax, record.folder_name, timer, log)
        with timer.stage("ranking"):
            for rank, prediction in enumerate(ranked):
                records.atomic_write_text(record_dir / f"ranked_{rank}.pdb", relaxed.pdb_text(prediction))
            records.atomic_write_text(record_dir / "ranked_0.cif", relaxed.cif_text(ranked[0], record.folder_name))
            records.atomic_write_json(record_dir / "ranking_debug.json", out.ranking_debug_json(predictions))
        with timer.stage("plots"):
            self._plots(record, record_dir, ranked, msa)
        best = ranked[0]
        total = time.perf_counter() - start
        timer.add("total", total)
        records.atomic_write_json(record_dir / "timings.json", timer.seconds)
        row = records.SummaryRow(id=query.id, length=len(query), best_model=best.name,
                                 mean_plddt=round(best.mean_plddt, 2),
                                 ptm=None if best.ptm is None else round(best.ptm, 4),
                                 seconds=round(total, 1), folder=record.folder_name,
                                 iptm=None if best.iptm is None else round(best.iptm, 4),
                                 ranking_confidence=round(best.ranking_confidence, 4))
        records.write_finished(record_dir, row, self.resume_key(record))
        log(f"done in {total:.1f} s: best {best.name}, {out.confidence_summary(best)}")
        return row

    def _record_inputs(self, record: RecordInput, record_dir: Path, timer: Timer, log: Log, prefix: str
                       ) -> tuple[dict, Msa]:
        """Raw features and MSA of a record (written as features.npz and msa.a3m)."""
        if self.source.af2 is not None or self.source.server is not None:
            from foldkit.predict.input_pipeline import Af2RecordInputs

            if self.source.server is not None:
                external = self.server_inputs()
            else:
                if self._af2_inputs is None:
                    self._af2_inputs = Af2RecordInputs(self.source.af2, self.log)
                external = self._af2_inputs
            inputs = external.features(record, record_dir, prefix)
            raw, msa = inputs.raw, inputs.msa
            for name, seconds in inputs.timings.items():
                timer.add(name, seconds)
            records.atomic_write_text(record_dir / "msa.a3m", format_a3m(msa))
            records.atomic_write_npz(record_dir / "features.npz", raw)
            return raw, msa
        with timer.stage("msa"):
            msa = self.msa_for(record, record_dir)
            records.atomic_write_text(record_dir / "msa.a3m", format_a3m(msa))
        with timer.stage("features"):
            raw = make_raw_features(record.query.sequence, [msa], description=record.query.id)
            records.atomic_write_npz(record_dir / "features.npz", raw)
        log(f"features: {len(msa)} MSA sequences")
        return raw, msa

    def predict_features(self, raw: dict, timer: Timer | None = None, log: Log | None = None,
                         on_prediction: Callable[[out.Prediction], None] | None = None) -> list[out.Prediction]:
        """Every (model, seed) prediction of one query from its raw features, in memory (no files).

        ``raw``: :func:`foldkit.features.raw.make_raw_features` of the query and its MSA.
        ``on_prediction`` is called as each prediction completes.
        """
        timer = timer or Timer()
        log = log or self.log
        predictions = []
        for model in self.models:
            params = self.params(model, timer)
            for seed in self.settings.seeds_for(model):
                prediction = self._predict_one(model, params, seed, raw, timer, log)
                if on_prediction is not None:
                    on_prediction(prediction)
                predictions.append(prediction)
        return predictions

    def predict_sequence(self, sequence: str, msa: Msa | None = None, name: str = "query") -> list[out.Prediction]:
        """Predictions of one sequence (MSA: given, else searched/single-sequence per the session's source),
        best first, without writing files."""
        from foldkit.io.fasta import Query

        record = RecordInput(Query(name, "", sequence.upper()), name, msa)
        if msa is None and (self.source.af2 is not None or self.source.server is not None):   # into a scratch folder
            import tempfile

            with tempfile.TemporaryDirectory(prefix="foldkit_af2_") as scratch:
                raw, _ = self._record_inputs(record, Path(scratch), Timer(), self.log, "")
            return out.rank_predictions(self.predict_features(raw))
        msa = self.msa_for(record)
        raw = make_raw_features(record.query.sequence, [msa], description=name)
        return out.rank_predictions(self.predict_features(raw))

    def _predict_one(self, model: ModelChoice, params, seed: int, raw: dict, timer: Timer, log: Log
                     ) -> out.Prediction:
        name = out.prediction_name(model.name, seed)
        num_recycle = self.settings.num_recycle_for(model)
        tolerance = self.settings.tolerance_for(model)
        feature_config = FeatureConfig.from_data_config(model.data_tree, num_recycle=num_recycle)
        with timer.stage(f"process_features_{name}"):
            features = process_features(raw, feature_config, seed)
        log(f"{name}: running ({num_recycle} recycles max"
            + (f", early stop below {tolerance} Å)" if tolerance > 0 else ")"))

        def on_recycle(index: int, change: float) -> None:
            log(f"{name}: recycle {index}/{num_recycle}, Cα distance change {change:.3f} Å")

        result = run_with_recycling(model.config, params, features, self.compiled, num_recycle, tolerance,
                                    on_recycle)
        if result.compile_seconds:
            timer.add(f"compile_{model.name}", result.compile_seconds)
        timer.add(f"predict_{name}", result.run_seconds)
        aatype = np.asarray(features["aatype"][0])
        num_res = aatype.shape[0]
        prediction = out.make_prediction(name, model.name, seed, result.outputs, aatype, np.arange(num_res),
                                         result.num_recycles, result.distance_changes, result.early_stopped)
        stopped = " (early stop)" if result.early_stopped else ""
        log(f"{name}: {out.confidence_summary(prediction)}, {result.num_recycles} recycles{stopped}, "
            f"{result.run_seconds:.1f} s" + (f" + {result.compile_seconds:.1f} s compile"
                                              if result.compile_seconds else ""))
        return prediction

    def _write_prediction(self, record_dir: Path, prediction: out.Prediction) -> None:
        name = prediction.name
        records.atomic_write_text(record_dir / f"{name}.pdb", out.pdb_text(prediction))
        records.atomic_write_json(record_dir / f"scores_{name}.json",
                                  out.scores_json(prediction, self.source.mode), indent=None)
        records.atomic_write_json(record_dir / f"confidence_{name}.json", out.confidence_json(prediction),
                                  indent=None)
        if prediction.pae is not None:
            records.atomic_write_json(record_dir / f"pae_{name}.json", out.pae_json(prediction), indent=None)

    def _plots(self, record: RecordInput, record_dir: Path, ranked: list[out.Prediction], msa) -> None:
        """pLDDT, PAE (chain boundaries marked for a complex) and MSA coverage plots.
        ``msa``: an Msa, or a complex's merged MSA rows [N, L]. A complex's plots show its best
        ``COMPLEX_PLOTTED`` predictions (the multimer default makes 25)."""
        from foldkit.viz.plots import figure_png, plot_msa_coverage, plot_pae, plot_plddt

        title = record.query.id
        chains = None
        if record.complex is not None:
            chains = {"chain_lengths": [len(c) for c in record.complex.chains],
                      "chain_ids": [c.chain_id for c in record.complex.chains]}
            if len(ranked) > COMPLEX_PLOTTED:
                ranked = ranked[:COMPLEX_PLOTTED]
                title = f"{title} (best {COMPLEX_PLOTTED})"
        records.atomic_write_bytes(record_dir / "plddt.png", figure_png(
            plot_plddt([(p.name, p.plddt) for p in ranked], title=f"{title}: predicted lDDT per residue",
                       **(chains or {}))))
        with_pae = [(p.name, p.pae) for p in ranked if p.pae is not None]
        if with_pae:
            max_pae = max(p.max_pae for p in ranked if p.pae is not None)
            records.atomic_write_bytes(record_dir / "pae.png", figure_png(
                plot_pae(with_pae, max_pae=max_pae, title=f"{title}: predicted aligned error", **(chains or {}))))
        records.atomic_write_bytes(record_dir / "msa_coverage.png", figure_png(
            plot_msa_coverage(msa, title=f"{title}: sequence coverage", **(chains or {}))))


# --------------------------------------------------------------------------- many records

def predict_records(inputs: list[RecordInput], outdir: Path, session: PredictionSession) -> list[records.SummaryRow]:
    """Predict every record (shortest first) into ``outdir/<folder name>``; resume finished ones.

    Returns the summary rows in input order; ``outdir/summary.csv`` is
    rewritten after every record.
    """
    settings = session.settings
    order = sorted(inputs, key=lambda r: len(r.query))   # stable: ties keep the FASTA order
    session.prepare([(r, outdir / r.folder_name) for r in order
                     if settings.overwrite or records.finished_state(outdir / r.folder_name) is None], outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, records.SummaryRow] = {}
    for number, record in enumerate(order, 1):
        record_dir = outdir / record.folder_name
        prefix = f"[{number}/{len(order)}] {record.query.id} ({len(record.query)} aa): "
        state = records.finished_state(record_dir)
        if state is not None and not settings.overwrite:
            records.check_same_settings(record_dir, state, session.resume_key(record))
            rows[record.query.id] = records.summary_row_of(state)
            session.log(f"{prefix}already finished, skipped (--overwrite to redo)")
            continue
        record_dir.mkdir(exist_ok=True)
        rows[record.query.id] = session.predict_record(record, record_dir, prefix)
        records.write_summary(outdir, [rows[r.query.id] for r in inputs if r.query.id in rows])
    records.write_summary(outdir, [rows[r.query.id] for r in inputs if r.query.id in rows])
    return [rows[r.query.id] for r in inputs]
