"""Fast decoding of fixed-width PDB columns from an ASCII byte matrix [N, C] (one atom record per row).

* :func:`standard_numbers` - coordinates, occupancy, B-factor and residue
  number when written the standard way ('%8.3f', '%6.2f', '%4d'), read by a
  compiled loop (:mod:`foldkit.io.pdb_numbers`); a group written any other way
  comes back None and the general parser in :mod:`foldkit.io.pdb_format` reads
  it (and reports errors);
* :func:`text_column` - a text column with its distinct values and codes. Each
  field of at most 8 columns is read as one little-endian uint64 word (byte
  lane j = character j), so a column costs a few numpy operations whatever its
  width. Only ASCII bytes may be in the matrix.
"""

from __future__ import annotations

import dataclasses

import numpy as np


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


@dataclasses.dataclass(frozen=True)
class StandardNumbers:
    """The numeric columns of standard-format records; a group is None where any record deviates."""

    coords: np.ndarray | None             # [N, 3] float64
    occupancy_and_b: np.ndarray | None    # [N, 2] float64
    resseq: np.ndarray | None             # [N] int64


def standard_numbers(matrix: np.ndarray) -> StandardNumbers:
    """Coordinates, occupancy/B-factor and residue numbers of an ASCII [N, >=66] record matrix, each group
    parsed exactly as the general parser would when every record writes it the standard way."""
    # numba: loaded on first use, not at import
    from foldkit.io.pdb_numbers import standard_fields

    values, valid = standard_fields(matrix)                                      # [6, N], [3]
    return StandardNumbers(coords=values[0:3].T.copy() if valid[0] else None,
                           occupancy_and_b=values[3:5].T.copy() if valid[1] else None,
                           resseq=values[5].astype(np.int64) if valid[2] else None)


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
