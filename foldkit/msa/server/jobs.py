"""Submitting, polling and downloading MSA server jobs, as ColabFold's client does, with bounds.

One :class:`Job` is one ticket (an MSA job for every distinct sequence of a
run, or a pairing job for one complex). :class:`JobRunner` submits the jobs
that have no ticket yet, then polls all of them in turn until each is
COMPLETE and downloaded:

* PENDING / RUNNING: wait ``poll_interval`` (+ random ``poll_jitter``) and ask again;
* RATELIMIT / MAINTENANCE: wait, doubling from ``backoff_initial`` up to
  ``backoff_max``, and try again (at most ``max_backoffs`` times per job);
* UNKNOWN (the server does not know the ticket, e.g. after a restart): submit
  again (the server names a job by a hash of its query and mode, so the same
  ticket comes back), within the same ``max_backoffs``;
* ERROR, or an answer that is not a job status: fail, quoting the server.

A job still waiting after ``max_wait`` seconds fails with a message saying
that its ticket is kept, so running the same command again resumes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import time
from typing import Callable

from foldkit.msa.server import protocol as api
from foldkit.msa.server.archive import ArchiveError, TruncatedArchive, is_gzip, read_members
from foldkit.msa.server.http import MsaServerError, Reply, Transport, describe_reply


@dataclasses.dataclass
class Job:
    """One server job and where it stands."""

    endpoint: str                          # api.SUBMIT_MSA or api.SUBMIT_PAIR
    mode: str
    sequences: tuple[str, ...]             # distinct sequences, numbered 101, 102, ... in this order
    label: str                             # for messages, e.g. "MSA job for records A, B (2 sequences)"
    ticket: str | None = None              # known from a previous, interrupted run
    status: str = ""
    backoffs: int = 0
    files: dict[str, bytes] | None = None  # the downloaded archive's members once COMPLETE

    @property
    def query(self) -> str:
        return api.numbered_fasta(list(self.sequences))

    @property
    def key(self) -> str:
        """What identifies the job for resuming: endpoint, mode and the exact query text."""
        text = f"{self.endpoint}\n{self.mode}\n{self.query}"
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def done(self) -> bool:
        return self.files is not None


def server_words(answer: dict) -> str:
    """The status and whatever the server said with it (reason, message...), on one line."""
    extra = [f"{key}: {value}" for key, value in answer.items()
             if key not in ("id", "status") and isinstance(value, (str, int, float)) and str(value).strip()]
    status = str(answer.get("status"))
    return f"{status} ({'; '.join(extra)})" if extra else status


def fetch_archive(transport: Transport, settings: api.ServerSettings, sleep: Callable[[float], None],
                  path: str, what: str) -> dict[str, bytes]:
    """GET a tar.gz and return its files by name; a truncated archive is fetched again (``max_retries``).

    ``what`` starts every error message (e.g. "MSA server URL: job ...: the result of ticket T").
    """
    attempt = 0
    while True:
        try:
            reply = transport.get(path, timeout=settings.download_timeout)
        except MsaServerError as failure:
            raise MsaServerError(f"{what}: {failure}") from None
        if reply.status != 200 or not is_gzip(reply.body):
            raise MsaServerError(f"{what} is not a tar.gz archive: {describe_reply(reply)}")
        try:
            return read_members(reply.body)
        except TruncatedArchive as problem:
            attempt += 1
            if attempt > settings.max_retries:
                raise MsaServerError(f"{what} came truncated {attempt} times ({problem}); "
                                     f"run again to retry") from None
            sleep(min(settings.backoff_max, settings.retry_delay * 2 ** (attempt - 1)))
        except ArchiveError as problem:
            raise MsaServerError(f"{what} is not a usable archive: {problem}") from None


def _status_answer(reply: Reply, what: str) -> dict:
    try:
        answer = json.loads(reply.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
        raise MsaServerError(f"{what}: the server did not answer with a job status but {describe_reply(reply)}")
    return answer


class JobRunner:
    """Runs jobs against one server; ``on_ticket`` / ``on_complete`` / ``on_failed`` let the caller keep state."""

    def __init__(self, transport: Transport, settings: api.ServerSettings,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 progress: Callable[[str], None] = lambda text: None,
                 on_ticket: Callable[[Job], None] = lambda job: None,
                 on_complete: Callable[[Job], None] = lambda job: None,
                 on_failed: Callable[[Job], None] = lambda job: None,
                 rng: random.Random | None = None):
        self.transport = transport
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.progress = progress
        self.on_ticket = on_ticket
        self.on_complete = on_complete
        self.on_failed = on_failed
        self.rng = rng or random.Random()

    @property
    def where(self) -> str:
        return f"MSA server {self.transport.url}"

    # ----------------------------------------------------------------- one job

    def _backoff(self, job: Job, answer: dict, what: str) -> float:
        job.backoffs += 1
        if job.backoffs > self.settings.max_backoffs:
            raise MsaServerError(f"{self.where}: {job.label}: {what} still answered {server_words(answer)} "
                                 f"after {self.settings.max_backoffs} waits; try again later")
        return min(self.settings.backoff_max, self.settings.backoff_initial * 2 ** (job.backoffs - 1))

    def _fail(self, job: Job, answer: dict, what: str) -> None:
        self.on_failed(job)
        hint = ""
        if answer.get("status") == api.ERROR:
            hint = " (the server could not run the job: check that the sequences are proteins, or retry later)"
        raise MsaServerError(f"{self.where}: {job.label}: {what} answered {server_words(answer)}{hint}")

    def submit(self, job: Job) -> None:
        """POST the job until the server accepts it (a ticket in PENDING, RUNNING or COMPLETE)."""
        while True:
            try:
                reply = self.transport.post(job.endpoint, {"q": job.query, "mode": job.mode})
            except MsaServerError as failure:
                raise MsaServerError(f"{job.label}: {failure}") from None
            answer = _status_answer(reply, f"{self.where}: {job.label}: submitting")
            status = answer["status"]
            if status in api.BACK_OFF or status == api.UNKNOWN:
                wait = self._backoff(job, answer, "submitting")
                self.progress(f"msa-server: {job.label}: {status}, waiting {wait:.0f} s before submitting again")
                self.sleep(wait)
                continue
            if status in (api.PENDING, api.RUNNING, api.COMPLETE) and isinstance(answer.get("id"), str) \
                    and answer["id"]:
                job.ticket, job.status = answer["id"], status
                self.on_ticket(job)
                return
            self._fail(job, answer, "submitting")

    def poll(self, job: Job) -> None:
        """Ask for the job's status once; download it when COMPLETE."""
        try:
            reply = self.transport.get(api.STATUS.format(ticket=job.ticket))
        except MsaServerError as failure:
            raise MsaServerError(f"{job.label}: {failure}; the ticket is kept, run again to resume") from None
        answer = _status_answer(reply, f"{self.where}: {job.label}: status of ticket {job.ticket}")
        status = answer["status"]
        job.status = status
        if status == api.COMPLETE:
            job.files = self.download(job)
            self.on_complete(job)
        elif status in api.BACK_OFF:
            self.sleep(self._backoff(job, answer, f"ticket {job.ticket}"))
        elif status == api.UNKNOWN:
            self._backoff(job, answer, f"ticket {job.ticket}")
            self.submit(job)
        elif status not in api.WAITING:
            self._fail(job, answer, f"ticket {job.ticket}")

    def download(self, job: Job) -> dict[str, bytes]:
        """The job's result archive (its files by name)."""
        return fetch_archive(self.transport, self.settings, self.sleep, api.DOWNLOAD.format(ticket=job.ticket),
                             f"{self.where}: {job.label}: the result of ticket {job.ticket}")

    # ----------------------------------------------------------------- all jobs

    def run(self, jobs: list[Job]) -> None:
        """Submit (unless resumed from a ticket), poll and download every job."""
        start = self.clock()
        for job in jobs:
            if job.ticket is None:
                self.submit(job)
        while True:
            for job in jobs:
                if not job.done:
                    self.poll(job)
            waiting = [job for job in jobs if not job.done]
            elapsed = self.clock() - start
            self.progress(self._summary(jobs, elapsed))
            if not waiting:
                return
            if elapsed > self.settings.max_wait:
                states = ", ".join(f"{job.label} {job.status} (ticket {job.ticket})" for job in waiting)
                raise MsaServerError(f"{self.where}: gave up after {elapsed:.0f} s: {states}; the tickets are "
                                     f"kept, run the same command again to resume")
            self.sleep(self.settings.poll_interval + self.rng.uniform(0.0, self.settings.poll_jitter))

    @staticmethod
    def _summary(jobs: list[Job], elapsed: float) -> str:
        minutes, seconds = divmod(int(elapsed), 60)
        parts = [f"{job.label}: {'downloaded' if job.done else job.status or 'submitted'}" for job in jobs]
        return f"msa-server: {'; '.join(parts)} [{minutes}:{seconds:02d}]"
