"""Headless Chromium screenshot of an exported page: the cartoon is drawn in the pLDDT band colours.

Needs the Debian package ``chromium`` and a local 3Dmol.js (``$FOLDKIT_3DMOL_JS``, e.g. from
``npm pack 3dmol``: package/build/3Dmol-min.js); skipped otherwise.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from foldkit.io.structure import write_pdb
from foldkit.viz import colors
from foldkit.viz import html as viz_html
from foldkit.viz.view import structure_scene
from tests.viz.helpers import PNG_SIGNATURE, example_native, png_pixels

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 800, 600


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no chromium on PATH (apt-get install -y chromium)")


def _screenshot(page, out, tmp_path):
    profile = tmp_path / "profile"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={out}", "--window-size=1200,900",
               "--virtual-time-budget=10000", page.as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return out.read_bytes()


def test_exported_page_shows_the_cartoon_in_band_colours(tmp_path):
    js = viz_html.find_3dmol_js()
    if js is None:
        pytest.skip(f"no local 3Dmol.js (set ${viz_html.JS_ENV})")
    # blocks of residues in each band, so that every colour covers a stretch of cartoon
    n = 119
    plddt = np.repeat([95.0, 80.0, 60.0, 30.0], -(-n // 4))[:n]
    protein = example_native(plddt)
    write_pdb(protein, tmp_path / "blocks.pdb")
    page = viz_html.write_html(tmp_path / "page.html", "screenshot check",
                               [structure_scene(protein, color="plddt", title="pLDDT blocks")],
                               js_path=js, width=WIDTH, height=HEIGHT)
    png = _screenshot(page, tmp_path / "shot.png", tmp_path)
    assert png[:8] == PNG_SIGNATURE
    pixels = png_pixels(png)[..., :3] * 255                       # [H, W, 3]
    # the viewer sits below the page and panel titles; the HTML legend is under it
    viewer = pixels[120:120 + HEIGHT - 40, 40:40 + WIDTH - 20]
    not_white = (viewer.min(-1) < 235).mean()
    assert not_white > 0.02, f"viewer area is blank ({not_white:.3%} drawn)"
    for band in colors.PLDDT_BANDS:
        target = np.array([int(band.color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
        close = (np.linalg.norm(viewer - target, axis=-1) < 60).sum()
        assert close > 300, f"{band.label} ({band.color}): only {close} pixels in the viewer"
