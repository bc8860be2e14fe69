"""The MSA server cache in a record's folder: what was downloaded, for which sequence, from where.

Layout of one record's cache folder (``foldkit predict``: ``<record>/msas/server/``;
``foldkit msa``: ``<output folder>/msa_server/<record>/``)::

    <mode>_<sha>/                       one distinct chain sequence; mode = env | all | env-nofilter | nofilter
        uniref.a3m                      its entry of the server's uniref.a3m (header '>101' etc. as sent)
        bfd.mgnify30.metaeuk30.smag30.a3m   its environmental entry (env modes)
        pdb70.m8                        its template hits (empty when none)
        templates/                      with --templates: the template endpoint's archive (pdb70_a3m / pdb70_hhm
                                        ffindex + ffdata, <pdb id>.cif) plus pdb70_cs219.ffindex/.ffdata for hhsearch
        source.json                     written last: server URL, mode, sequence, ticket, query number, date
    <pairmode>_<sha>/                   one complex's pairing, pairmode = pairgreedy | paircomplete (+ -env)
        pair.<k>.a3m                    the paired rows of its k-th distinct chain (row i of every chain = one hit)
        source.json                     written last: server URL, mode, chains, ticket, date
    ticket_<key>.json                   a submitted job not yet downloaded (resumed instead of resubmitted)

``<sha>`` is the first 16 hex digits of the SHA-256 of the sequence (of the
chains joined by ':' for a pairing). An entry counts only when its
``source.json`` names the same server, mode and sequence(s), so results from
another server are fetched again. Files are written atomically; a folder
without ``source.json`` is an interrupted write and is redone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from foldkit.io.atomic import atomic_write_text, is_stale_temporary

SOURCE = "source.json"
TEMPLATE_FOLDER = "templates"


def sequence_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sequence_entry(cache_dir: Path, mode: str, sequence: str) -> Path:
    return cache_dir / f"{mode}_{sequence_hash(sequence)}"


def pair_entry(cache_dir: Path, mode: str, chains: tuple[str, ...]) -> Path:
    return cache_dir / f"{mode}_{sequence_hash(':'.join(chains))}"


def pair_file(k: int) -> str:
    return f"pair.{k}.a3m"


def _read_source(folder: Path) -> dict | None:
    try:
        source = json.loads((folder / SOURCE).read_text())
    except (OSError, ValueError):
        return None
    return source if isinstance(source, dict) else None


def is_complete(folder: Path, expected: Mapping[str, object], files: Iterable[str]) -> bool:
    """``folder`` holds ``files`` and a source.json whose fields equal ``expected``."""
    source = _read_source(folder)
    if source is None or any(source.get(key) != value for key, value in expected.items()):
        return False
    return all((folder / name).is_file() for name in files)


def write_entry(folder: Path, files: Mapping[str, str], source: Mapping[str, object]) -> None:
    """Write ``files`` then ``source.json`` (a crash in between leaves an entry that does not count).

    The ``templates/`` folder of an older result is removed: it belonged to the old hits.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SOURCE).unlink(missing_ok=True)
    shutil.rmtree(folder / TEMPLATE_FOLDER, ignore_errors=True)
    for name, text in files.items():
        atomic_write_text(folder / name, text)
    stamped = dict(source, fetched=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   files=sorted(files))
    atomic_write_text(folder / SOURCE, json.dumps(stamped, indent=1) + "\n")


def copy_entry(source: Path, target: Path) -> None:
    """Copy a complete entry (another record with the same sequence) into ``target``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def install_folder(staging: Path, target: Path) -> None:
    """Move a fully written staging folder onto ``target`` (replacing an old one)."""
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


def remove_stale_staging(cache_dir: Path) -> None:
    """Delete the temporary files and staging folders (``.<name>.<random>.tmp``) a killed run left behind."""
    if not cache_dir.is_dir():
        return
    for folder in [cache_dir, *[p for p in cache_dir.iterdir() if p.is_dir()]]:
        for path in list(folder.iterdir()):
            if not (path.name.startswith(".") and path.name.endswith(".tmp")):
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif is_stale_temporary(path):
                path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- tickets

def ticket_path(cache_dir: Path, job_key: str) -> Path:
    return cache_dir / f"ticket_{job_key[:16]}.json"


def save_ticket(cache_dirs: Iterable[Path], job_key: str, content: Mapping[str, object]) -> None:
    text = json.dumps(dict(content, key=job_key), indent=1) + "\n"
    for cache_dir in cache_dirs:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(ticket_path(cache_dir, job_key), text)


def find_ticket(cache_dirs: Iterable[Path], job_key: str, url: str) -> str | None:
    """The ticket a previous run saved for this exact job on this server, if any."""
    for cache_dir in cache_dirs:
        try:
            saved = json.loads(ticket_path(cache_dir, job_key).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(saved, dict) and saved.get("key") == job_key and saved.get("server") == url \
                and isinstance(saved.get("ticket"), str):
            return saved["ticket"]
    return None


def forget_ticket(cache_dirs: Iterable[Path], job_key: str) -> None:
    for cache_dir in cache_dirs:
        ticket_path(cache_dir, job_key).unlink(missing_ok=True)
