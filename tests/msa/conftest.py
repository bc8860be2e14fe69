"""A small search database cut from shared/train/seqdb: one 30 %-identity cluster + decoys."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from tests.conftest import TRAIN_DIR

QUERY_CHAIN = "3i8n_A"
NUM_DECOYS = 1500


def read_seqdb() -> dict[str, str]:
    sequences, name, chunks = {}, None, []
    with gzip.open(TRAIN_DIR / "seqdb" / "seqdb.fasta.gz", "rt") as handle:
        for line in handle:
            if line.startswith(">"):
                if name:
                    sequences[name] = "".join(chunks)
                name, chunks = line[1:].split()[0], []
            else:
                chunks.append(line.strip())
    sequences[name] = "".join(chunks)
    return sequences


@pytest.fixture(scope="session")
def search_case(tmp_path_factory):
    """(query id, query sequence, database path, ids of the query's cluster mates)."""
    with open(TRAIN_DIR / "clusters.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    cluster = next(r["cluster_id"] for r in rows if r["chain_id"] == QUERY_CHAIN)
    group = next(r["split_group"] for r in rows if r["chain_id"] == QUERY_CHAIN)
    mates = [r["chain_id"] for r in rows if r["cluster_id"] == cluster and r["chain_id"] != QUERY_CHAIN]
    related = {r["chain_id"] for r in rows if r["split_group"] == group}
    sequences = read_seqdb()
    others = sorted(set(sequences) - related - {QUERY_CHAIN})
    decoys = np.random.default_rng(0).choice(others, NUM_DECOYS, replace=False)
    folder = tmp_path_factory.mktemp("seqdb")
    database = folder / "small_db.fasta"
    with open(database, "w") as out:
        for name in list(mates) + list(decoys):
            out.write(f">{name} test\n{sequences[name]}\n")
    query = folder / "query.fasta"
    query.write_text(f">{QUERY_CHAIN}\n{sequences[QUERY_CHAIN]}\n")
    return QUERY_CHAIN, sequences[QUERY_CHAIN], database, mates, query
