"""Error types that the CLI turns into one clear message (never a traceback)."""

from __future__ import annotations


class FoldkitError(Exception):
    """Base class for errors that foldkit reports to the user as a message."""


class InputError(FoldkitError):
    """A user-supplied file or value is invalid.

    The message names the file, and where it applies the record, line, column
    and offending character.
    """

    def __init__(self, message: str, *, path: str | None = None, record: str | None = None,
                 line: int | None = None, column: int | None = None):
        self.path = path
        self.record = record
        self.line = line
        self.column = column
        where = []
        if path is not None:
            where.append(str(path))
        if record is not None:
            where.append(f"record '{record}'")
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        self.detail = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
