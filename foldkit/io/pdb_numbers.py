"""Compiled (numba) reading of the standard numeric PDB columns from an ASCII record matrix.

A field counts as written the standard way ('%8.3f', '%6.2f', '%4d') when it is:
spaces, then an optional '-', then digits up to the decimal point (the column
just left of the point is a digit, and a '-' or digit is always followed by a
digit), then '.' and only digits (none of this for the integer field). Its value
is then exact: the digits as one integer, signed, divided by 10^decimals.
"""

from __future__ import annotations

import numpy as np

from foldkit.compiled import compiled

# (first column, width, decimals) of the standard numeric fields, 0-based columns.
NUMERIC_FIELDS = ((30, 8, 3), (38, 8, 3), (46, 8, 3),      # x, y, z        '%8.3f'
                  (54, 6, 2), (60, 6, 2),                  # occupancy, B   '%6.2f'
                  (22, 4, 0))                              # residue number '%4d'
# groups that fall back to the general parser together: coordinates, occupancy/B, residue number
FIELD_GROUP = (0, 0, 0, 1, 1, 2)
_FIELDS = np.asarray(NUMERIC_FIELDS, dtype=np.int64)        # [6, 3]
_GROUPS = np.asarray(FIELD_GROUP, dtype=np.int64)           # [6]

_SPACE, _MINUS, _DOT, _ZERO, _NINE = 32, 45, 46, 48, 57   # ASCII codes


@compiled(inline="always")
def _standard_field(row, first, width, decimals):
    """(value, ok) of one field of a record row (uint8 [W], at least first + width columns)."""
    point = first + width - 1 - decimals if decimals else first + width     # column of the '.'
    # whole part, right to left: digits (at least one), an optional '-', then only spaces
    whole, place = 0, 1
    j = point - 1
    while j >= first and _ZERO <= row[j] <= _NINE:
        whole += (row[j] - _ZERO) * place
        place *= 10
        j -= 1
    if j == point - 1:
        return 0.0, False
    negative = j >= first and row[j] == _MINUS
    if negative:
        j -= 1
    while j >= first:
        if row[j] != _SPACE:
            return 0.0, False
        j -= 1
    # then the point and only digits
    number = whole
    scale = 1.0
    if decimals:
        if row[point] != _DOT:
            return 0.0, False
        for k in range(point + 1, first + width):
            if not _ZERO <= row[k] <= _NINE:
                return 0.0, False
            number = number * 10 + (row[k] - _ZERO)
            scale *= 10.0                                       # exact: 10, 100, 1000
    return (-1.0 if negative else 1.0) * np.float64(number) / scale, True


def standard_fields(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values [6, N] of :data:`NUMERIC_FIELDS` in every row of the ASCII record matrix [N, W], and [3]
    whether every row writes each group (:data:`FIELD_GROUP`) the standard way."""
    return _standard_fields(np.ascontiguousarray(matrix, dtype=np.uint8), _FIELDS, _GROUPS, 3)


@compiled
def _standard_fields(matrix, fields, groups, n_groups):
    """Values [F, N] of ``fields`` ([F, 3] first column, width, decimals) in every row of ``matrix``
    ([N, W] uint8), and [n_groups] whether every row writes each group of fields the standard way."""
    values = np.zeros((fields.shape[0], matrix.shape[0]))
    valid = np.ones(n_groups, dtype=np.bool_)
    for f in range(fields.shape[0]):                        # a field past the rows is never standard
        if fields[f, 0] + fields[f, 1] > matrix.shape[1]:
            valid[groups[f]] = False
    for r in range(matrix.shape[0]):
        row = matrix[r]
        for f in range(fields.shape[0]):
            if not valid[groups[f]]:
                continue
            value, ok = _standard_field(row, fields[f, 0], fields[f, 1], fields[f, 2])
            values[f, r] = value
            if not ok:
                valid[groups[f]] = False
    return values, valid
