"""Multimer input-pipeline golden cases: foldkit's complex features vs AlphaFold-Multimer's ``processed_features.npz``.

A case folder holds ``case.json`` (``db_preset``, ``max_template_date``, the
data directory's paths), ``input.fasta`` (one record per chain, AlphaFold2's
convention), ``msas/`` (``chain_id_map.json`` and one folder per distinct
chain), ``chain_<X>_raw_features.npz``, ``pair_input_<entity>_<sym>.npz`` and
``processed_features.npz``. One golden case (``multimer``) checks:

* stored: the copied ``msas/`` featurized with ``--use-precomputed-msas`` (no
  search runs; templates read from ``pdb_hits.sto`` and the mmCIF files):
  every array of ``processed_features.npz`` (plain names), every chain's raw
  features (``chain_<X>/...``), every pairing input (``pair_input_<key>/...``)
  and the template log;
* search: foldkit's own searches (pyhmmer jackhmmer and hmmsearch, HHblits)
  into an empty folder: each file compared with AlphaFold2's (``search/msas/...``,
  byte for byte but for the ``#=GF AU`` line of untruncated Stockholm files,
  as for the monomer cases) and the processed features again (``search/...``).

Integers, strings and masks must be equal with their dtype; template
coordinates within 1e-4 Å (they are copied from mmCIF text).
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from pathlib import Path

import numpy as np

from foldkit.testing.cases_pipeline import case_data_dir, feature_checks, file_checks, template_log_check
from foldkit.testing.compare import CompareResult, Kind, OutputCheck, compare

COORDINATE_FEATURES = ("template_all_atom_positions",)


def _complex(case_dir: Path, case_json: dict):
    from foldkit.io.complexes import read_complexes

    return read_complexes(case_dir / case_json.get("input_fasta", "input.fasta"), "multimer")[0]


def run_case_complex(case_dir: Path, case_json: dict, msa_dir: Path, searched: bool, data_dir: str | None = None):
    """foldkit's ComplexInputs for a case, searching into ``msa_dir`` or reusing what it holds."""
    from foldkit.msa.af2_complex import ComplexSearchPipeline
    from foldkit.msa.af2_pipeline import Af2Settings
    from foldkit.msa.databases import resolve_databases

    databases = resolve_databases(case_data_dir(case_dir, case_json, data_dir), case_json["db_preset"],
                                  model_preset="multimer")
    settings = Af2Settings(databases, max_template_date=datetime.date.fromisoformat(case_json["max_template_date"]),
                           use_precomputed_msas=not searched)
    complex_ = _complex(case_dir, case_json)
    return complex_, ComplexSearchPipeline(settings, log=lambda message: None).run(complex_, msa_dir)


def _array_results(prefix: str, ours: dict, reference_path: Path) -> list[CompareResult]:
    """Every array of a reference npz against ours (dtype included), named ``<prefix>/<array>``."""
    results = []
    with np.load(reference_path, allow_pickle=False) as reference:
        for name in reference.files:
            label = f"{prefix}/{name}"
            if name not in ours:
                results.append(CompareResult(label, np.inf, np.inf, False, "foldkit made no such array"))
                continue
            kind = Kind.COORDINATE if name in COORDINATE_FEATURES else Kind.EXACT
            results.append(compare(OutputCheck(label, ours[name], kind, check_dtype=True), reference[name]))
    return results


def _renamed(results: list[CompareResult], prefix: str) -> list[CompareResult]:
    return [CompareResult(f"{prefix}{r.name}", r.max_abs, r.max_rel, r.passed, r.detail) for r in results]


def _intermediate_checks(case_dir: Path, complex_, inputs) -> list[CompareResult]:
    """Chain raw features and pairing inputs against the case's intermediate files."""
    from foldkit.features.multimer import complex_features_from_chain_features

    results = []
    for chain in complex_.distinct_chains:
        path = case_dir / f"chain_{chain.chain_id}_raw_features.npz"
        if path.is_file():
            results += _array_results(f"chain_{chain.chain_id}", inputs.chain_features[chain.chain_id], path)
    pair_inputs: dict = {}
    complex_features_from_chain_features(complex_, inputs.chain_features, pair_inputs=pair_inputs)
    for path in sorted(case_dir.glob("pair_input_*.npz")):
        key = path.stem[len("pair_input_"):]
        results += _array_results(f"pair_input_{key}", pair_inputs.get(key, {}), path)
    return results


def _template_log(complex_, inputs) -> list[str]:
    return [line for chain in complex_.distinct_chains for line in inputs.template_logs[chain.chain_id]]


def _search_file_checks(ours: Path, reference: Path) -> list[CompareResult]:
    """Every file of the reference msas/ (chain_id_map.json and each chain folder) against ours."""
    results = file_checks(ours, reference)                       # msas/chain_id_map.json
    for folder in sorted(p for p in reference.iterdir() if p.is_dir()):
        checked = file_checks(ours / folder.name, folder)
        results += [CompareResult(r.name.replace("msas/", f"msas/{folder.name}/", 1), r.max_abs, r.max_rel,
                                  r.passed, r.detail) for r in checked]
    return results


def _multimer(arrays: dict, case_json: dict, chunk_size=None) -> list:
    case_dir = Path(case_json["_case_dir"])
    data_dir = case_json.get("_data_dir")
    with tempfile.TemporaryDirectory(prefix="foldkit_golden_") as tmp:
        stored_dir = Path(tmp) / "stored" / "msas"
        shutil.copytree(case_dir / "msas", stored_dir)
        complex_, stored = run_case_complex(case_dir, case_json, stored_dir, searched=False, data_dir=data_dir)
        if stored.searched:
            raise RuntimeError(f"searches ran although every output was stored: {stored.searched}")
        search_dir = Path(tmp) / "search" / "msas"
        _, searched = run_case_complex(case_dir, case_json, search_dir, searched=True, data_dir=data_dir)
        files = _search_file_checks(search_dir, case_dir / "msas")
    checks: list = feature_checks(stored.features, arrays)
    checks += _intermediate_checks(case_dir, complex_, stored)
    checks += template_log_check(_template_log(complex_, stored), case_json)
    checks += files
    searched_features = [compare(check, arrays[check.name]) for check in feature_checks(searched.features, arrays)]
    checks += _renamed(searched_features, "search/")
    checks += _renamed(template_log_check(_template_log(complex_, searched), case_json), "search/")
    return checks


CASES = {"multimer": _multimer}
