"""A 3Dmol.js scene as plain data: structures, style layers, legend, caption.

One ``Scene`` is one viewer. :func:`scene_commands` turns it into the list of
3Dmol.js ``GLViewer`` method calls; :mod:`foldkit.viz.view` replays them on a
``py3Dmol.view`` (notebooks) and :mod:`foldkit.viz.html` writes them as
JavaScript (standalone pages), so both show exactly the same thing.

Residues are selected by chain and residue number (3Dmol's ``resi``); residues
that differ only by insertion code share a colour.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from foldkit import constants as rc
from foldkit.io.pdb_format import pdb_atom_lines
from foldkit.protein import Protein
from foldkit.viz.colors import Legend, text_color_on

STYLES = ("cartoon", "stick", "sphere")
BACKBONE_O_N_C = ("N", "C", "O")
# CA plus every side-chain atom: sticks on these hang the side chain off the cartoon
SIDECHAIN_ATOMS = tuple(name for name in rc.ATOM_TYPES if name not in BACKBONE_O_N_C)


@dataclasses.dataclass(frozen=True)
class StyleLayer:
    """``addStyle(selection, style)``: a 3Dmol AtomSelectionSpec and AtomStyleSpec."""

    selection: dict
    style: dict


@dataclasses.dataclass(frozen=True)
class Scene:
    """Everything one 3Dmol viewer shows.

    structures: PDB text of each model in ``addModel`` order (selections refer
    to them by index with the ``model`` key); layers are applied in order
    after clearing every style.
    """

    structures: tuple[str, ...]
    layers: tuple[StyleLayer, ...]
    legend: Legend | None = None
    caption: str = ""
    title: str = ""


def structure_text(chains: Sequence[Protein]) -> str:
    """PDB text of one or more chains (foldkit's writer: ATOM records, TER per chain, END)."""
    lines: list[str] = []
    for protein in chains:
        lines += pdb_atom_lines(protein, first_serial=len(lines) + 1)
    return "\n".join(lines + ["END"]) + "\n"


def _chain_selection(protein: Protein, model_index: int | None) -> dict:
    selection: dict[str, Any] = {}
    if model_index is not None:
        selection["model"] = model_index
    chain = protein.chain_id.strip()
    if chain:
        selection["chain"] = chain
    return selection


def _style_spec(style: str, color: str) -> dict:
    if style == "cartoon":
        return {"cartoon": {"color": color}}
    if style == "stick":
        return {"stick": {"color": color, "radius": 0.2}}
    if style == "sphere":
        return {"sphere": {"color": color, "scale": 0.8}}
    raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")


def colored_layers(chains: Sequence[Protein], colors: Sequence[Sequence[str]], style: str = "cartoon",
                   show_sidechains: bool = False, model_index: int | None = None,
                   extra_style: dict | None = None) -> list[StyleLayer]:
    """One layer per (chain, colour): the residues of that colour drawn in ``style``.

    colors: one hex colour per residue of each chain; show_sidechains adds
    sticks on CA and side-chain atoms in the same colours (cartoon only);
    extra_style: additional keys merged into the style's spec (e.g. opacity).
    """
    layers = []
    for protein, chain_colors in zip(chains, colors):
        base = _chain_selection(protein, model_index)
        numbers = np.asarray(protein.residue_index)
        for color in dict.fromkeys(chain_colors):
            picked = [int(n) for n, c in zip(numbers, chain_colors) if c == color]
            selection = {**base, "resi": sorted(set(picked))}
            spec = _style_spec(style, color)
            if extra_style:
                spec = {key: {**value, **extra_style} for key, value in spec.items()}
            layers.append(StyleLayer(selection, spec))
            if show_sidechains and style == "cartoon":
                layers.append(StyleLayer({**selection, "atom": list(SIDECHAIN_ATOMS)},
                                         {"stick": {"color": color, "radius": 0.18}}))
    return layers


def label_commands(scene: Scene, width: int, height: int) -> list[tuple[str, tuple]]:
    """Screen-fixed labels: the title and legend top left, the caption along the bottom."""
    commands: list[tuple[str, tuple]] = []
    y = 8
    common = {"useScreen": True, "inFront": True, "fontSize": 12, "font": "sans-serif"}
    if scene.title:
        commands.append(("addLabel", (scene.title, {**common, "position": {"x": 8, "y": y, "z": 0},
                                                    "fontColor": "black", "backgroundColor": "white",
                                                    "backgroundOpacity": 0.8, "fontSize": 14})))
        y += 24
    if scene.legend is not None:
        commands.append(("addLabel", (scene.legend.title, {**common, "position": {"x": 8, "y": y, "z": 0},
                                                           "fontColor": "black", "backgroundColor": "white",
                                                           "backgroundOpacity": 0.8})))
        y += 20
        for label, color in scene.legend.entries:
            commands.append(("addLabel", (label, {**common, "position": {"x": 8, "y": y, "z": 0},
                                                  "fontColor": text_color_on(color), "backgroundColor": color,
                                                  "backgroundOpacity": 1.0})))
            y += 20
    if scene.caption:
        commands.append(("addLabel", (scene.caption, {**common, "position": {"x": 8, "y": height - 28, "z": 0},
                                                      "fontColor": "black", "backgroundColor": "white",
                                                      "backgroundOpacity": 0.8})))
    return commands


def scene_commands(scene: Scene, width: int = 640, height: int = 480,
                   labels: bool = True) -> list[tuple[str, tuple]]:
    """The 3Dmol.js GLViewer calls (method name, JSON-able arguments) that draw ``scene``.

    labels: draw the title, legend and caption inside the viewer (an HTML page shows them as HTML).
    """
    commands: list[tuple[str, tuple]] = [("addModel", (text, "pdb")) for text in scene.structures]
    commands.append(("setStyle", ({}, {})))
    commands += [("addStyle", (layer.selection, layer.style)) for layer in scene.layers]
    if labels:
        commands += label_commands(scene, width, height)
    commands.append(("zoomTo", ()))
    return commands
