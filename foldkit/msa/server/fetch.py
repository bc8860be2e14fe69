"""``fetch_server_msas``: MSAs (and pairings, template hits) of many records from one MSA server.

The entry point ``foldkit predict`` and ``foldkit msa`` call::

    results = fetch_server_msas([("T1", "MKV..."), ("cplx", ["MKV...", "GSH..."])],
                                {"T1": out / "T1" / "msas" / "server", "cplx": ...},
                                url=DEFAULT_SERVER_URL, pairing="greedy", templates=False)
    results["T1"].unpaired                  # Msa: UniRef + environmental rows, deduplicated
    results["cplx"].chains[1].paired        # Msa: the rows paired with the other chain's, row by row

One MSA job carries every distinct chain sequence of the run that is not
cached yet; each complex with two or more distinct chains gets a pairing
job. Results are cached per sequence (and per pairing) in each record's cache
folder (layout in :mod:`foldkit.msa.server.cache`), so a rerun sends nothing
and an interrupted run resumes its saved tickets instead of submitting again.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from foldkit.errors import InputError
from foldkit.io.msa_files import parse_a3m
from foldkit.msa.server import cache
from foldkit.msa.server import protocol as api
from foldkit.msa.server.archive import ArchiveError, decode_text, split_entries, split_m8
from foldkit.msa.server.http import MsaServerError, Transport
from foldkit.msa.server.jobs import Job, JobRunner
from foldkit.msa.server.progress import ProgressLine
from foldkit.msa.server.results import ServerMsaResult, load_chain
from foldkit.msa.server.templates import fetch_templates, template_names

_PROTEIN_LETTERS = frozenset("ACDEFGHIKLMNPQRSTVWYX")


@dataclasses.dataclass(frozen=True)
class _Record:
    id: str
    chains: tuple[str, ...]
    cache_dir: Path

    @property
    def distinct(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.chains))


def _records(queries, cache_dirs: Mapping[str, Path]) -> list[_Record]:
    records, seen = [], set()
    for record_id, sequences in queries:
        chains = (sequences,) if isinstance(sequences, str) else tuple(sequences)
        if record_id in seen:
            raise InputError("the same record id is given twice", record=record_id)
        seen.add(record_id)
        if not chains:
            raise InputError("record has no chain sequence", record=record_id)
        for k, chain in enumerate(chains):
            bad = sorted(set(chain) - _PROTEIN_LETTERS)
            if not chain or bad:
                raise InputError(f"chain {k + 1} is not a protein sequence in upper-case one-letter code"
                                 + (f" (letters {''.join(bad)!r})" if bad else " (empty)"), record=record_id)
        if record_id not in cache_dirs:
            raise ValueError(f"no cache folder given for record {record_id!r}")
        records.append(_Record(record_id, chains, Path(cache_dirs[record_id])))
    return records


def _names(records: Sequence[_Record], limit: int = 4) -> str:
    ids = [r.id for r in records]
    shown = ", ".join(ids[:limit]) + (f" (+{len(ids) - limit} more)" if len(ids) > limit else "")
    return f"record{'s' if len(ids) > 1 else ''} {shown}"


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Fetch:
    """One call of fetch_server_msas: what is cached, what to send, where to store it."""

    def __init__(self, records: list[_Record], url: str, mode: str, pmode: str | None, templates: bool):
        self.records, self.url, self.mode, self.pmode, self.templates = records, url, mode, pmode, templates
        self.owners: dict[str, list[_Record]] = {}
        for record in records:
            for sequence in record.distinct:
                self.owners.setdefault(sequence, []).append(record)
        self.complexes: dict[tuple[str, ...], list[_Record]] = {}
        if pmode is not None:
            for record in records:
                if len(record.distinct) > 1:
                    self.complexes.setdefault(record.distinct, []).append(record)

    # ------------------------------------------------------------- cache state

    def _sequence_files(self) -> list[str]:
        files = list(api.expected_a3m_files(api.SUBMIT_MSA, self.mode))
        return files + [api.TEMPLATE_M8] if self.templates else files

    def _has_sequence(self, record: _Record, sequence: str) -> bool:
        expected = {"server": self.url, "mode": self.mode, "sequence": sequence}
        return cache.is_complete(cache.sequence_entry(record.cache_dir, self.mode, sequence), expected,
                                 self._sequence_files())

    def _has_pair(self, record: _Record) -> bool:
        expected = {"server": self.url, "mode": self.pmode, "chains": list(record.distinct)}
        files = [cache.pair_file(k) for k in range(len(record.distinct))]
        return cache.is_complete(cache.pair_entry(record.cache_dir, self.pmode, record.distinct), expected, files)

    @staticmethod
    def _missing(groups, has, entry) -> list:
        """Keys of ``groups`` (key -> owning records) that no owner has cached (``has(record, key)``);
        the entry (``entry(cache_dir, key)``) cached for one owner is copied to the others."""
        missing = []
        for key, owners in groups.items():
            holders = [r for r in owners if has(r, key)]
            if not holders:
                missing.append(key)
                continue
            source = entry(holders[0].cache_dir, key)
            for record in owners:
                if record not in holders:
                    cache.copy_entry(source, entry(record.cache_dir, key))
        return missing

    def missing_sequences(self) -> list[str]:
        """Distinct sequences no record has cached; entries cached for one record are copied to the others."""
        return self._missing(self.owners, self._has_sequence,
                             lambda cache_dir, sequence: cache.sequence_entry(cache_dir, self.mode, sequence))

    def missing_pairings(self) -> list[tuple[str, ...]]:
        """Complexes (chain sequences) whose paired MSA no record has cached; copied as above."""
        return self._missing(self.complexes, lambda record, chains: self._has_pair(record),
                             lambda cache_dir, chains: cache.pair_entry(cache_dir, self.pmode, chains))

    # ------------------------------------------------------------- jobs

    def jobs(self, sequences: list[str], pairings: list[tuple[str, ...]]) -> list[Job]:
        jobs = []
        if sequences:
            owners = [r for r in self.records if any(s in sequences for s in r.distinct)]
            jobs.append(Job(api.SUBMIT_MSA, self.mode, tuple(sequences),
                            f"MSA job ({self.mode}, {len(sequences)} sequences) for {_names(owners)}"))
        for chains in pairings:
            jobs.append(Job(api.SUBMIT_PAIR, self.pmode, chains,
                            f"pairing job ({self.pmode}) for {_names(self.complexes[chains])}"))
        for job in jobs:
            job.ticket = cache.find_ticket(self._job_dirs(job), job.key, self.url)
        return jobs

    def _job_records(self, job: Job) -> list[_Record]:
        if job.endpoint == api.SUBMIT_PAIR:
            return self.complexes[job.sequences]
        return list({r.id: r for s in job.sequences for r in self.owners[s]}.values())

    def _job_dirs(self, job: Job) -> list[Path]:
        return [r.cache_dir for r in self._job_records(job)]

    def save_ticket(self, job: Job) -> None:
        cache.save_ticket(self._job_dirs(job), job.key, {"server": self.url, "endpoint": job.endpoint,
                                                          "mode": job.mode, "ticket": job.ticket})

    def forget_ticket(self, job: Job) -> None:
        cache.forget_ticket(self._job_dirs(job), job.key)

    # ------------------------------------------------------------- storing results

    def store(self, job: Job) -> None:
        """Check the downloaded archive and write its entries into the records' caches."""
        try:
            if job.endpoint == api.SUBMIT_PAIR:
                self._store_pairing(job)
            else:
                self._store_msas(job)
        except (ArchiveError, InputError) as problem:
            self.forget_ticket(job)
            detail = getattr(problem, "detail", None) or str(problem)
            raise MsaServerError(f"MSA server {self.url}: {job.label} (ticket {job.ticket}): {detail}") from None
        self.forget_ticket(job)

    def _archive_entries(self, job: Job, names: list[str]) -> dict[str, dict[int, str]]:
        absent = [name for name in names if name not in job.files]
        if absent:
            raise ArchiveError(f"the result archive holds {sorted(job.files) or 'no files'} but not "
                               f"{', '.join(absent)}")
        return {name: split_entries(decode_text(job.files[name], name), name) for name in names}

    def _checked_entry(self, entries: dict[int, str], name: str, number: int, sequence: str,
                       records: list[_Record]) -> str:
        who = _names(records)
        if number not in entries:
            raise ArchiveError(f"{who}: {name} has no entry for query {number} (numbers present: "
                               f"{sorted(entries) or 'none'})")
        try:
            parse_a3m(entries[number], path=f"{name} entry >{number}", query_sequence=sequence)
        except InputError as problem:
            raise ArchiveError(f"{who}: {name} from the server is not a valid alignment of the query: "
                               f"{problem}") from None
        return entries[number]

    def _store_msas(self, job: Job) -> None:
        names = list(api.expected_a3m_files(api.SUBMIT_MSA, job.mode))
        entries = self._archive_entries(job, names)
        hits = None
        if api.TEMPLATE_M8 in job.files:
            hits = split_m8(decode_text(job.files[api.TEMPLATE_M8], api.TEMPLATE_M8))
        elif self.templates:
            raise ArchiveError(f"--templates was asked but the result archive holds {sorted(job.files)}, "
                               f"no {api.TEMPLATE_M8}")
        for k, sequence in enumerate(job.sequences):
            number = api.FIRST_QUERY_NUMBER + k
            owners = self.owners[sequence]
            texts = {name: self._checked_entry(entries[name], name, number, sequence, owners) for name in names}
            if hits is not None:
                texts[api.TEMPLATE_M8] = hits.get(number, "")
            source = {"server": self.url, "mode": job.mode, "sequence": sequence, "ticket": job.ticket,
                      "query_number": number}
            for record in owners:
                cache.write_entry(cache.sequence_entry(record.cache_dir, job.mode, sequence), texts, source)

    def _store_pairing(self, job: Job) -> None:
        entries = self._archive_entries(job, [api.PAIR_A3M])[api.PAIR_A3M]
        owners = self.complexes[job.sequences]
        texts, rows = {}, []
        for k, sequence in enumerate(job.sequences):
            number = api.FIRST_QUERY_NUMBER + k
            text = self._checked_entry(entries, api.PAIR_A3M, number, sequence, owners)
            rows.append(text.count("\n>") + 1)
            texts[cache.pair_file(k)] = text
        if len(set(rows)) > 1:
            raise ArchiveError(f"{_names(owners)}: the paired MSAs of the chains have different numbers of rows "
                               f"({', '.join(map(str, rows))}); they must match row by row")
        source = {"server": self.url, "mode": job.mode, "chains": list(job.sequences), "ticket": job.ticket}
        for record in owners:
            cache.write_entry(cache.pair_entry(record.cache_dir, job.mode, job.sequences), texts, source)

    # ------------------------------------------------------------- results

    def results(self) -> dict[str, ServerMsaResult]:
        results = {}
        for record in self.records:
            pair_dir = None
            if record.distinct in self.complexes:
                pair_dir = cache.pair_entry(record.cache_dir, self.pmode, record.distinct)
            chains = tuple(load_chain(record.id, record.cache_dir, sequence, self.mode, pair_dir=pair_dir,
                                      pair_index=record.distinct.index(sequence), templates=self.templates)
                           for sequence in record.chains)
            results[record.id] = ServerMsaResult(record.id, chains)
        return results


def fetch_server_msas(queries: Sequence[tuple[str, str | Sequence[str]]], cache_dirs: Mapping[str, Path], *,
                      url: str, use_env: bool = True, use_filter: bool = True, pairing: str | None = "greedy",
                      pair_env: bool = False, templates: bool = False,
                      settings: api.ServerSettings = api.ServerSettings(),
                      log: Callable[[str], None] | None = None, progress: bool = True,
                      sleep: Callable[[float], None] = time.sleep) -> dict[str, ServerMsaResult]:
    """MSAs of ``queries`` from the ColabFold MMseqs2 API at ``url``, cached in ``cache_dirs``.

    ``queries``: (record id, sequence) for a monomer or (record id, [chain
    sequences]) for a complex, sequences in upper-case one-letter code.
    ``cache_dirs``: record id -> its cache folder (``foldkit predict`` passes
    ``<out>/<record>/msas/server``; see :func:`foldkit.msa.server.record_cache_dir`).
    ``use_env``: UniRef30 + the environmental databases (ColabFold's default
    ``mmseqs2_uniref_env``); False: UniRef30 only. ``pairing``: 'greedy' or
    'complete' for complexes with two or more distinct chains (None: no
    pairing job); ``pair_env`` pairs the environmental hits too.
    ``templates``: also keep the pdb70 hits and fetch the template archive.
    ``log`` gets the one-line messages (default: stderr), the first of which
    says where the sequences go; ``progress`` shows a line while waiting.
    ``sleep`` is injectable for tests.

    Returns record id -> :class:`ServerMsaResult` (per chain: ``unpaired``,
    ``paired``, ``template_hits``, ``template_hits_path``, ``template_dir``).
    Raises :class:`MsaServerError` (a FoldkitError: one line naming the
    records and quoting the server) or InputError for bad queries.
    """
    say = log or _stderr
    records = _records(queries, cache_dirs)
    plan = _Fetch(records, url.rstrip("/"), api.msa_mode(use_env, use_filter),
                  api.pair_mode(pairing, pair_env) if pairing else None, templates)
    for record in records:
        cache.remove_stale_staging(record.cache_dir)
    sequences, pairings = plan.missing_sequences(), plan.missing_pairings()
    public = " (ColabFold's public server, run by a third party)" if plan.url == api.DEFAULT_SERVER_URL else ""
    if sequences or pairings:
        sent = len(set(sequences) | {s for chains in pairings for s in chains})
        say(f"msa-server: sending {sent} sequence(s) of {len(records)} record(s) to {plan.url}{public}")
    else:
        say(f"msa-server: all {len(records)} record(s) found in the cache; no sequence is sent to {plan.url}")
    transport = Transport(plan.url, settings, sleep)
    line = ProgressLine(enabled=progress)
    try:
        jobs = plan.jobs(sequences, pairings)
        if jobs:
            runner = JobRunner(transport, settings, sleep=sleep, progress=line, on_ticket=plan.save_ticket,
                               on_complete=plan.store, on_failed=plan.forget_ticket)
            runner.run(jobs)
        if templates:
            _fetch_all_templates(plan, transport, settings, sleep, say)
    finally:
        line.close()
    return plan.results()


def _fetch_all_templates(plan: _Fetch, transport: Transport, settings: api.ServerSettings,
                         sleep: Callable[[float], None], say: Callable[[str], None]) -> None:
    announced = False
    for sequence, owners in plan.owners.items():
        folders = [cache.sequence_entry(r.cache_dir, plan.mode, sequence) for r in owners]
        if all((folder / cache.TEMPLATE_FOLDER).is_dir() for folder in folders) or not template_names(folders[0]):
            continue
        if not announced:
            say(f"msa-server: fetching template structures (pdb70 names only) from {plan.url}")
            announced = True
        fetch_templates(transport, settings, sleep, folders, [r.id for r in owners])
