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

import numpy as np

from foldkit.errors import InputError
from foldkit.io.pdb_format import AtomLines, assign_models, parse_model_number, pdb_atom_lines
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
    target = None
    pfrmat_seen = False
    blocks: list[dict] = []
    current: dict | None = None
    atom_lines: list[str] = []
    atom_line_numbers: list[int] = []
    for number, line in enumerate(lines, 1):
        head = line[:6]
        if head == "ATOM  " or head == "HETATM" or head[:4] == "ATOM":
            if current is None:
                where = "before any MODEL record" if not blocks else "after END, outside a MODEL block"
                raise InputError(f"atom record {where}", path=path, line=number)
            atom_lines.append(line)
            atom_line_numbers.append(number)
            current["atoms"] += 1
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
    line_numbers = np.asarray(atom_line_numbers, dtype=np.int64)
    models = assign_models(line_numbers, [b["line"] for b in blocks], [b["number"] for b in blocks])
    return TsFile(
        target=target,
        blocks=tuple(TsModelBlock(b["number"], b["line"], tuple(b["parents"]), b["closed"], b["atoms"])
                     for b in blocks),
        atoms=AtomLines(atom_lines, line_numbers, models),
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
