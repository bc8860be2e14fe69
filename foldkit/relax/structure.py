"""Relaxed chains (heavy atoms in atom37 plus hydrogens) and their PDB / mmCIF text.

Unlike AlphaFold2 (whose relaxed PDB is renumbered from 1, chain A), the
relaxed files keep the input's chain ids, residue numbers and insertion
codes. Every atom of a residue carries the B-factor of the input residue's CA
(pLDDT for predictions), as AlphaFold2 writes it. Atom order per residue:
N, CA, C, O, side chain, OXT, then the hydrogens in OpenMM's order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.errors import FoldkitError
from foldkit.io.mmcif_format import atom_site_line, mmcif_block_name, sequence_and_atom_site_header
from foldkit.io.pdb_format import ATOM_WRITE_ORDER, LINE_WIDTH, pdb_chain_id
from foldkit.protein import Protein

MMCIF_BLANK_CHAIN = "A"


@dataclasses.dataclass(frozen=True)
class RelaxedChain:
    """One relaxed chain."""

    protein: Protein                   # heavy atoms (OXT included), input numbering, B-factors per residue
    hydrogen_residue: np.ndarray       # [H] residue index (into protein)
    hydrogen_names: tuple[str, ...]    # [H]
    hydrogen_positions: np.ndarray     # [H, 3] Å

    @property
    def num_atoms(self) -> int:
        return int(np.count_nonzero(self.protein.atom_mask)) + len(self.hydrogen_names)


def _atom_records(chain: RelaxedChain):
    """(residue index, atom name, element, xyz, B) in writing order."""
    protein = chain.protein
    mask = np.asarray(protein.atom_mask) > 0
    order = np.argsort(chain.hydrogen_residue, kind="stable")
    h_start = np.searchsorted(chain.hydrogen_residue[order], np.arange(len(protein) + 1))
    for i in range(len(protein)):
        b_factor = float(protein.b_factors[i, rc.ATOM_ORDER["CA"]])
        for atom in ATOM_WRITE_ORDER:
            if mask[i, atom]:
                name = rc.ATOM_TYPES[atom]
                yield i, name, name[0], protein.atom_positions[i, atom], b_factor
        for h in order[h_start[i]:h_start[i + 1]]:
            yield i, chain.hydrogen_names[h], "H", chain.hydrogen_positions[h], b_factor


def relaxed_pdb_string(chains: Sequence[RelaxedChain]) -> str:
    """PDB text of the relaxed chains: ATOM records with hydrogens, TER after each chain, END."""
    lines = []
    serial = 1
    for chain in chains:
        protein = chain.protein
        chain_id = pdb_chain_id(protein)
        icodes = protein.insertion_codes or ("",) * len(protein)
        resnames = [rc.resname_of(int(a)) for a in protein.aatype]
        atoms = list(_atom_records(chain))
        positions = np.asarray([atom[3] for atom in atoms], dtype=np.float64)             # [N, 3]
        if len(positions) and (positions.max() >= 9999.9995 or positions.min() <= -999.9995):
            raise FoldkitError("coordinates outside the PDB range (-999.999..9999.999); write mmCIF instead")
        last = 0
        for i, name, element, xyz, b_factor in atoms:
            resseq = int(protein.residue_index[i])
            if not -999 <= resseq <= 9999:
                raise FoldkitError(f"residue number {resseq} does not fit the PDB columns; write mmCIF instead")
            padded = name if len(name) == 4 else f" {name:<3s}"
            x, y, z = (float(v) for v in xyz)
            lines.append(f"ATOM  {serial % 100000:5d} {padded} {resnames[i]:>3s} {chain_id}{resseq:4d}"
                         f"{(icodes[i] or ' ')[:1]}   {x:8.3f}{y:8.3f}{z:8.3f}{1.0:6.2f}{b_factor:6.2f}"
                         f"          {element:>2s}  ")
            serial += 1
            last = i
        if len(protein):
            resseq = int(protein.residue_index[last])
            lines.append(f"TER   {serial % 100000:5d}      {resnames[last]:>3s} {chain_id}{resseq:4d}"
                         f"{(icodes[last] or ' ')[:1]}".ljust(LINE_WIDTH))
            serial += 1
    return "\n".join(lines + ["END".ljust(LINE_WIDTH)]) + "\n"


def relaxed_mmcif_string(chains: Sequence[RelaxedChain], name: str = "foldkit") -> str:
    """mmCIF text of the relaxed chains (one entity per chain, hydrogens included)."""
    block = mmcif_block_name(name)
    chain_ids = [c.protein.chain_id.strip() or MMCIF_BLANK_CHAIN for c in chains]
    lines = [f"data_{block}", "#", f"_entry.id {block}", "#", "loop_", "_entity.id", "_entity.type"]
    lines += [f"{k + 1} polymer" for k in range(len(chains))]
    lines += ["#", "loop_", "_entity_poly.entity_id", "_entity_poly.type"]
    lines += [f"{k + 1} 'polypeptide(L)'" for k in range(len(chains))]
    entities = list(range(1, len(chains) + 1))   # one entity per chain
    lines += sequence_and_atom_site_header(
        {k: [rc.resname_of(int(a)) for a in chain.protein.aatype] for k, chain in zip(entities, chains)},
        chain_ids, entities)
    serial = 1
    for k, (chain, chain_id) in enumerate(zip(chains, chain_ids)):
        protein = chain.protein
        icodes = protein.insertion_codes or ("",) * len(protein)
        for i, atom_name, element, xyz, b_factor in _atom_records(chain):
            resname = rc.resname_of(int(protein.aatype[i]))
            lines.append(atom_site_line(serial, element, atom_name, resname, chain_id, k + 1, i + 1,
                                        icodes[i] or "?", [float(v) for v in xyz], b_factor,
                                        int(protein.residue_index[i])))
            serial += 1
    lines.append("#")
    return "\n".join(lines) + "\n"


def relaxed_text(chains: Sequence[RelaxedChain], fmt: str, name: str = "foldkit") -> str:
    """PDB ('pdb') or mmCIF ('mmcif') text."""
    if fmt == "pdb":
        return relaxed_pdb_string(chains)
    if fmt == "mmcif":
        return relaxed_mmcif_string(chains, name)
    raise ValueError(f"unknown output format {fmt!r}")
