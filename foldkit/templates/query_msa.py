"""The template-search query, derived from the UniRef90 jackhmmer Stockholm as AlphaFold2 v2.3 does.

AlphaFold2 does not search templates with the query sequence alone: it takes
the UniRef90 alignment, drops rows that repeat an earlier row on the query's
columns (:func:`deduplicate_stockholm`), drops alignment columns that hold only
``-`` (:func:`remove_empty_columns`), and then

* monomer (HHsearch): converts that Stockholm to A3M (:func:`stockholm_to_a3m`,
  the query's gap columns become lower-case insertions) -> :func:`hhsearch_query_a3m`;
* multimer (hmmsearch): gives that Stockholm to ``hmmbuild --hand`` ->
  :func:`hmmbuild_query_sto`.

The functions work on the text line by line (as the file is laid out, blocks
included), so that the result is what the search tools saw.
"""

from __future__ import annotations

import itertools

import numpy as np


def _is_row(line: str) -> bool:
    """A sequence line (not blank, not markup '#...', not the end mark '//')."""
    return bool(line.strip()) and not line.startswith(("#", "//"))


def _collect_rows(text: str) -> dict[str, str]:
    """Aligned text of every sequence (blocks concatenated), in first-appearance order."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        if _is_row(line):
            name, aligned = line.split()
            rows[name] = rows.get(name, "") + aligned
    return rows


def _line_kept(line: str, names: set[str]) -> bool:
    """Whether a line survives when only the sequences ``names`` stay."""
    if not line.strip() or line.strip() == "//" or line.startswith(("# STOCKHOLM", "#=GC RF")):
        return True
    if line.startswith("#=GS"):
        return line.split(maxsplit=2)[1] in names
    if line.startswith("#"):
        return False       # other markup (#=GF, #=GR, #=GC PP_cons ...) refers to dropped rows
    return line.partition(" ")[0] in names


def deduplicate_stockholm(text: str) -> str:
    """Keep the first of the rows that are equal on the query's (first row's) non-gap columns."""
    rows = _collect_rows(text)
    if not rows:
        return text
    query_columns = [c != "-" for c in next(iter(rows.values()))]
    seen: set[str] = set()
    kept: set[str] = set()
    for name, aligned in rows.items():
        key = "".join(itertools.compress(aligned, query_columns))
        if key not in seen:
            seen.add(key)
            kept.add(name)
    return "\n".join(line for line in text.splitlines() if _line_kept(line, kept)) + "\n"


def _column_mask(aligned_rows: list[str], width: int) -> np.ndarray:
    """[width] bool: columns in which at least one row holds something other than '-'."""
    keep = np.zeros(width, bool)
    for row in aligned_rows:
        codes = np.frombuffer(row.encode()[:width], np.uint8)
        keep[: len(codes)] |= codes != ord("-")
    return keep


def remove_empty_columns(text: str) -> str:
    """Drop the columns in which every row holds '-', block by block (a block ends at '#=GC RF')."""
    out: dict[int, str] = {}
    block: dict[int, str] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("#=GC RF"):
            reference = line.rpartition(" ")[2]
            split = {index: row.rpartition(" ") for index, row in block.items()}
            keep = _column_mask([parts[2] for parts in split.values()], len(reference))
            split[number] = line.rpartition(" ")
            for index, (prefix, _, aligned) in split.items():
                if keep.any():
                    codes = np.frombuffer(aligned.encode(), np.uint8)[: len(keep)]
                    out[index] = f"{prefix} {codes[keep[: len(codes)]].tobytes().decode()}"
                else:
                    out[index] = ""
            block = {}
        elif _is_row(line):
            block[number] = line
        else:
            out[number] = line
    out.update(block)       # rows after the last '#=GC RF' stay as they are
    return "\n".join(out[k] for k in range(len(lines)))


def stockholm_to_a3m(text: str, remove_first_row_gaps: bool = True) -> str:
    """A3M of a Stockholm alignment.

    With ``remove_first_row_gaps`` the columns where the first row has '-' become
    insertions (lower case, gaps dropped); without, only '.' characters are removed.
    Headers are ``>name description`` (``#=GS name DE description``; the space is
    written even when there is no description).
    """
    rows = _collect_rows(text)
    descriptions: dict[str, str] = {}
    for line in text.splitlines():
        if line[:4] == "#=GS":
            words = line.split(maxsplit=3)
            if len(words) >= 3 and words[2] == "DE":
                descriptions[words[1]] = words[3] if len(words) == 4 else ""
    if not rows:
        return "\n"
    query_columns = [c != "-" for c in next(iter(rows.values()))]
    records = []
    for name, aligned in rows.items():
        if remove_first_row_gaps:
            letters = (c if in_query else c.lower() for c, in_query in zip(aligned, query_columns)
                       if in_query or c != "-")
            sequence = "".join(letters)
        else:
            sequence = aligned.replace(".", "")
        records.append(f">{name} {descriptions.get(name, '')}\n{sequence}")
    return "\n".join(records) + "\n"


def hhsearch_query_a3m(uniref90_sto_text: str) -> str:
    """The A3M that AlphaFold2 gives HHsearch (``-i``) for the monomer template search."""
    return stockholm_to_a3m(remove_empty_columns(deduplicate_stockholm(uniref90_sto_text)))


def hmmbuild_query_sto(uniref90_sto_text: str) -> str:
    """The Stockholm that AlphaFold2 gives ``hmmbuild --hand --amino`` for the multimer template search."""
    return remove_empty_columns(deduplicate_stockholm(uniref90_sto_text))
