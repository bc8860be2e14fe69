"""jackhmmer searches in-process with pyhmmer, with AlphaFold2's settings by default.

AlphaFold2 (v2.3) runs ``jackhmmer -N 1 -E 1e-4 --incE 1e-4 --F1 5e-4
--F2 5e-5 --F3 5e-7`` and keeps the first 10,000 sequences of the UniRef90
alignment (501 for MGnify), query included. Results are turned into A3M
rows relative to the query (the HMM's match states are the query columns).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

from foldkit.io.msa_files import Msa
from foldkit.msa.database import DatabaseRecord, read_fasta_database
from foldkit.msa.fpu import flush_denormals


@dataclasses.dataclass(frozen=True)
class JackhmmerSettings:
    """jackhmmer options (command-line flag in comments)."""

    iterations: int = 1             # -N
    e_value: float = 1e-4           # -E (reporting) and --incE (inclusion)
    f1: float = 5e-4                # --F1 (MSV filter)
    f2: float = 5e-5                # --F2 (Viterbi filter)
    f3: float = 5e-7                # --F3 (Forward filter)
    dom_e: float | None = None      # --domE (None: 10, as jackhmmer and pyhmmer)
    incdom_e: float | None = 1e-3   # --incdomE: jackhmmer's default (pyhmmer's Pipeline has hmmsearch's 0.01)
    z_value: float | None = None    # -Z (database size for E-values)
    max_sequences: int = 10000      # rows kept, query included (AlphaFold: uniref90 10000, mgnify 501)

    def pyhmmer_options(self) -> dict:
        options = dict(E=self.e_value, incE=self.e_value, F1=self.f1, F2=self.f2, F3=self.f3)
        for key, value in (("domE", self.dom_e), ("incdomE", self.incdom_e), ("Z", self.z_value)):
            if value is not None:
                options[key] = value
        return options


UNIREF90_SETTINGS = JackhmmerSettings()
MGNIFY_SETTINGS = JackhmmerSettings(max_sequences=501)


def default_cpus() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class SequenceDatabase:
    """A FASTA database digitized once for repeated pyhmmer searches."""

    def __init__(self, records: Sequence[DatabaseRecord], path: str | Path | None = None):
        from pyhmmer import easel

        self.path = Path(path) if path is not None else None
        self.alphabet = easel.Alphabet.amino()
        text = easel.TextSequenceBlock(
            easel.TextSequence(name=r.name.encode(), description=r.description.encode(), sequence=r.sequence)
            for r in records)
        self.block = text.digitize(self.alphabet)
        self.num_sequences = len(records)

    @classmethod
    def from_fasta(cls, path: str | Path) -> "SequenceDatabase":
        return cls(read_fasta_database(path), path)


def _a3m_row(alignment, query_length: int) -> tuple[str, str]:
    """(A3M row, description) of one domain alignment; HMM positions are query columns."""
    parts = ["-" * (alignment.hmm_from - 1)]
    for hmm_char, target_char in zip(alignment.hmm_sequence, alignment.target_sequence):
        if hmm_char == ".":
            if target_char not in "-.":
                parts.append(target_char.lower())
        else:
            parts.append("-" if target_char in "-." else target_char.upper())
    parts.append("-" * (query_length - alignment.hmm_to))
    name = alignment.target_name
    name = name.decode() if isinstance(name, bytes) else str(name)
    return "".join(parts), f"{name}/{alignment.target_from}-{alignment.target_to}"


def hits_to_msa(query_name: str, query_sequence: str, hits, max_sequences: int) -> Msa:
    """The query row followed by every included domain, in hit rank order, as an Msa."""
    from foldkit.io.msa_files import parse_a3m

    lines = [f">{query_name}", query_sequence]
    for hit in hits:
        if not hit.included:
            continue
        for domain in hit.domains:
            if not domain.included:
                continue
            row, description = _a3m_row(domain.alignment, len(query_sequence))
            lines += [f">{description}", row]
            if len(lines) // 2 >= max_sequences:
                break
        if len(lines) // 2 >= max_sequences:
            break
    return parse_a3m("\n".join(lines) + "\n", query_sequence=query_sequence)


def jackhmmer_search(queries: Sequence[tuple[str, str]], database: SequenceDatabase,
                     settings: JackhmmerSettings = UNIREF90_SETTINGS, cpus: int | None = None,
                     progress: bool = True) -> list[Msa]:
    """One Msa per (name, sequence) query, searched with pyhmmer's jackhmmer."""
    from pyhmmer import easel, hmmer
    from tqdm import tqdm

    digital = [easel.TextSequence(name=name.encode(), sequence=seq.upper()).digitize(database.alphabet)
               for name, seq in queries]
    bar = tqdm(total=len(queries), desc="jackhmmer", unit="query", disable=not progress)

    def advance(_query, _total):
        bar.update(1)

    msas = []
    # subnormals flushed to zero as the HMMER programs run (4x faster domain definition, same hits);
    # pyhmmer's worker threads start inside the block and inherit the setting
    with flush_denormals():
        results = hmmer.jackhmmer(digital, database.block, max_iterations=settings.iterations,
                                  cpus=cpus if cpus is not None else default_cpus(), callback=advance,
                                  **settings.pyhmmer_options())
        _collect(queries, results, settings, msas, bar)
    return msas


def _collect(queries, results, settings: JackhmmerSettings, msas: list, bar) -> None:
    try:
        for (name, seq), result in zip(queries, results):
            if result.hmm.M != len(seq):
                raise RuntimeError(f"jackhmmer model of {name} has {result.hmm.M} match states, "
                                   f"the query {len(seq)} residues")
            msas.append(hits_to_msa(name, seq.upper(), result.hits, settings.max_sequences))
    finally:
        bar.close()


def search_msa(query_name: str, query_sequence: str, database: str | Path | SequenceDatabase,
               settings: JackhmmerSettings = UNIREF90_SETTINGS, cpus: int | None = None,
               progress: bool = True) -> Msa:
    """Search one query against a FASTA database (path or loaded) with jackhmmer."""
    if not isinstance(database, SequenceDatabase):
        database = SequenceDatabase.from_fasta(database)
    return jackhmmer_search([(query_name, query_sequence)], database, settings, cpus, progress)[0]
