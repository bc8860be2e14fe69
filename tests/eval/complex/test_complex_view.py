"""A complex superposed on its native, coloured by chain: the scene, ``foldkit view --native`` and the notebook."""

import nbformat
import numpy as np
from nbclient import NotebookClient

from foldkit.cli import main
from foldkit.eval.complex.structure import CA, read_complex
from foldkit.viz.colors import CHAIN_PALETTE, NOT_MATCHED_COLOR
from foldkit.viz.complex_view import complex_superposition_scene, interface_figure, superpose_complex
from tests.conftest import REPO_ROOT
from tests.eval.complex.reference_complex import COMPLEX_DIR

MODELS, TARGETS = COMPLEX_DIR / "models", COMPLEX_DIR / "targets"


def test_swapped_chains_are_moved_and_coloured_like_their_native_partner(scoring_dir):
    sup = superpose_complex(MODELS / "1A2K__real_dockq_example.pdb", TARGETS / "1A2K.pdb")
    native = read_complex(TARGETS / "1A2K.pdb")
    moved = {c.chain_id: c for c in sup.model}
    # native A is model B after the mapping; the superposed model B lies on native A
    def rms(model_chain):
        diff = moved[model_chain].atom_positions[:, CA] - native.chains[0].atom_positions[:, CA]
        return float(np.sqrt((diff ** 2).sum(1).mean()))

    assert rms("B") < 2.5 and rms("A") > 10.0
    scene = complex_superposition_scene(sup)
    colours = {(l.selection["model"], l.selection["chain"]): l.style["cartoon"]["color"] for l in scene.layers}
    assert colours[(0, "A")] == colours[(1, "B")] == CHAIN_PALETTE[0]
    assert colours[(0, "B")] == colours[(1, "A")] == CHAIN_PALETTE[1]
    assert all(l.style["cartoon"].get("opacity", 1.0) < 1.0 for l in scene.layers if l.selection["model"] == 0)
    assert scene.legend.entries[0] == ("native A (translucent) / model B", CHAIN_PALETTE[0])
    assert "mapping A:B;B:A;C:C" in scene.caption and "DockQ" in scene.caption


def test_extra_chain_is_drawn_as_unmatched(scoring_dir):
    scene = complex_superposition_scene(superpose_complex(MODELS / "1AY7__extra_copyB.pdb", TARGETS / "1AY7.pdb"))
    colours = {(l.selection["model"], l.selection["chain"]): l.style["cartoon"]["color"] for l in scene.layers}
    assert colours[(1, "C")] == NOT_MATCHED_COLOR
    assert ("model C: no native chain", NOT_MATCHED_COLOR) in scene.legend.entries
    assert interface_figure(superpose_complex(MODELS / "1AY7__rigid.pdb", TARGETS / "1AY7.pdb").scores) is not None


def test_view_command_writes_complex_page(scoring_dir, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["view", str(MODELS / "2HHB__rb_B_t4_r15.pdb"), "--native", str(TARGETS / "2HHB.pdb"),
                 "--html", str(out)]) == 0
    html = out.read_text()
    assert "native D (translucent) / model D" in html and "Per native interface" in html
    assert "data:image/png;base64" in html


def test_notebook_runs(scoring_dir):
    notebook = nbformat.read(REPO_ROOT / "examples" / "03_score_complexes.ipynb", as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT / "examples")}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs)
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "A:B;B:A;C:C" in html and "3Dmol" in html
    assert "5EIL__dropC_noise0.3: native chain(s) B have no model chain" in text
    assert "1AY7__extra_copyB: model chain C is an extra copy" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
