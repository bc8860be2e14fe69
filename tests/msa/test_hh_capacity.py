"""HH-suite's -maxres fitted to the query and databases: bounds, and output identical to the default's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from foldkit.errors import FoldkitError
from foldkit.msa import hh_capacity, hhsuite
from tests.msa.af2_data import DATA_DIR, PIPELINE

PDB70 = DATA_DIR / "pdb70" / "pdb70"
HHBLITS_DBS = [DATA_DIR / "bfd" / "bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt",
               DATA_DIR / "uniref30" / "UniRef30_2021_03"]
needs_hhsearch = pytest.mark.skipif(shutil.which("hhsearch") is None, reason="HH-suite not installed (.ci/run installs it)")


def _longest_hhm(prefix: Path) -> int:
    data = Path(f"{prefix}_hhm.ffdata").read_bytes()
    return max(int(length) for length in re.findall(rb"^LENG\s+(\d+)", data, flags=re.MULTILINE))


@pytest.mark.parametrize("prefix", [PDB70, *HHBLITS_DBS])
def test_longest_profile_bounds_every_hmm_of_the_database(prefix):
    bound = hh_capacity.longest_profile(prefix)
    longest = _longest_hhm(prefix)
    assert longest <= bound <= longest + 1            # binary cs219: one byte per column and a terminator


def test_unreadable_or_large_indexes_keep_the_default(tmp_path, monkeypatch):
    assert hh_capacity.longest_profile(tmp_path / "missing") is None
    (tmp_path / "garbage_cs219.ffindex").write_text("garbage\n")
    assert hh_capacity.longest_profile(tmp_path / "garbage") is None
    assert hh_capacity.fitted_maxres(100, [PDB70, tmp_path / "missing"]) is None
    assert hh_capacity.fitted_maxres(100, []) is None
    assert hh_capacity.fitted_maxres(100, [PDB70]) == hh_capacity.longest_profile(PDB70) + hh_capacity.MARGIN
    assert hh_capacity.fitted_maxres(900, [PDB70]) == 900 + hh_capacity.MARGIN          # the query is longer
    assert hh_capacity.fitted_maxres(30000, [PDB70]) is None                               # beyond the default
    monkeypatch.setattr(hh_capacity, "MAX_INDEX_BYTES", 100)
    assert hh_capacity.fitted_maxres(100, [PDB70]) is None


def test_query_columns_bound_the_first_sequence():
    assert hh_capacity.query_columns(">q desc\nMKV-L\nAC\n>h\nmKV-LAC\n") == 7
    assert hh_capacity.query_columns("#A3M#\n>q\nMKVL\n") == 4
    assert hh_capacity.query_columns("") == 0


def test_truncation_warnings_are_recognised():
    assert hh_capacity.reports_truncation(
        "- 07:25:26.549 WARNING: database contains sequences that exceed maximum allowed size (maxres = 216).")
    assert hh_capacity.reports_truncation("- WARNING: Maximum number 398 of residues exceeded while reading HMM 1igy_B")
    assert not hh_capacity.reports_truncation("- 07:25:26.079 INFO: Searching 20 database HHMs\n")


def _kept(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(("Date", "Command"))]


@needs_hhsearch
def test_fitted_and_fallback_hhsearch_equal_the_default(monkeypatch):
    query = (PIPELINE / "mono_reduced_datefilter" / "input.fasta").read_text()
    binary = shutil.which("hhsearch")
    default = hhsuite.hhsearch(binary, query, PDB70, hhsuite.HHsearchSettings(fit_maxres=False), cpus=1, timeout=120)
    fitted = hhsuite.hhsearch(binary, query, PDB70, cpus=1, timeout=120)
    assert "-maxres" not in default.command and "-maxres" in fitted.command
    assert _kept(fitted.text) == _kept(default.text)
    # a bound too small is noticed in HH-suite's warnings: the search runs again at the default
    monkeypatch.setattr(hh_capacity, "fitted_maxres", lambda columns, databases: 100)
    fallback = hhsuite.hhsearch(binary, query, PDB70, cpus=1, timeout=120)
    assert "-maxres" not in fallback.command
    assert _kept(fallback.text) == _kept(default.text)


def test_a_failing_fitted_run_is_rerun_at_the_default(tmp_path):
    """A program that fails whenever -maxres is given: the search still succeeds, at the default."""
    fake = tmp_path / "hhsearch"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in *-maxres*) echo 'ERROR: maxres too small' >&2; exit 1;; esac\n"
                    "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && echo 'default run' > \"$2\"; shift; done\n")
    fake.chmod(0o755)
    run = hhsuite.hhsearch(str(fake), ">q\nMKV\n", PDB70, timeout=30)
    assert run.text == "default run\n" and "-maxres" not in run.command
    always_failing = tmp_path / "broken"
    always_failing.write_text("#!/bin/sh\necho 'ERROR: cannot open database' >&2\nexit 1\n")
    always_failing.chmod(0o755)
    with pytest.raises(FoldkitError, match="hhsearch failed with exit code 1: ERROR: cannot open database"):
        hhsuite.hhsearch(str(always_failing), ">q\nMKV\n", PDB70, timeout=30)


def test_a_changed_index_is_read_again(tmp_path):
    index = tmp_path / "db_cs219.ffindex"
    index.write_text("a\t0\t120\nb\t120\t80\n")
    assert hh_capacity.longest_profile(tmp_path / "db") == 120
    index.write_text("a\t0\t120\nb\t120\t800\nc\t920\t5\n")          # another size: not the cached value
    assert hh_capacity.longest_profile(tmp_path / "db") == 800
