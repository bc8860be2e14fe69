"""The MSAs and multimer features of a complex record (``foldkit predict`` on ``SEQA:SEQB`` records).

A complex's MSAs come from the run's MSA source (:mod:`foldkit.predict.inputs`):

* none / ``--single-sequence``: each chain's query alone
  (:func:`foldkit.features.multimer.single_sequence_complex_features`);
* ``--msa DIR`` (or ``--msa FILE`` when the FASTA holds one complex), per
  complex ``<id>`` (or its file-safe name):

  - one alignment per distinct chain, ``<id>_<chain>.a3m`` (or ``.sto``;
    ``<chain>`` is the id of the sequence's first copy: ``c_A.a3m`` and
    ``c_B.a3m`` for ``>c`` / ``SEQA:SEQB:SEQB``), query first; and, for a
    heteromer, optionally ``<id>_<chain>.paired.a3m`` for every distinct
    chain, paired by row (row k of every file is one paired row: ColabFold's
    paired MSAs); without them only the queries are paired;
  - or ColabFold's complex A3M ``<id>.a3m`` (first line
    ``#<lengths>\\t<copies>``), split into paired and unpaired rows by
    :func:`foldkit.io.colabfold_a3m.read_colabfold_complex_a3m` where it exists;

* ``--db``: a jackhmmer search per distinct chain, kept in the record folder
  as ``msa_search_<chain>.a3m`` (+ ``.json``, see
  :mod:`foldkit.predict.saved_search`) and reused by later runs; for a
  heteromer the hits are also the pairing MSAs (rows with UniProt-style names
  are paired by species, as AlphaFold-Multimer pairs its UniProt hits);
* ``--msa-server``: the server's MSAs per distinct chain and its paired rows
  (:meth:`foldkit.predict.server_msas.ServerRecordInputs.complex_features`);
* ``--af2-data-dir``: AlphaFold-Multimer's input pipeline (per-chain
  searches under ``<record>/msas/<chain>/``, UniProt pairing, templates) by
  :func:`foldkit.msa.af2_complex.complex_features_from_searches`.

Every file is read and checked before the first output of the run
(:func:`attach_complex_msas`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from foldkit.errors import InputError
from foldkit.io.complexes import Complex, ComplexChain
from foldkit.io.msa_files import Msa, read_msa
from foldkit.predict import saved_search

Log = Callable[[str], None]
MSA_SUFFIXES = (".a3m", ".a3m.gz", ".sto", ".sto.gz")
PAIRED_SUFFIX = ".paired.a3m"


@dataclasses.dataclass(frozen=True)
class ComplexMsas:
    """Given alignments of a complex, keyed by the id of each distinct chain's first copy."""

    unpaired: dict[str, Msa]
    paired: dict[str, Msa] | None = None      # paired by row (row k of every chain is one paired row)
    files: tuple[str, ...] = ()

    def resume_description(self) -> list[str]:
        return [Path(f).name for f in self.files]


def _stems(record_id: str, folder_name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((record_id, folder_name)))


def _chain_file(folder: Path, stems: tuple[str, ...], chain: ComplexChain, suffixes: tuple[str, ...]
                ) -> Path | None:
    for stem in stems:
        for suffix in suffixes:
            candidate = folder / f"{stem}_{chain.chain_id}{suffix}"
            if candidate.is_file() and candidate.resolve().parent == folder.resolve():
                return candidate
    return None


def _is_colabfold_a3m(path: Path) -> bool:
    from foldkit.io.textfile import read_text

    first = next((line for line in read_text(path).splitlines() if line.strip()), "")
    return first.startswith("#")


def _read_colabfold(path: Path, complex_: Complex) -> ComplexMsas:
    try:
        from foldkit.io.colabfold_a3m import read_colabfold_complex_a3m
    except ImportError:
        raise InputError("ColabFold complex A3M files are not readable by this foldkit version; give one "
                         "<id>_<chain>.a3m per chain", path=str(path)) from None
    unpaired, paired = read_colabfold_complex_a3m(path, complex_)
    return ComplexMsas(dict(unpaired), None if paired is None else dict(paired), (str(path),))


def find_complex_msas(msa_path: Path, complex_: Complex, folder_name: str) -> ComplexMsas:
    """The alignments of a complex from ``--msa`` (a folder, or one file for a one-complex FASTA)."""
    if not msa_path.is_dir():
        if not _is_colabfold_a3m(msa_path):
            raise InputError(f"--msa FILE for complex '{complex_.id}' must be ColabFold's complex A3M (first line "
                             "'#<lengths>\\t<copies>'); per-chain alignments go in a folder as "
                             "<id>_<chain>.a3m", path=str(msa_path))
        return _read_colabfold(msa_path, complex_)
    stems = _stems(complex_.id, folder_name)
    distinct = complex_.distinct_chains
    chain_files = {chain.chain_id: _chain_file(msa_path, stems, chain, MSA_SUFFIXES) for chain in distinct}
    if not any(chain_files.values()):
        for stem in stems:
            whole = msa_path / f"{stem}.a3m"
            if whole.is_file() and whole.resolve().parent == msa_path.resolve() and _is_colabfold_a3m(whole):
                return _read_colabfold(whole, complex_)
    missing = [chain.chain_id for chain in distinct if chain_files[chain.chain_id] is None]
    if missing:
        expected = ", ".join(f"{folder_name}_{c.chain_id}.a3m" for c in distinct)
        raise InputError(f"no MSA for chain{'s' * (len(missing) > 1)} {', '.join(missing)} of complex "
                         f"'{complex_.id}' in this folder (expected {expected}, or ColabFold's complex A3M "
                         f"{folder_name}.a3m)", path=str(msa_path))
    unpaired = {chain.chain_id: read_msa(chain_files[chain.chain_id], chain.sequence) for chain in distinct}
    files = [str(chain_files[c.chain_id]) for c in distinct]
    paired_files = {chain.chain_id: _chain_file(msa_path, stems, chain, (PAIRED_SUFFIX,)) for chain in distinct}
    given = [c for c in distinct if paired_files[c.chain_id] is not None]
    if not given or not complex_.is_heteromer:
        return ComplexMsas(unpaired, None, tuple(files))
    if len(given) != len(distinct):
        absent = [c.chain_id for c in distinct if paired_files[c.chain_id] is None]
        raise InputError(f"complex '{complex_.id}': paired MSAs are given for chains "
                         f"{', '.join(c.chain_id for c in given)} but not for {', '.join(absent)}; paired row k "
                         "must exist in every chain", path=str(msa_path))
    paired = {c.chain_id: read_msa(paired_files[c.chain_id], c.sequence) for c in distinct}
    rows = {len(msa) for msa in paired.values()}
    if len(rows) != 1:
        raise InputError(f"complex '{complex_.id}': the paired MSAs have different numbers of rows "
                         f"({', '.join(f'{k}: {len(m)}' for k, m in paired.items())})", path=str(msa_path))
    return ComplexMsas(unpaired, paired, tuple(files + [str(paired_files[c.chain_id]) for c in distinct]))


def attach_complex_msas(inputs: list, source) -> list:
    """The records with the given MSAs of every complex attached (``--msa``); others unchanged."""
    if source.mode != "custom":
        return inputs
    return [dataclasses.replace(record, complex_msas=find_complex_msas(source.msa_path, record.complex,
                                                                       record.folder_name))
            if record.complex is not None else record for record in inputs]


# --------------------------------------------------------------------------- features

class ComplexFeatures:
    """Builds the multimer features of complex records for one run (databases loaded once)."""

    def __init__(self, source, log: Log, server_inputs: Callable[[], object] | None = None):
        self.source = source
        self.log = log
        self.server_inputs = server_inputs      # the run's ServerRecordInputs (--msa-server)
        self._databases = None
        self._pipeline = None

    def features(self, record, record_dir: Path, timer) -> dict[str, np.ndarray]:
        """The padded multimer features of a complex record (see the module docstring)."""
        from foldkit.features import multimer as multimer_features

        complex_ = record.complex
        mode = self.source.mode
        if self.source.af2_multimer is not None:
            return self._searched(complex_, record_dir, timer)
        if self.source.server is not None:
            return self.server_inputs().complex_features(record, record_dir, timer)
        if mode == "custom":
            given = record.complex_msas
            with timer.stage("features"):
                return multimer_features.complex_features_from_a3m(complex_, given.unpaired, given.paired)
        if mode == "jackhmmer":
            with timer.stage("msa"):
                searched = {chain.chain_id: self._search(chain, record_dir) for chain in complex_.distinct_chains}
            with timer.stage("features"):
                pairing = searched if complex_.is_heteromer else None
                return multimer_features.complex_features_from_a3m(complex_, searched, pairing_msas=pairing)
        with timer.stage("features"):
            return multimer_features.single_sequence_complex_features(complex_)

    def _searched(self, complex_: Complex, record_dir: Path, timer) -> dict[str, np.ndarray]:
        """AlphaFold-Multimer's input pipeline into ``<record>/msas/`` (one pipeline per run)."""
        from foldkit.msa.af2_complex import ComplexSearchPipeline

        if self._pipeline is None:
            self._pipeline = ComplexSearchPipeline(self.source.af2_multimer, self.log)
        result = self._pipeline.run(complex_, record_dir / "msas")
        for name, seconds in result.timings.items():
            timer.add(name, seconds)
        return result.features

    def _search(self, chain: ComplexChain, record_dir: Path) -> Msa:
        from foldkit.io.msa_files import merge_msas
        from foldkit.msa.search import SequenceDatabase, search_msa

        key = saved_search.search_key(chain.sequence, self.source.databases)
        stem = saved_search.chain_stem(chain.chain_id)
        saved = saved_search.load(record_dir, key, stem)
        if saved is not None:
            self.log(f"chain {chain.chain_id}: reusing the saved search {record_dir / (stem + '.a3m')}")
            return saved
        if self._databases is None:
            self._databases = [SequenceDatabase.from_fasta(path) for path in self.source.databases]
        self.log(f"chain {chain.chain_id}: jackhmmer search ({len(chain)} aa)")
        msa = merge_msas([search_msa(f"chain_{chain.chain_id}", chain.sequence, database, progress=False)
                          for database in self._databases])
        saved_search.save(record_dir, key, msa, stem)
        return msa
