"""The violation check after each minimisation: the model's violation definitions on the heavy atoms.

Uses :func:`foldkit.train.violations.violation_masks` (tolerance factor 12,
clash overlap 1.5 Å, AlphaFold2's CA-C-N tolerance) on the heavy atoms of an
all-atom model, residues numbered by :attr:`ModelLayout.relax_index` so that
peptide bonds are checked inside segments only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit import constants as rc
from foldkit.protein import atom37_to_atom14
from foldkit.relax.cleanup import AllAtomModel, RelaxError
from foldkit.train.violations import AF2_CA_C_N_STDDEV, violation_masks

TOLERANCE_FACTOR = 12.0
CLASH_OVERLAP = 1.5


@dataclasses.dataclass(frozen=True)
class HeavyAtoms:
    """Heavy atoms of an all-atom model in atom37 layout (R residues)."""

    aatype: np.ndarray        # [R]
    positions: np.ndarray     # [R, 37, 3] Å
    mask: np.ndarray          # [R, 37]


@dataclasses.dataclass(frozen=True)
class AtomSlots:
    """Where each atom of a topology goes in atom37 (hydrogens: nowhere)."""

    residue: np.ndarray       # [N] residue index
    slot: np.ndarray          # [N] atom37 index, -1 for hydrogens
    aatype: np.ndarray        # [R]

    @staticmethod
    def of(model: AllAtomModel) -> "AtomSlots":
        aatype = np.array([rc.aatype_of(r.name) for r in model.topology.residues()], dtype=np.int32)
        residue, slot = [], []
        for atom, is_h in zip(model.topology.atoms(), model.hydrogen):
            residue.append(atom.residue.index)
            index = -1 if is_h else rc.ATOM_ORDER.get(atom.name, -2)
            if index == -2:
                raise RelaxError(f"atom {atom.name} of residue {atom.residue.name} {atom.residue.id} is not a "
                                 "standard heavy atom")
            slot.append(index)
        return AtomSlots(np.asarray(residue, np.int64), np.asarray(slot, np.int64), aatype)

    def heavy_atoms(self, positions: np.ndarray) -> HeavyAtoms:
        """atom37 arrays of the heavy atoms at ``positions`` ([N, 3] Å)."""
        heavy = self.slot >= 0
        num_res = len(self.aatype)
        atom37 = np.zeros((num_res, rc.ATOM_TYPE_NUM, 3), np.float64)
        mask = np.zeros((num_res, rc.ATOM_TYPE_NUM), np.float32)
        atom37[self.residue[heavy], self.slot[heavy]] = positions[heavy]
        mask[self.residue[heavy], self.slot[heavy]] = 1.0
        return HeavyAtoms(self.aatype, atom37, mask)


def violating_residues(heavy: HeavyAtoms, relax_index: np.ndarray) -> np.ndarray:
    """[R] bool: residues with a peptide-bond, clash or within-residue violation."""
    atom14 = atom37_to_atom14(heavy.positions.astype(np.float32), heavy.aatype)
    mask14 = atom37_to_atom14(heavy.mask, heavy.aatype)
    masks = violation_masks(atom14, heavy.aatype, mask14, relax_index, tolerance_factor=TOLERANCE_FACTOR,
                            overlap_tolerance=CLASH_OVERLAP, ca_c_n_stddev=AF2_CA_C_N_STDDEV)
    return masks["per_residue"]
