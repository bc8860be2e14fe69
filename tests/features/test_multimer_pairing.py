"""Species pairing, row pairing, deduplication, cropping and merging on small hand-made chains."""

from __future__ import annotations

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.features.multimer import complex_features_from_a3m, single_sequence_complex_features
from foldkit.features.multimer_merge import crop_chain
from foldkit.features.multimer_pairing import (apply_pairing, deduplicate_unpaired, pair_by_species,
                                               paired_rows_by_row)
from foldkit.io.complexes import complexes_from_text
from foldkit.io.msa_files import parse_a3m

GAP = 21


def _chain(rows: list[list[int]], species: list[str]) -> dict:
    msa = np.asarray(rows, dtype=np.int32)
    return {"msa_all_seq": msa, "deletion_matrix_all_seq": np.zeros(msa.shape, np.float32),
            "msa_species_identifiers_all_seq": np.asarray(species)}


def test_species_pairing_order_similarity_and_missing_chains():
    query = [0, 1, 2, 3]
    chain0 = _chain([query, [0, 1, 9, 9], [5, 5, 5, 5], [0, 1, 2, 9], [7, 7, 7, 7]],
                    ["", "HUMAN", "MOUSE", "HUMAN", "YEAST"])
    chain1 = _chain([query, [1, 1, 1, 1], [0, 1, 2, 2]], ["", "MOUSE", "HUMAN"])
    chain2 = _chain([query, [3, 3, 3, 3], [0, 0, 0, 0], [0, 1, 0, 0]], ["", "YEAST", "HUMAN", "HUMAN"])
    rows = pair_by_species([chain0, chain1, chain2])
    # query; HUMAN in all three chains (best match by similarity: chain0 row 3, chain2 row 3); then the
    # two-chain species by |product of rows|: MOUSE |2*1*-1| = 2 before YEAST |4*-1*1| = 4
    assert rows.tolist() == [[0, 0, 0], [3, 2, 3], [2, 1, -1], [4, -1, 1]]
    paired = apply_pairing([chain0, chain1, chain2], rows)
    assert paired[2]["msa_all_seq"][2].tolist() == [GAP] * 4                  # -1: the appended gap row
    assert paired[1]["msa_species_identifiers_all_seq"].tolist() == ["", "HUMAN", "MOUSE", ""]
    assert all(int(p["num_alignments_all_seq"]) == 4 for p in paired)


def test_ties_keep_row_order_and_large_species_are_skipped():
    query = [0, 1]
    a = _chain([query, [0, 9], [0, 8], [9, 9]], ["", "BOVIN", "BOVIN", "BOVIN"])
    b = _chain([query, [7, 7], [0, 7]], ["", "BOVIN", "BOVIN"])
    # a: rows 1 and 2 tie (similarity 0.5) and keep their order; b: row 2 (0.5) before row 1 (0)
    assert pair_by_species([a, b]).tolist() == [[0, 0], [1, 2], [2, 1]]
    many = _chain([query] + [[5, 5]] * 601, [""] + ["RAT"] * 601)
    few = _chain([query, [5, 5]], ["", "RAT"])
    assert pair_by_species([many, few]).tolist() == [[0, 0]]                  # > 600 rows: not paired
    assert pair_by_species([many, few], max_rows_per_species=601).tolist() == [[0, 0], [1, 1]]


def test_rows_paired_by_position_and_deduplication():
    a = _chain([[0, 1], [2, 2], [2, 2]], ["", "", ""])                       # duplicate rows stay paired
    b = _chain([[3, 4], [4, 4], [5, 5]], ["", "", ""])
    rows = paired_rows_by_row([a, b])
    assert rows.tolist() == [[0, 0], [1, 1], [2, 2]]
    with pytest.raises(ValueError, match="same number of rows"):
        paired_rows_by_row([a, _chain([[3, 4]], [""])])
    chains = apply_pairing([dict(a, msa=np.asarray([[0, 1], [2, 2], [6, 6]], np.int32),
                                 deletion_matrix=np.asarray([[0, 0], [1, 0], [0, 2]], np.float32))], rows[:, :1])
    (deduplicated,) = deduplicate_unpaired(chains)
    assert deduplicated["msa"].tolist() == [[6, 6]] and deduplicated["deletion_matrix"].tolist() == [[0, 2]]
    assert int(deduplicated["num_alignments"]) == 1


def test_crop_counts_only_paired_rows_with_residues():
    chain = {"msa_all_seq": np.asarray([[0, 1], [GAP, GAP], [2, 2]], np.int32),
             "deletion_matrix_all_seq": np.zeros((3, 2), np.float32), "num_alignments_all_seq": np.asarray(3),
             "msa": np.zeros((10, 2), np.int32), "deletion_matrix": np.zeros((10, 2), np.float32),
             "num_alignments": np.asarray(10, np.int32),
             "template_aatype": np.zeros((6, 2), np.int64), "template_all_atom_mask": np.zeros((6, 2, 37))}
    cropped = crop_chain(chain, paired=True, msa_crop_size=4, max_templates=4)
    # paired rows: min(3, 4 // 2) = 2, one of them all gaps -> own rows: min(10, 4 - 1) = 3
    assert cropped["msa_all_seq"].shape[0] == 2 and cropped["msa"].shape[0] == 3
    assert int(cropped["num_alignments"]) == 3 and int(cropped["num_templates"]) == 4
    assert cropped["template_aatype"].shape == (4, 2) and cropped["template_all_atom_mask"].shape == (4, 2, 37)


def _complex(text: str):
    return complexes_from_text(f">c\n{text}\n", "c.fasta")[0]


def test_heteromer_from_a3m_layout_with_and_without_deduplication():
    complex_ = _complex("MKVL:GSW")
    a = parse_a3m(">A\nMKVL\n>a1\nMKaVI\n>a2\n-KVL\n", None, "MKVL")
    b = parse_a3m(">B\nGSW\n>b1\nGTW\n", None, "GSW")
    features = complex_features_from_a3m(complex_, [a, b])
    real = int(features["num_alignments"])
    msa = features["msa"][:real]
    # one paired row (the queries), then chain A's two other rows, chain B's one (queries deduplicated)
    assert real == 4 and features["msa"].shape == (512, 7) and msa[1:3, 4:].tolist() == [[GAP] * 3] * 2
    assert features["cluster_bias_mask"][:5].tolist() == [1, 0, 0, 0, 0]
    assert features["bert_mask"][:real].tolist() == [[1] * 7, [1] * 4 + [0] * 3, [1] * 4 + [0] * 3,
                                                     [0] * 4 + [1] * 3]
    assert features["deletion_matrix"][1].tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert features["asym_id"].tolist() == [1] * 4 + [2] * 3 and features["entity_id"].tolist() == [1] * 4 + [2] * 3
    assert features["template_aatype"].shape == (4, 7) and int(features["num_templates"]) == 1
    assert not features["template_all_atom_mask"].any()
    kept = complex_features_from_a3m(complex_, [a, b], deduplicate=False)
    assert int(kept["num_alignments"]) == 6                                   # each block keeps its query row


def test_row_paired_input_keeps_duplicates_aligned_and_checks_counts():
    complex_ = _complex("MKVL:GSW")
    a = parse_a3m(">A\nMKVL\n", None, "MKVL")
    b = parse_a3m(">B\nGSW\n", None, "GSW")
    pa = parse_a3m(">A\nMKVL\n>p\nMKVI\n>q\nMKVI\n", None, "MKVL")
    pb = parse_a3m(">B\nGSW\n>p\nGTW\n>q\nGSA\n", None, "GSW")
    features = complex_features_from_a3m(complex_, {"A": a, "B": b}, {"A": pa, "B": pb})
    rows = features["msa"][: int(features["num_alignments"])]
    assert rows.shape[0] == 3 and rows[1, :4].tolist() == rows[2, :4].tolist()
    assert rows[1, 4:].tolist() != rows[2, 4:].tolist()
    with pytest.raises(InputError, match="different numbers of rows"):
        complex_features_from_a3m(complex_, [a, b], [pa, b])
    with pytest.raises(InputError, match="2 unpaired MSAs, expected one per chain \\(3\\)"):
        complex_features_from_a3m(_complex("MKVL:GSW:GSA"), [a, b])


def test_homomer_copies_are_merged_side_by_side_and_single_sequence():
    complex_ = _complex("MKVL:MKVL")
    own = parse_a3m(">A\nMKVL\n>x\nMKVI\n", None, "MKVL")
    features = complex_features_from_a3m(complex_, [own])
    assert features["msa"][:2].tolist() == [[12, 11, 19, 10] * 2, [12, 11, 19, 9] * 2]   # AlphaFold order
    assert features["cluster_bias_mask"][:2].tolist() == [1, 0] and features["sym_id"].tolist() == [1] * 4 + [2] * 4
    assert features["bert_mask"][:2].tolist() == [[1] * 8] * 2 and int(features["assembly_num_chains"]) == 2
    trimer = single_sequence_complex_features(_complex("MKV:GS:MKV"))
    assert int(trimer["num_alignments"]) == 1 and trimer["msa"][0].tolist() == [12, 11, 19, 12, 11, 19, 7, 15]
    assert trimer["asym_id"].tolist() == [1, 1, 1, 2, 2, 2, 3, 3]              # A, C (entity 1), then B
    assert trimer["entity_id"].tolist() == [1] * 6 + [2, 2] and trimer["msa_mask"][1:].sum() == 0
    assert trimer["seq_length"].dtype == np.int32 and int(trimer["seq_length"]) == 8


@pytest.mark.parametrize("description, species", [
    ("tr|A0A146SKV9|A0A146SKV9_FUNHE/12-100 some protein", "FUNHE"),
    ("sp|P12345_1|ABCD_YEAST_12/3-40", "YEAST"),           # isoform and trailing number suffixes
    ("tr|ZZ0000277|ZZ0000277_9BACT", "9BACT"),
    ("tr|X1234567|Y_HUMANX/1-9", ""),                      # 6-letter "species": not a UniProt name
    ("UniRef90_A0A146SKV9 n=1 Tax=Fundulus", ""), ("", ""),
])
def test_species_of_uniprot_names(description, species):
    from foldkit.features.raw import species_id

    assert species_id(description) == species


def test_heteromer_with_copies_pairs_species_over_all_chains():
    """A2B: the copies of A take the same paired rows, side by side; A's own rows fill both copies' columns."""
    complex_ = _complex("MKVL:GSW:MKVL")
    own_a = parse_a3m(">A\nMKVL\n>x\nMKVI\n", None, "MKVL")
    own_b = parse_a3m(">B\nGSW\n>y\nGTW\n", None, "GSW")
    uniprot_a = parse_a3m(">A\nMKVL\n>tr|Q11111|Q11111_HUMAN/1-4\nMRVL\n>tr|Q22222|Q22222_MOUSE/1-4\nMRVI\n",
                          None, "MKVL")
    uniprot_b = parse_a3m(">B\nGSW\n>tr|P11111|P11111_HUMAN/2-4\nASW\n", None, "GSW")
    features = complex_features_from_a3m(complex_, [own_a, own_b], pairing_msas=[uniprot_a, uniprot_b])
    real = int(features["num_alignments"])
    msa = features["msa"][:real]
    assert features["asym_id"].tolist() == [1] * 4 + [2] * 4 + [3] * 3       # A, C (copies), then B
    # rows: queries; HUMAN paired in all three chains; MOUSE "paired" in the two copies of A only (a species
    # counts per chain, copies included, as in AlphaFold-Multimer), gaps in B; then A's own row (both copies)
    # and B's own row
    assert real == 5 and msa[1].tolist() == [12, 1, 19, 10] * 2 + [0, 15, 17]
    assert msa[2].tolist() == [12, 1, 19, 9] * 2 + [GAP] * 3
    assert msa[3].tolist() == [12, 11, 19, 9] * 2 + [GAP] * 3 and msa[4].tolist() == [GAP] * 8 + [7, 16, 17]
    assert features["bert_mask"][:real].tolist() == [[1] * 11] * 3 + [[1] * 8 + [0] * 3, [0] * 8 + [1] * 3]
