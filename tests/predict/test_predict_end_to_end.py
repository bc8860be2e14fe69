"""`foldkit predict` end to end on a two-record FASTA with a tiny random-weight model (CPU).

Every per-record output is checked: structures parse with foldkit's reader
and with gemmi, JSON files match their schemas, PNGs decode, the ranking
agrees with the scores; a second run with the same seed gives identical
coordinates, and re-running resumes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import gemmi
import jsonschema
import numpy as np
import pytest
from matplotlib import image as mpimg

from foldkit import cli
from foldkit.io.msa_files import read_a3m
from foldkit.io.structure import read_structure
from tests.predict.helpers import FOLDERS, RECORDS, a3m_for, make_tiny_params_dir, write_fasta

MODELS = ("tiny_ptm", "tiny_b_ptm")
SEEDS = (7, 8)
PREDICTIONS = [f"model_{m}_seed_{s}" for m in MODELS for s in SEEDS]
PER_PREDICTION = ("{}.pdb", "scores_{}.json", "pae_{}.json", "confidence_{}.json")
PER_RECORD = ("ranked_0.cif", "ranking_debug.json", "plddt.png", "pae.png", "msa_coverage.png", "timings.json",
              "features.npz", "msa.a3m", "finished.json")

NUMBER = {"type": "number"}
SCORES_SCHEMA = {
    "type": "object",
    "required": ["model", "seed", "msa_mode", "plddt", "mean_plddt", "ptm", "max_pae", "ranking_confidence",
                 "num_recycles", "recycle_distance_changes", "early_stopped"],
    "properties": {
        "model": {"type": "string"}, "seed": {"type": "integer"}, "msa_mode": {"enum": ["custom"]},
        "plddt": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 100}},
        "mean_plddt": {"type": "number", "minimum": 0, "maximum": 100},
        "ptm": {"type": "number", "minimum": 0, "maximum": 1}, "max_pae": NUMBER, "ranking_confidence": NUMBER,
        "num_recycles": {"const": 1}, "recycle_distance_changes": {"type": "array", "items": NUMBER},
        "early_stopped": {"const": False},
    },
    "additionalProperties": False,
}
PAE_SCHEMA = {
    "type": "array", "minItems": 1, "maxItems": 1,
    "items": {"type": "object", "required": ["predicted_aligned_error", "max_predicted_aligned_error"],
              "additionalProperties": False,
              "properties": {"predicted_aligned_error": {"type": "array", "items": {
                  "type": "array", "items": {"type": "number", "minimum": 0}}},
                  "max_predicted_aligned_error": NUMBER}},
}
CONFIDENCE_SCHEMA = {
    "type": "object", "required": ["residueNumber", "confidenceScore", "confidenceCategory"],
    "additionalProperties": False,
    "properties": {"residueNumber": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                   "confidenceScore": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 100}},
                   "confidenceCategory": {"type": "array", "items": {"enum": ["VH", "H", "L", "VL"]}}},
}
RANKING_SCHEMA = {
    "type": "object", "required": ["ranking_metric", "plddts", "ptm", "order"], "additionalProperties": False,
    "properties": {"ranking_metric": {"const": "ptm"},
                   "plddts": {"type": "object", "additionalProperties": NUMBER},
                   "ptm": {"type": "object", "additionalProperties": NUMBER},
                   "order": {"type": "array", "items": {"enum": PREDICTIONS}, "minItems": 4, "maxItems": 4,
                             "uniqueItems": True}},
}
TIMINGS_SCHEMA = {"type": "object", "required": ["msa", "features", "ranking", "plots", "total"],
                  "additionalProperties": {"type": "number", "minimum": 0}}


def _predict(tmp: Path, outdir: Path, *extra: str) -> int:
    return cli.main(["predict", str(tmp / "in.fasta"), "-o", str(outdir), "--params-dir", str(tmp / "params"),
                     "--models", ",".join(MODELS), "--num-recycle", "1", "--random-seed", str(SEEDS[0]),
                     "--num-seeds", str(len(SEEDS)), "--msa", str(tmp / "msas"), "--models-to-relax", "none",
                     *extra])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict_e2e")
    write_fasta(tmp / "in.fasta", RECORDS)
    make_tiny_params_dir(tmp / "params", MODELS)
    (tmp / "msas").mkdir()
    for rid, seq in RECORDS.items():
        (tmp / "msas" / f"{FOLDERS[rid]}.a3m").write_text(a3m_for(seq, rid))
    assert _predict(tmp, tmp / "out") == 0
    return tmp, tmp / "out"


def _load(path: Path):
    return json.loads(path.read_text())


def test_every_output_file_and_no_leftovers(run):
    _, out = run
    assert sorted(p.name for p in out.iterdir()) == sorted(list(FOLDERS.values()) + ["summary.csv"])
    for rid, folder in FOLDERS.items():
        expected = {pattern.format(p) for pattern in PER_PREDICTION for p in PREDICTIONS} | set(PER_RECORD)
        expected |= {f"ranked_{i}.pdb" for i in range(len(PREDICTIONS))}
        assert {p.name for p in (out / folder).iterdir()} == expected, folder


def test_structures_parse_with_foldkit_and_gemmi(run):
    _, out = run
    for rid, folder in FOLDERS.items():
        sequence = RECORDS[rid]
        for name in [f"{p}.pdb" for p in PREDICTIONS] + ["ranked_0.pdb", "ranked_0.cif"]:
            path = out / folder / name
            protein = read_structure(path)
            assert "".join(_one_letter(r) for r in protein.aatype) == sequence
            assert np.isfinite(protein.atom_positions).all()
            np.testing.assert_array_equal(protein.residue_index, np.arange(1, len(sequence) + 1))
            structure = gemmi.read_structure(str(path))
            assert len(structure) == 1 and len(structure[0]) == 1
            assert gemmi.one_letter_code([r.name for r in structure[0][0]]) == sequence


def _one_letter(aatype: int) -> str:
    from foldkit import constants
    return constants.RESTYPES[int(aatype)]


def test_bfactors_and_modelcif_qa_metrics_hold_plddt(run):
    _, out = run
    for rid, folder in FOLDERS.items():
        ranking = _load(out / folder / "ranking_debug.json")
        best = _load(out / folder / f"scores_{ranking['order'][0]}.json")
        plddt = np.array(best["plddt"])
        protein = read_structure(out / folder / "ranked_0.cif")
        per_residue_b = np.array([row[mask > 0][0] for row, mask in zip(protein.b_factors, protein.atom_mask)])
        np.testing.assert_allclose(per_residue_b, plddt, atol=0.006)
        block = gemmi.cif.read(str(out / folder / "ranked_0.cif")).sole_block()
        local = block.find("_ma_qa_metric_local.", ["label_seq_id", "metric_id", "metric_value"])
        assert [int(r[0]) for r in local] == list(range(1, len(plddt) + 1))
        np.testing.assert_allclose([float(r[2]) for r in local], plddt, atol=0.006)
        metrics = {r[0]: (r[1], r[2]) for r in block.find("_ma_qa_metric.", ["id", "name", "mode"])}
        assert metrics == {"1": ("pLDDT", "local"), "2": ("pLDDT", "global"), "3": ("pTM", "global")}
        global_values = {r[0]: float(r[1]) for r in block.find("_ma_qa_metric_global.", ["metric_id", "metric_value"])}
        assert global_values["2"] == pytest.approx(best["mean_plddt"], abs=0.01)
        assert global_values["3"] == pytest.approx(best["ptm"], abs=1e-4)
        pdb = read_structure(out / folder / "ranked_0.pdb")
        np.testing.assert_allclose(pdb.b_factors[pdb.atom_mask > 0], protein.b_factors[protein.atom_mask > 0],
                                   atol=0.006)


def test_json_files_match_their_schemas(run):
    _, out = run
    for rid, folder in FOLDERS.items():
        length = len(RECORDS[rid])
        for name in PREDICTIONS:
            scores = _load(out / folder / f"scores_{name}.json")
            jsonschema.validate(scores, SCORES_SCHEMA)
            assert len(scores["plddt"]) == length and scores["mean_plddt"] == pytest.approx(
                np.mean(scores["plddt"]), abs=0.01)
            assert name == f"model_{scores['model']}_seed_{scores['seed']}"
            pae = _load(out / folder / f"pae_{name}.json")
            jsonschema.validate(pae, PAE_SCHEMA)
            matrix = np.array(pae[0]["predicted_aligned_error"])
            assert matrix.shape == (length, length)
            assert matrix.max() <= pae[0]["max_predicted_aligned_error"] == scores["max_pae"]
            confidence = _load(out / folder / f"confidence_{name}.json")
            jsonschema.validate(confidence, CONFIDENCE_SCHEMA)
            assert confidence["residueNumber"] == list(range(1, length + 1))
            assert confidence["confidenceScore"] == scores["plddt"]
            for score, category in zip(confidence["confidenceScore"], confidence["confidenceCategory"]):
                expected = "VH" if score > 90 else "H" if score > 70 else "L" if score > 50 else "VL"
                assert category == expected
        jsonschema.validate(_load(out / folder / "ranking_debug.json"), RANKING_SCHEMA)
        timings = _load(out / folder / "timings.json")
        jsonschema.validate(timings, TIMINGS_SCHEMA)
        assert {f"predict_{p}" for p in PREDICTIONS} <= set(timings)
    # one compiled network for the whole run: both records share the 64-residue bucket, both models a config
    first, second = (_load(out / FOLDERS[rid] / "timings.json") for rid in ("rec/a", "rec_b"))
    assert set(k for k in first if k.startswith("compile_")) <= {"compile_tiny_ptm"}
    assert not [k for k in second if k.startswith(("compile_", "load_params_"))]


def test_ranking_is_consistent_with_scores(run):
    _, out = run
    for rid, folder in FOLDERS.items():
        ranking = _load(out / folder / "ranking_debug.json")
        ptms = {name: _load(out / folder / f"scores_{name}.json")["ptm"] for name in PREDICTIONS}
        assert ranking["ptm"] == pytest.approx(ptms, abs=1e-4)
        ordered = [ranking["ptm"][name] for name in ranking["order"]]
        assert ordered == sorted(ordered, reverse=True)
        for rank, name in enumerate(ranking["order"]):
            assert (out / folder / f"ranked_{rank}.pdb").read_text() == (out / folder / f"{name}.pdb").read_text()
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["id"] for r in rows] == list(RECORDS)     # input order (processing is shortest first)
    for row in rows:
        folder = FOLDERS[row["id"]]
        ranking = _load(out / folder / "ranking_debug.json")
        best = _load(out / folder / f"scores_{ranking['order'][0]}.json")
        assert row["best_model"] == ranking["order"][0] and row["folder"] == folder
        assert int(row["length"]) == len(RECORDS[row["id"]])
        assert float(row["mean_plddt"]) == pytest.approx(best["mean_plddt"], abs=0.01)
        assert float(row["ptm"]) == pytest.approx(best["ptm"], abs=1e-4)
        assert float(row["seconds"]) > 0


def test_pngs_msa_features(run):
    tmp, out = run
    for rid, folder in FOLDERS.items():
        for name in ("plddt.png", "pae.png", "msa_coverage.png"):
            data = (out / folder / name).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            pixels = mpimg.imread(out / folder / name)
            assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100 and pixels.std() > 0
        used = read_a3m(out / folder / "msa.a3m", RECORDS[rid])
        given = read_a3m(tmp / "msas" / f"{folder}.a3m", RECORDS[rid])
        assert used.sequences == given.sequences and used.deletion_matrix == given.deletion_matrix
        with np.load(out / folder / "features.npz", allow_pickle=False) as npz:
            assert npz["aatype"].shape == (len(RECORDS[rid]), 21)
            assert npz["msa"].shape == (4, len(RECORDS[rid]))
            assert int(npz["deletion_matrix_int"].sum()) == 2


def test_same_seed_gives_identical_coordinates_and_rerun_resumes(run, capsys):
    tmp, out = run
    # full-float32 matrix products change nothing on the CPU (they only matter where TF32 is the default)
    assert _predict(tmp, tmp / "again", "--matmul-precision", "highest") == 0
    for folder in FOLDERS.values():
        for name in PREDICTIONS:
            first = read_structure(out / folder / f"{name}.pdb").atom_positions
            second = read_structure(tmp / "again" / folder / f"{name}.pdb").atom_positions
            np.testing.assert_array_equal(first, second)
            assert _load(out / folder / f"scores_{name}.json") == _load(tmp / "again" / folder / f"scores_{name}.json")
    # re-running into the finished folder redoes nothing
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != "summary.csv"}
    capsys.readouterr()
    assert _predict(tmp, out) == 0
    assert capsys.readouterr().err.count("already finished, skipped") == 2
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != "summary.csv"} == before
    # other settings in the same folder: refused, nothing changed
    assert cli.main(["predict", str(tmp / "in.fasta"), "-o", str(out), "--params-dir", str(tmp / "params"),
                     "--models", MODELS[0], "--num-recycle", "1", "--msa", str(tmp / "msas")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != "summary.csv"} == before


def test_overwrite_redoes_records_and_drops_stale_outputs(run, capsys):
    tmp, out = run
    folder = out / FOLDERS["rec_b"]
    (folder / "ranked_9.pdb").write_text("stale from an older run\n")
    (folder / "notes.txt").write_text("the user's own file\n")
    before = (folder / "ranked_0.pdb").read_text()
    marker_time = (folder / "finished.json").stat().st_mtime_ns
    capsys.readouterr()
    assert _predict(tmp, out, "--overwrite") == 0
    assert "already finished" not in capsys.readouterr().err
    assert not (folder / "ranked_9.pdb").exists() and (folder / "notes.txt").is_file()
    assert (folder / "finished.json").stat().st_mtime_ns > marker_time
    assert (folder / "ranked_0.pdb").read_text() == before


def test_python_api_predicts_one_sequence_in_memory(run):
    from foldkit.predict import PredictionSession, PredictSettings, msa_source, resolve_models

    tmp, out = run
    models = resolve_models(tmp / "params", list(MODELS))
    session = PredictionSession(models, PredictSettings(num_recycle=1, random_seed=SEEDS[0], num_seeds=2),
                                msa_source(tmp / "msas" / "rec_a.a3m"), log=lambda _: None)
    from foldkit.io.msa_files import read_a3m

    sequence = RECORDS["rec/a"]
    ranked = session.predict_sequence(sequence, read_a3m(tmp / "msas" / "rec_a.a3m", sequence), name="rec/a")
    assert [p.name for p in ranked] == json.loads((out / "rec_a" / "ranking_debug.json").read_text())["order"]
    written = read_structure(out / "rec_a" / "ranked_0.pdb")
    np.testing.assert_allclose(ranked[0].protein.atom_positions[written.atom_mask > 0],
                               written.atom_positions[written.atom_mask > 0], atol=6e-4)
