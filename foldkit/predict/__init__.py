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


class _PendingAf2:
    """Stands for AlphaFold2's input pipeline until the records say which databases it needs."""

    msa_mode = "af2_pending"


def af2_source(source: MsaSource, needed: dict[str, str], factory=None) -> MsaSource:
    """The AlphaFold2 source with settings for every kind of record needed (monomer: PDB70 templates;
    multimer: pdb_seqres templates and UniProt pairing)."""
    from foldkit.errors import InputError

    settings = {}
    for kind in ("monomer", "multimer"):
        if kind not in needed:
            continue
        if factory is not None:
            settings[kind] = factory(kind)
            continue
        given = source.af2 if source.af2 is not None else source.af2_multimer
        if getattr(given.databases, "model_preset", "monomer") != kind:
            raise InputError(f"{needed[kind]} needs AlphaFold2's {kind} databases, the input pipeline was set up "
                             f"for {getattr(given.databases, 'model_preset', 'monomer')}")
        settings[kind] = given
    first = settings.get("monomer") or settings.get("multimer")
    return MsaSource(first.msa_mode, af2=settings.get("monomer"), af2_multimer=settings.get("multimer"))


def predict_fasta(fasta: str | Path, outdir: str | Path, *, params_dir: str | Path | None = None,
                  models: list[str] | None = None, num_models: int | None = None,
                  settings: PredictSettings = PredictSettings(), msa: str | Path | None = None,
                  databases: tuple[str | Path, ...] = (), single_sequence: bool = False,
                  af2=None, server=None, log=log_to_stderr, model_preset: str | None = None,
                  max_complex_length: int | None = DEFAULT_MAX_COMPLEX_LENGTH) -> list[SummaryRow]:
    """Predict every record of ``fasta`` into ``outdir`` (see the package docstring).

    Every input (FASTA, MSA files, parameter folder) is checked before the
    first file is written. ``af2``: :class:`foldkit.msa.af2_pipeline.Af2Settings`
    to build each record's features with AlphaFold2's input pipeline (its
    databases' ``model_preset`` says which kind of record it serves), or a
    callable ``preset -> Af2Settings`` ('monomer' / 'multimer'), called for
    the kinds of record the FASTA holds.
    ``model_preset`` 'multimer': the FASTA is one complex, one record per chain
    (AlphaFold2's convention); otherwise ``SEQA:SEQB`` records are complexes
    (ColabFold's). ``max_complex_length``: residues of a complex at most.
    ``server``: :class:`foldkit.predict.server_msas.ServerSource` to get the
    MSAs from an MMseqs2 server (the sequences are sent to ``server.url``).
    """
    paths = (Path(msa) if msa is not None else None, [Path(d) for d in databases])
    factory = af2 if callable(af2) else None
    # with a settings factory the records are read first (the AlphaFold2 source reads no file of its own)
    source = msa_source(*paths, single_sequence, af2=_PendingAf2() if factory is not None else af2,
                        server=server.check() if server is not None else None)
    inputs = prepare_records(Path(fasta), source, model_preset, max_complex_length)
    needed = {}
    for record in inputs:
        needed.setdefault(record.kind, record.describe())
    if source.af2 is not None:
        source = af2_source(source, needed, factory)
    choices = resolve_model_sets(Path(params_dir) if params_dir is not None else None, models, num_models,
                                 needed, model_preset)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        from foldkit.errors import InputError
        raise InputError("output path exists and is not a folder", path=str(outdir))
    if source.af2 is not None or source.af2_multimer is not None:
        from foldkit.predict.input_pipeline import check_precomputed

        check_precomputed(inputs, outdir, source.af2, source.af2_multimer)
    if source.warning:
        log(f"warning: {source.warning}")
    session = PredictionSession(choices, settings, source, log)
    return predict_records(inputs, outdir, session)
