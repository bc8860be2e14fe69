"""A complex's prediction from the multimer network's outputs, in the chain order of the input.

AlphaFold-Multimer's features lay the chains out entity by entity
(:attr:`foldkit.io.complexes.Complex.feature_order`: for ``A:B:A`` the
residues of A, then of the second A, then of B), and ``asym_id`` k is the
k-th chain of that order. foldkit writes chains with the ids ``A, B, C ...``
in the order the input gives them, so every per-residue output (structure,
pLDDT, PAE rows and columns) is permuted back to input order here; pTM and
ipTM do not depend on the order.
"""

from __future__ import annotations

import numpy as np

from foldkit import constants as rc
from foldkit.io.complexes import Complex
from foldkit.predict.outputs import Prediction
from foldkit.protein import Protein

GAP_INDEX = 21           # gap in AlphaFold's MSA residue order


def input_order(complex_: Complex) -> np.ndarray:
    """[L] feature-layout index of every residue, chains in input order."""
    start, offsets = 0, {}
    for chain in complex_.feature_order:
        offsets[chain.chain_id] = start
        start += len(chain)
    return np.concatenate([offsets[c.chain_id] + np.arange(len(c)) for c in complex_.chains]).astype(np.int64)


def check_layout(complex_: Complex, features: dict) -> None:
    """The features must hold the complex's residues in feature order (guards against a mismatched file)."""
    aatype = np.asarray(features["aatype"])
    expected = np.concatenate([[rc.RESTYPE_ORDER.get(ch, rc.UNK_INDEX) for ch in c.sequence]
                               for c in complex_.feature_order])
    asym = np.asarray(features["asym_id"])
    lengths = [len(c) for c in complex_.feature_order]
    expected_asym = np.repeat(np.arange(1, len(lengths) + 1), lengths)
    if aatype.shape != expected.shape or not np.array_equal(aatype, expected) or not np.array_equal(asym,
                                                                                                  expected_asym):
        raise ValueError(f"features of complex '{complex_.id}' do not match its chains "
                         f"({aatype.shape[0]} residues, expected {expected.shape[0]})")


def complex_prediction(name: str, model: str, seed: int, outputs: dict, complex_: Complex,
                       features: dict, num_recycle: int) -> Prediction:
    """The :class:`Prediction` of a complex: chains A, B, ... in input order, residues numbered from 1 per chain.

    ``outputs``: :func:`foldkit.model.multimer_runner.predict_multimer_from_features`'s
    (feature order); ``num_recycle``: the maximum the network was given
    (fewer recycles run means it stopped early).
    """
    order = input_order(complex_)
    aatype = np.asarray(features["aatype"], np.int32)[order]                                   # [L]
    plddt = np.asarray(outputs["confidence/plddt"], np.float32)[order]                         # [L]
    positions = np.asarray(outputs["structure_module/final_atom_positions"], np.float32)[order]  # [L, 37, 3]
    mask = np.asarray(outputs["structure_module/final_atom_mask"], np.float32)[order]          # [L, 37]
    pae = np.asarray(outputs["confidence/predicted_aligned_error"], np.float32)[np.ix_(order, order)]  # [L, L]
    b_factors = plddt[:, None] * mask
    chains, residue_index, start = [], [], 0
    for chain in complex_.chains:
        span = slice(start, start + len(chain))
        numbers = np.arange(1, len(chain) + 1, dtype=np.int32)
        chains.append(Protein(aatype=aatype[span], atom_positions=positions[span], atom_mask=mask[span],
                              residue_index=numbers, chain_id=chain.chain_id, b_factors=b_factors[span]))
        residue_index.append(numbers)
        start += len(chain)
    whole = Protein(aatype=aatype, atom_positions=positions, atom_mask=mask,
                    residue_index=np.concatenate(residue_index), chain_id=complex_.chains[0].chain_id,
                    b_factors=b_factors)
    num_recycles = int(np.asarray(outputs["num_recycles"]))
    return Prediction(name=name, model=model, seed=seed, protein=whole, plddt=plddt, pae=pae,
                      max_pae=float(outputs["confidence/max_predicted_aligned_error"]),
                      ptm=float(outputs["confidence/ptm"]), num_recycles=num_recycles, distance_changes=(),
                      early_stopped=num_recycles < num_recycle, iptm=float(outputs["confidence/iptm"]),
                      chains=tuple(chains))


def merged_msa_rows(complex_: Complex, features: dict) -> np.ndarray:
    """[N, L] the complex's merged MSA (AlphaFold residue indices, 21 = gap), real rows only, columns in
    input chain order (the rows the network samples from: paired rows first, then each chain's own)."""
    msa = np.asarray(features["msa"])
    real = np.asarray(features["msa_mask"]).sum(axis=1) > 0
    return msa[real][:, input_order(complex_)]


def merged_msa_a3m(complex_: Complex, features: dict) -> str:
    """The merged MSA as A3M text (no insertions: the features keep only deletion counts)."""
    letters = np.array(list(rc.RESTYPES_WITH_X) + ["-"])
    rows = merged_msa_rows(complex_, features)
    names = [f"{complex_.id} {':'.join(c.chain_id for c in complex_.chains)}"] + \
        [f"row_{k}" for k in range(1, len(rows))]
    return "".join(f">{name}\n{''.join(letters[np.minimum(row, GAP_INDEX)])}\n" for name, row in zip(names, rows))
