"""lDDT over a whole complex and over its interfaces (ilDDT), without stereochemistry checks.

The single-chain lDDT of :mod:`foldkit.eval.lddt` applied to the target's
chains concatenated: every heavy-atom pair of the target from different
residues closer than 15 A, the model's atoms laid out on the target residues
through the chain mapping and alignments (target residues without model
counterpart, including whole unmapped chains, count as not conserved; model-only
chains are ignored), symmetric side-chain names resolved per residue. ilDDT
keeps only the pairs whose residues lie in different chains. This is
OpenStructure 2.10's ``lddt`` / ``ilddt`` with ``--lddt-no-stereochecks``;
``bb_lddt`` is the CA-only variant.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit import constants as rc
from foldkit.eval.complex.residue_map import ResidueMap
from foldkit.eval.complex.structure import Complex
from foldkit.eval.lddt import LddtResult, NativePairs, lddt, native_pairs


@dataclasses.dataclass(frozen=True)
class ComplexLddtReference:
    """The target side of complex lDDT (reusable for many models): all-atom, inter-chain and CA pairs."""

    all_atom: NativePairs
    interchain: NativePairs
    ca: NativePairs

    @classmethod
    def of(cls, target: Complex) -> "ComplexLddtReference":
        all_atom = native_pairs(target.positions, target.mask)
        return cls(all_atom=all_atom, interchain=interchain_pairs(all_atom, target.chain_of_residue),
                   ca=native_pairs(target.positions, target.mask, ca_only=True))


def _select_blocks(reference: NativePairs, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair rows [P'], new block_start [B' + 1] and block rows [B'] of the blocks where ``keep`` [B] is set."""
    starts, stops = reference.block_start[:-1][keep], reference.block_start[1:][keep]
    sizes = stops - starts
    rows = (np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
            + np.arange(int(sizes.sum())))
    return rows, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), np.flatnonzero(keep)


def interchain_pairs(reference: NativePairs, chain_of_residue: np.ndarray) -> NativePairs:
    """The blocks of ``reference`` whose two residues lie in different chains."""
    blocks = reference.block_residues
    between = chain_of_residue[blocks[:, 0]] != chain_of_residue[blocks[:, 1]]
    rows, block_start, kept = _select_blocks(reference, between)
    return dataclasses.replace(reference, pairs=reference.pairs[rows], d_native=reference.d_native[rows],
                               block_start=block_start, block_residues=blocks[kept])


def chain_pairs(reference: NativePairs, chain_start: np.ndarray, chain: int) -> NativePairs:
    """The native pairs of one chain alone (its intra-chain blocks, re-based to the chain's residues and
    atoms): what :func:`native_pairs` gives for that chain, without recomputing it."""
    r0, r1 = int(chain_start[chain]), int(chain_start[chain + 1])
    a0, a1 = np.searchsorted(reference.res_of_atom, [r0, r1])
    blocks = reference.block_residues
    rows, block_start, kept = _select_blocks(reference, (blocks[:, 0] >= r0) & (blocks[:, 1] < r1))
    return NativePairs(res_of_atom=reference.res_of_atom[a0:a1] - r0, atom_of_atom=reference.atom_of_atom[a0:a1],
                       pairs=reference.pairs[rows] - a0, d_native=reference.d_native[rows], block_start=block_start,
                       block_residues=blocks[kept] - r0, n_residues=r1 - r0, ca_only=reference.ca_only)


def model_on_target(target: Complex, model: Complex, mapping: ResidueMap) -> tuple[np.ndarray, np.ndarray]:
    """Model atoms laid out on the target's residues: positions [R_t, 37, 3], mask [R_t, 37]."""
    positions = np.zeros((target.n_residues, rc.ATOM_TYPE_NUM, 3), dtype=np.float32)
    mask = np.zeros((target.n_residues, rc.ATOM_TYPE_NUM), dtype=bool)
    has = mapping.target_to_model >= 0
    positions[has] = model.positions[mapping.target_to_model[has]]
    mask[has] = model.mask[mapping.target_to_model[has]]
    return positions, mask


@dataclasses.dataclass(frozen=True)
class ComplexLddt:
    lddt: LddtResult
    ilddt: LddtResult
    bb_lddt: LddtResult


def complex_lddt(target: Complex, model: Complex, mapping: ResidueMap,
                 reference: ComplexLddtReference | None = None) -> ComplexLddt:
    reference = reference or ComplexLddtReference.of(target)
    positions, mask = model_on_target(target, model, mapping)
    aatype = target.aatype
    return ComplexLddt(lddt=lddt(positions, mask, aatype=aatype, reference=reference.all_atom),
                       ilddt=lddt(positions, mask, aatype=aatype, reference=reference.interchain),
                       bb_lddt=lddt(positions, mask, aatype=aatype, reference=reference.ca))
