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

Complexes (ColabFold's ``SEQA:SEQB`` records, or with ``--model-preset
multimer`` AlphaFold2's one FASTA file per complex, see
:mod:`foldkit.io.complexes`) become records with a :class:`Complex`; their
MSAs are found and built by :mod:`foldkit.predict.complex_record`.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.complexes import LIMIT_OPTION, MULTIMER_PRESET, Complex, read_complexes
from foldkit.io.fasta import Query, record_file_names
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
    af2_multimer: object | None = None      # the same with AlphaFold-Multimer's databases (complexes)
    server: object | None = None            # foldkit.predict.server_msas.ServerSource (--msa-server)

    def resume_description_for(self, kind: str) -> dict:
        """Settings of the MSA source that a finished record of this kind ('monomer' or 'multimer') must share
        with this run."""
        if self.server is not None:
            return self.server.resume_description(kind)
        settings = self.af2_multimer if kind == "multimer" else self.af2
        return {"af2_inputs": settings.resume_description()} if settings is not None else {}

    @property
    def warning(self) -> str | None:
        if self.mode == "single_sequence" and not self.explicit:
            return ("no MSA source given (--msa or --db): predicting from the single sequence "
                    "(msa_mode single_sequence); accuracy is usually much lower than with an MSA")
        return None


@dataclasses.dataclass(frozen=True)
class RecordInput:
    """One record to predict: its query, output folder name and (when given as a file) its MSA.

    A complex (several chains, or any record read with ``--model-preset
    multimer``) has ``complex`` set; its ``query`` holds the chains'
    sequences concatenated in the order given (so ``len(query)`` is the
    complex's residue count) and ``msa`` is None (see
    :mod:`foldkit.predict.complex_record`).
    """

    query: Query
    folder_name: str
    msa: Msa | None                         # None: searched (jackhmmer) or single sequence at run time
    complex: Complex | None = None          # the chains of a complex (multimer models)
    complex_msas: object | None = None      # complex_record.ComplexMsas given with --msa

    @property
    def kind(self) -> str:
        """'multimer' for a complex, else 'monomer' (which models run it)."""
        return "multimer" if self.complex is not None else "monomer"

    def describe(self) -> str:
        """How error messages name the record: "record 'x'" or "complex 'x' (chains A 23, B 17 ...)"."""
        if self.complex is None:
            return f"record '{self.query.id}'"
        return f"complex '{self.query.id}' ({self.complex.summary()})"


def msa_source(msa: Path | None = None, databases: list[Path] | tuple[Path, ...] = (),
               single_sequence: bool = False, af2=None, af2_multimer=None, server=None) -> MsaSource:
    """The run's MSA source; ``af2`` / ``af2_multimer``: Af2Settings of AlphaFold2's input pipeline with
    monomer / multimer databases (for single chains / complexes); ``server``: a
    :class:`foldkit.predict.server_msas.ServerSource` (``--msa-server``)."""
    with_af2 = af2 is not None or af2_multimer is not None
    given = [name for name, value in (("--msa", msa), ("--db", databases), ("--single-sequence", single_sequence),
                                      ("--af2-data-dir/--uniref90/...", with_af2),
                                      ("--msa-server", server is not None)) if value]
    if len(given) > 1:
        raise InputError(f"give only one MSA source, not {' and '.join(given)}")
    if server is not None:
        return MsaSource(server.msa_mode, server=server)
    if with_af2:
        return MsaSource((af2 or af2_multimer).msa_mode, af2=af2, af2_multimer=af2_multimer)
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


def check_complex_length(complex_: Complex, max_length: int | None) -> None:
    if max_length is not None and complex_.num_residues > max_length:
        raise InputError(f"the complex has {complex_.num_residues} residues ({complex_.summary()}), more than "
                         f"the limit of {max_length} ({LIMIT_OPTION})", path=complex_.path or None,
                         record=complex_.id, line=complex_.line or None)


def read_records(fasta: Path, model_preset: str | None = None, max_complex_length: int | None = None
                 ) -> list[tuple[Query, Complex | None]]:
    """(query, complex) per record: complex None for a single chain (run by the monomer models).

    ``model_preset`` 'multimer' reads the file as one complex (AlphaFold2's
    convention, even of one chain); 'monomer'/'monomer_ptm' refuse complexes.
    ``max_complex_length`` limits the residues of a complex (not of a single chain).
    """
    records = []
    for made in read_complexes(fasta, model_preset, max_length=None):
        if len(made.chains) == 1 and model_preset != MULTIMER_PRESET:
            chain = made.chains[0]
            records.append((Query(made.id, made.description, chain.sequence, made.line), None))
            continue
        if model_preset not in (None, MULTIMER_PRESET):
            raise InputError(f"the record is a complex ({made.summary()}); --model-preset {model_preset} predicts "
                             "single chains (leave --model-preset out, or give multimer)", path=made.path or None,
                             record=made.id, line=made.line or None)
        check_complex_length(made, max_complex_length)
        records.append((Query(made.id, made.description, "".join(made.sequences), made.line), made))
    return records


def prepare_records(fasta: Path, source: MsaSource, model_preset: str | None = None,
                    max_complex_length: int | None = None) -> list[RecordInput]:
    """Read and check every record and its MSA file; raise InputError before any output is written."""
    records = read_records(fasta, model_preset, max_complex_length)
    queries = [query for query, _ in records]
    complexes = {query.id: made for query, made in records}
    names = record_file_names(queries, str(fasta))
    for query in queries:
        check_record_id(query, str(fasta))
        if names[query.id].casefold() == "summary.csv":
            raise InputError("record id 'summary.csv' would clash with the run's summary file; rename it",
                             path=str(fasta), record=query.id, line=query.line)
    msas: dict[str, Msa | None] = {q.id: None for q in queries}
    if source.mode == "custom":
        if not source.msa_path.is_dir() and len(queries) > 1:
            raise InputError(f"--msa FILE gives the alignment of one query, but the FASTA has {len(queries)} "
                             "records; pass a folder with one <id>.a3m per record", path=str(source.msa_path))
        for query in queries:
            if complexes[query.id] is not None:
                continue                     # read by complex_record.attach_complex_msas
            path = (_msa_file_for(source.msa_path, query, names[query.id]) if source.msa_path.is_dir()
                    else source.msa_path)
            msas[query.id] = read_msa(path, query.sequence)
    inputs = [RecordInput(q, names[q.id], msas[q.id], complexes[q.id]) for q in queries]
    if any(record.complex is not None for record in inputs):
        from foldkit.predict.complex_record import attach_complex_msas

        inputs = attach_complex_msas(inputs, source)
    return inputs
