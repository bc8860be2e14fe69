"""Query sequences from FASTA files (plain, gzip or stdin).

Accepted: single- and multi-record files; lower case (upper-cased); ``X``
for unknown residues; line-wrapped sequences; spaces and tabs inside
sequence lines (ignored); a trailing ``*`` ending a record; Windows (CRLF)
line endings; blank lines. The record id is the first word of the header,
the description the rest (which may hold any UTF-8 text).

Ambiguous and rare residue letters (a warning names the record and counts):

* ``U`` (selenocysteine) -> ``C``, ``O`` (pyrrolysine) -> ``K``: their
  closest standard residue, as structure files model them (cf. MSE -> MET);
* ``B`` (D/N), ``Z`` (E/Q), ``J`` (I/L) -> ``X`` (unknown): guessing one of
  two residues would invent information.

Rejected, each error naming file, record, line, column and character: an
empty file, sequence before the first header, a header without id or without
sequence, duplicate ids, digits, gaps and other symbols inside a sequence,
residues after ``*``, non-ASCII characters in ids or sequences, binary data.

Record ids become file names through :func:`safe_record_name`;
:func:`record_file_names` rejects two ids that end up as the same name.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings

from foldkit.errors import InputError
from foldkit.io.textfile import display_name, read_text

STANDARD_LETTERS = frozenset("ACDEFGHIKLMNPQRSTVWY")
SUBSTITUTIONS = {"U": "C", "O": "K", "B": "X", "Z": "X", "J": "X"}
_NOT_SEQUENCE = re.compile(r"[^A-Za-z \t*]")
_NOT_SEQUENCE_OR_SEPARATOR = re.compile(r"[^A-Za-z \t*:]")   # ':' separates the chains of a complex
_NOT_ID = re.compile(r"[^\x21-\x7e]")
_SUBSTITUTED = re.compile("[" + "".join(SUBSTITUTIONS) + "]")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._+=@,-]")
MAX_NAME_LENGTH = 120


@dataclasses.dataclass(frozen=True)
class Query:
    """One FASTA record: id (first header word), description (rest of the header), sequence (upper case)."""

    id: str
    description: str
    sequence: str
    line: int = dataclasses.field(default=0, compare=False)   # line of the header in its file

    def __len__(self) -> int:
        return len(self.sequence)


def _describe(char: str) -> str:
    if char.isdigit():
        return f"digit {char!r}"
    if char in "-.":
        return f"gap {char!r} (an alignment? align with 'foldkit msa' or give A3M to --msa)"
    if ord(char) > 127:
        return f"non-ASCII character {char!r} (U+{ord(char):04X})"
    if char == ">":
        return "'>' inside a line (a header must start its line)"
    if char == ":":
        return "chain separator ':' (a complex: predict it with the multimer model, which reads ':'-separated chains)"
    return f"symbol {char!r}"


@dataclasses.dataclass
class _Record:
    id: str
    description: str
    line: int
    chunks: list[str]
    ended_at: int | None = None   # line of a terminal '*'


def parse_fasta(text: str, path: str = "<string>", *, chain_separator: bool = False,
                unique_ids: bool = True) -> list[Query]:
    """Queries of a FASTA text; ``path`` is used in error messages.

    ``chain_separator``: ':' is kept in sequences (ColabFold's complex convention,
    split by :mod:`foldkit.io.complexes`); otherwise it is an error.
    ``unique_ids=False`` accepts repeated ids (the chains of one complex file,
    where a homomer's copies may share a header).
    """
    not_sequence = _NOT_SEQUENCE_OR_SEPARATOR if chain_separator else _NOT_SEQUENCE
    if not text.strip():
        raise InputError("file is empty", path=path)
    records: list[_Record] = []
    current: _Record | None = None
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith(">"):
            header = line[1:].strip()
            if not header:
                raise InputError("header without an id",
                                 path=path, line=number, column=2)
            record_id, _, description = header.partition(" ")
            record_id, _, rest = record_id.partition("\t")
            description = " ".join(filter(None, [rest.strip(), description.strip()]))
            bad = _NOT_ID.search(record_id)
            if bad:
                raise InputError(f"record id contains {_describe(bad.group())}", path=path, record=record_id,
                                 line=number, column=2 + bad.start())
            if unique_ids and record_id in seen:
                raise InputError(f"duplicate record id (first seen on line {seen[record_id]})", path=path,
                                 record=record_id, line=number)
            seen.setdefault(record_id, number)
            current = _Record(record_id, description, number, [])
            records.append(current)
            continue
        if current is None:
            raise InputError(f"sequence data before the first '>' header (found {line.strip()[:20]!r}); "
                             "a FASTA record starts with '>id'", path=path, line=number,
                             column=len(line) - len(line.lstrip()) + 1)
        bad = not_sequence.search(line)
        if bad:
            raise InputError(f"invalid {_describe(bad.group())} in the sequence", path=path, record=current.id,
                             line=number, column=bad.start() + 1)
        if current.ended_at is not None:
            column = len(line) - len(line.lstrip()) + 1
            raise InputError(f"residues after the terminal '*' of line {current.ended_at}", path=path,
                             record=current.id, line=number, column=column)
        star = line.find("*")
        if star >= 0:
            after = line[star + 1:]
            if after.strip():
                column = star + 2 + (len(after) - len(after.lstrip()))
                raise InputError(f"'*' inside the sequence (only allowed at its end), followed by "
                                 f"{after.strip()[0]!r}", path=path, record=current.id, line=number,
                                 column=column)
            current.ended_at = number
            line = line[:star]
        current.chunks.append(line)
    if not records:
        raise InputError("no FASTA record (no line starting with '>')", path=path)
    return [_finish(record, path) for record in records]


def _finish(record: _Record, path: str) -> Query:
    sequence = "".join("".join(record.chunks).split()).upper()
    if not sequence:
        raise InputError("header without sequence", path=path, record=record.id, line=record.line)
    if _SUBSTITUTED.search(sequence):
        counts = {c: sequence.count(c) for c in SUBSTITUTIONS if c in sequence}
        listed = ", ".join(f"{c}->{SUBSTITUTIONS[c]} x{n}" for c, n in counts.items())
        warnings.warn(f"{path}: record '{record.id}': non-standard residue letters replaced: {listed}",
                      stacklevel=3)
        sequence = _SUBSTITUTED.sub(lambda m: SUBSTITUTIONS[m.group()], sequence)
    return Query(record.id, record.description, sequence, record.line)


def read_fasta(path: str | os.PathLike, *, chain_separator: bool = False) -> list[Query]:
    """Queries of a FASTA file, a gzipped FASTA file, or stdin for '-' (``chain_separator``: see parse_fasta)."""
    return parse_fasta(read_text(path), display_name(path), chain_separator=chain_separator)


def safe_record_name(record_id: str) -> str:
    """A file name for a record id: no '/', '..', NUL, leading dots or shell-unfriendly characters.

    Characters outside ``A-Za-z0-9._+=@,-`` become '_', runs of dots become
    one '_', leading dots and dashes are dropped; at most 120 characters.
    """
    name = _UNSAFE_NAME_CHARS.sub("_", record_id)
    name = re.sub(r"\.{2,}", "_", name)
    name = name.lstrip(".-")[:MAX_NAME_LENGTH].rstrip(".")
    return name or "_"


def record_file_names(queries: list[Query], path: str | None = None) -> dict[str, str]:
    """record id -> safe file name; two ids with the same name (ignoring case) are an error."""
    names: dict[str, str] = {}
    owner: dict[str, Query] = {}
    for query in queries:
        name = safe_record_name(query.id)
        key = name.casefold()
        if key in owner:
            first = owner[key]
            raise InputError(f"records '{first.id}' (line {first.line}) and '{query.id}' both become the file "
                             f"name '{name}'; rename one of them", path=path, record=query.id, line=query.line)
        owner[key] = query
        names[query.id] = name
    return names
