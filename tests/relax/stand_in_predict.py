"""A ``foldkit predict`` run whose network is replaced by real structures, to test the relax step.

Random-weight networks (tests/predict) predict scattered atoms that no force
field can minimise, so they only exercise the failure path. Here the
pipeline (records, ranking, relax step, writers, resume) runs unchanged and
``predict_features`` returns "predictions" made from a reference input
structure: prediction k is that structure with its atoms shifted by 0.02*k Å,
pTM decreasing with k, pLDDT from the file's B-factors. Used in-process and
as a subprocess (``python -m tests.relax.stand_in_predict OUTDIR STRUCTURE
PARAMS_DIR MODELS_TO_RELAX N``) by the kill/resume test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from foldkit.io.fasta import Query
from foldkit.io.msa_files import Msa
from foldkit.io.structure import read_structure
from foldkit.predict import PredictionSession, PredictSettings, msa_source, predict_records, resolve_models
from foldkit.predict import outputs as out
from foldkit.predict.inputs import RecordInput
from foldkit.predict.relax_step import RelaxChoice


class StandInSession(PredictionSession):
    """A session whose predictions are copies of one structure (see the module docstring)."""

    def __init__(self, structure: Path, count: int, params_dir: Path, relax: RelaxChoice, log=print):
        models = resolve_models(params_dir)
        super().__init__(models, PredictSettings(num_recycle=0, relax=relax), msa_source(None, (), True), log)
        self.protein = read_structure(structure).replace(chain_id="A")
        self.protein = self.protein.replace(residue_index=np.arange(1, len(self.protein) + 1))
        self.count = count

    def record(self) -> RecordInput:
        return RecordInput(Query("standin", "", self.protein.sequence), "standin",
                           Msa.single_sequence(self.protein.sequence, "standin"))

    def predict_features(self, raw, timer=None, log=None, on_prediction=None):
        plddt = self.protein.b_factors[:, 1].astype(np.float32)
        predictions = []
        for k in range(self.count):
            protein = self.protein.replace(atom_positions=self.protein.atom_positions + 0.02 * k,
                                           b_factors=plddt[:, None] * self.protein.atom_mask)
            prediction = out.Prediction(name=f"model_standin_seed_{k}", model="standin", seed=k, protein=protein,
                                        plddt=plddt, pae=None, max_pae=None, ptm=0.9 - 0.1 * k, num_recycles=0,
                                        distance_changes=(), early_stopped=False)
            if on_prediction is not None:
                on_prediction(prediction)
            predictions.append(prediction)
        return predictions


def run(outdir: Path, structure: Path, params_dir: Path, models_to_relax: str = "best", count: int = 2,
        overwrite: bool = False, log=print):
    session = StandInSession(structure, count, params_dir, RelaxChoice(models_to_relax), log)
    if overwrite:
        session.settings = PredictSettings(num_recycle=0, relax=RelaxChoice(models_to_relax), overwrite=True)
    return predict_records([session.record()], outdir, session)


if __name__ == "__main__":
    out_arg, structure_arg, params_arg, mode_arg, count_arg = sys.argv[1:6]
    run(Path(out_arg), Path(structure_arg), Path(params_arg), mode_arg, int(count_arg),
        log=lambda message: print(message, file=sys.stderr, flush=True))
