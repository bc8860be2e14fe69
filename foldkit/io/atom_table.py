"""Column arrays of atom records (from PDB, mmCIF or CASP TS) and their conversion to ``Protein``.

The format parsers fill an :class:`AtomTable` (one row per ATOM/HETATM
record, numpy columns, no per-atom Python objects); :func:`build_chains`
turns it into one :class:`Protein` per chain of one model:

* hydrogens (element H/D) and waters are dropped;
* a residue is kept if it comes from ATOM records (nucleotides excepted) or,
  for HETATM records, if it is a standard amino acid / MSE or carries N, CA
  and C (a modified amino acid); other HETATM groups are ligands and dropped;
* MSE becomes MET (its SE atom becomes SD); other non-standard residues
  become UNK (aatype 20) with a warning; ``resnames`` keeps the names as read;
* alternate locations: per atom, the highest occupancy wins (first on ties);
  point mutations (two residue names at one number) keep the residue with
  the higher mean occupancy;
* atoms whose names are not atom37 names are ignored; residues without CA
  are kept (``atom_mask`` tells).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.protein import Protein

WATER_NAMES = frozenset({"HOH", "WAT", "DOD", "H2O", "TIP", "TIP3", "SOL"})
NUCLEOTIDE_NAMES = frozenset({"A", "C", "G", "U", "T", "I", "N", "DA", "DC", "DG", "DT", "DU", "DI", "DN"})
STANDARD_RESNAMES = frozenset(rc.RESTYPE_1TO3.values())
SELENOMET = "MSE"


@dataclasses.dataclass(frozen=True)
class AtomTable:
    """One row per atom record, in file order (N rows)."""

    model: np.ndarray        # [N] int, model number (MODEL n / pdbx_PDB_model_num)
    chain: np.ndarray        # [N] str, chain id ('' when blank)
    resseq: np.ndarray       # [N] int, residue number
    icode: np.ndarray        # [N] str, insertion code ('' when none)
    resname: np.ndarray      # [N] str, residue name
    atom_name: np.ndarray    # [N] str, atom name (stripped)
    altloc: np.ndarray       # [N] str, alternate location ('' when none)
    element: np.ndarray      # [N] str, element symbol (upper case, may be '')
    is_hetatm: np.ndarray    # [N] bool, HETATM record
    coords: np.ndarray       # [N, 3] float64
    occupancy: np.ndarray    # [N] float64
    b_factor: np.ndarray     # [N] float64

    def __len__(self) -> int:
        return len(self.model)

    def take(self, rows: np.ndarray) -> "AtomTable":
        return AtomTable(**{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)})


def model_numbers(table: AtomTable) -> list[int]:
    """Model numbers in file order."""
    _, first = np.unique(table.model, return_index=True)
    return [int(table.model[i]) for i in sorted(first)]


def select_model(table: AtomTable, model: int | None, path: str) -> AtomTable:
    """Rows of one model (None = the first in the file)."""
    numbers = model_numbers(table)
    if not numbers:
        raise InputError("no ATOM/HETATM records", path=path)
    wanted = numbers[0] if model is None else int(model)
    if wanted not in numbers:
        raise InputError(f"model {wanted} not found; models in the file: {_short_list(numbers)}", path=path)
    if len(numbers) == 1:
        return table
    return table.take(np.flatnonzero(table.model == wanted))


def _short_list(items: list) -> str:
    text = ", ".join(str(i) for i in items[:20])
    return text + (f", ... ({len(items)} in all)" if len(items) > 20 else "")


def _is_hydrogen(table: AtomTable) -> np.ndarray:
    element = table.element
    by_element = (element == "H") | (element == "D")
    no_element = element == ""
    if no_element.any():
        stripped = np.char.lstrip(table.atom_name.astype(str), "0123456789")
        by_name = np.char.startswith(stripped, "H") | np.char.startswith(stripped, "D")
        by_element |= no_element & by_name
    return by_element


@dataclasses.dataclass(frozen=True)
class _Residues:
    """Residue segmentation of an atom table (R residues)."""

    start: np.ndarray      # [R] first row of each residue
    of_row: np.ndarray     # [N] residue index of each row


def _segment(table: AtomTable) -> _Residues:
    n = len(table)
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = ((table.chain[1:] != table.chain[:-1]) | (table.resseq[1:] != table.resseq[:-1])
                      | (table.icode[1:] != table.icode[:-1]) | (table.resname[1:] != table.resname[:-1]))
    start = np.flatnonzero(change)
    return _Residues(start=start, of_row=np.cumsum(change) - 1)


def _atom37_index(table: AtomTable) -> np.ndarray:
    """[N] atom37 index of each row, -1 for names outside atom37 (MSE SE -> SD)."""
    names, inverse = np.unique(table.atom_name, return_inverse=True)
    lookup = np.array([rc.ATOM_ORDER.get(str(name), -1) for name in names], dtype=np.int64)
    index = lookup[inverse.reshape(-1)]
    selenium = (table.resname == SELENOMET) & (table.atom_name == "SE")
    if selenium.any():
        index[selenium] = rc.ATOM_ORDER["SD"]
    return index


def build_chains(table: AtomTable, path: str, chain: str | None = None,
                 all_chains: bool = False) -> list[Protein]:
    """Proteins of the protein chains in ``table`` (one model).

    ``chain`` selects one chain by id ('' or ' ' = blank); None takes the first
    protein chain, or every one when ``all_chains`` is set.
    """
    keep_rows = ~_is_hydrogen(table) & ~np.isin(table.resname, list(WATER_NAMES))
    table = table.take(np.flatnonzero(keep_rows))
    if len(table) == 0:
        raise InputError("no protein atoms (only hydrogens or waters)", path=path)
    residues = _segment(table)
    atom37 = _atom37_index(table)
    res_of_row = residues.of_row
    n_res = len(residues.start)
    has = np.zeros((n_res, 3), dtype=bool)
    for column, name in enumerate(("N", "CA", "C")):
        rows = atom37 == rc.ATOM_ORDER[name]
        has[res_of_row[rows], column] = True
    resname = table.resname[residues.start]
    het = np.zeros(n_res, dtype=bool)
    np.logical_or.at(het, res_of_row, table.is_hetatm)
    amino_name = np.isin(resname, list(STANDARD_RESNAMES | {SELENOMET, rc.UNK_RESNAME}))
    is_protein = np.where(het, amino_name | has.all(axis=1), ~np.isin(resname, list(NUCLEOTIDE_NAMES)))
    res_chain = table.chain[residues.start]

    chain_order = []
    for chain_name in res_chain[is_protein]:
        if not chain_order or chain_order[-1] != chain_name:
            if chain_name not in chain_order:
                chain_order.append(str(chain_name))
    if not chain_order:
        raise InputError("no protein residues (no amino-acid ATOM/HETATM records)", path=path)
    if chain is not None:
        wanted = chain.strip()
        if wanted not in chain_order:
            shown = ", ".join(repr(c) if c else "'' (blank)" for c in chain_order)
            raise InputError(f"chain {chain!r} not found; protein chains: {shown}", path=path)
        selected = [wanted]
    else:
        selected = chain_order if all_chains else chain_order[:1]
    return [_build_one(table, residues, atom37, is_protein & (res_chain == name), name, path)
            for name in selected]


def _build_one(table: AtomTable, residues: _Residues, atom37: np.ndarray, keep_residue: np.ndarray,
               chain: str, path: str) -> Protein:
    kept = np.flatnonzero(keep_residue)
    kept = _drop_point_mutations(table, residues, kept)
    new_index = np.full(len(residues.start), -1, dtype=np.int64)
    new_index[kept] = np.arange(len(kept))
    row_res = new_index[residues.of_row]                      # [N] residue in the output, -1 = not kept
    rows = np.flatnonzero((row_res >= 0) & (atom37 >= 0))
    # Alternate locations: order rows by (residue, atom, -occupancy, file order); keep the first of each.
    order = np.lexsort((-table.occupancy[rows], atom37[rows], row_res[rows]))
    rows = rows[order]
    key = row_res[rows] * rc.ATOM_TYPE_NUM + atom37[rows]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    rows = rows[first]

    n = len(kept)
    positions = np.zeros((n, rc.ATOM_TYPE_NUM, 3), dtype=np.float32)   # [L, 37, 3]
    mask = np.zeros((n, rc.ATOM_TYPE_NUM), dtype=np.float32)           # [L, 37]
    b_factors = np.zeros((n, rc.ATOM_TYPE_NUM), dtype=np.float32)      # [L, 37]
    positions[row_res[rows], atom37[rows]] = table.coords[rows]
    mask[row_res[rows], atom37[rows]] = 1.0
    b_factors[row_res[rows], atom37[rows]] = table.b_factor[rows]

    starts = residues.start[kept]
    resnames = tuple(str(r) for r in table.resname[starts])
    aatype = np.array([rc.aatype_of("MET" if r == SELENOMET else r) for r in resnames], dtype=np.int32)
    unknown = sorted({r for r, a in zip(resnames, aatype) if a == rc.UNK_INDEX and r != rc.UNK_RESNAME})
    if unknown:
        counts = {r: resnames.count(r) for r in unknown}
        listed = ", ".join(f"{r} x{c}" for r, c in counts.items())
        warnings.warn(f"{path}: chain {chain!r}: non-standard residues read as UNK: {listed}", stacklevel=3)
    icodes = tuple(str(c) for c in table.icode[starts])
    return Protein(
        aatype=aatype,
        atom_positions=positions,
        atom_mask=mask,
        residue_index=table.resseq[starts].astype(np.int32),
        chain_id=chain,
        b_factors=b_factors,
        insertion_codes=icodes,
        resnames=resnames,
    )


def _drop_point_mutations(table: AtomTable, residues: _Residues, kept: np.ndarray) -> np.ndarray:
    """Keep one residue per (number, insertion code): the one with the highest mean occupancy."""
    starts = residues.start[kept]
    keys = list(zip(table.resseq[starts].tolist(), table.icode[starts].tolist()))
    if len(set(keys)) == len(keys):
        return kept
    occupancy_sum = np.bincount(residues.of_row, weights=table.occupancy, minlength=len(residues.start))
    atom_count = np.bincount(residues.of_row, minlength=len(residues.start))
    mean_occupancy = occupancy_sum / np.maximum(atom_count, 1)
    best: dict[tuple[int, str], int] = {}
    for residue, key in zip(kept.tolist(), keys):
        if key not in best or mean_occupancy[residue] > mean_occupancy[best[key]]:
            best[key] = residue
    return np.array(sorted(best.values()), dtype=np.int64)
