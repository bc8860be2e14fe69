"""Inter-chain residue contacts of one structure, computed once and shared by every interface score.

* heavy-atom contacts: residue pairs of different chains with any heavy-atom pair
  < 5 A (DockQ's fnat, ICS, IPS); pairs up to 10 A are kept for DockQ's interface
  residues (iRMSD);
* QS contacts: CB-CB (CA for Gly) < 12 A (QS-score).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.complex.contacts_kernel import interchain_pairs
from foldkit.eval.complex.structure import Complex

CONTACT_CUTOFF = 5.0
INTERFACE_CUTOFF = 10.0
QS_CUTOFF = 12.0


@dataclasses.dataclass(frozen=True)
class ResiduePairs:
    """Residue pairs of different chains: first [P] and second [P] (global residue indices, first in the
    lower chain), their chains, and a distance [P]."""

    first: np.ndarray
    second: np.ndarray
    chain_first: np.ndarray
    chain_second: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.first)

    def take(self, keep: np.ndarray) -> "ResiduePairs":
        return ResiduePairs(self.first[keep], self.second[keep], self.chain_first[keep], self.chain_second[keep],
                            self.distance[keep])

    def between(self, c1: int, c2: int) -> "ResiduePairs":
        """The pairs of chains c1 and c2, oriented so that ``first`` lies in c1."""
        forward = (self.chain_first == c1) & (self.chain_second == c2)
        backward = (self.chain_first == c2) & (self.chain_second == c1)
        if not backward.any():
            return self.take(forward)
        fwd, bwd = self.take(forward), self.take(backward)
        return ResiduePairs(np.concatenate([fwd.first, bwd.second]), np.concatenate([fwd.second, bwd.first]),
                            np.full(len(fwd) + len(bwd), c1), np.full(len(fwd) + len(bwd), c2),
                            np.concatenate([fwd.distance, bwd.distance]))

    def chain_pairs(self) -> list[tuple[int, int]]:
        """Distinct (lower chain, higher chain) pairs present."""
        if not len(self):
            return []
        return sorted({(int(a), int(b)) for a, b in zip(self.chain_first, self.chain_second)})


def _pairs(structure: Complex, xyz: np.ndarray, residue_start: np.ndarray, cutoff: float) -> ResiduePairs:
    first, second, dist = interchain_pairs(xyz, residue_start, structure.chain_start, float(cutoff))
    chains = structure.chain_of_residue
    return ResiduePairs(first, second, chains[first], chains[second], dist)


@dataclasses.dataclass(frozen=True)
class ComplexContacts:
    """near: heavy-atom pairs < 10 A (min distance); contacts: those < 5 A; qs: CB pairs < 12 A."""

    near: ResiduePairs
    contacts: ResiduePairs
    qs: ResiduePairs

    @classmethod
    def of(cls, structure: Complex) -> "ComplexContacts":
        xyz, residue_start = structure.heavy_atoms
        near = _pairs(structure, xyz, residue_start, INTERFACE_CUTOFF)
        rep = structure.representative                                        # [R, 3], NaN where missing
        has = ~np.isnan(rep[:, 0])
        rep_start = np.concatenate([[0], np.cumsum(has)]).astype(np.int64)   # empty residue where missing
        qs = _pairs(structure, np.ascontiguousarray(rep[has]), rep_start, QS_CUTOFF)
        return cls(near=near, contacts=near.take(near.distance < CONTACT_CUTOFF), qs=qs)
