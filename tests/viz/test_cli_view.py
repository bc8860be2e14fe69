"""``foldkit view``: structure file, prediction folder, model on native; clear errors."""

from __future__ import annotations

from foldkit import cli
from foldkit.viz import colors
from tests.viz.helpers import MODEL, NATIVE, write_prediction_folder


def test_structure_file(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FOLDKIT_3DMOL_JS", raising=False)
    out = tmp_path / "model.html"
    assert cli.main(["view", str(MODEL), "--html", str(out), "--sidechains"]) == 0
    text = out.read_text()
    assert "TARGET" not in text and text.count("ATOM  ") > 800
    assert "pLDDT (B-factor column):" in text and "data:image/png;base64," in text
    assert '"stick"' in text
    assert "CDN" in capsys.readouterr().out


def test_prediction_folder_and_native(tmp_path, capsys):
    folder = tmp_path / "rec"
    write_prediction_folder(folder)
    js = tmp_path / "3Dmol-min.js"
    js.write_text("var $3Dmol = {};")
    out = tmp_path / "pred.html"
    assert cli.main(["view", str(folder), "--html", str(out), "--js", str(js), "--max-models", "2"]) == 0
    text = out.read_text()
    assert 'id="viewer-1"' in text and 'id="viewer-2"' not in text
    assert text.count("data:image/png;base64,") == 2           # pLDDT and PAE
    assert "rank 0: model_1_ptm_seed_0" in text
    out2 = tmp_path / "sup.html"
    assert cli.main(["view", str(MODEL), "--native", str(NATIVE), "--html", str(out2), "--js", str(js)]) == 0
    text = out2.read_text()
    assert "GDT_TS" in text and "Model CA deviation from native:" in text
    assert all(band.color in text for band in colors.DEVIATION_BANDS[:3])
    assert 'id="structure-0-1"' in text


def test_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["view", str(tmp_path / "nope.pdb"), "--html", str(tmp_path / "x.html")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["view", str(tmp_path), "--html", str(tmp_path / "x.html")]) == 2
    assert "no ranked_" in capsys.readouterr().err
    bad = tmp_path / "bad.pdb"
    bad.write_text("ATOM      1  CA  ALA A   1      xx.000   0.000   0.000  1.00  0.00           C\n")
    assert cli.main(["view", str(bad), "--html", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("foldkit view: error:") and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()
