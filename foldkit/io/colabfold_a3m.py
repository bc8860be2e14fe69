"""ColabFold's A3M of a complex: paired and unpaired rows of every distinct chain in one file.

Format (as ColabFold's MMseqs2 client and ``colabfold_search`` write it)::

    #137,77<TAB>1,2                  lengths of the distinct chains, then their copy numbers
    >101<TAB>102                     the query: the distinct chains' sequences concatenated
    MDLSN...STMMAWKD...HHH
    >UniRef100_X<TAB>UniRef100_Y     a paired row: one name per chain (tab-separated), residues in 2+ chains
    MDLSa...S-T-MAWK...HH-
    >101                             an unpaired row: residues in one chain only, gaps elsewhere
    MDLSN...STM-------...---

Every row covers all distinct chains in order: chain ``n`` takes the next
``length_n`` aligned characters (upper case and ``-``) together with the lower
case insertions before them. A row with residues in two or more chains is a
paired row (only when there are several distinct chains; a homo-oligomer's
file has only unpaired rows); a row with residues in one chain is an unpaired
row of that chain; a row without residues is dropped, and so is a repeated
record (same header and row). Each chain's unpaired MSA starts with its query
(added when the file lacks it); the paired MSAs of all chains have the same
rows in the same order, the query row first. NUL bytes (MMseqs2 record
separators) are ignored.

:func:`read_colabfold_complex_a3m` checks the file against a
:class:`~foldkit.io.complexes.Complex` (same distinct sequences in the same
order, same copy numbers) and returns the MSAs keyed by the id of each
distinct chain's first copy, ready for
:func:`foldkit.features.multimer.complex_features_from_a3m`.
"""

from __future__ import annotations

import dataclasses
import os

from foldkit.errors import InputError
from foldkit.io.complexes import Complex
from foldkit.io.msa_files import Msa, parse_a3m
from foldkit.io.textfile import decode_text, display_name, read_input_bytes


@dataclasses.dataclass(frozen=True)
class ColabFoldComplexA3m:
    """A parsed complex A3M."""

    sequences: tuple[str, ...]            # distinct chains, in order
    copies: tuple[int, ...]               # copy number of each
    unpaired: tuple[Msa, ...]             # per distinct chain, query first
    paired: tuple[Msa, ...] | None        # per distinct chain, paired by row (None: no paired rows)


def is_complex_a3m(text: str) -> bool:
    """The first non-empty line is ColabFold's '#<lengths><TAB><copies>' header."""
    first = next((line.strip("\x00\r") for line in text.splitlines() if line.strip("\x00\r\t ")), "")
    return first.startswith("#") and len(first[1:].split("\t")) == 2


def _header(line: str, path: str) -> tuple[list[int], list[int]]:
    fields = line[1:].split("\t")
    try:
        lengths = [int(v) for v in fields[0].split(",")]
        copies = [int(v) for v in fields[1].split(",")]
    except (ValueError, IndexError):
        raise InputError(f"not ColabFold's complex A3M header '#<lengths>\\t<copies>' (found {line[:40]!r})",
                         path=path, line=1) from None
    if len(lengths) != len(copies) or min(lengths + copies) < 1:
        raise InputError(f"the header lists {len(lengths)} lengths and {len(copies)} copy numbers (all must be "
                         "positive, one of each per distinct chain)", path=path, line=1)
    return lengths, copies


def _records(lines: list[str], path: str) -> list[tuple[str, str, int]]:
    """(header, row, line of the header) for every '>' record after the first line."""
    records: list[tuple[str, list[str], int]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if line.startswith(">"):
            records.append((line[1:].rstrip(), [], number))
        elif not records:
            raise InputError("sequence data before the first '>' record", path=path, line=number)
        else:
            records[-1][1].append(line.strip())
    return [(header, "".join(chunks), number) for header, chunks, number in records]


def _split_row(row: str, lengths: list[int], path: str, header: str, line: int) -> list[str]:
    """The A3M text of each chain's part of a row (insertions go with the column after them)."""
    parts, current, aligned, chain = [], [], 0, 0
    for char in row:
        if char.islower() or char == ".":
            if chain < len(lengths):
                current.append(char)
            continue
        if chain >= len(lengths):
            raise InputError(f"the row has more aligned columns than the header's {sum(lengths)}", path=path,
                             record=header, line=line)
        current.append(char)
        aligned += 1
        if aligned == lengths[chain]:
            parts.append("".join(current))
            current, aligned, chain = [], 0, chain + 1
    if chain != len(lengths):
        total = sum(lengths[:chain]) + aligned
        raise InputError(f"the row has {total} aligned columns, the header's chains {sum(lengths)}", path=path,
                         record=header, line=line)
    return parts


def _has_residues(part: str) -> bool:
    return any(c.isupper() for c in part)


def _msa(rows: list[tuple[str, str]], query: str, path: str, what: str) -> Msa:
    text = "".join(f">{name}\n{row}\n" for name, row in rows)
    try:
        return parse_a3m(text, path, query)
    except InputError as exc:
        raise InputError(f"{what}: {exc.detail}", path=path) from None


def parse_colabfold_complex_a3m(text: str, path: str = "<string>") -> ColabFoldComplexA3m:
    """Split a complex A3M into paired and unpaired MSAs (see the module docstring)."""
    lines = [line.rstrip("\r") for line in text.replace("\x00", "").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not is_complex_a3m(lines[0]):
        raise InputError("not ColabFold's complex A3M (the first line must be '#<lengths>\\t<copies>')",
                         path=path, line=1)
    lengths, copies = _header(lines[0].strip(), path)
    records = _records(lines, path)
    if not records:
        raise InputError("no '>' record after the header", path=path)
    first_header, first_row, first_line = records[0]
    query_parts = _split_row(first_row, lengths, path, first_header, first_line)
    if any(not p.isupper() or "-" in p for p in query_parts):
        raise InputError("the first record must be the query (the chains' sequences without gaps or insertions)",
                         path=path, record=first_header, line=first_line)
    sequences = tuple(query_parts)
    several = len(lengths) > 1
    paired_rows: list[list[tuple[str, str]]] = [[] for _ in lengths]
    unpaired_rows: list[list[tuple[str, str]]] = [[] for _ in lengths]
    seen: set[tuple[str, str]] = set()
    for header, row, line in records:
        if (header, row) in seen:
            continue
        seen.add((header, row))
        parts = _split_row(row, lengths, path, header, line)
        with_residues = [k for k, part in enumerate(parts) if _has_residues(part)]
        if several and len(with_residues) > 1:
            names = header.split("\t")
            for k, part in enumerate(parts):
                paired_rows[k].append((names[k] if len(names) == len(parts) else header, part))
        else:
            for k in with_residues:
                unpaired_rows[k].append((header, parts[k]))
    unpaired = []
    for k, sequence in enumerate(sequences):
        rows = unpaired_rows[k]
        if not rows or rows[0][1] != sequence:
            rows = [(str(101 + k), sequence)] + rows
        unpaired.append(_msa(rows, sequence, path, f"unpaired rows of chain {k + 1}"))
    paired = None
    if several and paired_rows[0]:
        paired = tuple(_msa(paired_rows[k], sequences[k], path, f"paired rows of chain {k + 1}")
                       for k in range(len(sequences)))
    return ColabFoldComplexA3m(sequences, tuple(copies), tuple(unpaired), paired)


def read_colabfold_complex_a3m(path: str | os.PathLike, complex_: Complex
                               ) -> tuple[dict[str, Msa], dict[str, Msa] | None]:
    """(unpaired, paired) MSAs of ``complex_`` from a ColabFold complex A3M, keyed by the id of each
    distinct chain's first copy (paired is None when the file has no paired rows)."""
    name = display_name(path)
    parsed = parse_colabfold_complex_a3m(decode_text(read_input_bytes(path).replace(b"\x00", b""), path), name)
    distinct = complex_.distinct_chains
    expected = [c.sequence for c in distinct]
    counts = [sum(1 for c in complex_.chains if c.entity_id == chain.entity_id) for chain in distinct]
    if list(parsed.sequences) != expected or list(parsed.copies) != counts:
        mine = ", ".join(f"{len(s)} aa x{n}" for s, n in zip(expected, counts))
        theirs = ", ".join(f"{len(s)} aa x{n}" for s, n in zip(parsed.sequences, parsed.copies))
        detail = "" if [len(s) for s in parsed.sequences] != [len(s) for s in expected] else \
            " (same lengths, different residues)"
        raise InputError(f"the file's chains ({theirs}) are not those of complex '{complex_.id}' ({mine}){detail}",
                         path=name, line=1)
    unpaired = {chain.chain_id: msa for chain, msa in zip(distinct, parsed.unpaired)}
    paired = None if parsed.paired is None else {chain.chain_id: msa for chain, msa in zip(distinct, parsed.paired)}
    return unpaired, paired


def format_colabfold_complex_a3m(sequences: list[str] | tuple[str, ...], copies: list[int] | tuple[int, ...],
                                 unpaired: list[Msa] | tuple[Msa, ...], paired: list[Msa] | tuple[Msa, ...] | None
                                 ) -> str:
    """The complex A3M text of distinct chains' MSAs (the inverse of :func:`parse_colabfold_complex_a3m`)."""
    lengths = [len(s) for s in sequences]
    out = [f"#{','.join(map(str, lengths))}\t{','.join(map(str, copies))}"]

    def row_text(msa: Msa, k: int) -> str:
        if msa.rows is not None:
            return msa.rows[k]
        return "".join("x" * d + c for d, c in zip(msa.deletion_matrix[k], msa.sequences[k]))

    if paired is not None and len(sequences) > 1:          # paired rows first; row 0 is the query
        for k in range(len(paired[0])):
            out.append(">" + "\t".join(msa.descriptions[k] for msa in paired))
            out.append("".join(row_text(msa, k) for msa in paired))
    else:
        out += [">" + "\t".join(str(101 + k) for k in range(len(sequences))), "".join(sequences)]
    for n, msa in enumerate(unpaired):
        before, after = "-" * sum(lengths[:n]), "-" * sum(lengths[n + 1:])
        for k in range(len(msa)):
            out += [f">{msa.descriptions[k]}", before + row_text(msa, k) + after]
    return "\n".join(out) + "\n"
