"""Minimal prediction plots (pLDDT per residue, PAE heatmaps, MSA coverage) as PNG bytes.

Used by ``foldkit predict`` while :mod:`foldkit.viz.plots` does not provide
them. Figures are built with matplotlib's object API on the Agg canvas (no
pyplot global state) and returned as bytes so that callers write them
atomically.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from foldkit.io.msa_files import Msa

CONFIDENCE_BANDS = ((90, 100, "#0053d6"), (70, 90, "#65cbf3"), (50, 70, "#ffdb13"), (0, 50, "#ff7d45"))


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def plddt_png(curves: Sequence[tuple[str, np.ndarray]], title: str = "") -> bytes:
    """pLDDT [L] per residue for each (name, plddt), over the AlphaFold DB confidence bands."""
    figure = Figure(figsize=(8, 4))
    axes = figure.add_subplot()
    for low, high, colour in CONFIDENCE_BANDS:
        axes.axhspan(low, high, color=colour, alpha=0.12, linewidth=0)
    for name, plddt in curves:
        plddt = np.asarray(plddt)
        axes.plot(np.arange(1, len(plddt) + 1), plddt, label=f"{name} ({np.mean(plddt):.1f})", linewidth=1.2)
    axes.set_xlim(1, max(2, max(len(p) for _, p in curves)))
    axes.set_ylim(0, 100)
    axes.set_xlabel("residue")
    axes.set_ylabel("pLDDT")
    axes.set_title(title or "Predicted lDDT per residue")
    axes.legend(fontsize=7, loc="lower right")
    return _png(figure)


def pae_png(matrices: Sequence[tuple[str, np.ndarray]], max_pae: float = 31.75, title: str = "") -> bytes:
    """One PAE heatmap [L, L] (Å; row = aligned frame, column = scored residue) per (name, pae)."""
    count = len(matrices)
    figure = Figure(figsize=(3.6 * count + 0.8, 3.6))
    axes_list = figure.subplots(1, count, squeeze=False)[0]
    image = None
    for axes, (name, pae) in zip(axes_list, matrices):
        length = np.asarray(pae).shape[0]
        image = axes.imshow(pae, cmap="Greens_r", vmin=0, vmax=max_pae,
                            extent=(0.5, length + 0.5, length + 0.5, 0.5))
        axes.set_title(name, fontsize=8)
        axes.set_xlabel("scored residue")
        axes.set_ylabel("aligned residue")
    figure.colorbar(image, ax=list(axes_list), label="expected position error (Å)", shrink=0.8)
    if title:
        figure.suptitle(title)
    return _png(figure)


def msa_coverage_png(msa: Msa, title: str = "") -> bytes:
    """MSA rows (sorted by identity to the query) coloured by identity, with per-column coverage."""
    sequences = np.array([list(s) for s in msa.sequences])                     # [N, L]
    query = sequences[0]
    aligned = sequences != "-"                                                  # [N, L]
    identity = np.where(aligned, (sequences == query[None]).astype(float), np.nan)  # [N, L]
    row_identity = np.nansum(identity, axis=1) / np.maximum(aligned.sum(axis=1), 1)  # [N]
    order = np.argsort(-row_identity, kind="stable")
    shaded = np.where(aligned, row_identity[:, None], np.nan)[order]           # [N, L]
    figure = Figure(figsize=(8, 4.5))
    axes = figure.add_subplot()
    num_rows, length = shaded.shape
    image = axes.imshow(shaded, cmap="rainbow_r", vmin=0, vmax=1, aspect="auto", interpolation="nearest",
                        extent=(0.5, length + 0.5, num_rows - 0.5, -0.5))
    axes.plot(np.arange(1, length + 1), aligned.sum(axis=0) - 0.5, color="black", linewidth=1)
    axes.set_xlim(0.5, length + 0.5)
    axes.set_ylim(num_rows - 0.5, -0.5)
    axes.set_xlabel("query residue")
    axes.set_ylabel("sequences")
    axes.set_title(title or f"MSA coverage ({num_rows} sequences)")
    figure.colorbar(image, ax=axes, label="sequence identity to query")
    return _png(figure)
