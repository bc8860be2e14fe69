"""MMseqs2 backend (skipped when the mmseqs binary is not on PATH)."""

from __future__ import annotations

import pytest

from foldkit.msa.mmseqs import MmseqsSettings, alignment_to_a3m_row, mmseqs_binary, mmseqs_search


def test_alignment_to_a3m_row():
    # query positions 2..5 of a 7-residue query; target has an insertion and a deletion
    assert alignment_to_a3m_row("KT-AY", "KTWA-", 2, 5, 7) == "-KTwA---"


@pytest.mark.skipif(mmseqs_binary() is None, reason="mmseqs binary not on PATH")
def test_mmseqs_recovers_cluster_members(search_case):
    name, sequence, database, mates, _ = search_case
    msa = mmseqs_search(name, sequence, database, MmseqsSettings(iterations=1), cpus=1)
    found = {d.split("/")[0] for d in msa.descriptions[1:]}
    assert msa.sequences[0] == sequence
    assert set(mates) <= found, set(mates) - found
