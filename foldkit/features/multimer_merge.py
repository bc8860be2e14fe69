"""Merging the chains of a complex into one feature dict, as AlphaFold-Multimer v2.3 does.

Steps (:func:`pair_and_merge`, then :func:`pad_msa`), restated from the
published pipeline and checked against its outputs:

1. Per chain: ``deletion_matrix`` (float32) from the integer counts (also for
   ``*_all_seq``), ``deletion_mean`` [L] over the chain's own MSA (before any
   row is dropped), ``all_atom_mask`` [L, 37] (int32, the standard atoms of
   each residue type), ``all_atom_positions`` [L, 37, 3] (float64 zeros),
   ``assembly_num_chains`` and ``entity_mask``.
2. Heteromers: rows paired across chains (:mod:`.multimer_pairing`), then the
   unpaired rows that repeat a paired row dropped.
3. Cropping per chain: paired rows to ``min(P, msa_crop_size // 2)``; own rows
   to ``msa_crop_size`` minus the number of paired rows that are not all gaps
   in this chain (heteromers) or to ``msa_crop_size`` (homomers); templates
   to ``max_templates`` (then zero-padded to exactly ``max_templates``).
4. Copies of one entity are merged side by side (their MSAs concatenated
   along residues, row k with row k); entities are then merged
   block-diagonally: the own MSA of an entity occupies its residues, gaps
   (deletions 0) elsewhere. Paired rows are concatenated along residues and
   placed first.
5. ``cluster_bias_mask`` [N] float64 is 1 on row 0 (the query); with no
   pairing, on the first row of every entity block. ``bert_mask`` [N, L]
   float32 is 1 on paired rows and on each block's own residues.
6. ``msa`` to AlphaFold's residue order (int32), ``seq_mask`` / ``msa_mask``
   from ``entity_id > 0``; only the features the model reads are kept.
   ``num_templates`` is the first chain's (capped) template count, ``seq_length``
   and ``num_alignments`` the merged totals.
7. :func:`pad_msa`: rows of zeros up to 512 (``msa``, ``deletion_matrix``,
   ``bert_mask``, ``msa_mask``, ``cluster_bias_mask``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.features.multimer_pairing import (GAP_INDEX, apply_pairing, deduplicate_unpaired, pair_by_species,
                                               paired_rows_by_row)

MSA_CROP_SIZE = 2048
MAX_TEMPLATES = 4
MIN_NUM_SEQ = 512
MSA_FEATURES = ("msa", "msa_mask", "deletion_matrix", "deletion_matrix_int")
MSA_PAD_VALUES = {"msa": GAP_INDEX, "msa_mask": 1, "deletion_matrix": 0, "deletion_matrix_int": 0}
SEQ_FEATURES = ("residue_index", "aatype", "all_atom_positions", "all_atom_mask", "seq_mask",
                "between_segment_residues", "has_alt_locations", "has_hetatoms", "asym_id", "entity_id", "sym_id",
                "entity_mask", "deletion_mean", "prediction_atom_mask", "literature_positions",
                "atom_indices_to_group_indices", "rigid_group_default_frame")
TEMPLATE_FEATURES = ("template_aatype", "template_all_atom_positions", "template_all_atom_mask")
CHAIN_FEATURES = ("num_alignments", "seq_length")
MODEL_FEATURES = frozenset({
    "aatype", "all_atom_mask", "all_atom_positions", "all_chains_entity_ids", "all_crops_all_chains_mask",
    "all_crops_all_chains_positions", "all_crops_all_chains_residue_ids", "assembly_num_chains", "asym_id",
    "bert_mask", "cluster_bias_mask", "deletion_matrix", "deletion_mean", "entity_id", "entity_mask", "mem_peak",
    "msa", "msa_mask", "num_alignments", "num_templates", "queue_size", "residue_index", "resolution",
    "seq_length", "seq_mask", "sym_id", "template_aatype", "template_all_atom_mask",
    "template_all_atom_positions"})
PAIRING_MODES = ("species", "rows")


def _base_name(name: str) -> str:
    return name.split("_all_seq")[0]


def add_chain_derived_features(chains: Sequence[dict]) -> None:
    """Step 1 (in place)."""
    atom_mask = np.asarray(rc.table("STANDARD_ATOM_MASK"))             # [21, 37] int32
    for chain in chains:
        chain["deletion_matrix"] = np.asarray(chain.pop("deletion_matrix_int"), dtype=np.float32)
        if "deletion_matrix_int_all_seq" in chain:
            chain["deletion_matrix_all_seq"] = np.asarray(chain.pop("deletion_matrix_int_all_seq"),
                                                          dtype=np.float32)
        chain["deletion_mean"] = np.mean(chain["deletion_matrix"], axis=0)               # [L] float32
        chain["all_atom_mask"] = atom_mask[chain["aatype"]]                               # [L, 37]
        chain["all_atom_positions"] = np.zeros(chain["all_atom_mask"].shape + (3,))       # [L, 37, 3]
        chain["assembly_num_chains"] = np.asarray(len(chains))
    for chain in chains:
        chain["entity_mask"] = (chain["entity_id"] != 0).astype(np.int32)


def crop_chain(chain: dict, paired: bool, msa_crop_size: int = MSA_CROP_SIZE,
               max_templates: int = MAX_TEMPLATES) -> dict:
    """Step 3 for one chain (in place, returned)."""
    own_rows = int(chain["num_alignments"])
    if paired:
        paired_rows = min(int(chain["num_alignments_all_seq"]), msa_crop_size // 2)
        with_residues = int(np.sum(np.any(chain["msa_all_seq"][:paired_rows] != GAP_INDEX, axis=1)))
        own_rows = min(own_rows, max(msa_crop_size - min(with_residues, paired_rows), 0))
    else:
        own_rows = min(own_rows, msa_crop_size)
    with_templates = "template_aatype" in chain and max_templates
    num_templates = min(chain["template_aatype"].shape[0], max_templates) if with_templates else 0
    for name in list(chain):
        base = _base_name(name)
        if base in TEMPLATE_FEATURES:
            chain[name] = chain[name][:num_templates]
        elif base in MSA_FEATURES:
            chain[name] = chain[name][:paired_rows] if (paired and name.endswith("_all_seq")) else \
                chain[name][:own_rows]
    chain["num_alignments"] = np.asarray(own_rows, dtype=np.int32)
    if with_templates:
        chain["num_templates"] = np.asarray(num_templates, dtype=np.int32)
    if paired:
        chain["num_alignments_all_seq"] = np.asarray(paired_rows, dtype=np.int32)
    return chain


def pad_templates(chain: dict, max_templates: int = MAX_TEMPLATES) -> None:
    """Template features zero-padded to ``max_templates`` (in place)."""
    for name in TEMPLATE_FEATURES:
        if name in chain:
            value = chain[name]
            chain[name] = np.pad(value, [(0, max_templates - value.shape[0])] + [(0, 0)] * (value.ndim - 1))


def block_diagonal(blocks: Sequence[np.ndarray], pad_value) -> np.ndarray:
    """[sum rows, sum columns] with each block on the diagonal, ``pad_value`` elsewhere."""
    blocks = [b[None] if b.ndim == 1 else b for b in blocks]
    rows = sum(b.shape[0] for b in blocks)
    columns = sum(b.shape[1] for b in blocks)
    out = np.full((rows, columns), pad_value, dtype=blocks[0].dtype)
    r = c = 0
    for block in blocks:
        out[r:r + block.shape[0], c:c + block.shape[1]] = block
        r += block.shape[0]
        c += block.shape[1]
    return out


def merge_features(chains: Sequence[dict], side_by_side_msa: bool) -> dict:
    """One dict from several chains: MSAs side by side (``side_by_side_msa`` or ``*_all_seq``) or
    block-diagonal, per-residue features concatenated, templates along residues, counts summed, the rest
    taken from the first chain."""
    merged = {}
    for name in chains[0]:
        values = [chain[name] for chain in chains]
        base = _base_name(name)
        if base in MSA_FEATURES:
            if side_by_side_msa or name.endswith("_all_seq"):
                merged[name] = np.concatenate(values, axis=1)
            else:
                merged[name] = block_diagonal(values, MSA_PAD_VALUES[name])
        elif base in SEQ_FEATURES:
            merged[name] = np.concatenate(values, axis=0)
        elif base in TEMPLATE_FEATURES:
            merged[name] = np.concatenate(values, axis=1)
        elif base in CHAIN_FEATURES:
            merged[name] = np.asarray(sum(int(v) for v in values), dtype=np.int32)
        else:
            merged[name] = values[0]
    return merged


def merge_copies(chains: Sequence[dict]) -> list[dict]:
    """Copies of each entity merged side by side, entities in ascending id."""
    by_entity: dict[float, list[dict]] = {}
    for chain in chains:
        by_entity.setdefault(float(chain["entity_id"][0]), []).append(chain)
    return [merge_features(by_entity[entity], side_by_side_msa=True) for entity in sorted(by_entity)]


def merge_chains(chains: Sequence[dict], paired: bool, max_templates: int = MAX_TEMPLATES) -> dict:
    """Steps 4-5."""
    for chain in chains:
        pad_templates(chain, max_templates)
    entities = merge_copies(chains)
    example = merge_features(entities, side_by_side_msa=False)
    if paired:
        for name in MSA_FEATURES:
            if name in example:
                example[name] = np.concatenate([example[f"{name}_all_seq"], example[name]], axis=0)
    example["seq_length"] = np.asarray(example["aatype"].shape[0], dtype=np.int32)
    example["num_alignments"] = np.asarray(example["msa"].shape[0], dtype=np.int32)
    own_masks = [np.ones(entity["msa"].shape, dtype=np.float32) for entity in entities]
    own_block = block_diagonal(own_masks, 0)
    if paired:
        bias = np.zeros(example["msa"].shape[0])
        bias[0] = 1
        paired_mask = np.concatenate([np.ones(e["msa_all_seq"].shape, dtype=np.float32) for e in entities],
                                     axis=1)
        example["bert_mask"] = np.concatenate([paired_mask, own_block], axis=0)
    else:
        bias = np.concatenate([np.eye(1, entity["msa"].shape[0]).ravel() for entity in entities])
        example["bert_mask"] = own_block
    example["cluster_bias_mask"] = bias                                                   # [N] float64
    return example


def finalize(example: dict) -> dict:
    """Step 6."""
    hhblits_to_alphafold = np.asarray(rc.table("MAP_HHBLITS_AATYPE_TO_OUR_AATYPE"), dtype=np.int64)
    example["msa"] = hhblits_to_alphafold[example["msa"]].astype(np.int32)
    residue_mask = (example["entity_id"] > 0).astype(np.float32)
    example["seq_mask"] = residue_mask
    example["msa_mask"] = np.ones(example["msa"].shape, dtype=np.float32) * residue_mask[None]
    return {name: value for name, value in example.items() if name in MODEL_FEATURES}


def pair_and_merge(chains: Sequence[dict], pairing: str = "species", deduplicate: bool = True,
                   msa_crop_size: int = MSA_CROP_SIZE, max_templates: int = MAX_TEMPLATES) -> dict:
    """Assembled chains (feature order) -> the merged example (steps 1-6); the chains are modified.

    ``pairing``: "species" (UniProt rows matched by species) or "rows" (``*_all_seq`` rows already
    paired, e.g. ColabFold's paired A3M). Pairing happens only for complexes of several entities;
    ``deduplicate`` drops unpaired rows that repeat a paired one (AlphaFold-Multimer does).
    """
    if pairing not in PAIRING_MODES:
        raise ValueError(f"pairing must be one of {PAIRING_MODES}, not {pairing!r}")
    chains = list(chains)
    add_chain_derived_features(chains)
    entities = {float(v) for chain in chains for v in np.unique(chain["entity_id"])}
    paired = len(entities) > 1
    if paired:
        rows = pair_by_species(chains) if pairing == "species" else paired_rows_by_row(chains)
        chains = apply_pairing(chains, rows)
        if deduplicate:
            chains = deduplicate_unpaired(chains)
    chains = [crop_chain(chain, paired, msa_crop_size, max_templates) for chain in chains]
    return finalize(merge_chains(chains, paired, max_templates))


def pad_msa(example: dict, min_num_seq: int = MIN_NUM_SEQ) -> dict:
    """Step 7: MSA rows of zeros up to ``min_num_seq`` (a new dict)."""
    example = dict(example)
    missing = min_num_seq - example["msa"].shape[0]
    if missing > 0:
        for name in ("msa", "deletion_matrix", "bert_mask", "msa_mask"):
            example[name] = np.pad(example[name], ((0, missing), (0, 0)))
        example["cluster_bias_mask"] = np.pad(example["cluster_bias_mask"], ((0, missing),))
    return example
