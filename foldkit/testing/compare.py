"""Numerical comparison of foldkit outputs with golden reference arrays.

Tolerances follow ../shared/reference/af2/README.md ("Recommended float32
tolerances per output kind"): an element passes when
``|ours - ref| <= atol + rtol * |ref|``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable

import numpy as np


class Kind(enum.Enum):
    """Output kinds with their recommended float32 tolerance."""

    ACTIVATION = "activation"   # representations, module updates, logits
    POSITION = "position"       # atom positions, translations (Angstrom)
    UNIT = "unit"               # rotations, quaternions, sin/cos, probabilities
    PLDDT = "plddt"             # pLDDT 0-100, ranking confidence
    PAE = "pae"                 # predicted aligned error (Angstrom)
    PTM = "ptm"
    EXACT = "exact"             # masks, integer features, bin edges (strings: equal)
    FEATURE = "feature"         # processed features (deterministic featurizer)
    COORDINATE = "coordinate"   # coordinates copied from structure files (float32 rounding, Angstrom)


@dataclasses.dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float
    atol_scales_with_ref: bool = False  # atol *= max(1, max|ref|)

    def bounds(self, ref: np.ndarray) -> tuple[float, float]:
        atol = self.atol
        if self.atol_scales_with_ref and ref.size:
            atol *= max(1.0, float(np.max(np.abs(ref))))
        return atol, self.rtol


TOLERANCES: dict[Kind, Tolerance] = {
    Kind.ACTIVATION: Tolerance(1e-4, 1e-4, atol_scales_with_ref=True),
    Kind.POSITION: Tolerance(1e-3, 0.0),
    Kind.UNIT: Tolerance(1e-4, 0.0),
    Kind.PLDDT: Tolerance(1e-3, 0.0),
    Kind.PAE: Tolerance(1e-3, 0.0),
    Kind.PTM: Tolerance(1e-5, 0.0),
    Kind.EXACT: Tolerance(0.0, 0.0),
    Kind.FEATURE: Tolerance(1e-6, 0.0),
    Kind.COORDINATE: Tolerance(1e-4, 0.0),
}


@dataclasses.dataclass(frozen=True)
class OutputCheck:
    """One output of a golden case: what foldkit computed and how to compare it.

    ``name`` is the key of the reference array in the golden npz. ``mask``
    (broadcastable to the array) restricts the comparison to well-defined
    entries (e.g. residues with seq_mask 1, well-conditioned torsions).
    ``tolerance`` replaces the kind's tolerance (e.g. a coarse bfloat16 check).
    """

    name: str
    ours: np.ndarray
    kind: Kind
    mask: np.ndarray | None = None
    tolerance: Tolerance | None = None   # overrides the kind's tolerance (coarse checks)
    check_dtype: bool = False            # the dtype must equal the reference's too


def kind_by_rules(name: str, rules: Iterable[tuple[str, Kind]]) -> Kind:
    """The kind of the first ``(pattern, kind)`` rule whose pattern is found in ``name`` without its
    ``recycle<r>/`` prefix (KeyError when none matches)."""
    base = re.sub(r"^recycle\d+/", "", name)
    for pattern, kind in rules:
        if re.search(pattern, base):
            return kind
    raise KeyError(f"no comparison kind for output {name!r}")


def unit_and_position_checks(name: str, ours: np.ndarray, unit_mask: np.ndarray,
                             tolerance: Tolerance | None = None) -> list[OutputCheck]:
    """Frames as two checks: the entries where ``unit_mask`` is 1 (rotation or quaternion) at the unit
    tolerance, the others (translation in Å) at the position tolerance."""
    return [OutputCheck(name, ours, Kind.UNIT, unit_mask, tolerance),
            OutputCheck(name, ours, Kind.POSITION, 1 - unit_mask, tolerance)]


@dataclasses.dataclass(frozen=True)
class CompareResult:
    name: str
    max_abs: float
    max_rel: float
    passed: bool
    detail: str = ""


def compare(check: OutputCheck, ref: np.ndarray) -> CompareResult:
    """Compare ``check.ours`` with ``ref`` at the tolerance of ``check.kind``."""
    ours = np.asarray(check.ours)
    ref = np.asarray(ref)
    if ours.shape != ref.shape:
        return CompareResult(check.name, np.inf, np.inf, False, f"shape {ours.shape} != reference {ref.shape}")
    if check.check_dtype and ours.dtype != ref.dtype:
        return CompareResult(check.name, np.inf, np.inf, False, f"dtype {ours.dtype} != reference {ref.dtype}")
    if ours.dtype.kind in "USO" or ref.dtype.kind in "USO":
        differing = float(np.sum(ours.astype(str) != ref.astype(str))) if ours.size else 0.0
        detail = f"{differing:.0f} of {ref.size} strings differ" if differing else ""
        return CompareResult(check.name, differing, differing / max(ref.size, 1), differing == 0, detail)
    if check.mask is not None:
        keep = np.broadcast_to(np.asarray(check.mask) > 0, ref.shape)
        ours, ref = ours[keep], ref[keep]
    ours64 = ours.astype(np.float64)
    ref64 = ref.astype(np.float64)
    diff = np.abs(ours64 - ref64)
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(ref64).max()) if ref64.size else 0.0
    max_rel = max_abs / scale if scale > 0 else max_abs
    atol, rtol = (check.tolerance or TOLERANCES[check.kind]).bounds(ref64)
    if check.kind is Kind.EXACT:
        passed = bool(np.array_equal(ours64, ref64))
    else:
        passed = bool(np.all(np.isfinite(ours64)) and np.all(diff <= atol + rtol * np.abs(ref64)))
    return CompareResult(check.name, max_abs, max_rel, passed)
