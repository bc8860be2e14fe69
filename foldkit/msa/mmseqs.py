"""Optional MMseqs2 search backend (needs the ``mmseqs`` binary on PATH).

Runs ``mmseqs easy-search`` with aligned query/target strings in the output
and turns every hit into an A3M row relative to the query.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from pathlib import Path

from foldkit.errors import FoldkitError, InputError
from foldkit.io.msa_files import Msa, parse_a3m
from foldkit.msa.database import read_fasta_database
from foldkit.msa.search import default_cpus

_COLUMNS = ("query", "target", "evalue", "qstart", "qend", "tstart", "tend", "qaln", "taln")


@dataclasses.dataclass(frozen=True)
class MmseqsSettings:
    sensitivity: float = 7.5      # -s
    e_value: float = 1e-3         # -e
    iterations: int = 3           # --num-iterations (profile search)
    max_seqs: int = 10000         # --max-seqs (prefilter) and rows kept, query included


def mmseqs_binary() -> str | None:
    """Path of ``mmseqs`` or None."""
    return shutil.which("mmseqs")


def alignment_to_a3m_row(qaln: str, taln: str, qstart: int, qend: int, query_length: int) -> str:
    """A3M row from a pairwise alignment (1-based inclusive query range)."""
    parts = ["-" * (qstart - 1)]
    for q, t in zip(qaln, taln):
        if q == "-":
            if t != "-":
                parts.append(t.lower())
        else:
            parts.append(t.upper() if t != "-" else "-")
    parts.append("-" * (query_length - qend))
    return "".join(parts)


def mmseqs_search(query_name: str, query_sequence: str, database: str | Path,
                  settings: MmseqsSettings = MmseqsSettings(), cpus: int | None = None) -> Msa:
    """Search one query against a FASTA database with MMseqs2; returns query + hits."""
    binary = mmseqs_binary()
    if binary is None:
        raise FoldkitError("the MMseqs2 backend needs the 'mmseqs' binary on PATH (Debian package mmseqs2)")
    read_fasta_database(database)  # validates the file with a clear error before mmseqs sees it
    with tempfile.TemporaryDirectory(prefix="foldkit_mmseqs_") as tmp:
        tmp = Path(tmp)
        query_path = tmp / "query.fasta"
        query_path.write_text(f">{query_name}\n{query_sequence}\n")
        result = tmp / "result.m8"
        command = [binary, "easy-search", str(query_path), str(database), str(result), str(tmp / "work"),
                   "-s", str(settings.sensitivity), "-e", str(settings.e_value),
                   "--num-iterations", str(settings.iterations), "--max-seqs", str(settings.max_seqs),
                   "--threads", str(cpus or default_cpus()), "--format-mode", "0",
                   "--format-output", ",".join(_COLUMNS), "-v", "1"]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise InputError(f"mmseqs easy-search failed: {run.stderr.strip()[-400:]}", path=str(database))
        lines = [f">{query_name}", query_sequence]
        for line in result.read_text().splitlines():
            fields = dict(zip(_COLUMNS, line.split("\t")))
            if len(fields) != len(_COLUMNS):
                continue
            row = alignment_to_a3m_row(fields["qaln"], fields["taln"], int(fields["qstart"]),
                                       int(fields["qend"]), len(query_sequence))
            lines += [f">{fields['target']}/{fields['tstart']}-{fields['tend']}", row]
            if len(lines) // 2 >= settings.max_seqs:
                break
    return parse_a3m("\n".join(lines) + "\n", query_sequence=query_sequence)
