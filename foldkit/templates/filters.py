"""AlphaFold2's template hit filters: obsolete entries, the hit prefilter, the release date.

* ``obsolete.dat`` (wwPDB list of obsolete entries; fixed columns): a line
  ``OBSLTE    31-JAN-94 0NCB     1NCB`` maps the entry in columns 21-24 to its
  first successor in columns 30-33; a line of exactly 24 characters has no
  successor (the entry was removed). Hits on removed entries are skipped with
  the warning "Hit <id> is obsolete."; hits on replaced entries are read from
  the successor's mmCIF file.
* Prefilter (before any mmCIF is read), in this order: the fraction of query
  residues the hit aligns (``aligned_cols / len(query)``) must exceed
  ``min_align_ratio`` (0.1); a template that is an exact substring of the query
  and longer than ``max_subsequence_ratio`` (0.95) of it is a duplicate of the
  query; a template shorter than 10 residues is too short.
* Release date (read from the mmCIF, as AlphaFold2 does without a release-dates
  file): a template released after ``max_template_date`` is dropped; a date
  equal to it passes.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.textfile import read_text
from foldkit.templates.hits import TemplateHit

_PDB_ID = re.compile(r"^[A-Za-z0-9]{4}$")
_HIT_ID = re.compile(r"[a-zA-Z\d]{4}_[a-zA-Z0-9.]+")
MIN_TEMPLATE_LENGTH = 10


class PrefilterError(Exception):
    """The hit fails a prefilter; the message says why (AlphaFold2's wording)."""


def parse_obsolete(text: str, path: str | Path | None = None) -> dict[str, str | None]:
    """Obsolete PDB id (lower case) -> successor id, or None when the entry was removed."""
    where = str(path) if path is not None else None
    obsolete: dict[str, str | None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line.startswith("OBSLTE"):
            continue
        if len(line) > 30:
            old, new = line[20:24], line[29:33]
        elif len(line) == 24:
            old, new = line[20:24], None
        else:
            raise InputError(f"OBSLTE line of {len(line)} characters: expected 'OBSLTE    DD-MON-YY XXXX' "
                             f"(24 characters) or a successor id in columns 30-33", path=where, line=number)
        for pdb_id in (old, new):
            if pdb_id is not None and not _PDB_ID.match(pdb_id):
                raise InputError(f"{pdb_id!r} is not a 4-character PDB id (fixed columns 21-24 and 30-33)",
                                 path=where, line=number)
        obsolete[old.lower()] = new.lower() if new is not None else None
    return obsolete


def read_obsolete(path: str | Path) -> dict[str, str | None]:
    return parse_obsolete(read_text(path), path)


def pdb_id_and_chain(hit: TemplateHit, path: str | None = None) -> tuple[str, str]:
    """(lower-case PDB id, chain id) from the start of a hit name such as '1igy_B IGG1 ...'."""
    found = _HIT_ID.match(hit.name)
    if not found:
        raise InputError(f"hit {hit.index} name {hit.name.split()[0] if hit.name.split() else hit.name!r} "
                         f"does not start with '<pdb id>_<chain>'", path=path)
    pdb_id, chain_id = found.group(0).split("_", 1)
    return pdb_id.lower(), chain_id


def prefilter(hit: TemplateHit, query_sequence: str, max_subsequence_ratio: float = 0.95,
              min_align_ratio: float = 0.1) -> None:
    """Raise :class:`PrefilterError` when AlphaFold2's prefilter rejects the hit."""
    template = hit.hit_sequence.replace("-", "")
    align_ratio = hit.aligned_cols / len(query_sequence)
    length_ratio = float(len(template)) / len(query_sequence)
    if align_ratio <= min_align_ratio:
        raise PrefilterError(f"Proportion of residues aligned to query too small. Align ratio: {align_ratio}.")
    if template in query_sequence and length_ratio > max_subsequence_ratio:
        raise PrefilterError(f"Template is an exact subsequence of query with large coverage. "
                             f"Length ratio: {length_ratio}.")
    if len(template) < MIN_TEMPLATE_LENGTH:
        raise PrefilterError(f"Template too short. Length: {len(template)}.")


def released_too_late(release_date: datetime.date | None, max_template_date: datetime.date) -> bool:
    """True when the entry was released after ``max_template_date`` (no date: passes)."""
    return release_date is not None and release_date > max_template_date


def date_message(pdb_id: str, release_date: datetime.date, max_template_date: datetime.date) -> str:
    """AlphaFold2's log line for a template dropped by date (dates printed as datetimes)."""
    return (f"Template {pdb_id} date ({release_date.isoformat()} 00:00:00) > max template date "
            f"({max_template_date.isoformat()} 00:00:00).")
