"""Paths of AlphaFold2's pipeline reference (shared/reference/af2/pipeline) for the MSA tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import AF2_REFERENCE

PIPELINE = AF2_REFERENCE / "pipeline"
DATA_DIR = PIPELINE / "data"
MONOMER_CASES = ("mono_full_templates", "mono_reduced_datefilter", "mono_no_templates")
HH_BINARIES = ("hhblits", "hhsearch", "kalign")


def case_json(case: str) -> dict:
    return json.loads((PIPELINE / case / "case.json").read_text())


def query_of(case: str):
    from foldkit.io.fasta import read_fasta
    from foldkit.msa.jackhmmer import QueryRecord

    query = read_fasta(PIPELINE / case / "input.fasta")[0]
    return QueryRecord(query.id, query.description, query.sequence)


def copy_msas(case: str, target: Path) -> Path:
    """A writable copy of the case's stored msas/ folder (AlphaFold2's own search outputs)."""
    shutil.copytree(PIPELINE / case / "msas", target)
    for path in target.iterdir():
        path.chmod(0o644)
    target.chmod(0o755)
    return target


def have_binaries() -> bool:
    return all(shutil.which(name) for name in HH_BINARIES)
