"""Predict building blocks without running a network: outputs, ranking, atomic writes, Ctrl-C, MSA sources."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

from foldkit import cli
from foldkit.predict import outputs as out
from foldkit.predict import records
from foldkit.predict.inputs import RecordInput, msa_source
from foldkit.predict.pipeline import PredictionSession, PredictSettings
from foldkit.predict.models import resolve_models
from foldkit.protein import Protein
from tests.predict.helpers import make_tiny_params_dir, write_fasta

SEQUENCE = "MKTAYIAKQRQISFVKSHFSRQ"


def _prediction(name: str, plddt: list[float], ptm: float | None) -> out.Prediction:
    length = len(plddt)
    protein = Protein(aatype=np.zeros(length, np.int32), atom_positions=np.zeros((length, 37, 3), np.float32),
                      atom_mask=np.ones((length, 37), np.float32), residue_index=np.arange(1, length + 1),
                      b_factors=np.asarray(plddt, np.float32)[:, None] * np.ones((1, 37), np.float32))
    pae = None if ptm is None else np.full((length, length), 5.0, np.float32)
    return out.Prediction(name, name.rsplit("_seed_", 1)[0], 0, protein, np.asarray(plddt, np.float32), pae,
                          None if ptm is None else 31.75, ptm, 3, (1.0, 0.4), True)


def test_prediction_names():
    assert out.prediction_name("model_1_ptm", 0) == "model_1_ptm_seed_0"
    assert out.prediction_name("tiny", 12) == "model_tiny_seed_12"


def test_confidence_categories_follow_alphafold_db_bands():
    assert [out.confidence_category(s) for s in (95, 90.0, 90.01, 70.0, 70.5, 50.0, 50.01, 3)] == [
        "VH", "H", "VH", "L", "H", "VL", "L", "VL"]


def test_ranking_by_ptm_when_all_have_it_else_by_mean_plddt():
    a = _prediction("model_1_ptm_seed_0", [80, 80], 0.5)
    b = _prediction("model_2_ptm_seed_0", [60, 60], 0.7)
    assert [p.name for p in out.rank_predictions([a, b])] == [b.name, a.name]
    debug = out.ranking_debug_json([a, b])
    assert debug["ranking_metric"] == "ptm" and debug["order"] == [b.name, a.name]
    c = _prediction("model_3_seed_0", [70, 90], None)
    d = _prediction("model_4_seed_0", [85, 85], None)
    debug = out.ranking_debug_json([c, d])
    assert debug["ranking_metric"] == "plddt" and "ptm" not in debug and debug["order"] == [d.name, c.name]
    assert out.ranking_metric([a, c]) == "plddt"        # mixed: only pLDDT is comparable
    scores = out.scores_json(c, "single_sequence")
    assert scores["ptm"] is None and scores["max_pae"] is None and scores["ranking_confidence"] == 80.0
    with pytest.raises(ValueError, match="no PAE"):
        out.pae_json(c)


def test_atomic_write_interrupted_leaves_nothing(tmp_path, monkeypatch):
    (tmp_path / "keep.json").write_text("{}")

    def interrupted(_fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(records.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        records.atomic_write_json(tmp_path / "keep.json", {"new": 1})
    with pytest.raises(KeyboardInterrupt):
        records.atomic_write_bytes(tmp_path / "new.bin", b"x" * 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]
    assert (tmp_path / "keep.json").read_text() == "{}"


def test_written_files_respect_umask_and_temporaries_are_cleaned(tmp_path):
    records.atomic_write_text(tmp_path / "a.txt", "hello")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    (tmp_path / ".b.json.x1y2.tmp").write_text("{")
    assert [p.name for p in records.remove_temporaries(tmp_path)] == [".b.json.x1y2.tmp"]
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_clearing_a_record_keeps_foreign_files(tmp_path):
    ours = ["ranked_0.pdb", "ranked_11.pdb", "ranked_0.cif", "model_1_ptm_seed_0.pdb", "scores_model_x_seed_3.json",
            "pae_model_1_ptm_seed_0.json", "confidence_model_1_ptm_seed_0.json", "ranking_debug.json",
            "timings.json", "plddt.png", "pae.png", "msa_coverage.png", "features.npz", "msa.a3m",
            "finished.json", ".msa.a3m.abc123.tmp"]
    foreign = ["notes.txt", "ranked_0.pdb.bak", "my_model.pdb", "scores.json"]
    for name in ours + foreign:
        (tmp_path / name).write_text("x")
    assert sorted(p.name for p in records.clear_record_outputs(tmp_path)) == sorted(set(ours) - {"finished.json"})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(foreign)


def test_summary_csv_and_finished_marker(tmp_path):
    row = records.SummaryRow("q1", 22, "model_1_ptm_seed_0", 71.234, None, 12.3, "q1")
    records.write_finished(tmp_path, row, {"models": ["model_1_ptm"]})
    state = records.finished_state(tmp_path)
    assert records.summary_row_of(state) == row
    records.check_same_settings(tmp_path, state, {"models": ["model_1_ptm"]})
    with pytest.raises(Exception, match="--overwrite"):
        records.check_same_settings(tmp_path, state, {"models": ["model_2_ptm"]})
    records.write_summary(tmp_path, [row])
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert rows == [{"id": "q1", "length": "22", "best_model": "model_1_ptm_seed_0", "mean_plddt": "71.23",
                     "ptm": "", "seconds": "12.3", "folder": "q1", "iptm": "", "ranking_confidence": ""}]
    old = {"summary": {k: v for k, v in state["summary"].items() if k not in ("iptm", "ranking_confidence")}}
    assert records.summary_row_of(old) == row        # markers written before the new columns still load


def test_ctrl_c_exits_130_with_message_and_no_partial_record(tmp_path, capsys, monkeypatch):
    write_fasta(tmp_path / "in.fasta", {"q": SEQUENCE})
    make_tiny_params_dir(tmp_path / "params")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("foldkit.predict.pipeline.run_with_recycling", interrupted)
    code = cli.main(["predict", str(tmp_path / "in.fasta"), "-o", str(tmp_path / "out"), "--params-dir",
                     str(tmp_path / "params"), "--single-sequence"])
    assert code == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "re-run the same command to resume" in err and "Traceback" not in err
    record = tmp_path / "out" / "q"
    assert not (record / "finished.json").exists()
    assert not [p for p in record.iterdir() if p.name.endswith(".tmp")]
    assert sorted(p.name for p in record.iterdir()) == ["features.npz", "msa.a3m"]   # complete files only
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_jackhmmer_msa_source_searches_the_database(tmp_path):
    database = tmp_path / "db.fasta"
    homologues = [SEQUENCE[:5] + "W" + SEQUENCE[6:], SEQUENCE[:12] + "L" + SEQUENCE[13:], "GGSGGSGGSGGSGGSGGSGG"]
    database.write_text("".join(f">hit{i} homologue\n{s}\n" for i, s in enumerate(homologues)))
    source = msa_source(databases=[database])
    assert source.mode == "jackhmmer" and source.warning is None
    models = resolve_models(make_tiny_params_dir(tmp_path / "params"))
    session = PredictionSession(models, PredictSettings(), source, log=lambda _: None)
    msa = session.msa_for(RecordInput(_query("q"), "q", None))
    assert msa.sequences[0] == SEQUENCE and len(msa) >= 3
    assert {d.split()[0].split("/")[0] for d in msa.descriptions[1:]} >= {"hit0", "hit1"}
    single = PredictionSession(models, PredictSettings(), msa_source(), log=lambda _: None)
    assert single.source.warning and "single sequence" in single.source.warning
    assert single.msa_for(RecordInput(_query("q"), "q", None)).sequences == (SEQUENCE,)


def _query(record_id: str):
    from foldkit.io.fasta import Query
    return Query(record_id, "", SEQUENCE, 1)
