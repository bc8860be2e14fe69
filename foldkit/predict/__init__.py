"""End-to-end structure prediction from FASTA (``foldkit predict``).

Modules: :mod:`~foldkit.predict.inputs` (queries, MSA sources, checks before
any output), :mod:`~foldkit.predict.models` (parameter files and configs),
:mod:`~foldkit.predict.recycling` (one compiled iteration, recycling with
early stop), :mod:`~foldkit.predict.outputs` (file contents),
:mod:`~foldkit.predict.records` (atomic writes, resume, summary.csv),
:mod:`~foldkit.predict.pipeline` (orchestration). Complexes:
:mod:`~foldkit.predict.complex_record` (their MSAs and multimer features),
:mod:`~foldkit.predict.complex_pipeline` (the multimer models),
:mod:`~foldkit.predict.multimer_outputs` (chains in input order).

A FASTA may mix single chains and complexes: single chains run the monomer
models and complexes the multimer models of the same parameter folder; a
record whose kind of model is missing stops the run before any output.
"""

from __future__ import annotations

from pathlib import Path

from foldkit.io.complexes import DEFAULT_MAX_LENGTH as DEFAULT_MAX_COMPLEX_LENGTH
from foldkit.predict.inputs import MsaSource, RecordInput, msa_source, prepare_records
from foldkit.predict.models import ModelChoice, ModelSets, resolve_model_sets, resolve_models
from foldkit.predict.pipeline import PredictionSession, PredictSettings, log_to_stderr, predict_records
from foldkit.predict.records import SummaryRow

__all__ = ["MsaSource", "ModelChoice", "ModelSets", "PredictSettings", "PredictionSession", "RecordInput",
           "SummaryRow", "msa_source", "predict_fasta", "predict_records", "prepare_records", "resolve_model_sets",
           "resolve_models"]


def predict_fasta(fasta: str | Path, outdir: str | Path, *, params_dir: str | Path | None = None,
                  models: list[str] | None = None, num_models: int | None = None,
                  settings: PredictSettings = PredictSettings(), msa: str | Path | None = None,
                  databases: tuple[str | Path, ...] = (), single_sequence: bool = False,
                  af2=None, log=log_to_stderr, model_preset: str | None = None,
                  max_complex_length: int | None = DEFAULT_MAX_COMPLEX_LENGTH) -> list[SummaryRow]:
    """Predict every record of ``fasta`` into ``outdir`` (see the package docstring).

    Every input (FASTA, MSA files, parameter folder) is checked before the
    first file is written. ``af2``: :class:`foldkit.msa.af2_pipeline.Af2Settings`
    to build each record's features with AlphaFold2's input pipeline.
    ``model_preset`` 'multimer': the FASTA is one complex, one record per chain
    (AlphaFold2's convention); otherwise ``SEQA:SEQB`` records are complexes
    (ColabFold's). ``max_complex_length``: residues of a complex at most.
    """
    source = msa_source(Path(msa) if msa is not None else None, [Path(d) for d in databases], single_sequence,
                        af2=af2)
    inputs = prepare_records(Path(fasta), source, model_preset, max_complex_length)
    needed = {}
    for record in inputs:
        needed.setdefault(record.kind, record.describe())
    choices = resolve_model_sets(Path(params_dir) if params_dir is not None else None, models, num_models,
                                 needed, model_preset)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        from foldkit.errors import InputError
        raise InputError("output path exists and is not a folder", path=str(outdir))
    if af2 is not None:
        from foldkit.predict.input_pipeline import check_precomputed

        check_precomputed(inputs, outdir, af2)
    if source.warning:
        log(f"warning: {source.warning}")
    session = PredictionSession(choices, settings, source, log)
    return predict_records(inputs, outdir, session)
