"""Fast decoding of fixed-width PDB columns from an ASCII byte matrix [N, C] (one atom record per row).

Each field of at most 8 columns is read as one little-endian uint64 word
(byte lane j = character j) and checked and converted with word arithmetic
(SWAR), so a column costs a few numpy operations whatever its width:

* :func:`standard_numbers` - coordinates, occupancy, B-factor and residue
  number when written the standard way ('%8.3f', '%6.2f', '%4d'); a group
  written any other way comes back None and the general parser in
  :mod:`foldkit.io.pdb_format` reads it (and reports errors);
* :func:`text_column` - a text column with its distinct values and codes.

Only ASCII bytes may be in the matrix (no byte >= 0x80), so no carry ever
crosses a lane.
"""

from __future__ import annotations

import dataclasses

import numpy as np

_ONES = 0x0101010101010101          # a 1 in each byte lane
_LOW7 = 0x7F * _ONES
_HIGH = 0x80 * _ONES
# (first column, width, decimals) of the standard numeric fields, 0-based columns.
NUMERIC_FIELDS = ((30, 8, 3), (38, 8, 3), (46, 8, 3),      # x, y, z        '%8.3f'
                  (54, 6, 2), (60, 6, 2),                  # occupancy, B   '%6.2f'
                  (22, 4, 0))                              # residue number '%4d'


def lanes(first: int, stop: int) -> int:
    """Word with a 1 in byte lanes first..stop-1."""
    return sum(1 << (8 * j) for j in range(first, stop))


def _unaligned_words(matrix: np.ndarray, start: int, count: int, width: int) -> np.ndarray:
    """[N, count] uint64 view: the 8 bytes from column start + k * width of each row (lanes past ``width`` hold
    the next columns). A view into the matrix, unaligned: copy it before doing arithmetic on it."""
    if start + (count - 1) * width + 8 > matrix.shape[1]:           # the last word would run past the row
        tail = np.zeros((len(matrix), count * width + 8), dtype=np.uint8)
        tail[:, :count * width] = matrix[:, start:start + count * width]
        matrix, start = tail, 0
    matrix = np.ascontiguousarray(matrix)
    return np.ndarray(shape=(len(matrix), count), dtype="<u8", buffer=matrix, offset=start,
                      strides=(matrix.strides[0], width))


def _lanes_equal(words: np.ndarray, char: str) -> np.ndarray:
    """1 in each byte lane holding ``char``."""
    other = words ^ np.uint64(ord(char) * _ONES)
    return (~(other + np.uint64(_LOW7)) & np.uint64(_HIGH)) >> np.uint64(7)


def _lanes_digit(words: np.ndarray) -> np.ndarray:
    """1 in each byte lane holding '0'-'9'."""
    at_least_0 = words + np.uint64(0x50 * _ONES)          # high bit set where byte >= 0x30
    above_9 = words + np.uint64(0x46 * _ONES)             # high bit set where byte > 0x39
    return (at_least_0 & ~above_9 & np.uint64(_HIGH)) >> np.uint64(7)


def _swar_number(digits: np.ndarray) -> np.ndarray:
    """Words of 8 digit values (lane 0 most significant) -> the numbers they spell."""
    x = (digits * np.uint64(10) + (digits >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    x = (x * np.uint64(100) + (x >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return (x * np.uint64(10000) + (x >> np.uint64(32))) & np.uint64(0xFFFFFFFF)


@dataclasses.dataclass(frozen=True)
class _FieldLayout:
    """Per-field word masks of NUMERIC_FIELDS ([F, 1] uint64 each)."""

    whole: np.ndarray        # lanes left of the point (all lanes of an integer)
    follow: np.ndarray       # lanes whose right neighbour is still left of the point
    last_whole: np.ndarray   # the lane just left of the point
    fraction: np.ndarray     # lanes right of the point
    dot: np.ndarray          # the lane of the point (0 for integers)
    field: np.ndarray        # all lanes of the field
    gap_shift: np.ndarray    # 8 where a '.' gap must be closed
    align_shift: np.ndarray  # right-aligns the digits in 8 lanes
    scale: np.ndarray        # [F, 1] float64, 10 ** decimals


def _layout() -> _FieldLayout:
    rows = []
    for _, width, decimals in NUMERIC_FIELDS:
        point = width - 1 - decimals if decimals else width
        rows.append((lanes(0, point), lanes(0, point - 1), lanes(point - 1, point), lanes(point + 1, width),
                     lanes(point, point + 1) if decimals else 0, lanes(0, width), 8 if decimals else 0,
                     8 * (8 - width)))
    columns = [np.array(column, dtype=np.uint64)[:, None] for column in zip(*rows)]
    return _FieldLayout(*columns, scale=np.array([10.0 ** d for _, _, d in NUMERIC_FIELDS])[:, None])


_LAYOUT = _layout()


@dataclasses.dataclass(frozen=True)
class StandardNumbers:
    """The numeric columns of standard-format records; a group is None where any record deviates."""

    coords: np.ndarray | None             # [N, 3] float64
    occupancy_and_b: np.ndarray | None    # [N, 2] float64
    resseq: np.ndarray | None             # [N] int64


def standard_numbers(matrix: np.ndarray) -> StandardNumbers:
    """Coordinates, occupancy/B-factor and residue numbers of an ASCII [N, >=66] record matrix, each group
    parsed exactly as the general parser would when every record writes it the standard way."""
    n = len(matrix)
    coords = np.empty((n, 3))
    occupancy_and_b = np.empty((n, 2))
    resseq = np.empty(n, dtype=np.int64)
    valid = np.ones(3, dtype=bool)          # coordinates, occupancy/B, residue numbers
    # Blocks of rows keep every temporary small (allocator-friendly; whole-file temporaries of a few hundred
    # KiB cost page faults on every call).
    for first in range(0, n, _BLOCK_ROWS):
        block = slice(first, min(first + _BLOCK_ROWS, n))
        signed, block_valid = _standard_block(matrix[block])
        coords[block] = signed[0:3].T
        occupancy_and_b[block] = signed[3:5].T
        resseq[block] = signed[5]
        valid &= block_valid
    return StandardNumbers(coords=coords if valid[0] else None,
                           occupancy_and_b=occupancy_and_b if valid[1] else None,
                           resseq=resseq if valid[2] else None)


_BLOCK_ROWS = 2048


def _standard_block(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """([6, B] float64 values of NUMERIC_FIELDS, [3] bool: each group written the standard way in every row)."""
    # [6, B] aligned copies of the fields, field-major: each operation with the per-field masks ([6, 1])
    # runs one long inner loop per field.
    words = np.empty((len(NUMERIC_FIELDS), len(matrix)), dtype=np.uint64)
    words[0:3] = _unaligned_words(matrix, 30, 3, 8).T
    words[3:5] = _unaligned_words(matrix, 54, 2, 6).T
    words[5:6] = _unaligned_words(matrix, 22, 1, 4).T
    layout = _LAYOUT
    digits = _lanes_digit(words)
    minus = _lanes_equal(words, "-")
    allowed = digits | minus | _lanes_equal(words, " ")
    # Spaces, then an optional '-', then digits up to the point (a digit or '-' is always followed by a
    # digit), then the '.' and all-digit decimals.
    follow = ((digits | minus) & layout.follow) << np.uint64(8)
    valid = (((allowed & layout.whole) == layout.whole) & ((follow & ~digits) == 0)
             & ((digits & layout.last_whole) != 0) & ((digits & layout.fraction) == layout.fraction)
             & ((_lanes_equal(words, ".") & layout.field) == layout.dot))
    values = words & (digits * np.uint64(0x0F))                       # digit values, 0 elsewhere
    byte = np.uint64(0xFF)                                            # lane flags -> whole-byte masks
    values = (((values & (layout.whole * byte)) << layout.gap_shift)  # close the '.' gap
              | (values & (layout.fraction * byte)))
    number = _swar_number((values & (layout.field * byte)) << layout.align_shift)        # [6, B]
    negative = (minus & layout.whole) != 0
    signed = np.where(negative, -1.0, 1.0) * number.astype(np.float64) / layout.scale
    return signed, np.array([valid[0:3].all(), valid[3:5].all(), valid[5].all()])


@dataclasses.dataclass(frozen=True)
class TextColumn:
    """A decoded fixed-width text column: values == np.array(distinct)[codes]."""

    values: np.ndarray       # [N] str, stripped
    distinct: list[str]      # [D] distinct values (no repeats)
    codes: np.ndarray        # [N] int, index into distinct


def text_column(matrix: np.ndarray, start: int, end: int, upper: bool = False) -> TextColumn:
    """One text column (at most 8 wide) of an ASCII matrix, decoded once per distinct field."""
    width = end - start
    if width == 1:
        keys = matrix[:, start]
    else:
        keys = _unaligned_words(matrix, start, 1, width)[:, 0] & np.uint64(0xFF * lanes(0, width))   # [N]
    run_start = np.ones(len(keys), dtype=bool)           # fields come in runs (residues, chains): sort runs only
    run_start[1:] = keys[1:] != keys[:-1]
    distinct_keys = np.unique(keys[run_start])
    codes = np.searchsorted(distinct_keys, keys)
    texts = [int(key).to_bytes(8, "little")[:width].decode("ascii").strip() for key in distinct_keys.tolist()]
    if upper:
        texts = [text.upper() for text in texts]
    if len(set(texts)) < len(texts):                     # ' CA ' and 'CA  ' are both 'CA': merge their codes
        merged, remap = np.unique(np.array(texts, dtype=f"U{width}"), return_inverse=True)
        texts, codes = merged.tolist(), remap.reshape(-1)[codes]
    distinct = np.array(texts, dtype=f"U{width}")
    return TextColumn(distinct[codes], texts, codes)


_BYTE_TEXT = np.array([chr(code).strip() for code in range(128)], dtype="U1")   # ASCII byte -> stripped str


def char_column(matrix: np.ndarray, column: int) -> np.ndarray:
    """[N] stripped str values of a one-character column (no codes; for columns only carried along)."""
    return _BYTE_TEXT[matrix[:, column]]
