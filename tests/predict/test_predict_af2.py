"""`foldkit predict --af2-data-dir` on AlphaFold2's miniature data directory with the tiny model."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from foldkit import cli
from tests.conftest import AF2_REFERENCE
from tests.predict.helpers import TINY_CASE

PIPELINE = AF2_REFERENCE / "pipeline"
DATA_DIR = PIPELINE / "data"
MSA_FILES = ("uniref90_hits.sto", "mgnify_hits.sto", "small_bfd_hits.sto", "pdb_hits.hhr")

pytestmark = pytest.mark.skipif(not all(shutil.which(b) for b in ("hhsearch", "kalign")),
                                reason="HH-suite/kalign not installed (.ci/run installs them)")


def official_layout_params(folder):
    """DIR/params/params_model_1_ptm.npz (the official archive's layout) holding the tiny random-init
    model_1_ptm, with its config as the sidecar params_model_1_ptm.json."""
    target = folder / "params"
    target.mkdir(parents=True)
    shutil.copyfile(AF2_REFERENCE / f"{TINY_CASE}_params.npz", target / "params_model_1_ptm.npz")
    shutil.copyfile(AF2_REFERENCE / f"{TINY_CASE}_config.json", target / "params_model_1_ptm.json")
    return folder


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict_af2")
    official_layout_params(folder / "weights")
    heavy = (PIPELINE / "mono_full_templates" / "input.fasta").read_text().splitlines()[1]
    (folder / "in.fasta").write_text(f">vh Fab heavy chain, variable domain\n{heavy[:60]}\n")
    return folder


def _predict(workdir, *extra):
    return cli.main(["predict", str(workdir / "in.fasta"), "-o", str(workdir / "out"), "--params-dir",
                     str(workdir / "weights"), "--af2-data-dir", str(DATA_DIR), "--db-preset", "reduced_dbs",
                     "--max-template-date", "2021-11-01", "--cpu", "2", "--num-recycle", "0", *extra])


def test_predict_with_templates_then_rerun_repeats_no_search(workdir, capsys):
    assert _predict(workdir) == 0
    first = capsys.readouterr().err
    record = workdir / "out" / "vh"
    for name in ("ranked_0.pdb", "ranked_0.cif", "features.npz", "msa.a3m", "timings.json", "finished.json",
                 "model_1_ptm_seed_0.pdb", "scores_model_1_ptm_seed_0.json"):
        assert (record / name).is_file(), name
    for name in MSA_FILES:
        assert (record / "msas" / name).is_file(), name
    assert len(re.findall(r"(small_bfd|uniref90|mgnify|pdb70): (jackhmmer|hhsearch) on .*: \d+ hits", first)) == 4
    with np.load(record / "features.npz") as features:
        names = list(features["template_domain_names"])
        assert len(names) >= 1 and features["template_all_atom_positions"].shape == (len(names), 60, 37, 3)
        assert features["template_aatype"].dtype == np.float32 and features["msa"].shape[1] == 60
        first_features = {k: features[k] for k in features.files}
    assert "1igy_B" in names                       # the closest template of a Fab heavy chain
    timings = json.loads((record / "timings.json").read_text())
    assert {"search_uniref90", "search_mgnify", "search_small_bfd", "search_pdb70", "templates",
            "features"} <= set(timings)
    scores = json.loads((record / "scores_model_1_ptm_seed_0.json").read_text())
    assert scores["msa_mode"] == "af2_reduced_dbs"

    # the same command again: the record is finished, nothing runs
    assert _predict(workdir) == 0
    assert "already finished" in capsys.readouterr().err
    # --overwrite predicts again from the saved searches: no search runs, same features
    assert _predict(workdir, "--overwrite") == 0
    again = capsys.readouterr().err
    assert again.count("reusing") == 4 and "jackhmmer on" not in again and "hhsearch on" not in again
    with np.load(record / "features.npz") as features:
        for key, value in first_features.items():
            np.testing.assert_array_equal(features[key], value, err_msg=key)
    assert "search_uniref90" not in json.loads((record / "timings.json").read_text())


def test_python_api_runs_the_af2_pipeline_in_memory(workdir):
    """PredictionSession.predict_sequence with an AlphaFold2 source: same prediction as the CLI, no files."""
    import datetime

    from foldkit.io.structure import read_structure
    from foldkit.msa.af2_pipeline import Af2Settings
    from foldkit.msa.databases import resolve_databases
    from foldkit.predict import PredictionSession, PredictSettings, msa_source, resolve_models

    settings = Af2Settings(resolve_databases(DATA_DIR, "reduced_dbs"), datetime.date(2021, 11, 1), cpus=2)
    session = PredictionSession(resolve_models(workdir / "weights"), PredictSettings(num_recycle=0),
                                msa_source(af2=settings), log=lambda _: None)
    sequence = (workdir / "in.fasta").read_text().splitlines()[1]
    ranked = session.predict_sequence(sequence, name="vh")
    written = read_structure(workdir / "out" / "vh" / "model_1_ptm_seed_0.pdb")   # unrelaxed, as the API returns
    np.testing.assert_allclose(ranked[0].protein.atom_positions[written.atom_mask > 0],
                               written.atom_positions[written.atom_mask > 0], atol=6e-4)


def test_broken_precomputed_file_stops_before_any_output(workdir, capsys, tmp_path):
    out = tmp_path / "out"
    msas = out / "vh" / "msas"
    msas.mkdir(parents=True)
    (msas / "uniref90_hits.sto").write_text("# STOCKHOLM 1.0\n\nvh MKV\n")        # cut off: no '//'
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert cli.main(["predict", str(workdir / "in.fasta"), "-o", str(out), "--params-dir", str(workdir / "weights"),
                     "--af2-data-dir", str(DATA_DIR), "--db-preset", "reduced_dbs", "--use-precomputed-msas"]) == 2
    err = capsys.readouterr().err
    assert "uniref90_hits.sto, line 3: truncated Stockholm file" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_af2_source_excludes_other_msa_sources(workdir, capsys, tmp_path):
    assert cli.main(["predict", str(workdir / "in.fasta"), "-o", str(tmp_path / "o"), "--params-dir",
                     str(workdir / "weights"), "--af2-data-dir", str(DATA_DIR), "--single-sequence"]) == 2
    assert "give only one MSA source" in capsys.readouterr().err
    assert cli.main(["predict", str(workdir / "in.fasta"), "-o", str(tmp_path / "o"), "--params-dir",
                     str(workdir / "weights"), "--use-precomputed-msas"]) == 2
    assert "--use-precomputed-msas belongs to the AlphaFold2 input pipeline" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_alphafold2_msas_folder_is_used_as_is(tmp_path, capsys):
    """AlphaFold2's own msas/ copied into the record folder: no search, AlphaFold2's raw features."""
    official_layout_params(tmp_path / "weights")
    case = PIPELINE / "mono_reduced_datefilter"
    shutil.copytree(case / "msas", tmp_path / "out" / "1NCB_L" / "msas")
    assert cli.main(["predict", str(case / "input.fasta"), "-o", str(tmp_path / "out"), "--params-dir",
                     str(tmp_path / "weights"), "--af2-data-dir", str(DATA_DIR), "--db-preset", "reduced_dbs",
                     "--max-template-date", "1996-01-01", "--use-precomputed-msas", "--num-recycle", "0"]) == 0
    err = capsys.readouterr().err
    assert err.count("--use-precomputed-msas)") == 4 and "jackhmmer on" not in err
    with np.load(tmp_path / "out" / "1NCB_L" / "features.npz") as ours, np.load(case / "raw_features.npz") as ref:
        for key in ref.files:
            assert ours[key].dtype == ref[key].dtype, key
            if key == "template_all_atom_positions":
                np.testing.assert_allclose(ours[key], ref[key], atol=1e-4, rtol=0)
            else:
                np.testing.assert_array_equal(ours[key], ref[key], err_msg=key)
