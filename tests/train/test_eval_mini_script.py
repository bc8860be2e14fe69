"""benchmarks/eval_mini.py on the golden tiny random-weight model: 2 test-split chains and CASP14 T1084.

One length bucket (80) keeps it to a single compilation.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys

import numpy as np
import pytest
from scipy import stats

from foldkit.errors import InputError
from foldkit.eval.scores import score_structures
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features
from foldkit.io.structure import read_structure
from foldkit.model.config import AlphaFoldConfig
from foldkit.model.runner import RunnerConfig
from foldkit.train.config import load_config
from foldkit.train.data import MsaStore, load_chains
from foldkit.train.evaluate import chain_features
from tests.conftest import CASP_DIR, REPO_ROOT, TRAIN_DIR
from tests.predict.helpers import make_tiny_params_dir

SCRIPT = REPO_ROOT / "benchmarks" / "eval_mini.py"
BUCKETS = (80,)


def _load_script():
    name = "foldkit_benchmarks_eval_mini"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module     # dataclasses resolve annotations through sys.modules
        spec.loader.exec_module(module)
    return sys.modules[name]


em = _load_script()


@pytest.fixture(scope="module")
def params_dir(tmp_path_factory):
    """tiny/params_tiny_ptm.npz (golden weights) and other/params_tiny_ptm.npz (perturbed copy, same config)."""
    root = tmp_path_factory.mktemp("params")
    make_tiny_params_dir(root / "tiny")
    make_tiny_params_dir(root / "both", names=("tiny_ptm", "tiny_other"))
    (root / "other").mkdir()
    (root / "both" / "params_tiny_other.npz").rename(root / "other" / "params_tiny_ptm.npz")
    (root / "both" / "params_tiny_other.json").rename(root / "other" / "params_tiny_ptm.json")
    return root


@pytest.fixture(scope="module")
def predictor(params_dir):
    return em.Predictor(em.load_model(params_dir / "tiny" / "params_tiny_ptm.npz"), RunnerConfig(buckets=BUCKETS))


@pytest.fixture(scope="module")
def chains():
    return load_chains(TRAIN_DIR, "test", limit=2, max_length=80)


@pytest.fixture(scope="module")
def casp_target():
    targets = em.casp_targets(CASP_DIR, max_length=80)
    assert [t.target for t in targets] == ["T1084"]
    return targets


@pytest.fixture(scope="module")
def evaluated(predictor, chains, casp_target):
    test_results, test_skipped = em.evaluate_test_split(predictor, chains, None, progress=False)
    casp_results, casp_skipped = em.evaluate_casp(predictor, casp_target, progress=False)
    return test_results, casp_results, test_skipped + casp_skipped


def test_result_records(evaluated, chains):
    test_results, casp_results, skipped = evaluated
    assert skipped == []
    assert [r.name for r in test_results] == [c.chain_id for c in chains]
    assert {r.set for r in test_results} == {"test"} and {r.category for r in test_results} == {""}
    (unit,) = casp_results
    assert (unit.set, unit.name, unit.target, unit.category, unit.length) == ("casp14_domains", "T1084-D1", "T1084",
                                                                              "TBM-hard", 73)
    native = read_structure(CASP_DIR / "natives" / "T1084-D1.pdb")
    assert unit.n_native == int((native.ca_mask > 0).sum())
    for result, chain in zip(test_results, chains):
        assert result.length == len(chain)
        assert result.n_native == int((chain.to_protein().ca_mask > 0).sum())
    for r in test_results + casp_results:
        assert 0 <= r.gdt_ts <= 100 and 0 <= r.helix_gdt_ts <= 100
        assert 0 < r.tm_score <= 1 and 0 < r.helix_tm_score <= 1
        assert 0 <= r.lddt_ca <= 1 and 0 <= r.helix_lddt_ca <= 1
        assert 0 < r.mean_plddt < 100 and r.seconds > 0
        assert set(r.to_dict()) == {f.name for f in dataclasses.fields(em.UnitResult)}
    # one bucket: only the first prediction compiled
    assert [r.compiled for r in test_results + casp_results] == [True, False, False]


def test_helix_baseline_is_an_ideal_helix_scored_independently(evaluated, chains):
    test_results, casp_results, _ = evaluated
    for result, chain in zip(test_results, chains):
        helix = em.helix_baseline(chain.aatype, chain.residue_index)
        ca = helix.atom_positions[:, 1]                                          # [L, 3]
        np.testing.assert_allclose(np.linalg.norm(np.diff(ca, axis=0), axis=-1), 3.83, atol=0.01)
        assert np.array_equal(helix.residue_index, chain.residue_index)
        assert int(helix.atom_mask.sum()) == len(chain)                          # CA only
        direct = score_structures(helix, chain.to_protein())
        assert result.helix_tm_score == pytest.approx(direct.tm_score, abs=1e-9)
        assert result.helix_gdt_ts == pytest.approx(direct.gdt_ts, abs=1e-9)
        assert result.helix_lddt_ca == pytest.approx(direct.lddt_ca, abs=1e-9)
        assert result.tm_score != result.helix_tm_score
    (unit,) = casp_results
    helix = em.helix_baseline(np.zeros(73, np.int32), np.arange(1, 74))   # residue types do not enter CA scores
    direct = score_structures(helix, read_structure(CASP_DIR / "natives" / "T1084-D1.pdb"), force=True)
    assert (unit.helix_tm_score, unit.helix_gdt_ts) == pytest.approx((direct.tm_score, direct.gdt_ts), abs=1e-9)


def test_other_weights_change_the_model_scores_not_the_helix(params_dir, evaluated, casp_target):
    _, (unit,), _ = evaluated
    other_params = params_dir / "other" / "params_tiny_ptm.npz"
    other = em.Predictor(em.load_model(other_params, other_params.with_suffix(".json")), RunnerConfig(buckets=BUCKETS))
    (again,), _ = em.evaluate_casp(other, casp_target, progress=False)
    assert (again.helix_gdt_ts, again.helix_tm_score, again.helix_lddt_ca) == (
        unit.helix_gdt_ts, unit.helix_tm_score, unit.helix_lddt_ca)
    assert again.tm_score != unit.tm_score and again.mean_plddt != unit.mean_plddt


def test_prediction_is_deterministic(predictor, evaluated, casp_target):
    _, (unit,), _ = evaluated
    (again,), _ = em.evaluate_casp(predictor, casp_target, progress=False)
    assert again.compiled is False
    assert dataclasses.replace(again, seconds=0.0) == dataclasses.replace(unit, seconds=0.0)


def test_document_json_and_markdown(evaluated, tmp_path):
    test_results, casp_results, skipped = evaluated
    meta = {"model": "tiny_ptm", "params": "p.npz", "params_sha256": "0" * 64, "config": "p.json",
            "command": "python benchmarks/eval_mini.py --params p.npz", "split": "test", "test_limit": 2,
            "max_length": 80, "casp_max_length": 80, "test_features": "single sequence", "num_recycle": 1}
    document = json.loads(json.dumps(em.build_document(meta, test_results + casp_results, skipped)))
    assert set(document["summaries"]) == {"test", "casp14_domains"}
    test_summary = document["summaries"]["test"]
    assert test_summary["n"] == 2
    assert test_summary["mean_tm_score"] == pytest.approx(np.mean([r.tm_score for r in test_results]), abs=1e-4)
    assert test_summary["mean_helix_tm_score"] == pytest.approx(np.mean([r.helix_tm_score for r in test_results]),
                                                                abs=1e-4)
    assert test_summary["mean_seconds"] == pytest.approx(test_results[1].seconds, abs=1e-3)   # compile excluded
    assert set(document["casp14_domains_by_category"]) == {"TBM-hard"}
    assert len(document["results"]) == 3
    ends = document["extremes"]["test"]                                         # 2 units: one each, none twice
    assert [len(ends["best"]), len(ends["worst"])] == [1, 1]
    assert ends["best"][0]["tm_score"] >= ends["worst"][0]["tm_score"]
    assert {ends["best"][0]["name"], ends["worst"][0]["name"]} == {r.name for r in test_results}
    text = em.markdown(document)
    assert "| test | 2 |" in text and "| TBM-hard | 1 |" in text and "T1084-D1" in text
    assert f"{test_summary['mean_gdt_ts']:.1f}" in text


def _result(name: str, tm: float, helix_tm: float, plddt: float, lddt_ca: float, category: str = "FM"):
    return em.UnitResult("casp14_domains", name, name, category, 100, 90, 100 * tm, tm, lddt_ca, plddt,
                         100 * helix_tm, helix_tm, 0.2, 1.0, False)


def test_summary_statistics_against_scipy():
    rng = np.random.default_rng(3)
    tm, helix = rng.uniform(0.2, 0.8, 12), rng.uniform(0.1, 0.4, 12)
    plddt, lddt_ca = rng.uniform(30, 90, 12), rng.uniform(0.2, 0.9, 12)
    results = [_result(f"T{i}", tm[i], helix[i], plddt[i], lddt_ca[i], "FM" if i % 2 else "TBM-easy")
               for i in range(12)]
    summary = em.summarize(results)
    assert summary["fraction_beats_helix_tm"] == pytest.approx(np.mean(tm > helix), abs=1e-4)
    paired = summary["tm_vs_helix"]
    assert paired["mean_difference"] == pytest.approx(np.mean(tm - helix), abs=1e-4)
    assert paired["wilcoxon_p"] == pytest.approx(stats.wilcoxon(tm, helix).pvalue, rel=1e-2)
    low, high = paired["bootstrap_ci95"]
    assert low < paired["mean_difference"] < high
    assert summary["plddt_lddt_ca_pearson"] == pytest.approx(np.corrcoef(plddt, lddt_ca)[0, 1], abs=1e-4)
    assert summary["plddt_lddt_ca_spearman"] == pytest.approx(stats.spearmanr(plddt, lddt_ca)[0], abs=1e-4)
    assert em.summarize(results) == summary                                      # fixed bootstrap seed
    by_category = em.report(results)["casp14_domains_by_category"]
    assert {k: v["n"] for k, v in by_category.items()} == {"FM": 6, "TBM-easy": 6}
    ends = em.extremes(results, count=3)
    order = sorted(results, key=lambda r: -r.tm_score)
    assert [r["name"] for r in ends["best"]] == [r.name for r in order[:3]]
    assert [r["name"] for r in ends["worst"]] == [r.name for r in order[::-1][:3]]
    assert [len(v) for v in em.extremes(results[:5], count=3).values()] == [3, 2]


def test_casp_units_domains_and_scored_whole_targets():
    targets = {t.target: t for t in em.casp_targets(CASP_DIR, max_length=200)}
    assert [(u.unit, u.category) for u in targets["T1038"].units] == [
        ("T1038-D1", "FM"), ("T1038-D2", "FM/TBM"), ("T1038", "whole")]
    # CASP did not score T1026 as a whole target: its domain only
    assert [u.unit for u in targets["T1026"].units] == ["T1026-D1"]
    assert all(len(t.sequence) <= 200 for t in targets.values()) and "T1044" not in targets
    assert targets["T1038"].sequence == read_fasta_sequence("T1038")


def read_fasta_sequence(target: str) -> str:
    lines = (CASP_DIR / "targets" / f"{target}.fasta").read_text().splitlines()
    return "".join(line.strip() for line in lines[1:])


def test_bad_inputs(tmp_path):
    (tmp_path / "domains.tsv").write_text("target\tunit\nT1\tT1\n")
    with pytest.raises(InputError, match="columns"):
        em.casp_targets(tmp_path)
    with pytest.raises(InputError, match="parameter file not found"):
        em.load_model(tmp_path / "missing.npz")
    assert em.main(["--params", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()


class _NoPredictor:
    def __call__(self, *args, **kwargs):
        raise AssertionError("a cached unit was predicted again")


def test_partial_results_resume_an_interrupted_run(predictor, evaluated, casp_target, chains, tmp_path):
    _, (unit,), _ = evaluated
    partial = tmp_path / "eval.partial.jsonl"
    tag = {"params_sha256": "abc", "test_features": "single sequence"}
    (first,), _ = em.evaluate_casp(predictor, casp_target, progress=False, cache=em.ResultCache(partial, tag))
    assert dataclasses.replace(first, seconds=0.0, compiled=False) == dataclasses.replace(unit, seconds=0.0,
                                                                                         compiled=False)
    with partial.open("a") as handle:
        handle.write('{"tag": {"params_sha256": "abc", "test_fea')                 # cut by an interruption
    resumed = em.ResultCache(partial, tag)
    (again,), _ = em.evaluate_casp(_NoPredictor(), casp_target, progress=False, cache=resumed)
    assert again == first                                                       # floats survive JSON exactly
    with pytest.raises(AssertionError, match="predicted again"):                # other parameters: not reused
        em.evaluate_casp(_NoPredictor(), casp_target, progress=False,
                         cache=em.ResultCache(partial, tag | {"params_sha256": "def"}))
    with pytest.raises(AssertionError, match="predicted again"):                # test chains are not cached yet
        em.evaluate_test_split(_NoPredictor(), chains[:1], None, progress=False, cache=resumed)


def test_unscorable_chain_is_skipped_with_its_reason(predictor, chains):
    blank = dataclasses.replace(chains[0], mask=np.zeros_like(chains[0].mask))     # no observed atoms
    results, skipped = em.evaluate_test_split(predictor, [blank, chains[1]], None, progress=False)
    assert [r.name for r in results] == [chains[1].chain_id]
    assert skipped[0]["unit"] == blank.chain_id and "no CA atoms" in skipped[0]["reason"]


@pytest.mark.parametrize("use_msa", [False, True])
def test_features_equal_the_training_evaluator(chains, use_msa):
    """For a training config's sidecar tree, the script's features are foldkit.train.evaluate's."""
    train_config = load_config(REPO_ROOT / "foldkit" / "train" / "configs" / "mini.json")
    train_config = dataclasses.replace(train_config, data=dataclasses.replace(train_config.data, use_msa=use_msa))
    tree = train_config.model_tree()
    features = em.eval_feature_config(AlphaFoldConfig.from_dict(tree, name="mini"), tree["data"])
    msas = MsaStore(TRAIN_DIR, enabled=use_msa)
    chain = chains[0]
    msa = msas.msa(chain)
    assert (len(msa) > 1) == use_msa
    raw = make_raw_features(chain.sequence, [msa], "query", chain.residue_index)
    ours = process_features(raw, features, seed=0)
    theirs = chain_features(chain, msas, train_config)
    assert set(theirs) <= set(ours)
    for key in theirs:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


def test_config_from_a_training_config_or_its_sidecar(tmp_path):
    train_json = REPO_ROOT / "foldkit" / "train" / "configs" / "mini.json"
    sidecar = tmp_path / "params_mini.json"
    sidecar.write_text(json.dumps(load_config(train_json).model_tree()))
    assert em.read_model_config(train_json, "mini") == em.read_model_config(sidecar, "mini")
    bad = tmp_path / "bad.json"
    bad.write_text('{"model_preset": "model_3_ptm", "stepz": 3}')
    with pytest.raises(InputError, match="stepz"):
        em.read_model_config(bad, "mini")
    bad.write_text('{"data": ')
    with pytest.raises(InputError, match="line 1"):
        em.read_model_config(bad, "mini")
