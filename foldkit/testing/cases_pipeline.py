"""Monomer input-pipeline golden cases: foldkit's raw features vs AlphaFold2's ``raw_features.npz``.

A case folder holds ``case.json`` (AlphaFold2's flags, ``db_preset``,
``max_template_date``), ``input.fasta``, ``msas/`` (AlphaFold2's search
outputs) and ``raw_features.npz``. Two checks per case:

* ``monomer/stored``: featurize a copy of the stored ``msas/`` files
  (``--use-precomputed-msas``; no search runs, Kalign realigns templates);
* ``monomer/search``: foldkit's own searches (pyhmmer jackhmmer, HHblits,
  HHsearch) against the data directory, then featurize; each search output is
  also compared with AlphaFold2's file (byte for byte, except the ``Date`` and
  ``Command`` lines of ``.hhr`` files and the ``#=GF AU`` line, which names the
  HMMER that wrote a Stockholm file AlphaFold2 keeps untruncated).

Integer and string features must be equal with their dtype, template
coordinates within 1e-4 Å, every other float (one-hot, masks, sum_probs) equal.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from pathlib import Path

import numpy as np

from foldkit.testing.compare import CompareResult, Kind, OutputCheck

AU_LINE = "#=GF AU "
HHR_VOLATILE = ("Date ", "Command ")


def case_data_dir(case_dir: Path, case_json: dict, data_dir: str | None) -> Path:
    """The AlphaFold2 data directory of a case: given, else found from its flags' relative paths."""
    if data_dir is not None:
        return Path(data_dir)
    flag = case_json["run_alphafold_flags"]["uniref90_database_path"]     # e.g. pipeline/data/uniref90/...
    relative = Path(flag).parent.parent                                   # pipeline/data
    for base in case_dir.resolve().parents:
        if (base / flag).is_file():
            return base / relative
    raise FileNotFoundError(f"no folder above {case_dir} holds {flag}; pass --data-dir")


def run_case_pipeline(case_dir: Path, case_json: dict, msa_dir: Path, searched: bool,
                      data_dir: str | None = None):
    """foldkit's Af2Inputs for a case, searching into ``msa_dir`` or reusing what it holds."""
    from foldkit.io.fasta import read_fasta
    from foldkit.msa.af2_pipeline import Af2InputPipeline, Af2Settings
    from foldkit.msa.databases import resolve_databases
    from foldkit.msa.jackhmmer import QueryRecord

    databases = resolve_databases(case_data_dir(case_dir, case_json, data_dir), case_json["db_preset"])
    settings = Af2Settings(databases, max_template_date=datetime.date.fromisoformat(case_json["max_template_date"]),
                           use_precomputed_msas=not searched)
    query = read_fasta(case_dir / case_json.get("input_fasta", "input.fasta"))[0]
    pipeline = Af2InputPipeline(settings, log=lambda message: None)
    return pipeline.run(QueryRecord(query.id, query.description, query.sequence), msa_dir)


def feature_checks(ours: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> list[OutputCheck]:
    """One check per reference array (dtype included); template coordinates to 1e-4 Å, the rest exact."""
    checks = []
    for name in reference:
        if name not in ours:
            continue
        kind = Kind.COORDINATE if name == "template_all_atom_positions" else Kind.EXACT
        checks.append(OutputCheck(name, ours[name], kind, check_dtype=True))
    return checks


def file_checks(ours_dir: Path, reference_dir: Path) -> list[CompareResult]:
    """Each reference search output against foldkit's (line by line, volatile lines set aside)."""
    results = []
    for reference in sorted(reference_dir.iterdir()):
        if not reference.is_file():
            continue
        name = f"msas/{reference.name}"
        ours = ours_dir / reference.name
        if not ours.is_file():
            results.append(CompareResult(name, np.inf, np.inf, False, "foldkit wrote no such file"))
            continue
        theirs_lines = reference.read_text().splitlines()
        ours_lines = ours.read_text().splitlines()
        volatile = HHR_VOLATILE if reference.suffix == ".hhr" else (AU_LINE,)
        differing = [(a, b) for a, b in zip(ours_lines, theirs_lines) if a != b]
        tolerated = [(a, b) for a, b in differing if a.startswith(volatile) and b.startswith(volatile)]
        others = len(differing) - len(tolerated) + abs(len(ours_lines) - len(theirs_lines))
        if others:
            detail = f"{others} lines differ"
        elif tolerated:
            kinds = sorted({next(v for v in volatile if b.startswith(v)).strip() for _, b in tolerated})
            detail = "identical except the " + " and ".join(kinds) + " line" + ("s" if len(tolerated) > 1 else "")
        else:
            detail = "byte-identical" if ours.read_bytes() == reference.read_bytes() else "identical lines"
        results.append(CompareResult(name, float(others), float(others) / max(len(theirs_lines), 1), others == 0,
                                     detail))
    return results


def _stored(arrays: dict, case_json: dict, chunk_size=None) -> list:
    case_dir = Path(case_json["_case_dir"])
    with tempfile.TemporaryDirectory(prefix="foldkit_golden_") as tmp:
        msa_dir = Path(tmp) / "msas"
        shutil.copytree(case_dir / "msas", msa_dir)
        result = run_case_pipeline(case_dir, case_json, msa_dir, searched=False, data_dir=case_json.get("_data_dir"))
        if result.searched:
            raise RuntimeError(f"searches ran although every output was stored: {result.searched}")
    return feature_checks(result.raw_features, arrays) + template_log_check(result.template_log, case_json)


def _searched(arrays: dict, case_json: dict, chunk_size=None) -> list:
    case_dir = Path(case_json["_case_dir"])
    with tempfile.TemporaryDirectory(prefix="foldkit_golden_") as tmp:
        msa_dir = Path(tmp) / "msas"
        result = run_case_pipeline(case_dir, case_json, msa_dir, searched=True, data_dir=case_json.get("_data_dir"))
        files = file_checks(msa_dir, case_dir / "msas")
    return feature_checks(result.raw_features, arrays) + template_log_check(result.template_log, case_json) + files


def template_log_check(log: list[str], case_json: dict) -> list[CompareResult]:
    """foldkit's template log against AlphaFold2's ``template_processing_log`` (when the case has one)."""
    expected = case_json.get("template_processing_log")
    if expected is None:
        return []
    differing = sum(a != b for a, b in zip(log, expected)) + abs(len(log) - len(expected))
    detail = f"{differing} of {len(expected)} lines differ" if differing else f"{len(expected)} lines equal"
    return [CompareResult("template_processing_log", float(differing), differing / max(len(expected), 1),
                          differing == 0, detail)]


CASES = {"monomer/stored": _stored, "monomer/search": _searched}
