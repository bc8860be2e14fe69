"""Score a model against a native: every metric in one call, one ``Scores`` record."""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.eval.correspondence import Correspondence, by_alignment, by_residue_number
from foldkit.eval.gdt import GDT_CUTOFFS, GdtResult, gdt_from_search
from foldkit.eval.lddt import NativePairs, lddt, native_pairs
from foldkit.eval.rmsd import all_atom_rmsd, ca_rmsd
from foldkit.eval.search import SearchConfig, search
from foldkit.eval.superpose import PairMoments
from foldkit.eval.tm import TmResult, tm_d0, tm_from_search, tm_search_radius
from foldkit.protein import Protein

CA = rc.ATOM_ORDER["CA"]


@dataclasses.dataclass(frozen=True)
class Scores:
    """All scores of one model/native pair. GDT 0-100; TM-score and lDDT 0-1; RMSD in A.

    gdt_cutoffs: {cutoff A: percent of native residues under it};
    per_residue_lddt / per_residue_distance: [n_native residues] (NaN where not
    defined; distances after the best 4 A GDT superposition).
    """

    gdt_ts: float
    gdt_ha: float
    tm_score: float
    lddt: float
    lddt_ca: float
    rmsd_ca: float
    rmsd_all: float
    n_model: int
    n_native: int
    n_common: int
    identity: float
    gdt_cutoffs: dict[float, float]
    per_residue_lddt: np.ndarray
    per_residue_distance: np.ndarray
    gdt: GdtResult
    tm: TmResult

    def to_dict(self) -> dict:
        """The JSON record of ``foldkit score --json``."""
        return {
            "gdt_ts": round(self.gdt_ts, 4), "gdt_ha": round(self.gdt_ha, 4), "tm_score": round(self.tm_score, 4),
            "lddt": _rounded(self.lddt), "lddt_ca": _rounded(self.lddt_ca), "rmsd_ca": _rounded(self.rmsd_ca, 3),
            "rmsd_all": _rounded(self.rmsd_all, 3), "n_model": self.n_model, "n_native": self.n_native,
            "n_common": self.n_common, "identity": round(self.identity, 4),
            "gdt_cutoffs": {f"{c:g}": round(p, 4) for c, p in self.gdt_cutoffs.items()},
        }


def _rounded(value: float, digits: int = 4) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def native_lddt_pairs(native: Protein) -> tuple[NativePairs, NativePairs]:
    """The native side of all-atom and CA lDDT, for :func:`score_structures`."""
    return (native_pairs(native.atom_positions, native.atom_mask),
            native_pairs(native.atom_positions, native.atom_mask, ca_only=True))


def match_residues(model: Protein, native: Protein, align: bool = False, force: bool = False,
                   model_name: str = "model", native_name: str = "native") -> Correspondence:
    """Residue correspondence, refusing empty or CA-less structures, no common residues and
    (matching by number, unless ``force``) residues whose names differ."""
    for protein, name in ((model, model_name), (native, native_name)):
        if len(protein) == 0:
            raise InputError("no residues (empty structure)", path=name)
        if not (protein.ca_mask > 0).any():
            raise InputError("no CA atoms", path=name)
    corr = by_alignment(model, native) if align else by_residue_number(model, native)
    has_ca = (model.ca_mask[corr.model_index] > 0) & (native.ca_mask[corr.native_index] > 0)
    if not has_ca.any():
        how = "after sequence alignment" if align else "by residue number (try --align)"
        raise InputError(f"no residues with CA atoms in common with {native_name} {how}", path=model_name)
    if corr.mismatches and not force and not align:
        shown = ", ".join(f"{where} model {m} native {n}" for where, m, n in corr.mismatches[:3])
        raise InputError(f"residue names differ from {native_name} at {len(corr.mismatches)} of {corr.n_pairs} "
                         f"matched residues (identity {100 * corr.identity:.1f}%; {shown}); "
                         "use --force to score anyway, or --align to match by sequence", path=model_name)
    return corr


def score_structures(model: Protein, native: Protein, align: bool = False, force: bool = False,
                     model_name: str = "model", native_name: str = "native",
                     config: SearchConfig = SearchConfig(),
                     lddt_references: tuple[NativePairs, NativePairs] | None = None) -> Scores:
    """Score ``model`` against ``native`` (GDT_TS/HA, TM-score, lDDT all-atom and CA, RMSD).

    lddt_references: ``native_lddt_pairs(native)``, to reuse when scoring many models against one native.
    """
    corr = match_residues(model, native, align=align, force=force, model_name=model_name, native_name=native_name)
    mi, ni = corr.model_index, corr.native_index
    has_ca = (model.ca_mask[mi] > 0) & (native.ca_mask[ni] > 0)
    x = model.atom_positions[mi[has_ca], CA].astype(np.float64)        # [N, 3]
    y = native.atom_positions[ni[has_ca], CA].astype(np.float64)       # [N, 3]
    n_native = int((native.ca_mask > 0).sum())

    d0 = tm_d0(n_native)
    moments = PairMoments.of(x, y)
    outcome = search(moments, radii=GDT_CUTOFFS + (tm_search_radius(d0),), cutoffs=GDT_CUTOFFS, d0=d0,
                     config=config)
    gdt_result = gdt_from_search(outcome, moments, n_native)
    tm_result = tm_from_search(outcome, moments, n_native, d0)

    # model atoms laid out on the native's residues, for lDDT
    L = len(native)
    model_pos = np.zeros((L, rc.ATOM_TYPE_NUM, 3))
    model_mask = np.zeros((L, rc.ATOM_TYPE_NUM))
    model_pos[ni] = model.atom_positions[mi]
    model_mask[ni] = model.atom_mask[mi]
    ref_all, ref_ca = lddt_references or native_lddt_pairs(native)
    all_atom = lddt(model_pos, model_mask, aatype=native.aatype, reference=ref_all)
    ca_only = lddt(model_pos, model_mask, aatype=native.aatype, reference=ref_ca)

    per_residue_distance = np.full(L, np.nan)
    per_residue_distance[ni[has_ca]] = gdt_result.distances
    return Scores(
        gdt_ts=gdt_result.gdt_ts, gdt_ha=gdt_result.gdt_ha, tm_score=tm_result.tm_score,
        lddt=all_atom.score, lddt_ca=ca_only.score, rmsd_ca=ca_rmsd(x, y),
        rmsd_all=all_atom_rmsd(model.atom_positions[mi], model.atom_mask[mi],
                               native.atom_positions[ni], native.atom_mask[ni]),
        n_model=int((model.ca_mask > 0).sum()), n_native=n_native, n_common=len(x), identity=corr.identity,
        gdt_cutoffs=gdt_result.percentages, per_residue_lddt=all_atom.per_residue,
        per_residue_distance=per_residue_distance, gdt=gdt_result, tm=tm_result)
