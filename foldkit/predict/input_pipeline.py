"""A record's raw features from AlphaFold2's input pipeline (``foldkit predict --af2-data-dir``).

The searches of a record go to ``<record>/msas/`` with AlphaFold2's file
names (kept when the prediction outputs are cleared, so a rerun, a resumed
run or ``--overwrite`` repeats no search, see :mod:`foldkit.msa.af2_files`);
the record's ``features.npz`` holds the raw features including the template
arrays, which the models that use templates (model_1, model_2 and their
``_ptm`` variants) receive. Timings: one ``search_<database>`` entry per search
run, ``templates`` and ``features`` (AlphaFold2's key for the whole input
pipeline).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from foldkit.io.msa_files import Msa
from foldkit.msa.af2_files import validate_msa_folder
from foldkit.msa.af2_pipeline import Af2InputPipeline, Af2Settings
from foldkit.msa.jackhmmer import QueryRecord
from foldkit.predict.inputs import RecordInput

MSA_DIR = "msas"


@dataclasses.dataclass
class RecordFeatures:
    raw: dict[str, np.ndarray]
    msa: Msa
    timings: dict[str, float]


def query_record(record: RecordInput) -> QueryRecord:
    query = record.query
    return QueryRecord(query.id, query.description, query.sequence)


def check_precomputed(inputs: list[RecordInput], outdir: Path, settings: Af2Settings | None,
                      multimer_settings: Af2Settings | None = None) -> None:
    """With --use-precomputed-msas, every search output already there must parse (before any output);
    a complex's folder (``msas/chain_id_map.json``, ``msas/<chain>/``) must belong to its chains."""
    for record in inputs:
        chosen = multimer_settings if record.complex is not None else settings
        if chosen is None or not chosen.use_precomputed_msas:
            continue
        folder = outdir / record.folder_name / MSA_DIR
        if not folder.is_dir():
            continue
        if record.complex is not None:
            from foldkit.msa.af2_complex import validate_complex_msa_folder

            validate_complex_msa_folder(folder, record.complex)
        else:
            validate_msa_folder(folder, record.query.sequence)


class Af2RecordInputs:
    """The input pipeline of one prediction run (databases and binaries checked once)."""

    def __init__(self, settings: Af2Settings, log: Callable[[str], None]):
        self.pipeline = Af2InputPipeline(settings, log)

    def features(self, record: RecordInput, record_dir: Path, prefix: str = "") -> RecordFeatures:
        result = self.pipeline.run(query_record(record), record_dir / MSA_DIR, prefix)
        return RecordFeatures(result.raw_features, result.msa, result.timings)
