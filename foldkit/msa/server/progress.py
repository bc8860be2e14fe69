"""A progress line on stderr while waiting for the server (rewritten in place on a terminal)."""

from __future__ import annotations

import re
import sys
from typing import TextIO

_TIMER = re.compile(r"\s*\[\d+:\d\d\]$")


class ProgressLine:
    """On a terminal, one line rewritten in place; elsewhere (logs, pipes) a line whenever the state changes."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_state = None
        self._width = 0

    def __call__(self, text: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            padded = text.ljust(self._width)
            self._width = len(text)
            self.stream.write("\r" + padded)
            self.stream.flush()
            return
        state = _TIMER.sub("", text)
        if state != self._last_state:
            self._last_state = state
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the in-place line (a newline on a terminal)."""
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0
