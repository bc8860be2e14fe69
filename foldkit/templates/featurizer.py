"""From template hits to template features, hit by hit, with AlphaFold2 v2.3's decisions and log.

Per hit (:meth:`TemplateFeaturizer.process_hit`), in AlphaFold2's order:

1. PDB id and chain from the hit name; an obsolete id without successor is
   skipped ("Hit <id> is obsolete."), one with a successor is read from the
   successor's file;
2. the prefilter (:func:`~foldkit.templates.filters.prefilter`);
3. the mmCIF entry (cached); an entry AlphaFold2 cannot parse is skipped with a
   warning; one released after ``max_template_date`` is dropped;
4. the hit's template sequence located in the SEQRES, or realigned to the
   chain's SEQRES with Kalign when it is not there;
5. atoms -> features (a chain without usable atoms is skipped with a warning).

Over the hits: HHsearch hits are taken in decreasing ``sum_probs`` (stable) until
``max_hits`` templates are kept; hmmsearch hits in file order until ``max_hits``
distinct template sequences are kept (a hit repeating a kept
``template_sequence`` is dropped, e.g. the second chain of a homodimer).

The log has AlphaFold2's lines ("Searching for template for: ...", "Found an
exact template match 1igy_B.", "hit 1f2n_A did not pass prefilter: ...",
"Template 1igy date (...) > max template date (...).", "Skipped invalid hit
..."), so it can be compared with AlphaFold2's log line by line; the
``decisions`` give the same outcome as records (duplicates included).
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from foldkit.errors import InputError
from foldkit.templates import filters
from foldkit.templates.features import (TemplateFeatureError, locate_in_entry, query_to_template_mapping,
                                        single_template_features, stack_templates)
from foldkit.templates.hits import TemplateHit, parse_hhr, parse_hmmsearch_sto
from foldkit.templates.mmcif import ChainAtomsError, MmcifCache, MmcifEntry
from foldkit.templates.realign import RealignError, realign_to_chain


@dataclasses.dataclass(frozen=True)
class TemplateSettings:
    """Where template structures come from and AlphaFold2's template-search limits."""

    mmcif_dir: Path                           # <data>/pdb_mmcif/mmcif_files (<pdb id>.cif[.gz])
    max_template_date: datetime.date          # templates released later are dropped
    obsolete_pdbs: Path | None = None         # <data>/pdb_mmcif/obsolete.dat
    max_hits: int = 20                        # AlphaFold2's MAX_TEMPLATE_HITS (the model uses the first 4)
    kalign_binary: str = "kalign"
    kalign_timeout_s: float = 300.0
    max_subsequence_ratio: float = 0.95
    min_align_ratio: float = 0.1
    max_ca_ca_distance: float = 150.0
    mmcif_cache_entries: int = 512            # parsed mmCIF entries kept across queries

    def __post_init__(self):
        date = self.max_template_date
        if isinstance(date, datetime.datetime):
            object.__setattr__(self, "max_template_date", date.date())
        elif isinstance(date, str):
            try:
                object.__setattr__(self, "max_template_date", datetime.date.fromisoformat(date))
            except ValueError:
                raise InputError(f"max template date {date!r} is not YYYY-MM-DD") from None
        object.__setattr__(self, "mmcif_dir", Path(self.mmcif_dir))
        if self.obsolete_pdbs is not None:
            object.__setattr__(self, "obsolete_pdbs", Path(self.obsolete_pdbs))


@dataclasses.dataclass(frozen=True)
class HitDecision:
    """What happened to one hit."""

    index: int                 # the hit's rank in the search output
    name: str                  # the hit name as in the search output
    template: str | None       # domain name of the template it was read as ("1ncb_H")
    kept: bool
    reason: str                # "kept", "obsolete", "prefilter: ...", "date", "duplicate", "warning: ...", ...


@dataclasses.dataclass
class TemplateResult:
    """Template features of one query and how each hit was treated."""

    features: dict[str, np.ndarray]
    log: list[str]
    num_templates: int
    decisions: list[HitDecision] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class HitOutcome:
    """Result of one hit: features (None when skipped), AlphaFold2's error/warning, log lines."""

    features: dict | None
    error: str | None
    warning: str | None
    log: list[str]
    template: str | None
    reason: str


class TemplateSource(Protocol):
    """Where the structure of a hit comes from."""

    require_release_date: bool

    def split_name(self, hit: TemplateHit, path: str | None) -> tuple[str, str]: ...

    def entry(self, entry_id: str, cache: MmcifCache) -> MmcifEntry: ...


@dataclasses.dataclass(frozen=True)
class PdbMmcifSource:
    """AlphaFold2's template_mmcif_dir: ``<dir>/<pdb id>.cif`` (or ``.cif.gz``)."""

    mmcif_dir: Path
    require_release_date: bool = True

    def split_name(self, hit: TemplateHit, path: str | None) -> tuple[str, str]:
        return filters.pdb_id_and_chain(hit, path)

    def entry(self, entry_id: str, cache: MmcifCache) -> MmcifEntry:
        for candidate in (self.mmcif_dir / f"{entry_id}.cif", self.mmcif_dir / f"{entry_id}.cif.gz"):
            if candidate.is_file():
                return cache.get(candidate, entry_id)
        raise InputError(f"no mmCIF file for template hit {entry_id} in the template mmCIF folder "
                         f"(--template-mmcif-dir)", path=str(self.mmcif_dir / f"{entry_id}.cif"))


class TemplateFeaturizer:
    """Template features from search hits; reuse one instance across queries to keep parsed mmCIF files.

    Not thread-safe (the mmCIF cache): use one instance per thread, or a lock.
    """

    def __init__(self, settings: TemplateSettings):
        self.settings = settings
        self.cache = MmcifCache(settings.mmcif_cache_entries)
        self.source = PdbMmcifSource(settings.mmcif_dir)
        if not settings.mmcif_dir.is_dir():         # fail before any search runs
            raise InputError("template mmCIF folder not found (--template-mmcif-dir)", path=str(settings.mmcif_dir))
        path = settings.obsolete_pdbs
        # obsolete PDB id -> successor (None: removed)
        self.obsolete: dict[str, str | None] = filters.read_obsolete(path) if path is not None else {}

    # ------------------------------------------------------------------ entry points

    def from_hhr(self, query_sequence: str, hhr_text: str, path: str | Path | None = None) -> TemplateResult:
        """Features from HHsearch hits (monomer path: no template -> arrays of shape (0,))."""
        hits = parse_hhr(hhr_text, path)
        return self.from_hits(query_sequence, hits, hmmsearch=False, path=path)

    def from_hmmsearch_sto(self, query_sequence: str, sto_text: str,
                           path: str | Path | None = None) -> TemplateResult:
        """Features from hmmsearch hits (multimer path: no template -> one all-zero template)."""
        hits = parse_hmmsearch_sto(sto_text, query_sequence, path)
        return self.from_hits(query_sequence, hits, hmmsearch=True, path=path)

    def from_custom(self, query_sequence: str, search, *, zero_template_when_empty: bool = False
                    ) -> TemplateResult:
        """Features from :func:`~foldkit.templates.custom.custom_template_hits` (no template -> shape (0,)
        arrays unless ``zero_template_when_empty``, as for the multimer model)."""
        hits = parse_hmmsearch_sto(search.sto_text, query_sequence, "custom template search")
        return self.from_hits(query_sequence, hits, hmmsearch=True, source=search.source,
                              zero_template_when_empty=zero_template_when_empty)

    def from_hits(self, query_sequence: str, hits: list[TemplateHit], *, hmmsearch: bool,
                  path: str | Path | None = None, source: TemplateSource | None = None,
                  zero_template_when_empty: bool | None = None) -> TemplateResult:
        """Features from parsed hits. ``hmmsearch`` selects that path's order, de-duplication and
        empty convention (``zero_template_when_empty`` overrides the convention)."""
        where = str(path) if path is not None else None
        source = source or self.source
        log = [f"Searching for template for: {query_sequence}"]
        kept: list[dict] = []
        seen_sequences: set[str] = set()
        decisions: list[HitDecision] = []
        warnings: list[str] = []
        ordered = hits if hmmsearch and (not hits or hits[0].sum_probs is None) else \
            sorted(hits, key=lambda h: h.sum_probs or 0.0, reverse=True)
        for hit in ordered:
            count = len(seen_sequences) if hmmsearch else len(kept)
            if count >= self.settings.max_hits:
                break
            outcome = self.process_hit(query_sequence, hit, source, where)
            log.extend(outcome.log)
            if outcome.warning:
                warnings.append(outcome.warning)
            if outcome.features is None:
                log.append(f"Skipped invalid hit {hit.name}, error: {outcome.error}, warning: {outcome.warning}")
                decisions.append(HitDecision(hit.index, hit.name, outcome.template, False, outcome.reason))
                continue
            if hmmsearch:
                if outcome.features["template_sequence"] in seen_sequences:
                    decisions.append(HitDecision(hit.index, hit.name, outcome.template, False,
                                                 "duplicate template_sequence"))
                    continue
                seen_sequences.add(outcome.features["template_sequence"])
            kept.append(outcome.features)
            decisions.append(HitDecision(hit.index, hit.name, outcome.template, True, outcome.reason))
        empty_as_zero = hmmsearch if zero_template_when_empty is None else zero_template_when_empty
        features = stack_templates(kept, len(query_sequence), empty_as_zero)
        return TemplateResult(features, log, len(kept), decisions, warnings)

    # ------------------------------------------------------------------ one hit

    def process_hit(self, query_sequence: str, hit: TemplateHit, source: TemplateSource,
                    path: str | None = None) -> HitOutcome:
        """Features of one hit, or why it is skipped (AlphaFold2's error/warning and log lines)."""
        settings = self.settings
        entry_id, chain_id = source.split_name(hit, path)
        log: list[str] = []
        obsolete = self.obsolete if isinstance(source, PdbMmcifSource) else {}
        if entry_id in obsolete and obsolete[entry_id] is None:
            return HitOutcome(None, None, f"Hit {entry_id} is obsolete.", log, None, "obsolete (removed)")
        entry_id = obsolete.get(entry_id) or entry_id
        name = f"{entry_id}_{chain_id}"
        try:
            filters.prefilter(hit, query_sequence, settings.max_subsequence_ratio, settings.min_align_ratio)
        except filters.PrefilterError as exc:
            log.append(f"hit {name} did not pass prefilter: {exc}")
            return HitOutcome(None, None, None, log, name, f"prefilter: {exc}")
        mapping = query_to_template_mapping(hit, query_sequence, path)
        template_sequence = hit.hit_sequence.replace("-", "")
        entry = source.entry(entry_id, self.cache)
        if entry.problem is not None:
            warning = f"{name} (sum_probs: {hit.sum_probs}, rank: {hit.index}): no usable chains: {entry.problem}"
            return HitOutcome(None, None, warning, log, name, f"warning: {entry.problem}")
        if entry.release_date is None and source.require_release_date:
            raise InputError("no release date (_pdbx_audit_revision_history.revision_date) in the template "
                             "mmCIF file", path=entry.path)
        if filters.released_too_late(entry.release_date, settings.max_template_date):
            log.append(filters.date_message(entry_id, entry.release_date, settings.max_template_date))
            return HitOutcome(None, None, None, log, name, "date")
        warning = None
        located = locate_in_entry(entry, chain_id, template_sequence)
        if located is not None:
            chain_id, offset, how = located
            article = "an" if how.startswith("exact") else "a"
            log.append(f"Found {article} {how} match {entry_id}_{chain_id}.")
        else:
            warning = (f"The exact sequence {template_sequence} was not found in {entry_id}_{chain_id}. "
                       f"Realigning the template to the actual sequence.")
            log.append(warning)
            try:
                new_sequence = self._realign_target(entry, chain_id)
                mapping = realign_to_chain(template_sequence, new_sequence, mapping, settings.kalign_binary,
                                           settings.kalign_timeout_s)
            except RealignError as exc:
                error = f"{name} (sum_probs: {hit.sum_probs}, rank: {hit.index}): realignment failed: {exc}"
                return HitOutcome(None, error, None, log, name, f"error: {exc}")
            template_sequence, offset = new_sequence, 0
        domain_name = f"{entry_id.lower()}_{chain_id}"
        try:
            atoms = entry.chain_atoms(chain_id, settings.max_ca_ca_distance)
            features = single_template_features(query_sequence, atoms, mapping, template_sequence, offset,
                                                 domain_name)
        except (ChainAtomsError, TemplateFeatureError) as exc:
            skipped = f"{name} (sum_probs: {hit.sum_probs}, rank: {hit.index}): no template atoms: {exc}"
            return HitOutcome(None, None, skipped, log, domain_name, f"warning: {exc}")
        features["template_sum_probs"] = hit.sum_probs if hit.sum_probs is not None else 0.0
        return HitOutcome(features, None, warning, log, domain_name, "kept (realigned)" if warning else "kept")

    @staticmethod
    def _realign_target(entry: MmcifEntry, chain_id: str) -> str:
        """The SEQRES to realign to: the hit's chain, or the only chain of a single-chain entry."""
        sequence = entry.seqres.get(chain_id, "")
        if sequence:
            return sequence
        if len(entry.seqres) == 1:
            return next(iter(entry.seqres.values()))
        raise RealignError(f"no protein chain {chain_id} in {entry.entry_id}")
