"""Per-chain multimer features: the pairing MSA, the monomer->multimer conversion, assembly ids.

AlphaFold-Multimer featurizes every distinct chain with the monomer pipeline
(sequence, MSA and template features, :mod:`foldkit.features.raw`), adds for
heteromers the UniProt MSA as ``*_all_seq`` features (the rows that are paired
by species), and converts each chain to the multimer layout:

* ``sequence``, ``domain_name``, ``num_alignments``, ``seq_length`` lose their
  per-residue axis (0-d arrays of their first value);
* ``aatype`` becomes indices (int32), ``template_aatype`` indices in AlphaFold
  order (int64, HHblits one-hot -> AlphaFold order);
* ``template_all_atom_masks`` is renamed ``template_all_atom_mask``;
* ``auth_chain_id`` (0-d) names the chain.

Assembly ids (:func:`assembly_chains`): chains are grouped by entity (first
appearance of a sequence), ``asym_id`` counts chains in that grouped order,
``sym_id`` the copies within an entity; the ids are float64 arrays over the
chain's residues, as AlphaFold makes them. Each chain is keyed
``<entity letters>_<sym>`` (``A_1``, ``A_2``, ``B_1``, ...), the names of the
reference's ``pair_input_*.npz`` files.
"""

from __future__ import annotations

import copy
from typing import Mapping, Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.features.raw import hhblits_ids, make_msa_features, species_id
from foldkit.io.msa_files import Msa

ALL_SEQ_SUFFIX = "_all_seq"
PAIRING_FEATURES = ("msa", "deletion_matrix_int", "msa_species_identifiers")   # kept as *_all_seq
SCALAR_FEATURES = ("sequence", "domain_name", "num_alignments", "seq_length")
MAX_UNIPROT_HITS = 50000


def pairing_msa_features(msa: Msa, max_hits: int | None = MAX_UNIPROT_HITS,
                         deduplicate: bool = True) -> dict[str, np.ndarray]:
    """``msa_all_seq`` [M, L] int32, ``deletion_matrix_int_all_seq`` [M, L], ``msa_species_identifiers_all_seq``
    [M] of a pairing MSA: its first ``max_hits`` rows, duplicates dropped (first kept) as for AlphaFold's
    UniProt MSA; ``deduplicate=False`` keeps every row (MSAs paired by row, where row k must stay row k)."""
    if max_hits is not None:
        msa = msa.truncate(max_hits)
    if deduplicate:
        features = make_msa_features([msa])
    else:
        ids = hhblits_ids()
        features = {
            "msa": np.array([[ids[c] for c in row] for row in msa.sequences], dtype=np.int32
                            ).reshape(len(msa), msa.num_columns),                                # [M, L]
            "deletion_matrix_int": msa.deletion_array(),                                         # [M, L]
            "msa_species_identifiers": np.array([species_id(d) for d in msa.descriptions]),      # [M]
        }
    return {f"{name}{ALL_SEQ_SUFFIX}": features[name] for name in PAIRING_FEATURES}


def convert_chain_features(raw: Mapping[str, np.ndarray], chain_id: str) -> dict[str, np.ndarray]:
    """A chain's monomer features in the multimer layout (see the module docstring); ``raw`` is unchanged."""
    hhblits_to_alphafold = np.asarray(rc.table("MAP_HHBLITS_AATYPE_TO_OUR_AATYPE"), dtype=np.int64)
    converted: dict[str, np.ndarray] = {"auth_chain_id": np.asarray(chain_id)}
    for name, value in raw.items():
        value = np.asarray(value)
        if name in SCALAR_FEATURES:
            value = np.asarray(value[0], dtype=value.dtype)
        elif name == "aatype":
            value = np.argmax(value, axis=-1).astype(np.int32)                     # [L]
        elif name == "template_aatype":
            value = hhblits_to_alphafold[np.argmax(value, axis=-1)]                # [T, L] int64
        elif name == "template_all_atom_masks":
            name = "template_all_atom_mask"
        converted[name] = value
    return converted


def entity_letters(entity_id: int) -> str:
    """AlphaFold's string form of an entity number: 1 -> 'A', 26 -> 'Z', 27 -> 'AA', 28 -> 'BA'
    (least significant letter first)."""
    if entity_id < 1:
        raise ValueError(f"entity ids start at 1, got {entity_id}")
    letters, rest = [], entity_id - 1
    while rest >= 0:
        letters.append(chr(ord("A") + rest % 26))
        rest = rest // 26 - 1
    return "".join(letters)


def assembly_chains(chains: Sequence[Mapping[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
    """Converted chain features in input order -> ``{'<entity>_<sym>': features}`` in feature order, each with
    ``asym_id``, ``sym_id``, ``entity_id`` [L] float64. A repeated sequence is an independent copy."""
    entities: dict[str, int] = {}
    grouped: dict[int, list[dict]] = {}
    for chain in chains:
        sequence = str(chain["sequence"])
        entity = entities.setdefault(sequence, len(entities) + 1)
        grouped.setdefault(entity, []).append(copy.deepcopy(dict(chain)))
    assembled: dict[str, dict[str, np.ndarray]] = {}
    asym = 0
    for entity, members in grouped.items():
        for sym, features in enumerate(members, start=1):
            asym += 1
            length = int(features["seq_length"])
            features["asym_id"] = np.full(length, asym, dtype=np.float64)
            features["sym_id"] = np.full(length, sym, dtype=np.float64)
            features["entity_id"] = np.full(length, entity, dtype=np.float64)
            assembled[f"{entity_letters(entity)}_{sym}"] = features
    return assembled
