"""Matplotlib plots: pLDDT per residue, PAE heatmaps (with chain boundaries for complexes), MSA coverage,
GDT curves.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot,
no global state), so they work headless and in threads. Each function returns
a ``PlotFigure`` (a matplotlib ``Figure``); in a notebook it displays itself, and :func:`figure_png` gives
PNG bytes for files and HTML pages.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from foldkit import constants as rc
from foldkit.viz.colors import PLDDT_BANDS

GAP = "-"
DEFAULT_MAX_PAE = 31.75   # AlphaFold2's largest PAE bin edge (Å)


class PlotFigure(Figure):
    """A matplotlib Figure that shows itself as PNG in notebooks without pyplot."""

    def _repr_png_(self) -> bytes:
        return figure_png(self)


def figure_png(figure: Figure, dpi: int = 100) -> bytes:
    """PNG bytes of ``figure``."""
    if figure.canvas is None or not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def _named(curves, default_name: str) -> list[tuple[str, np.ndarray]]:
    """Accept one array, a list of arrays, a list of (name, array) or a {name: array} mapping."""
    if isinstance(curves, Mapping):
        return [(str(k), np.asarray(v, dtype=np.float64)) for k, v in curves.items()]
    if isinstance(curves, np.ndarray) or (len(curves) and np.isscalar(curves[0])):
        return [(default_name, np.asarray(curves, dtype=np.float64))]
    named = []
    for k, item in enumerate(curves):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            named.append((item[0], np.asarray(item[1], dtype=np.float64)))
        else:
            named.append((f"{default_name} {k + 1}", np.asarray(item, dtype=np.float64)))
    return named


def chain_starts(chain_lengths: Sequence[int] | None) -> list[int]:
    """0-based first residue of every chain after the first (where a boundary line goes)."""
    if not chain_lengths or len(chain_lengths) < 2:
        return []
    return [int(x) for x in np.cumsum(chain_lengths)[:-1]]


def _mark_chains(axes, chain_lengths: Sequence[int] | None, chain_ids: Sequence[str] | None, *,
                 vertical: bool = True, horizontal: bool = False, label_axis: str = "x") -> None:
    """Lines between chains (at residue k + 0.5 on 1-based axes) and chain ids centred over each chain."""
    if not chain_lengths or len(chain_lengths) < 2:
        return
    for start in chain_starts(chain_lengths):
        if vertical:
            axes.axvline(start + 0.5, color="black", linewidth=0.9, alpha=0.8)
        if horizontal:
            axes.axhline(start + 0.5, color="black", linewidth=0.9, alpha=0.8)
    ids = list(chain_ids) if chain_ids else [chr(ord("A") + k) if k < 26 else str(k + 1)
                                             for k in range(len(chain_lengths))]
    ends = np.cumsum(chain_lengths)
    centres = ends - np.asarray(chain_lengths) / 2 + 0.5
    twin = axes.secondary_xaxis("top") if label_axis == "x" else axes.secondary_yaxis("right")
    getattr(twin, f"set_{label_axis}ticks")(centres, ids)
    twin.tick_params(length=0, labelsize=8)


def plot_plddt(plddt, residue_numbers: Sequence[int] | None = None, title: str = "Predicted lDDT per residue",
               ylabel: str = "pLDDT", chain_lengths: Sequence[int] | None = None,
               chain_ids: Sequence[str] | None = None) -> Figure:
    """pLDDT (0-100) per residue over the AlphaFold DB confidence bands.

    plddt: [L] array, a list of them, (name, [L]) pairs or {name: [L]}; the
    legend shows each curve's mean. residue_numbers: x values of the first
    curve's residues (default 1..L). chain_lengths (a complex, chains in
    order): x runs over the concatenated chains, with a line between chains
    and each chain's id (``chain_ids``, default A, B, ...) on top.
    """
    if chain_lengths is not None and len(chain_lengths) > 1:
        residue_numbers = None            # the position in the complex, not per-chain numbers
    curves = _named(plddt, "model")
    if not curves:
        raise ValueError("no pLDDT curves to plot")
    figure = PlotFigure(figsize=(8, 3.6))
    axes = figure.add_subplot()
    for band in PLDDT_BANDS:
        axes.axhspan(max(band.low, 0), min(band.high, 100), color=band.color, alpha=0.18, linewidth=0,
                     label=None)
    longest = 1
    for name, values in curves:
        x = (np.asarray(residue_numbers) if residue_numbers is not None and len(residue_numbers) == len(values)
             else np.arange(1, len(values) + 1))
        breaks = [b for b in chain_starts(chain_lengths) if b < len(values)]
        shown_x = np.insert(x.astype(np.float64), breaks, np.nan)        # no line across a chain boundary
        shown = np.insert(values, breaks, np.nan)
        axes.plot(shown_x, shown, linewidth=1.3, label=f"{name} (mean {np.nanmean(values):.1f})")
        longest = max(longest, len(values))
    axes.set_ylim(0, 100)
    axes.set_xlabel("residue" if not chain_starts(chain_lengths) else "residue (chains concatenated)")
    axes.set_ylabel(ylabel)
    axes.set_title(title, pad=18 if chain_starts(chain_lengths) else None)
    _mark_chains(axes, chain_lengths, chain_ids)
    axes.grid(alpha=0.25)
    handles, labels = axes.get_legend_handles_labels()
    band_handles = [Patch(color=b.color, alpha=0.6) for b in PLDDT_BANDS]
    axes.legend(handles + band_handles, labels + [b.label for b in PLDDT_BANDS], fontsize=7,
                loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return figure


def plot_pae(pae, max_pae: float | None = None, title: str = "Predicted aligned error",
             chain_lengths: Sequence[int] | None = None, chain_ids: Sequence[str] | None = None) -> Figure:
    """PAE heatmap(s) in Å: row = residue the structure is aligned on, column = residue scored.

    pae: [L, L] array, a list of them, (name, [L, L]) pairs or {name: [L, L]}.
    chain_lengths (a complex): lines at the chain boundaries, which frame the
    intra-chain blocks on the diagonal and the interface blocks off it; chain
    ids (``chain_ids``, default A, B, ...) label the columns.
    """
    matrices = _named(pae, "model") if not (isinstance(pae, np.ndarray) and pae.ndim == 2) else [("", pae)]
    if not matrices:
        raise ValueError("no PAE matrices to plot")
    for name, matrix in matrices:
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"PAE {name!r} has shape {matrix.shape}, expected [L, L]")
    top = DEFAULT_MAX_PAE if max_pae is None else max_pae     # larger errors saturate
    count = len(matrices)
    figure = PlotFigure(figsize=(3.4 * count + 1.0, 3.4))
    axes_row = figure.subplots(1, count, squeeze=False)[0]
    image = None
    for axes, (name, matrix) in zip(axes_row, matrices):
        n = matrix.shape[0]
        image = axes.imshow(matrix, cmap="Greens_r", vmin=0, vmax=top, extent=(0.5, n + 0.5, n + 0.5, 0.5),
                            interpolation="nearest")
        if chain_lengths is not None and sum(chain_lengths) != n:
            raise ValueError(f"chain lengths {list(chain_lengths)} do not add up to the PAE size {n}")
        axes.set_title(name or title, fontsize=9, pad=18 if chain_starts(chain_lengths) else None)
        axes.set_xlabel("scored residue")
        axes.set_ylabel("aligned residue")
        _mark_chains(axes, chain_lengths, chain_ids, vertical=True, horizontal=True)
    figure.colorbar(image, ax=list(axes_row), shrink=0.85, label="expected position error (Å)")
    if count > 1:
        figure.suptitle(title)
    return figure


def msa_arrays(msa) -> tuple[np.ndarray, np.ndarray]:
    """(present [N, L] bool, identity [N] to the query) of an MSA.

    msa: a foldkit ``Msa``, a sequence of aligned strings (row 0 = query), or an
    integer array [N, L] of AlphaFold residue indices where 21 is the gap.
    """
    if hasattr(msa, "sequences"):
        msa = msa.sequences
    if isinstance(msa, np.ndarray) and msa.dtype.kind in "iu":
        tokens = msa.astype(np.int64)                                      # [N, L]
        gap_index = len(rc.RESTYPES) + 1                                   # 21 = gap in AF2's HHblits order
        present = tokens != gap_index
    else:
        rows = [str(s) for s in msa]
        if not rows:
            raise ValueError("empty MSA")
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise ValueError("MSA rows have different lengths (insertions must be removed)")
        tokens = np.array([list(r) for r in rows]).reshape(len(rows), width)  # [N, L] characters
        present = tokens != GAP
    same = (tokens == tokens[0:1]) & present
    query_present = present[0]
    identity = same[:, query_present].sum(1) / max(int(query_present.sum()), 1)
    return present, identity


def plot_msa_coverage(msa, title: str = "Sequence coverage", chain_lengths: Sequence[int] | None = None,
                      chain_ids: Sequence[str] | None = None) -> Figure:
    """ColabFold-style coverage: every sequence (sorted by identity to the query, most similar on
    top) drawn where it is aligned, coloured by its identity; the black line counts the aligned
    sequences per position. chain_lengths (a complex's merged MSA): lines between the chains."""
    present, identity = msa_arrays(msa)
    order = np.argsort(-identity, kind="stable")
    image = np.where(present[order], identity[order, None], np.nan)      # [N, L]
    n, width = image.shape
    figure = PlotFigure(figsize=(8, 4))
    axes = figure.add_subplot()
    shown = axes.imshow(image, aspect="auto", cmap="rainbow_r", vmin=0, vmax=1, interpolation="nearest",
                        origin="lower", extent=(0.5, width + 0.5, n, 0))
    axes.plot(np.arange(1, width + 1), present.sum(0), color="black", linewidth=1.2, label="coverage")
    axes.set_xlim(0.5, width + 0.5)
    axes.set_ylim(0, max(n, 1))
    axes.set_xlabel("position")
    axes.set_ylabel("sequences")
    axes.set_title(f"{title} ({n} sequences)", pad=18 if chain_starts(chain_lengths) else None)
    _mark_chains(axes, chain_lengths, chain_ids)
    figure.colorbar(shown, ax=axes, label="sequence identity to query")
    return figure


def gdt_curve_values(curve: Mapping[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(cutoffs, percents) sorted by cutoff, starting at (0, 0)."""
    items = sorted((float(c), float(p)) for c, p in curve.items())
    cutoffs = np.array([0.0] + [c for c, _ in items])
    percents = np.array([0.0] + [p for _, p in items])
    return cutoffs, percents


def plot_gdt_curves(curves: Mapping[str, Mapping[float, float]] | Sequence[tuple[str, Mapping[float, float]]],
                    title: str = "GDT: residues within distance cutoff") -> Figure:
    """Percent of native residues under each distance cutoff, one line per model.

    curves: {model name: {cutoff Å: percent}} (``Scores.gdt_cutoffs``) or
    (name, curve) pairs; a ``Scores`` object may stand for a curve.
    """
    items = list(curves.items()) if isinstance(curves, Mapping) else list(curves)
    if not items:
        raise ValueError("no GDT curves to plot")
    figure = PlotFigure(figsize=(6.5, 4.2))
    axes = figure.add_subplot()
    for name, curve in items:
        if hasattr(curve, "gdt_cutoffs"):
            label = f"{name} (GDT_TS {curve.gdt_ts:.1f})"
            curve = curve.gdt_cutoffs
        else:
            label = name
        cutoffs, percents = gdt_curve_values(curve)
        axes.plot(cutoffs, percents, marker=".", linewidth=1.3, label=label)
    axes.set_xlim(0, 10)
    axes.set_ylim(0, 100)
    axes.set_xlabel("distance cutoff (Å)")
    axes.set_ylabel("% of native residues")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    return figure
