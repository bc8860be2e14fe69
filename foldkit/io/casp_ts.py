"""CASP TS (tertiary structure) prediction format.

A TS file is::

    PFRMAT TS
    TARGET T1024
    AUTHOR ...            (optional; also METHOD, REMARK lines)
    MODEL  1
    PARENT 6exs_A 4ikv_A  (or PARENT N/A)
    ATOM ... (PDB columns, chain id usually blank)
    TER
    END
    MODEL  2
    ...
    END

Each ``MODEL n`` ... ``END`` block is one model. Full-length CASP model files
without the header are plain PDB and are read as such.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import numpy as np

from foldkit.errors import InputError
from foldkit.io.line_index import LineIndex
from foldkit.io.pdb_format import (
    AtomLines,
    assign_models,
    atom_lines_from_index,
    is_atom_record,
    parse_model_number,
    pdb_atom_lines,
)
from foldkit.protein import Protein

HEADER_RECORDS = ("PFRMAT", "TARGET", "AUTHOR", "METHOD", "REMARK", "PARENT")


@dataclasses.dataclass(frozen=True)
class TsModelBlock:
    """One MODEL ... END block of a TS file."""

    number: int
    line: int                   # line of the MODEL record
    parents: tuple[str, ...]    # PARENT entries ('N/A' kept as written)
    closed: bool                # an END record closes it
    atom_count: int


@dataclasses.dataclass(frozen=True)
class TsFile:
    """Header and model blocks of a TS file, plus its atom lines."""

    target: str | None
    blocks: tuple[TsModelBlock, ...]
    atoms: AtomLines


def is_ts_text(text: str) -> bool:
    """True when the first record of the text is PFRMAT."""
    for line in text[:8192].splitlines():
        if line.strip():
            return line.lstrip().upper().startswith("PFRMAT")
    return False


def scan_ts(lines: list[str], path: str) -> TsFile:
    """Split a TS text into model blocks; errors name the line."""
    atom_lines: list[str] = []
    atom_line_numbers: list[int] = []

    def records() -> Iterator[tuple[int, str | int]]:
        for number, line in enumerate(lines, 1):
            if is_atom_record(line):
                atom_lines.append(line)
                atom_line_numbers.append(number)
                yield number, 1
            else:
                yield number, line

    target, blocks = _read_blocks(records(), path)
    line_numbers = np.asarray(atom_line_numbers, dtype=np.int64)
    return _ts_file(target, blocks, AtomLines(atom_lines, line_numbers, _block_models(line_numbers, blocks)))


def scan_ts_index(index: LineIndex, path: str) -> TsFile:
    """:func:`scan_ts` for an indexed text: only the lines that are not atom records are read one by one."""
    is_atom = index.atom_records()
    atom_rows = np.flatnonzero(is_atom)
    run_start = np.ones(len(atom_rows), dtype=bool)
    run_start[1:] = np.diff(atom_rows) != 1
    run_firsts = np.flatnonzero(run_start)
    run_counts = np.diff(np.append(run_firsts, len(atom_rows)))
    other_rows = np.flatnonzero(~is_atom & (index.lengths > 0))        # empty lines hold no record
    events = sorted([(row + 1, index.line(row)) for row in other_rows.tolist()]
                    + [(row + 1, count) for row, count in zip(atom_rows[run_firsts].tolist(), run_counts.tolist())],
                    key=lambda event: event[0])
    target, blocks = _read_blocks(events, path)
    models = _block_models(atom_rows + 1, blocks)
    return _ts_file(target, blocks, atom_lines_from_index(index, atom_rows, models))


def _read_blocks(records: Iterable[tuple[int, str | int]], path: str) -> tuple[str | None, list[dict]]:
    """TARGET and model blocks from (line number, line) records, where a run of ``count`` atom lines
    starting on a line comes as (line number, count)."""
    target = None
    pfrmat_seen = False
    blocks: list[dict] = []
    current: dict | None = None
    for number, line in records:
        if isinstance(line, int):
            if current is None:
                where = "before any MODEL record" if not blocks else "after END, outside a MODEL block"
                raise InputError(f"atom record {where}", path=path, line=number)
            current["atoms"] += line
            continue
        words = line.split()
        if not words:
            continue
        record = words[0].upper()
        if record == "PFRMAT":
            if len(words) < 2 or words[1].upper() != "TS":
                found = words[1] if len(words) > 1 else "nothing"
                raise InputError(f"PFRMAT {found}: only tertiary-structure predictions (PFRMAT TS) are read",
                                 path=path, line=number)
            pfrmat_seen = True
        elif not pfrmat_seen:
            raise InputError(f"a TS file starts with 'PFRMAT TS', found {line.strip()[:40]!r}", path=path,
                             line=number)
        elif record == "TARGET":
            target = words[1] if len(words) > 1 else None
        elif record == "MODEL":
            if current is not None:
                raise InputError(f"MODEL record inside model {current['number']} (started on line "
                                 f"{current['line']}) which has no END", path=path, line=number)
            model_number = parse_model_number(line.ljust(6), path, number)
            if any(b["number"] == model_number for b in blocks):
                raise InputError(f"model {model_number} appears twice", path=path, line=number)
            current = {"number": model_number, "line": number, "parents": [], "closed": False, "atoms": 0}
            blocks.append(current)
        elif record == "PARENT":
            if current is not None:
                current["parents"].extend(words[1:])
        elif record == "END":
            if current is None:
                continue
            current["closed"] = True
            current = None
    if not pfrmat_seen:
        raise InputError("no PFRMAT record", path=path)
    if not blocks:
        raise InputError("no MODEL record: a TS file holds MODEL n ... END blocks", path=path)
    for block in blocks:
        if block["atoms"] == 0:
            raise InputError(f"model {block['number']} has no ATOM records", path=path, line=block["line"])
    return target, blocks


def _block_models(line_numbers: np.ndarray, blocks: list[dict]) -> np.ndarray:
    return assign_models(line_numbers, [b["line"] for b in blocks], [b["number"] for b in blocks])


def _ts_file(target: str | None, blocks: list[dict], atoms: AtomLines) -> TsFile:
    return TsFile(
        target=target,
        blocks=tuple(TsModelBlock(b["number"], b["line"], tuple(b["parents"]), b["closed"], b["atoms"])
                     for b in blocks),
        atoms=atoms,
    )


def to_ts_string(models: list[tuple[int, Protein]], target: str, parent: str = "N/A",
                 method: str | None = None) -> str:
    """TS text: PFRMAT/TARGET header, then MODEL n / PARENT / ATOM ... / TER / END per model."""
    if not target or any(c.isspace() for c in target):
        raise ValueError(f"target name {target!r} must be one non-empty word")
    lines = ["PFRMAT TS", f"TARGET {target}"]
    if method:
        lines += [f"METHOD {row}" for row in method.splitlines()]
    for number, protein in models:
        lines += [f"MODEL  {number}", f"PARENT {parent}"]
        lines += pdb_atom_lines(protein)
        lines.append("END")
    return "\n".join(lines) + "\n"
