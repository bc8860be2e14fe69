"""Result archives of the MSA server: checked reading, per-query entries, template hits.

Nothing here writes outside the folder it is given: members are read into
memory by name (an archive's paths are never used as paths), and the
template archive is unpacked file by file, plain names only.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tarfile
import zlib
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
_SAFE_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_QUERY_HEADER = re.compile(r"^>(\d+)\s*$")


class ArchiveError(ValueError):
    """The archive is not what the server should send (message says what)."""


class TruncatedArchive(ArchiveError):
    """The data start like a tar.gz but end early or are corrupt (worth downloading again)."""


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def _member_name(member: tarfile.TarInfo) -> str:
    name = member.name
    while name.startswith("./"):
        name = name[2:]
    return name


def read_members(data: bytes) -> dict[str, bytes]:
    """Every regular file of a tar.gz, by its top-level name (subfolders and links are skipped).

    Reads the whole archive, so a truncated one fails here (TruncatedArchive).
    """
    if not is_gzip(data):
        raise ArchiveError("not a gzip archive")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                name = _member_name(member)
                if not member.isfile() or "/" in name or not _SAFE_MEMBER.match(name):
                    continue
                handle = archive.extractfile(member)
                content = handle.read() if handle is not None else b""
                if len(content) != member.size:
                    raise TruncatedArchive(f"member {name} holds {len(content)} of {member.size} bytes")
                files[name] = content
    except TruncatedArchive:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise TruncatedArchive(f"truncated or corrupt tar.gz ({len(data)} bytes: {exc})") from None
    return files


def decode_text(content: bytes, name: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"{name} is not text (byte {exc.start} is {content[exc.start]:#04x})") from None


def split_entries(text: str, name: str) -> dict[int, str]:
    """Query number -> A3M text, from a server A3M file whose entries are NUL-separated.

    Each entry starts with its query's header (``>101``); entries of the same
    query (a pairing job with ``-env`` writes two) are joined in file order.
    """
    entries: dict[int, list[str]] = {}
    for chunk in text.split("\0"):
        chunk = chunk.strip("\r\n")
        if not chunk.strip():
            continue
        first = chunk.split("\n", 1)[0].strip()
        found = _QUERY_HEADER.match(first)
        if not found:
            shown = first if len(first) <= 60 else first[:60] + "..."
            raise ArchiveError(f"{name}: an entry starts with {shown!r}, not a query header such as '>101'")
        entries.setdefault(int(found.group(1)), []).append(chunk + "\n")
    return {number: "".join(parts) for number, parts in entries.items()}


def split_m8(text: str, name: str = "pdb70.m8") -> dict[int, str]:
    """Query number -> its lines of a tab-separated hit table (m8); checks every line."""
    lines: dict[int, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) < 12 or not fields[0].isdigit():
            raise ArchiveError(f"{name} line {number} is not an m8 hit line (query number, target, "
                               f"identity, ... 12 columns): {line[:60]!r}")
        lines.setdefault(int(fields[0]), []).append(line.rstrip("\r\n") + "\n")
    return {query: "".join(rows) for query, rows in lines.items()}


@dataclasses.dataclass(frozen=True)
class ServerTemplateHit:
    """One row of ``pdb70.m8``: a pdb70 template chain found for a query (1-based inclusive ranges)."""

    name: str            # pdb70 entry, e.g. "1igy_B"
    identity: float      # fraction of identical aligned residues
    aligned_length: int
    query_start: int
    query_end: int
    template_start: int
    template_end: int
    e_value: float
    bits: float


def parse_template_hits(text: str, name: str = "pdb70.m8") -> tuple[ServerTemplateHit, ...]:
    """The hits of one query's m8 lines, in the server's order."""
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            hits.append(ServerTemplateHit(
                name=fields[1], identity=float(fields[2]), aligned_length=int(fields[3]),
                query_start=int(fields[6]), query_end=int(fields[7]),
                template_start=int(fields[8]), template_end=int(fields[9]),
                e_value=float(fields[10]), bits=float(fields[11])))
        except (IndexError, ValueError):
            raise ArchiveError(f"{name} line {number}: cannot read the hit {line[:60]!r}") from None
    return tuple(hits)


def unpack_files(files: dict[str, bytes], folder: Path) -> list[Path]:
    """Write archive members (plain names only) into ``folder``."""
    written = []
    for name, content in files.items():
        target = folder / name
        target.write_bytes(content)
        written.append(target)
    return written
