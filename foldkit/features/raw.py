"""Raw (unprocessed) features with AlphaFold2's names, dtypes and residue orders.

``make_sequence_features`` + ``make_msa_features`` (+ template features from
:mod:`foldkit.features.templates`) give the dictionary that AlphaFold2's
``RunModel.process_features`` takes; :mod:`foldkit.features.process` turns it
into model inputs. ``aatype`` is a one-hot in AlphaFold order (20 = X), ``msa``
uses the HHblits order (``HHBLITS_AA_TO_ID``, gap = 21).
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.io.msa_files import Msa, merge_msas

# UniProt headers such as "tr|A0A146SKV9|A0A146SKV9_FUNHE/12-100 ...": species = FUNHE. The whole first word
# (before any "/start-end") must match: an isoform suffix "_1" may follow the accession, "_<digits>" the species.
_UNIPROT_ID = re.compile(
    r"^(?:tr|sp)\|(?P<accession>[A-Za-z0-9]{6,10})(?:_\d)?\|(?:[A-Za-z0-9]+)_(?P<species>[A-Za-z0-9]{1,5})"
    r"(?:_\d+)?$")


def hhblits_ids() -> dict[str, int]:
    """One-letter code (and '-') -> HHblits index."""
    return dict(rc.table("HHBLITS_AA_TO_ID"))


def species_id(description: str) -> str:
    """UniProt species mnemonic of an MSA row description ('' if none)."""
    words = description.strip().split()
    if not words:
        return ""
    found = _UNIPROT_ID.search(words[0].partition("/")[0])
    return found.group("species") if found else ""


def make_sequence_features(sequence: str, description: str = "query",
                           residue_index: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Sequence features: aatype one-hot [L,21], residue_index, seq_length, ...

    ``residue_index`` defaults to 0..L-1 (pass one with jumps to mark chain breaks).
    """
    length = len(sequence)
    aatype = np.array([rc.RESTYPE_ORDER.get(c, rc.UNK_INDEX) for c in sequence.upper()], dtype=np.int64)
    one_hot = np.zeros((length, rc.UNK_INDEX + 1), dtype=np.int32)  # [L, 21]
    one_hot[np.arange(length), aatype] = 1
    if residue_index is None:
        residue_index = np.arange(length)
    residue_index = np.asarray(residue_index, dtype=np.int32)
    if residue_index.shape != (length,):
        raise ValueError(f"residue_index has shape {residue_index.shape}, expected ({length},)")
    return {
        "aatype": one_hot,
        "between_segment_residues": np.zeros(length, dtype=np.int32),   # [L]
        "domain_name": np.array([description]),
        "residue_index": residue_index,                                # [L]
        "seq_length": np.full(length, length, dtype=np.int32),          # [L]
        "sequence": np.array([sequence]),
    }


def make_msa_features(msas: Sequence[Msa]) -> dict[str, np.ndarray]:
    """MSA features of one or more MSAs of the same query, deduplicated (first kept)."""
    if not msas:
        raise ValueError("at least one MSA is needed (use Msa.single_sequence for none)")
    for k, msa in enumerate(msas):
        if len(msa) == 0:
            raise ValueError(f"MSA {k} is empty")
    merged = merge_msas(msas)
    ids = hhblits_ids()
    num_res = merged.num_columns
    try:
        msa = np.array([[ids[c] for c in seq] for seq in merged.sequences], dtype=np.int32)
    except KeyError as exc:
        raise ValueError(f"MSA contains the non-amino-acid letter {exc.args[0]!r}") from None
    msa = msa.reshape(len(merged), num_res)                                       # [N, L]
    return {
        "deletion_matrix_int": merged.deletion_array(),                           # [N, L]
        "msa": msa,
        "num_alignments": np.full(num_res, len(merged), dtype=np.int32),          # [L]
        "msa_species_identifiers": np.array([species_id(d) for d in merged.descriptions]),
    }


def make_raw_features(sequence: str, msas: Sequence[Msa], description: str = "query",
                      residue_index: np.ndarray | None = None,
                      template_features: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Sequence + MSA (+ template) features in one dictionary."""
    if msas and msas[0].num_columns != len(sequence):
        raise ValueError(f"the MSA has {msas[0].num_columns} columns, the query {len(sequence)} residues")
    features = make_sequence_features(sequence, description, residue_index)
    features.update(make_msa_features(msas or [Msa.single_sequence(sequence, description)]))
    if template_features is not None:
        features.update(template_features)
    return features
