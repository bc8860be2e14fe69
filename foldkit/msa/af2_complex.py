"""AlphaFold-Multimer v2.3's input pipeline for a complex: per-chain searches, then multimer features.

For a :class:`~foldkit.io.complexes.Complex` and an MSA folder (AlphaFold2's
``<output>/<name>/msas/``):

1. ``chain_id_map.json`` (chain id -> description and sequence, as AlphaFold2
   writes it);
2. per distinct sequence the monomer searches of
   :class:`~foldkit.msa.af2_pipeline.Af2InputPipeline` into ``msas/<chain id>/``
   (query named ``chain_<id>``, as AlphaFold-Multimer names it): UniRef90,
   MGnify, BFD + UniRef30 or small BFD, hmmsearch templates on pdb_seqres
   (``pdb_hits.sto``), and for heteromers the UniProt search
   (``uniprot_hits.sto``). The searches of all chains share the ``cpus`` cores
   (one chain's short searches run beside another chain's HHblits). Copies of
   a chain (homomers) reuse its folder, so a homodimer has only ``msas/A/``.
   Files already there are reused as in the monomer pipeline (same query,
   databases and settings; or any file with ``--use-precomputed-msas``);
3. each chain's raw features (+ ``*_all_seq`` from the UniProt MSA), then
   :func:`foldkit.features.multimer.complex_features_from_chain_features`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from foldkit.errors import InputError
from foldkit.features.multimer import chain_description, complex_features_from_chain_features
from foldkit.features.multimer_chain import pairing_msa_features
from foldkit.io.atomic import atomic_write_text
from foldkit.io.complexes import Complex
from foldkit.msa import af2_files as files
from foldkit.msa.af2_pipeline import Af2InputPipeline, Af2Query, Af2Settings
from foldkit.msa.jackhmmer import QueryRecord

Log = Callable[[str], None]


@dataclasses.dataclass
class ComplexInputs:
    """The pipeline's result for one complex."""

    features: dict[str, np.ndarray]                 # padded multimer features (the network's input)
    chain_features: dict[str, dict[str, np.ndarray]]   # raw features per distinct chain (first-copy id)
    timings: dict[str, float]                       # per chain "<id>/<step>", plus "features" (whole pipeline)
    template_logs: dict[str, list[str]]             # per distinct chain
    searched: list[str]                             # files searched in this run ("A/uniref90_hits.sto", ...)


def chain_id_map_text(complex_: Complex) -> str:
    """``chain_id_map.json`` as AlphaFold2 writes it (4-space indent, sorted keys, no final newline)."""
    return json.dumps(complex_.chain_id_map(), indent=4, sort_keys=True)


class ComplexSearchPipeline:
    """Runs the multimer input pipeline for complexes of one run (databases, binaries and mmCIF cache shared)."""

    def __init__(self, settings: Af2Settings, log: Log = print):
        if settings.databases.model_preset != "multimer":
            raise ValueError("complexes need multimer databases: resolve_databases(..., model_preset='multimer')")
        self.settings = settings
        self.log = log
        self.chains = Af2InputPipeline(settings, log)

    def run(self, complex_: Complex, msa_dir: Path) -> ComplexInputs:
        """Search (or reuse) every distinct chain into ``msa_dir/<chain id>/``, then featurize."""
        start = time.perf_counter()
        msa_dir = Path(msa_dir)
        msa_dir.mkdir(parents=True, exist_ok=True)
        self._write_chain_id_map(complex_, msa_dir)
        chain_features: dict[str, dict] = {}
        timings: dict[str, float] = {}
        logs: dict[str, list[str]] = {}
        searched: list[str] = []
        queries = []
        for chain in complex_.distinct_chains:
            copies = [c.chain_id for c in complex_.chains if c.entity_id == chain.entity_id]
            queries.append(Af2Query(QueryRecord(chain_description(chain), "", chain.sequence), msa_dir / chain.chain_id,
                                    prefix=f"{complex_.id} chain {'/'.join(copies)}: ", pairing=complex_.is_heteromer))
        for chain, inputs in zip(complex_.distinct_chains, self.chains.run_many(queries)):
            raw = dict(inputs.raw_features)
            if complex_.is_heteromer:
                pairing = inputs.pairing_msa
                if pairing is None:          # no UniProt database: the query is the only row to pair
                    from foldkit.io.msa_files import Msa

                    pairing = Msa.single_sequence(chain.sequence, chain_description(chain))
                raw.update(pairing_msa_features(pairing, self.settings.uniprot_max_hits))
            chain_features[chain.chain_id] = raw
            timings.update({f"{chain.chain_id}/{step}": seconds for step, seconds in inputs.timings.items()})
            logs[chain.chain_id] = inputs.template_log
            searched += [f"{chain.chain_id}/{name}" for name in inputs.searched]
        t0 = time.perf_counter()
        features = complex_features_from_chain_features(complex_, chain_features)
        timings["multimer_features"] = round(time.perf_counter() - t0, 3)
        timings["features"] = round(time.perf_counter() - start, 3)
        self.log(f"{complex_.id}: multimer features: {int(features['num_alignments'])} MSA rows "
                 f"({features['msa'].shape[0]} after padding), {int(features['num_templates'])} templates of "
                 f"the first chain, {int(features['seq_length'])} residues")
        return ComplexInputs(features, chain_features, timings, logs, searched)

    def _write_chain_id_map(self, complex_: Complex, msa_dir: Path) -> None:
        """Write ``chain_id_map.json``; with precomputed MSAs an existing one must describe the same chains."""
        path = msa_dir / files.CHAIN_ID_MAP
        text = chain_id_map_text(complex_)
        if path.is_file():
            try:
                existing = json.loads(files.read_text(path))
            except ValueError:
                existing = None
            stored = {k: v.get("sequence") for k, v in existing.items()} if isinstance(existing, dict) else None
            if stored is not None and stored != {c.chain_id: c.sequence for c in complex_.chains}:
                if self.settings.use_precomputed_msas:
                    raise InputError("this MSA folder belongs to another complex (its chain_id_map.json lists other "
                                     "chains); --use-precomputed-msas would reuse the wrong searches",
                                     path=str(path))
            if existing is not None and files.read_text(path) == text:
                return
        atomic_write_text(path, text)


def validate_complex_msa_folder(msa_dir: Path, complex_: Complex) -> list[str]:
    """Check an existing complex MSA folder before a run reuses it (``--use-precomputed-msas``): its
    ``chain_id_map.json`` (when present) must list the complex's chains, and every search output in
    ``<chain id>/`` must parse for that chain (InputError naming the file otherwise). Returns the files found
    (``A/uniref90_hits.sto``, ...)."""
    msa_dir = Path(msa_dir)
    found = []
    path = msa_dir / files.CHAIN_ID_MAP
    if path.is_file():
        try:
            stored = json.loads(files.read_text(path))
            sequences = {k: v["sequence"] for k, v in stored.items()}
        except (ValueError, TypeError, KeyError, AttributeError):
            raise InputError("not AlphaFold2's chain_id_map.json (chain id -> description, sequence)",
                             path=str(path)) from None
        if sequences != {c.chain_id: c.sequence for c in complex_.chains}:
            raise InputError(f"this MSA folder belongs to another complex: its chains are {', '.join(sequences)} "
                             f"with other sequences than complex '{complex_.id}'", path=str(path))
        found.append(files.CHAIN_ID_MAP)
    for chain in complex_.distinct_chains:
        folder = msa_dir / chain.chain_id
        if folder.is_dir():
            found += [f"{chain.chain_id}/{name}" for name in files.validate_msa_folder(folder, chain.sequence)]
    return found


def complex_features_from_searches(complex_: Complex, af2_settings: Af2Settings, msa_dir: Path,
                                   cpus: int | None = None, log: Log = print) -> dict[str, np.ndarray]:
    """The padded multimer features of a complex from AlphaFold-Multimer's searches (see the module
    docstring). ``af2_settings.databases`` must be multimer databases; ``cpus`` overrides its core count.
    Keep a :class:`ComplexSearchPipeline` to run several complexes with one mmCIF cache and one pdb_seqres."""
    settings = dataclasses.replace(af2_settings, cpus=cpus) if cpus else af2_settings
    return ComplexSearchPipeline(settings, log).run(complex_, msa_dir).features
