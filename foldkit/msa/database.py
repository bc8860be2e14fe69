"""Reading a FASTA sequence database for MSA searches (plain or gzipped), with clear errors."""

from __future__ import annotations

import dataclasses
import gzip
import string
from pathlib import Path
from typing import Iterator

from foldkit.errors import InputError

_RESIDUE_LETTERS = frozenset(string.ascii_letters + "*-")


@dataclasses.dataclass(frozen=True)
class DatabaseRecord:
    name: str
    description: str
    sequence: str


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt")
    return open(path, "rt")


def iter_fasta_database(path: str | Path) -> Iterator[DatabaseRecord]:
    """Records of a FASTA database; InputError (file, line) on anything that is not FASTA."""
    path = Path(path)
    if not path.is_file():
        raise InputError("database file not found", path=str(path))
    name = description = None
    chunks: list[str] = []
    header_line = 0
    count = 0
    try:
        with _open_text(path) as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.strip()
                if not line:
                    continue
                if line.startswith(">"):
                    if name is not None:
                        yield _record(name, description, chunks, path, header_line)
                        count += 1
                    words = line[1:].split(maxsplit=1)
                    if not words:
                        raise InputError("header without a name", path=str(path), line=number)
                    name = words[0]
                    description = words[1] if len(words) > 1 else ""
                    chunks, header_line = [], number
                    continue
                if name is None:
                    raise InputError("not a FASTA database: sequence data before the first '>' header",
                                     path=str(path), line=number)
                for column, char in enumerate(line, start=1):
                    if char not in _RESIDUE_LETTERS:
                        raise InputError(f"character {char!r} is not an amino acid", path=str(path),
                                         record=name, line=number, column=column)
                chunks.append(line)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"cannot read database: {exc}", path=str(path)) from None
    if name is not None:
        yield _record(name, description, chunks, path, header_line)
        count += 1
    if count == 0:
        raise InputError("empty database: no FASTA record", path=str(path))


def _record(name, description, chunks, path, line) -> DatabaseRecord:
    sequence = "".join(chunks).rstrip("*").replace("-", "").upper()
    if not sequence:
        raise InputError("record has no sequence", path=str(path), record=name, line=line)
    return DatabaseRecord(name, description, sequence)


def read_fasta_database(path: str | Path) -> list[DatabaseRecord]:
    return list(iter_fasta_database(path))
