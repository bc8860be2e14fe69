"""CASP-style GDT plots: percent of native residues under a distance cutoff, one line per model."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from foldkit.eval.search import CURVE_CUTOFFS

MAX_PANELS = 48


def plot_gdt_curves(curve_rows: list[dict], path: str | Path) -> Path:
    """Draw one panel per evaluation unit (up to ``MAX_PANELS``) into ``path`` (PNG, matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_unit: dict[str, list[dict]] = defaultdict(list)
    for row in curve_rows:
        unit = row["target"] + (f"-{row['domain']}" if row["domain"] else "")
        by_unit[unit].append(row)
    units = sorted(by_unit)[:MAX_PANELS] or ["(no models)"]
    ncols = min(6, len(units))
    nrows = math.ceil(len(units) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.6 * nrows), squeeze=False,
                             sharex=True, sharey=True)
    cutoffs = [0.0] + list(CURVE_CUTOFFS)
    for ax, unit in zip(axes.flat, units):
        for row in by_unit.get(unit, []):
            try:
                values = [0.0] + [float(row[f"{c:g}"]) for c in CURVE_CUTOFFS]
            except (KeyError, ValueError):
                continue
            ax.plot(cutoffs, values, lw=0.8, alpha=0.8)
        ax.set_title(f"{unit} ({len(by_unit.get(unit, []))})", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(units):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("distance cutoff [A]", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("% residues", fontsize=8)
    axes[0, 0].set_xlim(0, 10)
    axes[0, 0].set_ylim(0, 100)
    # fixed margins in inches (tight_layout measures every tick label of every panel: seconds for 48 panels)
    width, height = fig.get_size_inches()
    fig.suptitle("GDT: percent of native residues within the cutoff (one line per model)", fontsize=10,
                 y=1 - 0.12 / height, va="top")
    fig.subplots_adjust(left=0.55 / width, right=1 - 0.15 / width, bottom=0.5 / height, top=1 - 0.65 / height,
                        wspace=0.08 * 6 / ncols, hspace=0.3)
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
