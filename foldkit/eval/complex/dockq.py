"""DockQ per interface (Basu & Wallner 2016; v2: Mirabello & Wallner 2024) and its complex averages.

For a target interface (chain pair with >= 1 heavy-atom contact < 5 A) whose
two chains are mapped:

* fnat: fraction of the native residue contacts (any heavy-atom pair < 5 A)
  whose aligned model residues are in contact too; fnonnat: fraction of the
  model contacts between aligned residues that are not native contacts;
* iRMSD: backbone (N, CA, C, O) RMSD after superposing the interface residues
  (native residues with any heavy atom within 10 A of the other chain);
* LRMSD: superposed on the receptor's backbone, RMSD of the ligand's backbone;
  the receptor is the native chain with more residues. On a tie OpenStructure
  takes the alphabetically first chain id, DockQ 2 the chain later in the file: both are
  computed (``lrmsd`` / ``dockq`` follow OpenStructure, ``*_dockq_receptor`` DockQ);
* DockQ = (fnat + 1 / (1 + (iRMSD / 1.5)^2) + 1 / (1 + (LRMSD / 8.5)^2)) / 3.

Complex level: ``dockq_ave`` / ``dockq_wave`` (mean / native-contact-weighted
mean over the mapped target interfaces; the ``_full`` variants count unmapped
target interfaces as 0) as OpenStructure reports them, and DockQ 2's
``GlobalDockQ`` (mean over the scored interfaces under the mapping that
maximises the sum of DockQ, DockQ's receptor convention).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.complex.alignment import ChainGroups
from foldkit.eval.complex.contacts import ComplexContacts, ResiduePairs
from foldkit.eval.complex.mapping import MAX_ENUMERATED, enumerate_mappings, count_mappings
from foldkit.eval.complex.residue_map import PairAlignments, ResidueMap
from foldkit.eval.complex.structure import BACKBONE, Complex
from foldkit.eval.superpose import apply, kabsch

IRMSD_SCALE = 1.5
LRMSD_SCALE = 8.5


def dockq_formula(fnat: float, irmsd: float, lrmsd: float) -> float:
    return (fnat + 1.0 / (1.0 + (irmsd / IRMSD_SCALE) ** 2) + 1.0 / (1.0 + (lrmsd / LRMSD_SCALE) ** 2)) / 3.0


@dataclasses.dataclass(frozen=True)
class DockqInterface:
    """DockQ of one target interface (target chains t1 < t2 in file order) and its model chains."""

    target_chains: tuple[int, int]
    model_chains: tuple[int, int]
    fnat: float
    fnonnat: float
    irmsd: float
    lrmsd: float
    dockq: float
    receptor: int                  # target chain used as receptor (OpenStructure's tie-break)
    lrmsd_dockq_receptor: float
    dockq_dockq_receptor: float
    receptor_dockq: int            # DockQ 2's receptor
    n_native_contacts: int
    n_model_contacts: int
    n_native_kept: int

    @property
    def f1(self) -> float:
        total = self.n_native_contacts + self.n_model_contacts
        return 2.0 * self.n_native_kept / total if total else 0.0


def _backbone(positions: np.ndarray, mask: np.ndarray, target_res: np.ndarray, model_res: np.ndarray,
              model_positions: np.ndarray, model_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paired backbone atoms present in both: model xyz [K, 3], target xyz [K, 3]."""
    bb = np.asarray(BACKBONE)
    both = mask[target_res][:, bb] & model_mask[model_res][:, bb]                     # [n, 4]
    t_xyz = positions[target_res][:, bb][both].astype(np.float64)
    m_xyz = model_positions[model_res][:, bb][both].astype(np.float64)
    return m_xyz, t_xyz


def _rmsd(x: np.ndarray, y: np.ndarray) -> float:
    diff = x - y
    return float(np.sqrt((diff * diff).sum(1).mean())) if len(x) else float("nan")


def _pair_keys(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    return first * n + second


def receptors(target: Complex, t1: int, t2: int) -> tuple[int, int]:
    """The receptor (native chain with more residues) of interface t1 < t2: OpenStructure's choice (tie: the
    alphabetically first chain id) and DockQ 2's (tie: the chain later in the file)."""
    len1, len2 = len(target.chains[t1]), len(target.chains[t2])
    if len1 != len2:
        larger = t1 if len1 > len2 else t2
        return larger, larger
    first = t1 if target.chain_ids[t1] <= target.chain_ids[t2] else t2
    return first, t2


class DockqCalculator:
    """Per-interface DockQ of one target/model pair, cached per (t1, t2, m1, m2)."""

    def __init__(self, alignments: PairAlignments, target_contacts: ComplexContacts,
                 model_contacts: ComplexContacts):
        self.alignments = alignments
        self.target, self.model = alignments.target, alignments.model
        self.target_contacts, self.model_contacts = target_contacts, model_contacts
        self._cache: dict[tuple[int, int, int, int], DockqInterface] = {}

    def target_interfaces(self) -> list[tuple[int, int]]:
        return self.target_contacts.contacts.chain_pairs()

    def interface(self, t1: int, t2: int, m1: int, m2: int) -> DockqInterface:
        key = (t1, t2, m1, m2)
        if key not in self._cache:
            self._cache[key] = self._compute(t1, t2, m1, m2)
        return self._cache[key]

    def _compute(self, t1: int, t2: int, m1: int, m2: int) -> DockqInterface:
        target, model = self.target, self.model
        fwd1, bwd1 = self.alignments.maps(t1, m1)
        fwd2, bwd2 = self.alignments.maps(t2, m2)
        fwd = np.full(target.n_residues, -1, dtype=np.int64)             # target -> model on this pair
        fwd[target.chain_start[t1]:target.chain_start[t1 + 1]] = fwd1
        fwd[target.chain_start[t2]:target.chain_start[t2 + 1]] = fwd2
        bwd = np.full(model.n_residues, -1, dtype=np.int64)
        bwd[model.chain_start[m1]:model.chain_start[m1 + 1]] = bwd1
        bwd[model.chain_start[m2]:model.chain_start[m2 + 1]] = bwd2

        native: ResiduePairs = self.target_contacts.contacts.between(t1, t2)
        modelled: ResiduePairs = self.model_contacts.contacts.between(m1, m2)
        n_t = target.n_residues
        native_keys = _pair_keys(native.first, native.second, n_t)
        back_first, back_second = bwd[modelled.first], bwd[modelled.second]
        aligned = (back_first >= 0) & (back_second >= 0)
        model_keys = _pair_keys(back_first[aligned], back_second[aligned], n_t)
        kept = np.isin(native_keys, model_keys)
        n_native, n_model = len(native_keys), int(aligned.sum())
        fnat = float(kept.sum()) / n_native if n_native else 0.0
        fnonnat = float((~np.isin(model_keys, native_keys)).sum()) / n_model if n_model else 0.0

        near = self.target_contacts.near.between(t1, t2)
        interface = np.unique(np.concatenate([near.first, near.second]))
        interface = interface[fwd[interface] >= 0]
        m_xyz, t_xyz = _backbone(target.positions, target.mask, interface, fwd[interface], model.positions,
                                 model.mask)
        irmsd = _superposed_rmsd(m_xyz, t_xyz)

        receptor_ost, receptor_dockq = receptors(target, t1, t2)
        lrmsd_ost = self._lrmsd(fwd, receptor_ost, t2 if receptor_ost == t1 else t1)
        lrmsd_dq = lrmsd_ost if receptor_dockq == receptor_ost else self._lrmsd(fwd, receptor_dockq, receptor_ost)
        return DockqInterface(
            target_chains=(t1, t2), model_chains=(m1, m2), fnat=fnat, fnonnat=fnonnat, irmsd=irmsd, lrmsd=lrmsd_ost,
            dockq=dockq_formula(fnat, irmsd, lrmsd_ost), receptor=receptor_ost, lrmsd_dockq_receptor=lrmsd_dq,
            dockq_dockq_receptor=dockq_formula(fnat, irmsd, lrmsd_dq), receptor_dockq=receptor_dockq,
            n_native_contacts=n_native, n_model_contacts=n_model, n_native_kept=int(kept.sum()))

    def _lrmsd(self, fwd: np.ndarray, receptor: int, ligand: int) -> float:
        target, model = self.target, self.model

        def chain_atoms(chain):
            res = np.arange(target.chain_start[chain], target.chain_start[chain + 1])
            res = res[fwd[res] >= 0]
            return _backbone(target.positions, target.mask, res, fwd[res], model.positions, model.mask)

        rec_m, rec_t = chain_atoms(receptor)
        lig_m, lig_t = chain_atoms(ligand)
        if len(rec_m) < 3 or not len(lig_m):
            return float("nan")
        rot, trans = kabsch(rec_m, rec_t)
        return _rmsd(apply(rot, trans, lig_m), lig_t)


def _superposed_rmsd(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3:
        return float("nan")
    rot, trans = kabsch(x, y)
    return _rmsd(apply(rot, trans, x), y)


@dataclasses.dataclass(frozen=True)
class DockqResult:
    """DockQ of every mapped target interface and the complex averages (None where nothing is mapped)."""

    interfaces: tuple[DockqInterface, ...]
    reference_interfaces: tuple[tuple[int, int], ...]   # target interfaces with >= 1 contact
    native_contacts: dict[tuple[int, int], int]         # per reference interface
    dockq_ave: float | None
    dockq_wave: float | None
    dockq_ave_full: float | None
    dockq_wave_full: float | None


def dockq_scores(calculator: DockqCalculator, mapping: ResidueMap) -> DockqResult:
    """Per-interface DockQ under ``mapping`` and OpenStructure's averages."""
    references = tuple(calculator.target_interfaces())
    contacts = {pair: len(calculator.target_contacts.contacts.between(*pair)) for pair in references}
    interfaces = []
    for t1, t2 in references:
        m1, m2 = mapping.chain_map[t1], mapping.chain_map[t2]
        if m1 >= 0 and m2 >= 0:
            interfaces.append(calculator.interface(t1, t2, m1, m2))
    scores = np.array([i.dockq for i in interfaces])
    weights = np.array([contacts[i.target_chains] for i in interfaces], dtype=np.float64)
    total_weight = float(sum(contacts.values()))
    ave = float(scores.mean()) if len(scores) else None
    wave = float((scores * weights).sum() / weights.sum()) if len(scores) and weights.sum() > 0 else None
    ave_full = float(scores.sum() / len(references)) if references else None
    wave_full = float((scores * weights).sum() / total_weight) if references and total_weight > 0 else None
    return DockqResult(interfaces=tuple(interfaces), reference_interfaces=references, native_contacts=contacts,
                       dockq_ave=ave, dockq_wave=wave, dockq_ave_full=ave_full, dockq_wave_full=wave_full)


@dataclasses.dataclass(frozen=True)
class GlobalDockq:
    """DockQ 2's GlobalDockQ: its chain mapping (maximum sum of DockQ) and the interfaces scored under it."""

    chain_map: tuple[int, ...]
    interfaces: tuple[DockqInterface, ...]
    global_dockq: float | None


def global_dockq(calculator: DockqCalculator, groups: ChainGroups, fallback: tuple[int, ...],
                 max_enumerated: int = MAX_ENUMERATED) -> GlobalDockq:
    """GlobalDockQ the way DockQ 2 defines it (receptor tie-break: DockQ's); ``fallback`` is used when there
    are more mappings than ``max_enumerated``."""
    references = calculator.target_interfaces()
    n_target = len(calculator.target.chains)
    if count_mappings(groups) <= max_enumerated:
        maps = enumerate_mappings(groups, n_target)
    else:
        maps = np.asarray([fallback])
    best_map, best_sum, best_ifs = tuple(int(m) for m in maps[0]), -1.0, ()
    for row in maps:
        ifs = tuple(calculator.interface(t1, t2, int(row[t1]), int(row[t2]))
                    for t1, t2 in references if row[t1] >= 0 and row[t2] >= 0)
        total = sum(i.dockq_dockq_receptor for i in ifs)
        if total > best_sum + 1e-12:
            best_map, best_sum, best_ifs = tuple(int(m) for m in row), total, ifs
    value = best_sum / len(best_ifs) if best_ifs else None
    return GlobalDockq(chain_map=best_map, interfaces=best_ifs, global_dockq=value)
