"""Reading input files as text (plain, gzip or stdin); atomic writing lives in :mod:`foldkit.io.atomic`.

Every reader in ``foldkit.io`` goes through :func:`read_input_bytes` and
:func:`decode_text` so that empty, binary and non-ASCII/UTF-8 inputs fail
the same way, with the file, line and column of the first bad byte.
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import zlib
from pathlib import Path

from foldkit.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
STDIN_NAME = "-"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def display_name(path: str | os.PathLike) -> str:
    """How a path appears in messages ('<stdin>' for '-')."""
    return "<stdin>" if str(path) == STDIN_NAME else str(path)


def read_input_bytes(path: str | os.PathLike) -> bytes:
    """The (decompressed) bytes of a file, of a gzip file, or of stdin for '-'."""
    name = display_name(path)
    try:
        if str(path) == STDIN_NAME:
            data = sys.stdin.buffer.read()
        else:
            data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=name) from None
    except PermissionError:
        raise InputError("permission denied", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=name) from None
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"corrupt gzip data ({exc})", path=name) from None
    return data


def _line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def decode_text(data: bytes, path: str | os.PathLike, *, ascii_only: bool = False) -> str:
    """Decode bytes as UTF-8 (or ASCII), rejecting empty and binary data with a located error."""
    name = display_name(path)
    if not data.strip():
        raise InputError("file is empty", path=name)
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _line_and_column(data, nul)
        raise InputError("binary data (NUL byte), not a text file", path=name, line=line, column=column)
    try:
        text = data.decode("ascii" if ascii_only else "utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_and_column(data, exc.start)
        kind = "non-ASCII" if ascii_only else "non-UTF-8"
        raise InputError(f"{kind} byte 0x{data[exc.start]:02x}; binary data or wrong encoding",
                         path=name, line=line, column=column) from None
    control = _CONTROL_CHARS.search(text, 0, 65536)
    if control:
        offset = control.start()
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise InputError(f"control character 0x{ord(text[offset]):02x}: binary data, not a text file",
                         path=name, line=line, column=column)
    return text


def read_text(path: str | os.PathLike, *, ascii_only: bool = False) -> str:
    """Text of a plain/gzip file or stdin ('-'), with clear errors for empty or binary input."""
    return decode_text(read_input_bytes(path), path, ascii_only=ascii_only)
