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
    block = "".join(c if c.isalnum() or c in "_-." else "_" for c in name) or "foldkit"
    chain_ids = [c.protein.chain_id.strip() or MMCIF_BLANK_CHAIN for c in chains]
    lines = [f"data_{block}", "#", f"_entry.id {block}", "#", "loop_", "_entity.id", "_entity.type"]
    lines += [f"{k + 1} polymer" for k in range(len(chains))]
    lines += ["#", "loop_", "_entity_poly.entity_id", "_entity_poly.type"]
    lines += [f"{k + 1} 'polypeptide(L)'" for k in range(len(chains))]
    lines += ["#", "loop_", "_entity_poly_seq.entity_id", "_entity_poly_seq.num", "_entity_poly_seq.mon_id",
              "_entity_poly_seq.hetero"]
    all_names: set[str] = set()
    for k, chain in enumerate(chains):
        names = [rc.resname_of(int(a)) for a in chain.protein.aatype]
        all_names.update(names)
        lines += [f"{k + 1} {i + 1} {r} n" for i, r in enumerate(names)]
    lines += ["#", "loop_", "_struct_asym.id", "_struct_asym.entity_id"]
    lines += [f"{c} {k + 1}" for k, c in enumerate(chain_ids)]
    lines += ["#", "loop_", "_chem_comp.id", "_chem_comp.type"]
    lines += [f"{r} 'L-peptide linking'" for r in sorted(all_names)]
    lines += ["#", "loop_"] + [f"_atom_site.{tag}" for tag in (
        "group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id",
        "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z",
        "occupancy", "B_iso_or_equiv", "pdbx_formal_charge", "auth_seq_id", "auth_comp_id",
        "auth_asym_id", "auth_atom_id", "pdbx_PDB_model_num")]
    serial = 1
    for k, (chain, chain_id) in enumerate(zip(chains, chain_ids)):
        protein = chain.protein
        icodes = protein.insertion_codes or ("",) * len(protein)
        for i, atom_name, element, xyz, b_factor in _atom_records(chain):
            resname = rc.resname_of(int(protein.aatype[i]))
            x, y, z = (float(v) for v in xyz)
            lines.append(f"ATOM {serial} {element} {atom_name} . {resname} {chain_id} {k + 1} {i + 1} "
                         f"{icodes[i] or '?'} {x:.3f} {y:.3f} {z:.3f} 1.00 {b_factor:.2f} ? "
                         f"{int(protein.residue_index[i])} {resname} {chain_id} {atom_name} 1")
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
