"""HTTP for the MSA server client (stdlib urllib): retries, timeouts, a foldkit user agent.

Network errors, HTTP 5xx answers and bodies cut short (fewer bytes than
Content-Length) are retried ``max_retries`` times with a doubling wait; other
answers are returned as they came (:class:`Reply`) for the caller to judge.
:func:`describe_reply` turns an unexpected answer (an HTML error page, plain
text) into one line that quotes the server.
"""

from __future__ import annotations

import dataclasses
import html
import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

from foldkit import __version__
from foldkit.errors import FoldkitError
from foldkit.msa.server.protocol import ServerSettings

USER_AGENT = f"foldkit/{__version__}"
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class MsaServerError(FoldkitError):
    """The MSA server could not be reached, refused the job or answered with something unusable."""


@dataclasses.dataclass(frozen=True)
class Reply:
    """One HTTP answer."""

    status: int
    content_type: str
    body: bytes


class _Transient(Exception):
    """A failure worth retrying (network error, HTTP 5xx, a body cut short)."""

    def __init__(self, what: str, reply: Reply | None = None):
        super().__init__(what)
        self.reply = reply


def describe_reply(reply: Reply, limit: int = 160) -> str:
    """``HTTP 502 (text/html): "502 Bad Gateway ..."``: what the server said, on one line."""
    text = reply.body[:20000].decode("utf-8", errors="replace")
    if "html" in reply.content_type.lower() or text.lstrip()[:1] == "<":
        title = _TITLE.search(text)
        body = _TAGS.sub(" ", _TITLE.sub(" ", text))
        text = " ".join(part for part in ((title.group(1) if title else ""), body))
        text = html.unescape(text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "..."
    kind = reply.content_type or "no content type"
    return f'HTTP {reply.status} ({kind}): "{text}"' if text else f"HTTP {reply.status} ({kind}), empty body"


class Transport:
    """GET and POST against one server base URL."""

    def __init__(self, url: str, settings: ServerSettings, sleep: Callable[[float], None]):
        self.url = url.rstrip("/")
        self.settings = settings
        self.sleep = sleep
        self._opener = urllib.request.build_opener()
        self._opener.addheaders = [("User-Agent", USER_AGENT)]

    def get(self, path: str, timeout: float | None = None) -> Reply:
        return self._with_retries(urllib.request.Request(f"{self.url}/{path}", method="GET"),
                                  timeout or self.settings.request_timeout)

    def post(self, path: str, fields: dict[str, str], timeout: float | None = None) -> Reply:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(f"{self.url}/{path}", data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        return self._with_retries(request, timeout or self.settings.request_timeout)

    def _with_retries(self, request: urllib.request.Request, timeout: float) -> Reply:
        attempt = 0
        while True:
            try:
                return self._once(request, timeout)
            except _Transient as problem:
                attempt += 1
                if attempt > self.settings.max_retries:
                    said = f": {describe_reply(problem.reply)}" if problem.reply is not None else ""
                    raise MsaServerError(f"{request.get_method()} {request.full_url} failed "
                                         f"{attempt} times ({problem}){said}") from None
                self.sleep(min(self.settings.backoff_max, self.settings.retry_delay * 2 ** (attempt - 1)))

    def _once(self, request: urllib.request.Request, timeout: float) -> Reply:
        try:
            with self._opener.open(request, timeout=timeout) as response:
                body = response.read()
                reply = Reply(response.status, response.headers.get("Content-Type", ""), body)
        except urllib.error.HTTPError as answer:
            try:
                body = answer.read()
            except (OSError, http.client.HTTPException):
                body = b""
            reply = Reply(answer.code, answer.headers.get("Content-Type", "") if answer.headers else "", body)
        except http.client.IncompleteRead as cut:
            raise _Transient(f"the answer was cut short after {len(cut.partial)} bytes") from None
        except (OSError, http.client.HTTPException) as failure:
            reason = getattr(failure, "reason", None) or failure
            raise _Transient(f"{type(failure).__name__}: {reason}") from None
        if reply.status >= 500:
            raise _Transient(f"HTTP {reply.status}", reply)
        return reply
