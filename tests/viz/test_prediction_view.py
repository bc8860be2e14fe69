"""view_prediction on a record folder written in the foldkit predict layout."""

from __future__ import annotations

import json

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.io.structure import read_structure
from foldkit.viz import colors
from foldkit.viz import view as viz_view
from foldkit.viz.prediction_folder import read_pae_json, read_prediction_folder
from tests.viz.helpers import viewer_calls, write_prediction_folder


@pytest.fixture()
def record(tmp_path):
    folder = tmp_path / "rec_a"
    return folder, write_prediction_folder(folder)


def test_reads_ranked_models_with_scores_and_pae(record):
    folder, written = record
    pred = read_prediction_folder(folder)
    assert [m.rank for m in pred.models] == [0, 1, 2]
    assert [m.name for m in pred.models] == written["names"]
    assert pred.ranking_metric == "ptm"
    for m in pred.models:
        np.testing.assert_allclose(m.plddt, written["plddt"][m.name])
        np.testing.assert_allclose(m.pae, written["pae"][m.name], atol=1e-5)
        # the B-factors of ranked_k.pdb hold the same pLDDT
        np.testing.assert_allclose(colors.residue_plddt(m.protein), written["plddt"][m.name], atol=0.006)
        assert m.ptm == pytest.approx(written["ptm"][m.name])
        assert m.max_pae == 31.75
    assert read_prediction_folder(folder, max_models=1).models[0].name == written["names"][0]


def test_view_prediction_grid_and_plots(record):
    folder, written = record
    shown = viz_view.view_prediction(folder)
    js = shown.view.startjs
    assert "createViewerGrid" in js and "viewergrid_UNIQUEID[0][2]" in js
    assert len(viewer_calls(js, "addModel")) == 3
    titles = [a[0] for a in viewer_calls(js, "addLabel")]
    assert any(t.startswith("rank 0: model_1_ptm_seed_0") for t in titles)
    assert titles.count("pLDDT (B-factor column)") == 1      # legend in the first viewer only
    # pLDDT colours of the best model follow its scores file
    best = written["plddt"][written["names"][0]]
    expected = set(colors.band_colors(best, colors.PLDDT_BANDS))
    grid0 = [l for l in js.splitlines() if "viewergrid_UNIQUEID[0][0].addStyle" in l]
    assert {c for c in expected if any(c in l for l in grid0)} == expected
    assert len(shown.plddt_figure.axes[0].get_lines()) == 3
    assert shown.pae_figure is not None and len(shown.pae_figure.axes) == 4     # 3 heatmaps + colorbar


def test_overlay_superposes_ranked_models_on_the_best(record, tmp_path):
    folder, _ = record
    pred = read_prediction_folder(folder)
    scene, = viz_view.prediction_scenes(pred, layout="overlay")
    assert len(scene.structures) == 3
    best_ca = pred.models[0].protein.ca_positions
    for k, text in enumerate(scene.structures):
        path = tmp_path / f"m{k}.pdb"
        path.write_text(text)
        ca = read_structure(path).ca_positions
        assert np.abs(ca - best_ca).max() < 0.01     # ranked_k are rigid copies of one structure
    opacities = {sel["model"]: s["cartoon"].get("opacity") for sel, s in
                 ((layer.selection, layer.style) for layer in scene.layers)}
    assert opacities == {0: None, 1: 0.6, 2: 0.6}
    with pytest.raises(ValueError, match="layout"):
        viz_view.prediction_scenes(pred, layout="stacked")


def test_without_pae_and_without_scores_files(tmp_path):
    folder = tmp_path / "rec"
    written = write_prediction_folder(folder, n_models=2, with_pae=False)
    for name in written["names"]:
        (folder / f"scores_{name}.json").unlink()
    shown = viz_view.view_prediction(folder)
    assert shown.pae_figure is None
    np.testing.assert_allclose(shown.folder.models[1].plddt, written["plddt"][written["names"][1]], atol=0.006)


def test_bad_folders_give_clear_errors(tmp_path, record):
    folder, written = record
    with pytest.raises(InputError, match="not a folder"):
        read_prediction_folder(tmp_path / "missing")
    with pytest.raises(InputError, match="pick one: rec_a"):
        read_prediction_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no ranked_"):
        read_prediction_folder(tmp_path / "empty")
    name = written["names"][1]
    (folder / f"scores_{name}.json").write_text('{"plddt": [1, 2,')
    with pytest.raises(InputError, match=r"scores_model_2_ptm_seed_0.json, line 1, column \d+: invalid JSON"):
        read_prediction_folder(folder)
    (folder / f"scores_{name}.json").write_text(json.dumps({"plddt": [50.0] * 5}))
    with pytest.raises(InputError, match="has 5 values"):
        read_prediction_folder(folder)


def test_pae_json_formats(tmp_path):
    path = tmp_path / "pae.json"
    path.write_text(json.dumps([{"residue1": [1, 1, 2, 2], "residue2": [1, 2, 1, 2], "distance": [0.1, 5, 6, 0.2],
                                 "max_predicted_aligned_error": 31.75}]))
    pae, top = read_pae_json(path)
    np.testing.assert_allclose(pae, [[0.1, 5], [6, 0.2]], atol=1e-6)
    assert top == 31.75
    path.write_text(json.dumps([{"predicted_aligned_error": [[1, 2, 3]]}]))
    with pytest.raises(InputError, match="square"):
        read_pae_json(path)
    path.write_text(json.dumps({"something": 1}))
    with pytest.raises(InputError, match="AlphaFold DB PAE format"):
        read_pae_json(path)
