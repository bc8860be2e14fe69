"""Realigning a hit whose database sequence differs from the mmCIF chain (the Kalign binary).

When the template sequence of a hit (e.g. an older PDB70 sequence of an entry
that was replaced) is not found in the mmCIF SEQRES, AlphaFold2 aligns the two
sequences with Kalign and moves the query->template mapping through that
alignment. :func:`kalign_align` is the thin wrapper around the binary (command
``kalign -i in.fasta -o out.fasta -format fasta``, run with a timeout), and
:func:`realign_mapping` applies the result:

* the two gapped rows give old->new template positions for every column where
  both have a residue; at least 10 % of the shorter sequence must be identical
  in such columns, otherwise the hit is dropped (:class:`RealignError`);
* each query position keeps its mapping through old->new; an old position
  without a new partner maps to -1, which AlphaFold2 then reads as the last
  residue of the chain (Python's index -1). This is reproduced as is.

A missing binary is a :class:`~foldkit.errors.FoldkitError` naming it and the
``--kalign-binary`` option; a failing run or a too-short sequence only drops
the hit (:class:`RealignError`), as in AlphaFold2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from foldkit.errors import FoldkitError

KALIGN_MIN_LENGTH = 6
MIN_REALIGN_IDENTITY = 0.1
INSTALL_HINT = "install it with 'apt-get install kalign' or 'conda install -c bioconda kalign'"


class RealignError(Exception):
    """The hit cannot be realigned to the mmCIF sequence (the hit is skipped)."""


def find_binary(binary: str) -> str:
    """Absolute path of the Kalign binary, or a FoldkitError that says how to get it."""
    found = shutil.which(binary) if os.sep not in binary else (binary if os.access(binary, os.X_OK) else None)
    if found is None:
        raise FoldkitError(f"kalign binary {binary!r} not found (needed to realign templates whose mmCIF "
                           f"sequence differs from the search hit): give its path with --kalign-binary or "
                           f"{INSTALL_HINT}")
    return found


def kalign_command(binary: str, input_fasta: str | Path, output_fasta: str | Path) -> list[str]:
    return [binary, "-i", str(input_fasta), "-o", str(output_fasta), "-format", "fasta"]


def _read_fasta_rows(text: str) -> list[str]:
    """Aligned rows of FASTA/A3M text (lower-case insertion letters removed)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(">"):
            rows.append([])
        elif line and rows:
            rows[-1].append("".join(c for c in line if not c.islower()))
    return ["".join(chunks) for chunks in rows]


def kalign_align(sequences: list[str], binary: str = "kalign", timeout_s: float = 300.0) -> list[str]:
    """Gapped rows of a Kalign alignment of ``sequences`` (in output order)."""
    for sequence in sequences:
        if len(sequence) < KALIGN_MIN_LENGTH:
            raise RealignError(f"Kalign needs sequences of at least {KALIGN_MIN_LENGTH} residues, "
                               f"got {len(sequence)}: {sequence}")
    executable = find_binary(binary)
    with tempfile.TemporaryDirectory(prefix="foldkit_kalign_") as folder:
        input_fasta, output_fasta = Path(folder, "input.fasta"), Path(folder, "output.a3m")
        input_fasta.write_text("".join(f">sequence {k}\n{s}\n" for k, s in enumerate(sequences)))
        command = kalign_command(executable, input_fasta, output_fasta)
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise RealignError(f"{binary} did not finish within {timeout_s:.0f} s") from None
        except OSError as exc:
            raise FoldkitError(f"cannot run kalign binary {executable!r} ({exc}); give a working one with "
                               f"--kalign-binary or {INSTALL_HINT}") from None
        if run.returncode != 0:
            raise RealignError(f"{binary} failed (exit code {run.returncode}): {run.stderr.strip()[-300:]}")
        try:
            rows = _read_fasta_rows(output_fasta.read_text())
        except OSError:
            raise RealignError(f"{binary} wrote no output file") from None
    if len(rows) != len(sequences) or len({len(r) for r in rows}) != 1:
        raise RealignError(f"{binary} returned {len(rows)} rows of unequal or unexpected length")
    return rows


def realign_mapping(old_template: str, new_template: str, old_mapping: dict[int, int],
                    aligned_rows: tuple[str, str]) -> dict[int, int]:
    """Query -> new-template positions, given the Kalign rows of (old template, new template)."""
    old_row, new_row = aligned_rows
    old_to_new: dict[int, int] = {}
    old_index = new_index = -1
    identical = 0
    for old_char, new_char in zip(old_row, new_row):
        old_index += old_char != "-"
        new_index += new_char != "-"
        if old_char != "-" and new_char != "-":
            old_to_new[old_index] = new_index
            identical += old_char == new_char
    shorter = min(len(old_template), len(new_template))
    if shorter == 0 or identical / shorter < MIN_REALIGN_IDENTITY:
        raise RealignError(f"the database sequence {old_template} and the mmCIF sequence {new_template} are "
                           f"less than {MIN_REALIGN_IDENTITY:.0%} identical ({identical} of {shorter} residues)")
    return {query: old_to_new.get(old, -1) for query, old in old_mapping.items()}


def realign_to_chain(old_template: str, new_template: str, old_mapping: dict[int, int],
                     binary: str = "kalign", timeout_s: float = 300.0) -> dict[int, int]:
    """Kalign the hit's template sequence to the mmCIF chain sequence and remap the query mapping."""
    rows = kalign_align([old_template, new_template], binary, timeout_s)
    return realign_mapping(old_template, new_template, old_mapping, (rows[0], rows[1]))
