"""Helpers for the template tests: the AlphaFold2 pipeline reference cases, read from their files."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from foldkit.templates import TemplateFeaturizer, TemplateSettings

MONOMER_CASES = ("mono_full_templates", "mono_reduced_datefilter", "mono_no_templates")
MULTIMER_CASES = ("multi_hetero_2chain", "multi_homo_2copies")
TEMPLATE_KEYS = ("template_aatype", "template_all_atom_masks", "template_all_atom_positions",
                 "template_domain_names", "template_sequence", "template_sum_probs")


def pipeline_dir(af2_reference: Path) -> Path:
    return af2_reference / "pipeline"


def case_json(case_dir: Path) -> dict:
    return json.loads((case_dir / "case.json").read_text())


def fasta_sequences(path: Path) -> list[str]:
    records: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            records.append("")
        elif records:
            records[-1] += line.strip()
    return records


def settings_for(case_dir: Path, **overrides) -> TemplateSettings:
    data = case_dir.parent / "data"
    values = {"mmcif_dir": data / "pdb_mmcif" / "mmcif_files",
              "max_template_date": datetime.date.fromisoformat(case_json(case_dir)["max_template_date"]),
              "obsolete_pdbs": data / "pdb_mmcif" / "obsolete.dat"}
    return TemplateSettings(**{**values, **overrides})


def featurizer_for(case_dir: Path, **overrides) -> TemplateFeaturizer:
    return TemplateFeaturizer(settings_for(case_dir, **overrides))


def multimer_chains(case_dir: Path) -> list[tuple[str, str]]:
    """(chain folder id, sequence) of every distinct chain with an msas/<id>/ folder."""
    chain_map = json.loads((case_dir / "msas" / "chain_id_map.json").read_text())
    return [(folder.name, chain_map[folder.name]["sequence"])
            for folder in sorted((case_dir / "msas").iterdir()) if folder.is_dir()]


def requires_binary(name: str) -> None:
    if shutil.which(name) is None:
        pytest.skip(f"the {name} binary is not installed (CI installs it: apt-get install hhsuite kalign)")
