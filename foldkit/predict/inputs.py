"""Checking a prediction's inputs before anything is written: queries, folder names, MSA sources.

MSA sources (one per run):

* ``--msa FILE`` (A3M or Stockholm) for a single-record FASTA, or
  ``--msa DIR`` holding ``<id>.a3m`` (or ``<safe id>.a3m``, ``.sto``) per
  record, as ``foldkit msa`` writes them; the first row must be the record's
  sequence (``msa_mode`` 'custom');
* ``--db DB.fasta`` (repeatable): a pyhmmer jackhmmer search per record
  (``msa_mode`` 'jackhmmer');
* ``--af2-data-dir DIR`` and/or the databases alone (``--uniref90`` ...):
  AlphaFold2's input pipeline with templates, searches written to
  ``<record>/msas/`` (``msa_mode`` 'af2_full_dbs' or 'af2_reduced_dbs', see
  :mod:`foldkit.predict.input_pipeline`);
* ``--msa-server [URL]``: MSAs (and with ``--templates`` template hits) from
  an MMseqs2 server with ColabFold's API, cached in ``<record>/msas/server/``
  (``msa_mode`` 'mmseqs2_uniref_env' or 'mmseqs2_uniref', see
  :mod:`foldkit.predict.server_msas`);
* none, or ``--single-sequence``: the query alone (``msa_mode``
  'single_sequence'; without the flag a warning says so).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.fasta import Query, read_fasta, record_file_names
from foldkit.io.msa_files import Msa, read_msa

MSA_MODES = ("custom", "jackhmmer", "single_sequence", "af2_full_dbs", "af2_reduced_dbs", "mmseqs2_uniref_env",
             "mmseqs2_uniref")
_PATH_LIKE = re.compile(r"(^|[/\\])\.\.([/\\]|$)|^[/\\]|^[A-Za-z]:[/\\]")


@dataclasses.dataclass(frozen=True)
class MsaSource:
    """Where the MSAs come from: mode plus the path(s) it reads."""

    mode: str                               # one of MSA_MODES
    msa_path: Path | None = None            # --msa FILE or DIR
    databases: tuple[Path, ...] = ()        # --db
    explicit: bool = False                  # --single-sequence given
    af2: object | None = None               # foldkit.msa.af2_pipeline.Af2Settings (--af2-data-dir ...)
    server: object | None = None            # foldkit.predict.server_msas.ServerSource (--msa-server)

    @property
    def resume_description(self) -> dict:
        """Settings of the MSA source that a finished record must share with this run."""
        if self.server is not None:
            return self.server.resume_description()
        return {"af2_inputs": self.af2.resume_description()} if self.af2 is not None else {}

    @property
    def warning(self) -> str | None:
        if self.mode == "single_sequence" and not self.explicit:
            return ("no MSA source given (--msa or --db): predicting from the single sequence "
                    "(msa_mode single_sequence); accuracy is usually much lower than with an MSA")
        return None


@dataclasses.dataclass(frozen=True)
class RecordInput:
    """One record to predict: its query, output folder name and (when given as a file) its MSA."""

    query: Query
    folder_name: str
    msa: Msa | None                         # None: searched (jackhmmer) or single sequence at run time


def msa_source(msa: Path | None = None, databases: list[Path] | tuple[Path, ...] = (),
               single_sequence: bool = False, af2=None, server=None) -> MsaSource:
    given = [name for name, value in (("--msa", msa), ("--db", databases), ("--single-sequence", single_sequence),
                                      ("--af2-data-dir/--uniref90/...", af2 is not None),
                                      ("--msa-server", server is not None)) if value]
    if len(given) > 1:
        raise InputError(f"give only one MSA source, not {' and '.join(given)}")
    if server is not None:
        return MsaSource(server.msa_mode, server=server)
    if af2 is not None:
        return MsaSource(af2.msa_mode, af2=af2)
    if msa is not None:
        if not Path(msa).exists():
            raise InputError("MSA file or folder not found", path=str(msa))
        return MsaSource("custom", msa_path=Path(msa))
    if databases:
        for database in databases:
            if not Path(database).is_file():
                raise InputError("sequence database not found", path=str(database))
        return MsaSource("jackhmmer", databases=tuple(Path(d) for d in databases))
    return MsaSource("single_sequence", explicit=single_sequence)


def check_record_id(query: Query, path: str) -> None:
    """Ids become folder names: one that looks like a path (``../x``, ``/x``) is refused."""
    if _PATH_LIKE.search(query.id):
        raise InputError("record id looks like a file path (it contains '..' between separators or starts "
                         "with '/'); ids become output folder names, rename the record",
                         path=path, record=query.id, line=query.line)


def _msa_file_for(folder: Path, query: Query, safe_name: str) -> Path:
    for stem in dict.fromkeys((query.id, safe_name)):
        for suffix in (".a3m", ".a3m.gz", ".sto", ".sto.gz"):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file() and candidate.resolve().parent == folder.resolve():
                return candidate
    raise InputError(f"no MSA for record '{query.id}' in this folder (expected {safe_name}.a3m or .sto)",
                     path=str(folder))


def prepare_records(fasta: Path, source: MsaSource) -> list[RecordInput]:
    """Read and check every record and its MSA file; raise InputError before any output is written."""
    queries = read_fasta(fasta)
    names = record_file_names(queries, str(fasta))
    for query in queries:
        check_record_id(query, str(fasta))
        if names[query.id].casefold() == "summary.csv":
            raise InputError("record id 'summary.csv' would clash with the run's summary file; rename it",
                             path=str(fasta), record=query.id, line=query.line)
    msas: dict[str, Msa | None] = {q.id: None for q in queries}
    if source.mode == "custom":
        if source.msa_path.is_dir():
            for query in queries:
                msas[query.id] = read_msa(_msa_file_for(source.msa_path, query, names[query.id]), query.sequence)
        elif len(queries) > 1:
            raise InputError(f"--msa FILE gives the alignment of one query, but the FASTA has {len(queries)} "
                             "records; pass a folder with one <id>.a3m per record", path=str(source.msa_path))
        else:
            msas[queries[0].id] = read_msa(source.msa_path, queries[0].sequence)
    return [RecordInput(q, names[q.id], msas[q.id]) for q in queries]
