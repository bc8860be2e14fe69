"""Multimer features of a complex: what ``predict_multimer_from_features`` takes.

Entry points (each returns the padded feature dict of AlphaFold-Multimer's
data pipeline, ``pad_msa(pair_and_merge(...), 512)``; keys ``aatype``,
``residue_index``, ``asym_id``, ``sym_id``, ``entity_id``, ``seq_mask``,
``seq_length``, ``msa``, ``msa_mask``, ``deletion_matrix``, ``deletion_mean``,
``bert_mask``, ``cluster_bias_mask``, ``num_alignments``, ``template_aatype``,
``template_all_atom_positions``, ``template_all_atom_mask``,
``num_templates``, ``all_atom_mask``, ``all_atom_positions``, ``entity_mask``,
``assembly_num_chains``, with AlphaFold's dtypes):

* :func:`complex_features_from_chain_features`: from each distinct chain's
  monomer raw features (plus ``*_all_seq`` pairing features for heteromers),
  e.g. those of :mod:`foldkit.msa.af2_complex` (the searches);
* :func:`complex_features_from_a3m`: from per-chain MSAs without searching
  (``--msa DIR``, ColabFold's paired/unpaired A3M, an MSA server's results):
  unpaired MSAs per chain, and either paired MSAs (row k of every chain is
  paired row k; no species matching) or pairing MSAs with UniProt-style names
  (matched by species as AlphaFold-Multimer does), optional templates;
* :func:`single_sequence_complex_features`: no MSA (each chain's query only).

Residues are laid out entity by entity (``Complex.feature_order``): ``asym_id``
k belongs to the k-th chain of that order. Chains without templates get
AlphaFold-Multimer's single all-zero template.
"""

from __future__ import annotations

import copy
from typing import Mapping, Sequence

import numpy as np

from foldkit.errors import InputError
from foldkit.features.multimer_chain import (MAX_UNIPROT_HITS, assembly_chains, convert_chain_features,
                                            pairing_msa_features)
from foldkit.features.multimer_merge import MIN_NUM_SEQ, pad_msa, pair_and_merge
from foldkit.features.raw import make_raw_features
from foldkit.io.complexes import Complex, ComplexChain
from foldkit.io.msa_files import Msa

TEMPLATE_KEYS = ("template_aatype", "template_all_atom_masks", "template_all_atom_positions",
                 "template_domain_names", "template_sequence", "template_sum_probs")


def chain_description(chain: ComplexChain) -> str:
    """The name AlphaFold-Multimer gives a chain's query (``chain_A``): its ``domain_name`` and search query name."""
    return f"chain_{chain.chain_id}"


def _template_features(chain: ComplexChain, templates: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    from foldkit.templates import no_template_features

    if templates is None or np.asarray(templates.get("template_aatype", [])).ndim != 3 \
            or np.asarray(templates["template_aatype"]).shape[0] == 0:
        return no_template_features(len(chain.sequence), zero_template=True)
    shape = np.asarray(templates["template_aatype"]).shape
    if shape[1] != len(chain.sequence):
        raise InputError(f"chain {chain.chain_id}: template features cover {shape[1]} residues, the chain has "
                         f"{len(chain.sequence)}")
    return {name: np.asarray(templates[name]) for name in TEMPLATE_KEYS if name in templates}


def chain_raw_features(chain: ComplexChain, msas: Sequence[Msa], templates: Mapping[str, np.ndarray] | None = None,
                       pairing_msa: Msa | None = None, paired_by_row: bool = False) -> dict[str, np.ndarray]:
    """One distinct chain's monomer raw features (AlphaFold2's names; ``domain_name`` ``chain_<id>``), plus the
    ``*_all_seq`` features of ``pairing_msa`` when given (``paired_by_row``: every row kept, in order).
    ``msas`` are merged in order, duplicates dropped."""
    for msa in msas:
        if msa.num_columns != len(chain.sequence) or msa.query != chain.sequence:
            raise InputError(f"chain {chain.chain_id}: the MSA's first row is not the chain's sequence "
                             f"({msa.num_columns} columns, chain of {len(chain.sequence)} residues)")
    raw = make_raw_features(chain.sequence, list(msas), description=chain_description(chain),
                            template_features=_template_features(chain, templates))
    if pairing_msa is not None:
        if pairing_msa.query != chain.sequence:
            raise InputError(f"chain {chain.chain_id}: the pairing MSA's first row is not the chain's sequence")
        raw.update(pairing_msa_features(pairing_msa, max_hits=None if paired_by_row else MAX_UNIPROT_HITS,
                                        deduplicate=not paired_by_row))
    return raw


def complex_features_from_chain_features(complex_: Complex, chain_features: Mapping[str, Mapping[str, np.ndarray]],
                                         *, pairing: str = "species", deduplicate: bool = True,
                                         min_num_seq: int = MIN_NUM_SEQ, pair_inputs: dict | None = None
                                         ) -> dict[str, np.ndarray]:
    """The padded multimer features from raw features keyed by the id of each distinct chain's first copy.

    Copies of a chain reuse its converted features (``auth_chain_id`` of the first copy, as AlphaFold-Multimer).
    ``pair_inputs``, when given a dict, receives the assembled per-chain features (``A_1``, ``B_1``, ...) as
    they enter pairing (the reference's ``pair_input_*.npz``).
    """
    if complex_.is_heteromer:
        for chain in complex_.distinct_chains:
            if "msa_all_seq" not in chain_features[chain.chain_id]:
                raise ValueError(f"chain {chain.chain_id} of heteromer {complex_.id!r} has no pairing (*_all_seq) "
                                 "features")
    converted: dict[str, dict] = {}
    ordered = []
    for chain in complex_.chains:
        first = complex_.first_copy(chain)
        if first.chain_id not in converted:
            converted[first.chain_id] = convert_chain_features(chain_features[first.chain_id], first.chain_id)
        ordered.append(copy.deepcopy(converted[first.chain_id]))
    assembled = assembly_chains(ordered)
    if pair_inputs is not None:
        pair_inputs.update(copy.deepcopy(assembled))
    merged = pair_and_merge(list(assembled.values()), pairing=pairing, deduplicate=deduplicate)
    return pad_msa(merged, min_num_seq)


def _per_distinct(complex_: Complex, values, what: str) -> dict[str, object]:
    """Per-chain inputs given per chain, per distinct chain, or keyed by chain id -> keyed by first-copy id."""
    distinct = complex_.distinct_chains
    if isinstance(values, Mapping):
        missing = [c.chain_id for c in distinct if c.chain_id not in values]
        if missing:
            raise InputError(f"complex '{complex_.id}': no {what} for chain{'s' * (len(missing) > 1)} "
                             f"{', '.join(missing)}")
        return {c.chain_id: values[c.chain_id] for c in distinct}
    values = list(values)
    if len(values) == len(complex_.chains):
        return {c.chain_id: values[k] for k, c in enumerate(complex_.chains) if c.sym_id == 1}
    if len(values) == len(distinct):
        return {c.chain_id: v for c, v in zip(distinct, values)}
    raise InputError(f"complex '{complex_.id}': {len(values)} {what}, expected one per chain ({len(complex_.chains)}) "
                     f"or per distinct sequence ({len(distinct)})")


def complex_features_from_a3m(complex_: Complex, unpaired: Sequence[Msa] | Mapping[str, Msa],
                              paired: Sequence[Msa] | Mapping[str, Msa] | None = None,
                              templates: Sequence[Mapping | None] | Mapping[str, Mapping | None] | None = None,
                              *, pairing_msas: Sequence[Msa] | Mapping[str, Msa] | None = None,
                              deduplicate: bool = True, min_num_seq: int = MIN_NUM_SEQ) -> dict[str, np.ndarray]:
    """Multimer features from MSAs given per chain (no search).

    ``unpaired``: each chain's own MSA (query first). ``paired``: MSAs paired by row (ColabFold's paired block:
    row k of every chain is one paired row; all have the same number of rows, query first); or
    ``pairing_msas``: UniProt-style MSAs matched by species. With neither, a heteromer's only paired row is the
    query. Homomers are never paired. Each argument is a list per chain, a list per distinct sequence, or a dict
    keyed by chain id; copies use their first chain's entry. ``templates``: monomer template features per chain
    (``TemplateResult.features``) or None (one all-zero template).
    """
    if paired is not None and pairing_msas is not None:
        raise ValueError("give paired MSAs (paired by row) or pairing MSAs (paired by species), not both")
    own = _per_distinct(complex_, unpaired, "unpaired MSAs")
    chosen_templates = _per_distinct(complex_, templates, "template features") if templates is not None else {}
    pairs = None
    if complex_.is_heteromer:
        source = paired if paired is not None else pairing_msas
        pairs = _per_distinct(complex_, source, "paired MSAs") if source is not None else \
            {c.chain_id: Msa.single_sequence(c.sequence, chain_description(c)) for c in complex_.distinct_chains}
        if paired is not None:
            counts = {len(msa) for msa in pairs.values()}
            if len(counts) != 1:
                raise InputError(f"complex '{complex_.id}': the paired MSAs have different numbers of rows "
                                 f"({', '.join(f'{k} {len(m)}' for k, m in pairs.items())}); paired row k must "
                                 "exist in every chain")
    mode = "rows" if (paired is not None or pairing_msas is None) else "species"
    features = {}
    for chain in complex_.distinct_chains:
        pairing_msa = pairs[chain.chain_id] if pairs is not None else None
        features[chain.chain_id] = chain_raw_features(chain, [own[chain.chain_id]],
                                                      chosen_templates.get(chain.chain_id), pairing_msa,
                                                      paired_by_row=mode == "rows")
    return complex_features_from_chain_features(complex_, features, pairing=mode, deduplicate=deduplicate,
                                                min_num_seq=min_num_seq)


def single_sequence_complex_features(complex_: Complex, templates=None, *, min_num_seq: int = MIN_NUM_SEQ
                                     ) -> dict[str, np.ndarray]:
    """Multimer features with no MSA: each chain's query row only (a heteromer's paired row 0 is the query)."""
    queries = {c.chain_id: Msa.single_sequence(c.sequence, chain_description(c)) for c in complex_.distinct_chains}
    return complex_features_from_a3m(complex_, queries, templates=templates, min_num_seq=min_num_seq)
