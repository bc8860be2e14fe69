"""A local ColabFold MMseqs2 API for tests: http.server in a thread on 127.0.0.1.

It implements the endpoints the client uses (``POST /ticket/msa``,
``POST /ticket/pair``, ``GET /ticket/<id>``, ``GET /result/download/<id>``,
``GET /template/<names>``) the way MMseqs2-App does: tickets named by a hash
of query and mode (resubmitting the same job gives the same ticket), JSON
status replies, result archives with the server's file names and
NUL-separated A3M entries headed by the query numbers. Scripts make it
misbehave on purpose (rate limits, maintenance, errors, slow jobs, HTML
pages, cut-short downloads, broken archives), and it counts every request.

``reference_server(af2_reference)`` starts one answering from the AlphaFold2
pipeline reference data (see ``reference_data.py``); the predict tests can use
it the same way::

    def test_predict_with_server(af2_reference, monkeypatch, tmp_path):
        use_fast_client(monkeypatch)                     # no 5-10 s waits between polls
        with reference_server(af2_reference) as server:
            main(["predict", ..., "--msa-server", server.url])
            assert server.counts["submit_msa"] == 1
"""

from __future__ import annotations

import base64
import collections
import contextlib
import dataclasses
import hashlib
import io
import json
import tarfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from foldkit.msa.server import ServerSettings
from tests.msa.server.reference_data import (SequenceHits, heteromer_case, mmcif_files, monomer_case,
                                             pdb70_entries)

HTML_PAGE = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
             b"<p>The proxy server received an invalid response from an upstream server.</p></body></html>")


@dataclasses.dataclass
class Scripts:
    """Misbehaviour, consumed in order; empty lists mean a well-behaved server."""

    submit: list[str] = dataclasses.field(default_factory=list)     # RATELIMIT, MAINTENANCE, UNKNOWN, ERROR, HTML
    poll: list[str] = dataclasses.field(default_factory=list)       # statuses before COMPLETE; ERROR ends the job
    download: list[str] = dataclasses.field(default_factory=list)   # cut (short body), corrupt (bad gzip), html
    template: list[str] = dataclasses.field(default_factory=list)   # same as download
    edit_archive: Callable[[dict[str, bytes]], dict[str, bytes]] | None = None


def ticket_of(endpoint: str, query: str, mode: str) -> str:
    digest = hashlib.sha224(f"{endpoint}\n{query}\n{mode}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")          # 38 characters, as MMseqs2-App's


def parse_queries(query: str) -> list[tuple[int, str]]:
    queries, number = [], None
    for line in query.splitlines():
        if line.startswith(">"):
            number = int(line[1:].strip())
        elif line.strip():
            queries.append((number, line.strip()))
    return queries


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class FakeColabFoldServer:
    """Answers from ``hits`` (sequence -> SequenceHits) and ``pairings`` (chains -> paired rows per chain)."""

    def __init__(self, hits: dict[str, SequenceHits], pairings: dict[tuple[str, ...], tuple[str, ...]] | None = None,
                 templates: dict[str, tuple[bytes, bytes]] | None = None, cifs: dict[str, bytes] | None = None):
        self.hits = hits
        self.pairings = pairings or {}
        self.templates = templates or {}
        self.cifs = cifs or {}
        self.scripts = Scripts()
        self.counts: collections.Counter = collections.Counter()
        self.submitted: list[tuple[str, str, str]] = []          # (endpoint, mode, q)
        self.user_agents: set[str] = set()
        self.jobs: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._http: ThreadingHTTPServer | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeColabFoldServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                server.handle(self, "POST")

            def do_GET(self):
                server.handle(self, "GET")

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._http.shutdown()
        self._http.server_close()

    def reset_counts(self) -> None:
        self.counts.clear()
        self.submitted.clear()

    # ----------------------------------------------------------------- answers

    @staticmethod
    def _send(handler, status: int, body: bytes, content_type: str, cut: bool = False) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        if cut:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2] if cut else body)
        handler.wfile.flush()
        if cut:
            handler.close_connection = True

    def _json(self, handler, answer: dict, status: int = 200) -> None:
        self._send(handler, status, json.dumps(answer).encode(), "application/json; charset=utf-8")

    def handle(self, handler, method: str) -> None:
        self.user_agents.add(handler.headers.get("User-Agent", ""))
        path = urllib.parse.unquote(handler.path)
        with self._lock:
            if method == "POST" and path in ("/ticket/msa", "/ticket/pair"):
                length = int(handler.headers.get("Content-Length", 0))
                fields = urllib.parse.parse_qs(handler.rfile.read(length).decode(), keep_blank_values=True)
                return self._submit(handler, path[1:], fields.get("q", [""])[0], fields.get("mode", [""])[0])
            if method == "GET" and path.startswith("/ticket/"):
                return self._status(handler, path[len("/ticket/"):])
            if method == "GET" and path.startswith("/result/download/"):
                return self._download(handler, path[len("/result/download/"):])
            if method == "GET" and path.startswith("/template/"):
                return self._templates(handler, path[len("/template/"):].split(","))
        self.counts["other"] += 1
        self._send(handler, 404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _submit(self, handler, endpoint: str, query: str, mode: str) -> None:
        self.counts["submit_" + endpoint.split("/")[1]] += 1
        self.submitted.append((endpoint, mode, query))
        if self.scripts.submit:
            scripted = self.scripts.submit.pop(0)
            if scripted == "HTML":
                return self._send(handler, 200, HTML_PAGE, "text/html")
            if scripted == "RATELIMIT":
                return self._json(handler, {"status": "RATELIMIT", "reason": "too many requests, slow down"}, 429)
            return self._json(handler, {"id": "", "status": scripted})
        ticket = ticket_of(endpoint, query, mode)
        job = self.jobs.get(ticket)
        if job is None or job["status"] == "ERROR":
            job = self.jobs[ticket] = {"endpoint": endpoint, "mode": mode, "query": query, "status": "PENDING"}
        self._json(handler, {"id": ticket, "status": job["status"]})

    def _status(self, handler, ticket: str) -> None:
        self.counts["status"] += 1
        job = self.jobs.get(ticket)
        if job is None:
            return self._json(handler, {"id": ticket, "status": "UNKNOWN"})
        if job["status"] != "COMPLETE":
            job["status"] = self.scripts.poll.pop(0) if self.scripts.poll else "COMPLETE"
        self._json(handler, {"id": ticket, "status": job["status"]})

    def _deliver(self, handler, script: list[str], files: dict[str, bytes]) -> None:
        body = tar_gz(files)
        problem = script.pop(0) if script else ""
        if problem == "html":
            return self._send(handler, 200, HTML_PAGE, "text/html")
        if problem == "corrupt":
            return self._send(handler, 200, body[: len(body) * 2 // 3], "application/octet-stream")
        self._send(handler, 200, body, "application/octet-stream", cut=problem == "cut")

    def _download(self, handler, ticket: str) -> None:
        self.counts["download"] += 1
        job = self.jobs.get(ticket)
        if job is None or job["status"] != "COMPLETE":
            return self._send(handler, 400, b"Job is not complete\n", "text/plain; charset=utf-8")
        queries = parse_queries(job["query"])
        files = self.pair_archive(queries) if job["endpoint"] == "ticket/pair" else self.msa_archive(queries,
                                                                                                     job["mode"])
        if self.scripts.edit_archive is not None:
            files = self.scripts.edit_archive(files)
        self._deliver(handler, self.scripts.download, files)

    def _templates(self, handler, names: list[str]) -> None:
        self.counts["template"] += 1
        a3m_data, a3m_index, hhm_data, hhm_index = [], [], [], []
        offsets = [0, 0]
        for name in sorted(set(names)):
            if name not in self.templates:
                continue
            for k, (entry, data, index) in enumerate(((self.templates[name][0], a3m_data, a3m_index),
                                                     (self.templates[name][1], hhm_data, hhm_index))):
                data.append(entry + b"\0")
                index.append(f"{name}\t{offsets[k]}\t{len(entry) + 1}\n")
                offsets[k] += len(entry) + 1
        files = {"pdb70_a3m.ffdata": b"".join(a3m_data), "pdb70_a3m.ffindex": "".join(a3m_index).encode(),
                 "pdb70_hhm.ffdata": b"".join(hhm_data), "pdb70_hhm.ffindex": "".join(hhm_index).encode()}
        for pdb_id in sorted({name.split("_")[0].lower() for name in names}):
            if pdb_id in self.cifs:
                files[f"{pdb_id}.cif"] = self.cifs[pdb_id]
        self._deliver(handler, self.scripts.template, files)

    # ----------------------------------------------------------------- archives

    def msa_archive(self, queries: list[tuple[int, str]], mode: str) -> dict[str, bytes]:
        uniref, env, m8 = [], [], []
        for number, sequence in queries:
            hits = self.hits.get(sequence, SequenceHits("", ""))
            uniref.append(f">{number}\n{sequence}\n{hits.uniref_rows}\0")
            env.append(f">{number}\n{sequence}\n{hits.env_rows}\0")
            m8.extend(f"{number}\t{row}\n" for row in hits.m8_rows)
        files = {"uniref.a3m": "".join(uniref).encode()}
        if "notemplates" not in mode.split("-"):
            files["pdb70.m8"] = "".join(m8).encode()
        if "env" in mode.split("-"):
            files["bfd.mgnify30.metaeuk30.smag30.a3m"] = "".join(env).encode()
        files["msa.sh"] = b"#!/bin/bash -e\n# the search script (not used by clients)\n"
        return files

    def pair_archive(self, queries: list[tuple[int, str]]) -> dict[str, bytes]:
        chains = tuple(sequence for _, sequence in queries)
        rows = self.pairings.get(chains, ("",) * len(chains))
        entries = [f">{number}\n{sequence}\n{rows[k]}\0" for k, (number, sequence) in enumerate(queries)]
        return {"pair.a3m": "".join(entries).encode(), "pair.sh": b"#!/bin/bash -e\n"}


def reference_hits(af2_reference: Path) -> tuple[dict, dict, dict]:
    """Hits of every monomer case and the heteromer's chains, and the heteromer's pairing."""
    pipeline = af2_reference / "pipeline"
    hits, pairings = {}, {}
    for case in ("mono_full_templates", "mono_reduced_datefilter", "mono_no_templates"):
        sequence, case_hits = monomer_case(pipeline / case)
        hits[sequence] = case_hits
    chains, chain_hits, paired, _ = heteromer_case(pipeline / "multi_hetero_2chain")
    hits.update(chain_hits)
    pairings[chains] = paired
    return hits, pairings, {"templates": pdb70_entries(pipeline / "data"), "cifs": mmcif_files(pipeline / "data")}


def use_fast_client(monkeypatch, settings: ServerSettings | None = None) -> None:
    """Make every ``fetch_server_msas`` call of the CLI use short waits (pytest ``monkeypatch``)."""
    from foldkit.msa.server import fetch as fetch_module

    original = fetch_module.fetch_server_msas
    fast_settings = settings or ServerSettings(poll_interval=0.0, poll_jitter=0.0, retry_delay=0.0,
                                               backoff_initial=0.0, max_retries=2, max_backoffs=4,
                                               request_timeout=10.0, download_timeout=10.0)

    def fast(*args, **kwargs):
        kwargs["settings"] = fast_settings
        return original(*args, **kwargs)

    monkeypatch.setattr(fetch_module, "fetch_server_msas", fast)
    monkeypatch.setattr("foldkit.msa.server.fetch_server_msas", fast)


@contextlib.contextmanager
def reference_server(af2_reference: Path):
    """A running FakeColabFoldServer answering from the AlphaFold2 pipeline reference data."""
    hits, pairings, template_data = reference_hits(af2_reference)
    with FakeColabFoldServer(hits, pairings, **template_data) as server:
        yield server

