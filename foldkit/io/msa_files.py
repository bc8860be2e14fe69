"""Multiple sequence alignments: the ``Msa`` record, A3M and Stockholm I/O.

A3M: upper case letters and ``-`` are aligned to the query columns, lower
case letters are insertions (counted into the deletion matrix, as AlphaFold2's
pipeline does), ``.`` is an insert-column gap and is ignored. The first record
is the query. Stockholm: match columns are given by ``#=GC RF`` when present
(``x``/upper case = match, ``.``/``-`` = insert), else by the non-gap columns of
the first sequence; residues in insert columns become deletions.
"""

from __future__ import annotations

import dataclasses
import string
from pathlib import Path
from typing import Sequence

import numpy as np

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_write_text

ALIGNED_LETTERS = frozenset(string.ascii_uppercase + "-")
INSERTION_LETTERS = frozenset(string.ascii_lowercase)
GAP_LETTERS = frozenset("-.")


@dataclasses.dataclass(frozen=True)
class Msa:
    """An alignment to one query (row 0).

    ``sequences`` hold only the aligned columns (upper case and ``-``, all of
    the query's length); ``deletion_matrix[i][j]`` counts residues inserted in
    row i just before column j. ``rows`` optionally keeps the A3M text of each
    row (with its lower-case insertions) so that writing it back is lossless.
    """

    sequences: tuple[str, ...]
    deletion_matrix: tuple[tuple[int, ...], ...]
    descriptions: tuple[str, ...]
    rows: tuple[str, ...] | None = None

    def __post_init__(self):
        n = len(self.sequences)
        if len(self.deletion_matrix) != n or len(self.descriptions) != n:
            raise ValueError("sequences, deletion_matrix and descriptions must have the same length")
        if self.rows is not None and len(self.rows) != n:
            raise ValueError("rows must have one entry per sequence")
        width = len(self.sequences[0]) if n else 0
        for seq, dels in zip(self.sequences, self.deletion_matrix):
            if len(seq) != width or len(dels) != width:
                raise ValueError("all rows of an Msa must have the query's length")

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def query(self) -> str:
        return self.sequences[0]

    @property
    def num_columns(self) -> int:
        return len(self.sequences[0]) if self.sequences else 0

    def deletion_array(self) -> np.ndarray:
        """[N, L] int32 deletion counts."""
        return np.asarray(self.deletion_matrix, dtype=np.int32).reshape(len(self), self.num_columns)

    def truncate(self, max_sequences: int) -> "Msa":
        """The first ``max_sequences`` rows (query included)."""
        rows = self.rows[:max_sequences] if self.rows is not None else None
        return Msa(self.sequences[:max_sequences], self.deletion_matrix[:max_sequences],
                   self.descriptions[:max_sequences], rows)

    @classmethod
    def single_sequence(cls, sequence: str, description: str = "query") -> "Msa":
        """The MSA of the query alone (single-sequence mode)."""
        return cls((sequence,), ((0,) * len(sequence),), (description,), (sequence,))


def merge_msas(msas: Sequence[Msa]) -> Msa:
    """Concatenate MSAs of the same query, dropping exact duplicate aligned rows (first kept)."""
    if not msas:
        raise ValueError("no MSA to merge")
    width = msas[0].num_columns
    seen: set[str] = set()
    seqs, dels, descs, rows = [], [], [], []
    keep_rows = all(m.rows is not None for m in msas)
    for msa in msas:
        if msa.num_columns != width:
            raise ValueError(f"cannot merge MSAs of {width} and {msa.num_columns} columns")
        for i, seq in enumerate(msa.sequences):
            if seq in seen:
                continue
            seen.add(seq)
            seqs.append(seq)
            dels.append(msa.deletion_matrix[i])
            descs.append(msa.descriptions[i])
            if keep_rows:
                rows.append(msa.rows[i])
    return Msa(tuple(seqs), tuple(dels), tuple(descs), tuple(rows) if keep_rows else None)


# --------------------------------------------------------------------------- A3M

def _a3m_row(row: str, path: str | None, record: str, line_of_column: list[tuple[int, int]]
             ) -> tuple[str, tuple[int, ...]]:
    """Aligned letters and deletion counts of one A3M row; checks characters."""
    aligned, deletions, pending = [], [], 0
    for pos, char in enumerate(row):
        if char in INSERTION_LETTERS:
            pending += 1
        elif char in ALIGNED_LETTERS:
            aligned.append(char)
            deletions.append(pending)
            pending = 0
        elif char == ".":
            continue
        else:
            line, column = line_of_column[pos]
            raise InputError(f"character {char!r} is not an amino acid, gap or insertion",
                             path=path, record=record, line=line, column=column)
    return "".join(aligned), tuple(deletions)


def parse_a3m(text: str, path: str | Path | None = None, query_sequence: str | None = None) -> Msa:
    """Parse A3M text. ``query_sequence`` (from the FASTA) must equal the first row."""
    where = str(path) if path is not None else None
    records: list[tuple[str, int, list[str], list[tuple[int, int]]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(">"):
            records.append((line[1:].strip(), number, [], []))
            continue
        if not records:
            raise InputError("sequence data before the first '>' header (not A3M/FASTA)", path=where, line=number)
        _, _, chunks, positions = records[-1]
        offset = len(raw) - len(raw.lstrip())
        chunks.append(line)
        positions.extend((number, offset + k + 1) for k in range(len(line)))
    if not records:
        raise InputError("empty alignment: no '>' record", path=where)
    seqs, dels, descs, rows = [], [], [], []
    for description, header_line, chunks, positions in records:
        row = "".join(chunks)
        if not row:
            raise InputError("record has no sequence", path=where, record=description, line=header_line)
        aligned, deletions = _a3m_row(row, where, description, positions)
        if seqs and len(aligned) != len(seqs[0]):
            raise InputError(f"row has {len(aligned)} aligned columns, the query has {len(seqs[0])}",
                             path=where, record=description, line=header_line)
        seqs.append(aligned)
        dels.append(deletions)
        descs.append(description)
        rows.append(row)
    msa = Msa(tuple(seqs), tuple(dels), tuple(descs), tuple(rows))
    check_query(msa, query_sequence, where, header_lines=[r[1] for r in records])
    return msa


def check_query(msa: Msa, query_sequence: str | None, path: str | None,
                header_lines: Sequence[int] | None = None) -> None:
    """The first row must be the ungapped query (and equal ``query_sequence`` if given)."""
    first = msa.sequences[0]
    line = header_lines[0] if header_lines else None
    if query_sequence is not None and first != query_sequence.upper():
        others = [i for i, s in enumerate(msa.sequences) if s == query_sequence.upper()]
        if others:
            i = others[0]
            raise InputError(f"the query is record {i + 1}, it must be the first record",
                             path=path, record=msa.descriptions[i],
                             line=header_lines[i] if header_lines else None)
        raise InputError(f"first record differs from the query sequence ({len(first)} aligned columns "
                         f"'{first[:20]}...', query '{query_sequence[:20]}...')",
                         path=path, record=msa.descriptions[0], line=line)
    if "-" in first or any(msa.deletion_matrix[0]):
        raise InputError("the first record must be the query (no gaps or insertions)",
                         path=path, record=msa.descriptions[0], line=line)


def read_a3m(path: str | Path, query_sequence: str | None = None) -> Msa:
    """Read an A3M file (plain or .gz)."""
    return parse_a3m(_read_text(path), path, query_sequence)


def format_a3m(msa: Msa) -> str:
    """A3M text of ``msa``; without stored rows, deletions are written as 'x' insertions."""
    out = []
    for i, seq in enumerate(msa.sequences):
        if msa.rows is not None:
            row = msa.rows[i]
        else:
            row = "".join("x" * d + c for d, c in zip(msa.deletion_matrix[i], seq))
        out.append(f">{msa.descriptions[i]}\n{row}\n")
    return "".join(out)


def write_a3m(msa: Msa, path: str | Path) -> Path:
    path = Path(path)
    atomic_write_text(path, format_a3m(msa))
    return path


# --------------------------------------------------------------------------- Stockholm

def parse_stockholm(text: str, path: str | Path | None = None, query_sequence: str | None = None,
                    columns: str = "reference") -> Msa:
    """Parse the first alignment of a Stockholm file.

    ``columns``: "reference" takes the match columns from ``#=GC RF`` (else the
    first row); "query" takes the columns where the first row has no gap, as
    AlphaFold2's ``parse_stockholm`` does.
    """
    if columns not in ("reference", "query"):
        raise ValueError(f"columns must be 'reference' or 'query', not {columns!r}")
    where = str(path) if path is not None else None
    names: dict[str, list[str]] = {}
    first_line: dict[str, int] = {}
    reference: list[str] = []
    seen_header = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("# STOCKHOLM"):
            seen_header = True
            continue
        if not seen_header:
            raise InputError("not a Stockholm file (no '# STOCKHOLM 1.0' header)", path=where, line=number)
        if line == "//":
            break
        if line.startswith("#=GC"):
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "RF":
                reference.append(parts[2])
            continue
        if line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InputError("expected 'name aligned_sequence'", path=where, line=number)
        name, chunk = parts
        if not chunk.replace("-", "").replace(".", "").isalpha():
            for k, char in enumerate(chunk):
                if not (char.isalpha() or char in GAP_LETTERS):
                    column = raw.find(chunk) + k + 1
                    raise InputError(f"character {char!r} is not an amino acid or gap",
                                     path=where, record=name, line=number, column=column)
        names.setdefault(name, []).append(chunk)
        first_line.setdefault(name, number)
    if not names:
        raise InputError("empty alignment: no sequence", path=where)
    full = {name: "".join(chunks) for name, chunks in names.items()}
    width = len(next(iter(full.values())))
    for name, row in full.items():
        if len(row) != width:
            raise InputError(f"row has {len(row)} columns, the first row has {width}",
                             path=where, record=name, line=first_line[name])
    rf = "".join(reference)
    if rf and len(rf) != width and columns == "reference":
        raise InputError(f"#=GC RF has {len(rf)} columns, the rows have {width}", path=where)
    if rf and columns == "reference":
        match = [c not in GAP_LETTERS for c in rf]
    else:
        query_row = next(iter(full.values()))
        match = [c not in GAP_LETTERS for c in query_row]
    seqs, dels, rows = _split_columns(list(full.values()), match)
    descs = tuple(full)
    msa = Msa(tuple(seqs), tuple(dels), descs, tuple(rows))
    check_query(msa, query_sequence, where, header_lines=[first_line[n] for n in descs])
    return msa


def _split_columns(full_rows: list[str], match: list[bool]) -> tuple[list[str], list[tuple[int, ...]], list[str]]:
    """Aligned sequences, deletion counts and A3M rows of Stockholm rows, given the match columns."""
    seqs, dels, rows = [], [], []
    for row in full_rows:
        aligned, deletions, a3m, pending = [], [], [], 0
        for char, is_match in zip(row, match):
            if is_match:
                letter = "-" if char in GAP_LETTERS else char.upper()
                aligned.append(letter)
                deletions.append(pending)
                a3m.append(letter)
                pending = 0
            elif char not in GAP_LETTERS:
                pending += 1
                a3m.append(char.lower())
        seqs.append("".join(aligned))
        dels.append(tuple(deletions))
        rows.append("".join(a3m))
    return seqs, dels, rows


def read_stockholm(path: str | Path, query_sequence: str | None = None) -> Msa:
    return parse_stockholm(_read_text(path), path, query_sequence)


def read_msa(path: str | Path, query_sequence: str | None = None) -> Msa:
    """Read A3M or Stockholm, chosen by extension (.sto/.stockholm) or content."""
    path = Path(path)
    text = _read_text(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".sto", ".stockholm")) or text.lstrip().startswith("# STOCKHOLM"):
        return parse_stockholm(text, path, query_sequence)
    return parse_a3m(text, path, query_sequence)


def _read_text(path: str | Path) -> str:
    path = Path(path)
    try:
        if path.suffix == ".gz":
            import gzip
            with gzip.open(path, "rt") as handle:
                return handle.read()
        return path.read_text()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"cannot read alignment: {exc}", path=str(path)) from None

