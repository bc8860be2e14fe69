"""Template hits from HHsearch ``.hhr`` files and hmmsearch Stockholm output (``pdb_hits.sto``).

Both parsers return :class:`TemplateHit` records with the fields AlphaFold2
v2.3 works with:

* ``.hhr`` (HH-suite 3 "hhr" format): one hit per ``No <n>`` block. ``name`` is
  the text of the block's ``>`` line (id and description), ``aligned_cols`` and
  ``sum_probs`` come from its statistics line, ``query`` / ``hit_sequence`` are
  the concatenated ``Q <name>`` / ``T <name>`` alignment rows (gaps ``-``), and
  ``indices_query`` / ``indices_hit`` give, per alignment column, the residue
  index (0-based, counted from the row's start number) or -1 for a gap.
* hmmsearch Stockholm (``-A`` output): one hit per sequence whose description
  holds ``mol:protein`` (pdb_seqres entries of other molecule types are not
  templates). Insert-column gaps ``.`` are dropped; ``query`` is the whole query
  sequence (the profile's match columns are the query residues), ``hit_sequence``
  is the row in upper case (inserted residues included), ``indices_hit`` numbers
  the match columns from the start of the hit's ``name/start-end`` range
  (inserted residues advance the count without a column), ``sum_probs`` is None
  and ``aligned_cols`` counts the aligned residues (upper-case letters). The
  ``index`` counts every sequence of the file, protein or not.

Truncated or malformed files raise :class:`~foldkit.errors.InputError` naming
the file and line.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from foldkit.errors import InputError

# Alignment rows of an .hhr block that are not the query or template sequence.
_ANNOTATION_ROWS = ("ss_dssp", "ss_pred", "ss_conf", "Consensus")
_HHR_ROW = re.compile(r"^(?P<start>\d+) (?P<residues>[A-Za-z-]+)\s+(?P<end>\d+) \(\d+\)$")
_HHR_STATS = re.compile(r"([A-Za-z_-]+)=(\S+)")
_HMMSEARCH_NAME = re.compile(r"^(?P<pdb>[a-z0-9]+)_(?P<chain>\w+)/(?P<start>\d+)-(?P<end>\d+)$")
_PROTEIN_LENGTH = re.compile(r"protein length:(\d+)")


@dataclasses.dataclass(frozen=True)
class TemplateHit:
    """One query-template alignment of a template search."""

    index: int                          # 1-based rank in the search output
    name: str                           # ".hhr": "1igy_B IGG1 INTACT ...", hmmsearch: "1k6p_A"
    aligned_cols: int
    sum_probs: float | None             # None for hmmsearch hits
    query: str                          # aligned query row ('-' gaps); hmmsearch: the query sequence
    hit_sequence: str                   # aligned template row, upper case ('-' gaps)
    indices_query: tuple[int, ...]      # per column: query residue index or -1
    indices_hit: tuple[int, ...]        # per column: template residue index or -1


def _where(path: str | Path | None) -> str | None:
    return str(path) if path is not None else None


# --------------------------------------------------------------------------------------- .hhr

def _residue_indices(residues: str, first: int) -> list[int]:
    """Residue index per alignment column (-1 for '-'), numbering from ``first``."""
    out, counter = [], first
    for char in residues:
        if char == "-":
            out.append(-1)
        else:
            out.append(counter)
            counter += 1
    return out


def _alignment_row(line: str) -> tuple[str, str] | None:
    """('Q'|'T', rest) for a query/template sequence row, None for any other line."""
    if len(line) < 2 or line[0] not in "QT" or line[1] != " ":
        return None
    words = line[2:].split(None, 1)
    if not words or words[0] in _ANNOTATION_ROWS:
        return None
    return line[0], line


def _parse_hhr_row(line: str, where: str | None, number: int) -> tuple[int, str]:
    """(0-based start, residues) of a 'Q name start RESIDUES end (length)' row."""
    words = line.split()
    # words: kind, name (may be missing for an empty name field), start, residues, end, (length)
    tail = " ".join(words[-4:]) if len(words) >= 5 else ""
    found = _HHR_ROW.match(tail)
    if not found:
        raise InputError("alignment row is not 'Q|T name start RESIDUES end (length)' (truncated?)",
                         path=where, line=number)
    start, residues, end = int(found["start"]), found["residues"].upper(), int(found["end"])
    gaps = residues.count("-")
    if end - start + 1 + gaps != len(residues):
        raise InputError(f"residue range {start}-{end} does not fit the {len(residues) - gaps} residues "
                         f"of the row", path=where, line=number)
    return start - 1, residues


def _parse_hhr_block(lines: list[str], first_line: int, where: str | None) -> TemplateHit:
    """One 'No <n>' block (lines[0] is 'No <n>'); ``first_line`` is its 1-based line number."""
    number = int(lines[0].split()[1])
    if len(lines) < 3 or not lines[1].startswith(">"):
        raise InputError(f"hit {number}: expected a '>name' line after 'No {number}' (truncated?)",
                         path=where, line=first_line + 1)
    name = lines[1][1:]
    stats = dict(_HHR_STATS.findall(lines[2]))
    for key in ("Aligned_cols", "Sum_probs"):
        if key not in stats:
            raise InputError(f"hit {number}: statistics line has no {key}= (truncated?)",
                             path=where, line=first_line + 2)
    try:
        aligned_cols = int(float(stats["Aligned_cols"]))
        sum_probs = float(stats["Sum_probs"])
    except ValueError:
        raise InputError(f"hit {number}: Aligned_cols/Sum_probs are not numbers", path=where,
                         line=first_line + 2) from None
    rows: dict[str, list[str]] = {"Q": [], "T": []}
    indices: dict[str, list[int]] = {"Q": [], "T": []}
    for offset, line in enumerate(lines[3:], start=3):
        kind_and_line = _alignment_row(line)
        if kind_and_line is None:
            continue
        kind, _ = kind_and_line
        start, residues = _parse_hhr_row(line, where, first_line + offset)
        rows[kind].append(residues)
        indices[kind].extend(_residue_indices(residues, start))
    query, template = "".join(rows["Q"]), "".join(rows["T"])
    if not query:
        raise InputError(f"hit {number} ({name.split()[0] if name else '?'}): no alignment rows (truncated?)",
                         path=where, line=first_line)
    if len(query) != len(template):
        raise InputError(f"hit {number} ({name.split()[0] if name else '?'}): the query rows hold "
                         f"{len(query)} columns, the template rows {len(template)} (truncated?)",
                         path=where, line=first_line)
    return TemplateHit(index=number, name=name, aligned_cols=aligned_cols, sum_probs=sum_probs,
                       query=query, hit_sequence=template, indices_query=tuple(indices["Q"]),
                       indices_hit=tuple(indices["T"]))


def _summary_rows(lines: list[str]) -> int | None:
    """Number of rows of the hit summary table (None when the file has no table header)."""
    for k, line in enumerate(lines):
        if line.split()[:2] == ["No", "Hit"]:
            count = 0
            for row in lines[k + 1:]:
                if not row.strip():
                    break
                count += 1
            return count
    return None


def parse_hhr(text: str, path: str | Path | None = None) -> list[TemplateHit]:
    """All hits of an HHsearch/HHblits ``.hhr`` file, in file order."""
    where = _where(path)
    lines = text.splitlines()
    first = next((k for k, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputError("empty .hhr file", path=where)
    if not lines[first].startswith("Query"):
        raise InputError("not an HHsearch .hhr file (the first line does not start with 'Query')",
                         path=where, line=first + 1)
    starts = [k for k, line in enumerate(lines) if re.match(r"^No \d+\s*$", line)]
    expected = _summary_rows(lines)
    if expected is None:
        raise InputError("no hit table (' No Hit ...' header) in the .hhr file (truncated?)", path=where)
    hits = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        hit = _parse_hhr_block(lines[start:end], start + 1, where)
        if hit.index != n + 1:
            raise InputError(f"hit block 'No {hit.index}' where 'No {n + 1}' was expected",
                             path=where, line=start + 1)
        hits.append(hit)
    if len(hits) != expected:
        raise InputError(f"the hit table lists {expected} hits but {len(hits)} alignment blocks follow "
                         f"(truncated?)", path=where, line=len(lines))
    return hits


def read_hhr(path: str | Path) -> list[TemplateHit]:
    from foldkit.io.textfile import read_text

    return parse_hhr(read_text(path), path)


# --------------------------------------------------------------------------------------- Stockholm

@dataclasses.dataclass(frozen=True)
class StockholmRows:
    """Rows of one Stockholm alignment: aligned text per name (file order) and DE descriptions."""

    rows: dict[str, str]
    descriptions: dict[str, str]
    first_line: dict[str, int]
    reference: str                      # '#=GC RF' annotation ('' when absent)


def read_stockholm_rows(text: str, path: str | Path | None = None) -> StockholmRows:
    """The rows of the first alignment of a Stockholm text, checked for completeness."""
    where = _where(path)
    rows: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    first_line: dict[str, int] = {}
    reference: list[str] = []
    seen_header = closed = False
    number = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not seen_header:
            if not line.startswith("# STOCKHOLM"):
                raise InputError("not a Stockholm file (no '# STOCKHOLM 1.0' header)", path=where, line=number)
            seen_header = True
            continue
        if line == "//":
            closed = True
            break
        if line.startswith("#=GS"):
            words = line.split(None, 3)
            if len(words) >= 3 and words[2] == "DE":
                descriptions[words[1]] = words[3] if len(words) == 4 else ""
            continue
        if line.startswith("#=GC"):
            words = line.split()
            if len(words) == 3 and words[1] == "RF":
                reference.append(words[2])
            continue
        if line.startswith("#"):
            continue
        words = line.split()
        if len(words) != 2:
            raise InputError("expected 'name aligned_sequence'", path=where, line=number)
        name, chunk = words
        bad = re.search(r"[^A-Za-z.\-]", chunk)
        if bad:
            raise InputError(f"character {bad.group()!r} is not an amino acid or gap", path=where,
                             record=name, line=number, column=raw.find(chunk) + bad.start() + 1)
        rows.setdefault(name, []).append(chunk)
        first_line.setdefault(name, number)
    if not seen_header:
        raise InputError("empty Stockholm file", path=where)
    if not closed:
        raise InputError("the alignment is not closed by '//' (truncated?)", path=where, line=number)
    joined = {name: "".join(chunks) for name, chunks in rows.items()}
    widths = {len(row) for row in joined.values()}
    if len(widths) > 1:
        width = len(next(iter(joined.values())))
        name = next(n for n, row in joined.items() if len(row) != width)
        raise InputError(f"row has {len(joined[name])} columns, the first row has {width} (truncated?)",
                         path=where, record=name, line=first_line[name])
    rf = "".join(reference)
    if rf and widths and len(rf) != next(iter(widths)):
        raise InputError(f"#=GC RF has {len(rf)} columns, the rows have {next(iter(widths))}", path=where)
    return StockholmRows(joined, descriptions, first_line, rf)


def _hmmsearch_indices(row: str, first: int) -> list[int]:
    """Template residue index per match column ('-' -> -1); lower-case insertions only count."""
    out, counter = [], first
    for char in row:
        if char == "-":
            out.append(-1)
        elif char.islower():
            counter += 1
        else:
            out.append(counter)
            counter += 1
    return out


def _hmmsearch_hits(alignment: StockholmRows, query_sequence: str | None, query_length: int,
                    where: str | None) -> list[TemplateHit]:
    indices_query = tuple(range(query_length))
    hits = []
    for index, (name, row) in enumerate(alignment.rows.items(), start=1):
        description = alignment.descriptions.get(name, "")
        if "mol:protein" not in f"{name} {description}":
            continue
        found = _HMMSEARCH_NAME.match(name)
        length = _PROTEIN_LENGTH.search(description)
        if not found or not length:
            raise InputError("hit name/description is not '<pdbid>_<chain>/<start>-<end>' with "
                             "'mol:protein length:<n>'", path=where, record=name, line=alignment.first_line[name])
        residues = row.replace(".", "")
        match_columns = sum(1 for c in residues if c == "-" or c.isupper())
        if match_columns != query_length:
            raise InputError(f"the hit row has {match_columns} match columns, the query has "
                             f"{query_length} residues (hits of another query?)",
                             path=where, record=name, line=alignment.first_line[name])
        hits.append(TemplateHit(
            index=index, name=f"{found['pdb']}_{found['chain']}",
            aligned_cols=sum(1 for c in residues if c.isupper()), sum_probs=None,
            query=query_sequence or "", hit_sequence=residues.upper(), indices_query=indices_query,
            indices_hit=tuple(_hmmsearch_indices(residues, int(found["start"]) - 1))))
    return hits


def parse_hmmsearch_sto(text: str, query_sequence: str, path: str | Path | None = None) -> list[TemplateHit]:
    """Protein hits of hmmsearch ``-A`` Stockholm output against pdb_seqres, in file order.

    An empty text is hmmsearch's output without hits (no hit).
    """
    if not text.strip():
        return []
    alignment = read_stockholm_rows(text, path)
    return _hmmsearch_hits(alignment, query_sequence, len(query_sequence), _where(path))


def is_hmmsearch_output(text: str) -> bool:
    """Whether a Stockholm text looks like hmmsearch -A output on pdb_seqres (not a query-first MSA)."""
    head = text[:65536]
    return "#=GF AU hmmsearch" in head or bool(re.search(r"^#=GS \S+\s+DE .*mol:", head, re.MULTILINE))


def check_hmmsearch_sto(text: str, path: str | Path | None = None) -> tuple[list[TemplateHit], int, int]:
    """(protein hits, number of all sequences, profile length) of hmmsearch output, without the query.

    The profile length is the number of match columns ('#=GC RF' 'x' columns, else the
    upper-case/'-' columns of the first row); every protein hit must have as many.
    """
    alignment = read_stockholm_rows(text, path)
    if alignment.reference:
        length = sum(1 for c in alignment.reference if c not in ".-")
    elif alignment.rows:
        length = sum(1 for c in next(iter(alignment.rows.values())) if c == "-" or c.isupper())
    else:
        length = 0
    return _hmmsearch_hits(alignment, None, length, _where(path)), len(alignment.rows), length
