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
from collections.abc import Mapping

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
    # Optional integer codes a parser already has: column name -> (distinct values, [N] code per row),
    # with column == np.array(distinct)[codes]; spares build_chains from recoding those columns.
    codes: Mapping[str, tuple[list[str], np.ndarray]] | None = dataclasses.field(default=None, compare=False,
                                                                               repr=False)

    def __len__(self) -> int:
        return len(self.model)

    def take(self, rows: np.ndarray) -> "AtomTable":
        columns = {f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self) if f.name != "codes"}
        codes = None if self.codes is None else {name: (distinct, inverse[rows])
                                                 for name, (distinct, inverse) in self.codes.items()}
        return AtomTable(**columns, codes=codes)


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


@dataclasses.dataclass(frozen=True)
class _Codes:
    """A str column as integer codes: values[i] == distinct[inverse[i]]."""

    distinct: list[str]      # [D] distinct values
    inverse: np.ndarray      # [N] code of each row

    def flag(self, test) -> np.ndarray:
        """[N] bool, ``test(value)`` evaluated once per distinct value."""
        return np.array([bool(test(v)) for v in self.distinct], dtype=bool)[self.inverse]

    def lookup(self, mapping, dtype) -> np.ndarray:
        """[D] ``mapping(value)`` per distinct value (index it with codes)."""
        return np.array([mapping(v) for v in self.distinct], dtype=dtype)


def _string_keys(values: np.ndarray) -> np.ndarray | None:
    """[N] str -> [N] uint64, equal exactly where the strings are; None unless <= 8 characters below U+0100."""
    width = values.dtype.itemsize // 4
    if values.dtype.kind != "U" or width > 8:
        return None
    chars = np.ascontiguousarray(values).view(np.uint32).reshape(len(values), width)   # [N, w]
    if width == 0 or len(values) == 0 or chars.max() >= 256:
        return None
    packed = np.zeros((len(values), 8), dtype=np.uint8)
    packed[:, 8 - width:] = chars
    return packed.view(">u8")[:, 0]


def _column_codes(table: AtomTable, name: str) -> _Codes:
    """Integer codes of a str column of the table: the parser's when it left them, else computed."""
    if table.codes is not None and name in table.codes:
        distinct, inverse = table.codes[name]
        return _Codes(list(distinct), inverse)
    return _codes(getattr(table, name))


def _codes(values: np.ndarray) -> _Codes:
    """Integer codes of a str column (sorting ints, not strings, when the values are short)."""
    keys = _string_keys(values)
    if keys is None:
        distinct, inverse = np.unique(values, return_inverse=True)
        return _Codes([str(v) for v in distinct], inverse.reshape(-1))
    run_start = np.ones(len(keys), dtype=bool)                      # values come in runs (residues, chains)
    run_start[1:] = keys[1:] != keys[:-1]
    distinct_keys = np.unique(keys[run_start])
    inverse = np.searchsorted(distinct_keys, keys)
    first = np.empty(len(distinct_keys), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(keys) - 1, -1, -1)          # first row holding each value
    return _Codes(values[first].tolist(), inverse)


def _is_hydrogen_name(name: str) -> bool:
    return name.lstrip("0123456789")[:1] in ("H", "D")


@dataclasses.dataclass(frozen=True)
class _Residues:
    """Residue segmentation of an atom table (R residues)."""

    start: np.ndarray      # [R] first row of each residue
    of_row: np.ndarray     # [N] residue index of each row


def _segment(chain: np.ndarray, resseq: np.ndarray, icode: np.ndarray, resname: np.ndarray) -> _Residues:
    """Residues = runs of rows with one (chain, number, insertion code, name); all arguments [N] int codes."""
    n = len(chain)
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = ((chain[1:] != chain[:-1]) | (resseq[1:] != resseq[:-1])
                      | (icode[1:] != icode[:-1]) | (resname[1:] != resname[:-1]))
    start = np.flatnonzero(change)
    return _Residues(start=start, of_row=np.cumsum(change) - 1)


@dataclasses.dataclass(frozen=True)
class _Rows:
    """The kept rows of one model (hydrogens and waters gone) with integer codes for the str columns."""

    table: AtomTable
    resname: _Codes
    atom_name: _Codes
    chain: _Codes
    icode: _Codes
    atom37: np.ndarray       # [N] atom37 index, -1 for names outside atom37 (MSE SE -> SD)
    residues: _Residues


def _kept_rows(table: AtomTable, path: str) -> _Rows:
    resname, atom_name = _column_codes(table, "resname"), _column_codes(table, "atom_name")
    hydrogen = (table.element == "H") | (table.element == "D")
    no_element = table.element == ""
    if no_element.any():
        hydrogen |= no_element & atom_name.flag(_is_hydrogen_name)
    drop = hydrogen | resname.flag(lambda r: r in WATER_NAMES)
    if drop.any():
        table = table.take(np.flatnonzero(~drop))
        resname, atom_name = _column_codes(table, "resname"), _column_codes(table, "atom_name")
    if len(table) == 0:
        raise InputError("no protein atoms (only hydrogens or waters)", path=path)
    chain, icode = _column_codes(table, "chain"), _column_codes(table, "icode")
    atom37 = atom_name.lookup(lambda name: rc.ATOM_ORDER.get(name, -1), np.int64)[atom_name.inverse]
    if SELENOMET in resname.distinct and "SE" in atom_name.distinct:
        selenium = ((resname.inverse == resname.distinct.index(SELENOMET))
                    & (atom_name.inverse == atom_name.distinct.index("SE")))
        atom37[selenium] = rc.ATOM_ORDER["SD"]
    residues = _segment(chain.inverse, table.resseq, icode.inverse, resname.inverse)
    return _Rows(table, resname, atom_name, chain, icode, atom37, residues)


def build_chains(table: AtomTable, path: str, chain: str | None = None,
                 all_chains: bool = False) -> list[Protein]:
    """Proteins of the protein chains in ``table`` (one model).

    ``chain`` selects one chain by id ('' or ' ' = blank); None takes the first
    protein chain, or every one when ``all_chains`` is set.
    """
    rows = _kept_rows(table, path)
    residues = rows.residues
    res_of_row = residues.of_row
    n_res = len(residues.start)
    has = np.zeros((n_res, 3), dtype=bool)
    for column, name in enumerate(("N", "CA", "C")):
        has[res_of_row[rows.atom37 == rc.ATOM_ORDER[name]], column] = True
    resname_code = rows.resname.inverse[residues.start]                       # [R]
    het = np.logical_or.reduceat(rows.table.is_hetatm, residues.start)         # [R]
    amino_names = STANDARD_RESNAMES | {SELENOMET, rc.UNK_RESNAME}
    amino_name = rows.resname.lookup(lambda r: r in amino_names, bool)[resname_code]
    nucleotide = rows.resname.lookup(lambda r: r in NUCLEOTIDE_NAMES, bool)[resname_code]
    is_protein = np.where(het, amino_name | (has[:, 0] & has[:, 1] & has[:, 2]), ~nucleotide)
    res_chain = rows.chain.inverse[residues.start]                            # [R] chain code

    protein_chains = res_chain[is_protein]
    distinct, first = np.unique(protein_chains, return_index=True)
    chain_codes = distinct[np.argsort(first)].tolist()                         # in order of appearance
    chain_order = [rows.chain.distinct[code] for code in chain_codes]
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
    return [_build_one(rows, is_protein & (res_chain == chain_codes[chain_order.index(name)]), name, path)
            for name in selected]


def _build_one(rows: _Rows, keep_residue: np.ndarray, chain: str, path: str) -> Protein:
    table, residues, atom37 = rows.table, rows.residues, rows.atom37
    kept = np.flatnonzero(keep_residue)
    kept = _drop_point_mutations(rows, kept)
    new_index = np.full(len(residues.start), -1, dtype=np.int64)
    new_index[kept] = np.arange(len(kept))
    row_res = new_index[residues.of_row]                      # [N] residue in the output, -1 = not kept
    taken = np.flatnonzero((row_res >= 0) & (atom37 >= 0))
    n = len(kept)
    slot = row_res[taken] * rc.ATOM_TYPE_NUM + atom37[taken]  # [M] flat (residue, atom37) slot of each row
    if np.bincount(slot, minlength=n * rc.ATOM_TYPE_NUM).max(initial=0) > 1:
        # Alternate locations: order rows by (slot, -occupancy, file order); keep the first of each slot.
        order = np.lexsort((-table.occupancy[taken], slot))
        taken, slot = taken[order], slot[order]
        first = np.ones(len(taken), dtype=bool)
        first[1:] = slot[1:] != slot[:-1]
        taken, slot = taken[first], slot[first]

    positions = np.zeros((n * rc.ATOM_TYPE_NUM, 3), dtype=np.float32)
    mask = np.zeros(n * rc.ATOM_TYPE_NUM, dtype=np.float32)
    b_factors = np.zeros(n * rc.ATOM_TYPE_NUM, dtype=np.float32)
    positions[slot] = table.coords[taken]
    mask[slot] = 1.0
    b_factors[slot] = table.b_factor[taken]

    starts = residues.start[kept]
    resname_code = rows.resname.inverse[starts]                # [L]
    aatype_of_code = rows.resname.lookup(lambda r: rc.aatype_of("MET" if r == SELENOMET else r), np.int32)
    aatype = aatype_of_code[resname_code]
    counts = np.bincount(resname_code, minlength=len(rows.resname.distinct))
    unknown = sorted((name, int(counts[code])) for code, name in enumerate(rows.resname.distinct)
                     if counts[code] and aatype_of_code[code] == rc.UNK_INDEX and name != rc.UNK_RESNAME)
    if unknown:
        listed = ", ".join(f"{r} x{c}" for r, c in unknown)
        warnings.warn(f"{path}: chain {chain!r}: non-standard residues read as UNK: {listed}", stacklevel=3)
    return Protein(
        aatype=aatype,
        atom_positions=positions.reshape(n, rc.ATOM_TYPE_NUM, 3),      # [L, 37, 3]
        atom_mask=mask.reshape(n, rc.ATOM_TYPE_NUM),                    # [L, 37]
        residue_index=table.resseq[starts].astype(np.int32),
        chain_id=chain,
        b_factors=b_factors.reshape(n, rc.ATOM_TYPE_NUM),               # [L, 37]
        insertion_codes=tuple(table.icode[starts].tolist()),
        resnames=tuple(table.resname[starts].tolist()),
    )


def _drop_point_mutations(rows: _Rows, kept: np.ndarray) -> np.ndarray:
    """Keep one residue per (number, insertion code): the one with the highest mean occupancy."""
    table, residues = rows.table, rows.residues
    starts = residues.start[kept]
    number_keys = table.resseq[starts] * (len(rows.icode.distinct) + 1) + rows.icode.inverse[starts]
    if len(np.unique(number_keys)) == len(number_keys):
        return kept
    keys = list(zip(table.resseq[starts].tolist(), table.icode[starts].tolist()))
    occupancy_sum = np.bincount(residues.of_row, weights=table.occupancy, minlength=len(residues.start))
    atom_count = np.bincount(residues.of_row, minlength=len(residues.start))
    mean_occupancy = occupancy_sum / np.maximum(atom_count, 1)
    best: dict[tuple[int, str], int] = {}
    for residue, key in zip(kept.tolist(), keys):
        if key not in best or mean_occupancy[residue] > mean_occupancy[best[key]]:
            best[key] = residue
    return np.array(sorted(best.values()), dtype=np.int64)
