"""Per-residue colour schemes shared by the 3D views, the HTML page and the plots.

Every scheme turns a list of chains into one hex colour per residue plus a
legend, so that the 3D view, its legend and the matplotlib plots agree and
can be tested without a browser.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.protein import Protein

CA = rc.ATOM_ORDER["CA"]
MISSING_COLOR = "#BDBDBD"


@dataclasses.dataclass(frozen=True)
class ColorBand:
    """Values in (low, high] (or [low, high) when not ``upper_closed``) get ``color``."""

    label: str
    low: float
    high: float
    color: str
    upper_closed: bool = True

    def holds(self, values: np.ndarray) -> np.ndarray:
        if self.upper_closed:
            return (values > self.low) & (values <= self.high)
        return (values >= self.low) & (values < self.high)


@dataclasses.dataclass(frozen=True)
class Legend:
    """A colour key: ``entries`` are (label, hex colour), shown top to bottom."""

    title: str
    entries: tuple[tuple[str, str], ...]


# AlphaFold DB confidence bands (same thresholds as confidence_*.json categories:
# VH > 90 >= H > 70 >= L > 50 >= VL).
PLDDT_BANDS = (
    ColorBand("Very high (pLDDT > 90)", 90.0, np.inf, "#0053D6"),
    ColorBand("Confident (90 ≥ pLDDT > 70)", 70.0, 90.0, "#65CBF3"),
    ColorBand("Low (70 ≥ pLDDT > 50)", 50.0, 70.0, "#FFDB13"),
    ColorBand("Very low (pLDDT ≤ 50)", -np.inf, 50.0, "#FF7D45"),
)

# Model-to-native CA distance after the best GDT superposition, on the GDT cutoffs
# (GDT counts d < cutoff, so the bands are closed below).
DEVIATION_BANDS = (
    ColorBand("< 1 Å", -np.inf, 1.0, "#1A9850", upper_closed=False),
    ColorBand("1-2 Å", 1.0, 2.0, "#91CF60", upper_closed=False),
    ColorBand("2-4 Å", 2.0, 4.0, "#FEE08B", upper_closed=False),
    ColorBand("4-8 Å", 4.0, 8.0, "#FC8D59", upper_closed=False),
    ColorBand("≥ 8 Å", 8.0, np.inf, "#D73027", upper_closed=False),
)
NOT_MATCHED_COLOR = "#9467BD"
NATIVE_COLOR = "#B0B0B0"

CHAIN_PALETTE = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2",
                 "#7F7F7F", "#BCBD22", "#17BECF")

# Residue classes for color="residue" (one-letter codes).
RESIDUE_CLASSES = (
    ("hydrophobic (AVLIMC)", "AVLIMC", "#E0C060"),
    ("aromatic (FWY)", "FWY", "#B07A30"),
    ("polar (STNQH)", "STNQH", "#60B060"),
    ("positive (KR)", "KR", "#3060E0"),
    ("negative (DE)", "DE", "#E04040"),
    ("special (GP)", "GP", "#B0B0B0"),
    ("unknown (X)", "X", "#606060"),
)

RAINBOW_STEPS = 24
SCHEMES = ("plddt", "chain", "rainbow", "residue")


def band_index(values: np.ndarray, bands: Sequence[ColorBand]) -> np.ndarray:
    """[N] index of the first band holding each value; -1 for NaN or values outside every band."""
    values = np.asarray(values, dtype=np.float64)
    index = np.full(values.shape, -1, dtype=np.int64)
    for k, band in enumerate(bands):
        index[band.holds(values) & (index < 0)] = k
    return index


def band_colors(values: np.ndarray, bands: Sequence[ColorBand], missing: str = MISSING_COLOR) -> list[str]:
    """One hex colour per value; NaN gets ``missing``."""
    index = band_index(values, bands)
    return [bands[k].color if k >= 0 else missing for k in index]


def band_legend(title: str, bands: Sequence[ColorBand]) -> Legend:
    return Legend(title, tuple((b.label, b.color) for b in bands))


def residue_plddt(protein: Protein) -> np.ndarray:
    """[L] pLDDT per residue read from the B-factor column: the CA's, else the mean of present atoms."""
    mask = np.asarray(protein.atom_mask) > 0                           # [L, 37]
    b = np.asarray(protein.b_factors, dtype=np.float64)                # [L, 37]
    counts = mask.sum(1)
    mean = np.where(counts > 0, (b * mask).sum(1) / np.maximum(counts, 1), np.nan)
    return np.where(mask[:, CA], b[:, CA], mean)


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(255 * min(max(c, 0.0), 1.0)):02X}" for c in rgb[:3])


def rainbow_palette(steps: int = RAINBOW_STEPS) -> list[str]:
    """``steps`` colours from blue (N-terminus) to red (C-terminus)."""
    from matplotlib import colormaps

    cmap = colormaps["jet"]
    return [_hex(cmap(0.1 + 0.8 * k / max(steps - 1, 1))) for k in range(steps)]


def residue_colors(chains: Sequence[Protein], scheme: str) -> tuple[list[list[str]], Legend]:
    """One hex colour per residue of each chain under ``scheme`` and its legend."""
    if scheme == "plddt":
        colors = [band_colors(residue_plddt(p), PLDDT_BANDS) for p in chains]
        return colors, band_legend("pLDDT (B-factor column)", PLDDT_BANDS)
    if scheme == "chain":
        colors, entries = [], []
        for k, protein in enumerate(chains):
            color = CHAIN_PALETTE[k % len(CHAIN_PALETTE)]
            colors.append([color] * len(protein))
            entries.append((f"chain {protein.chain_id.strip() or '(blank)'}", color))
        return colors, Legend("Chain", tuple(entries))
    if scheme == "rainbow":
        palette = rainbow_palette()
        colors = []
        for protein in chains:
            n = len(protein)
            steps = (np.arange(n) * len(palette)) // max(n, 1)
            colors.append([palette[int(s)] for s in steps])
        return colors, Legend("Residue position", (("N-terminus", palette[0]), ("middle", palette[len(palette) // 2]),
                                                   ("C-terminus", palette[-1])))
    if scheme == "residue":
        by_letter = {letter: color for _, letters, color in RESIDUE_CLASSES for letter in letters}
        colors = [[by_letter.get(letter, by_letter["X"]) for letter in p.sequence] for p in chains]
        return colors, Legend("Residue type", tuple((label, color) for label, _, color in RESIDUE_CLASSES))
    raise ValueError(f"unknown colour scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")


def text_color_on(background: str) -> str:
    """Black or white, whichever reads better on the hex ``background``."""
    r, g, b = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "#FFFFFF"
