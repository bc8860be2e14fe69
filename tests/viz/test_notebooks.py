"""The example notebooks execute headless (nbclient, kernel of this Python) without errors."""

from __future__ import annotations

import time

import nbformat
from nbclient import NotebookClient

from tests.conftest import REPO_ROOT
from tests.viz.helpers import write_prediction_folder

EXAMPLES = REPO_ROOT / "examples"


def _execute(name: str) -> tuple[nbformat.NotebookNode, float]:
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    client = NotebookClient(notebook, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}})
    start = time.perf_counter()
    client.execute()
    return notebook, time.perf_counter() - start


def _outputs(notebook, kind: str) -> list:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
            if kind in o.get("data", {})]


def _text(notebook) -> str:
    return "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)


def test_01_predict_and_view(tmp_path, monkeypatch):
    folder = tmp_path / "rec"
    write_prediction_folder(folder, n_models=2)
    monkeypatch.setenv("FOLDKIT_PREDICTION_DIR", str(folder))
    notebook, seconds = _execute("01_predict_and_view.ipynb")
    assert seconds < 120
    html = [o["data"]["text/html"] for o in _outputs(notebook, "text/html")]
    assert sum("3Dmol" in h for h in html) >= 5        # lDDT, rainbow, residue, superposition, prediction
    assert len(_outputs(notebook, "image/png")) >= 4   # lDDT, aligned error, prediction pLDDT and PAE
    text = _text(notebook)
    assert "lDDT 0.8" in text and "rank 0: model_1_ptm_seed_0" in text and "KiB" in text


def test_02_score_casp_models(casp_dir):
    notebook, seconds = _execute("02_score_casp_models.ipynb")
    assert seconds < 120
    text = _text(notebook)
    assert "T1087-D1" in text and "best: T1087-D1" in text and "worst: T1027-D1" in text
    assert len(_outputs(notebook, "image/png")) == 1
    assert sum("GDT_TS" in o["data"]["text/html"] for o in _outputs(notebook, "text/html")) == 2
