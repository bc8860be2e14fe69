"""Pairing the rows of the chains' UniProt MSAs by species, as AlphaFold-Multimer v2.3 does.

Published procedure (AlphaFold-Multimer paper, supplement 7.1.1 and 2.3's data
pipeline), restated:

1. Per chain, every row of the pairing MSA (``msa_all_seq``; row 0 is the
   query, species '') gets its species, its similarity to the query (fraction
   of columns with the query's letter) and its row number; rows are grouped by
   species.
2. Over the species present in any chain, in sorted order: a species found in
   only one chain, or with more than 600 rows in some chain, is skipped. In each
   chain the species' rows are ranked by similarity (descending; ties keep
   their row order, as a stable descending sort does), and the first ``n``
   rows of every chain are matched rank by rank, ``n`` being the smallest
   number of rows the species has in a chain that has it. A chain without the
   species contributes its gap row (index -1: an all-gap row appended to its
   MSA).
3. The query row comes first; then the matched rows grouped by how many
   chains take part (all chains first), and within a group ordered by the
   absolute product of their row numbers (``numpy.argsort``, whose order of
   ties the reference shares).

:func:`paired_rows_by_row` is the alternative for MSAs paired already (ColabFold's
paired A3M): row k of every chain forms paired row k.

:func:`apply_pairing` gathers each chain's ``*_all_seq`` features by the paired
rows (the gap row added where a chain has -1) and sets
``num_alignments_all_seq``; :func:`deduplicate_unpaired` then drops from each
chain's own MSA the rows that already appear among its paired rows.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

GAP_INDEX = 21                     # '-' in both residue orders
MAX_ROWS_PER_SPECIES = 600
ALL_SEQ_PAD_VALUES = {"msa_all_seq": GAP_INDEX, "deletion_matrix_all_seq": 0, "deletion_matrix_int_all_seq": 0,
                      "msa_mask_all_seq": 1}
UNPAIRED_MSA_FEATURES = ("msa", "msa_mask", "deletion_matrix", "deletion_matrix_int")


def _descending_order(values: np.ndarray) -> np.ndarray:
    """Indices that sort ``values`` from largest to smallest, equal values in their original order
    (the order pandas' ``sort_values(ascending=False)`` gives)."""
    reversed_positions = np.arange(len(values))[::-1]
    ascending = reversed_positions[np.argsort(values[::-1], kind="quicksort")]
    return ascending[::-1]


def query_similarity(msa: np.ndarray) -> np.ndarray:
    """[M] fraction of columns where each row equals the query (row 0)."""
    return np.sum(msa[0][None] == msa, axis=-1) / float(msa.shape[1])


def _species_rows(species: np.ndarray) -> dict[str, np.ndarray]:
    """species -> its row numbers (ascending)."""
    grouped: dict[str, list[int]] = {}
    for row, name in enumerate(species.tolist()):
        grouped.setdefault(str(name), []).append(row)
    return {name: np.asarray(rows, dtype=np.int64) for name, rows in grouped.items()}


def pair_by_species(chains: Sequence[Mapping[str, np.ndarray]],
                    max_rows_per_species: int = MAX_ROWS_PER_SPECIES) -> np.ndarray:
    """[P, num_chains] row numbers into each chain's pairing MSA (-1: the chain's gap row); row 0 is the
    query of every chain. ``chains`` hold ``msa_all_seq`` and ``msa_species_identifiers_all_seq``."""
    num_chains = len(chains)
    per_chain = []
    for chain in chains:
        msa = np.asarray(chain["msa_all_seq"])
        per_chain.append((_species_rows(np.asarray(chain["msa_species_identifiers_all_seq"])),
                          query_similarity(msa)))
    all_species = sorted({name for rows, _ in per_chain for name in rows} - {""})
    by_count: dict[int, list[np.ndarray]] = {count: [] for count in range(num_chains + 1)}
    by_count[num_chains].append(np.zeros(num_chains, dtype=np.int64))
    for species in all_species:
        present = [rows.get(species) for rows, _ in per_chain]
        sizes = [len(rows) for rows in present if rows is not None]
        if len(sizes) <= 1 or max(sizes) > max_rows_per_species:
            continue
        take = min(sizes)
        columns = []
        for rows, (_, similarity) in zip(present, per_chain):
            if rows is None:
                columns.append(np.full(take, -1, dtype=np.int64))
            else:
                columns.append(rows[_descending_order(similarity[rows])][:take])
        by_count[len(sizes)].extend(np.stack(columns, axis=1))
    ordered = []
    for count in sorted(by_count, reverse=True):
        rows = np.asarray(by_count[count], dtype=np.int64).reshape(-1, num_chains)
        products = np.abs(np.prod(rows, axis=1))
        ordered.append(rows[np.argsort(products)])
    return np.concatenate(ordered, axis=0)


def paired_rows_by_row(chains: Sequence[Mapping[str, np.ndarray]]) -> np.ndarray:
    """[P, num_chains] for MSAs that are paired already: row k of every chain (all must have P rows)."""
    counts = {int(np.asarray(chain["msa_all_seq"]).shape[0]) for chain in chains}
    if len(counts) != 1:
        raise ValueError(f"paired MSAs must have the same number of rows in every chain, got {sorted(counts)}")
    count = counts.pop()
    return np.repeat(np.arange(count, dtype=np.int64)[:, None], len(chains), axis=1)


def _with_gap_row(name: str, value: np.ndarray) -> np.ndarray:
    """The feature with the row that index -1 selects appended (gap / 0 / '' as fits the feature)."""
    if name in ALL_SEQ_PAD_VALUES:
        pad = np.full((1,) + value.shape[1:], ALL_SEQ_PAD_VALUES[name], dtype=value.dtype)
    elif name == "msa_species_identifiers_all_seq":
        pad = np.asarray([""], dtype=value.dtype)
    else:
        return value
    return np.concatenate([value, pad], axis=0)


def apply_pairing(chains: Sequence[Mapping[str, np.ndarray]], paired_rows: np.ndarray) -> list[dict]:
    """Each chain with its ``*_all_seq`` features gathered by its column of ``paired_rows``."""
    updated = []
    for column, chain in enumerate(chains):
        new = {name: value for name, value in chain.items() if not name.endswith("_all_seq")}
        for name, value in chain.items():
            if name.endswith("_all_seq"):
                new[name] = _with_gap_row(name, np.asarray(value))[paired_rows[:, column]]
        new["num_alignments_all_seq"] = np.asarray(paired_rows.shape[0])
        updated.append(new)
    return updated


def deduplicate_unpaired(chains: Sequence[dict]) -> list[dict]:
    """Drop from each chain's MSA the rows equal (letters only) to one of its paired rows."""
    for chain in chains:
        paired = {row.tobytes() for row in np.asarray(chain["msa_all_seq"], dtype=np.int64)}
        msa = np.asarray(chain["msa"], dtype=np.int64)
        keep = [k for k in range(msa.shape[0]) if msa[k].tobytes() not in paired]
        for name in UNPAIRED_MSA_FEATURES:
            if name in chain:
                chain[name] = chain[name][keep]
        chain["num_alignments"] = np.asarray(chain["msa"].shape[0], dtype=np.int32)
    return list(chains)
