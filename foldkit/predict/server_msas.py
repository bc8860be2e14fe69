"""A record's raw features from an MMseqs2 server (``foldkit predict --msa-server [URL]``).

Before the first record is predicted, one call of
:func:`foldkit.msa.server.fetch_server_msas` fetches the MSAs of every record
of the run that is not finished yet (one server job for all of them), caching
the downloaded files in each record's ``msas/server/`` folder, so a rerun, a
resumed run or ``--overwrite`` sends nothing. Each record's MSA is then the
server's UniRef30 rows followed by its environmental rows (ColabFold's
order), deduplicated, and is featurized exactly as a local MSA (``msa.a3m``,
``features.npz``); ``msa_mode`` is ColabFold's name for the source,
``mmseqs2_uniref_env`` or (``--msa-server-uniref-only``) ``mmseqs2_uniref``.

Templates (``--templates``), as ColabFold makes them: HHsearch of the query's
server A3M (its UniRef30 entry followed by its environmental entry, as
downloaded) against the pdb70 subset of the server's template archive, then
AlphaFold2's template featurization of the hits from the archive's mmCIF
files (:class:`foldkit.templates.TemplateFeaturizer`; at most 20 hits, no
obsolete-PDB list: the archive has none). ColabFold applies no release-date
cut-off (it passes 2100-01-01); foldkit does the same unless
``--max-template-date`` is given (useful to benchmark on targets released
after a date). A hit whose mmCIF file the archive lacks is skipped with a log
line. The HHsearch output is kept as ``msas/server/templates_pdb70.hhr``.
Without ``--templates`` no template features are written (as for the other
local MSA sources); with it, a record without hits gets AlphaFold2's empty
template features. The models that use templates receive them.

Complexes (``SEQA:SEQB`` records and ``--model-preset multimer`` files): the
server gets the complex's chains; one MSA job covers every distinct chain
sequence of the run and each heteromer gets a pairing job
(``ServerSource.pairing``), as ColabFold's client does. A complex's multimer
features are then made as from ColabFold's complex A3M
(:func:`foldkit.features.multimer.complex_features_from_a3m`): each distinct
chain's UniRef + environmental rows as its own MSA, the server's paired rows
(row k of every chain is one paired hit) as the paired block; homomers are not
paired. With ``--templates``, each distinct chain is searched with HHsearch
like a single chain (``msas/server/templates_pdb70_<chain>.hhr``) and its
hits featurized per chain.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import Path
from typing import Callable

from foldkit.features.raw import make_raw_features
from foldkit.io.atomic import atomic_write_text
from foldkit.msa import hhsuite
from foldkit.predict.input_pipeline import RecordFeatures
from foldkit.predict.inputs import RecordInput

Log = Callable[[str], None]
TEMPLATE_HHR = "templates_pdb70.hhr"
NO_DATE_LIMIT = datetime.date.max          # ColabFold passes 2100-01-01: every template is allowed


@dataclasses.dataclass(frozen=True)
class ServerSource:
    """The ``--msa-server`` options of a prediction run."""

    url: str                                    # --msa-server [URL] (no trailing '/')
    use_env: bool = True                        # False: --msa-server-uniref-only
    templates: bool = False                     # --templates
    max_template_date: datetime.date | None = None   # --max-template-date (None: no cut-off, as ColabFold)
    pairing: str = "greedy"                     # pairing strategy for complexes (multimer)
    hhsearch_binary: str | None = None          # --hhsearch-binary (None: PATH)
    kalign_binary: str | None = None            # --kalign-binary
    progress: bool = True                       # a progress line while waiting for the server

    @property
    def msa_mode(self) -> str:
        """ColabFold's ``msa_mode`` name for this source."""
        return "mmseqs2_uniref_env" if self.use_env else "mmseqs2_uniref"

    def resume_description(self, kind: str = "monomer") -> dict:
        """What a finished prediction of this kind ('monomer' / 'multimer') must share with this run to be
        skipped (complexes: the pairing strategy too)."""
        described = {"url": self.url, "templates": self.templates,
                     "max_template_date": None if self.max_template_date is None
                     else self.max_template_date.isoformat()}
        if kind == "multimer":
            described["pairing"] = self.pairing
        return {"msa_server": described}

    def check(self) -> "ServerSource":
        """Fail before anything is sent: the binaries the template step needs."""
        if not self.templates:
            return self
        return dataclasses.replace(
            self, hhsearch_binary=hhsuite.find_binary("hhsearch", self.hhsearch_binary,
                                                      "the template search of --templates"),
            kalign_binary=hhsuite.find_binary("kalign", self.kalign_binary, "template realignment (--templates)"))


def record_cache_dir(record_dir: Path) -> Path:
    """``<record>/msas/server``."""
    from foldkit.msa.server import record_cache_dir as cache_dir

    return cache_dir(record_dir)


def _server_query(record: RecordInput) -> tuple[str, str | list[str]]:
    """What the server gets for a record: (record id, sequence), or (record id, chain sequences in input order)
    for a complex."""
    if record.complex is not None:
        return record.query.id, [chain.sequence for chain in record.complex.chains]
    return record.query.id, record.query.sequence


def _rows(result) -> str:
    """MSA rows of a record's result for the log: '88', or '88+120' per distinct chain of a complex."""
    counts = dict.fromkeys((chain.sequence, len(chain.unpaired)) for chain in result.chains)
    return "+".join(str(rows) for _, rows in counts)


def _remove_empty_folders(folders: list[Path]) -> None:
    """Remove the folders (deepest first) and their subfolders when nothing was written in them."""
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if not folder.is_dir():
            continue
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                sub.rmdir()
            except OSError:
                pass
        try:
            folder.rmdir()
        except OSError:
            pass


class ServerRecordInputs:
    """MSAs (and templates) from the server for the records of one run."""

    def __init__(self, source: ServerSource, log: Log):
        self.source = source.check()
        self.log = log
        self._results: dict = {}
        self._featurizers: dict[Path, object] = {}

    def fetch(self, pending: list[tuple[RecordInput, Path]], outdir: Path | None = None) -> None:
        """One server call for every record of ``pending`` ((record, record folder)), results cached.

        A failure (a server error, Ctrl-C) removes the folders this call created
        and left empty; cached downloads and saved tickets stay for the next run.
        """
        from foldkit.msa.server import fetch_server_msas   # looked up now: tests swap in fast settings

        if not pending:
            self.log(f"msa-server: every record is finished; nothing is sent to {self.source.url}")
            return
        created = [folder for folder in [outdir, *(d for _, d in pending)] if folder is not None
                   and not folder.exists()]
        start = time.perf_counter()
        try:
            results = fetch_server_msas([_server_query(record) for record, _ in pending],
                                        {record.query.id: record_cache_dir(folder) for record, folder in pending},
                                        url=self.source.url, use_env=self.source.use_env,
                                        pairing=self.source.pairing, templates=self.source.templates,
                                        log=self.log, progress=self.source.progress)
        except BaseException:
            _remove_empty_folders(created)
            raise
        self._results.update(results)
        rows = ", ".join(f"{record.query.id} {_rows(results[record.query.id])}" for record, _ in pending[:4])
        more = f" (+{len(pending) - 4} more)" if len(pending) > 4 else ""
        self.log(f"msa-server: MSAs of {len(pending)} record(s) ready in {time.perf_counter() - start:.1f} s "
                 f"(MSA rows: {rows}{more})")

    def _result(self, record: RecordInput, record_dir: Path):
        """The record's cached server results (fetched now if not yet)."""
        if record.query.id not in self._results:
            self.fetch([(record, record_dir)])
        return self._results[record.query.id]

    def features(self, record: RecordInput, record_dir: Path, prefix: str = "") -> RecordFeatures:
        """Raw features of one single-chain record from its cached server results."""
        result = self._result(record, record_dir)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        msa = result.unpaired
        timings["msa"] = round(time.perf_counter() - start, 3)
        template_features = None
        if self.source.templates:
            t0 = time.perf_counter()
            template_features, note = self._templates(record.query.sequence, result.chains[0],
                                                      record_cache_dir(record_dir) / TEMPLATE_HHR)
            timings["templates"] = round(time.perf_counter() - t0, 3)
            self.log(f"{prefix}{note}")
        t0 = time.perf_counter()
        raw = make_raw_features(record.query.sequence, [msa], description=record.query.id,
                                template_features=template_features)
        timings["features"] = round(time.perf_counter() - t0, 3)
        self.log(f"{prefix}features: {len(msa)} MSA sequences from {self.source.url}"
                 + (f", {raw['template_domain_names'].shape[0]} templates" if self.source.templates else ""))
        return RecordFeatures(raw, msa, timings)

    def complex_features(self, record: RecordInput, record_dir: Path, timer) -> dict:
        """The padded multimer features of a complex record from its cached server results."""
        from foldkit.features.multimer import complex_features_from_a3m
        from foldkit.msa.server.results import complex_chain_msas

        complex_ = record.complex
        result = self._result(record, record_dir)
        unpaired, paired = complex_chain_msas(result, complex_)
        templates = None
        if self.source.templates:
            with timer.stage("templates"):
                templates = {}
                for chain in complex_.distinct_chains:
                    hhr_path = record_cache_dir(record_dir) / f"{Path(TEMPLATE_HHR).stem}_{chain.chain_id}.hhr"
                    found = result.chains[complex_.chains.index(chain)]
                    templates[chain.chain_id], note = self._templates(chain.sequence, found, hhr_path)
                    self.log(f"chain {chain.chain_id}: {note}")
        with timer.stage("features"):
            features = complex_features_from_a3m(complex_, unpaired, paired, templates)
        self.log(f"features: {' '.join(f'{k} {len(m)}' for k, m in unpaired.items())} unpaired rows, "
                 f"{len(next(iter(paired.values()))) if paired else 1} paired rows from {self.source.url}")
        return features

    # ------------------------------------------------------------------ templates

    def _templates(self, sequence: str, chain, hhr_path: Path) -> tuple[dict, str]:
        """(template features, a log line) of one chain from the server's template data; HHsearch's output is
        kept at ``hhr_path``."""
        from foldkit.templates import no_template_features, parse_hhr

        if chain.template_dir is None:
            return no_template_features(len(sequence)), "templates: the server found no pdb70 hit"
        hhr = hhsuite.hhsearch(self.source.hhsearch_binary, self._query_a3m(chain), chain.template_dir / "pdb70").text
        atomic_write_text(hhr_path, hhr)
        hits = parse_hhr(hhr, hhr_path)
        present = [hit for hit in hits if self._has_structure(chain.template_dir, hit)]
        featurizer = self._featurizer(chain.template_dir)
        result = featurizer.from_hits(sequence, present, hmmsearch=False, path=hhr_path)
        missing = len(hits) - len(present)
        note = (f"templates: hhsearch on the server's pdb70 subset: {len(hits)} hits, {result.num_templates} "
                f"templates" + (f" ({missing} hits skipped: no mmCIF file in the server's archive)" if missing else ""))
        return result.features, note

    @staticmethod
    def _query_a3m(chain) -> str:
        """The query A3M ColabFold gives HHsearch: the UniRef30 entry, then the environmental one, as downloaded."""
        from foldkit.msa.server import protocol as api

        names = [api.UNIREF_A3M] + ([api.ENV_A3M] if (chain.entry_dir / api.ENV_A3M).is_file() else [])
        return "".join((chain.entry_dir / name).read_text() for name in names)

    @staticmethod
    def _has_structure(template_dir: Path, hit) -> bool:
        from foldkit.errors import InputError
        from foldkit.templates.filters import pdb_id_and_chain

        try:
            pdb_id, _ = pdb_id_and_chain(hit)
        except InputError:
            return True               # the featurizer reports the bad name
        return (template_dir / f"{pdb_id}.cif").is_file() or (template_dir / f"{pdb_id}.cif.gz").is_file()

    def _featurizer(self, template_dir: Path):
        """One featurizer per template folder (it caches the parsed mmCIF files)."""
        from foldkit.templates import TemplateFeaturizer, TemplateSettings

        if template_dir not in self._featurizers:
            self._featurizers[template_dir] = TemplateFeaturizer(TemplateSettings(
                mmcif_dir=template_dir, max_template_date=self.source.max_template_date or NO_DATE_LIMIT,
                obsolete_pdbs=None, max_hits=20, kalign_binary=self.source.kalign_binary or "kalign"))
        return self._featurizers[template_dir]

