"""The template searches' inputs and the multimer search itself reproduce AlphaFold2's stored outputs.

* hhsearch_query_a3m(uniref90_hits.sto) fed to the hhsearch binary (AlphaFold2's flags) gives the
  stored pdb_hits.hhr apart from the Date and Command lines;
* hmmsearch_templates(hmmbuild_query_sto(uniref90_hits.sto), pdb_seqres.txt) gives the stored
  pdb_hits.sto byte for byte, and its features equal the stored chain features.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from foldkit.templates import (hhsearch_query_a3m, hmmbuild_query_sto, hmmsearch_templates,
                               load_target_sequences)
from foldkit.templates.query_msa import deduplicate_stockholm, remove_empty_columns, stockholm_to_a3m
from tests.templates.cases import (MONOMER_CASES, MULTIMER_CASES, featurizer_for, multimer_chains,
                                   pipeline_dir, requires_binary)
from tests.templates.test_golden_templates import assert_template_features_equal


def _without_run_lines(hhr: str) -> list[str]:
    return [line for line in hhr.splitlines() if not line.startswith(("Date", "Command"))]


@pytest.mark.parametrize("case", MONOMER_CASES)
def test_hhsearch_on_query_a3m_reproduces_stored_hhr(af2_reference, case, tmp_path):
    requires_binary("hhsearch")
    case_dir = pipeline_dir(af2_reference) / case
    query_a3m = tmp_path / "query.a3m"
    query_a3m.write_text(hhsearch_query_a3m((case_dir / "msas" / "uniref90_hits.sto").read_text()))
    output = tmp_path / "output.hhr"
    run = subprocess.run(["hhsearch", "-i", str(query_a3m), "-o", str(output), "-maxseq", "1000000",
                          "-d", "pipeline/data/pdb70/pdb70"], cwd=af2_reference, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-500:]
    stored = (case_dir / "msas" / "pdb_hits.hhr").read_text()
    assert _without_run_lines(output.read_text()) == _without_run_lines(stored)


@pytest.mark.parametrize("case", MULTIMER_CASES)
def test_pyhmmer_search_reproduces_stored_pdb_hits(af2_reference, case):
    case_dir = pipeline_dir(af2_reference) / case
    targets = load_target_sequences(case_dir.parent / "data" / "pdb_seqres" / "pdb_seqres.txt")
    featurizer = featurizer_for(case_dir)
    for chain, sequence in multimer_chains(case_dir):
        query_sto = hmmbuild_query_sto((case_dir / "msas" / chain / "uniref90_hits.sto").read_text())
        sto = hmmsearch_templates(query_sto, case_dir.parent / "data" / "pdb_seqres" / "pdb_seqres.txt",
                                  cpus=1, targets=targets)
        assert sto == (case_dir / "msas" / chain / "pdb_hits.sto").read_text()
        result = featurizer.from_hmmsearch_sto(sequence, sto)
        assert_template_features_equal(result.features, np.load(case_dir / f"chain_{chain}_raw_features.npz"),
                                       f"{case} chain {chain}")


STO = """# STOCKHOLM 1.0

#=GS query DE the query
#=GS hit1/1-5 DE first
#=GS hit2/1-5 DE second
#=GS hit3/1-4 DE third

query      AC-DE-F
#=GR query PP 9999999
hit1/1-5   AC-DEG-
hit2/1-5   ACkDE-F
hit3/1-4   -C-D--F
#=GC RF    xx.xx.x
//
"""


def test_deduplicate_keeps_first_row_per_query_columns():
    deduplicated = deduplicate_stockholm(STO)
    names = [line.split()[0] for line in deduplicated.splitlines() if line and not line.startswith(("#", "/"))]
    assert names == ["query", "hit1/1-5", "hit3/1-4"]          # hit2 equals the query on its columns
    assert "#=GR" not in deduplicated and "#=GS hit2/1-5" not in deduplicated
    assert "#=GC RF    xx.xx.x" in deduplicated and deduplicated.endswith("//\n")


def test_remove_empty_columns_drops_all_gap_columns_and_rf():
    trimmed = remove_empty_columns(deduplicate_stockholm(STO))
    rows = dict(line.split() for line in trimmed.splitlines() if line.startswith(("query", "hit")))
    assert rows == {"query": "ACDE-F", "hit1/1-5": "ACDEG-", "hit3/1-4": "-CD--F"}
    assert "#=GC RF    xxxx.x" in trimmed


def test_stockholm_to_a3m_turns_query_gaps_into_insertions():
    a3m = stockholm_to_a3m(STO)
    assert a3m.splitlines() == [">query the query", "ACDEF", ">hit1/1-5 first", "ACDEg-", ">hit2/1-5 second",
                                "ACkDEF", ">hit3/1-4 third", "-CD-F"]
    assert hhsearch_query_a3m(STO).splitlines()[:2] == [">query the query", "ACDEF"]


def test_pyhmmer_search_equals_hmmsearch_binary_with_partial_hits(af2_reference, tmp_path):
    """Two short spurious hits leave most consensus columns all-gap: hmmsearch -A still writes them."""
    requires_binary("hmmbuild")
    requires_binary("hmmsearch")
    pipeline = pipeline_dir(af2_reference)
    query_sto = tmp_path / "query.sto"
    query_sto.write_text(hmmbuild_query_sto(
        (pipeline / "multi_hetero_2chain" / "msas" / "B" / "uniref90_hits.sto").read_text()))
    records = (pipeline / "data" / "pdb_seqres" / "pdb_seqres.txt").read_text().split(">")
    targets = tmp_path / "targets.fasta"
    targets.write_text("".join(">" + r for r in records if r.startswith(("5ugo_A", "3o5r_A"))))
    hmm, output = tmp_path / "query.hmm", tmp_path / "hits.sto"
    subprocess.run(["hmmbuild", "--hand", "--amino", str(hmm), str(query_sto)], check=True, capture_output=True)
    subprocess.run(["hmmsearch", "--noali", "--cpu", "1", "--F1", "0.1", "--F2", "0.1", "--F3", "0.1", "--incE", "100",
                    "-E", "100", "--domE", "100", "--incdomE", "100", "-A", str(output), str(hmm), str(targets)],
                   check=True, capture_output=True)
    mine = hmmsearch_templates(query_sto.read_text(), targets, cpus=1)
    assert mine == output.read_text()
    assert mine.count("-" * 20) >= 2                      # the uncovered columns are there
