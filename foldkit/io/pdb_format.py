"""PDB format: fixed-column ATOM/HETATM records -> ``AtomTable``, and ``Protein`` -> PDB text.

Parsing is vectorised: the ATOM/HETATM lines are laid into an [N, 80] byte
matrix (straight from the file bytes when the text can be indexed, see
:mod:`foldkit.io.line_index`) and every column is converted at once. Fields
written the standard way ('%8.3f' coordinates, '%6.2f' occupancy and
B-factor, '%4d' residue numbers) take a strict fast parse; anything else goes
through the general parser, which reports malformed coordinates,
occupancies, B-factors and residue numbers with their line and column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.errors import FoldkitError, InputError
from foldkit.io.atom_table import AtomTable
from foldkit.io.line_index import IndexedLines, LineIndex, pack_head
from foldkit.io.pdb_columns import char_column, standard_numbers, text_column
from foldkit.protein import Protein

LINE_WIDTH = 80
COORD_COLUMNS = ((30, 38, "x"), (38, 46, "y"), (46, 54, "z"))   # 0-based [start, end)
_NUMBER_CHARS = np.zeros(256, dtype=bool)
_NUMBER_CHARS[np.frombuffer(b"0123456789 .-+", dtype=np.uint8)] = True
_INTEGER_CHARS = np.zeros(256, dtype=bool)
_INTEGER_CHARS[np.frombuffer(b"0123456789 -", dtype=np.uint8)] = True


@dataclasses.dataclass(frozen=True)
class AtomLines:
    """The ATOM/HETATM lines of a PDB-format text with their line and model numbers."""

    lines: Sequence[str]      # [N] the record lines
    line_numbers: np.ndarray  # [N] 1-based line number in the file
    models: np.ndarray        # [N] model number
    index: LineIndex | None = None   # the indexed text the lines come from (fast path), or None
    rows: np.ndarray | None = None   # [N] their rows in ``index``


def atom_lines_from_index(index: LineIndex, rows: np.ndarray, models: np.ndarray) -> AtomLines:
    """AtomLines for rows of an indexed text (lines decoded only when an error message needs them)."""
    return AtomLines(IndexedLines(index, rows), rows + 1, models, index, rows)


def is_atom_record(line: str) -> bool:
    return line[:6] == "HETATM" or line[:4] == "ATOM"


def scan_pdb_lines(lines: list[str], path: str) -> AtomLines:
    """ATOM/HETATM lines of a PDB text; MODEL n starts model n, reading stops at END."""
    atom_lines: list[str] = []
    atom_line_numbers: list[int] = []
    model_starts: list[int] = []     # line numbers of MODEL records
    model_values: list[int] = []
    for number, line in enumerate(lines, 1):
        head = line[:6]
        if head == "ATOM  " or head == "HETATM" or head[:4] == "ATOM":
            atom_lines.append(line)
            atom_line_numbers.append(number)
        elif head == "MODEL ":
            model_starts.append(number)
            model_values.append(parse_model_number(line, path, number))
        elif head.rstrip() == "END":
            break
    line_numbers = np.asarray(atom_line_numbers, dtype=np.int64)
    return AtomLines(atom_lines, line_numbers, assign_models(line_numbers, model_starts, model_values))


def scan_pdb_index(index: LineIndex, path: str) -> AtomLines:
    """:func:`scan_pdb_lines` for an indexed text, without a loop over lines."""
    ends = np.flatnonzero(index.end_records())
    limit = int(ends[0]) if len(ends) else len(index)
    model_rows = np.flatnonzero(index.heads[:limit] == pack_head(b"MODEL ")).tolist()
    model_values = [parse_model_number(index.line(row), path, row + 1) for row in model_rows]
    rows = np.flatnonzero(index.atom_records()[:limit])
    models = assign_models(rows + 1, [row + 1 for row in model_rows], model_values)
    return atom_lines_from_index(index, rows, models)


def parse_model_number(line: str, path: str, number: int) -> int:
    field = line[6:].split()
    if not field or not field[0].lstrip("-").isdigit():
        raise InputError(f"MODEL record without a model number: {line.strip()!r}", path=path, line=number)
    return int(field[0])


def assign_models(line_numbers: np.ndarray, model_starts: list[int], model_values: list[int]) -> np.ndarray:
    """[N] model number of each atom line: the last MODEL record above it (1 when none)."""
    if not model_starts:
        return np.ones(len(line_numbers), dtype=np.int64)
    which = np.searchsorted(np.asarray(model_starts), line_numbers) - 1
    values = np.asarray(model_values, dtype=np.int64)
    return np.where(which >= 0, values[np.maximum(which, 0)], values[0])


def _columns(matrix: np.ndarray, start: int, end: int) -> np.ndarray:
    return np.ascontiguousarray(matrix[:, start:end]).view(f"S{end - start}").reshape(-1)


def _fail_at(atoms: AtomLines, row: int, column: int, message: str, path: str) -> InputError:
    return InputError(message, path=path, line=int(atoms.line_numbers[row]), column=column)


def _check_chars(matrix: np.ndarray, allowed: np.ndarray, start: int, end: int, what: str,
                 atoms: AtomLines, path: str) -> None:
    bad = ~allowed[matrix[:, start:end]]
    if bad.any():
        row, offset = np.argwhere(bad)[0]
        char = chr(matrix[row, start + offset])
        raise _fail_at(atoms, row, start + offset + 1, f"invalid character {char!r} in the {what} field "
                       f"(columns {start + 1}-{end}): {atoms.lines[row].rstrip()!r}", path)


def _parse_fixed_floats(fields: np.ndarray) -> np.ndarray | None:
    """[..., w] byte fields (digits, '.', sign, spaces) -> [...] floats; None if any field is not one number.

    Pure integer arithmetic on the digit matrix: value = sign * digits / 10**(digits after the point),
    which is exactly the correctly rounded decimal value.
    """
    width = fields.shape[-1]
    position = np.arange(width)
    space = fields == ord(" ")
    is_digit = (fields >= ord("0")) & (fields <= ord("9"))
    is_dot = fields == ord(".")
    is_sign = (fields == ord("-")) | (fields == ord("+"))
    nonspace = ~space
    count = nonspace.sum(axis=-1)
    first = np.argmax(nonspace, axis=-1)
    last = width - 1 - np.argmax(nonspace[..., ::-1], axis=-1)
    valid = ((count > 0) & (last - first + 1 == count) & (is_dot.sum(axis=-1) <= 1) & is_digit.any(axis=-1)
             & ~(is_sign & (position != first[..., None])).any(axis=-1))
    if not valid.all():
        return None
    digits_after = np.cumsum(is_digit[..., ::-1], axis=-1)[..., ::-1] - is_digit       # digits right of j
    powers = 10 ** np.minimum(digits_after, 18).astype(np.int64)
    integer = np.where(is_digit, (fields.astype(np.int64) - ord("0")) * powers, 0).sum(axis=-1)
    dot_at = np.where(is_dot.any(axis=-1), np.argmax(is_dot, axis=-1), width)
    decimals = (is_digit & (position > dot_at[..., None])).sum(axis=-1)
    negative = (fields == ord("-")).any(axis=-1)
    return np.where(negative, -1.0, 1.0) * integer / 10.0 ** decimals


def _floats(matrix: np.ndarray, start: int, end: int, what: str, atoms: AtomLines, path: str,
            default: float | None) -> np.ndarray:
    """One fixed-width numeric column ([N] floats); blank fields take ``default`` (None: an error)."""
    fields = matrix[:, start:end]
    blank = (fields == ord(" ")).all(axis=-1)
    if blank.any() and default is None:
        row = int(np.flatnonzero(blank)[0])
        raise _fail_at(atoms, row, start + 1, f"missing {what} (columns {start + 1}-{end} are blank)", path)
    if blank.any():
        fields = fields.copy()
        fields[blank] = np.frombuffer(f"{default:{end - start}.2f}".encode(), dtype=np.uint8)
    values = _parse_fixed_floats(fields)
    if values is not None:
        return values
    raw = _columns(matrix, start, end)
    for row in range(len(raw)):
        if blank[row]:
            continue
        try:
            float(raw[row])
            assert b" " not in raw[row].strip()
        except (ValueError, AssertionError):
            raise _fail_at(atoms, int(row), start + 1, f"{what} {raw[row].decode().strip()!r} is not a "
                           f"number (columns {start + 1}-{end})", path) from None
    raise AssertionError("unreachable: a numeric field failed to parse but no bad field was found")


def _matrix_from_lines(atoms: AtomLines, path: str) -> np.ndarray:
    """[N, 80] bytes of str lines (cut / padded to 80 columns); non-ASCII characters are located errors."""
    joined = "".join([line[:LINE_WIDTH].ljust(LINE_WIDTH) for line in atoms.lines])
    try:
        data = joined.encode("ascii")
    except UnicodeEncodeError as exc:
        row, column = divmod(exc.start, LINE_WIDTH)
        raise _fail_at(atoms, row, column + 1, f"non-ASCII character {joined[exc.start]!r} in an atom record",
                       path) from None
    return np.frombuffer(data, dtype=np.uint8).reshape(len(atoms.line_numbers), LINE_WIDTH)


def _general_coordinates(matrix: np.ndarray, atoms: AtomLines, path: str) -> np.ndarray:
    """[N, 3] coordinates in any decimal layout, or a located error."""
    _check_chars(matrix, _NUMBER_CHARS, 30, 54, "coordinate", atoms, path)
    coords = _parse_fixed_floats(matrix[:, 30:54].reshape(len(matrix), 3, 8))
    if coords is None:
        coords = np.stack([_floats(matrix, a, b, f"{axis} coordinate", atoms, path, None)
                           for a, b, axis in COORD_COLUMNS], axis=-1)
    return coords


def _general_occupancy_and_b(matrix: np.ndarray, atoms: AtomLines, path: str) -> np.ndarray:
    """[N, 2] occupancy (blank = 1) and B-factor (blank = 0) in any decimal layout, or a located error."""
    _check_chars(matrix, _NUMBER_CHARS, 54, 66, "occupancy/B-factor", atoms, path)
    occupancy_and_b = _parse_fixed_floats(matrix[:, 54:66].reshape(len(matrix), 2, 6))   # None if blanks
    if occupancy_and_b is None:
        occupancy_and_b = np.stack([_floats(matrix, 54, 60, "occupancy", atoms, path, 1.0),
                                    _floats(matrix, 60, 66, "B-factor", atoms, path, 0.0)], axis=-1)
    return occupancy_and_b


def _general_residue_numbers(matrix: np.ndarray, atoms: AtomLines, path: str) -> np.ndarray:
    """[N] residue numbers however aligned, or a located error."""
    _check_chars(matrix, _INTEGER_CHARS, 22, 26, "residue number", atoms, path)
    resseq_raw = _columns(matrix, 22, 26)
    blank = np.char.strip(resseq_raw) == b""
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise _fail_at(atoms, row, 23, "missing residue number (columns 23-26 are blank)", path)
    try:
        return resseq_raw.astype(np.int64)
    except ValueError:
        bad = next(r for r in range(len(matrix)) if not resseq_raw[r].strip().lstrip(b"-").isdigit())
        raise _fail_at(atoms, bad, 23, f"residue number {resseq_raw[bad].decode().strip()!r} is not an "
                       "integer (columns 23-26)", path) from None


def atom_table_from_lines(atoms: AtomLines, path: str) -> AtomTable:
    """Convert fixed-column ATOM/HETATM lines into column arrays, with located errors."""
    n = len(atoms.line_numbers)
    if n == 0:
        raise InputError("no ATOM/HETATM records", path=path)
    if atoms.index is not None:
        lengths = atoms.index.lengths[atoms.rows]
    else:
        lengths = np.fromiter(map(len, atoms.lines), dtype=np.int64, count=n)
    short = np.flatnonzero(lengths < 54)
    if len(short):
        row = int(short[0])
        raise _fail_at(atoms, row, int(lengths[row]) + 1, f"record too short ({lengths[row]} columns; the "
                       f"coordinates need columns 31-54): {atoms.lines[row].rstrip()!r}", path)
    if atoms.index is not None:
        matrix = atoms.index.matrix(atoms.rows, LINE_WIDTH)              # [N, 80], ASCII by construction
    else:
        matrix = _matrix_from_lines(atoms, path)                          # [N, 80]
    standard = standard_numbers(matrix)
    coords = standard.coords                                             # [N, 3]
    if coords is None:
        coords = _general_coordinates(matrix, atoms, path)
    occupancy_and_b = standard.occupancy_and_b                           # [N, 2]
    if occupancy_and_b is None:
        occupancy_and_b = _general_occupancy_and_b(matrix, atoms, path)
    resseq = standard.resseq                                             # [N]
    if resseq is None:
        resseq = _general_residue_numbers(matrix, atoms, path)
    atom_name = text_column(matrix, 12, 16, upper=True)
    empty_name = np.flatnonzero(atom_name.values == "")
    if len(empty_name):
        raise _fail_at(atoms, int(empty_name[0]), 13, "missing atom name (columns 13-16 are blank)", path)
    resname = text_column(matrix, 17, 20, upper=True)
    empty_resname = np.flatnonzero(resname.values == "")
    if len(empty_resname):
        raise _fail_at(atoms, int(empty_resname[0]), 18, "missing residue name (columns 18-20 are blank)", path)
    occupancy, b_factor = occupancy_and_b[:, 0], occupancy_and_b[:, 1]
    chain, icode = text_column(matrix, 21, 22), text_column(matrix, 26, 27)
    return AtomTable(
        model=atoms.models,
        chain=chain.values,
        resseq=resseq,
        icode=icode.values,
        resname=resname.values,
        atom_name=atom_name.values,
        altloc=char_column(matrix, 16),
        element=text_column(matrix, 76, 78, upper=True).values,
        is_hetatm=matrix[:, 0] == ord("H"),
        coords=coords,
        occupancy=occupancy,
        b_factor=b_factor,
        codes={name: (column.distinct, column.codes) for name, column in
               (("chain", chain), ("icode", icode), ("resname", resname), ("atom_name", atom_name))},
    )


# ----------------------------------------------------------------------------------------------
# Writing


def _pdb_atom_name(name: str) -> str:
    """Atom name in columns 13-16: one-letter elements start in column 14."""
    return name if len(name) == 4 else f" {name:<3s}"


_BACKBONE_ORDER = tuple(rc.ATOM_ORDER[a] for a in ("N", "CA", "C", "O"))
ATOM_WRITE_ORDER = _BACKBONE_ORDER + tuple(i for i in range(rc.ATOM_TYPE_NUM) if i not in _BACKBONE_ORDER)
"""atom37 indices in PDB order: N, CA, C, O, then the side chain outwards (atom37 order), OXT last."""


def pdb_chain_id(protein: Protein) -> str:
    chain = protein.chain_id.strip()
    if len(chain) > 1:
        raise FoldkitError(f"chain id {protein.chain_id!r} has more than one character; PDB format "
                           "cannot hold it (write mmCIF instead)")
    return chain or " "


def pdb_atom_lines(protein: Protein, first_serial: int = 1) -> list[str]:
    """ATOM records and the closing TER record of one chain, exact PDB columns."""
    chain = pdb_chain_id(protein)
    icodes = protein.insertion_codes or ("",) * len(protein)
    positions = np.asarray(protein.atom_positions, dtype=np.float64)
    mask = np.asarray(protein.atom_mask) > 0
    b_factors = np.asarray(protein.b_factors, dtype=np.float64)
    if np.any(mask) and (positions[mask].max() >= 9999.9995 or positions[mask].min() <= -999.9995):
        raise FoldkitError("coordinates outside the PDB range (-999.999..9999.999); write mmCIF instead")
    if np.any(mask) and (b_factors[mask].max() >= 999.995 or b_factors[mask].min() <= -99.995):
        raise FoldkitError("B-factors outside the PDB range (-99.99..999.99)")
    lines = []
    serial = first_serial
    resname = rc.UNK_RESNAME
    resseq, icode = 0, ""
    for i in range(len(protein)):
        resname = rc.resname_of(int(protein.aatype[i]))
        resseq = int(protein.residue_index[i])
        icode = (icodes[i] or " ")[:1]
        if not -999 <= resseq <= 9999:
            raise FoldkitError(f"residue number {resseq} does not fit the PDB columns; write mmCIF instead")
        for atom in ATOM_WRITE_ORDER:
            if not mask[i, atom]:
                continue
            name = rc.ATOM_TYPES[atom]
            x, y, z = positions[i, atom]
            lines.append(f"ATOM  {serial % 100000:5d} {_pdb_atom_name(name)} {resname:>3s} {chain}{resseq:4d}"
                         f"{icode}   {x:8.3f}{y:8.3f}{z:8.3f}{1.0:6.2f}{b_factors[i, atom]:6.2f}"
                         f"          {name[0]:>2s}  ")
            serial += 1
    if lines:
        lines.append(f"TER   {serial % 100000:5d}      {resname:>3s} {chain}{resseq:4d}{icode}".ljust(LINE_WIDTH))
    return lines


def to_pdb_string(protein: Protein) -> str:
    """PDB text of one chain: ATOM records (80 columns), TER and END."""
    return "\n".join(pdb_atom_lines(protein) + ["END".ljust(LINE_WIDTH)]) + "\n"


def chains_to_pdb_string(chains: Sequence[Protein]) -> str:
    """PDB text of several chains (a complex): each chain's ATOM records and its TER record, then END.

    Serial numbers run on across chains (a TER record takes one, as in
    wwPDB files); chain ids must be distinct single characters.
    """
    ids = [pdb_chain_id(chain) for chain in chains]
    if len(set(ids)) != len(ids):
        raise FoldkitError(f"chain ids must be distinct in one PDB model, got {', '.join(ids)}")
    lines: list[str] = []
    for chain in chains:
        lines += pdb_atom_lines(chain, first_serial=len(lines) + 1)
    return "\n".join(lines + ["END".ljust(LINE_WIDTH)]) + "\n"
