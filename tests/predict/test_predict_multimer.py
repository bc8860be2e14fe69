"""`foldkit predict` on complexes end to end with tiny random multimer parameters (official layout + sidecar).

One run predicts a heterodimer, a homotrimer and an A:B:A complex (whose
features lay the chains out A, C, B) from ColabFold ':' records with per-chain
A3M files, two seeds each. Checked: every output file, chains and TER records
in the PDB files, chains and ipTM in the mmCIF, pLDDT in B-factors, ipTM / pTM /
ranking confidence in the scores, ranking_debug.json and summary.csv, the
network's own outputs in input chain order, and that a rerun resumes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import gemmi
import numpy as np
import pytest
from matplotlib import image as mpimg

from foldkit import cli
from foldkit.io.complexes import read_complexes
from foldkit.io.structure import read_chains
from foldkit.model import params as params_lib
from foldkit.model.multimer_config import multimer_config_from_case
from foldkit.model.multimer_runner import predict_multimer_from_features
from foldkit.predict.multimer_outputs import input_order
from tests.conftest import AF2_REFERENCE
from tests.predict.multimer_helpers import (CHAINS, COMPLEXES, MULTIMER_CASE, MULTIMER_MODEL,
                                            make_multimer_params_dir, write_complex_inputs)

SEEDS = (3, 4)
PREDICTIONS = [f"model_{MULTIMER_MODEL}_seed_{s}" for s in SEEDS]
PER_PREDICTION = ("{}.pdb", "scores_{}.json", "pae_{}.json", "confidence_{}.json")
PER_RECORD = ("ranked_0.cif", "ranking_debug.json", "plddt.png", "pae.png", "msa_coverage.png", "timings.json",
              "features.npz", "msa.a3m", "finished.json", "ranked_0.pdb", "ranked_1.pdb")


def _predict(tmp: Path, *extra: str) -> int:
    return cli.main(["predict", str(tmp / "in.fasta"), "-o", str(tmp / "out"), "--params-dir", str(tmp / "params"),
                     "--msa", str(tmp / "msas"), "--random-seed", str(SEEDS[0]), "--num-seeds", str(len(SEEDS)),
                     "--models-to-relax", "none", *extra])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict_multimer")
    write_complex_inputs(tmp, COMPLEXES)
    make_multimer_params_dir(tmp / "params")
    assert _predict(tmp) == 0
    return tmp, tmp / "out"


def _load(path: Path):
    return json.loads(path.read_text())


def test_every_output_file(run):
    _, out = run
    assert sorted(p.name for p in out.iterdir()) == sorted(list(COMPLEXES) + ["summary.csv"])
    for record in COMPLEXES:
        expected = {pattern.format(p) for pattern in PER_PREDICTION for p in PREDICTIONS} | set(PER_RECORD)
        assert {p.name for p in (out / record).iterdir()} == expected, record
        for png in ("plddt.png", "pae.png", "msa_coverage.png"):
            assert mpimg.imread(out / record / png).ndim == 3


def test_pdb_files_have_every_chain_with_ter_and_plddt(run):
    _, out = run
    for record, sequence in COMPLEXES.items():
        chains = sequence.split(":")
        scores = {p: _load(out / record / f"scores_{p}.json") for p in PREDICTIONS}
        for name in PREDICTIONS:
            text = (out / record / f"{name}.pdb").read_text()
            lines = text.splitlines()
            ters = [k for k, line in enumerate(lines) if line.startswith("TER")]
            assert len(ters) == len(chains) and lines[-1].startswith("END")
            for ter, chain_id in zip(ters, CHAINS[record]):
                assert lines[ter][21] == chain_id and lines[ter - 1][21] == chain_id       # closes its chain
                if ter + 1 < len(lines) - 1:
                    assert lines[ter + 1][21] != chain_id
            read = read_chains(out / record / f"{name}.pdb")
            assert [p.chain_id for p in read] == list(CHAINS[record])
            assert [p.sequence for p in read] == chains
            for protein in read:
                np.testing.assert_array_equal(protein.residue_index, np.arange(1, len(protein) + 1))
            structure = gemmi.read_structure(str(out / record / f"{name}.pdb"))
            assert [c.name for c in structure[0]] == list(CHAINS[record])
            b_factors = np.concatenate([p.b_factors[:, 1] for p in read])               # CA
            np.testing.assert_allclose(b_factors, scores[name]["plddt"], atol=0.006)


def test_mmcif_has_chains_entities_and_iptm(run):
    _, out = run
    for record, sequence in COMPLEXES.items():
        ranking = _load(out / record / "ranking_debug.json")
        best = _load(out / record / f"scores_{ranking['order'][0]}.json")
        structure = gemmi.read_structure(str(out / record / "ranked_0.cif"))
        assert [c.name for c in structure[0]] == list(CHAINS[record])
        assert [gemmi.one_letter_code([r.name for r in c]) for c in structure[0]] == sequence.split(":")
        block = gemmi.cif.read(str(out / record / "ranked_0.cif")).sole_block()
        asym = block.find("_struct_asym.", ["id", "entity_id"])
        entities = [row[1] for row in asym]
        distinct = list(dict.fromkeys(sequence.split(":")))
        assert entities == [str(distinct.index(s) + 1) for s in sequence.split(":")]       # copies share one
        metrics = {row[0]: row[1] for row in block.find("_ma_qa_metric.", ["id", "name"])}
        values = {metrics[row[0]]: float(row[1])
                  for row in block.find("_ma_qa_metric_global.", ["metric_id", "metric_value"])}
        assert values["ipTM"] == pytest.approx(best["iptm"], abs=1e-4)
        assert values["pTM"] == pytest.approx(best["ptm"], abs=1e-4)
        local = block.find("_ma_qa_metric_local.", ["label_asym_id", "label_seq_id", "metric_value"])
        assert [row[0] for row in local] == [c for c, s in zip(CHAINS[record], sequence.split(":")) for _ in s]
        np.testing.assert_allclose([float(row[2]) for row in local], best["plddt"], atol=0.006)


def test_scores_ranking_and_summary(run):
    _, out = run
    rows = {row["id"]: row for row in csv.DictReader((out / "summary.csv").open())}
    assert list(rows) == list(COMPLEXES)
    for record, sequence in COMPLEXES.items():
        lengths = [len(s) for s in sequence.split(":")]
        scores = {p: _load(out / record / f"scores_{p}.json") for p in PREDICTIONS}
        for name, score in scores.items():
            assert 0 < score["iptm"] <= 1 and 0 < score["ptm"] <= 1
            assert score["ranking_confidence"] == pytest.approx(0.8 * score["iptm"] + 0.2 * score["ptm"], abs=2e-4)
            assert [c["chain_id"] for c in score["chains"]] == list(CHAINS[record])
            assert [c["length"] for c in score["chains"]] == lengths
            assert len(score["plddt"]) == sum(lengths)
            assert score["num_recycles"] <= 2 and score["msa_mode"] == "custom"
            pae = _load(out / record / f"pae_{name}.json")[0]["predicted_aligned_error"]
            assert np.asarray(pae).shape == (sum(lengths), sum(lengths))
            confidence = _load(out / record / f"confidence_{name}.json")
            assert confidence["chainId"] == [c for c, n in zip(CHAINS[record], lengths) for _ in range(n)]
        ranking = _load(out / record / "ranking_debug.json")
        assert ranking["ranking_metric"] == "iptm+ptm" and set(ranking["order"]) == set(PREDICTIONS)
        assert ranking["iptm+ptm"] == pytest.approx({p: s["ranking_confidence"] for p, s in scores.items()},
                                                    abs=2e-4)
        assert ranking["iptm"] == pytest.approx({p: s["iptm"] for p, s in scores.items()}, abs=1e-4)
        ordered = [ranking["iptm+ptm"][p] for p in ranking["order"]]
        assert ordered == sorted(ordered, reverse=True)
        for rank, name in enumerate(ranking["order"]):
            assert (out / record / f"ranked_{rank}.pdb").read_text() == (out / record / f"{name}.pdb").read_text()
        best = scores[ranking["order"][0]]
        row = rows[record]
        assert int(row["length"]) == sum(lengths) and row["best_model"] == ranking["order"][0]
        assert float(row["iptm"]) == pytest.approx(best["iptm"], abs=1e-4)
        assert float(row["ptm"]) == pytest.approx(best["ptm"], abs=1e-4)
        assert float(row["ranking_confidence"]) == pytest.approx(best["ranking_confidence"], abs=2e-4)
        assert float(row["mean_plddt"]) == pytest.approx(best["mean_plddt"], abs=0.01)
    # the interface term is not the whole-complex term (the outputs are not degenerate)
    dimer = _load(out / "dimer" / f"scores_{PREDICTIONS[0]}.json")
    assert abs(dimer["iptm"] - dimer["ptm"]) > 1e-3


def test_outputs_are_the_network_outputs_in_input_chain_order(run):
    """The A:B:A complex: its features hold A, C, B; the files hold A, B, C as given."""
    tmp, out = run
    config = multimer_config_from_case(AF2_REFERENCE / "multimer" / f"{MULTIMER_CASE}_config.json")
    params = params_lib.load_params(tmp / "params" / f"params_{MULTIMER_MODEL}.npz")
    (complex_,) = [c for c in read_complexes(tmp / "in.fasta") if c.id == "aba"]
    with np.load(out / "aba" / "features.npz") as npz:
        features = dict(npz)
    np.testing.assert_array_equal(features["asym_id"], np.repeat([1, 2, 3], [23, 23, 17]))
    order = input_order(complex_)
    seed = SEEDS[1]
    outputs = predict_multimer_from_features(config, params, features, seed=seed)
    written = read_chains(out / "aba" / f"{PREDICTIONS[1]}.pdb")
    positions = np.concatenate([p.atom_positions for p in written])
    mask = np.concatenate([p.atom_mask for p in written])
    expected = outputs["structure_module/final_atom_positions"][order]
    np.testing.assert_allclose(positions[mask > 0], expected[mask > 0], atol=2e-3)
    scores = _load(out / "aba" / f"scores_{PREDICTIONS[1]}.json")
    np.testing.assert_allclose(scores["plddt"], outputs["confidence/plddt"][order], atol=0.006)
    assert scores["iptm"] == pytest.approx(float(outputs["confidence/iptm"]), abs=1e-4)
    assert scores["num_recycles"] == int(outputs["num_recycles"])
    pae = np.asarray(_load(out / "aba" / f"pae_{PREDICTIONS[1]}.json")[0]["predicted_aligned_error"])
    np.testing.assert_allclose(pae, outputs["confidence/predicted_aligned_error"][np.ix_(order, order)], atol=0.006)
    a3m = (out / "aba" / "msa.a3m").read_text().splitlines()
    assert a3m[1] == COMPLEXES["aba"].replace(":", "")


def test_rerun_resumes_and_other_settings_are_refused(run, capsys):
    tmp, out = run
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != "summary.csv"}
    capsys.readouterr()
    assert _predict(tmp) == 0
    err = capsys.readouterr().err
    assert err.count("already finished, skipped") == len(COMPLEXES)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != "summary.csv"} == before
    assert _predict(tmp, "--num-recycle", "1") == 2
    assert "num_recycle" in capsys.readouterr().err
