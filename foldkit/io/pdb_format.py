"""PDB format: fixed-column ATOM/HETATM records -> ``AtomTable``, and ``Protein`` -> PDB text.

Parsing is vectorised: the ATOM/HETATM lines are laid into an [N, 80] byte
matrix and every column is converted at once, so a file costs about a
millisecond. Malformed coordinates, occupancies, B-factors and residue
numbers are reported with their line and column.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit import constants as rc
from foldkit.errors import FoldkitError, InputError
from foldkit.io.atom_table import AtomTable
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

    lines: list[str]         # [N] the record lines
    line_numbers: np.ndarray  # [N] 1-based line number in the file
    models: np.ndarray        # [N] model number


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


def _text_columns(matrix: np.ndarray, start: int, end: int, upper: bool = False) -> np.ndarray:
    """[N] stripped str values of a column (decoded once per distinct value)."""
    raw = _columns(matrix, start, end)
    distinct, inverse = np.unique(raw, return_inverse=True)
    values = [value.decode("ascii").strip() for value in distinct]
    decoded = np.array([v.upper() for v in values] if upper else values, dtype=f"U{end - start}")
    return decoded[inverse.reshape(-1)]


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


def atom_table_from_lines(atoms: AtomLines, path: str) -> AtomTable:
    """Convert fixed-column ATOM/HETATM lines into column arrays, with located errors."""
    n = len(atoms.lines)
    if n == 0:
        raise InputError("no ATOM/HETATM records", path=path)
    lengths = np.fromiter(map(len, atoms.lines), dtype=np.int64, count=n)
    short = np.flatnonzero(lengths < 54)
    if len(short):
        row = int(short[0])
        raise _fail_at(atoms, row, int(lengths[row]) + 1, f"record too short ({lengths[row]} columns; the "
                       f"coordinates need columns 31-54): {atoms.lines[row].rstrip()!r}", path)
    joined = "".join([line[:LINE_WIDTH].ljust(LINE_WIDTH) for line in atoms.lines])
    try:
        data = joined.encode("ascii")
    except UnicodeEncodeError as exc:
        row, column = divmod(exc.start, LINE_WIDTH)
        raise _fail_at(atoms, row, column + 1, f"non-ASCII character {joined[exc.start]!r} in an atom record",
                       path) from None
    matrix = np.frombuffer(data, dtype=np.uint8).reshape(n, LINE_WIDTH)   # [N, 80]

    _check_chars(matrix, _NUMBER_CHARS, 30, 54, "coordinate", atoms, path)
    coords = _parse_fixed_floats(matrix[:, 30:54].reshape(n, 3, 8))       # [N, 3]
    if coords is None:
        coords = np.stack([_floats(matrix, a, b, f"{axis} coordinate", atoms, path, None)
                           for a, b, axis in COORD_COLUMNS], axis=-1)
    _check_chars(matrix, _NUMBER_CHARS, 54, 66, "occupancy/B-factor", atoms, path)
    occupancy_and_b = _parse_fixed_floats(matrix[:, 54:66].reshape(n, 2, 6))   # [N, 2]; None if blanks
    if occupancy_and_b is not None:
        occupancy, b_factor = occupancy_and_b[:, 0], occupancy_and_b[:, 1]
    else:
        occupancy = _floats(matrix, 54, 60, "occupancy", atoms, path, 1.0)
        b_factor = _floats(matrix, 60, 66, "B-factor", atoms, path, 0.0)
    _check_chars(matrix, _INTEGER_CHARS, 22, 26, "residue number", atoms, path)
    resseq_raw = _columns(matrix, 22, 26)
    blank = np.char.strip(resseq_raw) == b""
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise _fail_at(atoms, row, 23, "missing residue number (columns 23-26 are blank)", path)
    try:
        resseq = resseq_raw.astype(np.int64)
    except ValueError:
        bad = next(r for r in range(n) if not resseq_raw[r].strip().lstrip(b"-").isdigit())
        raise _fail_at(atoms, bad, 23, f"residue number {resseq_raw[bad].decode().strip()!r} is not an "
                       "integer (columns 23-26)", path) from None
    atom_name = _text_columns(matrix, 12, 16, upper=True)
    empty_name = np.flatnonzero(atom_name == "")
    if len(empty_name):
        raise _fail_at(atoms, int(empty_name[0]), 13, "missing atom name (columns 13-16 are blank)", path)
    resname = _text_columns(matrix, 17, 20, upper=True)
    empty_resname = np.flatnonzero(resname == "")
    if len(empty_resname):
        raise _fail_at(atoms, int(empty_resname[0]), 18, "missing residue name (columns 18-20 are blank)", path)
    return AtomTable(
        model=atoms.models,
        chain=_text_columns(matrix, 21, 22),
        resseq=resseq,
        icode=_text_columns(matrix, 26, 27),
        resname=resname,
        atom_name=atom_name,
        altloc=_text_columns(matrix, 16, 17),
        element=_text_columns(matrix, 76, 78, upper=True),
        is_hetatm=matrix[:, 0] == ord("H"),
        coords=coords,
        occupancy=occupancy,
        b_factor=b_factor,
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
