"""A record's MSA folder in AlphaFold2's layout, and what produced each file in it.

AlphaFold2 writes ``<output>/<name>/msas/`` with ``uniref90_hits.sto``,
``mgnify_hits.sto``, ``bfd_uniref_hits.a3m`` (full_dbs) or
``small_bfd_hits.sto`` (reduced_dbs) and ``pdb_hits.hhr``; foldkit writes the
same names (atomically) plus ``foldkit_searches.json``, which records for every
file the query, databases (path, size, modification time), tool, engine
version and settings that produced it, and the file's SHA-256. A later run
reuses a file when that description still matches (no search is repeated);
``--use-precomputed-msas`` reuses every file present, whoever wrote it
(AlphaFold2 itself included), without comparing.

Readers here check the files as AlphaFold2 would read them and fail with
:class:`~foldkit.errors.InputError` naming the file and line: a Stockholm file
must end with ``//`` (a cut-off search output otherwise parses silently), an
A3M's first record must be the query.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_write_text  # noqa: F401 (also used by the pipeline)
from foldkit.io.msa_files import Msa, parse_a3m, parse_stockholm

UNIREF90_STO = "uniref90_hits.sto"
MGNIFY_STO = "mgnify_hits.sto"
BFD_UNIREF_A3M = "bfd_uniref_hits.a3m"
SMALL_BFD_STO = "small_bfd_hits.sto"
PDB_HHR = "pdb_hits.hhr"
PDB_STO = "pdb_hits.sto"                # multimer: hmmsearch on pdb_seqres
UNIPROT_STO = "uniprot_hits.sto"        # multimer: UniProt jackhmmer search (pairing)
CHAIN_ID_MAP = "chain_id_map.json"      # multimer: chain id -> description, sequence
CUSTOM_TEMPLATES_STO = "custom_template_hits.sto"     # foldkit's own (--custom-templates), not AlphaFold2's
SEARCHES_JSON = "foldkit_searches.json"
MSA_FILES = (UNIREF90_STO, MGNIFY_STO, BFD_UNIREF_A3M, SMALL_BFD_STO, PDB_HHR, PDB_STO, UNIPROT_STO)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not a text file (byte {exc.start} is not UTF-8)", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None


def check_stockholm_complete(text: str, path: Path) -> None:
    """A Stockholm file starts with its header and ends with '//' (else it was cut off)."""
    lines = text.splitlines()
    first = next((k for k, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputError("empty Stockholm file", path=str(path))
    if not lines[first].startswith("# STOCKHOLM"):
        raise InputError("not a Stockholm file (no '# STOCKHOLM 1.0' header)", path=str(path), line=first + 1)
    last = max(k for k, line in enumerate(lines) if line.strip())
    if lines[last].strip() != "//":
        raise InputError("truncated Stockholm file: it does not end with '//'", path=str(path), line=last + 1)


def stockholm_msa(text: str, path: Path, query_sequence: str, max_sequences: int | None = None) -> Msa:
    """The MSA AlphaFold2 reads from a jackhmmer Stockholm file (query-gap columns, first N rows)."""
    check_stockholm_complete(text, path)
    msa = parse_stockholm(text, path, query_sequence, columns="query")
    return msa.truncate(max_sequences) if max_sequences is not None else msa


def a3m_msa(text: str, path: Path, query_sequence: str) -> Msa:
    """The MSA of an HHblits A3M file."""
    if not text.strip():
        raise InputError("empty A3M file", path=str(path))
    return parse_a3m(text, path, query_sequence)


class SearchRecord:
    """``foldkit_searches.json`` of one MSA folder: file name -> what produced it (thread-safe updates)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / SEARCHES_JSON
        self._lock = threading.Lock()
        try:
            loaded = json.loads(self.path.read_text())
            self.entries: dict[str, dict] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError, UnicodeDecodeError):
            self.entries = {}

    def matching_text(self, name: str, description: dict) -> str | None:
        """The file's text when it exists, its entry equals ``description`` and its hash matches."""
        entry = self.entries.get(name)
        file = self.folder / name
        if not isinstance(entry, dict) or not file.is_file():
            return None
        if entry.get("produced_by") != json.loads(json.dumps(description)):
            return None
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return text if sha256_text(text) == entry.get("sha256") else None

    def write(self, name: str, text: str, description: dict) -> None:
        """Write the file (atomically), then its entry; a crash in between leaves an entry whose
        checksum does not match the new file, so it is not reused."""
        with self._lock:
            atomic_write_text(self.folder / name, text)
            self.entries[name] = {"produced_by": description, "sha256": sha256_text(text)}
            self._save()

    def _save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.entries, indent=1, sort_keys=True) + "\n")


def validate_msa_folder(folder: Path, query_sequence: str) -> list[str]:
    """Parse every AlphaFold2 search output present in ``folder`` (InputError on the first bad one).

    Returns the names of the files found. Used before a run that will reuse
    them, so that a broken file stops the run before anything is written.
    """
    found = []
    for name in MSA_FILES:
        path = folder / name
        if not path.is_file():
            continue
        text = read_text(path)
        if name == PDB_STO:
            from foldkit.templates.hits import parse_hmmsearch_sto

            parse_hmmsearch_sto(text, query_sequence, path)
        elif name.endswith(".sto"):
            stockholm_msa(text, path, query_sequence)
        elif name.endswith(".a3m"):
            a3m_msa(text, path, query_sequence)
        else:
            from foldkit.templates.hits import parse_hhr

            parse_hhr(text, path)
        found.append(name)
    return found
