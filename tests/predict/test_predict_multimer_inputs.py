"""Complexes in `foldkit predict` without running a network: bad inputs (one line, exit 2, nothing written),
model choice by kind, settings defaults, and the multi-chain output contents."""

from __future__ import annotations

from pathlib import Path

import gemmi
import numpy as np
import pytest

from foldkit import cli
from foldkit.io.complexes import read_complexes
from foldkit.io.mmcif_format import chains_to_mmcif_string
from foldkit.io.pdb_format import chains_to_pdb_string
from foldkit.predict import outputs as out
from foldkit.predict.models import MONOMER, MULTIMER, resolve_model_sets
from foldkit.predict.multimer_outputs import complex_prediction, input_order
from foldkit.predict.pipeline import PredictSettings
from foldkit.protein import Protein
from tests.predict.helpers import make_tiny_params_dir, write_fasta
from tests.predict.multimer_helpers import HETERO, make_multimer_params_dir, write_complex_inputs

MONOMER_SEQUENCE = "MKTAYIAKQRQISFVKSHFSRQ"


@pytest.fixture()
def workdir(tmp_path):
    make_tiny_params_dir(tmp_path / "params")           # monomer: tiny_ptm
    make_multimer_params_dir(tmp_path / "params")       # multimer: tiny_mm
    make_tiny_params_dir(tmp_path / "monomer_only")
    make_multimer_params_dir(tmp_path / "multimer_only")
    return tmp_path


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _fails(workdir: Path, capsys, fasta: Path, *extra: str, params: str | None = "params") -> str:
    before = _files(workdir)
    args = ["predict", str(fasta), "-o", str(workdir / "out"), *extra]
    if params:
        args += ["--params-dir", str(workdir / params)]
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("foldkit predict: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert _files(workdir) == before
    return err


def test_colon_records_with_model_preset_multimer(workdir, capsys):
    fasta = write_fasta(workdir / "c.fasta", {"c": ":".join(HETERO)})
    err = _fails(workdir, capsys, fasta, "--model-preset", "multimer")
    assert "':'" in err and "--model-preset multimer" in err and "c.fasta" in err and "line 2" in err


def test_complex_without_multimer_parameters(workdir, capsys):
    fasta = write_fasta(workdir / "c.fasta", {"q": MONOMER_SEQUENCE, "c": ":".join(HETERO)})
    err = _fails(workdir, capsys, fasta, params="monomer_only")
    assert "complex 'c'" in err and "AlphaFold-Multimer models" in err and "tiny_ptm" in err
    err = _fails(workdir, capsys, fasta, "--models", "tiny_ptm")
    assert "complex 'c'" in err and "--models names none" in err
    err = _fails(workdir, capsys, write_fasta(workdir / "m.fasta", {"q": MONOMER_SEQUENCE}), "--models", "tiny_mm")
    assert "--models names only multimer models (tiny_mm)" in err and "record 'q' needs monomer models" in err
    err = _fails(workdir, capsys, write_fasta(workdir / "m.fasta", {"q": MONOMER_SEQUENCE}), params="multimer_only")
    assert "record 'q' needs monomer models" in err
    err = _fails(workdir, capsys, fasta, "--models", "model_1_multimer_v3")
    assert "no parameter file for model_1_multimer_v3" in err and "params fetch" in err
    err = _fails(workdir, capsys, write_fasta(workdir / "af2.fasta", {"A": HETERO[0], "B": HETERO[1]}),
                 "--model-preset", "multimer", "--models", "tiny_ptm")
    assert "--models names only monomer models (tiny_ptm)" in err and "complex 'af2'" in err


def test_complex_with_the_bundled_model(workdir, capsys, monkeypatch):
    monkeypatch.delenv("FOLDKIT_PARAMS_DIR", raising=False)
    fasta = write_fasta(workdir / "c.fasta", {"c": ":".join(HETERO)})
    assert "needs AlphaFold-Multimer parameters" in _fails(workdir, capsys, fasta, params=None)


def test_bad_chains_and_length_limit(workdir, capsys):
    fasta = workdir / "bad.fasta"
    fasta.write_text(f">c\n{HETERO[0]}::{HETERO[1]}\n")
    err = _fails(workdir, capsys, fasta)
    assert "empty chain" in err and "line 2" in err and f"column {len(HETERO[0]) + 2}" in err
    fasta.write_text(f">c\n{HETERO[0]}:XXXXX\n")
    assert "chain B (5 residues) is only X" in _fails(workdir, capsys, fasta)
    fasta.write_text(f">c\n{':'.join(HETERO)}\n")
    err = _fails(workdir, capsys, fasta, "--max-complex-length", "30")
    assert "40 residues" in err and "--max-complex-length" in err and "limit of 30" in err
    err = _fails(workdir, capsys, fasta, "--model-preset", "monomer")
    assert "complex" in err and "--model-preset monomer" in err


def test_missing_or_wrong_chain_msas(workdir, capsys):
    fasta, msas = write_complex_inputs(workdir / "inputs", {"c": ":".join(HETERO)})
    (msas / "c_B.a3m").unlink()
    err = _fails(workdir, capsys, fasta, "--msa", str(msas))
    assert "no MSA for chain B of complex 'c'" in err and "c_A.a3m, c_B.a3m" in err
    (msas / "c_B.a3m").write_text(f">B\n{HETERO[1][:-1]}W\n")
    err = _fails(workdir, capsys, fasta, "--msa", str(msas))
    assert "c_B.a3m" in err
    (msas / "c_B.a3m").write_text(f">B\n{HETERO[1]}\n")
    (msas / "c_A.paired.a3m").write_text(f">A\n{HETERO[0]}\n")
    err = _fails(workdir, capsys, fasta, "--msa", str(msas))
    assert "paired MSAs are given for chains A but not for B" in err


# --------------------------------------------------------------------------- models and settings

def test_model_sets_by_kind(workdir):
    folder = workdir / "official"
    folder.mkdir()
    for name in ("model_1", "model_1_ptm", "model_2_ptm", "model_2_multimer_v3", "model_1_multimer_v3"):
        (folder / f"params_{name}.npz").write_bytes(b"")
    both = {MONOMER: "record 'q'", MULTIMER: "complex 'c'"}
    sets = resolve_model_sets(folder, None, None, both)
    assert [m.name for m in sets.monomer] == ["model_1_ptm", "model_2_ptm"]
    assert [m.name for m in sets.multimer] == ["model_1_multimer_v3", "model_2_multimer_v3"]
    assert all(m.is_multimer and m.has_ptm for m in sets.multimer)
    assert [m.name for m in resolve_model_sets(folder, None, 1, both).all] == ["model_1_ptm", "model_1_multimer_v3"]
    assert [m.name for m in resolve_model_sets(folder, None, None, {MONOMER: "x"}, "monomer").monomer] == ["model_1"]
    named = resolve_model_sets(folder, ["model_2_multimer_v3", "model_1"], None, both)
    assert [m.name for m in named.monomer] == ["model_1"] and [m.name for m in named.multimer] == [
        "model_2_multimer_v3"]
    assert resolve_model_sets(folder, None, None, {MULTIMER: "c"}).monomer == ()
    sidecar = resolve_model_sets(workdir / "params", None, None, both)
    assert [m.name for m in sidecar.monomer] == ["tiny_ptm"] and [m.name for m in sidecar.multimer] == ["tiny_mm"]
    assert sidecar.multimer[0].config.model.num_recycle == 2


def test_multimer_defaults_follow_alphafold_v23(workdir):
    sets = resolve_model_sets(workdir / "params", None, None, {MONOMER: "q", MULTIMER: "c"})
    mono, multi = sets.monomer[0], sets.multimer[0]
    settings = PredictSettings()
    assert settings.seeds_for(mono) == [0] and settings.seeds_for(multi) == [0, 1, 2, 3, 4]
    assert settings.tolerance_for(mono) == 0.0 and settings.tolerance_for(multi) == 0.5
    given = PredictSettings(num_seeds=2, random_seed=7, recycle_early_stop_tolerance=0.0, num_recycle=4)
    assert given.seeds_for(multi) == [7, 8] and given.tolerance_for(multi) == 0.0 and given.num_recycle_for(multi) == 4
    # a monomer run's resume key is unchanged by the multimer support
    assert settings.resume_key([mono], "custom") == {
        "models": ["tiny_ptm"], "seeds": [0], "num_recycle": {"tiny_ptm": 1}, "recycle_early_stop_tolerance": 0.0,
        "bfloat16": False, "msa_mode": "custom", **settings.relax.resume_key()}
    assert settings.resume_key([multi], "custom")["seeds"] == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------- output contents

def _fake_outputs(num_res: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"structure_module/final_atom_positions": rng.normal(size=(num_res, 37, 3)).astype(np.float32),
            "structure_module/final_atom_mask": np.ones((num_res, 37), np.float32),
            "confidence/plddt": np.linspace(10, 90, num_res), "confidence/ptm": 0.5, "confidence/iptm": 0.25,
            "confidence/predicted_aligned_error": rng.uniform(0, 30, (num_res, num_res)).astype(np.float32),
            "confidence/max_predicted_aligned_error": 31.75, "num_recycles": np.asarray(3)}


def test_complex_prediction_restores_the_input_chain_order(tmp_path):
    fasta = write_fasta(tmp_path / "c.fasta", {"aba": f"{HETERO[0]}:{HETERO[1]}:{HETERO[0]}"})
    (complex_,) = read_complexes(fasta)
    order = input_order(complex_)          # features: A (0-22), C (23-45), B (46-62)
    np.testing.assert_array_equal(order, np.concatenate([np.arange(23), np.arange(46, 63), np.arange(23, 46)]))
    aatype = np.concatenate([[0] * 23, [1] * 23, [2] * 17]).astype(np.int32)    # feature order
    outputs = _fake_outputs(63)
    prediction = complex_prediction("p", "m", 0, outputs, complex_, {"aatype": aatype}, num_recycle=20)
    assert [c.chain_id for c in prediction.chains] == ["A", "B", "C"]
    assert [len(c) for c in prediction.chains] == [23, 17, 23]
    assert [int(c.aatype[0]) for c in prediction.chains] == [0, 2, 1]
    np.testing.assert_allclose(prediction.chains[1].atom_positions, outputs["structure_module/final_atom_positions"][46:])
    np.testing.assert_allclose(prediction.pae[23:40, 23:40], outputs["confidence/predicted_aligned_error"][46:, 46:])
    assert prediction.early_stopped and prediction.ranking_confidence == pytest.approx(0.8 * 0.25 + 0.2 * 0.5)
    assert out.scores_json(prediction, "single_sequence")["chains"][1] == {
        "chain_id": "B", "length": 17, "mean_plddt": round(float(np.mean(prediction.plddt[23:40])), 2)}


def _chain(chain_id: str, length: int, start: int = 0) -> Protein:
    rng = np.random.default_rng(length)
    return Protein(aatype=np.full(length, 7, np.int32), atom_positions=rng.uniform(-9, 9, (length, 37, 3)),
                   atom_mask=np.tile((np.arange(37) < 4).astype(np.float32), (length, 1)),
                   residue_index=np.arange(1, length + 1) + start, chain_id=chain_id,
                   b_factors=np.full((length, 37), 50.0))


def test_multi_chain_pdb_and_mmcif_writers(tmp_path):
    chains = [_chain("A", 3), _chain("B", 2), _chain("C", 3)]
    text = chains_to_pdb_string(chains)
    lines = text.splitlines()
    serials = [int(line[6:11]) for line in lines if line.startswith(("ATOM", "TER"))]
    assert serials == list(range(1, len(serials) + 1))                  # TER takes a serial, no gaps
    assert [line[21] for line in lines if line.startswith("TER")] == ["A", "B", "C"]
    (tmp_path / "x.pdb").write_text(text)
    assert [(c.name, len(c)) for c in gemmi.read_structure(str(tmp_path / "x.pdb"))[0]] == [("A", 3), ("B", 2),
                                                                                          ("C", 3)]
    cif = chains_to_mmcif_string(chains, "x")
    block = gemmi.cif.read_string(cif).sole_block()
    assert [tuple(r) for r in block.find("_struct_asym.", ["id", "entity_id"])] == [("A", "1"), ("B", "2"),
                                                                                    ("C", "1")]
    assert [r[0] for r in block.find("_entity.", ["id"])] == ["1", "2"]    # A and C: one sequence, one entity
    seq = [tuple(r) for r in block.find("_entity_poly_seq.", ["entity_id", "num"])]
    assert seq == [("1", "1"), ("1", "2"), ("1", "3"), ("2", "1"), ("2", "2")]
    structure = gemmi.make_structure_from_block(block)
    assert [(c.name, len(c)) for c in structure[0]] == [("A", 3), ("B", 2), ("C", 3)]
    with pytest.raises(Exception, match="distinct"):
        chains_to_pdb_string([_chain("A", 2), _chain("A", 2)])


def test_ranking_by_iptm_plus_ptm():
    def prediction(name, iptm, ptm, plddt):
        protein = _chain("A", 4)
        return out.Prediction(name, "m", 0, protein, np.full(4, plddt, np.float32), np.zeros((4, 4), np.float32),
                              31.75, ptm, 3, (), False, iptm=iptm, chains=(protein,))
    a, b, c = prediction("a", 0.9, 0.1, 50), prediction("b", 0.6, 0.9, 90), prediction("c", 0.8, 0.5, 10)
    assert [p.name for p in out.rank_predictions([a, b, c])] == ["a", "c", "b"]   # 0.74, 0.74, 0.66 (stable)
    debug = out.ranking_debug_json([a, b, c])
    assert debug["ranking_metric"] == "iptm+ptm" and debug["order"] == ["a", "c", "b"]
    assert debug["iptm+ptm"]["b"] == pytest.approx(0.66) and debug["iptm"]["c"] == 0.8 and debug["ptm"]["a"] == 0.1
