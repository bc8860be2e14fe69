"""Plots are valid, non-blank PNGs; MSA coverage and GDT curve numbers are right."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.eval.scores import score_structures
from foldkit.io.msa_files import parse_a3m
from foldkit.io.structure import read_structure
from foldkit.viz import plots
from tests.viz.helpers import MODEL, NATIVE, PNG_SIGNATURE, png_pixels


def _check_png(figure, min_width=300):
    png = plots.figure_png(figure)
    assert png[:8] == PNG_SIGNATURE
    pixels = png_pixels(png)
    height, width = pixels.shape[:2]
    assert width >= min_width and height >= 150
    assert pixels[..., :3].std() > 0.05, "blank image"
    return pixels


def test_plddt_plot_draws_curves_over_the_bands():
    n = 80
    pixels = _check_png(plots.plot_plddt({"a": np.linspace(30, 95, n), "b": np.linspace(95, 20, n)}))
    # the band colours (drawn translucent) give at least four distinct background tints
    rgb = np.round(pixels[..., :3] * 255).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 20
    _check_png(plots.plot_plddt(np.full(10, 75.0)))
    with pytest.raises(ValueError):
        plots.plot_plddt([])


def test_pae_plot_one_or_several_and_rejects_non_square():
    rng = np.random.default_rng(0)
    _check_png(plots.plot_pae(rng.uniform(0, 30, (40, 40))))
    _check_png(plots.plot_pae([("m1", rng.uniform(0, 30, (40, 40))), ("m2", rng.uniform(0, 5, (40, 40)))]))
    with pytest.raises(ValueError, match="expected"):
        plots.plot_pae([("bad", np.zeros((3, 4)))])


def test_msa_identity_and_coverage_from_strings_tokens_and_msa_records():
    rows = ["ACDEFG", "ACD-FG", "--DEFA", "AC----"]
    present, identity = plots.msa_arrays(rows)
    assert present.sum(0).tolist() == [3, 3, 3, 2, 3, 3]
    np.testing.assert_allclose(identity, [1.0, 5 / 6, 3 / 6, 2 / 6])
    # AlphaFold integer encoding: 21 = gap
    tokens = np.array([[0, 1, 2, 3], [0, 21, 2, 5], [21, 21, 21, 3]])
    present, identity = plots.msa_arrays(tokens)
    assert present.sum(0).tolist() == [2, 1, 2, 3]
    np.testing.assert_allclose(identity, [1.0, 0.5, 0.25])
    msa = parse_a3m(">q\nACDEFG\n>h1\nACdkD-FG\n>h2\n--DEFA\n")
    present, identity = plots.msa_arrays(msa)
    np.testing.assert_allclose(identity, [1.0, 5 / 6, 3 / 6])
    _check_png(plots.plot_msa_coverage(msa))
    with pytest.raises(ValueError, match="different lengths"):
        plots.msa_arrays(["ACD", "AC"])


def test_gdt_curves_from_scores_match_the_evaluator():
    scores = score_structures(read_structure(MODEL), read_structure(NATIVE))
    cutoffs, percents = plots.gdt_curve_values(scores.gdt_cutoffs)
    assert cutoffs[0] == 0 and percents[0] == 0
    assert np.all(np.diff(percents) >= 0)
    for c in (1.0, 2.0, 4.0, 8.0):
        assert percents[list(cutoffs).index(c)] == pytest.approx(scores.gdt.percent_at(c))
    assert np.mean([percents[list(cutoffs).index(c)] for c in (1, 2, 4, 8)]) == pytest.approx(scores.gdt_ts)
    figure = plots.plot_gdt_curves({"AF2": scores, "half": {c: p / 2 for c, p in scores.gdt_cutoffs.items()}})
    lines = figure.axes[0].get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), percents)
    assert f"GDT_TS {scores.gdt_ts:.1f}" in lines[0].get_label()
    _check_png(figure)


def test_plots_need_no_pyplot_and_work_in_threads():
    """Agg-safe: building and saving figures never imports pyplot (no GUI backend, no global state)."""
    import os
    import subprocess
    import sys

    code = ("import sys, threading, numpy as np\n"
            "from foldkit.viz import plots\n"
            "out = []\n"
            "def work(): out.append(plots.figure_png(plots.plot_pae(np.random.rand(20, 20) * 30)))\n"
            "threads = [threading.Thread(target=work) for _ in range(3)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]\n"
            "assert len(out) == 3 and all(p[:4] == b'\\x89PNG' for p in out)\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                            check=False)
    assert result.returncode == 0, result.stderr
