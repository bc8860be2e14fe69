"""Per-group summary of a scored target set, ranked CASP-style by summed GDT_TS z-scores.

z-scores follow the usual CASP assessment recipe: per evaluation unit, over
the first model of every group (model_index 1; all rows where a unit has none)
z = (GDT_TS - mean) / sd; models with z < -2 are dropped as outliers and
mean and sd recomputed without them; negative z count as 0 in the sum (so a
poor model is not penalised beyond missing it). With fewer than two models
or sd = 0 a unit contributes z = 0.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

SUMMARY_COLUMNS = ("group", "count", "units", "mean_gdt_ts", "median_gdt_ts", "sum_z")


@dataclasses.dataclass(frozen=True)
class GroupSummary:
    group: str
    count: int
    units: int
    mean_gdt_ts: float
    median_gdt_ts: float
    sum_z: float

    def as_row(self) -> dict:
        return {"group": self.group, "count": self.count, "units": self.units,
                "mean_gdt_ts": f"{self.mean_gdt_ts:.2f}", "median_gdt_ts": f"{self.median_gdt_ts:.2f}",
                "sum_z": f"{self.sum_z:.3f}"}


def unit_z_scores(values: np.ndarray) -> np.ndarray:
    """CASP z-scores [M] of one unit's GDT_TS values [M] (outliers below -2 removed, then recomputed)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2 or values.std() == 0:
        return np.zeros(len(values))
    z = (values - values.mean()) / values.std()
    core = values[z >= -2.0]
    if len(core) < 2 or core.std() == 0:
        return np.zeros(len(values))
    return (values - core.mean()) / core.std()


def summarize(rows: list[dict]) -> list[GroupSummary]:
    """One summary per group, best (highest sum of z) first."""
    by_unit: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for row in rows:
        if not row.get("gdt_ts"):
            continue
        unit = (row["target"], row["domain"])
        first = str(row.get("model_index")) == "1"
        group, value = row["group"], float(row["gdt_ts"])
        # keep one value per group and unit: model 1 if present, else the best
        current = by_unit[unit].get(group)
        if current is None or (first and not current[1]) or (first == current[1] and value > current[0]):
            by_unit[unit][group] = (value, first)
    sum_z: dict[str, float] = defaultdict(float)
    for values in by_unit.values():
        groups = sorted(values)
        z = unit_z_scores(np.array([values[g][0] for g in groups]))
        for g, zg in zip(groups, z):
            sum_z[g] += max(float(zg), 0.0)
    gdt_by_group: dict[str, list[float]] = defaultdict(list)
    units_by_group: dict[str, set] = defaultdict(set)
    for row in rows:
        if row.get("gdt_ts"):
            gdt_by_group[row["group"]].append(float(row["gdt_ts"]))
            units_by_group[row["group"]].add((row["target"], row["domain"]))
    summaries = [GroupSummary(group=g, count=len(v), units=len(units_by_group[g]), mean_gdt_ts=float(np.mean(v)),
                              median_gdt_ts=float(np.median(v)), sum_z=sum_z.get(g, 0.0))
                 for g, v in gdt_by_group.items()]
    return sorted(summaries, key=lambda s: (-s.sum_z, -s.mean_gdt_ts, s.group))


def format_summary(summaries: list[GroupSummary]) -> str:
    """The printed table."""
    header = f"{'group':>6} {'count':>6} {'units':>6} {'mean GDT_TS':>12} {'median GDT_TS':>14} {'sum z':>8}"
    lines = [header, "-" * len(header)]
    for s in summaries:
        lines.append(f"{s.group:>6} {s.count:>6} {s.units:>6} {s.mean_gdt_ts:>12.2f} {s.median_gdt_ts:>14.2f} "
                     f"{s.sum_z:>8.3f}")
    return "\n".join(lines)
