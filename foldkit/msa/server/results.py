"""What the MSA server gives foldkit per record: Msa objects read back from the cache.

The unpaired MSA of a chain is ColabFold's: the UniRef entry followed by the
environmental entry (env modes), merged with :func:`foldkit.io.msa_files.merge_msas`
(exact duplicate rows dropped, first kept: the environmental query row goes),
which is also what AlphaFold2's ``make_msa_features`` does to the A3M text
ColabFold hands it. The paired rows of a complex are returned apart and are
not deduplicated: row i of every chain's paired Msa belongs to the same
paired hit (all-gap rows where a chain has no partner).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from foldkit.io.msa_files import Msa, merge_msas, read_a3m
from foldkit.msa.server import cache
from foldkit.msa.server import protocol as api
from foldkit.msa.server.archive import ArchiveError, ServerTemplateHit, parse_template_hits
from foldkit.errors import InputError


@dataclasses.dataclass(frozen=True)
class ChainServerMsa:
    """One chain of a record: its sequence and what the server found for it."""

    sequence: str
    unpaired: Msa                                  # UniRef (+ environmental) rows, deduplicated, query first
    paired: Msa | None                             # complexes with >= 2 distinct chains, when pairing was asked
    template_hits: tuple[ServerTemplateHit, ...]   # pdb70.m8 rows of this chain, server order
    template_hits_path: Path | None                # the cached pdb70.m8 (None if the archive had none)
    template_dir: Path | None                      # --templates: pdb70 subset + mmCIF files (None: not asked / no hits)
    entry_dir: Path                                # the cache folder holding the downloaded A3M files


@dataclasses.dataclass(frozen=True)
class ServerMsaResult:
    """The server's MSAs for one record, one :class:`ChainServerMsa` per chain in the record's order."""

    record_id: str
    chains: tuple[ChainServerMsa, ...]

    def _only_chain(self) -> ChainServerMsa:
        if len(self.chains) != 1:
            raise ValueError(f"record '{self.record_id}' has {len(self.chains)} chains; use .chains")
        return self.chains[0]

    @property
    def unpaired(self) -> Msa:
        """The monomer's MSA (records of one chain)."""
        return self._only_chain().unpaired

    @property
    def paired(self) -> Msa | None:
        return self._only_chain().paired

    @property
    def template_hits_path(self) -> Path | None:
        return self._only_chain().template_hits_path


def complex_chain_msas(result: ServerMsaResult, complex_) -> tuple[dict[str, Msa], dict[str, Msa] | None]:
    """(unpaired, paired) MSAs of a complex's distinct chains (a :class:`foldkit.io.complexes.Complex` whose
    chains are ``result``'s, in order), keyed by the id of each sequence's first copy; paired is None for a
    homomer or when the server returned no pairing."""
    position = {chain.chain_id: k for k, chain in enumerate(complex_.chains)}
    found = {chain.chain_id: result.chains[position[chain.chain_id]] for chain in complex_.distinct_chains}
    unpaired = {chain_id: chain.unpaired for chain_id, chain in found.items()}
    if not complex_.is_heteromer or any(chain.paired is None for chain in found.values()):
        return unpaired, None
    return unpaired, {chain_id: chain.paired for chain_id, chain in found.items()}


def _with_query_name(msa: Msa, name: str) -> Msa:
    """The server names the query '101'; foldkit names it after the record."""
    return dataclasses.replace(msa, descriptions=(name,) + msa.descriptions[1:])


def load_unpaired(entry_dir: Path, sequence: str, mode: str, query_name: str) -> Msa:
    names = [api.UNIREF_A3M] + ([api.ENV_A3M] if api.mode_uses_env(mode) else [])
    parts = [read_a3m(entry_dir / name, query_sequence=sequence) for name in names]
    return _with_query_name(merge_msas(parts), query_name)


def load_template_hits(entry_dir: Path) -> tuple[tuple[ServerTemplateHit, ...], Path | None]:
    path = entry_dir / api.TEMPLATE_M8
    if not path.is_file():
        return (), None
    try:
        return parse_template_hits(path.read_text(), str(path)), path
    except ArchiveError as problem:
        raise InputError(str(problem), path=str(path)) from None


def load_chain(record_id: str, cache_dir: Path, sequence: str, mode: str, *,
               pair_dir: Path | None = None, pair_index: int = 0, templates: bool = False) -> ChainServerMsa:
    """A chain's results from the cache (files written by :mod:`foldkit.msa.server.fetch`)."""
    entry_dir = cache.sequence_entry(cache_dir, mode, sequence)
    unpaired = load_unpaired(entry_dir, sequence, mode, record_id)
    paired = None
    if pair_dir is not None:
        paired = _with_query_name(read_a3m(pair_dir / cache.pair_file(pair_index), query_sequence=sequence),
                                  record_id)
    hits, hits_path = load_template_hits(entry_dir)
    template_dir = entry_dir / cache.TEMPLATE_FOLDER
    return ChainServerMsa(sequence=sequence, unpaired=unpaired, paired=paired, template_hits=hits,
                          template_hits_path=hits_path,
                          template_dir=template_dir if templates and template_dir.is_dir() else None,
                          entry_dir=entry_dir)
