"""Predicting a complex record with the multimer models (the multimer half of ``foldkit predict``).

For a complex: multimer features from the run's MSA source
(:mod:`foldkit.predict.complex_record`; written as ``features.npz``, the
merged MSA as ``msa.a3m``), then for every multimer model and seed one run
of the network (:class:`foldkit.model.multimer_runner.MultimerRunner`:
recycling with AlphaFold-Multimer's early stop inside the compiled function,
MSA sampling and masking drawn from the seed), and a :class:`Prediction`
with the chains in input order (:mod:`foldkit.predict.multimer_outputs`).
Ranking, relaxation, plots and the record's marker are those of every record
(:mod:`foldkit.predict.pipeline`).

Defaults follow AlphaFold2 v2.3 (``--model-preset multimer``): 5 seeds per
model, up to 20 recycles, early stop when the Cα distances change by less
than 0.5 Å; ``--num-seeds``, ``--num-recycle`` and
``--recycle-early-stop-tolerance`` replace them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from foldkit.model.multimer_config import MultimerConfig
from foldkit.model.multimer_runner import MultimerRunner
from foldkit.model.runner import RunnerConfig
from foldkit.predict import outputs as out
from foldkit.predict import records
from foldkit.predict.complex_record import ComplexFeatures
from foldkit.predict.models import ModelChoice
from foldkit.predict.multimer_outputs import check_layout, complex_prediction, merged_msa_a3m, merged_msa_rows

Log = Callable[[str], None]


def with_recycling(config: MultimerConfig, num_recycle: int, tolerance: float) -> MultimerConfig:
    """The config with this run's maximum recycles and early-stop tolerance (Å)."""
    model = dataclasses.replace(config.model, num_recycle=int(num_recycle),
                                recycle_early_stop_tolerance=float(tolerance))
    return dataclasses.replace(config, model=model)


class ComplexRuns:
    """The multimer side of a :class:`foldkit.predict.pipeline.PredictionSession`."""

    def __init__(self, session):
        self.session = session
        self.features = ComplexFeatures(session.source, session.log, session.server_inputs)
        settings = session.settings
        self.runner_config = RunnerConfig(chunk_size=settings.chunk_size, bfloat16=settings.bfloat16,
                                          matmul_precision=settings.matmul_precision)
        self._compiled: set[tuple] = set()

    def predict(self, record, record_dir: Path, timer, log: Log,
                on_prediction: Callable[[out.Prediction], None] | None = None
                ) -> tuple[list[out.Prediction], np.ndarray]:
        """Every (multimer model, seed) prediction of a complex record, and its merged MSA rows [N, L]."""
        complex_ = record.complex
        features = self.features.features(record, record_dir, timer)
        check_layout(complex_, features)
        with timer.stage("features"):
            records.atomic_write_npz(record_dir / "features.npz", features)
            records.atomic_write_text(record_dir / "msa.a3m", merged_msa_a3m(complex_, features))
        rows = merged_msa_rows(complex_, features)
        log(f"features: {complex_.summary()}, {len(rows)} MSA rows")
        predictions = []
        for model in self.session.multimer_models:
            params = self.session.params(model, timer)
            for seed in self.session.settings.seeds_for(model):
                prediction = self.predict_one(model, params, seed, complex_, features, timer, log)
                if on_prediction is not None:
                    on_prediction(prediction)
                predictions.append(prediction)
        return predictions, rows

    def predict_one(self, model: ModelChoice, params, seed: int, complex_, features: dict, timer, log: Log
                    ) -> out.Prediction:
        settings = self.session.settings
        name = out.prediction_name(model.name, seed)
        num_recycle = settings.num_recycle_for(model)
        tolerance = settings.tolerance_for(model)
        config = with_recycling(model.config, num_recycle, tolerance)
        runner = MultimerRunner(config, params, self.runner_config)
        shape = (config, runner.runner.bucket_for(int(np.asarray(features["aatype"]).shape[0])),
                 tuple(np.asarray(features["msa"]).shape[:1]), tuple(np.asarray(features.get(
                     "template_aatype", np.zeros((0,)))).shape[:1]))
        first = shape not in self._compiled
        log(f"{name}: running (up to {num_recycle} recycles" +
            (f", early stop below {tolerance} Å)" if tolerance > 0 else ")") +
            (", compiling first" if first else ""))
        outputs = runner.predict(features, seed=seed)
        seconds = runner.last_timings["model_seconds"]
        self._compiled.add(shape)
        timer.add(f"predict_{name}", seconds)
        prediction = complex_prediction(name, model.name, seed, outputs, complex_, features, num_recycle)
        stopped = " (early stop)" if prediction.early_stopped else ""
        log(f"{name}: {out.confidence_summary(prediction)}, {prediction.num_recycles} recycles{stopped}, "
            f"{seconds:.1f} s" + (" including compilation" if first else ""))
        return prediction
