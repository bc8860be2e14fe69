"""Records of a predict_batch run: a folder of FASTA files or an ``id,fasta`` samplesheet.

Every record becomes one job named by foldkit's own file-safe id
(:func:`foldkit.io.fasta.safe_record_name`), so the workflow's folders match
the ones ``foldkit predict`` writes. A record whose chains are separated by
``:`` (ColabFold's convention) is a complex: its MSA job aligns each distinct
chain (``<name>_A``, ``<name>_B``, ... as ``foldkit predict --msa DIR``
reads them) and its prediction runs the multimer models. Problems raise
:class:`InputError` naming the file, record and line.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.complexes import SEPARATOR, make_complex
from foldkit.io.fasta import Query, read_fasta, safe_record_name

FASTA_SUFFIXES = (".fasta", ".fa", ".faa", ".fas", ".fasta.gz", ".fa.gz", ".faa.gz", ".fas.gz")


@dataclasses.dataclass(frozen=True)
class BatchRecord:
    """One job: its file-safe name, the id written into its FASTA, the sequence and where it came from."""

    name: str          # file-safe id: folder and file names
    record_id: str     # id written to the record's FASTA header
    description: str
    sequence: str      # chains of a complex separated by ':'
    source: str        # "path:line" of the record

    @property
    def is_complex(self) -> bool:
        return SEPARATOR in self.sequence

    def distinct_chains(self) -> list[tuple[str, str]]:
        """(chain id, sequence) of the first copy of every distinct chain (A, B, ... in the order given)."""
        made = make_complex(self.record_id, self.description, [(s, "") for s in self.sequence.split(SEPARATOR)])
        return [(chain.chain_id, chain.sequence) for chain in made.distinct_chains]


def _record(query: Query, record_id: str, path: Path) -> BatchRecord:
    if SEPARATOR in query.sequence and "" in query.sequence.split(SEPARATOR):
        raise InputError("empty chain: ':' separates the chains of a complex (remove the extra ':')",
                         path=str(path), record=query.id, line=query.line)
    return BatchRecord(name=safe_record_name(record_id), record_id=record_id, description=query.description,
                       sequence=query.sequence, source=f"{path}:{query.line}")


def records_from_folder(folder: str | Path) -> list[BatchRecord]:
    """Every record of every FASTA file in ``folder`` (not recursive), files in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("fasta_dir is not a folder", path=str(folder))
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(FASTA_SUFFIXES))
    if not files:
        raise InputError(f"no FASTA file ({', '.join(FASTA_SUFFIXES[:4])}, optionally .gz) in the folder",
                         path=str(folder))
    return [_record(query, query.id, path) for path in files
            for query in read_fasta(path, chain_separator=True)]


def records_from_samplesheet(samplesheet: str | Path) -> list[BatchRecord]:
    """One record per samplesheet row (columns ``id`` and ``fasta``)."""
    samplesheet = Path(samplesheet)
    if not samplesheet.is_file():
        raise InputError("samplesheet not found", path=str(samplesheet))
    with samplesheet.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"id", "fasta"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"samplesheet header must have the columns id,fasta (missing: {', '.join(sorted(missing))})",
                             path=str(samplesheet), line=1)
        records = []
        for row in reader:
            line = reader.line_num
            sample_id, fasta = (row.get("id") or "").strip(), (row.get("fasta") or "").strip()
            if not sample_id or not fasta:
                raise InputError("empty id or fasta", path=str(samplesheet), line=line)
            if any(c.isspace() for c in sample_id):
                raise InputError("id contains white space", path=str(samplesheet), record=sample_id, line=line)
            path = Path(fasta) if Path(fasta).is_absolute() else samplesheet.parent / fasta
            if not path.is_file():
                raise InputError(f"FASTA file {fasta!r} not found", path=str(samplesheet), record=sample_id, line=line)
            queries = read_fasta(path, chain_separator=True)
            if len(queries) > 1:
                queries = [q for q in queries if q.id == sample_id]
                if not queries:
                    raise InputError(f"{fasta} holds several records and none has the id {sample_id!r}",
                                     path=str(samplesheet), record=sample_id, line=line)
            records.append(_record(queries[0], sample_id, path))
    if not records:
        raise InputError("samplesheet has no rows", path=str(samplesheet))
    return records


def check_unique(records: list[BatchRecord], origin: str) -> dict[str, BatchRecord]:
    """name -> record; two records with the same file name (ignoring case) are an error."""
    by_key: dict[str, BatchRecord] = {}
    for record in records:
        key = record.name.casefold()
        if key in by_key:
            first = by_key[key]
            raise InputError(f"records '{first.record_id}' ({first.source}) and '{record.record_id}' ({record.source}) "
                             f"both become the name '{record.name}'; rename one of them", path=origin)
        by_key[key] = record
    return {record.name: record for record in by_key.values()}


def load_records(fasta_dir: str, samplesheet: str) -> dict[str, BatchRecord]:
    """The records of a run; exactly one of ``fasta_dir`` and ``samplesheet`` must be set."""
    if bool(fasta_dir) == bool(samplesheet):
        raise InputError("set exactly one of the config keys fasta_dir and samplesheet")
    if samplesheet:
        return check_unique(records_from_samplesheet(samplesheet), str(samplesheet))
    return check_unique(records_from_folder(fasta_dir), str(fasta_dir))


def fasta_text(record: BatchRecord) -> str:
    """The one-record FASTA a job predicts (header id = record_id, so foldkit's folder is ``name``)."""
    header = f">{record.record_id} {record.description}".rstrip()
    lines = [record.sequence[i:i + 80] for i in range(0, len(record.sequence), 80)]
    return header + "\n" + "\n".join(lines) + "\n"


def chains_fasta_text(record: BatchRecord) -> str:
    """The distinct chains of a complex as records ``<name>_<chain id>`` (what its MSA job aligns; the
    alignments ``<name>_<chain id>.a3m`` are those ``foldkit predict --msa DIR`` reads for the complex)."""
    return "".join(f">{record.name}_{chain_id}\n{sequence}\n" for chain_id, sequence in record.distinct_chains())
