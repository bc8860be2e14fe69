"""Reuse of a record's jackhmmer search across runs.

A search against a large database can take hours, so ``foldkit predict --db``
keeps its result in the record folder as ``msa_search.a3m`` with
``msa_search.json`` describing what produced it: the query sequence, each
database's resolved path, size and modification time, and the search
settings. A later run of the same record (a resumed, interrupted or
``--overwrite`` run) reads the saved alignment instead of searching again
when that description matches exactly; otherwise it searches and replaces it.
Both files are written atomically; prediction outputs are cleared between
runs, these two are not. A complex keeps one pair per distinct chain,
``msa_search_<chain id>.a3m`` / ``.json`` (``stem``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Iterable

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_write_text
from foldkit.io.msa_files import Msa, format_a3m, read_a3m
from foldkit.msa.search import UNIREF90_SETTINGS, JackhmmerSettings

SEARCH_STEM = "msa_search"
SEARCH_A3M = f"{SEARCH_STEM}.a3m"
SEARCH_KEY = f"{SEARCH_STEM}.json"


def chain_stem(chain_id: str) -> str:
    """The file stem of a complex chain's saved search."""
    return f"{SEARCH_STEM}_{chain_id}"


def search_key(sequence: str, databases: Iterable[Path],
               settings: JackhmmerSettings = UNIREF90_SETTINGS) -> dict:
    """What identifies a search result: query, databases (path, size, mtime) and settings."""
    described = []
    for database in databases:
        path = Path(database).resolve()
        stat = path.stat()
        described.append({"path": str(path), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    return {"query_sha256": hashlib.sha256(sequence.encode()).hexdigest(), "databases": described,
            "settings": dataclasses.asdict(settings)}


def load(record_dir: Path, key: dict, stem: str = SEARCH_STEM) -> Msa | None:
    """The saved alignment when its description equals ``key`` (and it parses); else None."""
    a3m, description = record_dir / f"{stem}.a3m", record_dir / f"{stem}.json"
    if not (a3m.is_file() and description.is_file()):
        return None
    try:
        if json.loads(description.read_text()) != json.loads(json.dumps(key)):
            return None
        return read_a3m(a3m)
    except (OSError, ValueError, InputError):
        return None


def save(record_dir: Path, key: dict, msa: Msa, stem: str = SEARCH_STEM) -> None:
    """Write the alignment, then its description (a crash in between leaves no matching pair)."""
    (record_dir / f"{stem}.json").unlink(missing_ok=True)
    atomic_write_text(record_dir / f"{stem}.a3m", format_a3m(msa))
    atomic_write_text(record_dir / f"{stem}.json", json.dumps(key, indent=1) + "\n")
