"""AlphaFold2 v2.3's monomer input pipeline: searches, MSA merge, templates, raw features.

For one query and an MSA folder (AlphaFold2's ``msas/``):

1. jackhmmer (pyhmmer, in-process) on UniRef90 and MGnify, HHblits on
   BFD + UniRef30 (``full_dbs``) or jackhmmer on the small BFD
   (``reduced_dbs``), and HHsearch on PDB70 with the UniRef90 alignment
   (deduplicated, empty columns removed, as A3M); the independent searches run
   concurrently on at most ``cpus`` cores, HHsearch as soon as UniRef90 is done.
   Files already in the folder are reused (see :mod:`foldkit.msa.af2_files`).
2. Templates from the HHsearch hits and the mmCIF files
   (:mod:`foldkit.templates`), 20 hits considered, 4 used by the model, in
   the thread of the template search as soon as it ends (beside the searches
   still running); each MSA is parsed likewise as soon as its search ends.
3. The MSAs in AlphaFold2's order: UniRef90 (first 10,000 rows), BFD (or
   small BFD), MGnify (first 501 rows); duplicate rows dropped, first kept.
4. Sequence + MSA + template raw features with AlphaFold2's names and dtypes.

:meth:`Af2InputPipeline.run_many` runs several queries (the chains of a
complex) with one pool of ``cpus`` cores for all their searches.

One progress line per search (database, hits, seconds); the per-step times
are returned for ``timings.json`` (``features`` is AlphaFold2's key for the
whole input pipeline).

With multimer databases (``resolve_databases(..., model_preset="multimer")``)
the template search is AlphaFold-Multimer's: hmmsearch (pyhmmer) of the
profile of the UniRef90 alignment against ``pdb_seqres.txt`` (``pdb_hits.sto``,
hmmsearch hit order, one all-zero template when none is kept); ``run(...,
pairing=True)`` adds the UniProt jackhmmer search (``uniprot_hits.sto``, written
whole; its MSA keeps the first 50,000 rows), which is returned as ``Af2Inputs.pairing_msa`` (heteromer
chains; :mod:`foldkit.msa.af2_complex` runs the chains of a complex).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import queue
import re
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from foldkit.errors import InputError
from foldkit.features.raw import make_raw_features
from foldkit.io.msa_files import Msa, merge_msas
from foldkit.msa import af2_files as files
from foldkit.msa import hhsuite
from foldkit.msa.databases import Af2Databases, database_stamp
from foldkit.msa.jackhmmer import (QueryModel, QueryRecord, engine_version, jackhmmer_stockholm, query_model,
                                   truncate_stockholm)
from foldkit.msa.search import JackhmmerSettings, default_cpus

Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class Af2Settings:
    """How the AlphaFold2 input pipeline runs (AlphaFold2 flag names in comments)."""

    databases: Af2Databases
    max_template_date: datetime.date | None = None   # --max_template_date (None: today)
    cpus: int = dataclasses.field(default_factory=default_cpus)
    use_precomputed_msas: bool = False               # --use_precomputed_msas
    hhblits_binary: str | None = None                # --hhblits_binary_path (None: PATH)
    hhsearch_binary: str | None = None               # --hhsearch_binary_path
    kalign_binary: str | None = None                 # --kalign_binary_path
    custom_templates: Path | None = None             # ColabFold's --custom-template-path
    uniref_max_hits: int = 10000
    mgnify_max_hits: int = 501
    uniprot_max_hits: int = 50000                    # multimer pairing MSA (max_uniprot_hits)
    max_template_hits: int = 20                      # MAX_TEMPLATE_HITS
    jackhmmer: JackhmmerSettings = JackhmmerSettings()
    hhblits: hhsuite.HHblitsSettings = hhsuite.HHblitsSettings()
    hhsearch: hhsuite.HHsearchSettings = hhsuite.HHsearchSettings()
    timeout_s: float | None = hhsuite.DEFAULT_TIMEOUT_S

    @property
    def template_date(self) -> datetime.date:
        return self.max_template_date or datetime.date.today()

    @property
    def msa_mode(self) -> str:
        return f"af2_{self.databases.db_preset}"

    def resume_description(self) -> dict:
        """What a finished prediction must share with this run to be skipped."""
        return {"db_preset": self.databases.db_preset, "max_template_date": self.template_date.isoformat(),
                "databases": self.databases.as_dict(),
                "custom_templates": None if self.custom_templates is None else str(self.custom_templates)}

    def check(self) -> "Af2Settings":
        """Fail early: binaries the searches need, and the UniRef90 search the template search needs."""
        databases = self.databases
        pdb_templates = databases.searches_templates and self.custom_templates is None
        hhsearch_templates = pdb_templates and databases.template_search == "hhsearch"
        if pdb_templates and databases.uniref90 is None:
            raise InputError("templates need the UniRef90 search (AlphaFold2 searches PDB70 with the UniRef90 "
                             "alignment): give --uniref90 or --af2-data-dir")
        if self.use_precomputed_msas:
            return self        # binaries are looked up only when a file is missing and must be searched
        found = {}
        if databases.hhblits_databases:
            found["hhblits_binary"] = hhsuite.find_binary("hhblits", self.hhblits_binary,
                                                          "the BFD/UniRef30 search (--db-preset full_dbs)")
        if hhsearch_templates:
            found["hhsearch_binary"] = hhsuite.find_binary("hhsearch", self.hhsearch_binary,
                                                           "the PDB70 template search")
        if pdb_templates or self.custom_templates is not None:
            found["kalign_binary"] = hhsuite.find_binary("kalign", self.kalign_binary, "template realignment")
        return dataclasses.replace(self, **found)


@dataclasses.dataclass
class Af2Inputs:
    """The pipeline's result for one query."""

    raw_features: dict[str, np.ndarray]
    msa: Msa                                  # merged, deduplicated (what the msa features hold)
    timings: dict[str, float]
    template_log: list[str]
    searched: list[str]                       # MSA files searched in this run (the rest were reused)
    pairing_msa: Msa | None = None            # multimer: the UniProt MSA (first uniprot_max_hits rows)


@dataclasses.dataclass(frozen=True)
class Af2Query:
    """One query of :meth:`Af2InputPipeline.run_many` and the MSA folder its searches go to."""

    query: QueryRecord
    msa_dir: Path
    prefix: str = ""                          # progress-line prefix
    pairing: bool = False                     # add the UniProt search (multimer heteromer chains)


@dataclasses.dataclass(frozen=True)
class _Search:
    key: str                                  # uniref90 | mgnify | bfd_uniref | small_bfd | pdb70
    file: str
    tool: str
    databases: tuple[Path, ...]
    settings: dict
    after: str | None = None                  # key of the search whose output this one reads


MSA_ORDER = ("uniref90", "bfd_uniref", "small_bfd", "mgnify")     # AlphaFold2's merge order


@dataclasses.dataclass(eq=False)
class _Job:
    """One query's run: its searches and what they produced (filled in by the worker threads)."""

    request: Af2Query
    searches: list[_Search]
    record: files.SearchRecord
    start: float
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)      # search key -> output text
    msas: dict[str, Msa] = dataclasses.field(default_factory=dict)         # search key -> parsed MSA
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    searched: list[str] = dataclasses.field(default_factory=list)
    templates: dict | None = None
    pairing_msa: Msa | None = None
    _model: QueryModel | None = None
    _model_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def query_model(self) -> QueryModel:
        """The query's jackhmmer model, built by the first jackhmmer search and shared by the others."""
        with self._model_lock:
            if self._model is None:
                self._model = query_model(self.request.query)
            return self._model


def plan_searches(settings: Af2Settings) -> list[_Search]:
    """The searches of the preset, longest first (HHblits), HHsearch last (it reads UniRef90's output)."""
    databases = settings.databases
    jackhmmer = dataclasses.asdict(settings.jackhmmer)
    jackhmmer.pop("max_sequences")
    searches = []
    if databases.hhblits_databases:
        searches.append(_Search("bfd_uniref", files.BFD_UNIREF_A3M, "hhblits", databases.hhblits_databases,
                                dataclasses.asdict(settings.hhblits) | {"n_cpu": None}))
    if databases.db_preset == "reduced_dbs" and databases.small_bfd is not None:
        searches.append(_Search("small_bfd", files.SMALL_BFD_STO, "jackhmmer", (databases.small_bfd,),
                                jackhmmer | {"max_sto_sequences": None}))
    if databases.uniref90 is not None:
        searches.append(_Search("uniref90", files.UNIREF90_STO, "jackhmmer", (databases.uniref90,),
                                jackhmmer | {"max_sto_sequences": settings.uniref_max_hits}))
    if databases.mgnify is not None:
        searches.append(_Search("mgnify", files.MGNIFY_STO, "jackhmmer", (databases.mgnify,),
                                jackhmmer | {"max_sto_sequences": settings.mgnify_max_hits}))
    if settings.custom_templates is not None:
        searches.append(_Search("custom_templates", files.CUSTOM_TEMPLATES_STO, "hmmsearch",
                                (settings.custom_templates,), {},
                                after="uniref90" if databases.uniref90 is not None else None))
    elif databases.template_search == "hhsearch":
        searches.append(_Search("pdb70", files.PDB_HHR, "hhsearch", (databases.pdb70,),
                                dataclasses.asdict(settings.hhsearch) | {"n_cpu": None}, after="uniref90"))
    elif databases.template_search == "hmmsearch":
        from foldkit.templates.hmmsearch import HMMSEARCH_THRESHOLDS

        searches.append(_Search("pdb_seqres", files.PDB_STO, "hmmsearch", (databases.pdb_seqres,),
                                dict(HMMSEARCH_THRESHOLDS), after="uniref90"))
    return searches


def uniprot_search(settings: Af2Settings) -> _Search | None:
    """AlphaFold-Multimer's UniProt jackhmmer search (pairing MSA), None without a UniProt database."""
    if settings.databases.uniprot is None:
        return None
    jackhmmer = dataclasses.asdict(settings.jackhmmer)
    jackhmmer.pop("max_sequences")
    # written untruncated (as AlphaFold-Multimer does); the MSA keeps its first uniprot_max_hits rows
    return _Search("uniprot", files.UNIPROT_STO, "jackhmmer", (settings.databases.uniprot,),
                   jackhmmer | {"max_sto_sequences": None})


class Af2InputPipeline:
    """Runs the pipeline for queries of one run (settings and binaries checked once)."""

    def __init__(self, settings: Af2Settings, log: Log = print):
        self.settings = settings.check()
        self.log = log
        self.searches = plan_searches(self.settings)
        self.pairing_search = uniprot_search(self.settings)
        self._stamps = {}
        self._template_featurizer = None
        self._template_lock = threading.Lock()
        self._pdb_seqres = None                  # pyhmmer sequence block, loaded on the first hmmsearch
        if self.settings.custom_templates is not None or self.settings.databases.searches_templates:
            self._featurizer()      # reads obsolete.dat and checks the mmCIF folder before any search runs

    # ------------------------------------------------------------------ one query

    @property
    def multimer(self) -> bool:
        return self.settings.databases.model_preset == "multimer"

    def run(self, query: QueryRecord, msa_dir: Path, prefix: str = "", pairing: bool = False) -> Af2Inputs:
        """Search (or reuse) into ``msa_dir``, then featurize; ``pairing`` adds the UniProt search (multimer)."""
        return self.run_many([Af2Query(query, Path(msa_dir), prefix, pairing)])[0]

    def run_many(self, queries: Sequence[Af2Query]) -> list[Af2Inputs]:
        """Several queries at once (the chains of a complex): their searches share the ``cpus`` cores, so
        one query's short searches fill the cores another query's long search leaves idle."""
        jobs = [self._job(request) for request in queries]
        self._run_all([(job, search) for job in jobs for search in job.searches])
        return [self._finish(job) for job in jobs]

    def _job(self, request: Af2Query) -> _Job:
        searches = list(self.searches)
        if request.pairing:
            if self.pairing_search is None:
                self.log(f"{request.prefix}uniprot: no UniProt database (--uniprot): this chain's rows are not "
                         "paired with the other chains'")
            else:
                searches.append(self.pairing_search)
        request.msa_dir.mkdir(parents=True, exist_ok=True)
        return _Job(request, searches, files.SearchRecord(request.msa_dir), time.perf_counter())

    def _task(self, job: _Job, search: _Search, threads: int, release: Callable[[str], None]) -> str:
        """One search of one query (worker thread), then what reads its output alone: the template
        featurization after the template search, the MSA parse after an MSA search. ``release`` hands the
        output to the scheduler as soon as it is known."""
        query, msa_dir, prefix = job.request.query, job.request.msa_dir, job.request.prefix
        if search.key == "custom_templates":
            text, job.templates = self._custom_templates(search, query, msa_dir, job.outputs, threads, job.timings,
                                                         prefix)
            return text
        text = self._obtain(job, search, threads, release)
        t0 = time.perf_counter()
        if search.key in ("pdb70", "pdb_seqres"):
            job.templates = self._templates(query, text, msa_dir / search.file, search.tool)
            job.timings["templates"] = round(time.perf_counter() - t0, 3)
        elif search.key == "uniprot":
            job.pairing_msa = files.stockholm_msa(text, msa_dir / search.file, query.sequence,
                                                  self.settings.uniprot_max_hits)
        else:
            job.msas[search.key] = self._msa(search, query, msa_dir, text)
            job.timings["msa_features"] = round(job.timings.get("msa_features", 0.0) + time.perf_counter() - t0, 3)
        return text

    def _finish(self, job: _Job) -> Af2Inputs:
        """Raw features of a query whose searches are done."""
        query, timings = job.request.query, job.timings
        t0 = time.perf_counter()
        msas = [job.msas[key] for key in MSA_ORDER if key in job.msas]
        templates = job.templates or _no_search_templates(query, zero_template=self.multimer)
        raw = make_raw_features(query.sequence, msas, description=_header(query),
                                template_features=templates["features"])
        timings["msa_features"] = round(timings.get("msa_features", 0.0) + time.perf_counter() - t0, 3)
        timings["features"] = round(time.perf_counter() - job.start, 3)
        merged = merge_msas(msas)
        pairing_msa = job.pairing_msa
        self.log(f"{job.request.prefix}features: {len(merged)} MSA sequences, {templates['num_templates']} templates"
                 + (f", {len(pairing_msa)} UniProt sequences for pairing" if pairing_msa is not None else ""))
        return Af2Inputs(raw, merged, timings, templates["log"], job.searched, pairing_msa)

    def _run_all(self, tasks: list[tuple[_Job, _Search]]) -> None:
        """At most ``cpus`` searches at a time, sharing the cores.

        A search holds its cores until its output is known; what follows in its thread (writing the
        file, parsing the MSA, featurizing the templates) overlaps the next searches. A search whose
        input has just become ready (the template search after UniRef90) goes first, since the
        template featurization waits for it."""
        cpus = max(1, self.settings.cpus)
        ready = [task for task in tasks if task[1].after is None]
        waiting = [task for task in tasks if task[1].after is not None]
        workers = max(1, min(cpus, len(tasks)))
        events: queue.SimpleQueue = queue.SimpleQueue()      # (kind, task number, payload) from the workers
        searching: dict[int, tuple[_Job, _Search, int]] = {}   # task number -> job, search, threads held
        unfinished = 0

        def work(number: int, job: _Job, search: _Search, threads: int) -> None:
            released = []

            def release(text: str) -> None:
                released.append(True)
                events.put(("output", number, text))

            try:
                text = self._task(job, search, threads, release)
                if not released:
                    release(text)
                events.put(("done", number, None))
            except BaseException as exc:            # re-raised in the scheduling thread
                events.put(("error", number, exc))

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(tasks)),
                                                   thread_name_prefix="af2-search") as pool:
            try:
                started = 0
                while ready or searching or unfinished:
                    while ready and len(searching) < workers:
                        job, search = ready.pop(0)
                        threads = _threads(search, [other for _, other in ready], searching.values(), cpus)
                        started += 1
                        searching[started] = (job, search, threads)
                        unfinished += 1
                        pool.submit(work, started, job, search, threads)
                    kind, number, payload = events.get()
                    if kind == "error":
                        raise payload
                    if kind == "done":
                        unfinished -= 1
                        continue
                    job, search, _ = searching.pop(number)
                    job.outputs[search.key] = payload
                    unlocked = [w for w in waiting if w[0] is job and w[1].after == search.key]
                    waiting = [w for w in waiting if not (w[0] is job and w[1].after == search.key)]
                    ready = unlocked + ready
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    # ------------------------------------------------------------------ one search

    def _description(self, search: _Search, query: QueryRecord, outputs: dict[str, str]) -> dict:
        """What identifies a search output: query, databases, tool, engine and settings."""
        if search.key not in self._stamps:
            self._stamps[search.key] = [database_stamp(p) for p in search.databases]
        described = {"query": _header(query), "query_sha256": files.sha256_text(query.sequence),
                     "tool": search.tool, "databases": self._stamps[search.key], "settings": search.settings}
        if search.tool in ("jackhmmer", "hmmsearch"):
            described["engine"] = engine_version()
        if search.after is not None:
            described["input_sha256"] = files.sha256_text(outputs[search.after])
        return described

    def _obtain(self, job: _Job, search: _Search, threads: int, release: Callable[[str], None]) -> str:
        """The search's output: reused from the MSA folder when it may be, else searched and written
        (handed to ``release`` before it is written)."""
        query, msa_dir, prefix, outputs = job.request.query, job.request.msa_dir, job.request.prefix, job.outputs
        record, timings = job.record, job.timings
        path = msa_dir / search.file
        if self.settings.use_precomputed_msas and path.is_file():
            text = files.read_text(path)
            self.log(f"{prefix}{search.key}: reusing {path} ({_count_hits(search, text)} hits; "
                     "--use-precomputed-msas)")
            return text
        description = self._description(search, query, outputs)
        text = record.matching_text(search.file, description)
        if text is not None:
            self.log(f"{prefix}{search.key}: reusing {path} ({_count_hits(search, text)} hits, same query, "
                     "databases and settings)")
            return text
        start = time.perf_counter()
        text = self._search(job, search, threads)
        seconds = time.perf_counter() - start
        release(text)
        record.write(search.file, text, description)
        timings[f"search_{search.key}"] = round(seconds, 3)
        job.searched.append(search.file)
        names = ", ".join(p.name for p in search.databases)
        self.log(f"{prefix}{search.key}: {search.tool} on {names}: {_count_hits(search, text)} hits, "
                 f"{seconds:.1f} s ({threads} thread{'s' if threads != 1 else ''})")
        return text

    def _search(self, job: _Job, search: _Search, threads: int) -> str:
        settings, query, outputs = self.settings, job.request.query, job.outputs
        if search.tool == "jackhmmer":
            result = jackhmmer_stockholm(query, search.databases[0], settings.jackhmmer, threads,
                                         model=job.query_model())
            limit = search.settings["max_sto_sequences"]
            return truncate_stockholm(result.stockholm, limit) if limit is not None else result.stockholm
        if search.tool == "hhblits":
            binary = hhsuite.find_binary("hhblits", settings.hhblits_binary, "the BFD/UniRef30 search")
            fasta = f">{_header(query)}\n{query.sequence}\n"
            return hhsuite.hhblits(binary, fasta, search.databases, settings.hhblits, threads,
                                   settings.timeout_s).text
        if search.tool == "hhsearch":
            from foldkit.templates.query_msa import hhsearch_query_a3m

            binary = hhsuite.find_binary("hhsearch", settings.hhsearch_binary, "the PDB70 template search")
            query_a3m = hhsearch_query_a3m(truncate_stockholm(outputs[search.after], settings.uniref_max_hits))
            return hhsuite.hhsearch(binary, query_a3m, search.databases[0], settings.hhsearch, threads,
                                    settings.timeout_s).text
        if search.tool == "hmmsearch":
            from foldkit.templates.hmmsearch import hmmsearch_templates
            from foldkit.templates.query_msa import hmmbuild_query_sto

            query_sto = hmmbuild_query_sto(truncate_stockholm(outputs[search.after], settings.uniref_max_hits))
            return hmmsearch_templates(query_sto, search.databases[0], cpus=threads,
                                       targets=self._template_sequences(search.databases[0]))
        raise ValueError(f"unknown tool {search.tool!r}")

    def _template_sequences(self, path: Path):
        """pdb_seqres.txt read once per pipeline (digital sequences shared by every chain's hmmsearch)."""
        with self._template_lock:
            if self._pdb_seqres is None:
                from foldkit.templates.hmmsearch import load_target_sequences

                self._pdb_seqres = load_target_sequences(path)
            return self._pdb_seqres

    # ------------------------------------------------------------------ features

    def _msa(self, search: _Search, query: QueryRecord, msa_dir: Path, text: str) -> Msa:
        """The MSA of one search output, with AlphaFold2's row limits (UniRef90 10,000, MGnify 501)."""
        path = msa_dir / search.file
        if search.file.endswith(".a3m"):
            return files.a3m_msa(text, path, query.sequence)
        limit = {"uniref90": self.settings.uniref_max_hits, "mgnify": self.settings.mgnify_max_hits}.get(search.key)
        return files.stockholm_msa(text, path, query.sequence, limit)

    def _featurizer(self):
        """One template featurizer per run (it keeps parsed mmCIF entries across queries)."""
        if self._template_featurizer is None:
            from foldkit.templates.featurizer import TemplateFeaturizer, TemplateSettings

            settings = self.settings
            databases = settings.databases
            custom = settings.custom_templates is not None
            self._template_featurizer = TemplateFeaturizer(TemplateSettings(
                mmcif_dir=settings.custom_templates if custom else databases.template_mmcif_dir,
                max_template_date=settings.template_date,
                obsolete_pdbs=None if custom else databases.obsolete_pdbs, max_hits=settings.max_template_hits,
                kalign_binary=settings.kalign_binary or "kalign", kalign_timeout_s=settings.timeout_s or 3600.0))
        return self._template_featurizer

    def _templates(self, query: QueryRecord, hits_text: str, hits_path: Path, tool: str = "hhsearch") -> dict:
        with self._template_lock:
            if tool == "hmmsearch":
                result = self._featurizer().from_hmmsearch_sto(query.sequence, hits_text, hits_path)
            else:
                result = self._featurizer().from_hhr(query.sequence, hits_text, hits_path)
        return {"features": result.features, "log": list(result.log), "num_templates": result.num_templates}

    def _custom_templates(self, search: _Search, query: QueryRecord, msa_dir: Path, outputs: dict[str, str],
                          threads: int, timings: dict, prefix: str) -> tuple[str, dict]:
        """hmmsearch of the query profile against the user's structures, then their template features.

        Always recomputed (the folder is read anyway); the hits are written to
        ``custom_template_hits.sto`` for inspection."""
        from foldkit.templates.custom import custom_template_hits

        start = time.perf_counter()
        uniref90 = outputs.get(search.after) if search.after else None
        if uniref90 is not None:
            uniref90 = truncate_stockholm(uniref90, self.settings.uniref_max_hits)
        found = custom_template_hits(query.sequence, search.databases[0], uniref90_sto_text=uniref90,
                                     cpus=max(1, threads))
        files.atomic_write_text(msa_dir / search.file, found.sto_text)
        timings["search_custom_templates"] = round(time.perf_counter() - start, 3)
        t0 = time.perf_counter()
        with self._template_lock:
            result = self._featurizer().from_custom(query.sequence, found, zero_template_when_empty=self.multimer)
        timings["templates"] = round(time.perf_counter() - t0, 3)
        for note in found.notes:
            self.log(f"{prefix}custom templates: {note}")
        self.log(f"{prefix}custom_templates: hmmsearch on {search.databases[0]}: {_count_hits(search, found.sto_text)} "
                 f"hits, {result.num_templates} templates, {time.perf_counter() - start:.1f} s")
        return found.sto_text, {"features": result.features, "log": list(result.log),
                                "num_templates": result.num_templates}



HHSUITE_TOOLS = ("hhblits", "hhsearch")     # binaries that keep their thread count for their whole run


def _threads(search: _Search, ready: Sequence[_Search], running, cpus: int) -> int:
    """Threads for a search about to start, given the (job, search, threads) running.

    A jackhmmer search beside other jackhmmer searches (running or ready) streams its database with one
    thread: streams overlap without the GIL, while a search reading blocks holds it and slows the streams
    beside it (a UniRef90 stream of 6,900 hits: 10 s beside streams, 15.6 s beside a block reader). A
    jackhmmer search alone takes every core that no HH-suite binary holds. The template search (short, and
    the template featurization waits for it) takes every core that no running HH-suite binary holds:
    pyhmmer's searches share theirs with it. Every other search takes its share of the free cores with
    the searches still ready, at least one."""
    running = list(running)
    hhsuite_held = sum(threads for _, other, threads in running if other.tool in HHSUITE_TOOLS)
    if search.tool == "jackhmmer":
        others = [other for other in (*ready, *(other for _, other, _ in running)) if other.tool == "jackhmmer"]
        return 1 if others else max(1, cpus - hhsuite_held)
    if search.after is not None:
        return max(1, cpus - hhsuite_held)
    free = cpus - sum(threads for _, _, threads in running)
    return max(1, free // (len(ready) + 1))


def _no_search_templates(query: QueryRecord, zero_template: bool = False) -> dict:
    """No template search: AlphaFold2's empty template features (every array of shape (0,)), or for the
    multimer model one all-zero template."""
    from foldkit.templates import no_template_features

    option = "--pdb-seqres" if zero_template else "--pdb70"
    return {"features": no_template_features(len(query.sequence), zero_template=zero_template),
            "log": [f"no template search (no {option})"], "num_templates": 0}


def _header(query: QueryRecord) -> str:
    """The FASTA header AlphaFold2 reads (its ``domain_name`` and the search tools' query name)."""
    return f"{query.name} {query.description}".strip()


_HHR_HIT = re.compile(r"^\s*\d+\s+\S")


def _count_hits(search: _Search, text: str) -> int:
    """Hits in a search output: Stockholm/A3M rows besides the query, HHR summary lines."""
    if search.tool == "hhsearch":
        table = text.split("\n No Hit", 1)[-1].split("\nNo 1", 1)[0]
        return sum(1 for line in table.splitlines()[1:] if _HHR_HIT.match(line))
    if search.tool == "hmmsearch":     # hmmsearch -A: every row is a hit (no query row)
        return len({line.split()[1] for line in text.splitlines() if line.startswith("#=GS ")})
    if search.file.endswith(".a3m"):
        return max(0, text.count("\n>") + text.startswith(">") - 1)
    names = {line.split()[1] for line in text.splitlines() if line.startswith("#=GS ")}
    return max(0, len(names) - 1)
