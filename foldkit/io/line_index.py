"""Byte-level index of the lines of an ASCII text, for reading fixed-column records without a loop over lines.

:func:`index_lines` finds where every line starts, its length and its record
name (first six bytes) with numpy; :meth:`LineIndex.matrix` lays chosen lines
into an [N, 80] byte matrix. The index splits lines exactly like
``str.splitlines`` (LF, CRLF, lone CR, vertical tab, form feed, file/group/
record separators); non-ASCII texts get None and are read line by line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np

HEAD_WIDTH = 6
_NEWLINE = 10
_SPACE = 32
_OTHER_LINE_BREAKS = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")   # str.splitlines also breaks at these
_MAX_RUNS = 256      # above this many uniform runs, gather bytes one by one instead of copying runs


def pack_head(word: bytes) -> int:
    """The first six bytes of a record name as one int (big-endian, 0-padded), like LineIndex.heads."""
    return int.from_bytes(word[:HEAD_WIDTH].ljust(HEAD_WIDTH, b"\x00"), "big")


@dataclasses.dataclass(frozen=True)
class LineIndex:
    """Where the lines of a text are (L lines)."""

    buffer: np.ndarray    # [B] uint8, the text with LF line ends, ending with LF
    starts: np.ndarray    # [L] int64, byte offset of each line
    lengths: np.ndarray   # [L] int64, characters in each line (without the line end)
    heads: np.ndarray     # [L] int64, first six bytes, big-endian, 0 past the end of the line

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, row: int) -> str:
        """Text of one line (0-based row)."""
        start = int(self.starts[row])
        return self.buffer[start:start + int(self.lengths[row])].tobytes().decode("ascii")

    def head_prefix(self, word: bytes) -> np.ndarray:
        """[L] bool, lines starting with ``word`` (at most six bytes)."""
        shift = 8 * (HEAD_WIDTH - len(word))
        return (self.heads >> shift) == (pack_head(word) >> shift)

    def atom_records(self) -> np.ndarray:
        """[L] bool, ATOM/HETATM records (lines starting with 'ATOM' or 'HETATM')."""
        return self.head_prefix(b"ATOM") | (self.heads == pack_head(b"HETATM"))

    def end_records(self) -> np.ndarray:
        """[L] bool, lines whose first six characters are 'END' and whitespace (END, not ENDMDL)."""
        tail = self.heads & 0xFFFFFF
        blank = np.ones(len(self), dtype=bool)
        for shift in (0, 8, 16):
            byte = (tail >> shift) & 0xFF
            blank &= (byte == 0) | (byte == _SPACE) | (byte == 9) | (byte == 0x1F)
        return self.head_prefix(b"END") & blank

    def matrix(self, rows: np.ndarray, width: int = 80) -> np.ndarray:
        """[N, width] uint8: the chosen lines, cut to ``width`` columns and padded with spaces."""
        starts = self.starts[rows]
        lengths = self.lengths[rows]
        out = np.full((len(rows), width), _SPACE, dtype=np.uint8)
        if len(rows) == 0:
            return out
        # Runs of consecutive lines of one length are equally spaced in the buffer: copy each as a 2-D view.
        boundary = np.ones(len(rows), dtype=bool)
        boundary[1:] = (np.diff(rows) != 1) | (lengths[1:] != lengths[:-1])
        run_starts = np.flatnonzero(boundary)
        if len(run_starts) <= _MAX_RUNS:
            run_ends = np.append(run_starts[1:], len(rows))
            for first, stop in zip(run_starts.tolist(), run_ends.tolist()):
                length, offset = int(lengths[first]), int(starts[first])
                block = self.buffer[offset:offset + (stop - first) * (length + 1)].reshape(stop - first, length + 1)
                shown = min(length, width)
                out[first:stop, :shown] = block[:, :shown]
            return out
        columns = np.arange(width)
        inside = columns < lengths[:, None]
        index = np.where(inside, starts[:, None] + columns, 0)
        return np.where(inside, self.buffer[index], np.uint8(_SPACE))


class IndexedLines(Sequence[str]):
    """A read-only sequence of chosen lines of a LineIndex, decoded on access (for error messages)."""

    def __init__(self, index: LineIndex, rows: np.ndarray):
        self._index = index
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self._index.line(int(r)) for r in self._rows[position]]
        return self._index.line(int(self._rows[position]))

    def __iter__(self) -> Iterator[str]:
        return (self._index.line(int(r)) for r in self._rows)


def index_lines(data: bytes) -> LineIndex | None:
    """Index the lines of ``data``, split where ``str.splitlines`` splits them; None unless it is ASCII."""
    if not data.isascii():
        return None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")     # CRLF is one break, a lone CR one too
    for mark in _OTHER_LINE_BREAKS:
        if mark in data:
            data = data.replace(mark, b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    padded = data + b"\x00" * 8
    buffer = np.frombuffer(padded, dtype=np.uint8, count=len(data))
    ends = np.flatnonzero(buffer == _NEWLINE)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    # The 8 bytes from every offset as one big-endian word (overlapping, unaligned): heads are the top six.
    words = np.ndarray(shape=(len(data),), dtype=">u8", buffer=padded, strides=(1,))
    heads = (words[starts] >> np.uint64(64 - 8 * HEAD_WIDTH)).astype(np.int64)
    short = lengths < HEAD_WIDTH
    if short.any():                                                  # zero the bytes past the end of the line
        kept_bits = 8 * lengths[short]
        heads[short] &= ~((np.int64(1) << (8 * HEAD_WIDTH - kept_bits)) - 1)
    return LineIndex(buffer=buffer, starts=starts, lengths=lengths, heads=heads)
