"""Featurization golden cases: raw text inputs -> foldkit features vs AlphaFold2's.

A case ``<name>`` in a folder has ``<name>_query.fasta``, one or more A3M files
(``a3m_inputs_in_order`` of its config, else ``<name>_msa.a3m``), template raw
features (``<name>_raw_template_features.npz`` or the ``template_*`` arrays of
``<name>_raw_features.npz``) and a reference ``<name>_processed_features.npz``
or ``<name>_features_deterministic.npz``. Processing runs in the reference's
deterministic mode (identity shuffle, no BERT masking). ``residue_index`` is
taken from ``<name>_raw_features.npz`` whenever a case has that file (the
tiny-model cases have a residue-index gap that no text input carries); what
is read is decided by the files a case holds, never by its name.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_raw_features
from foldkit.io.msa_files import read_a3m
from foldkit.testing.compare import Kind, OutputCheck

REFERENCE_SUFFIXES = ("processed_features", "features_deterministic")
RAW_STRING_KEYS = ("domain_name", "sequence", "msa_species_identifiers", "template_domain_names",
                   "template_sequence")


def find_feature_cases(folder: str | Path) -> list[tuple[str, Path]]:
    """(case name, reference npz) of every featurization case directly in ``folder``."""
    folder = Path(folder)
    found = []
    for suffix in REFERENCE_SUFFIXES:
        for path in sorted(folder.glob(f"*_{suffix}.npz")):
            name = path.name[: -len(f"_{suffix}.npz")]
            if (folder / f"{name}_query.fasta").is_file():
                found.append((name, path))
    return found


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _read_query(path: Path) -> tuple[str, str]:
    """(description, sequence) of a one-record FASTA file."""
    try:
        from foldkit.io.fasta import read_fasta
    except ImportError:
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        return lines[0][1:].strip(), "".join(lines[1:])
    query = read_fasta(path)[0]
    return query.description or query.id, query.sequence


def _case_config(folder: Path, name: str) -> dict:
    return json.loads((folder / f"{name}_config.json").read_text())


def _a3m_paths(folder: Path, name: str, case_json: dict) -> list[Path]:
    names = case_json.get("a3m_inputs_in_order") or [f"{name}_msa.a3m"]
    return [folder / n for n in names]


def _template_raw(folder: Path, name: str) -> dict[str, np.ndarray] | None:
    separate = folder / f"{name}_raw_template_features.npz"
    if separate.is_file():
        return _load_npz(separate)
    raw_path = folder / f"{name}_raw_features.npz"
    if raw_path.is_file():
        raw = _load_npz(raw_path)
        templates = {k: v for k, v in raw.items() if k.startswith("template_")}
        return templates or None
    return None


def build_raw_features(folder: str | Path, name: str, case_json: dict | None = None) -> dict[str, np.ndarray]:
    """foldkit's raw features of a case, from its text inputs (see module docstring)."""
    folder = Path(folder)
    case_json = case_json if case_json is not None else _case_config(folder, name)
    description, sequence = _read_query(folder / f"{name}_query.fasta")
    msas = [read_a3m(p, query_sequence=sequence) for p in _a3m_paths(folder, name, case_json)]
    residue_index = None
    raw_ref_path = folder / f"{name}_raw_features.npz"
    if raw_ref_path.is_file():
        residue_index = _load_npz(raw_ref_path)["residue_index"]
    return make_raw_features(sequence, msas, description, residue_index, _template_raw(folder, name))


def case_feature_config(case_json: dict) -> FeatureConfig:
    """The deterministic-mode FeatureConfig of a case's data config."""
    if "data_config_used" in case_json:
        data = case_json["data_config_used"]
    else:
        data = case_json["config"]["data"]
    return FeatureConfig.from_data_config(data).deterministic()


def _kind(array: np.ndarray) -> Kind:
    return Kind.FEATURE if np.asarray(array).dtype.kind == "f" else Kind.EXACT


def processed_feature_checks(folder: str | Path, name: str, case_json: dict | None = None,
                             seed: int = 0) -> list[OutputCheck]:
    """One OutputCheck per processed feature (integers EXACT, floats FEATURE)."""
    folder = Path(folder)
    case_json = case_json if case_json is not None else _case_config(folder, name)
    raw = build_raw_features(folder, name, case_json)
    features = process_features(raw, case_feature_config(case_json), seed=seed)
    return [OutputCheck(k, v, _kind(v)) for k, v in features.items()]


def raw_feature_checks(folder: str | Path, name: str, case_json: dict | None = None) -> list[OutputCheck]:
    """OutputChecks of the numeric raw features against ``<name>_raw_features.npz``."""
    raw = build_raw_features(folder, name, case_json)
    return [OutputCheck(k, v, _kind(v)) for k, v in raw.items() if k not in RAW_STRING_KEYS]


def _golden_case(arrays: dict, case_json: dict, chunk_size=None) -> list[OutputCheck]:
    """Entry point of ``python -m foldkit.testing.golden --only features``."""
    return processed_feature_checks(Path(case_json["_case_dir"]), case_json["_case_name"], case_json)


CASES = {"*": _golden_case}
