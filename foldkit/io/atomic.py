"""Atomic output files: write to a temporary name in the target folder, then rename.

A reader (or a resumed run) never sees half a file: the target either keeps its
old content or holds the complete new one. Temporary files are named
``.<target name>.<random>.tmp`` so that a run killed mid-write leaves only
hidden files that :func:`is_stale_temporary` recognises for clean-up. The final file
gets the usual permissions (``0666`` minus the umask), not mkstemp's ``0600``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

TEMP_SUFFIX = ".tmp"


def current_umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on clean exit fsync it and rename it onto ``path``.

    ``mode`` is "wb" or "w" (text: UTF-8, "\\n" line ends). On any exception the
    temporary file is removed and ``path`` is untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_writer mode must be 'wb' or 'w', not {mode!r}")
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=folder)
    try:
        text_options = {"encoding": "utf-8", "newline": "\n"} if mode == "w" else {}
        with os.fdopen(fd, mode, **text_options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~current_umask())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    with atomic_writer(path, "w") as handle:
        handle.write(text)


def is_stale_temporary(path: Path) -> bool:
    """True for a leftover temporary file of :func:`atomic_writer` (hidden, ``.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX) and path.is_file()
