"""HH-suite's ``-maxres`` fitted to a search, so its start-up does not size matrices for 20,001 columns.

HHblits and HHsearch allocate, per thread, dynamic-programming matrices and
profile arrays for ``-maxres`` columns (default 20,001; AlphaFold2 never
passes the flag). On small and mid-sized databases that allocation dominates
a search: HHsearch on the miniature PDB70 takes 0.77 s at the default and
0.56 s at ``-maxres 500``; HHblits with two threads 1.51 s and 0.89 s, with
byte-identical output. ``-maxres`` is only a capacity: a profile longer than
it is truncated with a warning on stderr, so a search whose query and
database profiles all fit produces exactly what the default produces.

The bound: the query's match columns and the database's longest profile,
read from ``<db>_cs219.ffindex`` (an entry's size is its column count plus
one byte in the binary cs219 format, plus a header line in the text format,
so it never underestimates). Indexes larger than :data:`MAX_INDEX_BYTES`
(the full BFD, UniRef30) are not read: there the search runs for hours and
the default costs nothing in comparison. Whatever the bound, the caller
reruns with the default when HH-suite reports a truncation
(:func:`reports_truncation`), so the result is always the default's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

DEFAULT_MAXRES = 20001              # HH-suite 3's -maxres default (what AlphaFold2 runs with)
MAX_INDEX_BYTES = 64 << 20          # read cs219 indexes up to ~2 M entries (PDB70: ~3 MB)
MARGIN = 16                         # HH-suite keeps maxres - 2 columns; start/end states and rounding

TRUNCATION_WARNING = re.compile(
    r"maximum number of residues|residues exceeded|exceed maximum allowed size|match columns too large|-maxres",
    re.IGNORECASE)


INDEX_LINE = re.compile(rb"^[^\t\n]+\t\d+\t(\d+)[ \t\r]*$", re.MULTILINE)   # name, offset, size


def longest_profile(database: Path) -> int | None:
    """Upper bound of the longest profile in the HH-suite database ``database`` (a prefix), or None.

    None when ``<prefix>_cs219.ffindex`` is missing, unreadable, malformed or over MAX_INDEX_BYTES. Read
    once per version of the index (path, modification time and size), however many searches use it."""
    index = Path(f"{database}_cs219.ffindex")
    try:
        status = index.stat()
    except OSError:
        return None
    if status.st_size > MAX_INDEX_BYTES:
        return None
    return _largest_entry(str(index), status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=16)
def _largest_entry(index: str, mtime_ns: int, size: int) -> int | None:
    """The largest entry size of an ffindex file (None if unreadable or a line is not name/offset/size)."""
    try:
        data = Path(index).read_bytes()
    except OSError:
        return None
    sizes = INDEX_LINE.findall(data)
    if len(sizes) != len(data.splitlines()):
        return None
    return max(map(int, sizes), default=0)


def query_columns(a3m_text: str) -> int:
    """Upper bound of the match columns of an A3M/FASTA query: every character of its first sequence."""
    columns, started = 0, False
    for line in a3m_text.splitlines():
        if line.startswith(">"):
            if started:
                break
            started = True
        elif not line.startswith("#"):
            columns += len(line.strip())
    return columns


def fitted_maxres(columns: int, databases: Sequence[Path]) -> int | None:
    """``-maxres`` for a query of ``columns`` match columns against ``databases``; None: keep the default."""
    bounds = [longest_profile(Path(database)) for database in databases]
    if not bounds or any(bound is None for bound in bounds):
        return None
    fitted = max([columns, *bounds]) + MARGIN
    return fitted if fitted < DEFAULT_MAXRES else None


def reports_truncation(stderr: str) -> bool:
    """True when HH-suite's stderr says a sequence or profile did not fit ``-maxres``."""
    return TRUNCATION_WARNING.search(stderr) is not None
