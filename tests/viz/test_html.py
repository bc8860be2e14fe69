"""Standalone HTML: embedded structure, colour scheme, legend, plots, 3Dmol.js inline or CDN."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.viz import colors, plots
from foldkit.viz import html as viz_html
from foldkit.viz.scene import structure_text
from foldkit.viz.view import structure_scene
from tests.viz.helpers import PNG_SIGNATURE, example_native, png_pixels, stepped_plddt


class _Page(HTMLParser):
    """Collects script blocks (by id), images and legend text."""

    def __init__(self):
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.images: list[str] = []
        self._script_attrs = None
        self._buffer = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._script_attrs, self._buffer = attrs, []
        if tag == "img":
            self.images.append(attrs["src"])

    def handle_data(self, data):
        if self._script_attrs is not None:
            self._buffer.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script_attrs is not None:
            self.scripts.append((self._script_attrs, "".join(self._buffer)))
            self._script_attrs = None


def _page(text):
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def plddt_protein():
    return example_native(stepped_plddt(119))


def test_page_embeds_structure_colours_legend_and_plots(plddt_protein):
    scene = structure_scene(plddt_protein, color="plddt", title="T1030-D2")
    png = plots.figure_png(plots.plot_plddt(colors.residue_plddt(plddt_protein)))
    text = viz_html.render_html("a page", [scene], [viz_html.Plot("pLDDT per residue", png)])
    page = _page(text)
    blocks = {a.get("id"): body for a, body in page.scripts if a.get("type") == "text/plain"}
    assert blocks["structure-0-0"].strip("\n") == structure_text([plddt_protein]).strip("\n")
    assert blocks["structure-0-0"].count("\nATOM  ") + 1 >= int(plddt_protein.atom_mask.sum())
    draw = next(body for a, body in page.scripts if not a and "drawScenes" in body)
    # every band colour is applied to the residues of that band
    expected = colors.band_colors(colors.residue_plddt(plddt_protein), colors.PLDDT_BANDS)
    for band in colors.PLDDT_BANDS:
        resi = [int(r) for r, c in zip(plddt_protein.residue_index, expected) if c == band.color]
        call = re.search(r'viewer\.addStyle\(\{"resi": \[([\d, ]+)\]\}, \{"cartoon": \{"color": "' + band.color, draw)
        assert call and [int(x) for x in call.group(1).split(", ")] == resi
        # legend: swatch in the band colour followed by the band label
        assert f'background:{band.color}"></span>{band.label.replace(">", "&gt;")}' in text
    assert "pLDDT (B-factor column):" in text
    assert 'addModel(structureText("structure-0-0"), "pdb")' in draw and "viewer.zoomTo();" in draw
    # the plot is an inline PNG
    (src,) = page.images
    data = base64.b64decode(src.split("base64,", 1)[1])
    assert data[:8] == PNG_SIGNATURE and png_pixels(data).std() > 0.05


def test_cdn_or_inline_library(tmp_path, plddt_protein, monkeypatch):
    scene = structure_scene(plddt_protein, color="chain")
    monkeypatch.delenv(viz_html.JS_ENV, raising=False)
    cdn = viz_html.render_html("p", [scene])
    assert f'<script src="{viz_html.CDN_URL}"></script>' in cdn and "needs a network" in cdn
    fake = tmp_path / "3Dmol-min.js"
    fake.write_text('var $3Dmol = {marker: "local-copy", s: "</script>"};')
    inline = viz_html.render_html("p", [scene], js_path=fake)
    assert viz_html.CDN_URL not in inline and 'marker: "local-copy"' in inline
    assert 's: "<\\/script>"' in inline          # cannot close the script element early
    out = viz_html.write_html(tmp_path / "page.html", "p", [scene], js_path=fake)
    assert 'marker: "local-copy"' in out.read_text()
    monkeypatch.setenv(viz_html.JS_ENV, str(fake))
    assert viz_html.find_3dmol_js() == fake
    with pytest.raises(InputError, match="3Dmol.js file not found"):
        viz_html.find_3dmol_js(tmp_path / "missing.js")


def test_titles_and_captions_are_escaped(plddt_protein):
    scene = structure_scene(plddt_protein, color="rainbow", title="<b>x</b> & y")
    text = viz_html.render_html("t <i>", [scene])
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in text and "<title>t &lt;i&gt;</title>" in text


def test_several_panels_have_their_own_viewers(plddt_protein):
    scenes = [structure_scene(plddt_protein, color="plddt", title=f"m{k}") for k in range(3)]
    text = viz_html.render_html("grid", scenes, width=300, height=300)
    for k in range(3):
        assert f'id="viewer-{k}" style="width:300px;height:300px"' in text
        assert f'structureText("structure-{k}-0")' in text
    assert np.sum([text.count(f'id="structure-{k}-0"') for k in range(3)]) == 3
