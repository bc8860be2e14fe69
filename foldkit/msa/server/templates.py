"""Template data from the MSA server's template endpoint (what ColabFold fetches for ``--templates``).

For each distinct sequence with pdb70 hits, the first 20 distinct hit names
go to ``GET {url}/template/{name,name,...}``; the tar.gz that comes back (a
pdb70 subset as ``pdb70_a3m`` / ``pdb70_hhm`` ffindex databases, plus the
hits' mmCIF files) is unpacked into the sequence's cache folder as
``templates/``. As ColabFold does, ``pdb70_cs219.ffindex`` (a copy of the A3M
index) and an empty ``pdb70_cs219.ffdata`` are added, so that hhsearch can
open the folder as the database ``templates/pdb70``. Only template names are
sent, no sequence.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.parse
from pathlib import Path
from typing import Callable

from foldkit.msa.server import cache
from foldkit.msa.server import protocol as api
from foldkit.msa.server.archive import unpack_files
from foldkit.msa.server.http import MsaServerError, Transport
from foldkit.msa.server.jobs import fetch_archive
from foldkit.msa.server.results import load_template_hits

REQUIRED_FILES = ("pdb70_a3m.ffdata", "pdb70_a3m.ffindex")


def template_names(entry_dir: Path) -> list[str]:
    """The first ``MAX_TEMPLATE_HITS`` distinct hit names of a cached pdb70.m8."""
    names: list[str] = []
    for hit in load_template_hits(entry_dir)[0]:
        if hit.name not in names:
            names.append(hit.name)
        if len(names) == api.MAX_TEMPLATE_HITS:
            break
    return names


def fetch_templates(transport: Transport, settings: api.ServerSettings, sleep: Callable[[float], None],
                    entry_dirs: list[Path], record_ids: list[str]) -> bool:
    """Make sure every folder of ``entry_dirs`` (one sequence, several records) has ``templates/``.

    Returns False when the sequence has no hits (nothing to fetch).
    """
    missing = [folder for folder in entry_dirs if not (folder / cache.TEMPLATE_FOLDER).is_dir()]
    if not missing:
        return True
    present = [folder for folder in entry_dirs if (folder / cache.TEMPLATE_FOLDER).is_dir()]
    if present:
        for folder in missing:
            cache.copy_entry(present[0] / cache.TEMPLATE_FOLDER, folder / cache.TEMPLATE_FOLDER)
        return True
    names = template_names(entry_dirs[0])
    if not names:
        return False
    quoted = ",".join(urllib.parse.quote(name, safe="_-.") for name in names)
    what = (f"MSA server {transport.url}: templates of record(s) {', '.join(record_ids)} "
            f"({len(names)} pdb70 hits)")
    files = fetch_archive(transport, settings, sleep, api.TEMPLATES.format(names=quoted), what)
    absent = [name for name in REQUIRED_FILES if name not in files]
    if absent:
        raise MsaServerError(f"{what}: the archive holds {sorted(files) or 'no files'}, not {', '.join(absent)}")
    first = missing[0]
    staging = Path(tempfile.mkdtemp(prefix=f".{cache.TEMPLATE_FOLDER}.", suffix=".tmp", dir=first))
    try:
        unpack_files(files, staging)
        (staging / "pdb70_cs219.ffindex").write_bytes(files["pdb70_a3m.ffindex"])
        (staging / "pdb70_cs219.ffdata").write_bytes(b"")
        cache.install_folder(staging, first / cache.TEMPLATE_FOLDER)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for folder in missing[1:]:
        cache.copy_entry(first / cache.TEMPLATE_FOLDER, folder / cache.TEMPLATE_FOLDER)
    return True
